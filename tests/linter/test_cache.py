"""The parse cache: an unchanged tree parses nothing, only what changed is parsed again, and
nothing in the cache directory — damaged, of the wrong shape, locked — can make a run fail or
answer wrongly."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from layerguard.linter.caching.database import DATABASE_NAME
from tests.helpers import HOC_CONTRACT, Run, write_project

DRIVERS = "backend/app/hoc/cus/policies/L6_drivers"
COMMITS = "async def f(s):\n    await s.commit()\n"


def summary(run: Run) -> dict[str, int]:
    data: dict[str, int] = run.report["summary"]
    return data


def age(path: Path, seconds: float = 10.0) -> None:
    """Push a file's mtime into the past, as if written before the previous run."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def database(root: Path) -> Path:
    return root / ".layerguard_cache" / DATABASE_NAME


@contextmanager
def connected(root: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(database(root))) as connection, connection:
        yield connection


def test_second_run_over_1000_files_parses_nothing(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    files = {
        f"{DRIVERS}/driver_{n:04}.py": f"from app.models import m{n % 7}\n\nX = {n}\n"
        for n in range(1000)
    }
    files[f"{DRIVERS}/bad.py"] = COMMITS
    write_project(tmp_path, files)
    for path in (tmp_path / DRIVERS).iterdir():
        age(path)
    first = run_cli(["check", "--output-format", "json"])
    assert summary(first)["parsed"] == 1001
    second = run_cli(["check", "--statistics"])
    assert "files: 1001, parsed: 0, cached: 1001" in second.stdout
    assert second.stdout.splitlines()[0].startswith(f"{DRIVERS}/bad.py:2:11: LG201 ")

    changed = tmp_path / DRIVERS / "driver_0007.py"
    changed.write_text("async def g(db):\n    await db.rollback()\n", "utf-8")
    third = run_cli(["check", "--output-format", "json"])
    assert (summary(third)["parsed"], summary(third)["cached"]) == (1, 1000)
    assert sorted(third.findings()) == [
        ("LG201", f"{DRIVERS}/bad.py", 2),
        ("LG201", f"{DRIVERS}/driver_0007.py", 2),
    ]


def test_cache_is_keyed_by_content_and_extraction_settings(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": "import os\n", f"{DRIVERS}/b.py": "import os\n"})
    run_cli(["check"])
    with connected(tmp_path) as connection:
        rows = connection.execute("SELECT data FROM parses WHERE kind = 'facts'").fetchall()
    assert [json.loads(data) for (data,) in rows] == [
        {"imports": [[1, 1, "os", None, 0, 0, False, None]]}
    ]
    assert (tmp_path / ".layerguard_cache" / ".gitignore").read_text("utf-8").endswith("*\n")

    # A change to the layers does not touch extraction: the cache stays valid.
    config = tmp_path / "layerguard.yaml"
    config.write_text(HOC_CONTRACT.replace("name: Drivers", "name: Data drivers"), "utf-8")
    assert summary(run_cli(["check", "--output-format", "json"]))["parsed"] == 0
    # A new session factory changes what extraction finds: everything is parsed again.
    config.write_text(
        HOC_CONTRACT.replace(
            "  session_creators: []\n",
            "  session_creators: []\n  session_factories: [make_session]\n",
        ),
        "utf-8",
    )
    assert summary(run_cli(["check", "--output-format", "json"]))["parsed"] == 2


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage, not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 5000],
    ids=["empty", "garbage", "damaged-header"],
)
def test_a_damaged_database_is_a_miss_and_is_replaced(
    tmp_path: Path, run_cli: Callable[..., Run], content: bytes
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": COMMITS})
    run_cli(["check"])
    for suffix in ("-wal", "-shm"):
        Path(f"{database(tmp_path)}{suffix}").unlink(missing_ok=True)
    database(tmp_path).write_bytes(content)
    run = run_cli(["check", "--output-format", "json"])
    assert run.findings() == [("LG201", f"{DRIVERS}/a.py", 2)]
    assert (summary(run)["parsed"], run.stderr) == (1, "")
    again = run_cli(["check", "--output-format", "json", "--no-baseline"])
    assert (summary(again)["parsed"], again.findings()) == (0, run.findings())


FACTS_DAMAGE = {
    "not-json": "{not json",
    "a-list": "[1, 2]",
    "unknown-key": '{"bogus": []}',
    "line-is-text": '{"transaction_calls": [["x", 11, "commit", "s", "f"]]}',
    "row-too-short": '{"transaction_calls": [[2, 11, "commit"]]}',
    "rows-not-a-list": '{"transaction_calls": "abc"}',
    "decorator-not-text": '{"functions": [["f", 1, 1, "f(s)", true, null, [1]]]}',
}


@pytest.mark.parametrize("damage", FACTS_DAMAGE.values(), ids=FACTS_DAMAGE.keys())
def test_facts_rows_of_the_wrong_shape_are_parsed_again(
    tmp_path: Path, run_cli: Callable[..., Run], damage: str
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": COMMITS})
    run_cli(["check", "--select", "LG2"])  # fills the parse cache, not the results of LG1..9
    with connected(tmp_path) as connection:
        connection.execute("UPDATE parses SET data = ? WHERE kind = 'facts'", (damage,))
    run = run_cli(["check", "--output-format", "json"])
    assert (run.findings(), summary(run)["parsed"], run.stderr) == (
        [("LG201", f"{DRIVERS}/a.py", 2)],
        1,
        "",
    )


def trust_stat_memo(root: Path) -> None:
    """Make the stat memo's entries trusted, as if recorded 10 s after the files were last
    changed (a test cannot make a file's ctime old)."""
    with connected(root) as connection:
        connection.execute("UPDATE stats SET recorded_ns = recorded_ns + 10000000000")


def summary_of(run: Run) -> tuple[list[tuple[str, str, int]], int]:
    return run.findings(), summary(run)["parsed"]


STAT_DAMAGE = {
    "size-is-text": "UPDATE stats SET size = 'x'",
    "recorded-is-text": "UPDATE stats SET recorded_ns = 'later'",
    "digest-is-a-number": "UPDATE stats SET digest = 7",
    "a-blob-path": "UPDATE stats SET path = x'00ff'",
}


@pytest.mark.parametrize("damage", STAT_DAMAGE.values(), ids=STAT_DAMAGE.keys())
def test_stat_memo_rows_of_the_wrong_shape_are_read_again(
    tmp_path: Path, run_cli: Callable[..., Run], damage: str
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": COMMITS})
    run_cli(["check", "--select", "LG2"])
    trust_stat_memo(tmp_path)
    with connected(tmp_path) as connection:
        connection.execute(damage)
    run = run_cli(["check", "--output-format", "json"])
    assert (run.findings(), run.stderr) == ([("LG201", f"{DRIVERS}/a.py", 2)], "")


def replace_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """issue 11: a line replaced by one of the same length, then `touch -r` with the old file:
    size and mtime are the old ones (only the ctime moves)."""
    assert len(old) == len(new)
    stat = path.stat()
    path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def test_an_edit_keeping_size_and_mtime_is_seen_through_the_stat_memo(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    driver = tmp_path / DRIVERS / "a.py"
    write_project(tmp_path, {f"{DRIVERS}/a.py": COMMITS})
    age(driver)
    assert summary_of(run_cli(["check", "--output-format", "json"]))[1] == 1
    trust_stat_memo(tmp_path)
    # The memo is trusted now: an unchanged file is neither read nor parsed.
    assert summary_of(run_cli(["check", "--output-format", "json", "--select", "LG2"])) == (
        [("LG201", f"{DRIVERS}/a.py", 2)],
        0,
    )
    replace_keeping_size_and_mtime(driver, "await s.commit()", "await s.flush() ")
    trust_stat_memo(tmp_path)  # even a memo entry recorded after the edit's mtime
    run = run_cli(["check", "--output-format", "json", "--select", "LG2", "--no-baseline"])
    assert summary_of(run) == ([], 1)


def test_a_locked_database_is_a_miss_not_a_wait_forever(
    tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    from layerguard.linter.caching import database as database_module

    monkeypatch.setattr(database_module, "_BUSY_TIMEOUT", 0.1)
    write_project(tmp_path, {f"{DRIVERS}/a.py": COMMITS})
    run_cli(["check"])
    (tmp_path / DRIVERS / "b.py").write_text(COMMITS.replace("commit", "rollback"), "utf-8")
    with closing(sqlite3.connect(database(tmp_path), isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than we wait
        run = run_cli(["check", "--output-format", "json"])
        holder.execute("ROLLBACK")
    assert sorted(run.findings()) == [
        ("LG201", f"{DRIVERS}/a.py", 2),
        ("LG201", f"{DRIVERS}/b.py", 2),
    ]
    assert run.stderr == ""  # a busy cache is no failure of the user's
    assert summary(run_cli(["check", "--output-format", "json"]))["parsed"] == 1


def test_no_cache_neither_reads_nor_writes(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": "import os\n"})
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert summary(run)["parsed"] == 1
    assert not (tmp_path / ".layerguard_cache").exists()


def test_unwritable_cache_warns_and_still_checks(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": COMMITS})
    (tmp_path / ".layerguard_cache").write_text("a file where the directory should be", "utf-8")
    run = run_cli(["check"])
    assert run.exit_code == 1
    assert "could not write the cache" in run.stderr


UNWRITTEN = (
    "layerguard: warning: could not write the cache (see --cache-dir, $LAYERGUARD_CACHE_DIR); "
    "the run was checked in full\n"
)


@pytest.mark.parametrize(
    ("command", "exit_code"),
    [
        (["graph"], 0),
        (["cards", "generate", DRIVERS], 0),
        (["cards", "sync"], 0),
        (["baseline", "create", "--force"], 0),
        (["baseline", "update"], 0),
    ],
    ids=["graph", "cards-generate", "cards-sync", "baseline-create", "baseline-update"],
)
def test_every_command_that_builds_the_index_warns_when_the_cache_is_unwritable(
    tmp_path: Path, run_cli: Callable[..., Run], command: list[str], exit_code: int
) -> None:
    """A file where the cache directory should be (chmod would not stop root)."""
    write_project(tmp_path, {f"{DRIVERS}/a.py": COMMITS})
    assert run_cli(["baseline", "create", "--no-cache"]).exit_code == 0
    (tmp_path / ".layerguard_cache").write_text("a file where the directory should be", "utf-8")
    run = run_cli(command)
    assert (run.exit_code, run.stderr) == (exit_code, UNWRITTEN)
    (tmp_path / ".layerguard_cache").unlink()
    written = run_cli(command)
    assert (written.exit_code, written.stderr) == (exit_code, "")


def test_a_cache_directory_linked_out_of_the_tree_is_not_used(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    write_project(project, {f"{DRIVERS}/a.py": COMMITS})
    (project / ".layerguard_cache").symlink_to(outside, target_is_directory=True)
    run = run_cli(["check", "--output-format", "json"], project)
    assert run.findings() == [("LG201", f"{DRIVERS}/a.py", 2)]
    assert "could not write the cache" in run.stderr
    assert list(outside.iterdir()) == []
