"""The results cache: an unchanged tree reuses the previous findings, any change recomputes."""

from __future__ import annotations

import ast
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from layerguard.linter.caching.database import DATABASE_NAME
from layerguard.linter.project import index as index_module
from layerguard.linter.rules import runner
from tests.helpers import HOC_CONTRACT, Run, write_project

DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
CARD = "literature/gone.md"


def age_tree(root: Path, seconds: float = 30.0) -> None:
    """Make every file look written well before now, so no input is racy."""
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


CONTRACTS = """
contracts:
  - id: no-db
    name: Routes never reach the database
    type: forbidden
    source_modules: [app.hoc.api]
    forbidden_modules: [sqlalchemy]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(
        tmp_path,
        {
            DRIVER: "async def save(s):\n    await s.commit()\n",
            ROUTE: "import sqlalchemy\n",
            CARD: "# gone.py\n\n**Path:** `backend/app/gone.py`\n**Layer:** L7 — Models\n",
        },
    )
    age_tree(tmp_path)
    return tmp_path


def forbid_indexing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the project was indexed although nothing changed")

    monkeypatch.setattr(index_module.ProjectIndex, "__init__", refuse)


EXPECTED = [("LG102", ROUTE, 1), ("LG201", DRIVER, 2), ("LG301", CARD, 3)]


def test_unchanged_tree_reuses_findings_without_indexing(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_cli(["check", "--output-format", "json"])
    assert sorted(first.findings()) == EXPECTED
    forbid_indexing(monkeypatch)
    second = run_cli(["check", "--output-format", "json"])
    assert second.findings() == first.findings()
    assert second.exit_code == 1
    # Report paths filter the reused findings like fresh ones.
    narrowed = run_cli(["check", "--output-format", "json", DRIVER])
    assert narrowed.findings() == [("LG201", DRIVER, 2)]


def test_any_input_change_recomputes(project: Path, run_cli: Callable[..., Run]) -> None:
    run_cli(["check"])
    # A Python file changes (even keeping its size).
    (project / DRIVER).write_text("async def save(s):\n    await s.flush()\n", "utf-8")
    age_tree(project, 10)
    assert sorted(run_cli(["check", "--output-format", "json"]).findings()) == [
        ("LG102", ROUTE, 1),
        ("LG301", CARD, 3),
    ]
    # The file a card describes appears: the card is no longer stale (but its layer is
    # wrong: the file is outside every layer).
    (project / "backend/app/gone.py").write_text("", "utf-8")
    age_tree(project, 10)
    assert sorted(run_cli(["check", "--output-format", "json"]).findings()) == [
        ("LG102", ROUTE, 1),
        ("LG306", CARD, 4),
    ]
    # The contract changes.
    (project / "layerguard.yaml").write_text(
        HOC_CONTRACT.replace("modules: [sqlalchemy, sqlmodel, app.db]", "modules: [sqlmodel]", 1),
        "utf-8",
    )
    age_tree(project, 10)
    assert run_cli(["check", "--output-format", "json"]).findings() == [("LG306", CARD, 4)]
    # Another selection of rules is another run.
    assert run_cli(["check", "--output-format", "json", "--select", "LG1"]).findings() == []


def count_rule_runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that grows by one each time the rules run (the findings were not reused). The
    index itself may be built while a run waits for its workers, before it knows whether the
    findings are known."""
    ran: list[bool] = []
    original = runner.run_rules

    def counting(*args: Any, **kwargs: Any) -> Any:
        ran.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(runner, "run_rules", counting)
    return ran


def test_recently_modified_files_are_judged_by_their_content(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli(["check"])
    driver = project / DRIVER
    driver.write_text("async def save(s):\n    await s.rollback()\n", "utf-8")
    rules_ran = count_rule_runs(monkeypatch)
    # Racy (written just now): its stat data cannot vouch for it, its content hash can.
    first = run_cli(["check", "--output-format", "json"])
    again = run_cli(["check", "--output-format", "json"])
    assert rules_ran == [True]
    assert first.findings() == again.findings()
    assert ("LG201", DRIVER, 2) in again.findings()
    # Same size, same mtime, other content: a miss.
    stat = driver.stat()
    driver.write_text("async def save(s):\n    await s.flush()   \n", "utf-8")
    os.utime(driver, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ("LG201", DRIVER, 2) not in run_cli(["check", "--output-format", "json"]).findings()
    assert rules_ran == [True, True]


def test_an_edit_keeping_size_and_mtime_is_never_answered_from_the_cache(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 11: a same-length line replaced, `touch -r` with the old file, on a tree older
    than the racy window (so the run key holds stat data, not content hashes)."""
    time.sleep(2.1)  # the ctimes of a fresh tree cannot be aged: wait out the racy window
    rules_ran = count_rule_runs(monkeypatch)
    expected = sorted(run_cli(["check", "--output-format", "json"]).findings())
    assert sorted(run_cli(["check", "--output-format", "json"]).findings()) == expected
    assert rules_ran == [True]
    driver = project / DRIVER
    stat = driver.stat()
    driver.write_text(driver.read_text("utf-8").replace("commit()", "flush() "), "utf-8")
    os.utime(driver, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (driver.stat().st_size, driver.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    after = run_cli(["check", "--output-format", "json"]).findings()
    assert sorted(after) == [f for f in expected if f[0] != "LG201"]
    assert rules_ran == [True, True]


def stored_runs(root: Path) -> list[tuple[str, dict[str, Any]]]:
    with closing(sqlite3.connect(root / ".layerguard_cache" / DATABASE_NAME)) as db:
        return [(key, json.loads(data)) for key, data in db.execute("SELECT key, data FROM runs")]


def replace_run(root: Path, key: str, data: object) -> None:
    with closing(sqlite3.connect(root / ".layerguard_cache" / DATABASE_NAME)) as db, db:
        db.execute("UPDATE runs SET data = ? WHERE key = ?", (json.dumps(data), key))


RUN_DAMAGE: dict[str, Callable[[dict[str, Any]], object]] = {
    "diagnostics-is-text": lambda run: {**run, "diagnostics": "abc"},
    "files-is-text": lambda run: {**run, "files": "x"},
    "cards-negative": lambda run: {**run, "cards": -1},
    "line-is-text": lambda run: {
        **run,
        "diagnostics": [["a.py", "x", None, "LG1", "m", "error", ""]],
    },
    "row-too-short": lambda run: {**run, "diagnostics": [["a.py", 1, 1]]},
    "bad-severity": lambda run: {**run, "diagnostics": [["a.py", 1, 1, "LG1", "m", "fatal", ""]]},
    "severity-is-a-list": lambda run: {**run, "diagnostics": [["a.py", 1, 1, "LG1", "m", [], ""]]},
    "described-not-bool": lambda run: {**run, "described_elsewhere": {"x.py": "yes"}},
    "missing-key": lambda run: {k: v for k, v in run.items() if k != "files"},
    "a-list": lambda run: [run],
    "not-json": lambda run: None,
}


@pytest.mark.parametrize("damage", RUN_DAMAGE.values(), ids=RUN_DAMAGE.keys())
def test_a_stored_run_of_the_wrong_shape_is_a_miss(
    project: Path,
    run_cli: Callable[..., Run],
    damage: Callable[[dict[str, Any]], object],
) -> None:
    first = run_cli(["check"])
    runs = stored_runs(project)
    assert len(runs) == 2  # by stat data, and by what the inputs mean to the rules
    for key, data in runs:
        replace_run(project, key, damage(data))
        if damage(data) is None:
            with closing(sqlite3.connect(project / ".layerguard_cache" / DATABASE_NAME)) as db, db:
                db.execute("UPDATE runs SET data = '{not json' WHERE key = ?", (key,))
    run = run_cli(["check"])
    lines = run.stdout.splitlines()
    assert (run.exit_code, lines[:-1], run.stderr) == (1, first.stdout.splitlines()[:-1], "")
    assert lines[-1].startswith("Found 3 findings in 2 files and 1 card (0 parsed, 2 cached)")


def test_no_cache_bypasses_it(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli(["check"])
    forbid_indexing(monkeypatch)
    with pytest.raises(AssertionError, match="indexed although nothing changed"):
        run_cli(["check", "--no-cache"])


def test_a_warm_run_imports_neither_libcst_nor_the_rules(project: Path) -> None:
    """What a pre-commit hook pays on an unchanged tree: the contract, discovery, the cache.
    Neither the import graph nor grimp, which the cold run needed for the contract."""
    (project / "layerguard.yaml").write_text(HOC_CONTRACT + CONTRACTS, "utf-8")
    age_tree(project)
    probe = (
        "import sys\n"
        "from layerguard.cli.app import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(sys.modules), file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", probe, "check"]
    cold = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    assert {"grimp", "layerguard.linter.graph.contracts"} <= set(
        ast.literal_eval(cold.stderr.strip().splitlines()[-1])
    )
    warm = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    modules = set(ast.literal_eval(warm.stderr.strip().splitlines()[-1]))
    assert "layerguard.linter.check" in modules
    heavy = {m for m in modules if m.split(".")[0] in ("libcst", "sqlalchemy", "fastapi", "grimp")}
    assert heavy == set()
    assert not any(m.startswith("layerguard.linter.graph") for m in modules)
    # Selecting rules reads plain data (rules.codes); no rule module, the registry or the
    # rule base class is imported.
    rule_modules = {m for m in modules if m.startswith("layerguard.linter.rules.")}
    assert rule_modules == {"layerguard.linter.rules.codes", "layerguard.linter.rules.selection"}
    assert "layerguard.linter.project.index" not in modules


def test_an_edit_that_changes_no_fact_reuses_the_findings_without_running_the_rules(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an edit means to the rules is its facts: a changed constant inside a function
    moves no line and changes no import, call or definition the rules read."""
    (project / DRIVER).write_text(
        "async def save(s):\n    limit = 10\n    await s.commit()\n", "utf-8"
    )
    first = run_cli(["check", "--output-format", "json"])
    assert ("LG201", DRIVER, 3) in first.findings()
    rules_ran = count_rule_runs(monkeypatch)

    (project / DRIVER).write_text(
        "async def save(s):\n    limit = 99\n    await s.commit()\n", "utf-8"
    )
    same = run_cli(["check", "--output-format", "json"])
    assert (same.report["summary"]["parsed"], rules_ran) == (1, [])
    assert same.findings() == first.findings()

    # A line moves: the facts change, the rules run, the finding moves.
    (project / DRIVER).write_text(
        "async def save(s):\n\n    limit = 99\n    await s.commit()\n", "utf-8"
    )
    moved = run_cli(["check", "--output-format", "json"])
    assert rules_ran == [True]
    assert ("LG201", DRIVER, 4) in moved.findings()
    # Same lines, another call: the facts change too.
    (project / DRIVER).write_text(
        "async def save(s):\n\n    limit = 99\n    await s.flush() \n", "utf-8"
    )
    flushed = run_cli(["check", "--output-format", "json"])
    assert rules_ran == [True, True]
    assert not any(code == "LG201" for code, _, _ in flushed.findings())
    uncached = run_cli(["check", "--output-format", "json", "--no-cache"])
    assert flushed.findings() == uncached.findings()


def test_a_card_saved_during_a_run_stores_no_findings_under_its_old_meaning(
    project: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card's meaning is read before its parse: if it is saved in between, the findings
    are the new card's and must not be stored as those of the old one (undoing the edit
    would then be answered with them)."""
    from layerguard.linter.caching import cards

    original_card = (project / CARD).read_text("utf-8")
    (project / DRIVER).write_text("async def save(s):\n    await s.flush()\n", "utf-8")
    read_cards = cards.read_cards_cached

    def saved_meanwhile(*args: Any, **kwargs: Any) -> Any:
        (project / CARD).write_text(original_card.replace("backend/app/gone.py", DRIVER), "utf-8")
        return read_cards(*args, **kwargs)

    monkeypatch.setattr(cards, "read_cards_cached", saved_meanwhile)
    run_cli(["check"])
    monkeypatch.setattr(cards, "read_cards_cached", read_cards)
    (project / CARD).write_text(original_card, "utf-8")  # the edit undone
    age_tree(project)
    checked = run_cli(["check", "--output-format", "json"])
    assert (
        checked.findings() == run_cli(["check", "--output-format", "json", "--no-cache"]).findings()
    )
    assert ("LG301", CARD, 3) in checked.findings()
