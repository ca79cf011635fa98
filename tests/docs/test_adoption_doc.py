"""docs/adoption.md stays true: its snippets parse, its baseline example is a valid baseline,
and every command and option it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import typer.main
import yaml

from layerguard.cli.app import app
from layerguard.linter.baseline.file import parse_baseline
from layerguard.linter.baseline.model import EntryKey

DOCS = Path(__file__).parents[2] / "docs"
TEXT = (DOCS / "adoption.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^ *```{language}\n(.*?)^ *```$", TEXT, re.S | re.M)


def options_of(*path: str) -> set[str]:
    command: click.Command = typer.main.get_command(app)
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, path
        command = found
    return {option for param in command.params for option in param.opts}


def test_the_baseline_example_is_a_baseline() -> None:
    [example] = blocks("json")
    baseline = parse_baseline(example, "adoption.md")
    driver = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
    assert baseline.counts[EntryKey(driver, "LG201", "PolicyDriver.save_all:self._session.commit")]
    assert baseline.findings == 4


def test_the_yaml_snippets_parse_and_use_real_options() -> None:
    github, gitlab, pre_commit = (yaml.safe_load(block) for block in blocks("yaml"))
    steps = github["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert 'layerguard check --changed --base "origin/${{ github.base_ref }}"' in runs
    assert steps[0]["with"]["fetch-depth"] == 0
    assert "--changed --base" in gitlab["layerguard"]["script"][1]
    [hook] = pre_commit["repos"][0]["hooks"]
    assert hook["entry"] == "layerguard check --changed --base origin/main"
    assert hook["stages"] == ["pre-push"]


def test_every_command_and_option_named_exists() -> None:
    named = set(re.findall(r"`layerguard ([a-z]+(?: (?:create|update))?)((?: --?[a-z-]+)*)", TEXT))
    assert named
    for command, flags in named:
        known = options_of(*command.split())
        for flag in flags.split():
            assert flag in known, f"layerguard {command} has no {flag}"
    for flag in ("--changed", "--base", "--baseline", "--no-baseline"):
        assert flag in TEXT
        assert flag in options_of("check")
    assert {"--file", "--force"} <= options_of("baseline", "create")
    assert {"--file", "--allow-new"} <= options_of("baseline", "update")
    assert {"--layer", "--domain", "--output-format"} <= options_of("graph")


def test_relative_links_resolve() -> None:
    for target in re.findall(r"\]\(([^)#\s:]+)(?:#[^)\s]*)?\)", TEXT):
        assert (DOCS / target).is_file(), target
