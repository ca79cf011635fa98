"""broken.patch breaks the example once per rule family; these are exactly the findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hoc_app_cli import EXAMPLE, layerguard, readme_output, without_timing

# (code, path, line): what each rule catches in the broken variant (see the README's table).
PINNED = [
    ("LG401", "backend/app/hoc/api/admin/governance/kill_switch.py", 23),
    ("LG901", "backend/app/hoc/api/cus/incidents/incidents.py", 14),
    ("LG101", "backend/app/hoc/api/cus/policies/policies.py", 15),
    ("LG104", "backend/app/hoc/api/cus/policies/policies.py", 15),
    ("LG201", "backend/app/hoc/cus/incidents/L6_drivers/incident_store.py", 32),
    ("LG002", "literature/backend/app/hoc/cus/incidents/L5_schemas/incident.md", 80),
    ("LG304", "literature/backend/app/hoc/cus/incidents/L6_drivers/incident_store.md", 17),
    ("LG305", "literature/backend/app/hoc/cus/policies/L5_engines/policy_engine.md", 83),
]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the example with broken.patch applied."""
    copy = tmp_path / "hoc_app"
    shutil.copytree(
        EXAMPLE,
        copy,
        ignore=shutil.ignore_patterns("tests", "__pycache__", ".*_cache", "*.db"),
    )
    # Outside any repository, `git apply` patches the working directory like `patch -p1`.
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    subprocess.run(["git", "apply", "broken.patch"], cwd=copy, env=env, check=True)
    return copy


def test_the_broken_variant_has_one_violation_per_rule_family(
    broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = layerguard(
        monkeypatch, broken, "check", "--no-cache", "--output-format", "json"
    )
    report = json.loads(out)
    assert (code, err) == (1, "")
    found = [(f["code"], f["path"], f["line"]) for f in report["findings"]]
    assert found == PINNED
    assert sorted({code[:3] for code, _, _ in found}) == ["LG0", "LG1", "LG2", "LG3", "LG4", "LG9"]


def test_the_readme_shows_the_broken_variants_output(
    broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = layerguard(monkeypatch, broken, "check", "--no-cache")
    assert code == 1
    assert without_timing(out) == without_timing(readme_output("layerguard check (broken)"))
