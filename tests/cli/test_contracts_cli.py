"""Contracts through the real command line: the text report, `--changed` for a chain that a
change in another file completes, suppression comments, the baseline across line moves, and
`layerguard graph --contract`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Run, write_project

RunCli = Callable[..., Run]

CONFIG = """\
version: 1
source_roots: [src]
contracts:
  - id: no-db
    name: The API never reaches the database
    type: forbidden
    source_modules: [shop.api]
    forbidden_modules: [shop.db]
  - id: layered
    name: Layered
    type: layers
    layers: [shop.api, shop.service, shop.db]
"""
FILES = {
    "src/shop/__init__.py": "",
    "src/shop/api.py": "from shop import service\n",
    "src/shop/service.py": "from shop import helpers\n",
    "src/shop/helpers.py": "",
    "src/shop/db.py": "",
}
CHAIN = (
    "`shop.api` → `shop.service` (src/shop/api.py:1) → `shop.helpers` (src/shop/service.py:1) "
    "→ `shop.db` (src/shop/helpers.py:1)"
)


def git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_a_chain_is_reported_at_its_first_import(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, {**FILES, "src/shop/helpers.py": "import shop.db\n"}, CONFIG)
    run = run_cli(["check", "--no-cache"])
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0] == (
        "src/shop/api.py:1:1: LG112 forbidden contract 'The API never reaches the database': "
        f"`shop.api` must not import `shop.db`: {CHAIN}; remove an import of the chain, or "
        "accept it under the contract's `ignore_imports` with a reason"
    )
    assert len(run.stdout.splitlines()) == 2  # the layers contract: helpers is in no layer
    assert "LG111" not in run.stdout


def test_changed_reports_the_chain_a_change_elsewhere_completes(
    tmp_path: Path, run_cli: RunCli
) -> None:
    write_project(tmp_path, FILES, CONFIG)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "clean")
    (tmp_path / "src/shop/helpers.py").write_text("import shop.db\n", "utf-8")
    run = run_cli(["check", "--no-cache", "--changed", "--output-format", "json"])
    # The changed file has no finding; the file whose finding it creates does.
    assert run.findings() == [("LG112", "src/shop/api.py", 1)]


def test_a_comment_suppresses_a_chain_and_the_baseline_follows_it(
    tmp_path: Path, run_cli: RunCli
) -> None:
    files = {**FILES, "src/shop/helpers.py": "import shop.db\n"}
    write_project(tmp_path, files, CONFIG)
    assert run_cli(["baseline", "create"]).exit_code == 0
    # Lines move, the chain's middle changes: the entry (contract, importer, module reached)
    # still matches.
    (tmp_path / "src/shop/api.py").write_text("\n\nfrom shop import helpers\n", "utf-8")
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert (run.exit_code, run.findings()) == (0, [])
    (tmp_path / ".layerguard-baseline.json").unlink()
    (tmp_path / "src/shop/api.py").write_text(
        "from shop import helpers  # layerguard: ignore[LG112] the export job, until #12\n",
        "utf-8",
    )
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert (run.exit_code, run.findings()) == (0, [])


def test_graph_draws_a_contracts_chains(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, {**FILES, "src/shop/helpers.py": "import shop.db\n"}, CONFIG)
    text = run_cli(["graph", "--contract", "no-db", "--output-format", "text"])
    assert (text.exit_code, text.stdout) == (
        0,
        f"contract no-db: 1 broken chain\n\n`shop.api` must not import `shop.db`:\n- {CHAIN}\n",
    )
    mermaid = run_cli(["graph", "--contract", "no-db"])
    assert mermaid.stdout == (
        "flowchart LR\n"
        '    subgraph group_shop_api["shop.api"]\n'
        '        shop_api["shop.api"]\n'
        "    end\n"
        '    subgraph group_shop_db["shop.db"]\n'
        '        shop_db["shop.db"]\n'
        "    end\n"
        '    subgraph group__through_["(through)"]\n'
        '        shop_helpers["shop.helpers"]\n'
        '        shop_service["shop.service"]\n'
        "    end\n"
        '    shop_api -.->|"1 import, 1 forbidden"| shop_service\n'
        '    shop_helpers -->|"1 import"| shop_db\n'
        '    shop_service -->|"1 import"| shop_helpers\n'
        "    linkStyle 0 stroke:#d32f2f,stroke-width:2px,color:#d32f2f\n"
    )
    dot = run_cli(["graph", "--contract", "no-db", "--output-format", "dot"])
    assert dot.stdout.startswith('digraph "contract no-db" {')
    assert '"shop.api" -> "shop.service" [label="1 import, 1 forbidden", color=' in dot.stdout
    clean = run_cli(["graph", "--contract", "layered", "--output-format", "text"])
    assert clean.stdout == "contract layered: nothing to draw\n"


def test_graph_refuses_an_unknown_contract_or_one_with_a_layer(
    tmp_path: Path, run_cli: RunCli
) -> None:
    write_project(tmp_path, FILES, CONFIG)
    run = run_cli(["graph", "--contract", "nodb"])
    assert (run.exit_code, run.stderr) == (
        2,
        "layerguard: unknown contract 'nodb'; the contracts are: no-db, layered\n",
    )
    run = run_cli(["graph", "--contract", "no-db", "--layer", "api"])
    assert run.exit_code == 2
    assert "leave out --layer and --domain" in run.stderr


def test_a_contract_naming_a_missing_module_is_a_finding_and_the_rest_is_checked(
    tmp_path: Path, run_cli: RunCli
) -> None:
    config = CONFIG.replace("forbidden_modules: [shop.db]", "forbidden_modules: [shop.dbs]")
    write_project(tmp_path, {**FILES, "src/shop/helpers.py": "import shop.db\n"}, config)
    run = run_cli(["check", "--no-cache"])
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0] == (
        "layerguard.yaml:8:1: LG118 forbidden contract 'The API never reaches the database': "
        "`shop.dbs` matches no module of the project; fix the name or remove it"
    )
