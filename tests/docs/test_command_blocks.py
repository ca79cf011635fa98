"""Every command block of the README files and docs/ runs as written.

Each shell block is found in the documents and has a plan below: it runs with bash in a fresh
temporary directory (a copy of the repository, or of the bundled example) with this test run's
virtualenv first on PATH, and its exit status and output are checked; or a named test of this
module runs it (the example's server, its requests); or it is not run, for a stated reason
(installing the published package, the test command itself, benchmarks that take minutes). A
new block without a plan fails `test_every_command_block_has_a_plan`.

The one substitution: the first README command creates `.venv` and installs the checkout into
it; the sandbox's `.venv` is a link to this run's virtualenv instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (
    "README.md",
    *sorted(f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")),
    "examples/hoc_app/README.md",
)
SHELL = {"sh", "bash", "console", "shell"}
FENCE = re.compile(r"^( {0,3})```([\w-]*)[^\n]*\n(.*?)^\1```[ \t]*$", re.S | re.M)
TIMING = re.compile(r" \(\d+ parsed, \d+ cached\) in \d+(\.\d+)?s\.$", re.M)
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && "
TIMEOUT = 600  # seconds: a limit on a hung command, not an assertion on speed


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    text: str

    @property
    def first(self) -> str:
        return self.text.strip().splitlines()[0].strip()


def command_blocks() -> list[Block]:
    blocks = []
    for document in DOCUMENTS:
        if document == "docs/rules.md":
            continue  # generated: its blocks are the rules' examples, run by their own test
        text = (ROOT / document).read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(2) in SHELL:
                line = text.count("\n", 0, match.start()) + 1
                blocks.append(Block(document, line, match.group(3)))
    return blocks


# --- sandboxes ----------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, **GIT_IDENTITY}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "docs test",
    "GIT_AUTHOR_EMAIL": "docs@example.invalid",
    "GIT_COMMITTER_NAME": "docs test",
    "GIT_COMMITTER_EMAIL": "docs@example.invalid",
}


def repository(tmp: Path) -> Path:
    """A copy of this checkout's files (as git sees them) in a git repository of its own, its
    `.venv` this run's virtualenv."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    copy = tmp / "repo"
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():
            target = copy / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (copy / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    _git(copy, "init", "-q")
    return copy


def example(tmp: Path) -> Path:
    """The bundled example in a git repository whose `origin/main` is its first commit."""
    copy = tmp / "hoc_app"
    shutil.copytree(ROOT / "examples" / "hoc_app", copy, ignore=_generated)
    _git(copy, "init", "-q")
    _git(copy, "add", "-A")
    _git(copy, "commit", "-q", "-m", "the example")
    _git(copy, "update-ref", "refs/remotes/origin/main", "HEAD")
    return copy


def broken_example(tmp: Path) -> Path:
    copy = example(tmp)
    _git(copy, "apply", "broken.patch")
    return copy


def example_without_contract(tmp: Path) -> Path:
    """A project in the hoc layout that has no layerguard.yaml yet (the README's adoption)."""
    copy = example(tmp)
    _git(copy, "rm", "-q", "layerguard.yaml")
    _git(copy, "commit", "-q", "-m", "no contract yet")
    _git(copy, "update-ref", "refs/remotes/origin/main", "HEAD")
    return copy


def _generated(directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name in (".layerguard_cache", "__pycache__", "hoc_app.db")}


# --- plans --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    cwd: Path


@dataclass(frozen=True)
class Run:
    """Run the block with bash (`set -eo pipefail`) in `sandbox(tmp)`; blocks of the same
    document named in `after` (by their first line) run first, in the same shell."""

    sandbox: Callable[[Path], Path]
    exit_code: int = 0
    after: tuple[str, ...] = ()
    replace: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()  # lines starting with these are not run (see `why`)
    why: str = ""
    check: Callable[[Outcome], None] | None = None


@dataclass(frozen=True)
class RunBy:
    """A test of this module runs the block (it needs a server, or other blocks around it)."""

    test: str


@dataclass(frozen=True)
class NotRun:
    why: str


def readme_output(document: str, marker: str) -> str:
    text = (ROOT / document).read_text(encoding="utf-8")
    start = text.index("```text\n", text.index(marker)) + len("```text\n")
    return text[start : text.index("```", start)]


def without_timing(text: str) -> str:
    return TIMING.sub(" (...)", text)


def example_clean(outcome: Outcome) -> None:
    printed = readme_output("README.md", "The first command prints")
    assert without_timing(outcome.stdout) == without_timing(printed)


def broken_findings(outcome: Outcome) -> None:
    pinned = readme_output("examples/hoc_app/README.md", "<!-- output: layerguard check (broken)")
    assert without_timing(outcome.stdout).endswith(without_timing(pinned))


def example_checks_clean(outcome: Outcome) -> None:
    lines = outcome.stdout.splitlines()
    assert lines[0].startswith("No findings in 47 files and 21 cards")
    assert lines[1].startswith("0 card(s) out of date, 21 up to date")
    assert lines[-1].startswith("7 operations: 7 registered")


def adopted(outcome: Outcome) -> None:
    assert (outcome.cwd / "layerguard.yaml").is_file()
    assert (outcome.cwd / ".layerguard-baseline.json").is_file()
    # The new layerguard.yaml is a change that affects every file, and is reported on itself.
    assert "layerguard: --changed: reporting on 69 files (1 changed" in outcome.stderr


def graphs_written(outcome: Outcome) -> None:
    assert (outcome.cwd / "layers.mmd").read_text(encoding="utf-8").startswith("flowchart")
    assert (outcome.cwd / "layers.dot").read_text(encoding="utf-8").startswith("digraph")


def module_graphs(outcome: Outcome) -> None:
    assert outcome.stdout.count("flowchart") == 2
    assert "digraph" in outcome.stdout


def baseline_committed(outcome: Outcome) -> None:
    assert (outcome.cwd / ".layerguard-baseline.json").is_file()


def cards_generated(outcome: Outcome) -> None:
    assert (outcome.cwd / "docs/cards/backend/app/db.md").is_file()
    assert "db.md" in outcome.stderr  # not where cards.paths reaches: a warning


def migrated(outcome: Outcome) -> None:
    shown = readme_output("docs/import-linter.md", "one direct import and two chains:")
    assert without_timing(outcome.stdout) == without_timing(shown)
    assert "  - id: routes\n" in (outcome.cwd / "layerguard.yaml").read_text(encoding="utf-8")


def broken_drivers(outcome: Outcome) -> None:
    assert outcome.stdout == "backend/app/hoc/cus/incidents/L6_drivers/incident_store.py\n"


INSTALLED = "installs the published package; the sandbox runs this checkout's install"
PLANS: dict[tuple[str, str], Run | RunBy | NotRun] = {
    (
        "README.md",
        INSTALL + "cd examples/hoc_app && ../../.venv/bin/layerguard check --statistics",
    ): Run(repository, replace={INSTALL: ""}, check=example_clean),
    ("README.md", INSTALL + ".venv/bin/python -m pytest -q"): NotRun(
        "the test command itself: .ci/run runs it"
    ),
    ("README.md", "root=$(git rev-parse --show-toplevel)"): Run(
        repository,
        exit_code=1,
        after=(INSTALL + "cd examples/hoc_app",),
        replace={INSTALL: ""},
        check=broken_findings,
    ),
    ("README.md", "pip install layerguard"): Run(
        example_without_contract, drop=("pip install",), why=INSTALLED, check=adopted
    ),
    ("README.md", ".venv/bin/python benchmarks/lint_speed.py"): NotRun(
        "benchmarks take minutes and judge themselves (PASS/FAIL), never in tests"
    ),
    ("docs/adoption.md", "layerguard check --statistics --exit-zero"): Run(
        example, check=graphs_written
    ),
    ("docs/adoption.md", "layerguard graph --layer L2"): Run(example, check=module_graphs),
    ("docs/adoption.md", "layerguard baseline create"): Run(example, check=baseline_committed),
    ("docs/adoption.md", "layerguard baseline update"): Run(
        example, after=("layerguard baseline create",)
    ),
    ("docs/adoption.md", "layerguard check --changed"): Run(example),
    ("docs/cards.md", "layerguard cards generate"): Run(example, check=cards_generated),
    ("docs/cards.md", "layerguard cards sync"): Run(example),
    ("docs/import-linter.md", "cat > .importlinter <<'EOF'"): Run(
        broken_example, exit_code=1, check=migrated
    ),
    ("docs/output.md", "layerguard check --output-format jsonl --exit-zero"): Run(
        broken_example, check=broken_drivers
    ),
    ("docs/robustness.md", "LAYERGUARD_FUZZ_EXAMPLES=2000"): NotRun(
        "the long fuzz run takes minutes; the test command runs the same test, shorter"
    ),
    ("docs/runtime.md", "pip install 'layerguard[fastapi,sqlalchemy]'"): NotRun(INSTALLED),
    ("docs/runtime.md", ".venv/bin/python benchmarks/runtime_overhead.py"): NotRun(
        "benchmarks judge themselves (PASS/FAIL), never in tests"
    ),
    ("docs/runtime.md", ".venv/bin/python benchmarks/runtime_faults.py"): NotRun(
        "benchmarks judge themselves (PASS/FAIL), never in tests"
    ),
    ("examples/hoc_app/README.md", "HOC_APP_DATABASE_URL=postgresql+asyncpg://"): RunBy(
        "test_the_example_runs_on_postgresql_as_its_readme_says"
    ),
    (
        "examples/hoc_app/README.md",
        "uvicorn app.main:app --app-dir examples/hoc_app/backend",
    ): RunBy("test_the_example_runs_as_its_readme_says"),
    ("examples/hoc_app/README.md", "curl -s -X POST localhost:8000/policies"): RunBy(
        "test_the_example_runs_as_its_readme_says"
    ),
    ("examples/hoc_app/README.md", "sqlite3 examples/hoc_app/hoc_app.db \\"): RunBy(
        "test_the_example_runs_as_its_readme_says"
    ),
    ("examples/hoc_app/README.md", "cd examples/hoc_app"): Run(
        repository, check=example_checks_clean
    ),
    ("examples/hoc_app/README.md", "copy=$(mktemp -d)"): Run(
        repository, exit_code=1, check=broken_findings
    ),
    ("examples/hoc_app/README.md", ".venv/bin/python -m pytest examples/hoc_app/tests"): NotRun(
        "the README's test command runs these tests"
    ),
}


def plan_of(block: Block) -> Run | RunBy | NotRun | None:
    found = [
        plan
        for (document, first), plan in PLANS.items()
        if document == block.document and block.first.startswith(first)
    ]
    assert len(found) <= 1, f"{block.document}:{block.line} matches {len(found)} plans"
    return found[0] if found else None


def block_of(document: str, first: str) -> Block:
    [block] = [b for b in command_blocks() if b.document == document and b.first.startswith(first)]
    return block


def test_every_command_block_has_a_plan() -> None:
    blocks = command_blocks()
    missing = [f"{b.document}:{b.line}: {b.first}" for b in blocks if plan_of(b) is None]
    assert missing == [], "command blocks no test runs; add a plan to PLANS"
    used = {
        (document, first)
        for document, first in PLANS
        for b in blocks
        if b.document == document and b.first.startswith(first)
    }
    assert set(PLANS) - used == set(), "plans of blocks the documents no longer have"
    for plan in PLANS.values():
        if isinstance(plan, RunBy):
            assert callable(globals().get(plan.test)), plan.test


def sandbox_env(tmp: Path) -> dict[str, str]:
    scratch = tmp / "scratch"
    scratch.mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR", "VIRTUAL_ENV", "PYTHONPATH")
    }
    bin_dir = Path(sys.executable).parent
    env.update(GIT_IDENTITY)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(scratch)
    return env


def script_of(block: Block, plan: Run) -> str:
    blocks = [block_of(block.document, first) for first in plan.after] + [block]
    lines = []
    for each in blocks:
        text = each.text
        for old, new in plan.replace.items():
            text = text.replace(old, new)
        lines += [line for line in text.splitlines() if not line.startswith(plan.drop or ("\0",))]
    # Where the block ended (its checks look there), whatever its exit status.
    ended = "trap 'pwd > \"$DOCS_TEST_PWD\"' EXIT\nset -eo pipefail\n"
    return ended + "\n".join(lines) + "\n"


def runnable() -> list[object]:
    return [
        pytest.param(block, plan, id=f"{block.document}:{block.line}")
        for block in command_blocks()
        if isinstance(plan := plan_of(block), Run)
    ]


@pytest.mark.parametrize(("block", "plan"), runnable())
def test_command_block_runs_as_written(block: Block, plan: Run, tmp_path: Path) -> None:
    start = plan.sandbox(tmp_path)
    ended = tmp_path / "ended-in"
    process = subprocess.run(
        ["bash", "-c", script_of(block, plan)],
        cwd=start,
        env={**sandbox_env(tmp_path), "DOCS_TEST_PWD": str(ended)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    cwd = Path(ended.read_text(encoding="utf-8").strip())
    outcome = Outcome(process.returncode, process.stdout, process.stderr, cwd)
    assert outcome.exit_code == plan.exit_code, (block.text, outcome)
    if plan.check is not None:
        plan.check(outcome)


# --- the example's server -----------------------------------------------------------------


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", "set -eo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_the_example_runs_as_its_readme_says(tmp_path: Path) -> None:
    """`uvicorn ...` from the repository root, the README's requests with curl, then its
    query of the audit table with sqlite3 (on a free port instead of 8000)."""
    repo = repository(tmp_path)
    env = sandbox_env(tmp_path)
    port = str(free_port())
    document = "examples/hoc_app/README.md"
    serve = block_of(document, "uvicorn app.main:app").text.strip() + f" --port {port}"
    requests = block_of(document, "curl -s -X POST").text.replace("8000", port)
    audit = block_of(document, "sqlite3 examples/hoc_app/hoc_app.db").text
    serving = running_server(
        ["bash", "-c", f"exec {serve}"],
        repo,
        env,
        f"http://127.0.0.1:{port}/health/operations",
        tmp_path / "server.log",
    )
    with serving:
        answered = bash(requests, repo, env)
    assert answered.returncode == 0, answered.stderr
    # curl prints each answer as it comes, without a line break between them.
    assert answered.stdout.count('"name":"mfa"') == 1
    assert answered.stdout.count('"title":"MFA disabled for bob"') == 2
    assert '"unknown_operation_calls":0' in answered.stdout  # the health route
    rows = bash(audit, repo, env)
    assert rows.returncode == 0, rows.stderr
    # incidents.report asks policies.get through the registry: the inner dispatch ends first.
    assert rows.stdout.splitlines() == [
        "policies.create|acme|ok||active|0",
        "policies.get|acme|ok||active|0",
        "incidents.report|acme|ok||active|0",
        "incidents.list|acme|ok||active|0",
    ]


def test_the_example_runs_on_postgresql_as_its_readme_says(
    tmp_path: Path, layerguard_postgres_url: str
) -> None:
    """The README's two-worker PostgreSQL command, on a throwaway server (its URL instead of
    the README's, a free port instead of 8000), then the README's requests."""
    repo = repository(tmp_path)
    env = {**sandbox_env(tmp_path), "HOC_APP_AUDIT_OUTBOX": str(tmp_path / "outbox")}
    port = str(free_port())
    document = "examples/hoc_app/README.md"
    block = block_of(document, "HOC_APP_DATABASE_URL=postgresql+asyncpg://").text.strip()
    url = block.split("=", 1)[1].split()[0]
    serve = block.replace(url, layerguard_postgres_url) + f" --port {port}"
    requests = block_of(document, "curl -s -X POST").text.replace("8000", port)
    serving = running_server(
        ["bash", "-c", serve],  # one simple command: bash execs uvicorn in its place
        repo,
        env,
        f"http://127.0.0.1:{port}/health/operations",
        tmp_path / "server.log",
    )
    with serving:
        answered = bash(requests, repo, env)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.count('"name":"mfa"') == 1
    assert answered.stdout.count('"title":"MFA disabled for bob"') == 2
