"""The example starts for real: the README's uvicorn command, in a subprocess, on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]
STARTUP_LIMIT = 60.0  # seconds; a limit on waiting for the server, not an assertion on speed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, server: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else ""
            raise AssertionError(f"the server exited with {server.returncode}:\n{output}")
        try:
            return httpx.get(url)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_example_starts_with_one_command_and_answers_its_health_route(
    tmp_path: Path,
) -> None:
    port = free_port()
    database = tmp_path / "hoc_app.db"
    env = {
        **os.environ,
        "HOC_APP_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HOC_APP_ADMIN_TOKEN": "server-test-token",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app"]
    command += ["--app-dir", "examples/hoc_app/backend", "--port", str(port)]
    server = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_until_up(f"{base}/health/operations", server)
        created = httpx.post(
            f"{base}/policies", json={"name": "mfa"}, headers={"X-Tenant-ID": "tenant-1"}
        )
        engaged = httpx.put(
            f"{base}/admin/kill-switch",
            json={"engaged": True, "reason": "drill", "actor": "ci"},
            headers={"X-Admin-Token": "server-test-token"},
        )
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)
    assert health.status_code == 200
    assert (health.json()["frozen"], health.json()["operation_count"]) == (True, 7)
    assert (created.status_code, created.json()) == (
        201,
        {"id": 1, "name": "mfa", "description": ""},
    )
    assert (engaged.status_code, engaged.json()["mode"]) == (200, "disabled")
    # A graceful shutdown: uvicorn finishes the lifespan, then re-raises the signal it caught.
    assert server.returncode == -signal.SIGTERM, output
    assert "Application startup complete." in output
    assert "Application shutdown complete." in output
    assert database.exists()  # the tables were created on start-up, in the configured file


def test_two_workers_start_on_an_empty_postgresql_database_and_share_the_kill_switch(
    layerguard_postgres_url: str, tmp_path: Path
) -> None:
    """Both workers create the tables at start-up (under an advisory lock: before, the second
    one died of DuplicateTableError), and a flip made through one worker reaches the other
    without waiting for the ttl, which is set to an hour here (LISTEN/NOTIFY)."""
    port = free_port()
    env = {
        **os.environ,
        "HOC_APP_DATABASE_URL": layerguard_postgres_url,
        "HOC_APP_ADMIN_TOKEN": "server-test-token",
        "HOC_APP_GOVERNANCE_TTL": "3600",
        "HOC_APP_AUDIT_OUTBOX": str(tmp_path / "outbox"),
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--workers", "2"]
    command += ["--app-dir", "examples/hoc_app/backend", "--port", str(port)]
    server = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the workers can be reaped with it
    )
    base = f"http://127.0.0.1:{port}"
    modes: list[str] = []
    try:
        wait_until_up(f"{base}/health/operations", server)
        # Every worker answers the health route before the flip (both still "active").
        with httpx.Client(base_url=base) as client:
            before = {
                client.get("/health/operations").json()["governance"]["mode"] for _ in range(20)
            }
            engaged = client.put(
                "/admin/kill-switch",
                json={"engaged": True, "reason": "drill", "actor": "ci"},
                headers={"X-Admin-Token": "server-test-token"},
            )
            deadline = time.monotonic() + STARTUP_LIMIT
            while len(modes) < 40 or set(modes[-40:]) != {"disabled"}:
                assert time.monotonic() < deadline, modes[-40:]
                modes.append(client.get("/health/operations").json()["governance"]["mode"])
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=60)
        finally:  # whatever the master did, no worker outlives the test
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
    assert before == {"active"}
    assert (engaged.status_code, engaged.json()["mode"]) == (200, "disabled")
    assert output.count("Application startup complete.") == 2, output
    assert "DuplicateTable" not in output
