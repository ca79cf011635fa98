"""Where the cache lives (--cache-dir, $LAYERGUARD_CACHE_DIR) and why it can move: it is keyed
by content, so a cache made in one clone serves another clone at another path, and CI can
restore it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.linter.caching.database import DATABASE_NAME
from tests.helpers import Run, write_project

DRIVERS = "backend/app/hoc/cus/policies/L6_drivers"


def project_at(root: Path) -> Path:
    root.mkdir(parents=True)
    return write_project(root, files())


def files(count: int = 30) -> dict[str, str]:
    found = {f"{DRIVERS}/d{n:02}.py": f"import os\n\nX = {n}\n" for n in range(count)}
    found[f"{DRIVERS}/bad.py"] = "async def f(s):\n    await s.commit()\n"
    return found


def parsed(run: Run) -> int:
    count: int = run.report["summary"]["parsed"]
    return count


def test_cache_dir_option_moves_the_cache(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    project = project_at(tmp_path / "project")
    cache = tmp_path / "ci-cache"
    first = run_cli(["check", "--output-format", "json", "--cache-dir", str(cache)], project)
    assert parsed(first) == 31
    assert (cache / DATABASE_NAME).is_file()
    assert (cache / "CACHEDIR.TAG").is_file()
    assert not (project / ".layerguard_cache").exists()
    again = run_cli(["check", "--output-format", "json", "--cache-dir", str(cache)], project)
    assert (parsed(again), again.findings()) == (0, first.findings())


def test_the_environment_variable_moves_it_and_the_option_wins(
    tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = project_at(tmp_path / "project")
    from_env, from_option = tmp_path / "env-cache", tmp_path / "option-cache"
    monkeypatch.setenv("LAYERGUARD_CACHE_DIR", str(from_env))
    # (run_cli clears the variable for hermetic tests: call the command line directly.)
    from typer.testing import CliRunner

    from layerguard.cli.app import app

    monkeypatch.chdir(project)
    runner = CliRunner()
    assert runner.invoke(app, ["check"]).exit_code == 1
    assert (from_env / DATABASE_NAME).is_file()
    runner.invoke(app, ["check", "--cache-dir", str(from_option)])
    assert (from_option / DATABASE_NAME).is_file()
    assert not (project / ".layerguard_cache").exists()


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_a_cache_copied_into_a_fresh_clone_elsewhere_parses_only_what_differs(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    """What CI does with a restored cache: another checkout path, other mtimes and inodes,
    the same content except the branch's changes."""
    origin = project_at(tmp_path / "origin")
    git(origin, "init", "-q")
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "main")
    assert parsed(run_cli(["check", "--output-format", "json"], origin)) == 31

    clone = tmp_path / "elsewhere" / "clone"
    clone.parent.mkdir()
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    shutil.copytree(origin / ".layerguard_cache", clone / ".layerguard_cache")
    (clone / DRIVERS / "d07.py").write_text("import sqlalchemy\n\nX = 7\n", "utf-8")
    (clone / DRIVERS / "new.py").write_text("async def g(s):\n    await s.rollback()\n", "utf-8")

    run = run_cli(["check", "--output-format", "json"], clone)
    assert parsed(run) == 2
    uncached = run_cli(["check", "--output-format", "json", "--no-cache"], clone)
    assert (
        run.findings()
        == uncached.findings()
        == [
            ("LG201", f"{DRIVERS}/bad.py", 2),
            ("LG201", f"{DRIVERS}/new.py", 2),
        ]
    )
    assert parsed(run_cli(["check", "--output-format", "json"], clone)) == 0


EVERY_COMMAND_READING_THE_PROJECT = {
    "check": ["check"],
    "operations": ["operations"],
    "graph": ["graph"],
    "cards generate": ["cards", "generate", "--out", "literature"],
    "cards sync": ["cards", "sync", "--check"],
    "baseline create": ["baseline", "create"],
    "baseline update": ["baseline", "update"],
}


@pytest.mark.parametrize(
    "command", EVERY_COMMAND_READING_THE_PROJECT.values(), ids=EVERY_COMMAND_READING_THE_PROJECT
)
def test_every_command_that_reads_the_project_takes_the_cache_options(
    tmp_path: Path, run_cli: Callable[..., Run], command: list[str]
) -> None:
    """A CI job that moves the cache with --cache-dir moves it for every command it runs, and
    --no-cache leaves no cache behind."""
    project = project_at(tmp_path / "project")
    if command[0] == "baseline" and command[1] == "update":
        assert run_cli(["baseline", "create", "--no-cache"], project).exit_code == 0
    cache = tmp_path / "ci-cache"
    moved = run_cli([*command, "--cache-dir", str(cache)], project)
    assert moved.exit_code in (0, 1), moved.stderr
    assert (cache / DATABASE_NAME).is_file()
    assert not (project / ".layerguard_cache").exists()
    shutil.rmtree(project / "literature", ignore_errors=True)
    (project / ".layerguard-baseline.json").unlink(missing_ok=True)
    if command[0] == "baseline" and command[1] == "update":
        assert run_cli(["baseline", "create", "--no-cache"], project).exit_code == 0
    without = run_cli([*command, "--no-cache"], project)
    assert without.exit_code == moved.exit_code, without.stderr
    assert not (project / ".layerguard_cache").exists()
