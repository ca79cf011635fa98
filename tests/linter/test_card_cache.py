"""Parsed cards are cached by content: edits are seen, damage is survived, equal cards at two
paths are each reported at their own path."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from layerguard.linter.caching.database import DATABASE_NAME
from tests.helpers import Run, write_project

ENGINE = "backend/app/hoc/cus/policies/L5_engines/engine.py"
GOOD = f"# engine.py\n\n**Path:** `{ENGINE}`\n**Layer:** L5 — Domain engines\n"
WRONG_LAYER = GOOD.replace("L5 — Domain", "L6 — Driver")
BROKEN = "# engine.py\n\n## Import Boundary\n\n```yaml\nboundary: [\n```\n"


def card_rows(root: Path, update: str | None = None) -> int:
    """The number of parsed cards in the cache (after running `update` on them, if given)."""
    with closing(sqlite3.connect(root / ".layerguard_cache" / DATABASE_NAME)) as db, db:
        if update is not None:
            db.execute(f"UPDATE parses SET {update} WHERE kind = 'cards'")
        count: int = db.execute("SELECT count(*) FROM parses WHERE kind = 'cards'").fetchone()[0]
        return count


def test_edits_are_seen_through_the_cache(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {ENGINE: "x = 1\n", "literature/engine.md": GOOD})
    assert run_cli(["check", "--output-format", "json"]).findings() == []
    assert card_rows(tmp_path) == 1
    card = tmp_path / "literature/engine.md"
    card.write_text(GOOD.replace("L5 — Domain", "L6 — Driver"), encoding="utf-8")
    assert run_cli(["check", "--output-format", "json"]).findings() == [
        ("LG306", "literature/engine.md", 4)
    ]


CARD_DAMAGE = {
    "not-json": "'{not json'",
    "sections-not-a-list": "json_set(data, '$.card.sections', 'garbage')",
    "line-is-text": "json_set(data, '$.card.source_path.line', 'x')",
    "path-is-a-number": "json_set(data, '$.card.path', 7)",
    "error-line-is-text": "json_set(data, '$.errors', json('[[\"x\", \"m\"]]'))",
    "a-list": "'[]'",
}


@pytest.mark.parametrize("damage", CARD_DAMAGE.values(), ids=CARD_DAMAGE.keys())
def test_a_damaged_entry_is_a_miss(
    tmp_path: Path, run_cli: Callable[..., Run], damage: str
) -> None:
    write_project(tmp_path, {ENGINE: "x = 1\n", "literature/engine.md": WRONG_LAYER})
    expected = [("LG306", "literature/engine.md", 4)]
    assert run_cli(["check", "--output-format", "json"]).findings() == expected
    card_rows(tmp_path, f"data = {damage}")
    run = run_cli(["check", "--output-format", "json", "--select", "LG3"])
    assert (run.findings(), run.stderr) == (expected, "")


def test_equal_cards_keep_their_own_paths(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {ENGINE: "", "literature/a.md": BROKEN, "literature/b.md": BROKEN})
    for _ in range(2):  # parsed, then from the cache
        run = run_cli(["check", "--output-format", "json", "--select", "LG002"])
        assert sorted(run.findings()) == [
            ("LG002", "literature/a.md", 1),
            ("LG002", "literature/a.md", 6),
            ("LG002", "literature/b.md", 1),
            ("LG002", "literature/b.md", 6),
        ]


def test_no_cache_writes_no_card_cache(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {ENGINE: "x = 1\n", "literature/engine.md": GOOD})
    run_cli(["check", "--no-cache"])
    assert not (tmp_path / ".layerguard_cache").exists()


def test_a_run_hashes_each_card_once(
    tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card's meaning (for the results cache) and its reading take one hash."""
    from layerguard.linter.caching.parses import ParseCache

    write_project(tmp_path, {ENGINE: "x = 1\n", "literature/engine.md": WRONG_LAYER})
    hashed: list[str] = []
    file_hash = ParseCache.file_hash

    def counted(
        self: ParseCache, root: Path, rel_path: str, limit: int
    ) -> tuple[str, bytes | None]:
        hashed.append(rel_path)
        return file_hash(self, root, rel_path, limit)

    monkeypatch.setattr(ParseCache, "file_hash", counted)
    run = run_cli(["check", "--output-format", "json"])
    assert run.findings() == [("LG306", "literature/engine.md", 4)]
    assert hashed.count("literature/engine.md") == 1
