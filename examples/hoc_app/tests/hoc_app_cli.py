"""Running the real layerguard CLI on the example, and the outputs its README shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from layerguard.cli.app import app as cli
from typer.testing import CliRunner

EXAMPLE = Path(__file__).resolve().parents[1]
README = EXAMPLE / "README.md"
_TIMING = re.compile(r" \(\d+ parsed, \d+ cached\) in \d+(\.\d+)?s\.$", re.M)


def layerguard(monkeypatch: pytest.MonkeyPatch, project: Path, *args: str) -> tuple[int, str, str]:
    """``layerguard ARGS`` with ``project`` as the working directory (as the README runs it)."""
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def readme_output(command: str) -> str:
    """The output block the README shows under ``<!-- output: COMMAND -->``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"<!-- output: {command} -->\n```text\n")
    start = text.index("\n", text.index("```text", start)) + 1
    return text[start : text.index("```", start)]


def without_timing(output: str) -> str:
    """Parse/cache counts and the elapsed time vary from run to run."""
    return _TIMING.sub(" (...)", output)
