"""`layerguard init` through the real CLI app, writing into a temp dir: presets asked for by
name, `--preset list`, refusing to overwrite, and writing into pyproject.toml."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.contracts.config.loader import load_config, parse_config
from tests.helpers import contract_content, write_project

PRESET = files("layerguard.contracts.config") / "presets" / "hoc.yaml"
NOT_HOC = (
    "layerguard: warning: this tree does not have the 'hoc' layout; the contract names its "
    "default directories\n"
)


def empty_files(root: Path, *paths: str) -> None:
    write_project(root, dict.fromkeys(paths, ""), config=None)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_the_hoc_preset_byte_for_byte_and_it_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke("init", "--preset", "hoc")
    assert code == 0
    assert out == "wrote layerguard.yaml (preset 'hoc')\n"
    assert err == NOT_HOC + (
        "layerguard: warning: the contract does not fit the tree yet:\n"
        "layerguard.yaml:10: LG003 source_roots[0]: 'backend' is not a directory.\n"
    )
    written = tmp_path / "layerguard.yaml"
    assert written.read_bytes() == PRESET.read_bytes()
    config = load_config(written)
    assert [layer.id for layer in config.layers] == [
        "L2",
        "L2.1",
        "L4",
        "L4_handlers",
        "L4_services",
        "L5",
        "L6",
        "L7",
    ]
    assert config.transactions.owners == ()
    assert config.transactions.session_creators == ()
    assert config.cross_domain_layers == ("L5", "L6")
    l2 = config.layer("L2")
    assert l2 is not None
    assert l2.forbidden_layers == ("L4_handlers", "L5", "L6", "L7")
    assert l2.forbidden_modules == ("sqlalchemy", "sqlmodel", "app.db")


def test_transaction_ownership_moves_to_handlers_with_one_line(tmp_path: Path) -> None:
    code, _, _ = invoke("init", "--preset", "hoc", "--directory", str(tmp_path))
    assert code == 0
    written = tmp_path / "layerguard.yaml"
    text = written.read_text(encoding="utf-8")
    assert text.count("\n  owners: []\n") == 1
    written.write_text(text.replace("\n  owners: []\n", "\n  owners: [L4_handlers]\n"))
    assert load_config(written).transactions.owners == ("L4_handlers",)


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "layerguard.yaml"
    existing.write_text("version: 1\n")
    code, out, err = invoke("init", "--preset", "hoc", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"layerguard: {existing} already exists; pass --force to overwrite it\n"
    assert existing.read_text() == "version: 1\n"


def test_init_force_overwrites(tmp_path: Path) -> None:
    existing = tmp_path / "layerguard.yaml"
    existing.write_text("version: 1\n")
    code, _, _ = invoke("init", "--preset", "hoc", "--force", "--directory", str(tmp_path))
    assert code == 0
    assert existing.read_bytes() == PRESET.read_bytes()


def test_unknown_preset_lists_the_presets(tmp_path: Path) -> None:
    code, out, err = invoke("init", "--preset", "django", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        "layerguard: unknown preset 'django'; available presets: fastapi, domains, hoc, packages\n"
    )
    assert not (tmp_path / "layerguard.yaml").exists()


def test_preset_list_describes_every_preset() -> None:
    code, out, err = invoke("init", "--preset", "list")
    assert (code, err) == (0, "")
    assert out == (
        "fastapi   a layered FastAPI application: api → services → crud/repositories → models; "
        "core\n"
        "domains   one package per domain: views → flows/service → models in each (file-named)\n"
        "hoc       the hoc backend: routes, orchestration spine and handlers, engines, drivers, "
        "models\n"
        "packages  one layer per sub-package and no rule yet: a start for any other tree\n"
    )


def test_no_preset_fits_an_empty_tree(tmp_path: Path) -> None:
    code, out, err = invoke("init", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        f"layerguard: no preset fits {tmp_path}: it does not have the hoc, domains or fastapi "
        "layout, and it holds no Python package (a directory of .py files); write the layers "
        "by hand (docs/configuration.md), or a preset's layout for code still to come with "
        "--preset (`layerguard init --preset list`)\n"
    )
    assert list(tmp_path.iterdir()) == []


STARLETTE_LIKE = (  # one sub-package beside the modules, as starlette (middleware/)
    "src/web/__init__.py",
    "src/web/_utils.py",
    "src/web/routing.py",
    "src/web/requests.py",
    "src/web/middleware/__init__.py",
    "src/web/middleware/cors.py",
    "src/web/middleware/gzip.py",
)
CLICK_LIKE = ("cli/__init__.py", "cli/_compat.py", "cli/core.py", "cli/types.py")  # flat


def test_one_sub_package_fits_no_preset_and_says_so(tmp_path: Path) -> None:
    empty_files(tmp_path, *STARLETTE_LIKE)
    code, out, err = invoke("init", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        f"layerguard: no preset fits {tmp_path}: it does not have the hoc, domains or fastapi "
        "layout, and src/web/ has one sub-package (middleware) beside 3 modules, so `packages` "
        "would make a single layer (middleware, 3 files) and no other to keep it apart from; "
        'write the layers by hand (a layer can be single modules: `paths: ["src/web/requests.py"]`'
        "; docs/configuration.md), or start from that layer with --preset packages\n"
    )
    assert not (tmp_path / "layerguard.yaml").exists()


def test_packages_asked_for_writes_the_one_sub_package_without_a_false_warning(
    tmp_path: Path,
) -> None:
    empty_files(tmp_path, *STARLETTE_LIKE)
    code, out, err = invoke("init", "--preset", "packages", "--directory", str(tmp_path))
    assert (code, err) == (0, "")
    assert out == (
        f"wrote {tmp_path / 'layerguard.yaml'} (preset 'packages')\n"
        "its layers hold 3 of 7 Python files (middleware 3); `layerguard layers` lists them, "
        "`layerguard check` checks them\n"
        "`layerguard check` reports no findings with it on the current code\n"
    )
    config = load_config(tmp_path / "layerguard.yaml")
    assert [(layer.id, layer.paths) for layer in config.layers] == [
        ("middleware", ("src/web/middleware/**",))
    ]


@pytest.mark.parametrize("pyproject", [False, True], ids=["yaml", "pyproject"])
def test_packages_on_a_flat_package_writes_nothing_and_says_why(
    tmp_path: Path, pyproject: bool
) -> None:
    empty_files(tmp_path, *CLICK_LIKE)
    args = ["init", "--preset", "packages", "--directory", str(tmp_path)]
    code, out, err = invoke(*args, *(["--pyproject"] if pyproject else []))
    assert (code, out) == (2, "")
    by_hand = (
        'write the layers by hand (a layer can be single modules: `paths: ["cli/core.py"]`; '
        "docs/configuration.md)"
    )
    assert err == (
        f"layerguard: preset 'packages' has no layer to write for {tmp_path}: cli/ has no "
        f"sub-package, only 3 modules directly in it; nothing was written; no other preset fits "
        f"it: {by_hand}\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli"]
    code, out, err = invoke("init", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        f"layerguard: no preset fits {tmp_path}: it does not have the hoc, domains or fastapi "
        f"layout, and cli/ has no sub-package, only 3 modules directly in it; {by_hand}\n"
    )


def test_packages_without_a_layer_names_the_presets_that_fit(tmp_path: Path) -> None:
    empty_files(tmp_path, "app/__init__.py", "app/api.py", "app/services.py", "app/models.py")
    code, out, err = invoke("init", "--preset", "packages", "--directory", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        f"layerguard: preset 'packages' has no layer to write for {tmp_path}: app/ has no "
        "sub-package, only 3 modules directly in it; nothing was written; presets that fit it: "
        "fastapi (--preset fastapi)\n"
    )
    assert not (tmp_path / "layerguard.yaml").exists()


def test_missing_directory(tmp_path: Path) -> None:
    code, _, err = invoke("init", "--directory", str(tmp_path / "nope"))
    assert code == 2
    assert err == f"layerguard: {tmp_path / 'nope'}: no such directory\n"


def test_init_help_documents_every_option() -> None:
    code, out, _ = invoke("init", "--help")
    assert code == 0
    for option in ("--preset", "--pyproject", "--force", "--directory"):
        assert option in out
    assert "Write the contract as [tool.layerguard] in pyproject.toml" in " ".join(
        out.replace("│", " ").split()
    )


def test_hoc_is_proposed_and_moved_to_the_detected_package(tmp_path: Path) -> None:
    empty_files(
        tmp_path,
        "src/svc/__init__.py",
        "src/svc/hoc/api/cus/policies/policies.py",
        "src/svc/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py",
        "src/svc/hoc/cus/hoc_spine/services/clock.py",
        "src/svc/hoc/cus/hoc_spine/wiring.py",
        "src/svc/hoc/api/facades/cus.py",
        "src/svc/hoc/cus/policies/L5_engines/engine.py",
        "src/svc/hoc/cus/policies/L6_drivers/driver.py",
        "src/svc/models/policy.py",
    )
    code, out, err = invoke("init", "--directory", str(tmp_path))
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        "proposing preset 'hoc' (the hoc backend: routes, orchestration spine and handlers, "
        "engines, drivers, models), as:",
        "  src/svc/hoc/api/ and src/svc/hoc/cus/ hold the hoc layers",
    ]
    assert out.splitlines()[-3:] == [
        "its layers hold 8 of 9 Python files (L2 1, L2.1 1, L4 1, L4_handlers 1, L4_services 1, "
        "L5 1, L6 1, L7 1); `layerguard layers` lists them, `layerguard check` checks them",
        # No card yet: the preset's `cards.paths` matches nothing.
        "`layerguard check` reports 1 finding with it on the current code: LG004 empty-scope ×1",
        "Fix it, change layerguard.yaml where it does not describe the architecture you want, or "
        "accept it for now with `layerguard baseline create` so that only new ones fail.",
    ]
    config = load_config(tmp_path / "layerguard.yaml")
    assert config.source_roots == ("src",)
    l2 = config.layer("L2")
    assert l2 is not None
    assert l2.paths == ("src/svc/hoc/api/{audience}/{domain}/**",)
    assert l2.forbidden_modules == ("sqlalchemy", "sqlmodel", "svc.db")
    assert l2.allow[0].module == "svc.hoc.cus.{domain}.L5_schemas.**"


# --- writing into pyproject.toml ------------------------------------------------------------


def test_pyproject_is_created_with_the_same_contract(tmp_path: Path) -> None:
    code, out, _ = invoke("init", "--preset", "hoc", "--pyproject", "-d", str(tmp_path))
    assert code == 0
    assert out == f"wrote {tmp_path / 'pyproject.toml'} (preset 'hoc')\n"
    assert not (tmp_path / "layerguard.yaml").exists()
    from_toml = load_config(tmp_path / "pyproject.toml")
    from_yaml = parse_config(PRESET.read_text("utf-8"), tmp_path / "layerguard.yaml")
    assert contract_content(from_toml) == contract_content(from_yaml)
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith("# The layer contract of this project, written by `layerguard init")
    assert "\n[tool.layerguard]\nversion = 1\n" in text
    assert "# To make the operation handlers the transaction owners instead, list" in text


def test_pyproject_keeps_what_it_had_and_its_permissions(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    before = '[project]\nname = "demo"  # the name\n\n[tool.ruff]\nline-length = 100\n'
    pyproject.write_text(before, encoding="utf-8")
    os.chmod(pyproject, 0o640)
    code, _, _ = invoke("init", "--preset", "hoc", "--pyproject", "-d", str(tmp_path))
    assert code == 0
    text = pyproject.read_text(encoding="utf-8")
    assert text.startswith(before + "\n# The layer contract")
    assert stat.S_IMODE(pyproject.stat().st_mode) == 0o640
    assert load_config(pyproject).layer("L7") is not None


def test_pyproject_table_is_not_overwritten_without_force(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    before = (
        '[project]\nname = "demo"\n\n[tool.layerguard]\nversion = 1\n\n'
        '[[tool.layerguard.layers]]\nid = "old"\nname = "Old"\npaths = ["x/**"]\n\n'
        "[tool.ruff]\nline-length = 100\n"
    )
    pyproject.write_text(before, encoding="utf-8")
    code, out, err = invoke("init", "--preset", "hoc", "--pyproject", "-d", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        f"layerguard: {pyproject} already has a [tool.layerguard] table; pass --force to "
        "replace it\n"
    )
    assert pyproject.read_text(encoding="utf-8") == before
    code, _, _ = invoke("init", "--preset", "hoc", "--pyproject", "--force", "-d", str(tmp_path))
    assert code == 0
    text = pyproject.read_text(encoding="utf-8")
    assert text.startswith('[project]\nname = "demo"\n\n[tool.ruff]\nline-length = 100\n')
    assert 'id = "old"' not in text
    assert load_config(pyproject).layer("old") is None


def test_a_directory_never_gets_two_contracts(tmp_path: Path) -> None:
    code, _, _ = invoke("init", "--preset", "hoc", "-d", str(tmp_path))
    assert code == 0
    code, _, err = invoke("init", "--preset", "hoc", "--pyproject", "-d", str(tmp_path))
    assert code == 2
    assert err == (
        f"layerguard: {tmp_path / 'layerguard.yaml'} already holds the contract; a directory "
        "has one contract: remove it first, or write it again without --pyproject\n"
    )
    (tmp_path / "layerguard.yaml").unlink()
    code, _, _ = invoke("init", "--preset", "hoc", "--pyproject", "-d", str(tmp_path))
    assert code == 0
    code, _, err = invoke("init", "--preset", "hoc", "--force", "-d", str(tmp_path))
    assert code == 2
    assert err == (
        f"layerguard: {tmp_path / 'pyproject.toml'} already holds the contract "
        "([tool.layerguard]); a directory has one contract: write there with --pyproject "
        "--force, or remove that table first\n"
    )
    assert not (tmp_path / "layerguard.yaml").exists()


def test_a_pyproject_that_does_not_parse_is_left_alone(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project\nname = "demo"\n', encoding="utf-8")
    code, out, err = invoke("init", "--preset", "hoc", "--pyproject", "-d", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.startswith(
        f"layerguard: {pyproject} would not load with the table added:\n{pyproject}:1: LG003 "
        "invalid TOML: "
    )
    assert pyproject.read_text(encoding="utf-8") == '[project\nname = "demo"\n'
    assert [p.name for p in tmp_path.iterdir()] == ["pyproject.toml"]


def test_hoc_leaves_out_the_layers_the_tree_has_no_files_for(tmp_path: Path) -> None:
    empty_files(
        tmp_path,
        "backend/app/__init__.py",
        "backend/app/hoc/api/cus/policies/routes.py",
        "backend/app/hoc/cus/policies/L5_engines/engine.py",
    )
    code, out, err = invoke("init", "--directory", str(tmp_path))
    assert (code, err) == (0, "")
    assert (
        out.splitlines()[2] == "  no files for L2.1, L4, L4_handlers, L4_services, L6, L7: left out"
    )
    config = load_config(tmp_path / "layerguard.yaml")
    assert [layer.id for layer in config.layers] == ["L2", "L5"]
    assert [layer.forbidden_layers for layer in config.layers] == [("L5",), ("L2",)]
    assert config.cross_domain_layers == ("L5",)
    assert config.registry.handler_layers == ()
    text = (tmp_path / "layerguard.yaml").read_text(encoding="utf-8")
    assert "# Routes dispatch through the registry" in text  # the preset's comments stay


def test_init_on_the_example_writes_the_layers_its_contract_has(tmp_path: Path) -> None:
    """The bundled example's contract is the hoc preset adapted by hand (cards required, LG404
    opted in, no L4_services); init on its tree leaves out L4_services by itself."""
    example = Path(__file__).parents[2] / "examples" / "hoc_app"
    shutil.copytree(example, tmp_path / "app", ignore=shutil.ignore_patterns(".layerguard_cache"))
    (tmp_path / "app" / "layerguard.yaml").rename(tmp_path / "adapted.yaml")
    code, _, err = invoke("init", "--directory", str(tmp_path / "app"))
    assert (code, err) == (0, "")
    written = load_config(tmp_path / "app" / "layerguard.yaml")
    adapted = load_config(tmp_path / "adapted.yaml")
    unadapted = [dataclasses.replace(layer, requires_cards=False) for layer in adapted.layers]
    as_written = dataclasses.replace(adapted, layers=tuple(unadapted), root=written.root)
    with_rules = dataclasses.replace(written, rules=adapted.rules, sections=adapted.sections)
    assert contract_content(with_rules) == contract_content(as_written)
