"""`layerguard cards parse` through the real CLI app, on real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app

SEED = Path(__file__).parents[1] / "contracts" / "cards" / "data" / "operation_registry.md"
BROKEN = (
    "# b.py\n"
    "**Path:** `backend/b.py`\n"
    "## Placement Card\n"
    "```\n"
    "Role Engine\n"  # 5
    "```\n"
    "## Import Boundary\n"
    "```yaml\n"
    "boundary:\n"
    "  allowed_inbound: [x\n"  # 10
    "```\n"
)


def _seed_copy(tmp_path: Path) -> Path:
    card = tmp_path / "operation_registry.md"
    shutil.copy(SEED, card)
    return card


def test_json_output_for_the_seed_card(tmp_path: Path) -> None:
    card = _seed_copy(tmp_path)
    result = CliRunner().invoke(app, ["cards", "parse", str(card), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)["cards"]
    assert entry["path"] == str(card)
    assert entry["errors"] == []
    data = entry["card"]
    assert data["source_path"]["value"] == (
        "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py"
    )
    exports = data["exports"]
    assert len(exports["functions"]) == 3
    assert len(exports["classes"]) == 4
    registry = exports["classes"][3]
    assert registry["name"]["value"] == "OperationRegistry"
    assert len(registry["methods"]) == 9
    boundary = data["boundary"]
    assert [p["value"] for p in boundary["allowed_inbound"]["value"]] == [
        "hoc.api.*",
        "hoc_spine.adapters.*",
    ]
    assert boundary["forbidden_inbound"] == {"value": None, "line": 247}
    external = next(g for g in boundary["actual_imports"]["value"] if g["name"] == "external")
    assert [m["value"] for m in external["modules"]] == ["sqlalchemy.ext.asyncio"]
    transaction = next(f for f in data["placement"] if f["key"] == "Transaction")
    assert transaction == {"key": "Transaction", "value": "OWNS COMMIT", "line": 17}


def test_text_output_dumps_the_card(tmp_path: Path) -> None:
    card = _seed_copy(tmp_path)
    result = CliRunner().invoke(app, ["cards", "parse", str(card)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        str(card),
        "  path: backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py (line 3)",
        "  layer: L4 — HOC Spine (Orchestrator) [id L4] (line 4)",
        "  component: Orchestrator (line 5)",
    ]
    assert "    Transaction: OWNS COMMIT (line 17)" in lines
    assert (
        "    class OperationResult (line 216); methods: ok, fail; consumers: orchestrator" in lines
    )
    assert "    allowed_inbound: hoc.api.*, hoc_spine.adapters.* (line 244)" in lines
    assert "    forbidden_inbound: empty (line 247)" in lines
    assert "      external: sqlalchemy.ext.asyncio (line 251)" in lines
    assert "  pairing (line 258):" in lines
    assert "    line 240: Import Boundary [boundary] (body 241-254)" in lines
    assert not any("LG002" in line for line in lines)


def test_card_errors_are_findings(tmp_path: Path) -> None:
    broken = tmp_path / "b.md"
    broken.write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(app, ["cards", "parse", str(broken)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-2] == f"{broken}:5: LG002 expected `Key: Value` (a key, a colon, then the value)"
    assert lines[-1].startswith(
        f"{broken}:10: LG002 expected valid YAML in the 'Import Boundary' block: "
    )
    assert "  placement card: none" in lines
    assert "  boundary: none" in lines


def test_json_lists_every_card_with_its_errors(tmp_path: Path) -> None:
    good = _seed_copy(tmp_path)
    broken = tmp_path / "b.md"
    broken.write_text(BROKEN, encoding="utf-8")
    unreadable = tmp_path / "latin1.md"
    unreadable.write_bytes(b"**Path:** \xe9\n")
    result = CliRunner().invoke(
        app, ["cards", "parse", str(good), str(broken), str(unreadable), "--output-format", "json"]
    )
    assert result.exit_code == 1
    cards = json.loads(result.stdout)["cards"]
    assert [(c["path"], c["card"] is None) for c in cards] == [
        (str(good), False),
        (str(broken), False),
        (str(unreadable), True),
    ]
    assert [e["line"] for e in cards[1]["errors"]] == [5, 10]
    assert cards[2]["errors"] == [
        {"line": 1, "message": "expected UTF-8 text, found byte 0xe9 (invalid continuation byte)"}
    ]


def test_missing_path_is_a_usage_error_and_the_others_are_still_parsed(tmp_path: Path) -> None:
    card = _seed_copy(tmp_path)
    missing = tmp_path / "nope.md"
    result = CliRunner().invoke(app, ["cards", "parse", str(missing), str(card)])
    assert result.exit_code == 2
    assert result.stderr == f"layerguard: {missing}: no such file\n"
    assert result.stdout.splitlines()[0] == str(card)


def test_card_without_a_path_prints_no_card(tmp_path: Path) -> None:
    card = tmp_path / "c.md"
    card.write_text("# c.py\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["cards", "parse", str(card)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{card}: no card could be read",
        f"{card}:1: LG002 expected a `**Path:**` line naming the source file the card describes",
    ]


def test_help_texts() -> None:
    runner = CliRunner()
    group = runner.invoke(app, ["cards", "--help"])
    assert group.exit_code == 0
    assert "parse" in group.stdout
    command = runner.invoke(app, ["cards", "parse", "--help"])
    assert command.exit_code == 0
    assert "--output-format" in command.stdout
    assert "Card files (markdown) to parse." in command.stdout


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    card = _seed_copy(tmp_path)
    result = CliRunner().invoke(app, ["cards", "parse", str(card), "--output-format", "xml"])
    assert result.exit_code == 2


def test_a_card_linked_out_of_its_project_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was read (here /etc/passwd), while `check` refuses a path outside the project."""
    (tmp_path / "layerguard.yaml").write_text("version: 1\n", encoding="utf-8")
    cards = tmp_path / "cards/app/api"
    cards.mkdir(parents=True)
    (cards / "evil.md").symlink_to("/etc/passwd")
    (cards / "linked.md").symlink_to(_seed_copy(tmp_path))  # inside: read like any card
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["cards", "parse", "cards/app/api/evil.md", "cards/app/api/linked.md"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"layerguard: cards/app/api/evil.md: not read: it is outside the project ({tmp_path}), "
        "a symbolic link to /etc/passwd\n"
    )
    assert result.stdout.splitlines()[0] == "cards/app/api/linked.md"
    assert "root:" not in result.stdout
