"""Which rules run and where, as a user sets it: transaction rules only where the contract has
`transactions:`, prefixes and `ALL` in layerguard.yaml as on the command line, per-file
ignores, and --extend-select / --extend-ignore."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import HOC_PRESET, Run, write_project

GUI = """\
version: 1
source_roots: [src]
layers:
  - id: widgets
    name: Widgets
    paths: ["src/viewer/widgets/**"]
  - id: storage
    name: Storage
    paths: ["src/viewer/storage/**"]
"""

CANVAS = "src/viewer/widgets/canvas.py"
STORE = "src/viewer/storage/store.py"
GUI_FILES = {
    # A Qt-style painter: begin(device) is not a transaction.
    CANVAS: """\
class Canvas:
    def paintEvent(self, event):
        qp = QPainter()
        qp.begin(self)
        qp.drawLine(0, 0, 10, 10)
        qp.end()
""",
    # The same project also has a real SQLAlchemy session in its storage layer.
    STORE: """\
from sqlalchemy.orm import Session


def save(engine, row):
    with Session(engine) as session:
        session.add(row)
        session.commit()


async def replace(session, rows):
    async with session.begin():
        session.add_all(rows)
""",
}


def test_no_transactions_section_no_transaction_rules(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, GUI_FILES, GUI)
    assert run_cli(["check", "--output-format", "json"]).findings() == []
    opted_in = run_cli(["check", "--output-format", "json", "--extend-select", "LG2"])
    assert opted_in.findings() == [
        ("LG202", STORE, 5),
        ("LG201", STORE, 7),
        ("LG201", STORE, 11),
    ]
    (tmp_path / "layerguard.yaml").write_text(GUI + "rules: {extend_select: [lg2]}\n", "utf-8")
    assert run_cli(["check", "--output-format", "json"]).findings() == opted_in.findings()


def test_transaction_calls_in_the_shape_of_sqlalchemy_and_messages_without_the_runtime(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, GUI_FILES, GUI + "transactions:\n  owners: []\n")
    run = run_cli(["check", "--output-format", "json"])
    assert run.findings() == [("LG202", STORE, 5), ("LG201", STORE, 7), ("LG201", STORE, 11)]
    messages = [f["message"] for f in run.report["findings"]]
    assert messages == [
        "`Session(...)` builds a session in storage; `transactions.session_creators` names no "
        "layer; take the session from the caller that owns the unit of work",
        "`session.commit()` in storage: `transactions.owners` names no layer, so no layer may "
        "control transactions; remove it and let the owner commit (use flush() for generated "
        "keys)",
        "`session.begin()` in storage: `transactions.owners` names no layer, so no layer may "
        "control transactions; remove it and let the owner commit (use flush() for generated "
        "keys)",
    ]
    owners = (
        GUI + "transactions:\n  owners: [widgets, viewer.app.uow]\n  session_creators: [storage]\n"
    )
    (tmp_path / "layerguard.yaml").write_text(owners, "utf-8")
    (tmp_path / "src/viewer/app").mkdir(parents=True)
    (tmp_path / "src/viewer/app/uow.py").write_text("", "utf-8")  # the owner module (else LG004)
    run = run_cli(["check", "--output-format", "json"])
    assert [f["message"].split(";")[0] for f in run.report["findings"]] == [
        "`session.commit()` in storage: only layer widgets and module viewer.app.uow may "
        "control transactions",
        "`session.begin()` in storage: only layer widgets and module viewer.app.uow may "
        "control transactions",
    ]


def test_messages_speak_of_the_session_dependency_where_the_runtime_is_used(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    files = {
        **GUI_FILES,
        "src/viewer/app.py": "from layerguard.runtime import get_operation_registry\n",
    }
    write_project(tmp_path, files, GUI + "transactions: {}\n")
    run = run_cli(["check", "--output-format", "json"])
    assert [f["message"].split(";")[0] for f in run.report["findings"]] == [
        "`Session(...)` builds a session in storage",
        "`session.commit()` in storage: only the request's session dependency may control "
        "transactions",
        "`session.begin()` in storage: only the request's session dependency may control "
        "transactions",
    ]
    assert run.report["findings"][0]["message"].endswith(
        "take the session from the operation context or the session dependency"
    )


def test_prefixes_and_all_in_the_contract(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, GUI_FILES, GUI + "transactions: {}\nrules:\n  select: [ALL]\n")
    assert {code for code, _, _ in run_cli(["check", "--output-format", "json"]).findings()} == {
        "LG201",
        "LG202",
    }
    (tmp_path / "layerguard.yaml").write_text(
        GUI + "transactions: {}\nrules:\n  select: [LG1, LG20]\n  ignore: [lg202]\n", "utf-8"
    )
    assert run_cli(["check", "--output-format", "json"]).findings() == [
        ("LG201", STORE, 7),
        ("LG201", STORE, 11),
    ]


def test_a_selector_that_selects_nothing_is_reported_at_its_line(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    config = GUI + "rules:\n  select: [LG1]\n  ignore: [LG7, LG2]\n  per_file_ignores:\n"
    config += '    "src/**": [LG1, LG105]\n'
    write_project(tmp_path, GUI_FILES, config)
    for command in (["check"], ["graph"], ["baseline", "create"]):
        run = run_cli(command)
        assert run.exit_code == 2, command
        path = tmp_path / "layerguard.yaml"
        assert run.stderr.splitlines() == [
            f"{path}:12: LG003 rules.ignore[0]: 'LG7' selects no rule; `layerguard rules` lists "
            "every code.",
            f"{path}:14: LG003 rules.per_file_ignores.src/**[1]: 'LG105' selects no rule; "
            "`layerguard rules` lists every code.",
        ], command
        assert not (tmp_path / ".layerguard-baseline.json").exists()


def test_per_file_ignores(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    driver = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
    legacy = "backend/app/hoc/cus/legacy/L6_drivers/old_driver.py"
    card = "literature/legacy/old_driver.md"
    commit = "async def save(session):\n    await session.commit()\n"
    files = {
        driver: commit,
        legacy: commit + "x = 1  # layerguard: ignore[LG201] once needed\n",
        card: "# old_driver.py\n\n**Path:** `backend/app/hoc/cus/legacy/L6_drivers/gone.py`\n",
    }
    config = HOC_PRESET + (
        "\nrules:\n  ignore: [LG004]  # a few files, not every layer of the preset\n"
        "  per_file_ignores:\n"
        '    "backend/app/hoc/cus/legacy": [LG2]\n'
        '    "literature/legacy/**": [LG301]\n'
    )
    write_project(tmp_path, files, config)
    run = run_cli(["check", "--output-format", "json"])
    # The legacy driver's commit is ignored there, and its suppression of LG201 is not judged
    # unused (LG902): the rule does not apply to that file.
    assert run.findings() == [("LG201", driver, 2)]
    everywhere = run_cli(["check", "--output-format", "json", "--select", "LG201"])
    assert everywhere.findings() == [("LG201", driver, 2)]
    # The baseline records what the run reports, and its entries of ignored files stay valid.
    assert run_cli(["baseline", "create"]).exit_code == 0
    assert run_cli(["check"]).exit_code == 0


def test_extend_select_and_extend_ignore(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, GUI_FILES, GUI + "transactions: {}\nrules: {ignore: [LG202]}\n")
    assert run_cli(["check", "--output-format", "json"]).findings() == [
        ("LG201", STORE, 7),
        ("LG201", STORE, 11),
    ]
    run = run_cli(["check", "--output-format", "json", "--extend-select", "LG202"])
    assert [code for code, _, _ in run.findings()] == ["LG202", "LG201", "LG201"]
    run = run_cli(["check", "--output-format", "json", "--extend-ignore", "LG201"])
    assert run.findings() == []
    # --select replaces the whole configured selection, its ignores included (as in ruff).
    run = run_cli(["check", "--output-format", "json", "--select", "LG202"])
    assert run.findings() == [("LG202", STORE, 5)]
    bad = run_cli(["check", "--extend-select", "LG8"])
    assert bad.exit_code == 2
    assert "unknown rule selector 'LG8'" in bad.stderr


@pytest.mark.parametrize("option", ["--select", "--extend-select", "--ignore", "--extend-ignore"])
def test_an_unknown_selector_names_the_option_it_was_given_in(
    tmp_path: Path, run_cli: Callable[..., Run], option: str
) -> None:
    write_project(tmp_path, GUI_FILES, GUI)
    run = run_cli(["check", option, "LG2,LG9999"])
    assert (run.exit_code, run.stdout) == (2, "")
    words = " ".join(run.stderr.replace("│", " ").split())  # click's box, wrapped or not
    assert (
        f"Invalid value for {option}: unknown rule selector 'LG9999'; `layerguard rules` lists "
        "every code"
    ) in words
    assert words.count("Invalid value") == 1
