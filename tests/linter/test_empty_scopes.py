"""LG004: a layer, a layer's glob, a card glob or an owner pattern that matches no file, reported
at its line of the contract by the real `layerguard check`."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Run, write_project

Check = Callable[..., Run]

CONTRACT = """\
version: 1
source_roots: [src]
layers:
  - id: api
    name: Routes
    paths: ["src/app/api/**", "src/app/routers/**"]
  - id: services
    name: Services
    paths: ["src/app/services/**"]
    forbid:
      layers: [api]
  - id: models
    name: Models
    paths: ["src/app/models.py"]
    forbid:
      layers: [api, services]
transactions:
  owners: [services]
  session_creators: [app.core.db]
"""

FILES = {
    "src/app/__init__.py": "",
    "src/app/api/items.py": "from app.models import Item\n",
    "src/app/models.py": "class Item: ...\n",
    "src/app/core/db.py": "",
}


def check(tmp_path: Path, run_cli: Check, contract: str, files: dict[str, str]) -> Run:
    write_project(tmp_path, files, textwrap.dedent(contract))
    return run_cli(["check", "--no-cache"])


def test_an_empty_layer_and_an_unmatched_glob_are_warned_about(
    tmp_path: Path, run_cli: Check
) -> None:
    run = check(tmp_path, run_cli, CONTRACT, FILES)
    assert run.exit_code == 1
    assert run.stdout.splitlines()[:-1] == [
        "layerguard.yaml:6:1: LG004 'src/app/routers/**' matches no file of layer 'api'; fix it "
        "or remove it",
        "layerguard.yaml:7:1: LG004 layer 'services' matches no file; fix its `paths`/`modules` "
        "(`layerguard layers` lists what each layer holds), or remove the layer",
    ]


def test_json_gives_the_warning_level(tmp_path: Path, run_cli: Check) -> None:
    write_project(tmp_path, FILES, CONTRACT)
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    levels = {(f["code"], f["line"], f["severity"]) for f in run.report["findings"]}
    assert levels == {("LG004", 6, "warning"), ("LG004", 7, "warning")}


def test_a_full_tree_gives_nothing(tmp_path: Path, run_cli: Check) -> None:
    files = {
        **FILES,
        "src/app/routers/health.py": "",
        "src/app/services/items.py": "from app.models import Item\n",
    }
    run = check(tmp_path, run_cli, CONTRACT, files)
    assert (run.exit_code, run.stdout.splitlines()[:-1]) == (0, [])


def test_an_exclude_that_empties_a_layer_is_reported(tmp_path: Path, run_cli: Check) -> None:
    contract = CONTRACT.replace(
        'paths: ["src/app/models.py"]\n',
        'paths: ["src/app/models.py"]\n    exclude: ["src/app/*.py"]\n',
    )
    files = {**FILES, "src/app/routers/health.py": "", "src/app/services/items.py": ""}
    run = check(tmp_path, run_cli, contract, files)
    assert run.stdout.splitlines()[:-1] == [
        "layerguard.yaml:12:1: LG004 layer 'models' matches no file; fix its `paths`/`modules` "
        "(`layerguard layers` lists what each layer holds), or remove the layer",
    ]


def test_files_outside_the_checked_tree_do_not_count(tmp_path: Path, run_cli: Check) -> None:
    """Files under the top-level `exclude` are never checked: a layer of only those is empty."""
    contract = CONTRACT.replace(
        "source_roots: [src]\n", 'source_roots: [src]\nexclude: ["**/services/**"]\n'
    )
    files = {**FILES, "src/app/routers/health.py": "", "src/app/services/items.py": ""}
    run = check(tmp_path, run_cli, contract, files)
    assert [line.split(": LG004 ")[0] for line in run.stdout.splitlines()[:-1]] == [
        "layerguard.yaml:8:1"
    ]


def test_card_globs_and_owner_patterns_that_match_nothing(tmp_path: Path, run_cli: Check) -> None:
    contract = CONTRACT.replace("app.core.db", "app.core.database") + (
        'cards:\n  paths: ["docs/cards/**/*.md"]\n'
    )
    files = {**FILES, "src/app/routers/health.py": "", "src/app/services/items.py": ""}
    run = check(tmp_path, run_cli, contract, files)
    assert run.stdout.splitlines()[:-1] == [
        "layerguard.yaml:19:1: LG004 'app.core.database' matches no module of the project; fix "
        "it or remove it",
        "layerguard.yaml:21:1: LG004 'docs/cards/**/*.md' matches no card; fix the glob, or "
        "write the cards (`layerguard cards generate`)",
    ]


def test_the_rule_can_be_turned_off_for_a_project(tmp_path: Path, run_cli: Check) -> None:
    run = check(tmp_path, run_cli, CONTRACT + "rules:\n  ignore: [LG004]\n", FILES)
    assert (run.exit_code, run.stdout.splitlines()[:-1]) == (0, [])


def test_a_second_run_from_the_cache_reports_the_same(tmp_path: Path, run_cli: Check) -> None:
    write_project(tmp_path, FILES, CONTRACT)
    first = run_cli(["check"])
    second = run_cli(["check", "--statistics"])
    assert "parsed: 0" in second.stdout
    assert first.stdout.splitlines()[:2] == second.stdout.splitlines()[:2]
