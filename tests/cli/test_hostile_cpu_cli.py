"""Issue 11, audit a1 items 8 to 13: input that made the linter spin (quadratic regexes and
scans, backtracking globs, an interpolation bomb), a change `--watch` missed, and input text
that reached the terminal unescaped, through the real command line.

The runs that used to take minutes or hang are processes of their own with a timeout (and
the 2 GiB address-space bound of the hostile-files tests), so that a regression fails the
test instead of stalling the suite. The timeouts are generous limits on a hang, not
assertions on speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Run, run_process, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
LG101 = ("LG101", ROUTE, 1)
BOUNDED = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))"
LONG = 200_000


def project(root: Path, extra_config: str = "") -> Path:
    root = write_project(
        root,
        {
            ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",
            ENGINE: "def evaluate():\n    return 1\n",
        },
    )
    if extra_config:
        config = root / "layerguard.yaml"
        config.write_text(config.read_text(encoding="utf-8") + extra_config, encoding="utf-8")
    return root


def layerguard(root: Path, *args: str, timeout: float = 60) -> Run:
    return run_process(list(args), root, timeout, BOUNDED)


# --- item 8: card lines that made the card regexes quadratic ----------------------------------


def test_card_lines_with_long_runs_of_spaces_parse_in_linear_time(tmp_path: Path) -> None:
    """`## x` + 300,000 spaces + `y` took 226 s (`\\S.*?[ \\t]*` retried at every space); the
    title, header and Transaction lines had the same pattern, and a heading of `(`s without a
    `)` scanned to the end of the line from each of them."""
    root = project(tmp_path)
    blanks = " " * LONG
    card = root / "literature/policy_engine.md"
    card.parent.mkdir()
    card.write_text(
        f"# policy_engine.py{blanks}x\n"
        f"**Path:** `{ENGINE}`{blanks}\n"
        f"## x{blanks}y\n"
        f"## {'(' * LONG}\n"
        "## Placement Card\n"
        "```\n"
        f"Transaction: Forbidden{blanks}- it calls nothing\n"
        "```\n",
        encoding="utf-8",
    )
    parsed = layerguard(root, "cards", "parse", "--output-format", "json", str(card))
    assert parsed.exit_code == 0, parsed.stderr
    [entry] = parsed.report["cards"]
    assert entry["errors"] == []
    data = entry["card"]
    assert data["title"] == {"value": f"policy_engine.py{blanks}x", "line": 1}
    assert data["source_path"] == {"value": ENGINE, "line": 2}
    assert [s["heading"] for s in data["sections"]] == [
        f"x{blanks}y",
        "(" * LONG,
        "Placement Card",
    ]
    transaction = f"Forbidden{blanks}- it calls nothing"
    assert data["placement"] == [{"key": "Transaction", "value": transaction, "line": 7}]

    run = layerguard(root, "check", "--no-cache", "--output-format", "json")
    assert run.exit_code == 1, run.stderr
    assert run.findings() == [LG101]  # the Transaction value is read: `Forbidden`, no LG304
    assert run.report["summary"] == {**run.report["summary"], "files": 2, "cards": 1}
