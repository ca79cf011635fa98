"""The worker processes that parse files: one that dies costs only its file, and none outlives
the run (issue 11, items 1 and 8).

Faults are planted by a prelude that wraps facts extraction before the real command line
starts; the workers it forks inherit it, so the crash, the kill or the stall happens in a real
worker, on a real file, through the real run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import run_process, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
PLANTED = "backend/app/hoc/cus/policies/L5_engines/planted.py"

PRELUDE = """
import os, pathlib, signal, time
import layerguard.linter.facts.extract as extract

real = extract.extract_facts

def planted(source, settings):
    if b"# segfault" in source:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"# out of memory" in source:
        os.kill(os.getpid(), signal.SIGKILL)
    if b"# flaky crash" in source and not os.path.exists("crashed-once"):
        pathlib.Path("crashed-once").touch()
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"# stall" in source:
        pathlib.Path("stalled").touch()
        time.sleep(120)
    if b"# spin" in source:
        while True:
            pass
    return real(source, settings)

extract.extract_facts = planted
"""
# Limits a test can reach in a second: 1 s of CPU per file, 128 MB of address space.
SMALL_LIMITS = """
from layerguard.linter.project import extraction

extraction.WorkerLimits.cpu_seconds = property(lambda self: 1)
extraction.WorkerLimits.memory_bytes = property(lambda self: 128 << 20)
"""


def project(root: Path, planted: str, others: int = 20) -> Path:
    files = {
        ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",  # an LG101
        ENGINE: "def evaluate():\n    return 1\n",
        PLANTED: f"import os  {planted}\n",
    }
    files.update({f"backend/app/models/m{n}.py": f"X = {n}\n" for n in range(others)})
    return write_project(root, files)


def findings(stdout: str) -> list[tuple[str, str, str]]:
    return [(f["code"], f["path"], f["message"]) for f in json.loads(stdout)["findings"]]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_worker_that_crashes_costs_only_its_file(tmp_path: Path, jobs: str) -> None:
    root = project(tmp_path, "# segfault")
    run = run_process(["check", "--output-format", "json", "--jobs", jobs], root, prelude=PRELUDE)
    assert run.exit_code == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert [(code, path) for code, path, _ in findings(run.stdout)] == [
        ("LG101", ROUTE),
        ("LG001", PLANTED),
    ]
    assert findings(run.stdout)[1][2] == (
        "not analysed: the process analysing it crashed (SIGSEGV); exclude it (`exclude` in "
        "layerguard.yaml); please report it"
    )
    assert json.loads(run.stdout)["summary"]["files"] == 23


def test_a_worker_killed_for_its_memory_costs_only_its_file(tmp_path: Path) -> None:
    run = run_process(
        ["check", "--output-format", "json"], project(tmp_path, "# out of memory"), prelude=PRELUDE
    )
    assert run.exit_code == 1, run.stderr
    assert ("LG001", PLANTED) in [(code, path) for code, path, _ in findings(run.stdout)]
    assert (
        "not analysed: the process analysing it was ended (SIGKILL), most likely for needing "
        "more memory than a worker may take (1,024 MB); exclude it (`exclude` in "
        "layerguard.yaml)"
    ) in run.stdout


def test_a_file_that_takes_too_long_is_stopped_by_the_cpu_limit(tmp_path: Path) -> None:
    root = project(tmp_path, "# spin")
    run = run_process(["check", "--output-format", "json"], root, prelude=PRELUDE + SMALL_LIMITS)
    assert run.exit_code == 1, run.stderr
    assert [(code, path) for code, path, _ in findings(run.stdout)] == [
        ("LG101", ROUTE),
        ("LG001", PLANTED),
    ]
    assert findings(run.stdout)[1][2] == (
        "not analysed: its analysis took more than 1 s of CPU time; exclude it (`exclude` in "
        "layerguard.yaml)"
    )


def test_a_file_that_needs_too_much_memory_is_stopped_by_the_limit(tmp_path: Path) -> None:
    """A list of 100,000 small integers needs ~250 MB to parse."""
    root = project(tmp_path, "")
    (root / PLANTED).write_text("x = [" + "0, " * 100_000 + "]\n")
    run = run_process(["check", "--output-format", "json"], root, prelude=SMALL_LIMITS)
    assert run.exit_code == 1, run.stderr
    assert ("LG001", PLANTED) in [(code, path) for code, path, _ in findings(run.stdout)]
    [message] = [m for code, _, m in findings(run.stdout) if code == "LG001"]
    # Where the allocation fails decides how: a MemoryError, or the Rust parser aborting.
    assert message.startswith("not analysed: ")
    assert message.endswith(
        "more memory than a worker may take (128 MB); exclude it (`exclude` in layerguard.yaml)"
    )


def test_a_crash_that_does_not_repeat_costs_nothing(tmp_path: Path) -> None:
    """The file is tried once more, alone: a worker killed for another reason (the machine
    ran out of memory) does not make its file a finding."""
    root = project(tmp_path, "# flaky crash")
    run = run_process(["check", "--output-format", "json"], root, prelude=PRELUDE)
    assert (tmp_path / "crashed-once").exists()
    assert run.exit_code == 1, run.stderr
    assert [code for code, _, _ in findings(run.stdout)] == ["LG101"]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped by whoever adopted it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


Stalled = Callable[..., tuple["subprocess.Popen[bytes]", list[int]]]


@pytest.fixture
def stalled_run(tmp_path: Path) -> Iterator[Stalled]:
    """Start `layerguard ARGS` on a project where a worker stalls on a file for two minutes;
    returns the process and its workers (a process still running at the end is killed)."""
    root = project(tmp_path, "# stall")
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> tuple[subprocess.Popen[bytes], list[int]]:
        code = f"{PRELUDE}\nfrom layerguard.cli.app import main\nmain()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a process group of its own, as a terminal job has
        )
        started.append(process)
        deadline = time.monotonic() + 30
        while not (root / "stalled").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = children(process.pid)
        assert workers, "the run started no worker"
        return process, workers

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def no_worker_left(workers: list[int]) -> list[int]:
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in workers if alive(pid)]


@pytest.mark.parametrize("command", [["check"], ["cards", "sync"]])
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_killing_the_run_ends_its_workers(
    stalled_run: Stalled, command: list[str], how: signal.Signals
) -> None:
    process, workers = stalled_run(*command)
    os.kill(process.pid, how)
    process.communicate(timeout=10)
    assert process.returncode == -how
    assert no_worker_left(workers) == []


def test_ctrl_c_ends_the_run_with_130_and_no_worker_left(stalled_run: Stalled) -> None:
    process, workers = stalled_run("check")
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends: the whole process group
    out, err = process.communicate(timeout=10)
    assert process.returncode == 130
    assert (out, err) == (b"", b"")
    assert no_worker_left(workers) == []
