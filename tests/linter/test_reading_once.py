"""A run reads and hashes each Python file it parses once: the worker hashes what it reads when
the run did not need the hash first (a cold cache), and parses the bytes the run read when it
did (an edit). Either way the facts are stored under the hash of exactly the bytes parsed, even
when the file changes in between."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from layerguard.linter.caching import parses
from layerguard.linter.caching.database import DATABASE_NAME
from layerguard.linter.caching.parses import FileStat, ParseCache, content_hash
from layerguard.linter.project import extraction
from tests.helpers import Run, write_project

DRIVERS = "backend/app/hoc/cus/policies/L6_drivers"
EDITED = f"{DRIVERS}/edited.py"


def commits_at(line: int) -> str:
    """A driver that commits (LG201) at `line`."""
    return "async def f(s):\n" + "\n" * (line - 2) + "    await s.commit()\n"


FILES = {
    EDITED: commits_at(2),
    f"{DRIVERS}/other.py": "X = 1\n",
    "backend/app/models/m.py": "class M:\n    pass\n",
}


def lg201(run: Run) -> list[int]:
    return [line for code, path, line in run.findings() if code == "LG201" and path == EDITED]


def check(run_cli: Callable[..., Run]) -> Run:
    run = run_cli(["check", "--output-format", "json", "--select", "LG201"])
    assert run.exit_code in (0, 1), run.stderr
    return run


def stored_digests(root: Path) -> set[str]:
    with closing(sqlite3.connect(root / ".layerguard_cache" / DATABASE_NAME)) as db:
        rows = db.execute("SELECT digest FROM parses WHERE kind = 'facts'").fetchall()
    return {digest for (digest,) in rows}


@pytest.fixture
def hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], int]]:
    """`hashes(text)`: how many times the bytes of `text` were hashed, by this process or by
    its workers (started afresh, with the counting hash). The stat memo trusts files written
    before a run at once (no waiting out the racy window)."""
    log = tmp_path.parent / f"{tmp_path.name}-hashes.log"
    log.write_text("")

    def logged(data: bytes) -> str:
        digest = content_hash(data)
        with open(log, "a", encoding="ascii") as handle:
            handle.write(digest + "\n")
        return digest

    monkeypatch.setattr(parses, "content_hash", logged)
    monkeypatch.setattr(extraction, "content_hash", logged)
    monkeypatch.setattr(extraction, "_pool", None)
    monkeypatch.setattr(parses, "RACY_NS", 0)
    yield lambda text: Counter(log.read_text().split())[content_hash(text.encode())]
    pool = extraction._pool
    if pool is not None:  # the counting workers end with the test
        for worker in list(pool.idle):
            pool.give_back(worker, dead=True)


def test_a_cold_run_hashes_each_file_once(
    tmp_path: Path, run_cli: Callable[..., Run], hashes: Callable[[str], int]
) -> None:
    write_project(tmp_path, FILES)
    run = check(run_cli)
    assert (run.report["summary"]["parsed"], lg201(run)) == (3, [2])
    assert {path: hashes(text) for path, text in FILES.items()} == dict.fromkeys(FILES, 1)
    assert stored_digests(tmp_path) == {content_hash(text.encode()) for text in FILES.values()}


def test_an_edited_file_is_hashed_once(
    tmp_path: Path, run_cli: Callable[..., Run], hashes: Callable[[str], int]
) -> None:
    write_project(tmp_path, FILES)
    check(run_cli)
    (tmp_path / EDITED).write_text(commits_at(4), encoding="utf-8")
    run = check(run_cli)
    assert (run.report["summary"]["parsed"], lg201(run)) == (1, [4])
    assert hashes(commits_at(4)) == 1
    assert [hashes(text) for text in FILES.values()] == [1, 1, 1]  # the first run's only


def test_an_edit_after_the_stat_is_stored_under_the_bytes_parsed(
    tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cold: the run stats a file, then a worker reads it; edited in between, the worker's
    bytes are parsed, stored under their own hash, and the stat memo does not vouch for them."""
    write_project(tmp_path, FILES)
    vouched = ParseCache.vouched

    def edited_after(self: ParseCache, root: Path, rel_path: str) -> tuple[str | None, FileStat]:
        answer = vouched(self, root, rel_path)
        if rel_path == EDITED and self.kind == "facts":
            (root / rel_path).write_text(commits_at(3), encoding="utf-8")
        return answer

    monkeypatch.setattr(ParseCache, "vouched", edited_after)
    assert lg201(check(run_cli)) == [3]
    monkeypatch.setattr(ParseCache, "vouched", vouched)
    assert content_hash(commits_at(2).encode()) not in stored_digests(tmp_path)
    again = check(run_cli)
    assert (again.report["summary"]["parsed"], lg201(again)) == (0, [3])
    (tmp_path / EDITED).write_text(commits_at(2), encoding="utf-8")
    assert lg201(check(run_cli)) == [2]


def test_an_edit_after_the_hash_is_stored_under_the_bytes_parsed(
    tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Warm: the run hashes an edited file, the cache does not know it, the file changes again
    before a worker parses it: the bytes hashed are the bytes parsed, and each version is
    found under its own hash afterwards."""
    write_project(tmp_path, FILES)
    check(run_cli)
    (tmp_path / EDITED).write_text(commits_at(4), encoding="utf-8")
    read_hash = ParseCache.read_hash

    def edited_after(
        self: ParseCache, root: Path, rel_path: str, stat: FileStat, limit: int
    ) -> tuple[str, bytes]:
        answer = read_hash(self, root, rel_path, stat, limit)
        if rel_path == EDITED:
            (root / rel_path).write_text(commits_at(5), encoding="utf-8")
        return answer

    monkeypatch.setattr(ParseCache, "read_hash", edited_after)
    assert lg201(check(run_cli)) == [4]
    monkeypatch.setattr(ParseCache, "read_hash", read_hash)
    assert lg201(check(run_cli)) == [5]
    for line in (4, 5, 2, 4):  # each version from the cache, with its own facts
        (tmp_path / EDITED).write_text(commits_at(line), encoding="utf-8")
        run = check(run_cli)
        assert (run.report["summary"]["parsed"], lg201(run)) == (0, [line])
