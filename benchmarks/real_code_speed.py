"""How fast is `layerguard check` on real code nobody here wrote, against import-linter?

    .venv/bin/python benchmarks/real_code_speed.py [--rounds 5] [--dir DIR]

The corpus is the packages installed in this environment from PyPI (SQLAlchemy, Starlette,
FastAPI, pydantic, Typer, Click, Rich, AnyIO, HTTPX, pytest, Hypothesis, ... about 1,000
files), copied into a project whose `layerguard.yaml` lays contracts over their sub-packages
(SQLAlchemy's util < sql < engine < orm layering, pydantic's v1 shim, libraries that must not
import the frameworks built on them), and an import-linter configuration with the same
contracts as `forbidden` contracts. Real code has real violations of such contracts (lazy
imports across the layering, mostly): both tools must report the same ones.

Measured, each tool a fresh process, interleaved, medians: warm (nothing changed) against
import-linter's warm run; cold against the bare libcst parse of the same files, for
information. Asserted: findings identical with and without the cache, cold and warm, and
equal to import-linter's on what both can express. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import sysconfig
import tempfile
import time
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
    warm_up,
)

PACKAGES = (
    "sqlalchemy",
    "starlette",
    "fastapi",
    "pydantic",
    "typer",
    "click",
    "rich",
    "anyio",
    "httpx",
    "httpcore",
    "h11",
    "_pytest",
    "pluggy",
    "hypothesis",
    "jsonschema",
    "uvicorn",
    "yaml",
)

SA = "sqlalchemy"
LAYERS: dict[str, tuple[str, list[str], list[str]]] = {
    # id: (package path, layers it must not import, modules it must not import)
    "sa_util": (f"{SA}/util", ["sa_sql", "sa_engine", "sa_orm", "sa_ext", "sa_dialects"], []),
    "sa_sql": (f"{SA}/sql", ["sa_engine", "sa_orm", "sa_ext", "sa_dialects"], []),
    "sa_engine": (f"{SA}/engine", ["sa_orm", "sa_ext"], []),
    "sa_orm": (f"{SA}/orm", ["sa_ext", "sa_dialects"], []),
    "sa_dialects": (f"{SA}/dialects", ["sa_orm", "sa_ext"], []),
    "sa_ext": (f"{SA}/ext", [], ["fastapi", "starlette"]),
    "pydantic_v1": ("pydantic/v1", ["pydantic_internal"], ["pydantic_core"]),
    "pydantic_internal": ("pydantic/_internal", ["pydantic_v1"], ["fastapi"]),
    "starlette": ("starlette", [], ["fastapi", "typer", "sqlalchemy"]),
    "click": ("click", [], ["typer", "rich"]),
    "http_clients": ("httpx", [], ["fastapi", "starlette", "uvicorn"]),
    "rich": ("rich", [], ["click", "typer", "pydantic"]),
    "anyio": ("anyio", [], ["starlette", "fastapi", "httpx"]),
    "pytest": ("_pytest", [], ["hypothesis", "pydantic"]),
}


def layerguard_config() -> str:
    lines = ["version: 1", "source_roots: [site]", "", "layers:"]
    for layer_id, (path, layers, modules) in LAYERS.items():
        lines += [f"  - id: {layer_id}", f"    name: {path}", f'    paths: ["site/{path}/**"]']
        if layers or modules:
            lines.append("    forbid:")
            if layers:
                lines.append(f"      layers: [{', '.join(layers)}]")
            if modules:
                lines.append(f"      modules: [{', '.join(modules)}]")
    lines += [
        "",
        "# Both tools count lazy and conditional imports, neither TYPE_CHECKING ones.",
        "import_scopes:",
        "  LG101: {type_checking: false}",
        "  LG102: {type_checking: false}",
        "",
    ]
    return "\n".join(lines)


def importlinter_config(packages: list[str]) -> str:
    lines = ["[importlinter]", "root_packages ="] + [f"    {p}" for p in packages]
    lines += ["include_external_packages = True", "exclude_type_checking_imports = True", ""]
    module = {layer_id: path.replace("/", ".") for layer_id, (path, _, _) in LAYERS.items()}
    contracts = [
        (layer_id, [path.replace("/", ".")], [module[other] for other in layers] + modules)
        for layer_id, (path, layers, modules) in LAYERS.items()
        if layers or modules
    ]
    return "\n".join(lines + forbidden_contracts(contracts))


def comparable_findings(
    findings: list[tuple[object, ...]], packages: set[str]
) -> set[tuple[str, str, int]]:
    """LG101/LG102 findings as (importer, imported, line), as import-linter prints them."""
    found = set()
    for path, line, _col, code, _severity, _message, key in findings:
        if code not in ("LG101", "LG102"):
            continue
        module = str(path).removeprefix("site/").removesuffix(".py")
        importer = module.removesuffix("/__init__").replace("/", ".")
        imported = str(key)
        if imported.split(".")[0] not in packages:
            imported = imported.split(".")[0]  # import-linter squashes external packages
        found.add((importer, imported, int(str(line))))
    return found


def copy_corpus(root: Path) -> list[str]:
    """The installed packages' Python files, copied under `root/site`."""
    site = Path(sysconfig.get_paths()["purelib"])
    copied = []
    for package in PACKAGES:
        source = site / package
        if not source.is_dir():
            continue
        for path in sorted(source.rglob("*.py")):
            relative = path.relative_to(site)
            target = root / "site" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        copied.append(package)
    return copied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement")
    parser.add_argument("--dir", type=Path, help="where to copy the corpus (default: temp)")
    args = parser.parse_args()
    jobs = len(os.sched_getaffinity(0))

    root = args.dir or Path(tempfile.mkdtemp(prefix="layerguard-real-"))
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    packages = copy_corpus(root)
    (root / "layerguard.yaml").write_text(layerguard_config(), encoding="utf-8")
    (root / ".importlinter").write_text(importlinter_config(packages), encoding="utf-8")
    site = root / "site"
    paths = sorted(site.rglob("*.py"))
    lines = sum(path.read_bytes().count(b"\n") for path in paths)
    print(f"corpus: {root}\n  {len(paths)} files, {lines:,} lines: {', '.join(packages)}")
    warm_up(root, site)
    check = [LAYERGUARD, "check", "--output-format", "json"]
    lint_imports = [LINT_IMPORTS, ".importlinter"]

    def importlinter() -> tuple[Timing, str]:
        ran = run(lint_imports, root, pythonpath=site)
        if "Contracts:" not in ran.stdout:
            sys.exit(f"import-linter did not run its contracts:\n{ran.stdout[-3000:]}")
        return ran.timing, ran.stdout

    bare = median([bare_parse(root, paths, jobs) for _ in range(2)])
    colds = []
    for _ in range(2):
        shutil.rmtree(root / ".layerguard_cache", ignore_errors=True)
        ran = run(check, root)
        assert summary(ran.stdout)["parsed"] == len(paths), summary(ran.stdout)
        colds.append(ran.timing)
        cold_findings = layerguard_findings(ran.stdout)
    fresh = layerguard_findings(run([*check, "--no-cache"], root).stdout)
    il_cold = importlinter()[0]
    time.sleep(2.1)  # older than the racy window: what a warm run usually sees
    run(check, root)
    warm, il_warm = [], []
    for _ in range(args.rounds):
        ran = run(check, root)
        assert summary(ran.stdout)["parsed"] == 0, summary(ran.stdout)
        warm.append(ran.timing)
        timing, il_out = importlinter()
        il_warm.append(timing)
    warm_findings = layerguard_findings(ran.stdout)
    cold = median(colds)

    print(f"\nmedians of {args.rounds} rounds (cold: 2 rounds), jobs={jobs}")
    print(f"  {'bare libcst parse':<30} {seconds(bare)}")
    print(f"  {'layerguard cold':<30} {seconds(cold)}")
    print(f"  {'import-linter cold':<30} {seconds(il_cold)}")
    print(f"  {'layerguard warm':<30} {seconds(median(warm))}")
    print(f"  {'import-linter warm':<30} {seconds(median(il_warm))}")

    print("\ntargets")
    verdicts = Verdicts()
    w, iw = median(warm), median(il_warm)
    verdicts.ratio("warm vs import-linter warm", w.wall, iw.wall, 0.5, f"cpu {w.cpu / iw.cpu:.2f}x")
    verdicts.ratio(
        "cold cpu vs bare parse cpu (information)",
        cold.cpu,
        bare.cpu,
        1.3,
        f"wall {cold.wall / bare.wall:.2f}x",
    )
    identical = cold_findings == fresh == warm_findings
    verdicts.line(
        "findings identical with and without cache",
        identical,
        f"cold, warm and --no-cache ({len(fresh)} findings)",
    )
    ours = comparable_findings(fresh, set(packages))
    theirs = importlinter_findings(il_out)
    verdicts.line(
        "import findings agree with import-linter",
        ours == theirs,
        f"layerguard {len(ours)}, import-linter {len(theirs)}",
    )
    if ours != theirs:
        print("  only layerguard:", sorted(ours - theirs)[:20])
        print("  only import-linter:", sorted(theirs - ours)[:20])
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if verdicts.failed else 0


if __name__ == "__main__":
    sys.exit(main())
