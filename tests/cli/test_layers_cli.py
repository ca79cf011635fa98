"""`layerguard layers` and `check --show-files`: each layer's files and the files in none."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Run, write_project

CONTRACT = """\
version: 1
source_roots: [src]
placeholders:
  domain: {exclude: [database]}
layers:
  - id: views
    name: Views
    paths: ["src/dispatch/{domain}/**/views.py"]
  - id: flows
    name: Flows
    paths: ["src/dispatch/{domain}/**/flows.py"]
  - id: models
    name: Models
    paths: ["src/dispatch/{domain}/**/models.py"]
  - id: database
    name: Database
    modules: ["dispatch.database.**"]
"""

FILES = {
    "src/dispatch/__init__.py": "",
    "src/dispatch/main.py": "",
    "src/dispatch/incident/views.py": "",
    "src/dispatch/incident/flows.py": "",
    "src/dispatch/case/type/views.py": "",
    "src/dispatch/database/core.py": "",
}

LISTING = """\
views (Views): 2 files
  src/dispatch/case/type/views.py  [case]
  src/dispatch/incident/views.py  [incident]
flows (Flows): 1 file
  src/dispatch/incident/flows.py  [incident]
models (Models): no files
database (Database): 1 file
  src/dispatch/database/core.py
in no layer: 2 files
  src/dispatch/__init__.py
  src/dispatch/main.py
"""


def test_layers_lists_each_layers_files_and_the_rest(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, FILES, CONTRACT)
    run = run_cli(["layers"])
    assert (run.exit_code, run.stdout, run.stderr) == (0, LISTING, "")


def test_check_show_files_prints_the_same_and_checks_nothing(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {**FILES, "src/dispatch/broken.py": "def (:\n"}, CONTRACT)
    run = run_cli(["check", "--show-files"])
    assert run.exit_code == 0
    assert run.stdout == LISTING.replace(
        "in no layer: 2 files\n  src/dispatch/__init__.py\n",
        "in no layer: 3 files\n  src/dispatch/__init__.py\n  src/dispatch/broken.py\n",
    )
    assert not (tmp_path / ".layerguard_cache").exists()


def test_json_listing(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, FILES, CONTRACT)
    for args in (
        ["layers", "--output-format", "json"],
        ["check", "--show-files", "--output-format", "json"],
    ):
        data = json.loads(run_cli(args).stdout)
        assert data["layers"][0] == {
            "id": "views",
            "name": "Views",
            "files": [
                {"path": "src/dispatch/case/type/views.py", "domain": "case"},
                {"path": "src/dispatch/incident/views.py", "domain": "incident"},
            ],
        }
        assert data["layers"][2]["files"] == []
        assert data["unlayered"] == ["src/dispatch/__init__.py", "src/dispatch/main.py"]


def test_a_file_name_a_terminal_would_act_on_is_escaped(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {**FILES, "src/dispatch/odd\x1b[31m.py": ""}, CONTRACT)
    run = run_cli(["layers"])
    assert "  src/dispatch/odd\\x1b[31m.py\n" in run.stdout
    assert "\x1b" not in run.stdout


def test_a_contract_that_does_not_fit_the_tree_exits_2(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {"lib/x.py": ""}, CONTRACT)
    run = run_cli(["layers"])
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"{tmp_path / 'layerguard.yaml'}:2: LG003 source_roots[0]: 'src' is not a directory.\n"
    )
