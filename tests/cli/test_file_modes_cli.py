"""Issue 11, item 7: written cards and baselines get the mode a user expects: an existing file
keeps its own, a new one gets the umask's (they were 0600, and an existing 0664 card was reset
to 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import Run, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
ROUTE_CARD = "literature/backend/app/hoc/api/cus/policies/policies.md"
ENGINE_CARD = "literature/backend/app/hoc/cus/policies/L5_engines/policy_engine.md"
BASELINE = ".layerguard-baseline.json"


@pytest.fixture(params=[0o022, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path,
        {
            ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",
            ENGINE: "def evaluate():\n    return 1\n",
        },
    )


def test_new_cards_get_the_umask_mode(
    project: Path, umask: int, run_cli: Callable[..., Run]
) -> None:
    assert run_cli(["cards", "generate"]).exit_code == 0
    for card in (ROUTE_CARD, ENGINE_CARD):
        assert mode(project / card) == 0o666 & ~umask


def test_existing_cards_keep_their_mode(
    project: Path, umask: int, run_cli: Callable[..., Run]
) -> None:
    assert run_cli(["cards", "generate"]).exit_code == 0
    (project / ROUTE_CARD).chmod(0o664)
    (project / ENGINE_CARD).chmod(0o640)
    (project / ENGINE).write_text("def evaluate():\n    return 2\n\n\ndef other():\n    pass\n")
    synced = run_cli(["cards", "sync"])
    assert synced.exit_code == 0, synced.stderr
    assert f"synced {ENGINE_CARD}" in synced.stdout
    assert mode(project / ENGINE_CARD) == 0o640
    assert run_cli(["cards", "generate", "--force"]).exit_code == 0
    assert (mode(project / ROUTE_CARD), mode(project / ENGINE_CARD)) == (0o664, 0o640)


def test_baselines_get_the_umask_mode_and_keep_their_own(
    project: Path, umask: int, run_cli: Callable[..., Run]
) -> None:
    assert run_cli(["baseline", "create"]).exit_code == 0
    assert mode(project / BASELINE) == 0o666 & ~umask
    (project / BASELINE).chmod(0o664)
    (project / ROUTE).write_text("")
    assert run_cli(["baseline", "update"]).exit_code == 0
    assert "app.hoc" not in (project / BASELINE).read_text()
    assert mode(project / BASELINE) == 0o664
    assert run_cli(["baseline", "create", "--force"]).exit_code == 0
    assert mode(project / BASELINE) == 0o664
