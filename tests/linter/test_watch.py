"""`check --watch`: the in-memory index follows real edits of real files and every re-check
reports what a fresh `check` reports; the watcher is an optional extra."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from layerguard.contracts.config.loader import load_config
from layerguard.linter.check import CheckOptions, CheckResult, check
from layerguard.linter.errors import UsageError
from layerguard.linter.rules.codes import EMPTY_SCOPE, ENABLED_BY_DEFAULT
from layerguard.linter.watch import WatcherMissingError, WatchUpdate, _Session, watch
from tests.helpers import write_project

DRIVER = "backend/app/hoc/cus/policies/L6_drivers/driver.py"
OTHER = "backend/app/hoc/cus/policies/L6_drivers/other.py"
ROUTE = "backend/app/hoc/api/cus/policies/routes.py"
CARD = "literature/driver.md"
ENABLED = frozenset(c for c, on in ENABLED_BY_DEFAULT.items() if on) - {EMPTY_SCOPE}
TIMEOUT = 20.0  # seconds an expected re-check may take on a loaded machine


class Session:
    """A watch session on a thread; `next()` waits (bounded) for its next update."""

    def __init__(self, root: Path, **options: object) -> None:
        self.root = root
        self.options = CheckOptions(enabled=ENABLED, jobs=1, **options)  # type: ignore[arg-type]
        self.stop = threading.Event()
        self.updates: queue.Queue[WatchUpdate | BaseException] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            config = load_config(self.root / "layerguard.yaml")
            for update in watch(config, self.options, self.stop):
                self.updates.put(update)
        except BaseException as error:  # handed to the test
            self.updates.put(error)

    def next(self) -> WatchUpdate:
        item = self.updates.get(timeout=TIMEOUT)
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=TIMEOUT)
        assert not self.thread.is_alive()


def findings(result: CheckResult | None) -> list[tuple[str, str, int]]:
    assert result is not None
    return [(d.code, d.path, d.line) for d in result.diagnostics]


def fresh(root: Path) -> list[tuple[str, str, int]]:
    options = CheckOptions(enabled=ENABLED, jobs=1, use_cache=False)
    return findings(check(load_config(root / "layerguard.yaml"), options))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path,
        {
            DRIVER: "async def save(s):\n    await s.commit()\n",
            OTHER: "X = 1\n",
            ROUTE: "X = 1\n",
        },
    )


def test_edits_are_rechecked_from_memory_as_a_fresh_check_sees_them(project: Path) -> None:
    session = Session(project)
    try:
        first = session.next()
        assert (first.changed, findings(first.result)) == ((), [("LG201", DRIVER, 2)])

        # A body edit: one file parsed again, the finding moves.
        (project / DRIVER).write_text("\n\nasync def save(s):\n    await s.commit()\n", "utf-8")
        update = session.next()
        assert update.changed == (DRIVER,)
        assert update.result is not None
        assert update.result.extraction.parsed == 1
        assert (findings(update.result), update.new, update.fixed) == (
            [("LG201", DRIVER, 4)],
            0,
            0,
        )
        assert findings(update.result) == fresh(project)

        # An import edit in another file: a new finding, the driver's stays.
        (project / ROUTE).write_text("import sqlalchemy\n", "utf-8")
        update = session.next()
        assert (update.changed, update.new, update.fixed) == ((ROUTE,), 1, 0)
        assert (
            findings(update.result)
            == fresh(project)
            == [
                ("LG102", ROUTE, 1),
                ("LG201", DRIVER, 4),
            ]
        )

        # A new file, then a deleted one: the index is rebuilt.
        (project / "backend/app/hoc/cus/policies/L6_drivers/new.py").write_text(
            "async def f(s):\n    await s.rollback()\n", "utf-8"
        )
        update = session.next()
        assert update.new == 1
        assert findings(update.result) == fresh(project)
        (project / DRIVER).unlink()
        update = session.next()
        assert (update.fixed, findings(update.result)) == (1, fresh(project))
        assert len(findings(update.result)) == 2

        # A card appears (describing a file that does not exist): the index is rebuilt.
        (project / "literature").mkdir()
        (project / CARD).write_text(
            f"# driver.py\n\n**Path:** `{DRIVER}`\n**Layer:** L6 — Drivers\n", "utf-8"
        )
        update = session.next()
        assert ("LG301", CARD, 3) in findings(update.result)
        assert findings(update.result) == fresh(project)
    finally:
        session.close()


def test_an_invalid_contract_is_reported_and_watching_goes_on(project: Path) -> None:
    session = Session(project)
    try:
        session.next()
        config = project / "layerguard.yaml"
        good = config.read_text("utf-8")
        config.write_text(good.replace("version: 1", "version: 7"), "utf-8")
        update = session.next()
        assert update.result is None
        assert update.error is not None
        assert "layerguard.yaml" in update.error
        config.write_text(good, "utf-8")
        assert findings(session.next().result) == [("LG201", DRIVER, 2)]
    finally:
        session.close()


def test_without_watchfiles_the_message_says_what_to_install(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    options = CheckOptions(enabled=ENABLED, jobs=1)
    with pytest.raises(WatcherMissingError, match=r"pip install 'layerguard\[watch\]'"):
        next(watch(load_config(project / "layerguard.yaml"), options))
    assert issubclass(WatcherMissingError, UsageError)  # exit status 2 from the CLI


def lines_of(stream: IO[str]) -> queue.Queue[str]:
    """The lines a process writes, read on a thread (so that waiting for one is bounded)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def wait_for(lines: queue.Queue[str], fragment: str) -> list[str]:
    """Every line up to the first one containing `fragment` (bounded in time)."""
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while not seen or fragment not in seen[-1]:
        seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    return seen


def watching(
    project: Path,
) -> tuple[subprocess.Popen[str], queue.Queue[str], queue.Queue[str]]:
    """`layerguard check --watch --output-format jsonl` running in `project`, and the lines of
    its stdout and stderr."""
    layerguard = Path(sys.executable).parent / "layerguard"
    process = subprocess.Popen(
        [layerguard, "check", "--watch", "--output-format", "jsonl"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    out, err = lines_of(process.stdout), lines_of(process.stderr)
    return process, out, err


def test_the_command_prints_a_report_per_save_and_stops_on_ctrl_c(project: Path) -> None:
    process, out, err = watching(project)
    try:
        assert "LG201" in wait_for(out, "LG201")[0]
        wait_for(err, "watching")
        (project / DRIVER).write_text("async def save(s):\n    await s.flush()\n", "utf-8")
        (project / ROUTE).write_text("import sqlalchemy\n", "utf-8")
        assert not any("LG201" in line for line in wait_for(out, "LG102"))
        assert "re-checked in" in wait_for(err, "re-checked in")[-1]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 130
    finally:
        process.kill()
        process.wait()


SHOP_LAYERS = """\
version: 1
contracts:
  - id: layered
    name: Shop layers
    type: layers
    layers: [shop.high, shop.middle, shop.low]
"""


def test_contracts_are_checked_again_after_an_import_edit(tmp_path: Path) -> None:
    """The import graph and the contract checks are derived from the index the session keeps:
    an edit must not leave the first run's answers in place."""
    files = {
        "shop/__init__.py": "",
        "shop/low.py": "X = 1\n",
        "shop/middle.py": "",
        "shop/high.py": "",
    }
    write_project(tmp_path, files, SHOP_LAYERS)
    session = Session(tmp_path)
    try:
        assert findings(session.next().result) == []
        (tmp_path / "shop/low.py").write_text("import shop.high\n", "utf-8")
        update = session.next()
        assert (update.changed, update.new) == (("shop/low.py",), 1)
        assert findings(update.result) == fresh(tmp_path) == [("LG111", "shop/low.py", 1)]
    finally:
        session.close()


@pytest.mark.parametrize(
    ("limit_kb", "size_kb", "too_large"),
    [(2048, 1100, False), (2, 3, True)],
    ids=["raised", "lowered"],
)
def test_a_save_is_read_under_the_projects_size_limit(
    project: Path, limit_kb: int, size_kb: int, too_large: bool
) -> None:
    """`max_file_size_kb` is the project's, not the default 1,024 KB, for a re-check too."""
    with (project / "layerguard.yaml").open("a", encoding="utf-8") as config:
        config.write(f"max_file_size_kb: {limit_kb}\n")
    session = Session(project)
    try:
        assert findings(session.next().result) == [("LG201", DRIVER, 2)]
        text = ("a" * 99 + "\n") * (size_kb * 1024 // 100)  # one string: parsed at once
        (project / OTHER).write_text(f'X = """{text}"""\n', "utf-8")
        update = session.next()
        assert findings(update.result) == fresh(project)
        assert (("LG001", OTHER, 1) in findings(update.result)) is too_large
    finally:
        session.close()


def test_a_new_directory_stands_for_the_files_already_written_into_it(project: Path) -> None:
    """inotify watches a new directory only once it has seen it created: a file written into
    it just after `mkdir` may never be reported, only the directory. The directory then stands
    for its files (this failed 3 times in 20 runs of the test above, under load)."""
    from watchfiles import Change

    session = _Session(load_config(project / "layerguard.yaml"), CheckOptions(enabled=ENABLED))
    session.check_all()
    (project / "literature/nested").mkdir(parents=True)
    gone = DRIVER.replace("driver.py", "gone.py")  # a card describing no file: LG301
    (project / CARD).write_text(
        f"# gone.py\n\n**Path:** `{gone}`\n**Layer:** L6 — Drivers\n", "utf-8"
    )
    (project / "literature/nested/notes.txt").write_text("not a card\n", "utf-8")
    (project / ".git/objects").mkdir(parents=True)
    assert session.holds_files(str(project / "literature"))
    assert not session.holds_files(str(project / ".git/objects"))
    assert not session.holds_files(str(project / CARD))  # a file is no directory
    changed = session.changed_files({(Change.added, str(project / "literature"))})
    assert changed == (CARD,)
    assert findings(session.recheck(changed)) == fresh(project)
    assert ("LG301", CARD, 3) in fresh(project)
    # A metadata change of a directory is no change of its files.
    assert session.changed_files({(Change.modified, str(project / "literature"))}) == ()


def test_a_directory_moved_away_stands_for_the_files_it_held(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Moved out of the project, a directory is reported alone, not file by file."""
    from watchfiles import Change

    session = _Session(load_config(project / "layerguard.yaml"), CheckOptions(enabled=ENABLED))
    session.check_all()
    drivers = project / Path(DRIVER).parent
    drivers.rename(tmp_path_factory.mktemp("moved") / "drivers")  # not into a shared directory
    deleted = {(Change.deleted, str(drivers))}
    assert session.holds_files(str(drivers))
    changed = session.changed_files(deleted)
    assert changed == (DRIVER, OTHER)
    assert findings(session.recheck(changed)) == fresh(project) == []


def test_files_written_into_directories_just_created_are_all_checked(project: Path) -> None:
    """The watcher end to end: directory and file in quick succession, several times."""
    session = Session(project)
    try:
        session.next()
        for n in range(5):
            new = project / f"backend/app/hoc/cus/policies/L6_drivers/new{n}"
            new.mkdir()
            (new / "store.py").write_text("async def f(s):\n    await s.rollback()\n", "utf-8")
        expected = fresh(project)
        assert len(expected) == 6
        update = session.next()
        while findings(update.result) != expected:
            update = session.next()  # bounded: fails with queue.Empty if never equal
    finally:
        session.close()


def test_new_special_files_are_reported_as_a_fresh_check_reports_them(project: Path) -> None:
    """A FIFO or a device named like a Python file that appears while watching: the re-check
    said "0 new findings" (it tested `is_file()`, so nothing had appeared), a fresh check
    reports LG001 for each (audit a1 item 12). A file replaced by a link is rediscovered too,
    never read through the watcher."""
    import stat

    drivers = project / Path(DRIVER).parent
    process, out, err = watching(project)
    try:
        wait_for(err, "watching")
        os.mkfifo(drivers / "fifo.py")
        os.mknod(drivers / "zero.py", stat.S_IFCHR | 0o644, os.makedev(1, 5))
        fifo = f"{Path(DRIVER).parent}/fifo.py"
        zero = f"{Path(DRIVER).parent}/zero.py"
        expected = fresh(project)
        assert [(code, path) for code, path, _ in expected] == [
            ("LG201", DRIVER),
            ("LG001", fifo),
            ("LG001", zero),
        ]
        seen = wait_for(out, "zero.py")
        while not any("fifo.py" in line for line in seen):
            seen += wait_for(out, "LG001")  # bounded: the two may come in two re-checks
        reported = [json.loads(line) for line in seen if "LG001" in line]
        assert {finding["path"] for finding in reported} == {fifo, zero}
        (drivers / "other.py").unlink()
        (drivers / "other.py").symlink_to("/dev/zero")
        assert "a symbolic link" in wait_for(err, "other.py")[-1]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=TIMEOUT)
        process.kill()
