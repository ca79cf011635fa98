"""A throwaway PostgreSQL server for tests and benchmarks, from the installed server binaries.

``initdb`` into a temporary directory, ``pg_ctl start`` listening on 127.0.0.1 only (and a
Unix socket inside that directory), on a free port; ``stop()`` shuts it down and deletes the
directory. Nothing outside the temporary directory is touched.

PostgreSQL refuses to run as root. When this process is root (CI containers are), the server
runs as an unprivileged account (``postgres`` if it exists, else ``nobody``) that owns the
temporary directory; ``subprocess`` switches user itself, so no ``su``/``runuser`` is needed.

Standard library only: the pytest plugin imports this module lazily, and the benchmarks use it
without pytest.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BINDIR_VARIABLE = "LAYERGUARD_PG_BINDIR"
"""Where ``initdb``/``pg_ctl`` are. When set, it is the only place looked at; otherwise
``pg_config --bindir``, then the Debian layout (``/usr/lib/postgresql/<version>/bin``)."""

SUPERUSER = "layerguard"
_UNPRIVILEGED = ("postgres", "nobody")
_START_ATTEMPTS = 3
_COMMAND_TIMEOUT = 120.0


class PostgresUnavailableError(RuntimeError):
    """The server binaries are not installed, or the cluster could not start (the message says
    which, and what to install)."""


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or ``None`` if none is installed."""
    candidates: list[str] = []
    if os.environ.get(BINDIR_VARIABLE):
        candidates.append(os.environ[BINDIR_VARIABLE])
        return _first_with_binaries(candidates)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            candidates.append(out)
    # Debian installs the server beside, not on PATH; the newest version first.
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    return _first_with_binaries(candidates)


def _first_with_binaries(candidates: list[str]) -> Path | None:
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    """One server on 127.0.0.1. ``durable=False`` (tests) turns fsync off: faster, and a
    throwaway cluster loses nothing that matters; benchmarks keep the server's defaults."""

    bindir: Path
    durable: bool = False
    port: int = 0
    base: Path = field(default_factory=Path)
    _run_as: tuple[int, int] | None = None

    @classmethod
    def start_new(cls, *, durable: bool = False) -> PostgresCluster:
        """Find the binaries, initdb, start; ``PostgresUnavailableError`` says what is missing."""
        bindir = find_bindir()
        if bindir is None:
            raise PostgresUnavailableError(
                "PostgreSQL server binaries not found (initdb, pg_ctl): install them "
                "(Debian/Ubuntu: apt-get install postgresql) or set "
                f"{BINDIR_VARIABLE} to their directory"
            )
        cluster = cls(bindir, durable)
        cluster._init()
        try:
            cluster._start_on_free_port()
        except BaseException:
            cluster._remove()
            raise
        return cluster

    # ------------------------------------------------------------------ addresses

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        """A SQLAlchemy URL for ``database`` (trust authentication on 127.0.0.1)."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    # ------------------------------------------------------------------ control

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run ``statement`` with psql as the superuser; its output (unaligned, tuples only)."""
        completed = self._run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-c",
                statement,
            ]
        )
        return completed.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still on it."""
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def restart(self) -> None:
        """Stop (fast: connections are terminated) and start again on the same port."""
        # -l: the new postmaster must not inherit our output pipes (we would wait on them).
        log = str(self.base / "server.log")
        self._pg_ctl(
            "restart", "-m", "fast", "-w", "-t", "60", "-l", log, "-o", self._server_options()
        )

    def stop(self) -> None:
        """Shut the server down and delete its directory."""
        try:
            if (self.base / "data" / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "60", check=False)
        finally:
            self._remove()

    def log(self) -> str:
        """The server log so far (for failure messages)."""
        try:
            return (self.base / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    # ------------------------------------------------------------------ internals

    def _init(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="layerguard-pg-"))
        if os.geteuid() == 0:
            account = _unprivileged_account()
            self._run_as = (account.pw_uid, account.pw_gid)
            os.chown(self.base, account.pw_uid, account.pw_gid)
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.base / "data"),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )

    def _server_options(self) -> str:
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-c unix_socket_directories={self.base}",
            "-c max_connections=200",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        return " ".join(options)

    def _start_on_free_port(self) -> None:
        for attempt in range(_START_ATTEMPTS):
            self.port = free_port()
            completed = self._pg_ctl(
                "start",
                "-w",
                "-t",
                "60",
                "-l",
                str(self.base / "server.log"),
                "-o",
                self._server_options(),
                check=False,
            )
            if completed.returncode == 0:
                return
            if attempt + 1 == _START_ATTEMPTS:  # the port may have been taken meanwhile
                raise PostgresUnavailableError(
                    f"pg_ctl start failed ({completed.returncode}): "
                    f"{completed.stdout}{completed.stderr}\n{self.log()[-2000:]}"
                )
            time.sleep(0.2)

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), *args]
        return self._run(command, check=check)

    def _run(self, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        user, group = self._run_as if self._run_as is not None else (None, None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            completed = subprocess.run(
                command,
                cwd=self.base,
                env=env,
                capture_output=True,
                text=True,
                timeout=_COMMAND_TIMEOUT,
                check=False,
                user=user,
                group=group,
                extra_groups=None if user is None else [],
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresUnavailableError(f"{Path(command[0]).name} could not run: {exc}") from exc
        if check and completed.returncode != 0:
            raise PostgresUnavailableError(
                f"{Path(command[0]).name} failed ({completed.returncode}): "
                f"{completed.stdout}{completed.stderr}"
            )
        return completed

    def _remove(self) -> None:
        if self.base != Path() and self.base.exists():
            shutil.rmtree(self.base, ignore_errors=True)


def _unprivileged_account() -> pwd.struct_passwd:
    for name in _UNPRIVILEGED:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailableError(
        "running as root and no unprivileged account (postgres, nobody) to run the server as"
    )
