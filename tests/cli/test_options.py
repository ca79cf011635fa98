"""`open_project`: how every command finds and loads layerguard.yaml.

Exercised through a small typer app declaring the shared `--config` option, the way the
real commands do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from layerguard.cli.options import ConfigOption, open_project
from layerguard.contracts.config.loader import find_config

probe = typer.Typer()


@probe.command()
def layers(config: ConfigOption = None) -> None:
    """Print the layer ids of the contract."""
    typer.echo(" ".join(layer.id for layer in open_project(config).layers))


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(probe, list(args))
    return result.exit_code, result.stdout, result.stderr


VALID = "version: 1\nlayers:\n  - {id: api, name: API, paths: [api]}\n"


def test_discovered_upwards_from_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "layerguard.yaml").write_text(VALID)
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert invoke() == (0, "api\n", "")


def test_explicit_config(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(VALID)
    assert invoke("--config", str(path)) == (0, "api\n", "")


def test_invalid_config_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "layerguard.yaml"
    path.write_text("version: 1\nlayers:\n  - {id: api, name: API}\nrules: {select: [X]}\n")
    code, out, err = invoke("--config", str(path))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{path}:3: LG003 layers[0]: needs at least one entry in 'paths' or 'modules'.",
        f"{path}:4: LG003 rules.select[0]: expected a rule code or prefix (`LG101`, `LG1`) or "
        "`ALL`, got 'X'.",
    ]


def test_missing_explicit_config(tmp_path: Path) -> None:
    path = tmp_path / "layerguard.yaml"
    assert invoke("--config", str(path)) == (
        2,
        "",
        f"{path}: LG003 cannot read: No such file or directory.\n",
    )


def test_no_config_anywhere_suggests_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if find_config(tmp_path) is not None:
        pytest.skip("a layerguard.yaml exists above the temp dir")
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke()
    assert (code, out) == (2, "")
    assert err == (
        "layerguard: no layerguard.yaml, and no pyproject.toml with [tool.layerguard], in "
        f"{tmp_path} or any directory above it; run `layerguard init` to write one\n"
    )
