"""Does a large baseline keep `layerguard check` fast?

    .venv/bin/python benchmarks/baseline_speed.py [--files 2000] [--rounds 5] [--dir DIR]

Generates a hoc backend whose FILES routes each import 10 domain engines (10 LG101 findings
a file: 20,000 for 2,000 files), records them with `baseline create`, then times warm `check`
runs (answered by the results cache; the baseline is read by every run) with the baseline and
with `--no-baseline`, interleaved round by round, medians. Target: with the baseline <= 1.5x
without. Reading a baseline used to be quadratic in its entries (16 s for 20,000).
lint_speed.py runs it too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from measure import LAYERGUARD, Timing, finish, median, run, seconds
from synthetic_project import PRESET

TARGET = 1.5
ENGINES = 10


def generate(root: Path, files: int) -> None:
    """The project under `root` (wiped first)."""
    shutil.rmtree(root, ignore_errors=True)
    engines = root / "backend/app/hoc/cus/policies/L5_engines"
    engines.mkdir(parents=True)
    shutil.copy(PRESET, root / "layerguard.yaml")
    for number in range(ENGINES):
        (engines / f"engine_{number}.py").write_text("def run():\n    return 1\n")
    imports = "".join(
        f"from app.hoc.cus.policies.L5_engines import engine_{number}\n"
        for number in range(ENGINES)
    )
    for number in range(files):
        domain = root / f"backend/app/hoc/api/cus/domain_{number // 100}"
        domain.mkdir(parents=True, exist_ok=True)
        (domain / f"route_{number % 100}.py").write_text(imports)


def measure(root: Path, files: int = 2000, rounds: int = 5) -> list[str]:
    """Generate under `root` and measure; the report's lines, the last saying PASS or FAIL."""
    generate(root, files)
    check = [LAYERGUARD, "check", "--output-format", "json"]
    created = run([LAYERGUARD, "baseline", "create"], root)
    baseline = (root / ".layerguard-baseline.json").read_text(encoding="utf-8")
    entries = sum(
        len(keys) for codes in json.loads(baseline)["findings"].values() for keys in codes.values()
    )
    run([*check, "--no-baseline"], root)
    run(check, root)  # both warm from here on
    with_baseline: list[Timing] = []
    without: list[Timing] = []
    for _ in range(rounds):
        ran = run(check, root)
        assert '"findings": []' in ran.stdout, ran.stdout[-2000:]
        with_baseline.append(ran.timing)
        without.append(run([*check, "--no-baseline"], root).timing)
    ours, reference = median(with_baseline), median(without)
    ratio = ours.wall / reference.wall
    return [
        f"  {created.stdout.strip()} ({len(baseline):,} bytes)",
        f"  {f'warm check, {entries:,}-entry baseline':<34} {seconds(ours)}",
        f"  {'warm check, --no-baseline':<34} {seconds(reference)}",
        f"  baseline: {ratio:.2f}x the run without (median of {rounds}; target <= {TARGET}x) "
        f"{'PASS' if ratio <= TARGET else 'FAIL'}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="route files to generate")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement")
    parser.add_argument("--dir", type=Path, help="where to generate (default: a temp dir)")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="layerguard-baseline-"))
    lines = measure(root, args.files, args.rounds)
    return finish(lines, root, keep=args.dir is not None)


if __name__ == "__main__":
    sys.exit(main())
