"""docs/runtime.md's quick start and testing kit run as written, as files of a new project in a
fresh directory: the app under uvicorn (it creates its own table), the test under pytest with
the configuration the guide gives (pytest-asyncio in auto mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers import free_port, running_server

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "runtime.md").read_text(encoding="utf-8")


def block(language: str, first_line: str) -> str:
    """The code block of `language` whose first line is `first_line` (a file name comment)."""
    start = GUIDE.index(f"```{language}\n{first_line}\n") + len(f"```{language}\n")
    return GUIDE[start : GUIDE.index("```", start)]


def new_project(root: Path) -> Path:
    for language, name in (
        ("python", "app/main.py"),
        ("python", "tests/test_policies.py"),
        ("toml", "pyproject.toml"),
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block(language, f"# {name}"), encoding="utf-8")
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    return root


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_quick_start_serves_its_route_on_a_new_database(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    url = f"{base}/health/operations"
    with running_server(command, project, environment(), url, tmp_path / "server.log"):
        created = httpx.post(f"{base}/policies", params={"name": "p1"})
        refused = httpx.post(f"{base}/policies", params={"name": ""})
    assert (project / "app.db").stat().st_size > 0
    assert (created.status_code, created.json()) == (200, {"name": "p1", "tenant": "t-1"})
    assert refused.status_code == 422
    assert refused.json()["detail"]["error_code"] == "VALIDATION_ERROR"


def pytest_in(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_testing_kit_example_passes_under_pytest(tmp_path: Path) -> None:
    run = pytest_in(new_project(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("1 passed")


def test_without_auto_mode_the_async_test_is_not_run(tmp_path: Path) -> None:
    """What the guide warns about: without pytest-asyncio's auto mode (or a marker), pytest
    cannot run an `async def` test and fails it."""
    project = new_project(tmp_path)
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npythonpath = ["."]\n', encoding="utf-8"
    )
    run = pytest_in(project)
    assert run.returncode == 1
    assert "async def functions are not natively supported" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("1 failed")
