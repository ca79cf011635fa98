"""The pre-commit hook: files passed by name are judged with whole-project knowledge."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.helpers import Run, write_project

REPO = Path(__file__).parents[2]
ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
HANDLER = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"


def test_hook_definition_runs_the_installed_console_script() -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    assert hook["id"] == "layerguard"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["entry"].split()[0] in scripts
    assert hook["entry"].split()[1] == "check"


def test_passed_files_get_whole_project_findings_and_only_theirs(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            # The route dispatches operations; only the handler module registers them.
            ROUTE: (
                "async def route(registry, ctx):\n"
                '    await registry.execute("policies.query", ctx)\n'
                '    await registry.execute("policies.missing", ctx)\n'
            ),
            HANDLER: 'registry.register("policies.query", PolicyQueryHandler())\n',
            DRIVER: "async def save(s):\n    await s.commit()\n",
        },
    )
    run = run_cli(["check", "--output-format", "json", ROUTE])
    assert run.findings() == [("LG401", ROUTE, 3)]
    assert run.exit_code == 1
    clean = run_cli(["check", HANDLER])
    assert clean.exit_code == 0
    assert clean.stdout.startswith("No findings in 3 files")
