"""`layerguard baseline create|update` and `check` with a baseline, through the real CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Run, hoc_contract, run_process, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
BASELINE = ".layerguard-baseline.json"

ROUTE_TEXT = """\
from app.hoc.cus.policies.L5_engines.policy_engine import PolicyEngine
from app.hoc.cus.policies.L6_drivers import policy_driver
"""
DRIVER_TEXT = """\
class PolicyDriver:
    async def save(self, row):
        await self._session.commit()

    async def save_all(self, rows):
        for row in rows:
            await self._session.commit()
        await self._session.commit()
"""
FILES = {ROUTE: ROUTE_TEXT, ENGINE: "class PolicyEngine:\n    pass\n", DRIVER: DRIVER_TEXT}

ABOUT = (
    "Findings accepted when layerguard was adopted; `layerguard check` hides them. This file "
    "may only shrink: `layerguard baseline update` removes the findings that were fixed."
)
EXPECTED_BASELINE = f"""\
{{
  "about": "{ABOUT}",
  "findings": {{
    "{ROUTE}": {{
      "LG101": {{
        "app.hoc.cus.policies.L5_engines.policy_engine": 1,
        "app.hoc.cus.policies.L6_drivers.policy_driver": 1
      }}
    }},
    "{DRIVER}": {{
      "LG201": {{
        "PolicyDriver.save:self._session.commit": 1,
        "PolicyDriver.save_all:self._session.commit": 2
      }}
    }}
  }},
  "version": 1
}}
"""

RunCli = Callable[..., Run]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture
def project(tmp_path: Path, run_cli: RunCli) -> Path:
    write_project(tmp_path, FILES)
    created = run_cli(["baseline", "create"])
    assert created.exit_code == 0, created.stderr
    return tmp_path


def check(run_cli: RunCli, *args: str) -> Run:
    return run_cli(["check", "--output-format", "json", *args])


def edit(project: Path, path: str, old: str, new: str) -> None:
    file = project / path
    text = file.read_text("utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), "utf-8")


def test_create_writes_a_sorted_line_free_file_and_check_then_passes(
    project: Path, run_cli: RunCli
) -> None:
    assert (project / BASELINE).read_text("utf-8") == EXPECTED_BASELINE
    run = check(run_cli)
    assert run.exit_code == 0, run.stdout
    assert run.findings() == []
    assert run.stderr == "layerguard: 5 baselined findings hidden (.layerguard-baseline.json)\n"
    text = run_cli(["check"])
    assert text.exit_code == 0
    assert text.stdout.startswith("No findings in 3 files")


def test_create_says_what_it_recorded(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, FILES)
    run = run_cli(["baseline", "create"])
    assert run.stdout == (
        f"wrote {tmp_path / BASELINE}: 5 findings in 2 files; `layerguard check` now reports "
        "only new findings\n"
    )


def test_create_refuses_to_overwrite_and_force_is_stable(project: Path, run_cli: RunCli) -> None:
    again = run_cli(["baseline", "create"])
    assert again.exit_code == 2
    assert "already exists; run `layerguard baseline update`" in again.stderr
    assert run_cli(["baseline", "create", "--force"]).exit_code == 0
    assert (project / BASELINE).read_text("utf-8") == EXPECTED_BASELINE


def test_one_new_violation_is_exactly_the_one_reported(project: Path, run_cli: RunCli) -> None:
    edit(project, ROUTE, "from app.hoc.cus", "import sqlalchemy\nfrom app.hoc.cus")
    run = check(run_cli)
    assert run.exit_code == 1
    assert run.findings() == [("LG102", ROUTE, 1)]


def test_an_extra_finding_with_a_baselined_key_is_reported_once(
    project: Path, run_cli: RunCli
) -> None:
    edit(
        project,
        DRIVER,
        "        await self._session.commit()\n",
        "        await self._session.commit()\n        await self._session.commit()\n",
    )
    # save() now has two commits with one key, and the baseline accepts one: the later is new.
    run = check(run_cli)
    assert run.exit_code == 1
    assert run.findings() == [("LG201", DRIVER, 4)]


def test_moving_code_keeps_the_baseline_valid(project: Path, run_cli: RunCli) -> None:
    (project / ROUTE).write_text(
        '"""Policies routes."""\n\n# moved around\n'
        "from app.hoc.cus.policies.L6_drivers import policy_driver\n\n\n"
        "from app.hoc.cus.policies.L5_engines.policy_engine import PolicyEngine\n",
        "utf-8",
    )
    (project / DRIVER).write_text(
        "class PolicyDriver:\n"
        "    async def save_all(self, rows):\n"
        "        for row in rows:\n"
        "            await self._session.commit()\n"
        "        await self._session.commit()\n\n"
        "    async def save(self, row):\n"
        "        # a comment that moves the commit down\n"
        "        await self._session.commit()\n",
        "utf-8",
    )
    run = check(run_cli)
    assert run.exit_code == 0, run.stdout
    assert run.findings() == []


def test_a_fixed_violation_reports_its_stale_entry(project: Path, run_cli: RunCli) -> None:
    edit(
        project,
        DRIVER,
        "    async def save(self, row):\n        await self._session.commit()",
        "    async def save(self, row):\n        self._session.add(row)",
    )
    run = check(run_cli)
    assert run.exit_code == 1
    line = line_of(EXPECTED_BASELINE, '"PolicyDriver.save:')
    assert run.findings() == [("LG904", BASELINE, line)]
    finding = run.report["findings"][0]
    assert finding["severity"] == "warning"
    assert finding["message"] == (
        f"the baselined finding LG201 in {DRIVER} (`PolicyDriver.save:self._session.commit`) "
        "no longer occurs; run `layerguard baseline update` to remove it from the baseline"
    )
    text = run_cli(["check"])
    assert text.stdout.splitlines()[0] == f"{BASELINE}:{line}:1: LG904 {finding['message']}"


def test_a_partly_fixed_entry_says_how_many_are_gone(project: Path, run_cli: RunCli) -> None:
    edit(project, DRIVER, "            await self._session.commit()\n", "            pass\n")
    run = check(run_cli)
    assert run.findings() == [
        ("LG904", BASELINE, line_of(EXPECTED_BASELINE, '"PolicyDriver.save_all:'))
    ]
    assert run.report["findings"][0]["message"].startswith(
        f"1 of the 2 baselined findings LG201 in {DRIVER} "
        "(`PolicyDriver.save_all:self._session.commit`) no longer occur;"
    )


def test_stale_entries_are_judged_only_for_rules_that_ran_and_files_reported(
    project: Path, run_cli: RunCli
) -> None:
    (project / DRIVER).write_text("class PolicyDriver:\n    pass\n", "utf-8")
    assert check(run_cli, "--select", "LG1").findings() == []
    assert check(run_cli, ROUTE).findings() == []
    assert check(run_cli, "--ignore", "LG904").exit_code == 0
    assert len(check(run_cli, DRIVER).findings()) == 2


def test_no_baseline_and_explicit_baseline(project: Path, run_cli: RunCli) -> None:
    assert len(check(run_cli, "--no-baseline").findings()) == 5
    (project / BASELINE).rename(project / "legacy.json")
    assert len(check(run_cli).findings()) == 5  # no default file: nothing hidden
    assert check(run_cli, "--baseline", "legacy.json").findings() == []
    missing = check(run_cli, "--baseline", "nope.json")
    assert missing.exit_code == 2
    assert missing.stderr == "layerguard: nope.json: no such baseline file\n"


def test_create_and_update_with_another_file(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, FILES)
    assert run_cli(["baseline", "create", "--file", "ci/base.json"]).exit_code == 2  # no ci/
    (tmp_path / "ci").mkdir()
    assert run_cli(["baseline", "create", "--file", "ci/base.json"]).exit_code == 0
    assert (tmp_path / "ci/base.json").read_text("utf-8") == EXPECTED_BASELINE
    (tmp_path / DRIVER).write_text("", "utf-8")
    stale = check(run_cli, "--baseline", "ci/base.json")
    assert {(code, path) for code, path, _ in stale.findings()} == {("LG904", "ci/base.json")}
    assert run_cli(["baseline", "update", "--file", "ci/base.json"]).exit_code == 0
    assert check(run_cli, "--baseline", "ci/base.json").exit_code == 0


def test_update_removes_fixed_findings(project: Path, run_cli: RunCli) -> None:
    edit(project, ROUTE, "from app.hoc.cus.policies.L6_drivers import policy_driver\n", "")
    edit(project, DRIVER, "            await self._session.commit()\n", "            pass\n")
    run = run_cli(["baseline", "update"])
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        f"{project / BASELINE}: 2 findings removed, 0 added; 3 findings in 2 files remain "
        "baselined\n"
    )
    expected = EXPECTED_BASELINE.replace(
        ',\n        "app.hoc.cus.policies.L6_drivers.policy_driver": 1', ""
    ).replace(
        '"PolicyDriver.save_all:self._session.commit": 2',
        '"PolicyDriver.save_all:self._session.commit": 1',
    )
    assert (project / BASELINE).read_text("utf-8") == expected
    assert check(run_cli).exit_code == 0


def test_update_refuses_new_findings_unless_allowed(project: Path, run_cli: RunCli) -> None:
    edit(project, ROUTE, "from app.hoc.cus", "import sqlalchemy\nfrom app.hoc.cus")
    edit(project, DRIVER, "            await self._session.commit()\n", "            pass\n")
    refused = run_cli(["baseline", "update"])
    assert refused.exit_code == 1
    assert refused.stdout == (
        f"{ROUTE}:1:1: LG102 L2 (API routes) must not import `sqlalchemy` (forbidden: "
        "`sqlalchemy`); move this code to a layer that may use it\n"
    )
    assert "not updated: 1 finding not in the baseline" in refused.stderr
    assert (project / BASELINE).read_text("utf-8") == EXPECTED_BASELINE
    allowed = run_cli(["baseline", "update", "--allow-new"])
    assert allowed.exit_code == 0
    assert "1 finding removed, 1 added; 5 findings in 2 files" in allowed.stdout
    data = json.loads((project / BASELINE).read_text("utf-8"))
    assert data["findings"][ROUTE]["LG102"] == {"sqlalchemy": 1}
    assert check(run_cli).exit_code == 0


def test_update_keeps_entries_of_rules_that_do_not_run(project: Path, run_cli: RunCli) -> None:
    (project / "layerguard.yaml").write_text(hoc_contract(ignore=["LG201"]), "utf-8")
    (project / DRIVER).write_text("", "utf-8")
    assert check(run_cli).exit_code == 0
    run = run_cli(["baseline", "update"])
    assert run.exit_code == 0
    assert (project / BASELINE).read_text("utf-8") == EXPECTED_BASELINE


def test_entries_of_unknown_rules_are_stale_and_dropped(project: Path, run_cli: RunCli) -> None:
    text = EXPECTED_BASELINE.replace(
        '"LG101": {', '"LG999": {\n        "gone": 1\n      },\n      "LG101": {'
    )
    (project / BASELINE).write_text(text, "utf-8")
    run = check(run_cli)
    assert run.findings() == [("LG904", BASELINE, line_of(text, '"gone"'))]
    assert run_cli(["baseline", "update"]).exit_code == 0
    assert (project / BASELINE).read_text("utf-8") == EXPECTED_BASELINE


def test_update_needs_a_baseline(tmp_path: Path, run_cli: RunCli) -> None:
    write_project(tmp_path, FILES)
    run = run_cli(["baseline", "update"])
    assert run.exit_code == 2
    assert run.stderr == (
        f"layerguard: {tmp_path / BASELINE} does not exist; run `layerguard baseline create` "
        "first\n"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            '{\n  "version": 1,\n  "findings": {\n',
            "4:1: invalid JSON: Expecting property name enclosed in double quotes",
        ),
        ("[]\n", "1: top level: expected an object, found an array"),
        ('{\n  "findings": {}\n}\n', '1: top level: expected `"version": 1`, found nothing'),
        (
            '{\n  "findings": {},\n  "version": 2\n}\n',
            '3: ["version"]: expected `"version": 1`, found 2',
        ),
        (
            '{\n  "version": 1,\n  "findings": []\n}\n',
            '3: ["findings"]: expected a `findings` object',
        ),
        (
            '{\n  "version": 1,\n  "findings": {\n    "a.py": {\n      "LG101": {\n'
            '        "x": 1,\n        "y": 0\n      }\n    }\n  }\n}\n',
            '7: ["findings"]["a.py"]["LG101"]["y"]: expected a count (a positive integer), found 0',
        ),
        (
            '{\n  "version": 1,\n  "findings": {\n    "a.py": {\n      "LG101": ["x"]\n'
            "    }\n  }\n}\n",
            '5: ["findings"]["a.py"]["LG101"]: expected an object of finding keys, found an array',
        ),
        (
            '{"version": 1, "findings": {"a.py": null}}',
            '1: ["findings"]["a.py"]: expected an object of rule codes, found null',
        ),
        # Issue 11, item 6: a RecursionError traceback; duplicate keys accepted silently.
        (
            "[" * 100000,
            "1:101: invalid baseline: nested more than 100 levels deep (a baseline nests 4 "
            "objects deep)",
        ),
        (
            '{\n  "version": 1,\n  "findings": {},\n  "version": 1\n}\n',
            '4:3: invalid baseline: the key "version" appears twice in an object',
        ),
        (
            '{\n  "version": 1,\n  "findings": {\n    "a.py": {"LG101": {"x": 1}},\n'
            '    "b.py": {"LG101": {"x": 1, "y": 1, "x": 2}}\n  }\n}\n',
            '5:40: invalid baseline: the key "x" appears twice in an object',
        ),
        # Audit a1, item 2: "ValueError: Exceeds the limit (4300 digits)" traceback, exit 1.
        (
            '{\n  "version": 1,\n  "findings": {\n    "a.py": {"LG101": {"x": 1'
            + "0" * 5000
            + "}}\n  }\n}\n",
            "4:29: invalid baseline: a number 5,001 digits long (a count has at most 18)",
        ),
        (
            '{"version": 1, "about": 1.' + "5" * 30 + ', "findings": {"a.py": {"LG101": '
            '{"x": 1, "y": -12345678901234567890}}}}',
            "1:104: invalid baseline: a number 20 digits long (a count has at most 18)",
        ),
    ],
)
def test_a_malformed_baseline_exits_2_with_its_line(
    project: Path, run_cli: RunCli, text: str, error: str
) -> None:
    (project / BASELINE).write_text(text, "utf-8")
    for args in (["check"], ["baseline", "update"]):
        run = run_cli(args)
        assert run.exit_code == 2
        assert run.stderr == f"layerguard: {project / BASELINE}:{error}\n"
        assert "Traceback" not in run.stdout


def test_info_findings_are_not_recorded_and_stay_visible(tmp_path: Path, run_cli: RunCli) -> None:
    handler = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py"
    write_project(
        tmp_path,
        {
            handler: "class PolicyQueryHandler:\n"
            "    async def execute(self, ctx):\n"
            "        return None\n\n\n"
            "def register(registry):\n"
            '    registry.register("policies.query", PolicyQueryHandler())\n'
        },
        hoc_contract(extend_select=["LG404"]),
    )
    assert check(run_cli).findings() == [("LG404", handler, 7)]
    assert run_cli(["baseline", "create"]).exit_code == 0
    assert json.loads((tmp_path / BASELINE).read_text("utf-8"))["findings"] == {}
    run = check(run_cli)
    assert run.exit_code == 0
    assert run.findings() == [("LG404", handler, 7)]


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_baseline_that_is_no_regular_file_exits_2(project: Path, special: str) -> None:
    """A baseline linked to /dev/zero took 2 GB, a FIFO hung: a process of its own, bounded."""
    (project / BASELINE).unlink()
    if special == "fifo":
        os.mkfifo(project / BASELINE)
        kind = "a FIFO"
    else:
        (project / BASELINE).symlink_to(special)
        kind = "a character device"
    bounded = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))"
    for args in (["check"], ["baseline", "update"]):
        run = run_process(args, project, 30, bounded)
        assert run.exit_code == 2
        assert run.stderr == (
            f"layerguard: {project / BASELINE}: cannot read the baseline: {kind}, not a regular "
            "file\n"
        )


@pytest.mark.parametrize("link", ["loop", "dangling"])
def test_a_baseline_that_is_a_broken_link_is_said_not_ignored(
    project: Path, run_cli: RunCli, link: str
) -> None:
    """`exists()` is false for a link loop or a dangling link: the baseline was silently not
    applied (all its findings back), and --baseline called it missing."""
    (project / BASELINE).unlink()
    (project / BASELINE).symlink_to(BASELINE if link == "loop" else "gone.json")
    for args in (["check"], ["check", "--baseline", BASELINE], ["baseline", "update"]):
        run = run_cli(args)
        assert run.exit_code == 2, (args, run.stdout)
        assert f"{BASELINE}: cannot read the baseline: " in run.stderr, args
    assert run_cli(["baseline", "create"]).exit_code == 2  # not overwritten unasked


SURROGATE_ROUTE = """\
from app.hoc.cus.policies.L5_engines.policy_engine import PolicyEngine
from app.hoc.hoc_spine import registry


def route():
    return registry.execute("\\ud800", None)
"""


def test_a_lone_surrogate_in_a_finding_key_is_written_and_read_back(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """`baseline create` and `update` ended in UnicodeEncodeError, no baseline written: the
    key is written as its JSON escape, and the next `check` matches it again."""
    write_project(tmp_path, {**FILES, ROUTE: SURROGATE_ROUTE})
    odd = "backend/app/hoc/api/cus/policies/x\udcff.py"  # a file name's undecodable byte
    (tmp_path / odd).write_bytes(b"from app.hoc.cus.policies.L6_drivers import policy_driver\n")
    created = run_cli(["baseline", "create"])
    assert created.exit_code == 0, created.stderr
    text = (tmp_path / BASELINE).read_bytes().decode("utf-8")
    assert '"route:\\ud800": 1' in text
    assert '"backend/app/hoc/api/cus/policies/x\\udcff.py": {' in text
    recorded = json.loads(text)["findings"]
    assert recorded[ROUTE]["LG401"] == {"route:\ud800": 1}
    assert recorded[odd] == {"LG101": {"app.hoc.cus.policies.L6_drivers.policy_driver": 1}}
    run = check(run_cli)
    assert (run.exit_code, run.findings()) == (0, [])
    edit(tmp_path, ROUTE, "from app.hoc.cus.policies.L5_engines.policy_engine import Po", "# ")
    stale = check(run_cli)
    assert stale.findings() == [("LG904", BASELINE, line_of(text, "policy_engine"))]
    updated = run_cli(["baseline", "update"])
    assert updated.exit_code == 0, updated.stderr
    text = (tmp_path / BASELINE).read_bytes().decode("utf-8")
    assert '"route:\\ud800": 1' in text
    assert "policy_engine" not in text
    assert (check(run_cli).exit_code, check(run_cli).findings()) == (0, [])


def test_stale_entries_of_a_hand_edited_baseline_are_reported_at_their_lines(
    project: Path, run_cli: RunCli
) -> None:
    """Lines are found in one pass over the file (it was a search from the top for every
    entry): keys written with escapes, a key's text elsewhere in the file, keys in any order."""
    gone = '"app.hoc.cus.policies.L6_drivers.gone": 1'
    text = EXPECTED_BASELINE.replace(
        '"about": "', '"about": "mentions \\"app.hoc.cus.policies.L6_drivers.gone\\": and '
    ).replace('"LG101": {', '"LG101": {\n        "\\u0061pp.gone": 3,\n        ' + gone + ",", 1)
    (project / BASELINE).write_text(text, "utf-8")
    run = check(run_cli)
    assert run.findings() == [
        ("LG904", BASELINE, line_of(text, '"\\u0061pp.gone": 3')),
        ("LG904", BASELINE, line_of(text, f"        {gone}")),
    ]
    assert "the 3 baselined findings LG101" in run.report["findings"][0]["message"]
