"""`--quiet` and `--color` on every command that has something to silence or to colour, as ruff
has them on every command: --quiet drops the notes, progress and summary lines and keeps what
the command is for (findings, diffs, graphs, catalogues), warnings and errors, as `ruff check
-q` prints the diagnostics and nothing else; --color decides whether the messages on stderr
are coloured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import pytest
import typer.main

from layerguard.cli.app import app
from tests.cli.test_cli_conventions import ANSI, DRIVER, ENGINE, FILES
from tests.cli.test_migrate_cli import INI, PACKAGE
from tests.cli.test_operations_cli import SMALL, SMALL_CONFIG
from tests.helpers import Run, write_project

RunCli = Callable[..., Run]

ENGINES, DRIVERS = ENGINE.rsplit("/", 1)[0], DRIVER.rsplit("/", 1)[0]
CARDS = "literature/backend/app/hoc/cus/policies"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, FILES)


def test_baseline_create_and_update_quiet_keep_only_refused_findings(
    project: Path, run_cli: RunCli
) -> None:
    baseline = project / ".layerguard-baseline.json"
    assert run_cli(["baseline", "create", "--quiet"]) == Run(0, "", "")
    recorded = baseline.read_text("utf-8")
    assert '"LG201"' in recorded
    loud = run_cli(["baseline", "create", "--force"])
    assert loud == Run(
        0,
        f"wrote {baseline}: 1 finding in 1 file; `layerguard check` now reports only new "
        "findings\n",
        "",
    )
    assert baseline.read_text("utf-8") == recorded
    assert run_cli(["baseline", "update"]).stdout == (
        f"{baseline}: 0 findings removed, 0 added; 1 finding in 1 file remain baselined\n"
    )
    assert run_cli(["baseline", "update", "-q"]) == Run(0, "", "")
    write_project(project, {f"{DRIVERS}/other.py": FILES[DRIVER]}, config=None)
    refused = run_cli(["baseline", "update", "-q"])
    assert refused.exit_code == 1
    assert [line.split(" ")[:2] for line in refused.stdout.splitlines()] == [
        [f"{DRIVERS}/other.py:2:11:", "LG201"]
    ]
    assert refused.stderr == (
        f"layerguard: {baseline} not updated: 1 finding not in the baseline; fix the new "
        "findings, or pass --allow-new to record them\n"
    )
    assert baseline.read_text("utf-8") == recorded


def test_cards_generate_quiet_prints_only_what_could_not_be_described(
    project: Path, run_cli: RunCli
) -> None:
    write_project(project, {f"{ENGINES}/broken.py": "def (:\n"}, config=None)
    run = run_cli(["cards", "generate", "--quiet"])
    assert run == Run(1, "", f"{ENGINES}/broken.py: not described: it does not parse (see LG001)\n")
    assert sorted(p.name for p in (project / CARDS).rglob("*.md")) == [
        "policy_driver.md",
        "policy_engine.md",
    ]
    loud = run_cli(["cards", "generate", str(project / ENGINE)])
    assert loud == Run(
        0,
        f"kept {CARDS}/L5_engines/policy_engine.md: it exists (`cards sync` updates it; --force "
        "overwrites)\n0 card(s) written, 1 kept, 0 not described.\n",
        "",
    )


def test_cards_sync_quiet_keeps_the_check_diff_and_drops_the_summary(
    project: Path, run_cli: RunCli
) -> None:
    assert run_cli(["cards", "generate", "-q"]).exit_code == 0
    card = project / CARDS / "L5_engines/policy_engine.md"
    (project / ENGINE).write_text(FILES[ENGINE] + "\n\ndef audit() -> None:\n    pass\n")
    loud = run_cli(["cards", "sync", "--check"])
    quiet = run_cli(["cards", "sync", "--check", "--quiet"])
    summary = (
        "1 card(s) out of date, 1 up to date, 0 skipped (no file), 0 could not be synced. "
        "Run `layerguard cards sync` to update them.\n"
    )
    assert loud.exit_code == quiet.exit_code == 1
    assert loud.stdout.endswith(summary)
    assert quiet == Run(1, loud.stdout.removesuffix(summary), "")
    lines = quiet.stdout.splitlines()
    assert lines[:3] == [
        f"{CARDS}/L5_engines/policy_engine.md: out of date: Functions; Export Contract "
        "(added `audit`)",
        f"--- a/{CARDS}/L5_engines/policy_engine.md",
        f"+++ b/{CARDS}/L5_engines/policy_engine.md",
    ]
    assert "+### `audit() -> None`" in lines
    before = card.read_text("utf-8")
    assert run_cli(["cards", "sync", "-q"]) == Run(0, "", "")
    assert card.read_text("utf-8") != before
    assert run_cli(["cards", "sync", "--check", "-q"]) == Run(0, "", "")
    assert run_cli(["cards", "sync"]).stdout == (
        "0 card(s) synced, 2 up to date, 0 skipped (no file), 0 could not be synced.\n"
    )


FINDING = f"{DRIVER}:2:11: LG201 "


def test_check_quiet_prints_the_findings_and_nothing_else(project: Path, run_cli: RunCli) -> None:
    loud = run_cli(["check"])
    assert loud.exit_code == 1
    finding, summary = loud.stdout.splitlines()
    assert finding.startswith(FINDING)
    assert summary.startswith("Found 1 finding in 2 files and 0 cards (")
    for flag in ("--quiet", "-q"):
        assert run_cli(["check", flag]) == Run(1, finding + "\n", "")
    coloured = run_cli(["check", "-q", "--color", "always"])
    assert (coloured.exit_code, ANSI.sub("", coloured.stdout)) == (1, finding + "\n")
    (project / DRIVER).write_text("async def save(session, row):\n    await session.flush()\n")
    assert run_cli(["check", "-q"]) == Run(0, "", "")  # as `ruff check -q` on a clean tree


def test_check_quiet_keeps_the_statistics_asked_for_and_drops_the_summary(
    project: Path, run_cli: RunCli
) -> None:
    run = run_cli(["check", "-q", "--statistics", "--no-cache", "--jobs", "1"])
    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith(FINDING)
    assert lines[1:] == [
        "     1  LG201  transaction-outside-owner",
        "files: 2, parsed: 2, cached: 0, cards: 0, documents skipped: 0, jobs: 1",
    ]


def test_check_quiet_github_annotations_without_the_summary(project: Path, run_cli: RunCli) -> None:
    loud = run_cli(["check", "--output-format", "github"])
    annotation, summary = loud.stdout.splitlines()
    assert annotation.startswith(f"::error file={DRIVER},line=2,col=11,title=LG201 ")
    assert summary.startswith("Found 1 finding")
    assert run_cli(["check", "--output-format", "github", "-q"]) == Run(1, annotation + "\n", "")


def test_operations_quiet_prints_the_catalogue_without_its_summary(
    tmp_path: Path, run_cli: RunCli
) -> None:
    write_project(tmp_path, SMALL, SMALL_CONFIG)
    loud = run_cli(["operations"])
    summary = (
        "\n3 operations: 2 registered, 1 not registered; 1 registered more than once; "
        "3 call sites, 2 dynamic (in 4 files).\n"
    )
    assert loud.stdout.endswith("registry.register at module level\n" + summary)
    assert run_cli(["operations", "-q"]) == Run(0, loud.stdout.removesuffix(summary), "")
    for fmt in ("json", "markdown"):  # documents, not reports: nothing to drop
        assert run_cli(["operations", "-q", "--output-format", fmt]) == run_cli(
            ["operations", "--output-format", fmt]
        )


def test_operations_quiet_on_a_project_without_operations_prints_nothing(
    project: Path, run_cli: RunCli
) -> None:
    assert run_cli(["operations"]) == Run(0, "No operations: no registry calls in 2 files.\n", "")
    assert run_cli(["operations", "-q"]) == Run(0, "", "")


@pytest.mark.parametrize(
    "command",
    [["graph"], ["graph", "--output-format", "text"], ["graph", "--output-format", "dot"]],
    ids=" ".join,
)
def test_quiet_never_changes_a_graph(project: Path, run_cli: RunCli, command: list[str]) -> None:
    loud = run_cli(command)
    assert (loud.exit_code, loud.stderr) == (0, "")
    assert loud.stdout.strip()
    assert run_cli([*command, "-q"]) == loud


def test_init_quiet_writes_silently_but_still_warns(tmp_path: Path, run_cli: RunCli) -> None:
    proposed = tmp_path / "proposed"
    write_project(
        proposed,
        {
            "src/svc/__init__.py": "",
            "src/svc/hoc/api/cus/policies/policies.py": "",
            "src/svc/hoc/cus/policies/L5_engines/engine.py": "",
            "src/svc/hoc/cus/policies/L6_drivers/driver.py": "",
        },
        config=None,
    )
    assert run_cli(["init", "--directory", str(proposed), "--quiet"]) == Run(0, "", "")
    assert (proposed / "layerguard.yaml").is_file()
    bare = tmp_path / "bare"
    bare.mkdir()
    run = run_cli(["init", "--preset", "hoc", "-q"], cwd=bare)
    assert run == Run(
        0,
        "",
        "layerguard: warning: this tree does not have the 'hoc' layout; the contract names its "
        "default directories\n"
        "layerguard: warning: the contract does not fit the tree yet:\n"
        "layerguard.yaml:10: LG003 source_roots[0]: 'backend' is not a directory.\n",
    )


def test_migrate_quiet_drops_the_summary(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, {**PACKAGE, ".importlinter": INI}, config=None)
    loud = run_cli(["migrate", "import-linter", "--stdout"])
    assert loud.stderr == (
        "translated 5 contracts from .importlinter: layers (layers), no-db (forbidden), "
        "domains (independence), cycles (acyclic_siblings), db (protected)\n"
    )
    assert run_cli(["migrate", "import-linter", "--stdout", "-q"]) == Run(0, loud.stdout, "")
    assert run_cli(["migrate", "import-linter", "-q"]) == Run(0, "", "")
    assert "id: layers" in (tmp_path / "layerguard.yaml").read_text("utf-8")


def test_migrate_quiet_keeps_an_unreachable_root_package_as_one_warning(
    tmp_path: Path, run_cli: RunCli
) -> None:
    write_project(tmp_path, {".importlinter": INI.replace("    shop\n", "    nowhere\n", 1)}, None)
    run = run_cli(["migrate", "import-linter", "-q"])
    assert run == Run(
        0,
        "",
        f"layerguard: warning: root package `nowhere` was not found under {tmp_path}: set "
        "`source_roots` to the directory that holds it\n",
    )


BROKEN_CONTRACT = "version: 1\nlayerz: []\n"


@pytest.mark.parametrize(
    "command",
    [
        ["baseline", "create"],
        ["baseline", "update"],
        ["cards", "generate"],
        ["cards", "sync"],
        ["graph"],
        ["layers"],
        ["operations"],
        ["migrate", "import-linter"],
    ],
    ids=" ".join,
)
def test_color_on_every_command_that_colours_its_messages(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    write_project(tmp_path, {".importlinter": INI}, BROKEN_CONTRACT)
    coloured = run_cli([*command, "--color", "always"])
    assert coloured.exit_code == 2
    assert "\x1b[1;31mLG003\x1b[0m" in coloured.stderr
    monkeypatch.setenv("FORCE_COLOR", "1")
    uncoloured = run_cli([*command, "--color", "never"])
    assert uncoloured == Run(2, "", ANSI.sub("", coloured.stderr))
    assert uncoloured.stderr.startswith(f"{tmp_path / 'layerguard.yaml'}:2: LG003 layerz: ")


def test_color_on_init_explain_and_cards_parse(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, {})
    init = run_cli(["init", "--preset", "hoc", "--color", "always"])
    assert init.exit_code == 2
    assert init.stderr.startswith("\x1b[1;31mlayerguard:\x1b[0m layerguard.yaml")
    explain = run_cli(["explain", "LG999", "--color", "always"])
    assert explain.exit_code == 2
    assert explain.stderr.startswith("\x1b[1;31mlayerguard:\x1b[0m unknown rule 'LG999'")
    parse = run_cli(["cards", "parse", "missing.md", "--color", "always"])
    assert parse == Run(2, "", "\x1b[1;31mlayerguard:\x1b[0m missing.md: no such file\n")


def _commands() -> list[tuple[str, click.Command]]:
    found = []

    def walk(command: click.Command, path: str) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(click.Context(command)):
                sub = command.get_command(click.Context(command), name)
                assert sub is not None
                walk(sub, f"{path} {name}".strip())
        else:
            found.append((path, command))

    walk(typer.main.get_command(app), "")
    return found


def test_every_command_that_parses_the_project_takes_quiet_and_color() -> None:
    """A command that parses the project (it has --cache-dir) can show the progress bar: it
    must take --quiet to hide it, and --color, as `check` does."""
    parsing = {}
    for path, command in _commands():
        options = {name for param in command.params for name in param.opts}
        if "--cache-dir" in options:
            parsing[path] = {"--quiet", "-q", "--color"} <= options
    assert parsing == {
        "baseline create": True,
        "baseline update": True,
        "cards generate": True,
        "cards sync": True,
        "check": True,
        "graph": True,
        "operations": True,
    }
