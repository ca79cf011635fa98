"""Fixtures shared by the linter and CLI tests (their helpers are in tests/helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Run, invoke


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Run]:
    """`run_cli(args, cwd=tmp_path)` runs the real command line in-process."""

    def run(args: list[str], cwd: Path = tmp_path) -> Run:
        return invoke(args, cwd, monkeypatch)

    return run
