"""The command-line conventions ruff and import-linter users expect: colour on a terminal and
`--color`, `--show-settings`, `check --fix`, help texts that wrap cleanly."""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
import typer.main
import yaml
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.cli.options import wants_color
from layerguard.contracts.config.loader import parse_config
from layerguard.contracts.config.resolved import resolved_data
from tests.helpers import HOC_CONTRACT, Run, write_project

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
CARD = "literature/backend/app/hoc/cus/policies/L5_engines/policy_engine.md"
FILES = {
    ENGINE: '"""Policy rules."""\n\n\ndef evaluate(policy: str) -> bool:\n    return True\n',
    DRIVER: "async def save(session, row):\n    await session.commit()\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, FILES)


def plain(text: str) -> str:
    return ANSI.sub("", text)


def without_timing(text: str) -> str:
    return re.sub(r" in [0-9.]+s\.$", "", text.rstrip("\n"))


@pytest.mark.parametrize(
    ("choice", "environ", "terminal", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"NO_COLOR": ""}, True, True),  # empty means unset (no-color.org)
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_when_to_colour(
    choice: str, environ: dict[str, str], terminal: bool, expected: bool
) -> None:
    assert wants_color(choice, environ, terminal) is expected


def test_color_styles_the_text_report_and_changes_no_character(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    uncoloured = run_cli(["check", "--statistics", "--no-cache"])
    assert ANSI.search(uncoloured.stdout) is None  # not a terminal
    coloured = run_cli(["check", "--statistics", "--no-cache", "--color", "always"])
    assert coloured.exit_code == 1
    assert "\x1b[1;31mLG201\x1b[0m" in coloured.stdout
    assert without_timing(plain(coloured.stdout)) == without_timing(uncoloured.stdout)
    assert run_cli(["--color", "always", "check"]).stdout.count("\x1b[") > 0
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ANSI.search(run_cli(["check"]).stdout) is not None
    assert ANSI.search(run_cli(["check", "--color", "never"]).stdout) is None
    monkeypatch.setenv("NO_COLOR", "1")
    assert ANSI.search(run_cli(["check"]).stdout) is None


@pytest.mark.parametrize("fmt", ["json", "jsonl", "sarif", "github", "junit"])
def test_machine_readable_formats_are_never_coloured(
    project: Path, run_cli: Callable[..., Run], fmt: str
) -> None:
    run = run_cli(["check", "--color", "always", "--output-format", fmt])
    assert run.exit_code == 1
    assert "\x1b" not in run.stdout
    if fmt == "json":
        assert json.loads(run.stdout)["summary"]["findings"] == 1


def test_messages_on_stderr_are_coloured_too(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {}, "version: 1\nlayerz: []\n")
    run = run_cli(["check", "--color", "always"])
    assert run.exit_code == 2
    assert "\x1b[1;31mLG003\x1b[0m" in run.stderr
    assert plain(run.stderr) == run_cli(["check", "--color", "never"]).stderr
    unknown = run_cli(["--color", "always", "explain", "LG999"])
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("\x1b[1;31mlayerguard:\x1b[0m unknown rule 'LG999'")
    assert run_cli(["explain", "LG999"]).stderr.startswith("layerguard: unknown rule 'LG999'")


def test_warnings_go_through_the_shared_stderr_helper(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    """A `layerguard: warning:` line is coloured as the other stderr messages are (the --jobs
    cap was echoed plain, whatever --color said)."""
    write_project(tmp_path, {"backend/app/__init__.py": ""})
    run = run_cli(["check", "--no-cache", "--color", "always", "--jobs", "999"])
    assert run.exit_code == 0
    warning = "\x1b[1;33mlayerguard:\x1b[0m \x1b[1;33mwarning: \x1b[0m--jobs 999: using "
    assert run.stderr.startswith(warning), run.stderr
    assert plain(run.stderr) == run_cli(["check", "--no-cache", "--jobs", "999"]).stderr


def test_colour_on_a_real_terminal(project: Path) -> None:
    """Auto: colour when stdout is a terminal (a pseudo-terminal here), none when piped."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.pop("GITHUB_ACTIONS", None)
    command = [sys.executable, "-m", "layerguard", "check", "--no-cache"]
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            command, cwd=project, env=env, stdout=follower, stderr=subprocess.PIPE, timeout=60
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    on_terminal = b"".join(chunks).decode()
    assert process.returncode == 1
    assert "\x1b[1;31mLG201\x1b[0m" in on_terminal
    piped = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert "\x1b" not in piped.stdout
    assert f"{DRIVER}:2:11: LG201" in piped.stdout


def test_show_settings_prints_the_resolved_contract_and_checks_nothing(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    run = run_cli(["check", "--show-settings", "--select", "LG2,LG3", "--extend-ignore", "LG202"])
    assert run.exit_code == 0
    assert not (project / ".layerguard_cache").exists()
    data = yaml.safe_load(run.stdout)
    assert data["run"]["enabled_rules"] == [
        "LG201",
        "LG301",
        "LG302",
        "LG303",
        "LG304",
        "LG305",
        "LG306",
    ]
    assert data["run"]["output_format"] == "text"
    assert data["run"]["project_root"] == str(project)
    contract = data["contract"]
    assert contract["transactions"]["calls"] == ["commit", "rollback", "begin", "begin_nested"]
    assert contract["cards"]["root"] == "."
    assert [layer["id"] for layer in contract["layers"]][:2] == ["L2", "L2.1"]
    # The printed contract is the project's, and reads back as the same contract.
    path = project / "layerguard.yaml"
    assert contract == resolved_data(parse_config(HOC_CONTRACT, path))
    assert resolved_data(parse_config(yaml.safe_dump(contract, sort_keys=False), path)) == contract
    assert run.stdout.startswith("# layerguard check --show-settings")


def test_show_settings_says_why_transaction_rules_are_off(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {}, "version: 1\nlayers:\n  - {id: a, name: A, paths: [a]}\n")
    run = run_cli(["check", "--show-settings"])
    assert "# No `transactions:` section: LG201 and LG202 are off unless selected." in run.stdout
    assert "LG201" not in yaml.safe_load(run.stdout)["run"]["enabled_rules"]


def generated_card_project(project: Path, run_cli: Callable[..., Run]) -> None:
    assert run_cli(["cards", "generate", ENGINE]).exit_code == 0
    (project / ENGINE).write_text(
        FILES[ENGINE]
        + "\n\nimport httpx\n\n\ndef explain(policy: str) -> str:\n    return httpx.URL(policy)\n",
        encoding="utf-8",
    )


def test_fix_syncs_drifted_cards_and_reports_what_remains(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    generated_card_project(project, run_cli)
    before = run_cli(["check", "--output-format", "json"])
    assert sorted(code for code, _, _ in before.findings()) == ["LG201", "LG303", "LG305"]
    run = run_cli(["check", "--fix", "--output-format", "json"])
    assert run.exit_code == 1
    assert run.findings() == [("LG201", DRIVER, 2)]
    assert run.report["summary"]["fixed"] == 2
    assert run.stderr.splitlines() == [
        f"layerguard: fixed {CARD}: Functions; Export Contract (added `explain`); "
        "actual_imports (added `httpx`)"
    ]
    card = (project / CARD).read_text(encoding="utf-8")
    assert "name: explain" in card
    text = run_cli(["check"])
    assert text.stdout.splitlines()[-1].startswith("Found 1 finding in 2 files and 1 card")
    assert run_cli(["cards", "sync", "--check"]).exit_code == 0


def test_fix_says_how_many_were_fixed_and_leaves_baselined_findings_alone(
    project: Path, run_cli: Callable[..., Run]
) -> None:
    generated_card_project(project, run_cli)
    card_before = (project / CARD).read_bytes()
    run = run_cli(["check", "--fix", "--select", "LG3", "--no-cache"])
    assert run.stdout.splitlines()[-1].startswith(
        "Found 2 findings (2 fixed, 0 remaining) in 2 files and 1 card"
    )
    assert run.exit_code == 0
    (project / CARD).write_bytes(card_before)
    assert run_cli(["baseline", "create"]).exit_code == 0
    quiet = run_cli(["check", "--fix"])
    assert (project / CARD).read_bytes() == card_before
    assert quiet.exit_code == 0
    assert "fixed" not in quiet.stderr


def help_screens() -> list[tuple[str, ...]]:
    command = typer.main.get_command(app)
    screens: list[tuple[str, ...]] = [()]

    def walk(group: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(group, click.Group):
            for name in group.list_commands(click.Context(group)):
                sub = group.get_command(click.Context(group), name)
                assert sub is not None
                screens.append((*path, name))
                walk(sub, (*path, name))

    walk(command, ())
    return screens


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("path", help_screens(), ids=" ".join)
def test_help_wraps_at_the_terminal_width_only(path: tuple[str, ...], width: int) -> None:
    """Every line of a paragraph is as full as the terminal allows: the next word would not
    have fitted (no break where the docstring's source line happened to end); and no word is
    cut (rich ends a word longer than the option panel's help column with `…`)."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [text for text in lines if "…" in text] == []
    usage = next(i for i, text in enumerate(lines) if "Usage:" in text)
    description = lines[usage + 1 :]
    description = description[: next(i for i, text in enumerate(description) if "─" in text)]
    paragraphs: list[list[str]] = [[]]
    for line in description:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    commands = [text for text in lines if re.match(r"│ [a-z]+ {2,}\S", text)]
    for line, following in _pairs(paragraphs):
        assert len(line) + 1 + len(following.split()[0]) > width - 4, (line, following)
    for line, following in itertools.pairwise(lines):
        if line in commands and re.match(r"│ {3,}\S", following):
            text = following.strip("│ ")
            assert len(line.rstrip("│ ")) + 1 + len(text.split()[0]) > width - 4, line


def _pairs(paragraphs: list[list[str]]) -> list[tuple[str, str]]:
    return [
        (paragraph[i], paragraph[i + 1])
        for paragraph in paragraphs
        for i in range(len(paragraph) - 1)
    ]
