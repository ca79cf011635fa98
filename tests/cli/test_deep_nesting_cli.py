"""Issue 11, item 1: a deeply nested file is LG001, in bounded time, for every command that
reads the project; the run goes on for every other file.

Each command runs in a process of its own: the defect was a segmentation fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_process, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
DEEP = "backend/app/hoc/api/cus/policies/dp.py"
PARENTHESES = "x = " + "(" * 2000 + "1" + ")" * 2000 + "\n"  # the file, as printed
BRACKETS_MESSAGE = (
    "too deeply nested to analyse (brackets nested more than 200 deep); split it into "
    "smaller expressions, or exclude the file (`exclude` in layerguard.yaml)"
)
FILES = {
    ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",  # an LG101
    ENGINE: "def evaluate():\n    return 1\n",
}


def project(root: Path, deep: str = PARENTHESES, others: int = 0) -> Path:
    files = {**FILES, DEEP: deep}
    files.update({f"backend/app/models/m{n}.py": f"X = {n}\n" for n in range(others)})
    return write_project(root, files)


def lg001(stdout: str) -> list[tuple[str, int, str]]:
    return [
        (f["path"], f["line"], f["message"])
        for f in json.loads(stdout)["findings"]
        if f["code"] == "LG001"
    ]


def test_check_reports_it_and_every_other_finding(tmp_path: Path) -> None:
    run = run_process(["check", "--output-format", "json"], project(tmp_path))
    assert run.exit_code == 1, run.stderr
    assert lg001(run.stdout) == [(DEEP, 1, BRACKETS_MESSAGE)]
    codes = [(f["code"], f["path"]) for f in json.loads(run.stdout)["findings"]]
    assert ("LG101", ROUTE) in codes
    assert run.stderr == ""


def test_check_with_enough_files_for_the_worker_processes(tmp_path: Path) -> None:
    """The issue's second symptom: a BrokenProcessPool traceback and exit 1."""
    root = project(tmp_path, others=30)
    run = run_process(["check", "--output-format", "json", "--jobs", "2"], root)
    assert run.exit_code == 1, run.stderr
    assert lg001(run.stdout) == [(DEEP, 1, BRACKETS_MESSAGE)]
    assert json.loads(run.stdout)["summary"]["files"] == 33
    assert "Traceback" not in run.stderr


def too_deep(what: str) -> str:
    return (
        f"too deeply nested to analyse ({what}); split it into smaller expressions, or exclude "
        "the file (`exclude` in layerguard.yaml)"
    )


DEEP_EXPRESSION = too_deep("an expression nested more than 2400 levels deep")


@pytest.mark.parametrize("terms", [5000, 10000])
def test_a_long_sum_is_refused_before_it_is_parsed(tmp_path: Path, terms: int) -> None:
    """5,000 terms took 18 s, 10,000 terms 74 s and then a segmentation fault."""
    deep = "x = " + "+".join(["1"] * terms) + "\n"
    run = run_process(["check", "--output-format", "json"], project(tmp_path, deep), timeout=30)
    assert run.exit_code == 1, run.stderr
    assert lg001(run.stdout) == [(DEEP, 1, DEEP_EXPRESSION)]


CHAINS = {
    # The audit's files: each got past the estimate and was parsed for 4-10 s until the
    # worker was ended for taking more than 1,024 MB (SIGABRT).
    "2,500 conditional expressions": (
        "x = " + " if c else ".join(["1"] * 2500) + "\n",
        DEEP_EXPRESSION,
    ),
    "3,000 conditional expressions": (
        "x = " + " if c else ".join(["1"] * 3000) + "\n",
        DEEP_EXPRESSION,
    ),
    "3,000 lambdas": ("x = " + "lambda: " * 3000 + "1\n", DEEP_EXPRESSION),
    # Under the old estimate too: ~550 MB.
    "3,000 unary minus": ("x = " + "- " * 3000 + "1\n", DEEP_EXPRESSION),
    # Each statement within the limit, together ~950 MB: libcst keeps what each one took.
    "5 statements of 1,000 lambdas": (
        ("x = " + "lambda: " * 1000 + "1\n") * 5,
        too_deep("too many deeply nested expressions"),
    ),
}


@pytest.mark.parametrize("name", CHAINS)
def test_a_chain_that_would_take_gigabytes_is_refused_before_it_is_parsed(
    tmp_path: Path, name: str
) -> None:
    deep, message = CHAINS[name]
    run = run_process(["check", "--output-format", "json"], project(tmp_path, deep), timeout=60)
    assert run.exit_code == 1, run.stderr
    line = 2 if "statements" in name else 1
    assert lg001(run.stdout) == [(DEEP, line, message)]
    assert run.stderr == ""


def test_operations_lists_the_rest_and_names_the_file(tmp_path: Path) -> None:
    run = run_process(["operations"], project(tmp_path))
    assert run.exit_code == 0
    assert run.stderr == (
        "layerguard: warning: 1 file(s) do not parse, so their registry calls are missing: "
        f"{DEEP} (`layerguard check` says why)\n"
    )


def test_graph_is_drawn(tmp_path: Path) -> None:
    run = run_process(["graph"], project(tmp_path))
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout.startswith("flowchart")


def test_cards_generate_describes_every_other_file(tmp_path: Path) -> None:
    run = run_process(["cards", "generate"], project(tmp_path))
    assert run.exit_code == 1
    assert run.stderr == f"{DEEP}: not described: it does not parse (see LG001)\n"
    assert run.stdout.splitlines()[-1] == "2 card(s) written, 0 kept, 1 not described."


def test_baseline_create_records_it(tmp_path: Path) -> None:
    run = run_process(["baseline", "create"], project(tmp_path))
    assert run.exit_code == 0, run.stderr
    baseline = json.loads((tmp_path / ".layerguard-baseline.json").read_text())
    assert baseline["findings"][DEEP] == {"LG001": {"syntax": 1}}
