"""What both linter benchmarks share: running a tool as a fresh process the way a user runs
it, timing it (wall clock and the CPU of its whole process tree), sampling its memory, the
bare libcst parse that a cold run is compared with, and the PASS/FAIL lines.

The machine is shared (2 cores, other people's test suites): every figure is the median of
several rounds, the tools are interleaved round by round, and CPU time is printed beside wall
time because load stretches wall time, not the work a run does.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

BIN = Path(sys.executable).parent
LAYERGUARD = str(BIN / "layerguard")
LINT_IMPORTS = str(BIN / "lint-imports")

BARE_PARSE = """
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

def parse(path):
    import libcst
    try:
        libcst.parse_module(Path(path).read_bytes())
    except Exception:
        return 1
    return 0

if __name__ == "__main__":
    jobs = int(sys.argv[1])
    paths = Path(sys.argv[2]).read_text().split("\\n")
    if jobs == 1:
        list(map(parse, paths))
    else:
        chunk = max(1, min(32, len(paths) // (jobs * 8)))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(parse, paths, chunksize=chunk))
"""
"""`libcst.parse_module` of every file, nothing else, on `jobs` processes: the floor of a
cold run, which must parse every file once."""


def tool_env(pythonpath: Path | None = None) -> dict[str, str]:
    """The user's environment: bytecode caching on, no cache directory from this shell."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("LAYERGUARD_CACHE_DIR", None)
    if pythonpath is not None:  # import-linter imports the packages it analyses
        env["PYTHONPATH"] = str(pythonpath)
    return env


class PeakRss:
    """Samples the resident memory of a process tree (the process and its descendants)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_total = 0
        self.peak_single = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        tree, stack = [], [self.pid]
        while stack:
            pid = stack.pop()
            tree.append(pid)
            stack.extend(children.get(pid, []))
        return tree

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = []
            for pid in self._tree():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                match = re.search(r"VmRSS:\s+(\d+) kB", status)
                if match:
                    sizes.append(int(match.group(1)) * 1024)
            if sizes:
                self.peak_total = max(self.peak_total, sum(sizes))
                self.peak_single = max(self.peak_single, max(sizes))
            time.sleep(0.02)


class Timing(NamedTuple):
    """Wall-clock seconds, and CPU seconds of the process and all its descendants."""

    wall: float
    cpu: float


class Ran(NamedTuple):
    timing: Timing
    stdout: str
    stderr: str
    rss: PeakRss | None


def run(
    command: Sequence[str],
    cwd: Path,
    memory: bool = False,
    pythonpath: Path | None = None,
    ok: tuple[int, ...] = (0, 1),
) -> Ran:
    """Run `command` as a fresh process; exit the benchmark if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=tool_env(pythonpath),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if memory:
        with PeakRss(process.pid) as rss:
            out, err = process.communicate()
    else:
        rss = None
        out, err = process.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode not in ok:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{err[-3000:]}")
    return Ran(Timing(wall, cpu), out, err, rss)


def median(timings: Sequence[Timing]) -> Timing:
    return Timing(
        statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings)
    )


def warm_up(cwd: Path, pythonpath: Path | None = None) -> None:
    """Compile both tools' bytecode once, as any installed tool has it."""
    for command in ([LAYERGUARD, "--version"], [LINT_IMPORTS, "--help"]):
        subprocess.run(command, cwd=cwd, env=tool_env(pythonpath), capture_output=True)


def bare_parse(cwd: Path, paths: Sequence[Path], jobs: int) -> Timing:
    listing = cwd / ".bare-parse-files"
    listing.write_text("\n".join(map(str, paths)), encoding="utf-8")
    try:
        return run([sys.executable, "-c", BARE_PARSE, str(jobs), str(listing)], cwd).timing
    finally:
        listing.unlink()


def layerguard_findings(stdout: str) -> list[tuple[Any, ...]]:
    """Every finding of a JSON report, with every field."""
    report = json.loads(stdout)
    return sorted(
        (f["path"], f["line"], f["col"], f["code"], f["severity"], f["message"], f["key"])
        for f in report["findings"]
    )


def summary(stdout: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stdout)["summary"]
    return data


class Verdicts:
    """The targets of a benchmark: each printed with its measured ratio and PASS/FAIL."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def ratio(self, name: str, ours: float, theirs: float, target: float, detail: str) -> None:
        value = ours / theirs if theirs else float("inf")
        self.line(name, value <= target, f"{value:5.2f}x (target <= {target}x); {detail}")

    def line(self, name: str, passed: bool, text: str) -> None:
        print(f"  {'PASS' if passed else 'FAIL'}  {name:<44} {text}")
        if not passed:
            self.failed.append(name)


def seconds(timing: Timing) -> str:
    return f"{timing.wall:6.3f}s wall, {timing.cpu:6.3f}s cpu"


# --- import-linter ------------------------------------------------------------------------


def forbidden_contracts(contracts: list[tuple[str, list[str], list[str]]]) -> list[str]:
    """import-linter `forbidden` contracts (name, source modules, forbidden modules), direct
    imports only (`allow_indirect_imports`), as layerguard's layer rules judge them."""
    lines: list[str] = []
    for number, (name, sources, forbidden) in enumerate(contracts):
        lines += [f"[importlinter:contract:c{number}]", f"name = {name}", "type = forbidden"]
        lines += ["source_modules ="] + [f"    {m}" for m in sources]
        lines += ["forbidden_modules ="] + [f"    {m}" for m in forbidden]
        lines += ["allow_indirect_imports = True", "unmatched_ignore_imports_alerting = none", ""]
    return lines


def importlinter_findings(output: str) -> set[tuple[str, str, int]]:
    """import-linter's broken contracts as (importer, imported, line)."""
    found = set()
    pattern = r"(\S+) ->\s+(\S+)\s+\(((?:l\.\d+(?:, )?)+)\)"
    for importer, imported, lines in re.findall(pattern, output):
        for line in re.findall(r"l\.(\d+)", lines):
            found.add((importer, imported, int(line)))
    return found


def finish(lines: list[str], root: Path, keep: bool) -> int:
    """Print a measurement's report, remove its project unless `keep`; the exit status of a
    report whose last line says PASS or FAIL."""
    print("\n".join(lines))
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if lines[-1].endswith("PASS") else 1
