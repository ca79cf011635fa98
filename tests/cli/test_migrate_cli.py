"""`layerguard migrate import-linter`: each of import-linter's configuration files, what it
translates and how, what it refuses (exit 2, with the file and line), and how it writes into
an existing layerguard.yaml."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.model import (
    AcyclicSiblingsContract,
    ContractLayer,
    ForbiddenContract,
    IgnoredImport,
    ImportScopeOverride,
    IndependenceContract,
    LayersContract,
    ProtectedContract,
)
from tests.helpers import Run, without_lines, write_project

RunCli = Callable[..., Run]

PACKAGE = {
    "src/shop/__init__.py": "",
    "src/shop/api.py": "from shop import service\n",
    "src/shop/service.py": "from shop import db\n",
    "src/shop/db.py": "",
    "src/shop/domains/orders.py": "",
    "src/shop/domains/billing.py": "",
}

INI = """\
[importlinter]
root_packages =
    shop
exclude_type_checking_imports = True

[importlinter:contract:layers]
name = Layered
type = layers
containers =
    shop
layers =
    api
    service | domains
    (helpers) : db
ignore_imports =
    # The API reads one constant of the database module.
    shop.api -> shop.db
    shop.** -> shop.db
unmatched_ignore_imports_alerting = warn
broken_contract_guidance =
    Move the code down a layer,
    or ask the architects.

[importlinter:contract:no-db]
name = The API never reaches the database
type = forbidden
source_modules = shop.api
forbidden_modules =
    shop.db
    sqlalchemy
allow_indirect_imports = true
as_packages = false

[importlinter:contract:domains]
name = Independent domains
type = independence
modules = shop.domains.*

[importlinter:contract:cycles]
name = No cycles
type = acyclic_siblings
ancestors = shop
depth = 2
skip_descendants = shop.domains

[importlinter:contract:db]
name = Only the service touches the database
type = protected
protected_modules = shop.db
allowed_importers = shop.service
as_packages = False
"""


def expected_contracts() -> list[object]:
    scopes = ImportScopeOverride(type_checking=False)
    return [
        LayersContract(
            id="layers",
            name="Layered",
            layers=(
                ContractLayer(("api",)),
                ContractLayer(("service", "domains")),
                ContractLayer(
                    ("helpers", "db"), independent=False, optional=frozenset({"helpers"})
                ),
            ),
            containers=("shop",),
            ignore_imports=(
                IgnoredImport(
                    "shop.api", "shop.db", "The API reads one constant of the database module."
                ),
                IgnoredImport(
                    "shop.*.**", "shop.db", "carried over from import-linter ('Layered', line 18)"
                ),
            ),
            unmatched_ignore_imports="warn",
            import_scopes=scopes,
            guidance="Move the code down a layer, or ask the architects.",
        ),
        ForbiddenContract(
            id="no-db",
            name="The API never reaches the database",
            source_modules=("shop.api",),
            forbidden_modules=("shop.db", "sqlalchemy"),
            indirect=False,
            as_packages=False,
            import_scopes=scopes,
        ),
        IndependenceContract(
            id="domains",
            name="Independent domains",
            modules=("shop.domains.*",),
            import_scopes=scopes,
        ),
        AcyclicSiblingsContract(
            id="cycles",
            name="No cycles",
            ancestors=("shop",),
            depth=2,
            skip_descendants=("shop.domains",),
            import_scopes=scopes,
        ),
        ProtectedContract(
            id="db",
            name="Only the service touches the database",
            protected_modules=("shop.db",),
            allowed_importers=("shop.service",),
            as_packages=False,
            import_scopes=scopes,
        ),
    ]


def test_an_ini_file_becomes_a_new_layerguard_yaml(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, {**PACKAGE, ".importlinter": INI}, config=None)
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "wrote layerguard.yaml: 5 contracts from .importlinter: layers (layers), no-db "
        "(forbidden), domains (independence), cycles (acyclic_siblings), db (protected)\n"
    )
    assert run.stderr == ""
    config = load_config(tmp_path / "layerguard.yaml")
    assert config.source_roots == ("src",)  # where the root package is
    assert [without_lines(c) for c in config.contracts] == expected_contracts()
    text = (tmp_path / "layerguard.yaml").read_text("utf-8")
    assert '      - "service | domains"\n' in text
    assert "# From .importlinter." in text


@pytest.mark.parametrize("name", ["setup.cfg", "pyproject.toml"])
def test_setup_cfg_and_pyproject_read_the_same(tmp_path: Path, run_cli: RunCli, name: str) -> None:
    text = INI if name == "setup.cfg" else TOML
    write_project(tmp_path, {**PACKAGE, name: text}, config=None)
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith(f"wrote layerguard.yaml: 5 contracts from {name}:")
    contracts = [without_lines(c) for c in load_config(tmp_path / "layerguard.yaml").contracts]
    if name == "pyproject.toml":  # TOML has no comment to carry over as the reason
        first = contracts[0]
        assert isinstance(first, LayersContract)
        assert first.ignore_imports[0].reason == (
            "carried over from import-linter ('Layered', line 15)"
        )
        assert first.ignore_imports[1].reason == (
            "The same, for every module below shop (line 16)."
        )
        return
    assert contracts == expected_contracts()


TOML = """\
[project]
name = "shop"

[tool.importlinter]
root_packages = ["shop"]
exclude_type_checking_imports = true

[[tool.importlinter.contracts]]
id = "layers"
name = "Layered"
type = "layers"
containers = ["shop"]
layers = ["api", "service | domains", "(helpers) : db"]
ignore_imports = [
    "shop.api -> shop.db",
    # The same, for every module below shop (line 16).
    "shop.** -> shop.db",
]
unmatched_ignore_imports_alerting = "warn"
broken_contract_guidance = "Move the code down a layer, or ask the architects."

[[tool.importlinter.contracts]]
id = "no-db"
name = "The API never reaches the database"
type = "forbidden"
source_modules = ["shop.api"]
forbidden_modules = ["shop.db", "sqlalchemy"]
allow_indirect_imports = true
as_packages = false

[[tool.importlinter.contracts]]
id = "domains"
name = "Independent domains"
type = "independence"
modules = ["shop.domains.*"]

[[tool.importlinter.contracts]]
id = "cycles"
name = "No cycles"
type = "acyclic_siblings"
ancestors = ["shop"]
depth = 2
skip_descendants = ["shop.domains"]

[[tool.importlinter.contracts]]
id = "db"
name = "Only the service touches the database"
type = "protected"
protected_modules = ["shop.db"]
allowed_importers = ["shop.service"]
as_packages = false
"""


def test_setup_cfg_without_the_section_is_passed_over(tmp_path: Path, run_cli: RunCli) -> None:
    """As import-linter: setup.cfg first, but only when it has the section."""
    write_project(
        tmp_path, {**PACKAGE, "setup.cfg": "[metadata]\nname = shop\n", ".importlinter": INI}, None
    )
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 0, run.stderr
    assert "from .importlinter:" in run.stdout


def test_stdout_prints_the_contracts_and_writes_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, {**PACKAGE, "lint.ini": INI}, config=None)
    run = run_cli(["migrate", "import-linter", "lint.ini", "--stdout"])
    assert run.exit_code == 0, run.stderr
    assert not (tmp_path / "layerguard.yaml").exists()
    data = yaml.safe_load(run.stdout)
    assert [c["id"] for c in data["contracts"]] == ["layers", "no-db", "domains", "cycles", "db"]
    assert data["contracts"][1] == {
        "id": "no-db",
        "name": "The API never reaches the database",
        "type": "forbidden",
        "source_modules": ["shop.api"],
        "forbidden_modules": ["shop.db", "sqlalchemy"],
        "indirect": False,
        "as_packages": False,
        "import_scopes": {"type_checking": False},
    }
    assert run.stderr.startswith("translated 5 contracts from lint.ini: layers (layers)")


EXISTING = """\
# Our contract.
version: 1
source_roots: [src]

layers:
  - id: api
    name: API
    modules: [shop.api]

contracts:
  # Written by hand.
  - id: mine
    name: Mine
    type: independence
    modules: [shop.api, shop.db]
  - id: no-db
    name: An older translation
    type: forbidden
    source_modules: [shop.api]
    forbidden_modules: [shop.db]

rules:
  ignore: [LG404]
"""


def test_an_existing_file_keeps_everything_but_the_contracts_it_replaces(
    tmp_path: Path, run_cli: RunCli
) -> None:
    write_project(tmp_path, {**PACKAGE, ".importlinter": INI}, config=EXISTING)
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("updated layerguard.yaml: 5 contracts from .importlinter:")
    text = (tmp_path / "layerguard.yaml").read_text("utf-8")
    assert text.startswith(EXISTING[: EXISTING.index("  - id: no-db")].rstrip("\n") + "\n\n")
    assert text.endswith("\nrules:\n  ignore: [LG404]\n")
    assert "An older translation" not in text
    config = load_config(tmp_path / "layerguard.yaml")
    assert [c.id for c in config.contracts] == [
        "mine",
        "layers",
        "no-db",
        "domains",
        "cycles",
        "db",
    ]
    # Migrating again changes nothing.
    assert run_cli(["migrate", "import-linter"]).exit_code == 0
    assert (tmp_path / "layerguard.yaml").read_text("utf-8") == text


def test_what_cannot_be_translated_is_listed_with_its_line(tmp_path: Path, run_cli: RunCli) -> None:
    config = (
        INI.replace(
            "exclude_type_checking_imports = True\n",
            "exclude_type_checking_imports = True\ncontract_types =\n"
            "    custom: shop.contracts.Custom\ncache_dir = .cache\n",
        )
        + "\n[importlinter:contract:mine]\nname = Mine\ntype = custom\n"
        + "\n[importlinter:contract:private]\nname = Private\ntype = private_modules\n"
    )
    write_project(tmp_path, {**PACKAGE, ".importlinter": config}, config=None)
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 0, run.stderr
    assert run.stderr.splitlines() == [
        ".importlinter:7: not translated: session option `cache_dir` has no layerguard equivalent",
        ".importlinter:58: not translated: contract 'Mine': custom contract type 'custom' "
        "(shop.contracts.Custom) cannot be translated; keep checking it with import-linter",
        ".importlinter:62: not translated: contract 'Private': layerguard has no "
        "`private_modules` contract; keep checking it with import-linter",
    ]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            ".importlinter",
            "[importlinter]\nroot_package = shop\n[importlinter:contract:x]\nname = X\n"
            "type = layers\nlayers\n",
            [".importlinter:6: not a valid INI file: cannot parse this line"],
        ),
        (
            ".importlinter",
            "[importlinter]\nroot_package = shop\n\n[importlinter:contract:x]\nname = X\n"
            "type = frobidden\n",
            [
                ".importlinter:6: contract 'X': unknown contract type 'frobidden'; did you mean "
                "'forbidden'?"
            ],
        ),
        (
            ".importlinter",
            "[importlinter]\nroot_package = shop\n\n[importlinter:contract:x]\nname = X\n"
            "type = forbidden\nsource_modules = shop.api\nallow_indirect = true\n",
            [
                ".importlinter:4: contract 'X': `forbidden_modules` is required",
                ".importlinter:8: contract 'X': unrecognized option `allow_indirect`; did you "
                "mean 'allow_indirect_imports'?",
            ],
        ),
        (
            ".importlinter",
            "[importlinter]\nroot_package = shop\n\n[importlinter:contract:x]\nname = X\n"
            "type = layers\nlayers =\n    api\n    service | db : x\n    shop.*x\n",
            [
                ".importlinter:9: contract 'X': layer 'service | db : x' mixes independent (`|`) "
                "and non-independent (`:`) siblings",
                ".importlinter:10: contract 'X': layer 'shop.*x' is not one or more module names",
            ],
        ),
        (
            "pyproject.toml",
            '[tool.importlinter]\nroot_packages = ["shop"]\n\n[[tool.importlinter.contracts]]\n'
            'name = "X"\ntype = "independence"\nmodules = ["shop.**.*"]\n',
            [
                "pyproject.toml:7: contract 'X': `modules`: 'shop.**.*': a recursive wildcard "
                "cannot be followed by a wildcard"
            ],
        ),
        (
            "pyproject.toml",
            '[tool.importlinter]\nroot_packages = ["shop"\n',
            ["pyproject.toml:2: not valid TOML: Unclosed array"],
        ),
        (
            ".importlinter",
            "[importlinter]\nroot_package = shop\n\n[importlinter:contract:x]\nname = X\n"
            "type = custom\n[importlinter:contract:y]\nname = Y\ntype = private_modules\n",
            [
                ".importlinter:6: contract 'X': unknown contract type 'custom'",
                ".importlinter:9: not translated: contract 'Y': layerguard has no "
                "`private_modules` contract; keep checking it with import-linter",
            ][:1],
        ),
        (
            ".importlinter",
            "[importlinter]\nroot_package = shop\ncontract_types = c: shop.C\n\n"
            "[importlinter:contract:y]\nname = Y\ntype = c\n",
            [
                ".importlinter:7: contract 'Y': custom contract type 'c' (shop.C) cannot be "
                "translated; keep checking it with import-linter",
                ".importlinter: nothing could be translated into layerguard contracts",
            ],
        ),
        (
            ".importlinter",
            "[importlinter]\n\n[importlinter:contract:y]\nname = Y\ntype = independence\n"
            "modules = shop.a\n",
            [".importlinter:1: no `root_packages` (or `root_package`): which packages to check"],
        ),
        (".importlinter", "[flake8]\nmax-line-length = 100\n", None),
    ],
    ids=[
        "INI syntax",
        "unknown type",
        "missing and unknown options",
        "bad layers",
        "bad module expression",
        "TOML syntax",
        "type neither built in nor custom",
        "nothing to translate",
        "no root packages",
        "no section",
    ],
)
def test_malformed_input_exits_2_with_file_and_line(
    tmp_path: Path, run_cli: RunCli, name: str, text: str, expected: list[str] | None
) -> None:
    write_project(tmp_path, {**PACKAGE, name: text}, config=None)
    run = run_cli(["migrate", "import-linter", name])
    assert run.exit_code == 2
    if expected is None:
        assert run.stderr == f"{name}: has no [importlinter] configuration\n"
    else:
        assert run.stderr.splitlines() == expected
    assert run.stdout == ""
    assert not (tmp_path / "layerguard.yaml").exists()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda path: os.mkfifo(path), "a FIFO, not a regular file"),
        (lambda path: path.write_bytes(b"#" * (4 * 1024 * 1024 + 1)), "too large (4,097 KB"),
        (lambda path: path.symlink_to("/dev/zero"), "a character device, not a regular file"),
    ],
    ids=["FIFO", "too large", "link to /dev/zero"],
)
def test_a_configuration_that_is_no_small_regular_file_is_not_read(
    tmp_path: Path, run_cli: RunCli, make: Callable[[Path], object], reason: str
) -> None:
    write_project(tmp_path, PACKAGE, config=None)
    make(tmp_path / ".importlinter")
    run = run_cli(["migrate", "import-linter", ".importlinter"])
    assert run.exit_code == 2
    assert run.stderr.startswith(f".importlinter: {reason}"), run.stderr
    assert not (tmp_path / "layerguard.yaml").exists()


def test_no_configuration_found_is_a_usage_error(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, PACKAGE, config=None)
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 2
    assert "no import-linter configuration found in" in run.stderr
    assert run.stderr.endswith("pass its path\n")


def test_a_result_layerguard_would_refuse_is_not_written(tmp_path: Path, run_cli: RunCli) -> None:
    """The existing file has an error: the merged file is validated, and nothing written."""
    broken = EXISTING.replace(
        "modules: [shop.api]\n", "modules: [shop.api]\n    forbid: {layers: [nope]}\n", 1
    )
    write_project(tmp_path, {**PACKAGE, ".importlinter": INI}, config=broken)
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 2
    assert "unknown layer id 'nope'" in run.stderr
    assert (tmp_path / "layerguard.yaml").read_text("utf-8") == broken


def test_a_migrated_project_is_checked(tmp_path: Path, run_cli: RunCli) -> None:
    """After migrating, `check` reports what the contracts say: the service-to-db import is
    allowed, the forbidden contract's direct import is not (the API imports the service only)."""
    files = {**PACKAGE, "src/shop/api.py": "from shop import service, db\n"}
    write_project(tmp_path, {**files, ".importlinter": textwrap.dedent(INI)}, config=None)
    assert run_cli(["migrate", "import-linter"]).exit_code == 0
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert run.findings() == [("LG112", "src/shop/api.py", 1), ("LG115", "src/shop/api.py", 1)]


PYPROJECT = """\
[project]
name = "shop"

[tool.layerguard]
version = 1
source_roots = ["src"]

[[tool.layerguard.contracts]]
id = "mine"
name = "Mine"
type = "independence"
modules = ["shop.api", "shop.db"]

[tool.ruff]
line-length = 100
"""


def test_a_contract_in_pyproject_gets_toml_tables(tmp_path: Path, run_cli: RunCli) -> None:
    """The project's contract is `[tool.layerguard]`: the contracts go there, as tables."""
    write_project(tmp_path, {**PACKAGE, "pyproject.toml": PYPROJECT, ".importlinter": INI}, None)
    run = run_cli(["migrate", "import-linter"])
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("updated pyproject.toml: 5 contracts from .importlinter:")
    text = (tmp_path / "pyproject.toml").read_text("utf-8")
    assert text.startswith(PYPROJECT + "\n# From .importlinter.\n[[tool.layerguard.contracts]]\n")
    assert '[[tool.layerguard.contracts.ignore_imports]]\nimporter = "shop.api"\n' in text
    config = load_config(tmp_path / "pyproject.toml")
    assert [c.id for c in config.contracts] == [
        "mine",
        "layers",
        "no-db",
        "domains",
        "cycles",
        "db",
    ]
    assert [without_lines(c) for c in config.contracts[1:]] == expected_contracts()
    assert run_cli(["migrate", "import-linter"]).exit_code == 0
    assert (tmp_path / "pyproject.toml").read_text("utf-8") == text
    printed = run_cli(["migrate", "import-linter", "--stdout"])
    assert printed.stdout.startswith("# From .importlinter.\n[[tool.layerguard.contracts]]\n")
