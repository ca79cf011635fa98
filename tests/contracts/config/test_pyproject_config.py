"""`[tool.layerguard]` in pyproject.toml: the same validation as layerguard.yaml, every problem
at its TOML line, found by walking up as ruff does."""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import (
    contracts_in,
    find_config,
    load_config,
    parse_config,
)
from layerguard.contracts.config.toml_lines import locate
from tests.helpers import Run

Problems = list[tuple[int, str, str]]


def toml_problems(tmp_path: Path, text: str) -> Problems:
    path = tmp_path / "pyproject.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [(p.line, p.key_path, p.message) for p in caught.value.problems]


def yaml_problems(tmp_path: Path, text: str) -> Problems:
    path = tmp_path / "layerguard.yaml"
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text).lstrip("\n"), path)
    return [(p.line, p.key_path, p.message) for p in caught.value.problems]


# --- the locator ----------------------------------------------------------------------------


def test_locator_on_nested_tables_arrays_of_tables_and_inline_tables() -> None:
    text = textwrap.dedent(
        """\
        # a comment with [brackets] and "quotes" = 1
        [project]
        name = "x"
        description = \"\"\"two
        lines with ]] and [[tool.layerguard]] and \\\""" inside\"\"\"\"

        [tool.layerguard]
        version = 1
        "source_roots" = [
          "backend",  # the app
          'src',
        ]
        placeholders.domain.exclude = ['hoc_spine']

        [[tool.layerguard.layers]]
        id = "L2"
        forbid = { layers = ["L7"], modules = [ "sqlalchemy" ] }

        [[tool.layerguard.layers.allow]]
        module = 'app.{domain}.x'

        [[tool.layerguard.layers]]
        id = "L7"
        [tool.layerguard.layers.forbid]
        layers = [["nested", "array"], "x"]

        [tool.layerguard.transactions]
        "dotted.key" = 1979-05-27 07:32:00Z
        """
    )
    lines = locate(text)
    tool = ("tool", "layerguard")
    assert {k[2:]: v for k, v in lines.items() if k[:2] == tool} == {
        (): 7,
        ("version",): 8,
        ("source_roots",): 9,
        ("source_roots", 0): 10,
        ("source_roots", 1): 11,
        ("placeholders",): 13,
        ("placeholders", "domain"): 13,
        ("placeholders", "domain", "exclude"): 13,
        ("placeholders", "domain", "exclude", 0): 13,
        ("layers",): 15,
        ("layers", 0): 15,
        ("layers", 0, "id"): 16,
        ("layers", 0, "forbid"): 17,
        ("layers", 0, "forbid", "layers"): 17,
        ("layers", 0, "forbid", "layers", 0): 17,
        ("layers", 0, "forbid", "modules"): 17,
        ("layers", 0, "forbid", "modules", 0): 17,
        ("layers", 0, "allow"): 19,
        ("layers", 0, "allow", 0): 19,
        ("layers", 0, "allow", 0, "module"): 20,
        ("layers", 1): 22,
        ("layers", 1, "id"): 23,
        ("layers", 1, "forbid"): 24,
        ("layers", 1, "forbid", "layers"): 25,
        ("layers", 1, "forbid", "layers", 0): 25,
        ("layers", 1, "forbid", "layers", 0, 0): 25,
        ("layers", 1, "forbid", "layers", 0, 1): 25,
        ("layers", 1, "forbid", "layers", 1): 25,
        ("transactions",): 27,
        ("transactions", "dotted.key"): 28,
    }
    assert lines[("project", "description")] == 4


def test_a_super_table_after_its_sub_table_takes_its_own_header_line() -> None:
    lines = locate('[tool.layerguard.cards]\npaths = ["a"]\n\n[tool.layerguard]\nversion = 1\n')
    assert lines[("tool", "layerguard")] == 4
    assert lines[("tool", "layerguard", "cards", "paths")] == 2


def test_the_locator_gives_up_quietly_on_text_it_does_not_expect() -> None:
    assert locate("a = 1\n= broken\n") == {("a",): 1}
    assert locate("[" * 100_000) == {}


# --- the same validation as the YAML file ---------------------------------------------------

CASES = [
    pytest.param(
        """
        version: 2
        """,
        """
        [tool.layerguard]
        version = 2
        """,
        [(2, "version", "unsupported version 2 (supported: 1)")],
        id="version",
    ),
    pytest.param(
        """
        version: 1
        layers:
          - id: api
            name: API
            paths: ["app/api/**"]
            forbid:
              layers: [modles]
          - id: models
            name: Models
            paths: ["app/models/**"]
            requires_cards: "yes"
            colour: 1
        transactions:
          owners: [api, 3]
        """,
        """
        [tool]
        other = 1

        [tool.layerguard]
        version = 1

        [[tool.layerguard.layers]]
        id = "api"
        name = "API"
        paths = ["app/api/**"]
        forbid = { layers = ["modles"] }

        [[tool.layerguard.layers]]
        id = "models"
        name = "Models"
        paths = ["app/models/**"]
        requires_cards = "yes"
        colour = 1

        [tool.layerguard.transactions]
        owners = [
            "api",
            3,
        ]
        """,
        [
            (11, "layers[0].forbid.layers[0]", "unknown layer id 'modles'"),
            (17, "layers[1].requires_cards", "expected a boolean, got a string"),
            (18, "layers[1].colour", "unknown key 'colour'. Allowed keys: id, name, paths"),
            (23, "transactions.owners[1]", "expected a string, got an integer"),
        ],
        id="types-keys-references",
    ),
    pytest.param(
        """
        version: 1
        layers:
          - id: a
            name: A
            paths: ["app/**"]
          - name: B
            paths: ["lib/**"]
        """,
        """
        [tool.layerguard]
        version = 1
        layers = [
            { id = "a", name = "A", paths = ["app/**"] },
            { name = "B", paths = ["lib/**"] },
        ]
        """,
        [(5, "layers[1].id", "missing required key")],
        id="inline-array-of-tables",
    ),
    pytest.param(
        """
        version: 1
        layers:
          - id: app
            name: App
            paths: ["app/**"]
          - id: core
            name: Core
            paths: ["app/core/**"]
        """,
        """
        [tool.layerguard]
        version = 1

        [[tool.layerguard.layers]]
        id = "app"
        name = "App"
        paths = ["app/**"]

        [[tool.layerguard.layers]]
        id = "core"
        name = "Core"
        paths = ["app/core/**"]
        """,
        [(12, "layers[1].paths[0]", "layer 'core' overlaps layer 'app'")],
        id="overlap",
    ),
    pytest.param(
        """
        version: 1
        placeholders:
          domain: {values: [a, a], exclude: 3}
        exclude: ["**/*.py/**"]
        """,
        """
        [tool.layerguard]
        version = 1
        exclude = ["**/*.py/**"]

        [tool.layerguard.placeholders.domain]
        values = ["a", "a"]
        exclude = 3
        """,
        [
            (3, "exclude[0]", "'*.py' names a Python file"),
            (5, "placeholders.domain", "placeholder '{domain}' is never used"),
            (6, "placeholders.domain.values[1]", "'a' is listed twice"),
            (7, "placeholders.domain.exclude", "expected a list, got an integer"),
        ],
        id="nested-tables",
    ),
]


@pytest.mark.parametrize(("yaml_text", "toml_text", "expected"), CASES)
def test_toml_problems_are_the_yaml_problems_at_toml_lines(
    tmp_path: Path, yaml_text: str, toml_text: str, expected: Problems
) -> None:
    from_toml = toml_problems(tmp_path, toml_text)
    from_yaml = yaml_problems(tmp_path, yaml_text)

    def same(problems: Problems) -> list[tuple[str, str]]:
        """Key paths and messages; a message that cites another line cites it in its file."""
        return sorted((k, re.sub(r"line \d+", "line N", m)) for _, k, m in problems)

    assert same(from_toml) == same(from_yaml)
    assert len(from_toml) == len(expected)
    for (line, key_path, message), (want_line, want_key, fragment) in zip(
        from_toml, expected, strict=True
    ):
        assert (line, key_path) == (want_line, want_key)
        assert fragment in message


def test_dates_and_floats_are_named_as_in_yaml(tmp_path: Path) -> None:
    assert toml_problems(
        tmp_path,
        """
        [tool.layerguard]
        version = 1.0
        source_roots = [1979-05-27]
        """,
    ) == [
        (2, "version", "expected an integer, got a number."),
        (3, "source_roots[0]", "expected a string, got a date."),
    ]


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    assert toml_problems(tmp_path, '[tool.layerguard]\nversion = 1\nsource_roots = ["a"\n') == [
        (3, "", "invalid TOML: Unclosed array.")
    ]
    assert toml_problems(tmp_path, "[tool.layerguard]\nversion = = 1\n") == [
        (2, "", "invalid TOML: Invalid value.")
    ]


def test_no_table_and_a_table_of_the_wrong_type(tmp_path: Path) -> None:
    assert toml_problems(tmp_path, '[project]\nname = "x"\n') == [
        (0, "", "no [tool.layerguard] table; `layerguard init --pyproject` writes one.")
    ]
    assert toml_problems(tmp_path, "[tool]\nlayerguard = 3\n") == [
        (2, "", "[tool.layerguard] must be a table, got an integer.")
    ]


def test_hostile_toml_ends_in_a_problem(tmp_path: Path) -> None:
    deep = "[tool.layerguard]\nversion = 1\nexclude = " + "[" * 50_000 + "]" * 50_000 + "\n"
    assert toml_problems(tmp_path, deep) == [(0, "", "invalid TOML: nested too deeply to read.")]
    binary = tmp_path / "pyproject.toml"
    binary.write_bytes(b"[tool.layerguard]\n\xff\xfe\x00\x01")
    with pytest.raises(ConfigError) as caught:
        load_config(binary)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (0, "not UTF-8 text: invalid start byte.")
    ]


# --- discovery ------------------------------------------------------------------------------

TABLE = '[tool.layerguard]\nversion = 1\nsource_roots = ["."]\n'


def test_discovery_walks_up_to_the_nearest_contract(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(TABLE, encoding="utf-8")
    nested = tmp_path / "pkg" / "sub"
    nested.mkdir(parents=True)
    # A pyproject.toml without the table is not a contract: the walk goes on past it.
    (tmp_path / "pkg" / "pyproject.toml").write_text('[project]\nname = "layerguard-x"\n')
    assert find_config(nested) == tmp_path / "pyproject.toml"
    (tmp_path / "pkg" / "layerguard.yaml").write_text("version: 1\n")
    assert find_config(nested) == tmp_path / "pkg" / "layerguard.yaml"


def test_both_contracts_in_one_directory_is_an_error_naming_both(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(TABLE, encoding="utf-8")
    (tmp_path / "layerguard.yaml").write_text("version: 1\n")
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'layerguard.yaml'}: LG003 pyproject.toml in the same directory also holds "
        "a contract ([tool.layerguard]); keep one of the two, or choose one with --config."
    )


def test_a_broken_pyproject_counts_only_when_it_looks_like_a_contract(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[project\n# layerguard is used here\n")
    assert contracts_in(tmp_path) == []
    pyproject.write_text("[tool.layerguard]\nversion = \n")
    assert contracts_in(tmp_path) == [pyproject]


def test_a_fifo_named_pyproject_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pyproject.toml")
    (tmp_path / "layerguard.yaml").write_text("version: 1\n")
    assert find_config(tmp_path) == tmp_path / "layerguard.yaml"


# --- through the command line ---------------------------------------------------------------

CONTRACT = """\
[project]
name = "demo"

[tool.layerguard]
version = 1
source_roots = ["src"]

[[tool.layerguard.layers]]
id = "api"
name = "API"
paths = ["src/app/api/**"]

[[tool.layerguard.layers]]
id = "models"
name = "Models"
paths = ["src/app/models.py"]
forbid = { layers = ["api"] }

[[tool.layerguard.layers]]
id = "services"
name = "Services"
paths = ["src/app/services/**"]
"""


def project(root: Path) -> None:
    for path, text in {
        "src/app/__init__.py": "",
        "src/app/api/items.py": "from app.models import Item\n",
        "src/app/models.py": "from app.api.items import router\n",
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    (root / "pyproject.toml").write_text(CONTRACT, encoding="utf-8")


def test_check_reads_the_pyproject_table(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    project(tmp_path)
    (tmp_path / "src" / "app" / "api" / "deep").mkdir()
    run = run_cli(["check", "--no-cache"], cwd=tmp_path / "src" / "app" / "api" / "deep")
    assert run.exit_code == 1
    empty_layer, import_finding = run.stdout.splitlines()[:-1]
    assert empty_layer == (
        "../../../../pyproject.toml:19:1: LG004 layer 'services' matches no file; fix its "
        "`paths`/`modules` (`layerguard layers` lists what each layer holds), or remove the "
        "layer"
    )
    assert import_finding.startswith("../../models.py:1:1: LG101 ")


def test_config_option_takes_a_pyproject(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    project(tmp_path)
    (tmp_path / "layerguard.yaml").write_text("version: 1\nsource_roots: [src]\n")
    assert run_cli(["check", "--no-cache"]).exit_code == 2
    run = run_cli(["check", "--no-cache", "--config", "pyproject.toml", "--output-format", "json"])
    assert run.exit_code == 1
    assert run.findings() == [("LG004", "pyproject.toml", 19), ("LG101", "src/app/models.py", 1)]
    run = run_cli(["check", "--no-cache", "--config", "layerguard.yaml"])
    assert run.exit_code == 0


def test_both_contracts_exit_2_naming_both(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    project(tmp_path)
    (tmp_path / "layerguard.yaml").write_text("version: 1\n")
    run = run_cli(["check"])
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"{tmp_path / 'layerguard.yaml'}: LG003 pyproject.toml in the same directory also holds "
        "a contract ([tool.layerguard]); keep one of the two, or choose one with --config.\n"
    )


def test_an_invalid_table_exits_2_with_its_lines(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    project(tmp_path)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(CONTRACT.replace('layers = ["api"]', 'layers = ["apj"]'))
    run = run_cli(["check"])
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"{pyproject}:17: LG003 layers[1].forbid.layers[0]: unknown layer id 'apj'; did you "
        "mean 'api'? Layer ids: api, models, services.\n"
    )


def test_a_run_parses_the_pyproject_once(
    tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding the contract and loading it read the same document: one TOML parse."""
    import tomllib

    from layerguard.contracts.config.pyproject import toml_document

    project(tmp_path)
    parsed: list[int] = []
    loads = tomllib.loads

    def counted(text: str) -> dict[str, object]:
        parsed.append(len(text))
        return loads(text)

    monkeypatch.setattr(tomllib, "loads", counted)
    toml_document.cache_clear()  # another test may have parsed the same text
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert run.findings() == [("LG004", "pyproject.toml", 19), ("LG101", "src/app/models.py", 1)]
    assert parsed == [len(CONTRACT)]
