"""The clean example passes the linter: check, cards sync --check, and a readable catalogue."""

from __future__ import annotations

import json

import pytest
from hoc_app_cli import EXAMPLE, layerguard, readme_output, without_timing


def test_check_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = layerguard(monkeypatch, EXAMPLE, "check", "--no-cache")
    assert (code, err) == (0, "")
    assert without_timing(out) == "No findings in 47 files and 21 cards (...)\n"
    assert without_timing(out) == without_timing(readme_output("layerguard check"))


def test_check_with_every_rule_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """LG404 (info, opt-in) is selected by the example's layerguard.yaml; ask for it anyway."""
    code, out, _ = layerguard(
        monkeypatch, EXAMPLE, "check", "--no-cache", "--select", "LG", "--output-format", "json"
    )
    report = json.loads(out)
    assert (code, report["findings"], report["summary"]["cards"]) == (0, [], 21)


def test_every_card_is_in_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = layerguard(monkeypatch, EXAMPLE, "cards", "sync", "--check")
    assert (code, err) == (0, "")
    assert (
        out == "0 card(s) out of date, 21 up to date, 0 skipped (no file), 0 could not be synced.\n"
    )
    assert out == readme_output("layerguard cards sync --check")


def test_the_operation_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = layerguard(monkeypatch, EXAMPLE, "operations", "--no-cache")
    assert (code, err) == (0, "")
    assert out == readme_output("layerguard operations")

    code, out, _ = layerguard(
        monkeypatch, EXAMPLE, "operations", "--no-cache", "--output-format", "json"
    )
    catalogue = json.loads(out)
    assert code == 0
    assert {
        op["name"]: (
            [handler["class"] for handler in op["handlers"]],
            [f"{site['path'].rsplit('/', 1)[1]}:{site['symbol']}" for site in op["dispatches"]],
        )
        for op in catalogue["operations"]
    } == {
        "governance.kill_switch": (["SetKillSwitchHandler"], ["kill_switch.py:set_kill_switch"]),
        "incidents.list": (["ListIncidentsHandler"], ["incidents.py:list_incidents"]),
        "incidents.report": (["ReportIncidentHandler"], ["incidents.py:report_incident"]),
        "policies.create": (["CreatePolicyHandler"], ["policies.py:create_policy"]),
        "policies.get": (
            ["GetPolicyHandler"],
            ["policies.py:get_policy", "incidents_handler.py:ReportIncidentHandler.execute"],
        ),
        "policies.import": (["ImportPoliciesHandler"], ["policies.py:import_policies"]),
        "policies.list": (["ListPoliciesHandler"], ["policies.py:list_policies"]),
    }
    assert catalogue["summary"]["dynamic_sites"] == 0
