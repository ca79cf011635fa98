"""Parsed cards are cached by content: edits are seen, damage is survived, equal cards at two
paths are each reported at their own path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Run, write_project

ENGINE = "backend/app/hoc/cus/policies/L5_engines/engine.py"
GOOD = f"# engine.py\n\n**Path:** `{ENGINE}`\n**Layer:** L5 — Domain engines\n"
BROKEN = "# engine.py\n\n## Import Boundary\n\n```yaml\nboundary: [\n```\n"


def cards_cache(root: Path) -> Path:
    [path] = (root / ".layerguard_cache").glob("cards-*.json")
    return path


def test_edits_are_seen_through_the_cache(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {ENGINE: "x = 1\n", "literature/engine.md": GOOD})
    assert run_cli(["check", "--output-format", "json"]).findings() == []
    assert len(json.loads(cards_cache(tmp_path).read_text())["entries"]) == 1
    card = tmp_path / "literature/engine.md"
    card.write_text(GOOD.replace("L5 — Domain", "L6 — Driver"), encoding="utf-8")
    assert run_cli(["check", "--output-format", "json"]).findings() == [
        ("LG306", "literature/engine.md", 4)
    ]


def test_a_damaged_cache_is_a_miss(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {ENGINE: "x = 1\n", "literature/engine.md": GOOD})
    run_cli(["check"])
    path = cards_cache(tmp_path)
    data = json.loads(path.read_text())
    for entry in data["entries"].values():
        entry["card"]["sections"] = "garbage"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert run_cli(["check", "--output-format", "json"]).findings() == []
    unreadable = tmp_path / ".layerguard_cache" / path.name
    unreadable.write_text("{not json", encoding="utf-8")
    assert run_cli(["check", "--output-format", "json"]).findings() == []


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
