"""Helpers for running the real CLI on projects written to a temporary directory."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from layerguard.cli.app import app

HOC_PRESET = (files("layerguard.contracts.config") / "presets" / "hoc.yaml").read_text("utf-8")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def findings(self, code: str | None = None) -> list[tuple[str, str, int]]:
        return [
            (f["code"], f["path"], f["line"])
            for f in self.report["findings"]
            if code is None or f["code"] == code
        ]


def write_project(root: Path, files_: Mapping[str, str], config: str | None = HOC_PRESET) -> Path:
    if config is not None:
        (root / "layerguard.yaml").write_text(config, encoding="utf-8")
    for relative, text in files_.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def invoke(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(cwd)
    # Inside GitHub Actions `check` would default to annotations; tests expect the text report.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Run]:
    """`run_cli(args, cwd=tmp_path)` runs the real command line in-process."""

    def run(args: list[str], cwd: Path = tmp_path) -> Run:
        return invoke(args, cwd, monkeypatch)

    return run
