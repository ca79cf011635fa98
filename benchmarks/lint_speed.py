"""How fast is `layerguard check` on a project shaped like a real one, against its peers?

    .venv/bin/python benchmarks/lint_speed.py [--files 2000] [--rounds 5] [--dir DIR]

Generates a hoc backend with placement cards (benchmarks/synthetic_project.py), then measures,
each tool as a fresh process the way a user runs it, interleaved round by round, medians:

- warm (nothing changed): layerguard against import-linter (`lint-imports`, grimp's Rust
  parser and cache) on equivalent `forbidden` contracts;
- one file changed, a body edit and an import edit: layerguard against import-linter after the
  same change;
- cold (no cache): layerguard's CPU time against a bare `libcst.parse_module` of the same files
  on the same number of processes, and the wall time on 1 and on 2 processes (does it scale
  with cores as the parse does?);
- the peak resident memory of layerguard's process tree during a cold run;
- `layerguard check --watch`: the re-check after one saved file.

It asserts that the findings are identical with and without the cache, cold and warm, and
after each change; and that the import findings both tools can express agree with each other
and with the violations the generator planted. Every target is printed with its ratio and
PASS/FAIL; the exit status is 1 if any failed.
Then it measures import contracts on the same project (benchmarks/contracts_speed.py: the
import graph and one contract of every type, <= 0.3 s on a run the results cache does not
answer; a warm run stays warm), and a warm check with a 20,000-entry baseline on a project of
its own (benchmarks/baseline_speed.py: <= 1.5x the check with --no-baseline).
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from measure import (
    LAYERGUARD,
    LINT_IMPORTS,
    Timing,
    Verdicts,
    bare_parse,
    forbidden_contracts,
    importlinter_findings,
    layerguard_findings,
    median,
    run,
    seconds,
    summary,
    tool_env,
    warm_up,
)
from synthetic_project import Project, generate

MIB = 1024 * 1024


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
    return "\n".join(lines + forbidden_contracts(contracts))


def comparable_findings(findings: list[tuple[object, ...]]) -> set[tuple[str, str, int]]:
    """The import findings import-linter can express, as (importer, imported, line)."""
    found = set()
    for path, line, _col, code, _severity, _message, key in findings:
        if code not in ("LG101", "LG102", "LG103"):
            continue
        module = str(path).removeprefix("backend/").removesuffix(".py")
        importer = module.removesuffix("/__init__").replace("/", ".")
        imported = str(key)
        if code == "LG102" and not imported.startswith("app."):
            imported = imported.split(".")[0]  # import-linter squashes external packages
        found.add((importer, imported, int(str(line))))
    return found


# --- the edits ----------------------------------------------------------------------------


def body_edit(path: Path, number: int) -> None:
    """Change a statement inside a method body (line numbers stay)."""
    text = path.read_text("utf-8")
    match = re.search(r"total \+= item\['\w+'\] \* (\d+)", text) or re.search(
        r"        total = (\d+)", text
    )
    assert match is not None, path
    start, end = match.span(1)
    path.write_text(f"{text[:start]}{100 + number}{text[end:]}", "utf-8")


STDLIB = ("json", "csv", "enum", "uuid", "decimal", "string", "heapq", "bisect", "shlex", "zlib")


def import_edit(path: Path, number: int) -> None:
    """Import another module at the top of the module: the first edit adds a line (every line
    below moves), the next ones change it."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    edit = f"import {STDLIB[number % len(STDLIB)]}  # benchmark edit\n"
    for at, line in enumerate(lines):
        if line.endswith("# benchmark edit\n"):
            lines[at] = edit
            break
    else:
        lines.insert(lines.index("import time\n") + 1, edit)
    path.write_text("".join(lines), "utf-8")


# --- the run ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="Python files to generate")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement")
    parser.add_argument("--dir", type=Path, help="where to generate (default: a temp dir)")
    args = parser.parse_args()
    jobs = len(os.sched_getaffinity(0))

    root = args.dir or Path(tempfile.mkdtemp(prefix="layerguard-bench-"))
    project = generate(root, args.files)
    (root / ".importlinter").write_text(importlinter_config(project), encoding="utf-8")
    backend = root / "backend"
    sources = sorted(p for p in project.files if p.endswith(".py"))
    lines = [project.files[p].count("\n") for p in sources]
    print(
        f"project: {root}\n  {len(sources)} Python files ({sum(lines):,} lines: median "
        f"{sorted(lines)[len(lines) // 2]}, largest {max(lines)}), {project.cards} placement "
        f"cards; {jobs} cores"
    )
    warm_up(root, backend)
    check = [LAYERGUARD, "check", "--output-format", "json"]
    lint_imports = [LINT_IMPORTS, ".importlinter"]

    def layerguard(*extra: str, memory: bool = False) -> tuple[Timing, str, object]:
        ran = run([*check, *extra], root, memory=memory)
        return ran.timing, ran.stdout, ran.rss

    def importlinter() -> tuple[Timing, str]:
        ran = run(lint_imports, root, pythonpath=backend)
        if "Contracts:" not in ran.stdout:
            sys.exit(f"import-linter did not run its contracts:\n{ran.stdout[-3000:]}")
        return ran.timing, ran.stdout

    problems: list[str] = []

    def same(
        what: str, ours: list[tuple[object, ...]], reference: list[tuple[object, ...]]
    ) -> None:
        if ours != reference:
            problems.append(
                f"{what}: findings differ from --no-cache: only cached "
                f"{sorted(set(ours) - set(reference))[:5]}, only fresh "
                f"{sorted(set(reference) - set(ours))[:5]}"
            )

    # Cold: the bare parse and layerguard without a cache, on 1 and on `jobs` processes.
    paths = [root / p for p in sources]
    bare = {n: median([bare_parse(root, paths, n) for _ in range(2)]) for n in sorted({1, jobs})}
    colds: dict[int, list[Timing]] = {1: [], jobs: []}
    peak = None
    for number in range(2):
        for n in sorted({1, jobs}):
            if n == 1 and number:
                continue  # one single-process cold run is enough for the scaling figure
            shutil.rmtree(root / ".layerguard_cache", ignore_errors=True)
            timing, out, rss = layerguard("--jobs", str(n), memory=n == jobs)
            colds[n].append(timing)
            assert summary(out)["parsed"] == len(sources), summary(out)
            if n == jobs:
                peak = rss
                cold_findings = layerguard_findings(out)
    cold = {n: median(t) for n, t in colds.items()}
    log(f"cold: bare {bare}, layerguard {cold}")
    fresh = layerguard_findings(layerguard("--no-cache")[1])
    same("cold", cold_findings, fresh)

    # Warm: nothing changed since the previous run of each tool.
    layerguard()
    importlinter()
    time.sleep(2.1)  # older than the racy window: what a warm run usually sees
    warm, il_warm = [], []
    for _ in range(args.rounds):
        timing, out, _ = layerguard()
        assert summary(out)["parsed"] == 0, summary(out)
        warm.append(timing)
        il_warm.append(importlinter()[0])
    same("warm", layerguard_findings(out), fresh)
    il_out = importlinter()[1]
    log(f"warm: layerguard {median(warm)}, import-linter {median(il_warm)}")

    # One file changed, the same change for both tools.
    carded = [p for p in sources if "/L5_engines/" in p and p.endswith("_engine_3.py")]
    edited = root / carded[len(carded) // 2]
    changed: dict[str, tuple[list[Timing], list[Timing]]] = {}
    edits: dict[str, Callable[[Path, int], None]] = {
        "body edit": body_edit,
        "import edit": import_edit,
    }
    for name, edit in edits.items():
        ours, theirs = [], []
        for number in range(args.rounds):
            edit(edited, number)
            timing, out, _ = layerguard()
            assert summary(out)["parsed"] == 1, summary(out)
            ours.append(timing)
            theirs.append(importlinter()[0])
        same(
            f"after the {name}",
            layerguard_findings(out),
            layerguard_findings(layerguard("--no-cache")[1]),
        )
        changed[name] = (ours, theirs)
        log(f"{name}: layerguard {median(ours)}, import-linter {median(theirs)}")

    recheck = watch_recheck(root, edited, args.rounds)
    log(f"--watch re-check: {recheck:.3f}s")

    # --- report ---
    print("\nmedians of", args.rounds, "rounds (cold: 2 rounds)")
    print(f"  {'bare libcst parse, jobs=1':<34} {seconds(bare[1])}")
    print(f"  {f'bare libcst parse, jobs={jobs}':<34} {seconds(bare[jobs])}")
    print(f"  {'layerguard cold, jobs=1':<34} {seconds(cold[1])}")
    print(f"  {f'layerguard cold, jobs={jobs}':<34} {seconds(cold[jobs])}")
    print(f"  {'layerguard warm':<34} {seconds(median(warm))}")
    print(f"  {'import-linter warm':<34} {seconds(median(il_warm))}")
    for name, (ours, theirs) in changed.items():
        print(f"  {'layerguard after ' + name:<34} {seconds(median(ours))}")
        print(f"  {'import-linter after ' + name:<34} {seconds(median(theirs))}")
    print(f"  {'layerguard --watch re-check':<34} {recheck:6.3f}s (as it reports it)")
    assert peak is not None
    print(
        f"  {'layerguard cold peak RSS':<34} {peak.peak_total / MIB:6.1f} MB process tree "  # type: ignore[attr-defined]
        f"(largest process {peak.peak_single / MIB:.1f} MB)"  # type: ignore[attr-defined]
    )

    print("\ntargets")
    verdicts = Verdicts()
    w, iw = median(warm), median(il_warm)
    verdicts.ratio("warm vs import-linter warm", w.wall, iw.wall, 0.5, f"cpu {w.cpu / iw.cpu:.2f}x")
    for name, (ours, theirs) in changed.items():
        o, t = median(ours), median(theirs)
        verdicts.ratio(
            f"{name} vs import-linter, same change",
            o.wall,
            t.wall,
            1.0,
            f"cpu {o.cpu / t.cpu:.2f}x",
        )
    verdicts.ratio(
        f"cold cpu vs bare parse cpu (jobs={jobs})",
        cold[jobs].cpu,
        bare[jobs].cpu,
        1.3,
        f"wall {cold[jobs].wall / bare[jobs].wall:.2f}x",
    )
    ours_speedup = cold[1].wall / cold[jobs].wall
    bare_speedup = bare[1].wall / bare[jobs].wall
    verdicts.line(
        f"cold wall scales with cores (1 -> {jobs} jobs)",
        ours_speedup >= 0.9 * bare_speedup,
        f"{ours_speedup:.2f}x faster (bare parse {bare_speedup:.2f}x; target >= 90% of it)",
    )
    verdicts.line(
        "cold peak RSS of the process tree",
        peak.peak_total <= 200 * MIB,  # type: ignore[attr-defined]
        f"{peak.peak_total / MIB:.0f} MB (target <= 200 MB)",  # type: ignore[attr-defined]
    )
    verdicts.line(
        "--watch re-check after one saved file",
        recheck <= 0.15,
        f"{recheck:.3f}s (target <= 0.15 s)",
    )

    ours_imports = comparable_findings(fresh)
    theirs_imports = importlinter_findings(il_out)
    planted = project.expected_import_findings
    if ours_imports != theirs_imports:
        problems.append(
            f"import findings: only layerguard {sorted(ours_imports - theirs_imports)}, "
            f"only import-linter {sorted(theirs_imports - ours_imports)}"
        )
    if ours_imports != planted:
        problems.append(
            f"vs planted: missing {sorted(planted - ours_imports)}, "
            f"extra {sorted(ours_imports - planted)}"
        )
    verdicts.line(
        "findings identical with and without cache",
        not any("--no-cache" in p for p in problems),
        f"cold, warm, after each edit ({len(fresh)} findings)",
    )
    verdicts.line(
        "import findings agree with import-linter",
        ours_imports == theirs_imports == planted,
        f"layerguard {len(ours_imports)}, import-linter {len(theirs_imports)}, "
        f"planted {len(planted)}",
    )
    for problem in problems:
        print("  DISAGREE:", problem)

    # --- import contracts: benchmarks/contracts_speed.py (graph + every contract type) -----
    from contracts_speed import measure as measure_contracts

    contracts = measure_contracts(root)
    print("\nimport contracts (benchmarks/contracts_speed.py):\n" + "\n".join(contracts))
    verdicts.line(
        "import contracts (contracts_speed.py)",
        contracts[-1].endswith("PASS"),
        "graph and every contract type <= 0.3 s; a warm run stays warm",
    )
    # --- a large baseline: benchmarks/baseline_speed.py (its own project) ------------------
    from baseline_speed import measure as measure_baseline

    baseline_root = Path(tempfile.mkdtemp(prefix="layerguard-baseline-"))
    baseline = measure_baseline(baseline_root, rounds=args.rounds)
    shutil.rmtree(baseline_root, ignore_errors=True)
    print("\nbaseline (benchmarks/baseline_speed.py):\n" + "\n".join(baseline))
    verdicts.line(
        "warm check with a 20,000-entry baseline",
        baseline[-1].endswith("PASS"),
        "<= 1.5x the same check with --no-baseline",
    )
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if verdicts.failed else 0


def watch_recheck(root: Path, edited: Path, rounds: int) -> float:
    """The median re-check time `layerguard check --watch` reports after one saved file."""
    process = subprocess.Popen(
        [LAYERGUARD, "check", "--watch", "--output-format", "json"],
        cwd=root,
        env=tool_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stderr], daemon=True
    ).start()  # type: ignore[union-attr]

    def wait_for(fragment: str) -> str:
        while True:
            line = lines.get(timeout=120)
            if fragment in line:
                return line

    times: list[float] = []
    try:
        wait_for("watching")
        for number in range(rounds):
            body_edit(edited, 50 + number)
            match = re.search(r"re-checked in (\d+\.\d+)s", wait_for("re-checked in"))
            assert match is not None
            times.append(float(match.group(1)))
    except queue.Empty:
        sys.exit("layerguard check --watch did not report its re-checks")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return sorted(times)[len(times) // 2]


def log(message: str) -> None:
    """Progress of a long benchmark, on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
