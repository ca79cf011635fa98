"""The results cache: an unchanged tree reuses the previous findings, any change recomputes."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.linter.project import index as index_module
from tests.helpers import HOC_CONTRACT, Run, write_project

DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
CARD = "literature/gone.md"


def age_tree(root: Path, seconds: float = 30.0) -> None:
    """Make every file look written well before now, so no input is racy."""
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


CONTRACTS = """
contracts:
  - id: no-db
    name: Routes never reach the database
    type: forbidden
    source_modules: [app.hoc.api]
    forbidden_modules: [sqlalchemy]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(
        tmp_path,
        {
            DRIVER: "async def save(s):\n    await s.commit()\n",
            ROUTE: "import sqlalchemy\n",
            CARD: "# gone.py\n\n**Path:** `backend/app/gone.py`\n**Layer:** L7 — Models\n",
        },
    )
    age_tree(tmp_path)
    return tmp_path


def forbid_indexing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the project was indexed although nothing changed")

    monkeypatch.setattr(index_module.ProjectIndex, "__init__", refuse)


EXPECTED = [("LG102", ROUTE, 1), ("LG201", DRIVER, 2), ("LG301", CARD, 3)]


def test_unchanged_tree_reuses_findings_without_indexing(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_cli(["check", "--output-format", "json"])
    assert sorted(first.findings()) == EXPECTED
    forbid_indexing(monkeypatch)
    second = run_cli(["check", "--output-format", "json"])
    assert second.findings() == first.findings()
    assert second.exit_code == 1
    # Report paths filter the reused findings like fresh ones.
    narrowed = run_cli(["check", "--output-format", "json", DRIVER])
    assert narrowed.findings() == [("LG201", DRIVER, 2)]


def test_any_input_change_recomputes(project: Path, run_cli: Callable[..., Run]) -> None:
    run_cli(["check"])
    # A Python file changes (even keeping its size).
    (project / DRIVER).write_text("async def save(s):\n    await s.flush()\n", "utf-8")
    age_tree(project, 10)
    assert sorted(run_cli(["check", "--output-format", "json"]).findings()) == [
        ("LG102", ROUTE, 1),
        ("LG301", CARD, 3),
    ]
    # The file a card describes appears: the card is no longer stale (but its layer is
    # wrong: the file is outside every layer).
    (project / "backend/app/gone.py").write_text("", "utf-8")
    age_tree(project, 10)
    assert sorted(run_cli(["check", "--output-format", "json"]).findings()) == [
        ("LG102", ROUTE, 1),
        ("LG306", CARD, 4),
    ]
    # The contract changes.
    (project / "layerguard.yaml").write_text(
        HOC_CONTRACT.replace("modules: [sqlalchemy, sqlmodel, app.db]", "modules: [sqlmodel]", 1),
        "utf-8",
    )
    age_tree(project, 10)
    assert run_cli(["check", "--output-format", "json"]).findings() == [("LG306", CARD, 4)]
    # Another selection of rules is another run.
    assert run_cli(["check", "--output-format", "json", "--select", "LG1"]).findings() == []


def test_recently_modified_files_are_never_answered_from_the_cache(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli(["check"])
    (project / DRIVER).write_text("async def save(s):\n    await s.rollback()\n", "utf-8")
    run_cli(["check"])  # racy: the driver was written just now, nothing is stored
    indexed = []
    original = index_module.ProjectIndex.__init__

    def counting(self: index_module.ProjectIndex, *args: object, **kwargs: object) -> None:
        indexed.append(True)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index_module.ProjectIndex, "__init__", counting)
    run = run_cli(["check", "--output-format", "json"])
    assert indexed == [True]
    assert ("LG201", DRIVER, 2) in run.findings()


def test_no_cache_bypasses_it(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli(["check"])
    forbid_indexing(monkeypatch)
    with pytest.raises(AssertionError, match="indexed although nothing changed"):
        run_cli(["check", "--no-cache"])


def test_a_warm_run_imports_neither_libcst_nor_the_rules(project: Path) -> None:
    """What a pre-commit hook pays on an unchanged tree: the contract, discovery, the cache.
    Neither the import graph nor grimp, which the cold run needed for the contract."""
    (project / "layerguard.yaml").write_text(HOC_CONTRACT + CONTRACTS, "utf-8")
    age_tree(project)
    probe = (
        "import sys\n"
        "from layerguard.cli.app import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(sys.modules), file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", probe, "check"]
    cold = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    assert {"grimp", "layerguard.linter.graph.contracts"} <= set(
        ast.literal_eval(cold.stderr.strip().splitlines()[-1])
    )
    warm = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    modules = set(ast.literal_eval(warm.stderr.strip().splitlines()[-1]))
    assert "layerguard.linter.check" in modules
    heavy = {m for m in modules if m.split(".")[0] in ("libcst", "sqlalchemy", "fastapi", "grimp")}
    assert heavy == set()
    assert not any(m.startswith("layerguard.linter.graph") for m in modules)
    # Selecting rules reads plain data (rules.codes); no rule module, the registry or the
    # rule base class is imported.
    rule_modules = {m for m in modules if m.startswith("layerguard.linter.rules.")}
    assert rule_modules == {"layerguard.linter.rules.codes", "layerguard.linter.rules.selection"}
    assert "layerguard.linter.project.index" not in modules
