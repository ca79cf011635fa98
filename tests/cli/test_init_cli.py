"""`layerguard init` through the real CLI app, writing into a temp dir."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.contracts.config.loader import load_config

PRESET = files("layerguard.contracts.config") / "presets" / "hoc.yaml"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_the_preset_byte_for_byte_and_it_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke("init", "--preset", "hoc")
    assert (code, err) == (0, "")
    assert out == "wrote layerguard.yaml (preset 'hoc'); edit it to match your project's layout\n"
    written = tmp_path / "layerguard.yaml"
    assert written.read_bytes() == PRESET.read_bytes()
    config = load_config(written)
    assert [layer.id for layer in config.layers] == [
        "L2",
        "L2.1",
        "L4",
        "L4_handlers",
        "L4_services",
        "L5",
        "L6",
        "L7",
    ]
    assert config.transactions.owners == ()
    assert config.transactions.session_creators == ()
    assert config.cross_domain_layers == ("L5", "L6")
    l2 = config.layer("L2")
    assert l2 is not None
    assert l2.forbidden_layers == ("L4_handlers", "L5", "L6", "L7")
    assert l2.forbidden_modules == ("sqlalchemy", "sqlmodel", "app.db")


def test_transaction_ownership_moves_to_handlers_with_one_line(tmp_path: Path) -> None:
    code, _, _ = invoke("init", "--directory", str(tmp_path))
    assert code == 0
    written = tmp_path / "layerguard.yaml"
    text = written.read_text(encoding="utf-8")
    assert text.count("\n  owners: []\n") == 1
    written.write_text(text.replace("\n  owners: []\n", "\n  owners: [L4_handlers]\n"))
    assert load_config(written).transactions.owners == ("L4_handlers",)


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "layerguard.yaml"
    existing.write_text("version: 1\n")
    code, out, err = invoke("init", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"layerguard: {existing} already exists; pass --force to overwrite it\n"
    assert existing.read_text() == "version: 1\n"


def test_init_force_overwrites(tmp_path: Path) -> None:
    existing = tmp_path / "layerguard.yaml"
    existing.write_text("version: 1\n")
    code, _, _ = invoke("init", "--force", "--directory", str(tmp_path))
    assert code == 0
    assert existing.read_bytes() == PRESET.read_bytes()


def test_unknown_preset_lists_the_presets(tmp_path: Path) -> None:
    code, out, err = invoke("init", "--preset", "django", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == "layerguard: unknown preset 'django'; available presets: hoc\n"
    assert not (tmp_path / "layerguard.yaml").exists()


def test_missing_directory(tmp_path: Path) -> None:
    code, _, err = invoke("init", "--directory", str(tmp_path / "nope"))
    assert code == 2
    assert err == f"layerguard: {tmp_path / 'nope'}: no such directory\n"


def test_init_help_documents_every_option() -> None:
    code, out, _ = invoke("init", "--help")
    assert code == 0
    for option in ("--preset", "--force", "--directory"):
        assert option in out
