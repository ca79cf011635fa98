"""layerguard's own layerguard.yaml enforces its layering: checked on a copy of the package
with one forbidden import planted, through the real command line."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Run

REPOSITORY = Path(__file__).parents[2]


@pytest.fixture
def own_copy(tmp_path: Path) -> Path:
    shutil.copy(REPOSITORY / "layerguard.yaml", tmp_path / "layerguard.yaml")
    shutil.copytree(
        REPOSITORY / "layerguard",
        tmp_path / "layerguard",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def plant(path: Path, line: str) -> int:
    """Insert `line` after the module's `from __future__` import; return its line number."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    at = next(i for i, text in enumerate(lines) if text.startswith("from __future__")) + 1
    lines.insert(at, line + "\n")
    path.write_text("".join(lines), "utf-8")
    return at + 1


def test_the_package_keeps_its_layering(own_copy: Path, run_cli: Callable[..., Run]) -> None:
    run = run_cli(["check", "--no-cache"], cwd=own_copy)
    assert run.exit_code == 0, run.stdout


def test_a_command_module_importing_another_is_reported(
    own_copy: Path, run_cli: Callable[..., Run]
) -> None:
    graph = own_copy / "layerguard/cli/commands/graph.py"
    line = plant(graph, "from layerguard.cli.commands.check import split_codes")
    run = run_cli(["check", "--no-cache", "--output-format", "json"], cwd=own_copy)
    assert run.exit_code == 1
    assert run.findings() == [("LG113", "layerguard/cli/commands/graph.py", line)]
    message = run.report["findings"][0]["message"]
    assert message.startswith(
        "independence contract 'Command modules never import each other': "
        "`layerguard.cli.commands.graph` and `layerguard.cli.commands.check` must be independent"
    ), message


def test_a_command_reaching_another_through_a_third_module_is_reported(
    own_copy: Path, run_cli: Callable[..., Run]
) -> None:
    (own_copy / "layerguard/cli/bridge.py").write_text(
        "from layerguard.cli.commands.check import check_command\n", "utf-8"
    )
    graph = own_copy / "layerguard/cli/commands/graph.py"
    line = plant(graph, "from layerguard.cli import bridge")
    run = run_cli(["check", "--no-cache", "--output-format", "json"], cwd=own_copy)
    assert run.findings() == [("LG113", "layerguard/cli/commands/graph.py", line)]
    assert (
        "`layerguard.cli.commands.graph` → `layerguard.cli.bridge` "
        f"(layerguard/cli/commands/graph.py:{line}) → `layerguard.cli.commands.check` "
        "(layerguard/cli/bridge.py:1)"
    ) in run.report["findings"][0]["message"]


def test_a_rule_touching_an_adapter_is_reported(
    own_copy: Path, run_cli: Callable[..., Run]
) -> None:
    rule = own_copy / "layerguard/linter/rules/imports.py"
    line = plant(rule, "from layerguard.linter.caching.parses import ParseCache")
    run = run_cli(["check", "--no-cache", "--output-format", "json"], cwd=own_copy)
    assert run.findings() == [("LG101", "layerguard/linter/rules/imports.py", line)]


def test_the_runtime_importing_the_contracts_is_reported(
    own_copy: Path, run_cli: Callable[..., Run]
) -> None:
    context = own_copy / "layerguard/runtime/context.py"
    line = plant(context, "from layerguard.contracts.config.model import ProjectConfig")
    run = run_cli(["check", "--no-cache", "--output-format", "json"], cwd=own_copy)
    assert run.findings() == [("LG101", "layerguard/runtime/context.py", line)]
