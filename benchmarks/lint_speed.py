"""How fast is `layerguard check`, against the bare libcst parse and against import-linter?

    .venv/bin/python benchmarks/lint_speed.py [--files 2000] [--jobs N] [--dir DIR]

Generates a synthetic hoc-style project (benchmarks/synthetic_project.py), then measures in
one run, each tool as a fresh process the way a user runs it:

- layerguard cold (no cache), warm (unchanged tree), and after one file changed;
- the bare `libcst.parse_module` of the same files on the same number of processes (the floor
  for a cold run: layerguard must parse every file once);
- import-linter (`lint-imports`, grimp's Rust parser) with equivalent `forbidden` contracts
  (`allow_indirect_imports = True`), cold and warm;
- the peak resident memory of layerguard's process tree during the cold run.

It then compares the findings both tools can express (forbidden layer, module and
cross-domain imports) and exits 1 if they disagree. Targets on the 2-core reference machine:
warm <= 0.5x import-linter warm; one file changed <= 1 s; cold <= 1.5x the bare parse;
peak RSS <= 200 MB. Then it measures import contracts on the same project
(benchmarks/contracts_speed.py: the import graph and one contract of every type, <= 0.3 s on
a run the results cache does not answer; a warm run stays warm).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parent))

from synthetic_project import Project, generate

BIN = Path(sys.executable).parent
PRESET = Path(__file__).parent.parent / "layerguard/contracts/config/presets/hoc.yaml"

BARE_PARSE = """
import sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

def parse(path):
    import libcst
    try:
        libcst.parse_module(Path(path).read_bytes())
    except libcst.ParserSyntaxError:
        return 1
    return 0

if __name__ == "__main__":
    root, jobs = Path(sys.argv[1]), int(sys.argv[2])
    paths = sorted(str(p) for p in (root / "backend").rglob("*.py"))
    chunk = max(1, min(32, len(paths) // (jobs * 8)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(parse, paths, chunksize=chunk))
"""


def tool_env(pythonpath: Path | None = None) -> dict[str, str]:
    """The user's environment: bytecode caching on, whatever this shell says."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pythonpath is not None:  # import-linter imports the package to find it
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
    """Wall-clock seconds, and CPU seconds of the process and all its descendants.

    CPU time is what a ratio should be read from on a shared machine: other sessions'
    load stretches wall-clock time, not the work a run does.
    """

    wall: float
    cpu: float


def timed(
    command: list[str], cwd: Path, memory: bool = False, pythonpath: Path | None = None
) -> tuple[Timing, str, PeakRss | None]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
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
    if process.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{err[-3000:]}")
    return Timing(wall, cpu), out, rss


def best(timings: list[Timing]) -> Timing:
    """The fastest run by wall clock and by CPU, each on its own."""
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


# --- import-linter ------------------------------------------------------------------------


def importlinter_config(project: Project) -> str:
    """`forbidden` contracts equivalent to the hoc preset on this project's modules."""
    domains = project.domains
    spine = list(project.spine_modules)
    handlers = "app.hoc.cus.hoc_spine.orchestrator.handlers"
    services = "app.hoc.cus.hoc_spine.services"
    api, facades, models = "app.hoc.api.cus", "app.hoc.api.facades", "app.models"
    l5 = [f"app.hoc.cus.{d.name}.{p}" for d in domains for p in ("L5_engines", "L5_schemas")]
    l6 = [f"app.hoc.cus.{d.name}.L6_drivers" for d in domains]
    contracts = [
        # L2: routes may use their own domain's L5 schemas, which this project only does.
        (
            "L2",
            [api],
            [
                handlers,
                *[f"app.hoc.cus.{d.name}.L5_engines" for d in domains],
                *l6,
                models,
                "sqlalchemy",
                "sqlmodel",
                "app.db",
            ],
        ),
        ("L2.1", [facades], [*spine, handlers, services, *l5, *l6, models, "sqlalchemy", "app.db"]),
        ("L4", spine, [api, facades]),
        ("L4_handlers", [handlers], [api, facades]),
        ("L4_services", [services], [api, facades]),
        ("L5", l5, [api, facades, *spine, handlers]),
        ("L6", l6, [api, facades, *spine, handlers, services, *l5]),
        ("L7", [models], [api, facades, *spine, handlers, services, *l5, *l6]),
    ]
    for domain in domains:
        own = [f"app.hoc.cus.{domain.name}.{p}" for p in ("L5_engines", "L5_schemas", "L6_drivers")]
        others = [m for m in (*l5, *l6) if m not in own]
        contracts.append((f"cross-domain {domain.name}", own, others))
    lines = [
        "[importlinter]",
        "root_package = app",
        "include_external_packages = True",
        "exclude_type_checking_imports = True",
        "",
    ]
    for number, (name, sources, forbidden) in enumerate(contracts):
        lines += [f"[importlinter:contract:c{number}]", f"name = {name}", "type = forbidden"]
        lines += ["source_modules ="] + [f"    {m}" for m in sources]
        lines += ["forbidden_modules ="] + [f"    {m}" for m in forbidden]
        lines += ["allow_indirect_imports = True", "unmatched_ignore_imports_alerting = none", ""]
    return "\n".join(lines)


def importlinter_findings(output: str) -> set[tuple[str, str, int]]:
    found = set()
    pattern = r"(\S+) ->\s+(\S+)\s+\(((?:l\.\d+(?:, )?)+)\)"
    for importer, imported, lines in re.findall(pattern, output):
        for line in re.findall(r"l\.(\d+)", lines):
            found.add((importer, imported, int(line)))
    return found


def layerguard_findings(report: dict[str, object]) -> set[tuple[str, str, int]]:
    """The import findings import-linter can express, as (importer, imported, line)."""
    found = set()
    for finding in report["findings"]:  # type: ignore[attr-defined]
        if finding["code"] not in ("LG101", "LG102", "LG103"):
            continue
        path = finding["path"].removeprefix("backend/").removesuffix(".py")
        importer = path.removesuffix("/__init__").replace("/", ".")
        imported = finding["key"]
        if finding["code"] == "LG102" and not imported.startswith("app."):
            imported = imported.split(".")[0]  # import-linter squashes external packages
        found.add((importer, imported, finding["line"]))
    return found


# --- the run ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="Python files to generate")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--dir", type=Path, help="where to generate (default: a temp dir)")
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()

    root = args.dir or Path(tempfile.mkdtemp(prefix="layerguard-bench-"))
    project = generate(root, args.files)
    shutil.copy(PRESET, root / "layerguard.yaml")
    (root / ".importlinter").write_text(importlinter_config(project), encoding="utf-8")
    sources = [p for p in project.files if p.endswith(".py")]
    size = sum(len(project.files[p]) for p in sources)
    print(
        f"project: {root} ({len(sources)} Python files, {size / len(sources) / 1024:.1f} KiB "
        f"and {sum(project.files[p].count(chr(10)) for p in sources) // len(sources)} lines "
        f"on average), jobs={args.jobs}"
    )

    layerguard = [
        str(BIN / "layerguard"),
        "check",
        "--output-format",
        "json",
        "--jobs",
        str(args.jobs),
    ]
    lint_imports = [str(BIN / "lint-imports"), ".importlinter"]
    backend = root / "backend"
    # Compile both tools' bytecode once, as any installed tool has it.
    for command in ([str(BIN / "layerguard"), "--version"], [str(BIN / "lint-imports"), "--help"]):
        subprocess.run(command, cwd=root, env=tool_env(backend), capture_output=True, check=False)

    bare_command = [sys.executable, "-c", BARE_PARSE, str(root), str(args.jobs)]
    bare = best([timed(bare_command, root)[0] for _ in range(2)])

    shutil.rmtree(root / ".layerguard_cache", ignore_errors=True)
    cold, cold_out, rss = timed(layerguard, root, memory=True)
    assert rss is not None
    report = json.loads(cold_out)
    assert report["summary"]["parsed"] == report["summary"]["files"], report["summary"]
    warm = best([timed(layerguard, root)[0] for _ in range(args.warm_runs)])
    warm_report = json.loads(timed(layerguard, root)[1])
    assert warm_report["summary"]["parsed"] == 0, warm_report["summary"]

    changed_file = root / sources[len(sources) // 2]
    changed_runs = []
    for number in range(3):
        with changed_file.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# edit {number}\n")
        timing, out, _ = timed(layerguard, root)
        assert json.loads(out)["summary"]["parsed"] == 1
        changed_runs.append(timing)
    changed = best(changed_runs)

    shutil.rmtree(root / ".import_linter_cache", ignore_errors=True)
    il_cold, il_out, _ = timed(lint_imports, root, pythonpath=backend)
    if "Contracts:" not in il_out:
        sys.exit(f"import-linter did not run its contracts:\n{il_out[-3000:]}")
    il_warm = best(
        [timed(lint_imports, root, pythonpath=backend)[0] for _ in range(args.warm_runs)]
    )

    mib = 1024 * 1024

    def ratio(a: Timing, b: Timing) -> str:
        return f"{a.wall / b.wall:5.2f}x wall, {a.cpu / b.cpu:5.2f}x cpu"

    rows = [
        ("bare libcst parse", bare, ""),
        ("layerguard cold", cold, f"{ratio(cold, bare)} of bare parse (target <= 1.5x)"),
        ("layerguard warm", warm, f"{ratio(warm, il_warm)} of import-linter warm (target <= 0.5x)"),
        ("layerguard 1 file changed", changed, "target <= 1 s"),
        ("import-linter cold", il_cold, f"layerguard cold: {ratio(cold, il_cold)}"),
        ("import-linter warm", il_warm, ""),
    ]
    print(f"\n  {'':<28} {'wall':>8}   {'cpu':>8}")
    for name, timing, note in rows:
        print(f"  {name:<28} {timing.wall:7.3f}s  {timing.cpu:7.3f}s   {note}")
    print(
        f"  {'layerguard peak RSS':<28} {rss.peak_total / mib:7.1f} MB  process tree "
        f"(largest process {rss.peak_single / mib:.1f} MB; target <= 200 MB)"
    )
    print(f"  (best of 2 bare parses, best of {args.warm_runs} warm runs, best of 3 changed runs)")

    ours = layerguard_findings(report)
    theirs = importlinter_findings(il_out)
    expected = project.expected_import_findings
    print(
        f"\nfindings both tools can express: layerguard {len(ours)}, import-linter "
        f"{len(theirs)}, planted {len(expected)}"
    )
    by_code: dict[str, int] = report["summary"]["by_code"]
    print(f"layerguard findings by rule: {by_code}")
    problems = []
    if ours != theirs:
        problems.append(f"only layerguard: {sorted(ours - theirs)}")
        problems.append(f"only import-linter: {sorted(theirs - ours)}")
    if ours != expected:
        problems.append(
            f"layerguard vs planted: missing {sorted(expected - ours)}, "
            f"extra {sorted(ours - expected)}"
        )
    for problem in problems:
        print("DISAGREE:", problem)

    # --- import contracts: benchmarks/contracts_speed.py (graph + every contract type) -----
    from contracts_speed import measure as measure_contracts

    contracts = measure_contracts(root)
    print("\nimport contracts (benchmarks/contracts_speed.py):\n" + "\n".join(contracts))
    if not contracts[-1].endswith("PASS"):
        problems.append("import contracts: FAIL")
    # --- end of import contracts ---------------------------------------------------------

    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
