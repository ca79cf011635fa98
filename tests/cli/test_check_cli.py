"""`layerguard check` on a hoc-layout fixture project: the exact findings of every rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import HOC_CONTRACT, Run, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
FACADE = "backend/app/hoc/api/facades/cus/policies.py"
REGISTRY = "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py"
HANDLER = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
SCHEMAS = "backend/app/hoc/cus/policies/L5_schemas/policy_schemas.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
OTHER_DRIVER = "backend/app/hoc/cus/incidents/L6_drivers/incident_driver.py"
MODEL = "backend/app/models/policy.py"
BROKEN = "backend/app/hoc/cus/policies/L5_engines/broken.py"
MODERN = "backend/app/hoc/cus/policies/L5_engines/modern.py"
SCRIPT = "backend/scripts/backfill.py"

FILES = {
    # L2: a relative import of an engine, `from pkg import module`, a lazy import, a
    # TYPE_CHECKING import of sqlalchemy (exempt from LG102 by default), a dispatch whose
    # operation name stands on the next line.
    ROUTE: """\
from typing import TYPE_CHECKING

from ....cus.policies.L5_engines import policy_engine
from app.hoc.cus.policies.L5_schemas import policy_schemas
from app.hoc.cus.hoc_spine.orchestrator.operation_registry import get_operation_registry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def list_policies(ctx):
    from app.hoc.cus.policies.L6_drivers import policy_driver

    registry = get_operation_registry()
    return await registry.execute(
        "policies.query",
        ctx,
    )
""",
    # L2.1: `import a.b as c` of a model and a dynamic import of an engine.
    FACADE: """\
import importlib

import app.models.policy as policy_model


def engine():
    return importlib.import_module("app.hoc.cus.policies.L5_engines.policy_engine")
""",
    REGISTRY: "",
    # L4 handler: builds its own session (LG202) and commits (LG201); registers the operation
    # the route dispatches (so no LG401).
    HANDLER: """\
from app.db import AsyncSessionLocal


class PolicyQueryHandler:
    async def execute(self, ctx):
        async with AsyncSessionLocal() as session:
            await session.commit()


def register(registry):
    registry.register("policies.query", PolicyQueryHandler())
""",
    # L5: a cross-domain import (LG103), and a docstring mentioning commit (no finding).
    ENGINE: '''\
"""Policy engine. It never calls session.commit(): the dependency does."""

from app.hoc.cus.incidents.L6_drivers.incident_driver import load_incidents
from app.hoc.cus.policies.L6_drivers.policy_driver import PolicyDriver
''',
    SCHEMAS: "",
    # L6: await self._session.commit() and async with session.begin().
    DRIVER: """\
class PolicyDriver:
    async def save(self, row):
        self._session.add(row)
        await self._session.commit()

    async def replace(self, session, rows):
        async with session.begin():
            session.add_all(rows)
""",
    OTHER_DRIVER: "def load_incidents():\n    return []\n",
    MODEL: "",
    BROKEN: "def broken(:\n    pass\n",
    MODERN: 'name = "x"\nprint(f"{"nested" + name}")\n',
    # Outside every layer: unconstrained.
    SCRIPT: "from sqlalchemy.orm import Session\nSession().commit()\n",
}

EXPECTED = [
    ("LG001", BROKEN, 1),
    ("LG101", FACADE, 3),
    ("LG101", FACADE, 7),
    ("LG101", ROUTE, 3),
    ("LG101", ROUTE, 12),
    ("LG102", HANDLER, 1),
    ("LG103", ENGINE, 3),
    ("LG201", DRIVER, 4),
    ("LG201", DRIVER, 7),
    ("LG201", HANDLER, 7),
    ("LG202", HANDLER, 6),
]


def config_text(import_scopes: str = "") -> str:
    """The hoc preset, with handlers also banned from `app.db`."""
    handlers = '    paths: ["backend/app/hoc/cus/hoc_spine/orchestrator/handlers/**"]\n'
    assert handlers in HOC_CONTRACT
    text = HOC_CONTRACT.replace(
        handlers + "    forbid:\n",
        handlers + "    forbid:\n      modules: [app.db]\n",
    )
    return text.replace("import_scopes:\n", "import_scopes:\n" + import_scopes)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, FILES, config_text())


def test_exact_findings(project: Path, run_cli: Callable[..., Run]) -> None:
    run = run_cli(["check", "--output-format", "json"])
    assert run.exit_code == 1, run.stderr
    assert sorted(run.findings()) == sorted(EXPECTED)
    assert run.report["summary"]["files"] == len(FILES)


def test_text_output_is_sorted_ruff_style_with_summary(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    run = run_cli(["check", "--no-cache"])
    lines = run.stdout.splitlines()
    findings, summary = lines[:-1], lines[-1]
    assert [line.split(": ", 1)[0] for line in findings] == [
        f"{path}:{line}:{col}"
        for path, line, col in sorted(
            (f["path"], f["line"], f["col"])
            for f in run_cli(["check", "--output-format", "json"]).report["findings"]
        )
    ]
    assert findings[[line.split(":")[0] for line in findings].index(BROKEN)] == (
        f"{BROKEN}:1:12: LG001 cannot parse: invalid syntax; fix the syntax so the file can be "
        "checked"
    )
    assert summary.startswith(f"Found 11 findings in {len(FILES)} files and 0 cards")


def test_lazy_imports_can_be_exempted_per_rule(project: Path, run_cli: Callable[..., Run]) -> None:
    (project / "layerguard.yaml").write_text(config_text("  LG101: {lazy: false}\n"), "utf-8")
    run = run_cli(["check", "--output-format", "json", "--select", "LG101"])
    assert sorted(run.findings()) == sorted([("LG101", FACADE, 3), ("LG101", ROUTE, 3)])


def test_type_checking_imports_can_be_counted(project: Path, run_cli: Callable[..., Run]) -> None:
    config = project / "layerguard.yaml"
    text = config.read_text("utf-8").replace(
        "LG102: {type_checking: false", "LG102: {type_checking: true"
    )
    config.write_text(text, encoding="utf-8")
    run = run_cli(["check", "--output-format", "json", "--select", "LG102"])
    assert sorted(run.findings()) == sorted([("LG102", HANDLER, 1), ("LG102", ROUTE, 8)])


def test_select_ignore_and_exit_zero(project: Path, run_cli: Callable[..., Run]) -> None:
    only_tx = run_cli(["check", "--output-format", "json", "--select", "LG2"])
    assert {code for code, _, _ in only_tx.findings()} == {"LG201", "LG202"}
    without = run_cli(["check", "--output-format", "json", "--ignore", "LG1,LG001"])
    assert {code for code, _, _ in without.findings()} == {"LG201", "LG202"}
    assert run_cli(["check", "--exit-zero"]).exit_code == 0
    unknown = run_cli(["check", "--select", "LG777"])
    assert unknown.exit_code == 2
    assert "unknown rule selector 'LG777'" in unknown.stderr


def test_paths_narrow_the_report_not_the_analysis(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    run = run_cli(["check", "--output-format", "json", DRIVER, "backend/app/hoc/api"])
    assert sorted(run.findings()) == sorted(
        [
            ("LG101", FACADE, 3),
            ("LG101", FACADE, 7),
            ("LG101", ROUTE, 3),
            ("LG101", ROUTE, 12),
            ("LG201", DRIVER, 4),
            ("LG201", DRIVER, 7),
        ]
    )
    missing = run_cli(["check", "nope.py"])
    assert missing.exit_code == 2
    assert "'nope.py' does not exist" in missing.stderr


def test_config_is_discovered_from_a_subdirectory(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    run = run_cli(["check", "--output-format", "json"], cwd=project / "backend" / "app")
    assert sorted(run.findings()) == sorted(EXPECTED)
    text = run_cli(["check", "--select", "LG001"], cwd=project / "backend" / "app")
    assert text.stdout.splitlines()[0].startswith("hoc/cus/policies/L5_engines/broken.py:1:12:")


def test_namespace_packages_are_scanned(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(
        tmp_path,
        {
            # No __init__.py anywhere: every directory is a namespace package.
            "backend/app/hoc/api/cus/policies/deep/er/route.py": (
                "from app.hoc.cus.policies.L6_drivers.driver import x\n"
            ),
            "backend/app/hoc/cus/policies/L6_drivers/driver.py": "x = 1\n",
        },
    )
    run = run_cli(["check", "--output-format", "json"])
    assert run.findings() == [("LG101", "backend/app/hoc/api/cus/policies/deep/er/route.py", 1)]


def test_invalid_config_exits_2_naming_key_and_line(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {"backend/app/x.py": ""},
        "version: 1\nsource_roots: [backend]\nlayers:\n  - id: L2\n    nme: API\n",
    )
    run = run_cli(["check"])
    assert run.exit_code == 2
    assert f"{tmp_path / 'layerguard.yaml'}:5: LG003 layers[0].nme:" in run.stderr


def test_no_config_anywhere_exits_2(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    run = run_cli(["check"])
    assert run.exit_code == 2
    assert "no layerguard.yaml, and no pyproject.toml with [tool.layerguard]" in run.stderr
    assert "layerguard init" in run.stderr


def test_unknown_output_format_exits_2(project: Path, run_cli: Callable[..., Run]) -> None:
    run = run_cli(["check", "--output-format", "xml"])
    assert run.exit_code == 2
    assert "'xml' is not one of 'text', 'json', 'jsonl', 'sarif', 'github', 'junit'" in (
        " ".join(run.stderr.replace("│", "").split())
    )


def test_format_is_a_hidden_alias_of_output_format(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    legacy = run_cli(["check", "--format", "json"])
    assert legacy.exit_code == 1
    assert (
        legacy.report["findings"]
        == run_cli(["check", "--output-format", "json"]).report["findings"]
    )
    assert run_cli(["check", "--format", "xml"]).exit_code == 2
    assert "--format " not in run_cli(["check", "--help"]).stdout


def test_parallel_and_serial_runs_agree(project: Path, run_cli: Callable[..., Run]) -> None:
    # Enough files for the process pool to be used.
    for number in range(12):
        path = project / f"backend/app/hoc/cus/policies/L6_drivers/extra_{number}.py"
        path.write_text(f"async def f(s):\n    await s.rollback()  # {number}\n", "utf-8")
    serial = run_cli(["check", "--output-format", "json", "--no-cache", "--jobs", "1"])
    parallel = run_cli(["check", "--output-format", "json", "--no-cache", "--jobs", "2"])
    assert serial.findings() == parallel.findings()
    assert len(serial.findings()) == len(EXPECTED) + 12
    assert parallel.report["summary"]["parsed"] == len(FILES) + 12
