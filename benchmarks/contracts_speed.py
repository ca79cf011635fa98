"""What import contracts cost a `layerguard check` that the results cache does not answer, and
that a warm run stays warm with them.

    .venv/bin/python benchmarks/contracts_speed.py [--files 2000] [--dir DIR]

lint_speed.py runs `measure` on its project too (its "contracts" section). On the synthetic
hoc project (benchmarks/synthetic_project.py) with one contract of every type
(`CONTRACTS`), each measurement is a fresh interpreter, as a user's run is:

- graph and contracts: the facts are loaded from the cache and indexed (not timed), then
  grimp is imported, the project import graph built and every contract rule (LG111-LG119)
  run, as a run that the results cache does not answer does. Target: <= 0.3 s (median).
- warm: `layerguard check` on the unchanged tree with the contracts, answered by the results
  cache; it must import neither grimp nor the graph (checked), and costs what a warm run
  without contracts costs (both printed).
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from measure import finish
from synthetic_project import generate

TARGET_SECONDS = 0.3
RUNS = 5
GRAPH = "layerguard.linter.graph"

CONTRACTS = """
contracts:
  - id: domain-layers
    name: Each domain is layered
    type: layers
    containers: ["app.hoc.cus.{domain}"]
    layers: [L5_engines, L6_drivers, "(L5_schemas)"]
  - id: hoc-layers
    name: Routes above the domains above the models
    type: layers
    layers: [app.hoc.api, app.hoc.cus, app.models]
  - id: domains
    name: Domains are independent
    type: independence
    modules: ["app.hoc.cus.{domain}"]
  - id: routes
    name: Routes never reach the database
    type: forbidden
    source_modules: [app.hoc.api]
    forbidden_modules: [app.models, app.db, sqlalchemy]
  - id: no-cycles
    name: No cycles
    type: acyclic_siblings
    ancestors: [app]
  - id: models
    name: Only drivers use the models
    type: protected
    protected_modules: [app.models]
    allowed_importers: ["app.hoc.cus.*.L6_drivers", app.db]
"""

PHASES = """
import json, sys, time
from pathlib import Path
from layerguard.contracts.config.loader import load_config
from layerguard.linter.project.build import build_index
from layerguard.linter.rules.registry import INDEX_RULES

config = load_config(Path(sys.argv[1]) / "layerguard.yaml")
index = build_index(config, jobs=2, use_cache=True).index
started = time.perf_counter()
import grimp
from layerguard.linter.graph.contracts import check_contracts
imported = time.perf_counter()
checks = check_contracts(index)
checked = time.perf_counter()
findings = [
    d for rule in INDEX_RULES if rule.code.startswith("LG11") for d in rule().check(index)
]
done = time.perf_counter()
print(json.dumps({
    "import": imported - started,
    "check": checked - imported,
    "findings": done - checked,
    "total": done - started,
    "violations": sum(len(c.violations) for c in checks.values()),
    "reported": len(findings),
}))
"""

PROBE = """
import sys
from layerguard.cli.app import main
try:
    main()
except SystemExit:
    pass
print(sorted(sys.modules), file=sys.stderr)
"""


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def _warm(root: Path) -> tuple[float, set[str]]:
    """The median time of a warm check, and the modules the last one imported."""
    command = [sys.executable, "-c", PROBE, "check", "--output-format", "json"]
    _run(command, root)  # fills the results cache
    times, modules = [], set()
    for _ in range(RUNS):
        started = time.perf_counter()
        done = _run(command, root)
        times.append(time.perf_counter() - started)
        modules = set(ast.literal_eval(done.stderr.strip().splitlines()[-1]))
        assert json.loads(done.stdout)["summary"]["parsed"] == 0, done.stdout[-500:]
    return statistics.median(times), modules


def measure(root: Path) -> list[str]:
    """Measure on the synthetic project at `root` (its layerguard.yaml is the hoc preset);
    return the report's lines, the last saying PASS or FAIL."""
    config = root / "layerguard.yaml"
    preset = config.read_text(encoding="utf-8")
    warm_without, _ = _warm(root)
    config.write_text(preset + CONTRACTS, encoding="utf-8")
    try:
        phases = []
        for _ in range(RUNS):
            done = _run([sys.executable, "-c", PHASES, str(root)], root)
            assert done.returncode == 0, done.stderr[-3000:]
            phases.append(json.loads(done.stdout))
        warm_with, modules = _warm(root)
    finally:
        config.write_text(preset, encoding="utf-8")
    total = statistics.median(p["total"] for p in phases)
    imported = [m for m in modules if m.split(".")[0] == "grimp" or m.startswith(GRAPH)]
    ok = total <= TARGET_SECONDS and not imported
    first = phases[0]
    return [
        f"  graph and {len(CONTRACTS.split('- id:')) - 1} contracts, not answered by the results "
        f"cache: {total:.3f} s median of {RUNS} (import grimp "
        f"{statistics.median(p['import'] for p in phases):.3f} s, graph and checks "
        f"{statistics.median(p['check'] for p in phases):.3f} s, findings "
        f"{statistics.median(p['findings'] for p in phases):.3f} s; {first['violations']} "
        f"violations, {first['reported']} findings; target <= {TARGET_SECONDS} s)",
        f"  warm check with the contracts: {warm_with:.3f} s, without: {warm_without:.3f} s "
        f"(median of {RUNS}); grimp and the graph imported by the warm run: "
        f"{sorted(imported) or 'none'}",
        f"  contracts: {'PASS' if ok else 'FAIL'}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="Python files to generate")
    parser.add_argument("--dir", type=Path, help="where to generate (default: a temp dir)")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="layerguard-contracts-"))
    generate(root, args.files)  # with the hoc preset as its layerguard.yaml
    layerguard = str(Path(sys.executable).parent / "layerguard")
    _run([layerguard, "check"], root)  # parse once: the facts cache is what a real run has
    lines = measure(root)
    return finish(lines, root, keep=args.dir is not None)


if __name__ == "__main__":
    sys.exit(main())
