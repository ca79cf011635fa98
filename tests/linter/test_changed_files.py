"""`layerguard check --changed` on a hoc-layout project in a real git repository.

For every scripted edit, three things hold:

- the `--changed` findings are the full run's findings on the affected files (`check` always
  analyses the whole project and `--changed` only narrows the report);
- outside the affected files, the full run's findings are the base revision's: no finding the
  edit altered is left out;
- the same holds for the dependency rules alone (without the comparison of the two runs that
  backs them up), so those rules really are the dependencies of these edits.

The affected set itself is pinned for some edits.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from layerguard.contracts.config.loader import load_config
from layerguard.linter.changed.affected import Affected, affected_files
from layerguard.linter.changed.base_index import base_index
from layerguard.linter.changed.git import FETCH_MORE, changes_since
from layerguard.linter.changed.scope import changed_scope
from layerguard.linter.errors import LayerguardWarning
from layerguard.linter.project.build import build_index
from layerguard.linter.rules.runner import run_rules
from layerguard.linter.rules.selection import enabled_codes
from tests.helpers import Run, write_project

RunCli = Callable[..., Run]

API = "backend/app/hoc/api"
SPINE = "backend/app/hoc/cus/hoc_spine"
HANDLERS = f"{SPINE}/orchestrator/handlers"
CUS = "backend/app/hoc/cus"

POLICIES_ROUTE = f"{API}/cus/policies/policies.py"
INCIDENTS_ROUTE = f"{API}/cus/incidents/incidents.py"
ACCOUNTS_ROUTE = f"{API}/cus/accounts/accounts.py"
ROUTER = f"{API}/facades/cus/router.py"
REGISTRY = f"{SPINE}/orchestrator/operation_registry.py"
BOOTSTRAP = f"{SPINE}/orchestrator/bootstrap.py"
COMMON = f"{SPINE}/schemas/common.py"
CLOCK = f"{SPINE}/services/clock.py"
POLICIES_HANDLER = f"{HANDLERS}/policies_handler.py"
INCIDENTS_HANDLER = f"{HANDLERS}/incidents_handler.py"
ACCOUNTS_HANDLER = f"{HANDLERS}/accounts_handler.py"
POLICY_ENGINE = f"{CUS}/policies/L5_engines/policy_engine.py"
POLICY_SCHEMAS = f"{CUS}/policies/L5_schemas/policy_schemas.py"
INCIDENT_ENGINE = f"{CUS}/incidents/L5_engines/incident_engine.py"
ACCOUNT_ENGINE = f"{CUS}/accounts/L5_engines/account_engine.py"
POLICY_DRIVER = f"{CUS}/policies/L6_drivers/policy_driver.py"
INCIDENT_DRIVER = f"{CUS}/incidents/L6_drivers/incident_driver.py"
ACCOUNT_DRIVER = f"{CUS}/accounts/L6_drivers/account_driver.py"
POLICY_MODEL = "backend/app/models/policy.py"
INCIDENT_MODEL = "backend/app/models/incident.py"
ACCOUNT_MODEL = "backend/app/models/account.py"

POLICY_ENGINE_CARD = "literature/policies/policy_engine.md"
POLICY_DRIVER_CARD = "literature/policies/policy_driver.md"
INCIDENT_DRIVER_CARD = "literature/incidents/incident_driver.md"
REGISTRY_CARD = "literature/spine/operation_registry.md"
POLICIES_HANDLER_CARD = "literature/spine/policies_handler.md"


def module(path: str) -> str:
    return path.removeprefix("backend/").removesuffix(".py").replace("/", ".")


def card(path: str, layer: str, inbound: list[str], imports: list[str], transaction: str) -> str:
    name = path.rsplit("/", 1)[1]
    return f"""\
# {name}

**Path:** `{path}`
**Layer:** {layer}
**Component:** {name.removesuffix(".py")}

## Placement Card

```
File:            {name}
Role:            {layer}
Transaction:     {transaction}
Purpose:         fixture
```

## Import Boundary

```yaml
boundary:
  allowed_inbound: {inbound}
  forbidden_inbound:
  actual_imports:
    spine_internal: []
    l7_model: []
    external: {imports}
  violations: []
```
"""


def route(operation: str, extra: str = "") -> str:
    return f"""\
from {module(REGISTRY)} import get_operation_registry
{extra}

async def endpoint(ctx):
    registry = get_operation_registry()
    return await registry.execute("{operation}", ctx)
"""


def handler(cls: str, operation: str, engine: str, extra: str = "") -> str:
    return f"""\
from {module(engine)} import run
{extra}

class {cls}:
    async def execute(self, ctx):
        return await run(ctx)


def register(registry):
    registry.register("{operation}", {cls}())
"""


FILES = {
    POLICIES_ROUTE: route(
        "policies.query",
        f"from {module(POLICY_SCHEMAS)} import PolicyIn\n"
        f"from {module(POLICY_ENGINE)} import run  # LG101\n",
    ),
    INCIDENTS_ROUTE: route("incidents.list"),
    ACCOUNTS_ROUTE: route("accounts.get", "import sqlalchemy  # LG102\n"),
    ROUTER: (
        f"from {module(POLICIES_ROUTE)} import endpoint as policies\n"
        f"from {module(INCIDENTS_ROUTE)} import endpoint as incidents\n"
        f"from {module(ACCOUNTS_ROUTE)} import endpoint as accounts\n"
    ),
    REGISTRY: "def get_operation_registry():\n    return None\n",
    BOOTSTRAP: (
        f"from {module(HANDLERS)} import accounts_handler, incidents_handler, policies_handler\n"
        "\n\n"
        "def register_all(registry):\n"
        "    for handler_module in (accounts_handler, incidents_handler, policies_handler):\n"
        "        handler_module.register(registry)\n"
    ),
    COMMON: "class Page:\n    pass\n",
    CLOCK: "def now():\n    return 0\n",
    POLICIES_HANDLER: handler("PolicyQueryHandler", "policies.query", POLICY_ENGINE).replace(
        "        return await run(ctx)", "        await ctx.session.commit()  # LG201"
    ),
    INCIDENTS_HANDLER: handler("IncidentListHandler", "incidents.list", INCIDENT_ENGINE),
    ACCOUNTS_HANDLER: handler(
        "AccountGetHandler",
        "accounts.get",
        ACCOUNT_ENGINE,
        f"from {module(INCIDENTS_HANDLER)} import IncidentListHandler  # LG403\n",
    ),
    POLICY_ENGINE: (
        f"from {module(POLICY_DRIVER)} import save\n"
        f"from {module(CLOCK)} import now\n"
        f"from {module(INCIDENT_DRIVER)} import load  # LG103\n\n\n"
        "async def run(ctx):\n    return await save(ctx, now(), load())\n"
    ),
    POLICY_SCHEMAS: "class PolicyIn:\n    pass\n",
    INCIDENT_ENGINE: f"from {module(INCIDENT_DRIVER)} import load\n\n\nasync def run(ctx):\n"
    "    return load()\n",
    ACCOUNT_ENGINE: f"from {module(ACCOUNT_DRIVER)} import get\n\n\nasync def run(ctx):\n"
    "    return get()\n",
    POLICY_DRIVER: (
        f"from {module(POLICY_MODEL)} import Policy\n\n\n"
        "async def save(session, *rows):\n    await session.commit()  # LG201\n"
    ),
    INCIDENT_DRIVER: f"from {module(INCIDENT_MODEL)} import Incident\n\n\ndef load():\n"
    "    return []\n",
    ACCOUNT_DRIVER: f"from {module(ACCOUNT_MODEL)} import Account\n\n\ndef get():\n"
    "    return None\n",
    POLICY_MODEL: "class Policy:\n    pass\n",
    INCIDENT_MODEL: "class Incident:\n    pass\n",
    ACCOUNT_MODEL: "class Account:\n    pass\n",
    POLICY_ENGINE_CARD: card(
        POLICY_ENGINE,
        "L5 — Domain engines",
        ["hoc_spine.orchestrator.handlers.*"],
        [],
        "Forbidden",
    ),
    POLICY_DRIVER_CARD: card(POLICY_DRIVER, "L6 — Drivers", ["policies.L5_engines.*"], [], "None"),
    INCIDENT_DRIVER_CARD: card(
        INCIDENT_DRIVER, "L6 — Drivers", ["incidents.L5_engines.*"], [], "None"
    ),
    REGISTRY_CARD: card(REGISTRY, "L4 — Orchestration spine", ["hoc.api.*"], [], "None"),
    POLICIES_HANDLER_CARD: card(
        POLICIES_HANDLER, "L4_handlers — Operation handlers", ["hoc_spine.*"], [], "Forbidden"
    ),
}
PYTHON_FILES = sorted(path for path in FILES if path.endswith(".py"))
CARDS = sorted(path for path in FILES if path.endswith(".md"))

Finding = tuple[str, int, int, str, str]  # path, line, col, code, message


def git(project: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=layerguard tests",
            "-c",
            "user.email=tests@layerguard.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def findings(run: Run) -> list[Finding]:
    data: list[dict[str, Any]] = run.report["findings"]
    return sorted((f["path"], f["line"], f["col"], f["code"], f["message"]) for f in data)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(tmp_path, FILES)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


@pytest.fixture
def base_findings(project: Path, run_cli: RunCli) -> list[Finding]:
    run = run_cli(["check", "--output-format", "json"])
    assert run.exit_code == 1, run.stderr
    assert len({path for path, *_ in findings(run)}) >= 5
    return findings(run)


def affected(project: Path, base: str = "HEAD") -> tuple[Affected, Affected]:
    """(the affected set `check --changed` uses, the one of the dependency rules alone)."""
    config = load_config(project / "layerguard.yaml")
    enabled = enabled_codes(config)
    index = build_index(config, jobs=1, use_cache=True).index
    full = changed_scope(index, run_rules(index, enabled), base, enabled)
    changes = changes_since(project, base)
    before = base_index(index, changes)
    contract_changed = "layerguard.yaml" in changes.paths
    rules_only = affected_files(
        index, before, changes.paths, contract="layerguard.yaml", contract_changed=contract_changed
    )
    return full, rules_only


def assert_equivalent(
    project: Path, run_cli: RunCli, base_findings: list[Finding], base: str = "HEAD"
) -> Affected:
    full_run = run_cli(["check", "--output-format", "json"])
    changed_run = run_cli(["check", "--output-format", "json", "--changed", "--base", base])
    assert changed_run.exit_code in (0, 1), changed_run.stderr
    scope, rules_only = affected(project, base)
    now = findings(full_run)
    assert findings(changed_run) == [f for f in now if f[0] in scope.files]
    for files in (scope.files, rules_only.files):
        outside_now = [f for f in now if f[0] not in files]
        outside_before = [f for f in base_findings if f[0] not in files | scope.deleted]
        assert outside_now == outside_before
    assert rules_only.files <= scope.files
    return scope


def edit(project: Path, path: str, old: str, new: str) -> None:
    file = project / path
    text = file.read_text("utf-8")
    assert old in text, (path, old)
    file.write_text(text.replace(old, new), "utf-8")


def test_the_fixture_is_big_enough_and_has_findings_of_every_kind(
    base_findings: list[Finding],
) -> None:
    assert len(PYTHON_FILES) >= 20
    codes = {code for _, _, _, code, _ in base_findings}
    assert {"LG101", "LG102", "LG103", "LG201", "LG403"} <= codes


def test_nothing_changed_reports_nothing(
    project: Path, base_findings: list[Finding], run_cli: RunCli
) -> None:
    run = run_cli(["check", "--output-format", "json", "--changed"])
    assert run.exit_code == 0
    assert findings(run) == []
    assert run.stderr == (
        "layerguard: --changed: reporting on 0 files (0 changed since HEAD, 0 affected)\n"
    )
    assert affected(project)[0].files == frozenset()


def test_an_import_added(project: Path, base_findings: list[Finding], run_cli: RunCli) -> None:
    edit(
        project,
        INCIDENTS_ROUTE,
        "import get_operation_registry\n",
        f"import get_operation_registry\nfrom {module(INCIDENT_DRIVER)} import load\n",
    )
    scope = assert_equivalent(project, run_cli, base_findings)
    assert dict(scope.reasons) == {
        INCIDENTS_ROUTE: "changed",
        ROUTER: f"imports {module(INCIDENTS_ROUTE)} ({INCIDENTS_ROUTE}), which changed",
        INCIDENT_DRIVER_CARD: f"describes {INCIDENT_DRIVER}, which changed {INCIDENTS_ROUTE} "
        "imports",
        REGISTRY_CARD: f"describes {REGISTRY}, which changed {INCIDENTS_ROUTE} imports",
        INCIDENTS_HANDLER: f"registers operation 'incidents.list' used in {INCIDENTS_ROUTE}",
    }
    changed = run_cli(["check", "--output-format", "json", "--changed"])
    reported = [(path, line, code) for path, line, _, code, _ in findings(changed)]
    assert (INCIDENTS_ROUTE, 2, "LG101") in reported
    assert [f for f in reported if f[2][:3] in ("LG2", "LG4")] == []
    assert changed.stderr == (
        "layerguard: --changed: reporting on 5 files (1 changed since HEAD, 4 affected)\n"
    )


def test_a_card_edited(project: Path, base_findings: list[Finding], run_cli: RunCli) -> None:
    edit(project, POLICY_ENGINE_CARD, "Transaction:     Forbidden", "Transaction:     OWNS COMMIT")
    edit(project, POLICY_ENGINE_CARD, "['hoc_spine.orchestrator.handlers.*']", "['hoc.api.*']")
    scope = assert_equivalent(project, run_cli, base_findings)
    assert scope.files == {
        POLICY_ENGINE_CARD,
        POLICY_ENGINE,
        POLICIES_ROUTE,
        POLICIES_HANDLER,
    }
    assert scope.reasons[POLICY_ENGINE] == f"described by changed card {POLICY_ENGINE_CARD}"
    assert scope.reasons[POLICIES_HANDLER] == (
        f"imports {module(POLICY_ENGINE)} ({POLICY_ENGINE}), whose card {POLICY_ENGINE_CARD} "
        "changed"
    )


def test_a_card_pointed_at_another_file(
    project: Path, base_findings: list[Finding], run_cli: RunCli
) -> None:
    edit(project, POLICY_DRIVER_CARD, POLICY_DRIVER, INCIDENT_DRIVER)
    scope = assert_equivalent(project, run_cli, base_findings)
    # Both the file it described and the one it describes now, and their importers.
    assert {POLICY_DRIVER, INCIDENT_DRIVER, POLICY_ENGINE, INCIDENT_ENGINE} <= scope.files
    assert INCIDENT_DRIVER_CARD in scope.files  # another card of the same file


def test_a_handler_renamed(project: Path, base_findings: list[Finding], run_cli: RunCli) -> None:
    edit(project, INCIDENTS_HANDLER, "IncidentListHandler", "IncidentSearchHandler")
    edit(project, INCIDENTS_HANDLER, '"incidents.list"', '"incidents.search"')
    scope = assert_equivalent(project, run_cli, base_findings)
    changed = run_cli(["check", "--output-format", "json", "--changed"])
    codes = {(path, code) for path, _, _, code, _ in findings(changed)}
    # The route now dispatches an operation nobody registers, though it did not change.
    assert (INCIDENTS_ROUTE, "LG401") in codes
    assert scope.reasons[INCIDENTS_ROUTE] == (
        f"dispatches operation 'incidents.list' registered in {INCIDENTS_HANDLER}"
    )
    assert scope.reasons[ACCOUNTS_HANDLER] == (
        f"imports {module(INCIDENTS_HANDLER)} ({INCIDENTS_HANDLER}), which changed"
    )


def test_a_file_deleted(project: Path, base_findings: list[Finding], run_cli: RunCli) -> None:
    (project / POLICY_DRIVER).unlink()
    scope = assert_equivalent(project, run_cli, base_findings)
    assert scope.deleted == {POLICY_DRIVER}
    assert scope.files == {POLICY_ENGINE, POLICY_DRIVER_CARD}
    assert scope.reasons[POLICY_DRIVER_CARD] == f"describes {POLICY_DRIVER}, which changed"
    # The driver's own findings are gone, and nothing else is reported.
    changed = run_cli(["check", "--output-format", "json", "--changed"])
    assert {path for path, *_ in findings(changed)} <= {POLICY_ENGINE, POLICY_DRIVER_CARD}


def test_a_file_renamed_and_staged(
    project: Path, base_findings: list[Finding], run_cli: RunCli
) -> None:
    git(project, "mv", INCIDENT_MODEL, "backend/app/models/incidents.py")
    scope = assert_equivalent(project, run_cli, base_findings)
    assert scope.deleted == {INCIDENT_MODEL}
    assert {"backend/app/models/incidents.py", INCIDENT_DRIVER} <= scope.files


def test_an_untracked_file(project: Path, base_findings: list[Finding], run_cli: RunCli) -> None:
    new = f"{CUS}/accounts/L6_drivers/ledger.py"
    (project / new).write_text("async def close(db):\n    await db.rollback()\n", "utf-8")
    scope = assert_equivalent(project, run_cli, base_findings)
    assert scope.files == {new}
    changed = run_cli(["check", "--output-format", "json", "--changed"])
    assert [(path, code) for path, _, _, code, _ in findings(changed)] == [(new, "LG201")]
    assert changed.stderr == (
        "layerguard: --changed: reporting on 1 file (1 changed since HEAD, 0 affected)\n"
    )


def test_several_edits_at_once(
    project: Path, base_findings: list[Finding], run_cli: RunCli
) -> None:
    edit(project, ACCOUNTS_ROUTE, "import sqlalchemy  # LG102\n", "")
    edit(project, POLICY_DRIVER, "    await session.commit()  # LG201\n", "    pass\n")
    edit(project, REGISTRY_CARD, "['hoc.api.*']", "[]")
    (project / CLOCK).unlink()
    assert_equivalent(project, run_cli, base_findings)


def test_committed_changes_since_a_branch_point(
    project: Path, base_findings: list[Finding], run_cli: RunCli
) -> None:
    git(project, "checkout", "-q", "-b", "feature")
    edit(project, INCIDENTS_ROUTE, '"incidents.list"', '"incidents.lst"')
    git(project, "commit", "-q", "-am", "typo")
    # main moves on after the branch point: its own changes are not the branch's.
    git(project, "checkout", "-q", "main")
    edit(project, ACCOUNT_MODEL, "pass", "id = 1")
    git(project, "commit", "-q", "-am", "on main")
    git(project, "checkout", "-q", "feature")
    scope = assert_equivalent(project, run_cli, base_findings, base="main")
    assert INCIDENTS_ROUTE in scope.files
    assert ACCOUNT_MODEL not in scope.files
    on_head = run_cli(["check", "--output-format", "json", "--changed"])
    assert findings(on_head) == []  # nothing changed since HEAD


def test_a_contract_change_affects_everything(
    project: Path, base_findings: list[Finding], run_cli: RunCli
) -> None:
    config = project / "layerguard.yaml"
    config.write_text(config.read_text("utf-8").replace("owners: []", "owners: [L4_handlers]"))
    scope = assert_equivalent(project, run_cli, base_findings)
    assert scope.files == frozenset(PYTHON_FILES) | frozenset(CARDS) | {"layerguard.yaml"}
    assert scope.reasons["layerguard.yaml"] == "changed"


SMALL_CONTRACT = """\
version: 1
source_roots: ["."]
layers:
  - id: api
    name: API
    paths: ["app/api/**/*.py"]
  - id: services
    name: Services
    paths: ["app/services/**/*.py"]
"""


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    write_project(
        tmp_path, {"app/api/routes.py": "import os\n", "app/services/billing.py": "X = 1\n"}, None
    )
    (tmp_path / "layerguard.yaml").write_text(SMALL_CONTRACT, "utf-8")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_the_contracts_own_findings_count_when_the_contract_changed(
    small_project: Path, run_cli: RunCli
) -> None:
    """A layer added that matches no file is LG004 on the contract file, which changed."""
    config = small_project / "layerguard.yaml"
    with config.open("a", encoding="utf-8") as text:
        text.write('  - id: models\n    name: Models\n    paths: ["app/models/**/*.py"]\n')
    changed = run_cli(["check", "--output-format", "json", "--changed"])
    assert changed.exit_code == 1
    assert [(f[0], f[1], f[3]) for f in findings(changed)] == [("layerguard.yaml", 10, "LG004")]


def test_the_contracts_own_findings_count_when_a_change_to_the_tree_makes_them(
    small_project: Path, run_cli: RunCli
) -> None:
    """Deleting the last file of a layer empties it: LG004, although the contract is as it
    was."""
    (small_project / "app/services/billing.py").unlink()
    changed = run_cli(["check", "--output-format", "json", "--changed"])
    assert changed.exit_code == 1
    assert [(f[0], f[1], f[3]) for f in findings(changed)] == [("layerguard.yaml", 7, "LG004")]
    assert changed.stderr == (
        "layerguard: --changed: reporting on 1 file (0 changed since HEAD, 1 affected)\n"
    )


def test_the_project_may_be_a_subdirectory_of_the_repository(
    tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "service").mkdir()
    write_project(tmp_path / "service", FILES)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    (tmp_path / "service" / POLICY_MODEL).write_text("import os\n", "utf-8")
    (tmp_path / "elsewhere.py").write_text("import sqlalchemy\n", "utf-8")
    run = run_cli(["check", "--output-format", "json", "--changed"], cwd=tmp_path / "service")
    assert run.stderr == (
        "layerguard: --changed: reporting on 2 files (1 changed since HEAD, 1 affected)\n"
    )
    # The model changed; its importer (with its own old commit) is affected; elsewhere.py is
    # outside the project.
    assert [(path, code) for path, _, _, code, _ in findings(run)] == [(POLICY_DRIVER, "LG201")]


def test_outside_a_repository_or_with_a_bad_revision_exits_2(
    tmp_path: Path, project: Path, run_cli: RunCli
) -> None:
    # (tmp_path is the project: the pytest temporary directories are not in a repository)
    bad = run_cli(["check", "--changed", "--base", "no-such-branch"])
    assert bad.exit_code == 2
    assert bad.stderr == (
        "layerguard: --changed: unknown revision 'no-such-branch' for --base: no such revision\n"
    )
    tree = run_cli(["check", "--changed", "--base", "HEAD^{tree}"])
    assert (tree.exit_code, tree.stderr) == (
        2,
        "layerguard: --changed: unknown revision 'HEAD^{tree}' for --base: it names no commit\n",
    )
    (project / ".git").rename(tmp_path.parent / f"{tmp_path.name}.git")  # no repository now
    run = run_cli(["check", "--changed"])
    assert run.exit_code == 2
    assert run.stderr == (
        f"layerguard: --changed: {project} is not inside a git work tree; --changed needs one\n"
    )


def test_paths_with_spaces_and_non_ascii_names(
    project: Path, base_findings: list[Finding], run_cli: RunCli
) -> None:
    renamed = "literature/incidents/incident driver — v2.md"
    git(project, "mv", INCIDENT_DRIVER_CARD, renamed)
    edit(project, renamed, "Transaction:     None", "Transaction:     Flush only")
    scope = assert_equivalent(project, run_cli, base_findings)
    assert scope.deleted == {INCIDENT_DRIVER_CARD}
    assert {renamed, INCIDENT_DRIVER, POLICY_ENGINE, INCIDENT_ENGINE} <= scope.files


def test_a_card_of_a_file_the_contract_excludes(project: Path, run_cli: RunCli) -> None:
    migration = "backend/app/migrations/0001_policies.py"
    migration_card = "literature/migrations/0001_policies.md"
    (project / migration).parent.mkdir(parents=True)
    (project / migration).write_text("def upgrade():\n    pass\n", "utf-8")
    (project / migration_card).parent.mkdir(parents=True)
    (project / migration_card).write_text(card(migration, "L7 — Models", [], [], "None"), "utf-8")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "a migration and its card")
    base = findings(run_cli(["check", "--output-format", "json"]))
    assert migration_card not in {path for path, *_ in base}  # not stale: the file exists

    # An unrelated edit: the card is not affected, though the base revision's index is
    # rebuilt from git (it must know the migration exists there too).
    edit(project, INCIDENTS_ROUTE, '"incidents.list"', '"incidents.list"  # same')
    scope = assert_equivalent(project, run_cli, base)
    assert migration_card not in scope.files

    # Deleting the excluded file makes its card stale: the card is affected.
    (project / migration).unlink()
    scope = assert_equivalent(project, run_cli, base)
    assert scope.reasons[migration_card] == f"describes {migration}, which changed"


def test_a_shallow_clone_says_it_is_one_and_how_to_deepen_it(
    project: Path, tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli
) -> None:
    """Issue 11, item 10: `--base HEAD~1` in a shallow clone said "no such commit"."""
    (project / INCIDENTS_ROUTE).write_text((project / INCIDENTS_ROUTE).read_text() + "\n")
    git(project, "commit", "-q", "-am", "second")
    clone = tmp_path_factory.mktemp("shallow") / "clone"
    git(project, "clone", "-q", "--depth", "1", f"file://{project}", str(clone))
    run = run_cli(["check", "--changed", "--base", "HEAD~1"], cwd=clone)
    assert run.exit_code == 2
    assert run.stderr == (
        "layerguard: --changed: unknown revision 'HEAD~1' for --base: this is a shallow clone, "
        "and its history may stop before 'HEAD~1'; fetch more history (`git fetch "
        "--deepen=100`, or `git fetch --unshallow`; with GitHub's actions/checkout, "
        "`fetch-depth: 0`)\n"
    )
    git(clone, "fetch", "-q", "--deepen=1")
    deepened = run_cli(["check", "--changed", "--base", "HEAD~1"], cwd=clone)
    assert (deepened.exit_code, deepened.stderr) == (
        0,
        "layerguard: --changed: reporting on 4 files (1 changed since HEAD~1, 3 affected)\n",
    )


@pytest.mark.parametrize(
    ("base", "why"),
    [
        ("nonexist", "no such revision"),
        ("nonexist~1", "no such revision"),
        ("main~1", "this is a shallow clone, and its history may stop before 'main~1'; "),
        ("0123abcd", "this is a shallow clone, and its history may stop before '0123abcd'; "),
        (
            "origin/feature",
            "this is a shallow clone, which fetched one branch; fetch 'feature' from 'origin' "
            "(`git fetch origin feature:refs/remotes/origin/feature`)",
        ),
    ],
)
def test_a_shallow_clone_is_blamed_only_where_it_can_be_the_reason(
    project: Path, tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli, base: str, why: str
) -> None:
    """`--base nonexist` in a shallow clone said its history may stop before 'nonexist'."""
    git(project, "branch", "feature")
    (project / INCIDENTS_ROUTE).write_text((project / INCIDENTS_ROUTE).read_text() + "\n")
    git(project, "commit", "-q", "-am", "second")
    clone = tmp_path_factory.mktemp("shallow") / "clone"
    git(project, "clone", "-q", "--depth", "1", f"file://{project}", str(clone))
    run = run_cli(["check", "--changed", "--base", base], cwd=clone)
    assert run.exit_code == 2
    prefix = f"layerguard: --changed: unknown revision '{base}' for --base: "
    said = run.stderr.removeprefix(prefix)
    assert said.startswith(why), run.stderr
    if why.endswith("; "):
        assert said == f"{why}{FETCH_MORE}\n"
    elif base == "origin/feature":
        git(clone, "fetch", "-q", "origin", "feature:refs/remotes/origin/feature")
        with pytest.warns(LayerguardWarning, match="no common ancestor with HEAD"):
            fetched = run_cli(["check", "--changed", "--base", base], cwd=clone)
        assert fetched.exit_code in (0, 1), fetched.stderr
        assert "unknown revision" not in fetched.stderr
    else:
        assert said == f"{why}\n"
