"""Helpers for the linter and CLI tests: projects written to a temporary directory, the real
command line run in-process on them, and one rule run over such a project's index."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.model import CONFIG_FILE_NAME, ProjectConfig
from layerguard.linter.check import CheckOptions, check
from layerguard.linter.project.build import build_index
from layerguard.linter.rules.base import Example, Rule, RuleInfo
from layerguard.linter.rules.codes import ALL_CODES, INVALID_CONFIG

HOC_PRESET = (files("layerguard.contracts.config") / "presets" / "hoc.yaml").read_text("utf-8")


def hoc_contract(**rules: list[str]) -> str:
    """The hoc preset as the contract of a test project, with a `rules:` section of `rules`.

    A test project holds the few files its test needs, not a file in every layer of the
    preset, so it leaves out LG004 (a layer matching no file); tests/linter/test_empty_scopes.py
    is where LG004 is tested.
    """
    ignore = ["LG004", *rules.pop("ignore", [])]
    lines = [f"  {key}: [{', '.join(codes)}]" for key, codes in {"ignore": ignore, **rules}.items()]
    return HOC_PRESET + "\nrules:\n" + "\n".join(lines) + "\n"


HOC_CONTRACT = hoc_contract()


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def findings(self, code: str | None = None) -> list[tuple[str, str, int]]:
        return [
            (f["code"], f["path"], f["line"])
            for f in self.report["findings"]
            if code is None or f["code"] == code
        ]


def contract_content(config: ProjectConfig) -> Any:
    """A contract as plain data without where it was read from (file, lines): what two
    spellings of one contract (YAML and TOML) must agree on."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("line", "lines", "path")}
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        return value

    return strip(dataclasses.asdict(config))


def write_project(root: Path, files_: Mapping[str, str], config: str | None = HOC_CONTRACT) -> Path:
    if config is not None:
        (root / "layerguard.yaml").write_text(config, encoding="utf-8")
    for relative, text in files_.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def invoke(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(cwd)
    # Inside GitHub Actions `check` would default to annotations; tests expect the text report.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("LAYERGUARD_CACHE_DIR", raising=False)  # each test's own cache
    result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True, order=True)
class Finding:
    """A finding as rule examples describe it."""

    path: str
    line: int
    col: int
    message: str

    def matches(self, expected: tuple[Any, ...]) -> bool:
        """Whether this is the finding `expected` (`(path, line[, col[, fragment]])`) names."""
        path, line, *rest = expected
        col = rest[0] if rest else self.col
        fragment = rest[1] if len(rest) > 1 else ""
        return (self.path, self.line, self.col) == (path, line, col) and fragment in self.message


def example_findings(rule: type[RuleInfo], example: Example, root: Path) -> list[Finding]:
    """Write `example` under `root` and return the findings of `rule` on it, in-process: the
    rule alone over the project's index when it is a rule over the index, else the whole check
    use case (suppressions and the baseline are judged after the other rules ran) or the
    contract loader (LG003)."""
    config_text = textwrap.dedent(example.config).lstrip("\n") if example.config else HOC_CONTRACT
    write_project(root, example.sources(), config_text)
    try:
        config = load_config(root / CONFIG_FILE_NAME)
    except ConfigError as error:
        return [
            Finding(p.file.relative_to(root).as_posix(), p.line, 1, p.message)
            for p in error.problems
            if rule.code == INVALID_CONFIG
        ]
    if issubclass(rule, Rule):
        index = build_index(config, jobs=1, use_cache=False).index
        found = list(rule().check(index))
    else:
        options = CheckOptions(enabled=frozenset(ALL_CODES), jobs=1, use_cache=False)
        found = [d for d in check(config, options).diagnostics if d.code == rule.code]
    return sorted(Finding(d.path, d.line, d.col, d.message) for d in found)


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (for a server a test starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(
    command: list[str], cwd: Path, env: Mapping[str, str], url: str, log: Path
) -> Iterator[None]:
    """Run `command` (a server) until the block ends, once `url` answers; its output goes to
    `log`, which a failure to start shows. 60 s is a limit on a server that never starts, not
    an assertion on speed."""
    import subprocess
    import time

    import httpx

    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text(encoding="utf-8")
            try:
                httpx.get(url)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def without_lines(contract: object) -> object:
    """A contract of `contracts:` as tests compare it: without the YAML lines of it and its
    parts."""
    values = {}
    for field in dataclasses.fields(contract):  # type: ignore[arg-type]
        value = getattr(contract, field.name)
        if isinstance(value, tuple):
            value = tuple(
                dataclasses.replace(v, line=0) if dataclasses.is_dataclass(v) else v for v in value
            )
        elif dataclasses.is_dataclass(value):
            value = dataclasses.replace(value, line=0)  # type: ignore[type-var]
        values[field.name] = 0 if field.name == "line" else value
    return type(contract)(**values)


def run_process(args: list[str], cwd: Path, timeout: float = 60, prelude: str = "") -> Run:
    """The real command line in a process of its own, where signals, crashes and process
    trees are real: `layerguard ARGS`, after the Python code `prelude` (which may plant a
    fault or lower a limit). A run exceeding `timeout` seconds fails the test instead of
    hanging the suite; a negative exit code is the signal that ended the process."""
    code = f"{prelude}\nfrom layerguard.cli.app import main\nmain()"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    return Run(
        done.returncode,
        done.stdout.decode("utf-8", "backslashreplace"),
        done.stderr.decode("utf-8", "backslashreplace"),
    )
