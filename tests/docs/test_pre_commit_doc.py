"""The pre-commit configurations of the README and docs/ci.md work as written: the local form is
run by pre-commit itself on a git repository, and the form that installs layerguard from a
repository names no fake owner or tag (a marked placeholder until pyproject.toml names the
project's repository, then that repository)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.helpers import HOC_PRESET, write_project

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"^REPLACE-WITH-[A-Z-]+$")
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"


def configurations(document: str) -> list[dict[str, object]]:
    text = (ROOT / document).read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(# \.pre-commit-config\.yaml\n.*?)^```$", text, re.S | re.M)
    return [yaml.safe_load(block) for block in blocks]


def local_forms() -> list[tuple[str, dict[str, object]]]:
    found = [
        (document, config)
        for document in ("README.md", "docs/ci.md")
        for config in configurations(document)
        if config["repos"][0]["repo"] == "local"  # type: ignore[index]
        and config["repos"][0]["hooks"][0]["id"] == "layerguard"  # type: ignore[index]
    ]
    assert [document for document, _ in found] == ["README.md", "docs/ci.md"]
    return found


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=environment())


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "VIRTUAL_ENV")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        GIT_AUTHOR_NAME="docs test",
        GIT_AUTHOR_EMAIL="docs@example.invalid",
        GIT_COMMITTER_NAME="docs test",
        GIT_COMMITTER_EMAIL="docs@example.invalid",
    )
    return env


@pytest.mark.parametrize(("document", "config"), local_forms(), ids=lambda v: str(v)[:20])
def test_the_local_hook_runs_under_pre_commit(
    document: str, config: dict[str, object], tmp_path: Path
) -> None:
    project = write_project(
        tmp_path,
        {
            ENGINE: "def evaluate():\n    return True\n",
            DRIVER: "async def save(session):\n    await session.flush()\n",
        },
        HOC_PRESET,
    )
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**environment(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    git(project, "init", "-q")
    git(project, "add", "-A")
    clean = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "layerguard", "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (project / DRIVER).write_text("async def save(session):\n    await session.commit()\n")
    git(project, "add", DRIVER)
    failing = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "layerguard"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failing.returncode == 1
    assert f"{DRIVER}:2:11: LG201" in failing.stdout


def test_the_remote_form_names_the_real_repository_or_a_marked_placeholder() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    urls = {key.lower(): value for key, value in project.get("urls", {}).items()}
    remote = [
        config["repos"][0]  # type: ignore[index]
        for config in configurations("docs/ci.md")
        if config["repos"][0]["repo"] != "local"  # type: ignore[index]
    ]
    assert len(remote) == 1
    [entry] = remote
    assert entry["hooks"] == [{"id": "layerguard"}]
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    text += (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert "OWNER" not in text
    assert "v0.1.0" not in text
    if "repository" in urls:
        assert entry["repo"] == urls["repository"]
        assert not PLACEHOLDER.match(str(entry["rev"]))
    else:
        assert PLACEHOLDER.match(str(entry["repo"])), entry
        assert PLACEHOLDER.match(str(entry["rev"])), entry
    # The hook the remote form installs is the one this repository defines.
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == entry["hooks"][0]["id"]
