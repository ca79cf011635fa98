"""The progress bar of a long cold run: on a terminal's stderr only, never beside
machine-readable output, never with --quiet; --quiet also silences the informational notes
and the summary line. Every command that parses the whole project shows it, not only `check`."""

from __future__ import annotations

import errno
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Run, write_project

DRIVERS = "backend/app/hoc/cus/policies/L6_drivers"
LAYERGUARD = str(Path(sys.executable).parent / "layerguard")


@pytest.fixture
def many_files(tmp_path: Path) -> Path:
    files = {f"{DRIVERS}/driver_{n:03}.py": f"X = {n}\n" for n in range(250)}
    return write_project(tmp_path, files)


def on_a_terminal(
    root: Path, *args: str, command: tuple[str, ...] = ("check",)
) -> tuple[int, str, str]:
    """Run `layerguard COMMAND ARGS` with stderr on a pseudo-terminal (stdout a file)."""
    controller, terminal = pty.openpty()
    stdout = root / "stdout.txt"  # a file, not a pipe: a big report cannot block the run
    with stdout.open("wb") as handle:
        process = subprocess.Popen(
            [LAYERGUARD, *command, *args],
            cwd=root,
            stdout=handle,
            stderr=terminal,
            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
        )
        os.close(terminal)
        seen = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError as error:  # EIO: the process closed the terminal
                if error.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            seen += chunk
        os.close(controller)
        code = process.wait(timeout=60)
    return code, stdout.read_text("utf-8"), seen.decode(errors="replace")


def test_a_long_cold_run_on_a_terminal_shows_a_progress_bar(many_files: Path) -> None:
    code, out, terminal = on_a_terminal(many_files, "--jobs", "1")
    assert code == 0
    assert "layerguard: parsing" in terminal
    assert "/250" in terminal
    assert "parsing" not in out
    assert out.startswith("No findings in 250 files")


@pytest.mark.parametrize(
    "args",
    [("--output-format", "json"), ("--output-format", "sarif"), ("--quiet",), ("-q",)],
    ids=["json", "sarif", "quiet", "q"],
)
def test_no_bar_beside_machine_readable_output_or_with_quiet(
    many_files: Path, args: tuple[str, ...]
) -> None:
    code, out, terminal = on_a_terminal(many_files, "--jobs", "1", *args)
    assert code == 0
    assert "parsing" not in terminal
    assert "parsing" not in out


def test_no_bar_without_a_terminal(many_files: Path) -> None:
    run = subprocess.run([LAYERGUARD, "check"], cwd=many_files, capture_output=True, text=True)
    assert (run.returncode, run.stderr) == (0, "")


def test_no_bar_on_a_warm_run(many_files: Path) -> None:
    on_a_terminal(many_files)
    code, _, terminal = on_a_terminal(many_files)
    assert (code, "parsing" in terminal) == (0, False)


def test_quiet_silences_the_notes_and_the_summary(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/d.py": "async def f(s):\n    await s.commit()\n"})
    assert run_cli(["baseline", "create"]).exit_code == 0
    loud = run_cli(["check"])
    assert loud.stderr == "layerguard: 1 baselined finding hidden (.layerguard-baseline.json)\n"
    assert run_cli(["check", "--quiet"]) == Run(0, "", "")  # no finding: nothing at all


BAR_COMMANDS = {  # the command, and all it prints on stdout ({root}: the project)
    "baseline create": (
        ("baseline", "create"),
        "wrote {root}/.layerguard-baseline.json: 0 findings in 0 files; `layerguard check` now "
        "reports only new findings\n",
    ),
    "cards generate": (("cards", "generate"), "0 card(s) written, 0 kept, 0 not described.\n"),
    "cards sync": (
        ("cards", "sync"),
        "0 card(s) synced, 0 up to date, 0 skipped (no file), 0 could not be synced.\n",
    ),
    "graph text": (("graph", "--output-format", "text"), "layers\n"),
    "init": (  # it ends with a check of the project under the contract it wrote
        ("init", "--preset", "hoc", "--force"),
        "wrote layerguard.yaml (preset 'hoc')\n"
        "its layers hold 250 of 250 Python files (L2 0, L2.1 0, L4 0, L4_handlers 0, "
        "L4_services 0, L5 0, L6 250, L7 0); `layerguard layers` lists them, `layerguard check` "
        "checks them\n"
        "`layerguard check` reports 8 findings with it on the current code: LG004 empty-scope "
        "×8\n"
        "Fix them, change layerguard.yaml where it does not describe the architecture you want, "
        "or accept them for now with `layerguard baseline create` so that only new ones fail.\n",
    ),
    "operations": (("operations",), "No operations: no registry calls in 250 files.\n"),
}


@pytest.mark.parametrize("name", BAR_COMMANDS)
def test_every_command_that_parses_the_project_shows_the_bar(many_files: Path, name: str) -> None:
    command, printed = BAR_COMMANDS[name]
    code, out, terminal = on_a_terminal(many_files, command=command)
    assert code == 0
    assert "layerguard: parsing" in terminal
    assert "/250" in terminal
    assert out == printed.format(root=many_files)


def test_baseline_update_shows_the_bar_on_a_cold_run(many_files: Path) -> None:
    create = subprocess.run(
        [LAYERGUARD, "baseline", "create", "--no-cache"], cwd=many_files, capture_output=True
    )
    assert (create.returncode, create.stderr) == (0, b"")
    code, out, terminal = on_a_terminal(many_files, command=("baseline", "update"))
    assert code == 0
    assert "layerguard: parsing" in terminal
    assert out.startswith(f"{many_files / '.layerguard-baseline.json'}: 0 findings removed")


@pytest.mark.parametrize(
    "command",
    [
        ("baseline", "create", "-q"),
        ("cards", "generate", "--quiet"),
        ("cards", "sync", "-q"),
        ("graph", "--output-format", "text", "-q"),
        ("init", "--preset", "hoc", "--force", "-q"),
        ("graph",),  # Mermaid, read by a program
        ("graph", "--output-format", "dot"),
        ("operations", "--quiet"),
        ("operations", "--output-format", "json"),
    ],
    ids=" ".join,
)
def test_no_bar_beside_machine_readable_output_or_with_quiet_on_any_command(
    many_files: Path, command: tuple[str, ...]
) -> None:
    code, out, terminal = on_a_terminal(many_files, command=command)
    assert (code, "parsing" in terminal, "parsing" in out) == (0, False, False)
