"""`layerguard operations` through the real CLI: exact text, markdown and JSON catalogues,
agreement with `check`, exit codes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from layerguard._version import __version__
from tests.helpers import Run, write_project
from tests.linter.operations_fixture import ACCEPTANCE, INCIDENTS, POLICIES, ROUTE

SMALL_CONFIG = """\
version: 1
source_roots: [src]
exclude: ["**/tests/**"]
layers:
  - id: api
    name: API
    paths: ["src/app/api/**"]
  - id: handlers
    name: Handlers
    paths: ["src/app/handlers/**"]
registry:
  handler_layers: [handlers]
"""

SMALL = {
    "src/app/handlers/policies.py": """\
class PolicyQueryHandler:
    async def execute(self, ctx):
        return None


def register(registry):
    registry.register("policies.query", PolicyQueryHandler())
    registry.register("reports.build", build_report_handler())
""",
    "src/app/handlers/incidents.py": """\
from app.handlers.policies import PolicyQueryHandler


def register(registry):
    registry.register("policies.query", PolicyQueryHandler.create())
""",
    "src/app/api/policies.py": """\
async def list_policies(registry, ctx):
    return await registry.execute("policies.query", ctx)


async def delete_policy(registry, ctx):
    return await registry.execute(
        "policies.delete",
        ctx,
    )


async def anything(registry, ctx, name):
    registry.get_handler("policies.query")
    return await registry.execute(name, ctx)
""",
    # Excluded by the config: not in the catalogue.
    "src/app/api/tests/test_api.py": """\
async def test_hidden(registry, ctx):
    await registry.execute("hidden.op", ctx)
""",
    "src/app/main.py": "from app.config import NAME, handler\n\nregistry.register(NAME, handler)\n",
}


def operations(run_cli: Callable[..., Run], *args: str) -> Run:
    run = run_cli(["operations", *args])
    assert run.exit_code == 0, run.stderr
    return run


def test_text_is_a_table_sorted_by_operation_then_dynamic_sites_and_a_summary(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, SMALL, SMALL_CONFIG)
    assert operations(run_cli).stdout == (
        "OPERATION        HANDLER                            DEFINED AT                         "
        "            CALLED FROM\n"
        "policies.delete  NOT REGISTERED                     -                                  "
        "            src/app/api/policies.py:6\n"
        "policies.query   PolicyQueryHandler                 src/app/handlers/policies.py:1     "
        "            src/app/api/policies.py:2\n"
        "                 PolicyQueryHandler (duplicate)     src/app/handlers/policies.py:1     "
        "            src/app/api/policies.py:13 (lookup)\n"
        "reports.build    build_report_handler (unresolved)  src/app/handlers/policies.py:8 "
        "(registration)  (never executed)\n"
        "\n"
        "Dynamic call sites (the operation name is computed; not checked):\n"
        "  execute   src/app/api/policies.py:14  registry.execute in anything\n"
        "  register  src/app/main.py:3  registry.register at module level\n"
        "\n"
        "3 operations: 2 registered, 1 not registered; 1 registered more than once; "
        "3 call sites, 2 dynamic (in 4 files).\n"
    )


def test_markdown_is_a_table_for_docs(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, SMALL, SMALL_CONFIG)
    assert operations(run_cli, "--output-format", "markdown").stdout == (
        "| Operation | Handler | Defined at | Dispatched from |\n"
        "| --- | --- | --- | --- |\n"
        "| `policies.delete` | **not registered** |  | `src/app/api/policies.py:6` |\n"
        "| `policies.query` | `PolicyQueryHandler`<br>`PolicyQueryHandler` (duplicate) "
        "| `src/app/handlers/policies.py:1`<br>`src/app/handlers/policies.py:1` "
        "| `src/app/api/policies.py:2`<br>`src/app/api/policies.py:13` (lookup) |\n"
        "| `reports.build` | `build_report_handler` (unresolved) "
        "| `src/app/handlers/policies.py:8` (registration) | _never executed_ |\n"
        "\n"
        "**Dynamic call sites** (the operation name is computed; not checked):\n"
        "\n"
        "- `src/app/api/policies.py:14`: `registry.execute` in `anything`\n"
        "- `src/app/main.py:3`: `registry.register` at module level\n"
    )


def site(path: str, line: int, col: int, callee: str, symbol: str | None) -> dict[str, object]:
    return {"path": path, "line": line, "col": col, "callee": callee, "symbol": symbol}


def test_json_follows_the_documented_schema(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, SMALL, SMALL_CONFIG)
    handler = {
        "class": "PolicyQueryHandler",
        "qualified_name": "app.handlers.policies.PolicyQueryHandler",
        "path": "src/app/handlers/policies.py",
        "line": 1,
        "col": 7,
    }
    register = "registry.register"
    assert json.loads(operations(run_cli, "--output-format", "json").stdout) == {
        "schema_version": 1,
        "tool": {"name": "layerguard", "version": __version__},
        "project_root": str(tmp_path),
        "summary": {
            "operations": 3,
            "registered": 2,
            "unregistered": 1,
            "duplicated": 1,
            "dispatch_sites": 2,
            "lookup_sites": 1,
            "dynamic_sites": 2,
            "files": 4,
            "unparsed_files": 0,
        },
        "operations": [
            {
                "name": "policies.delete",
                "registered": False,
                "duplicated": False,
                "handlers": [],
                "dispatches": [
                    site("src/app/api/policies.py", 6, 18, "registry.execute", "delete_policy")
                ],
                "lookups": [],
            },
            {
                "name": "policies.query",
                "registered": True,
                "duplicated": True,
                "handlers": [
                    {
                        **handler,
                        "expression": "PolicyQueryHandler.create",
                        "registration": site(
                            "src/app/handlers/incidents.py", 5, 5, register, "register"
                        ),
                    },
                    {
                        **handler,
                        "expression": "PolicyQueryHandler",
                        "registration": site(
                            "src/app/handlers/policies.py", 7, 5, register, "register"
                        ),
                    },
                ],
                "dispatches": [
                    site("src/app/api/policies.py", 2, 18, "registry.execute", "list_policies")
                ],
                "lookups": [
                    site("src/app/api/policies.py", 13, 5, "registry.get_handler", "anything")
                ],
            },
            {
                "name": "reports.build",
                "registered": True,
                "duplicated": False,
                "handlers": [
                    {
                        "class": None,
                        "qualified_name": None,
                        "path": None,
                        "line": None,
                        "col": None,
                        "expression": "build_report_handler",
                        "registration": site(
                            "src/app/handlers/policies.py", 8, 5, register, "register"
                        ),
                    }
                ],
                "dispatches": [],
                "lookups": [],
            },
        ],
        "dynamic": [
            {
                "kind": "execute",
                **site("src/app/api/policies.py", 14, 18, "registry.execute", "anything"),
            },
            {"kind": "register", **site("src/app/main.py", 3, 1, register, None)},
        ],
        "unparsed": [],
    }


def test_the_acceptance_project_agrees_with_check(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, ACCEPTANCE)
    data = json.loads(operations(run_cli, "--output-format", "json").stdout)
    by_name = {op["name"]: op for op in data["operations"]}
    assert list(by_name) == [
        "incidents.list",
        "policies.delete",
        "policies.query",
        "policies.update",
    ]
    assert [(op["name"], op["registered"]) for op in data["operations"]] == [
        ("incidents.list", True),
        ("policies.delete", False),
        ("policies.query", True),
        ("policies.update", True),
    ]
    assert [(d["path"], d["line"]) for d in by_name["policies.update"]["dispatches"]] == [
        (ROUTE, 11)
    ]
    assert [(h["class"], h["path"], h["line"]) for h in by_name["policies.update"]["handlers"]] == [
        ("PolicyUpdateHandler", POLICIES, 6)
    ]
    assert by_name["incidents.list"]["handlers"][0]["path"] == INCIDENTS
    assert data["summary"]["dispatch_sites"] == 4  # the excluded fifth one is not in the project
    check = run_cli(["check", "--output-format", "json"])
    unregistered = [
        (d["path"], d["line"])
        for op in data["operations"]
        if not op["registered"]
        for d in op["dispatches"]
    ]
    assert [(path, line) for _, path, line in check.findings("LG401")] == unregistered


def test_a_project_without_registry_calls(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {"src/app/api/x.py": "x = 1\n"}, SMALL_CONFIG)
    assert operations(run_cli).stdout == "No operations: no registry calls in 1 file.\n"
    assert operations(run_cli, "--output-format", "markdown").stdout == "_No operations._\n"
    data = json.loads(operations(run_cli, "--output-format", "json").stdout)
    assert (data["operations"], data["dynamic"], data["summary"]["files"]) == ([], [], 1)


def test_a_file_that_does_not_parse_is_named_on_stderr(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {**SMALL, "src/app/api/broken.py": "def f(:\n"}, SMALL_CONFIG)
    run = operations(run_cli, "--output-format", "json")
    assert json.loads(run.stdout)["unparsed"] == ["src/app/api/broken.py"]
    assert run.stderr == (
        "layerguard: warning: 1 file(s) do not parse, so their registry calls are missing: "
        "src/app/api/broken.py (`layerguard check` says why)\n"
    )


def test_facts_come_from_the_cache_check_uses(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, SMALL, SMALL_CONFIG)
    uncached = operations(run_cli, "--no-cache")
    assert not (tmp_path / ".layerguard_cache").exists()
    assert run_cli(["check", "--output-format", "json"]).report["summary"]["parsed"] == 4
    assert operations(run_cli).stdout == uncached.stdout
    assert run_cli(["check", "--output-format", "json"]).report["summary"]["cached"] == 4


def test_usage_and_configuration_errors_exit_2(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    assert run_cli(["operations"]).exit_code == 2  # no layerguard.yaml anywhere
    write_project(tmp_path, SMALL, SMALL_CONFIG.replace("[handlers]", "[handler]"))
    run = run_cli(["operations"])
    assert run.exit_code == 2
    assert "LG003 registry.handler_layers[0]: unknown layer id 'handler'" in run.stderr
    assert run.stdout == ""
    write_project(tmp_path, {}, SMALL_CONFIG.replace("[src]", "[source]"))
    run = run_cli(["operations"])
    assert (run.exit_code, run.stdout) == (2, "")
    assert "source_roots[0]: 'source' is not a directory" in run.stderr
    write_project(tmp_path, {}, SMALL_CONFIG)
    assert run_cli(["operations", "--output-format", "yaml"]).exit_code == 2


def test_help_names_the_formats(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    assert "operations" in run_cli(["--help"]).stdout
    text = run_cli(["operations", "--help"]).stdout
    assert "[text|json|markdown]" in text
    assert "Exit status: 0, or 2" in text


DOCS = Path(__file__).parents[2] / "docs" / "operations.md"


def documented_block(heading: str) -> str:
    section = DOCS.read_text(encoding="utf-8").split(f"\n### {heading}\n", 1)[1]
    found = re.search(r"\n```[a-z]*\n(.*?)```\n", section, re.S)
    assert found is not None, heading
    return found.group(1)


def test_the_documented_examples_are_real_output(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, SMALL, SMALL_CONFIG)
    assert documented_block("text") == operations(run_cli).stdout
    assert documented_block("markdown") == operations(run_cli, "--output-format", "markdown").stdout
    data = json.loads(operations(run_cli, "--output-format", "json").stdout)
    schema = DOCS.read_text(encoding="utf-8").split("\n### JSON", 1)[1].split("\n## ", 1)[0]
    schema = re.sub(r"```.*?```", "", schema, flags=re.S)  # the table and prose, not the sample
    documented = {
        word for span in re.findall(r"`([^`]+)`", schema) for word in re.findall(r"\w+", span)
    }
    assert json_keys(data) <= documented


def json_keys(value: object) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in json_keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in json_keys(item)}
    return set()


def test_names_from_the_code_are_escaped_on_one_line(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    """An operation name is a string of the analysed code: it may hold anything."""
    route = 'async def f(registry):\n    await registry.execute("a\\nb\\x1b[2J\\ud800", None)\n'
    write_project(tmp_path, {"src/app/api/routes.py": route}, SMALL_CONFIG)
    text = run_cli(["operations"])
    assert text.exit_code == 0
    assert text.stdout.splitlines()[1] == (
        "a\\nb\\x1b[2J\\ud800  NOT REGISTERED  -           src/app/api/routes.py:2"
    )
    markdown = run_cli(["operations", "--output-format", "markdown"])
    assert "| `a\\nb\\x1b[2J\\ud800` | **not registered** |" in markdown.stdout
    assert "\x1b" not in text.stdout + markdown.stdout
