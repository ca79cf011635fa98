"""The PostgreSQL fixtures: a visible skip where no server can start, a failure under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerguard.runtime.testing.postgres import PostgresCluster

USES_POSTGRES = """
def test_needs_postgres(layerguard_postgres_url):
    assert layerguard_postgres_url.startswith("postgresql+asyncpg://")
"""


def run_pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_uses_postgres.py").write_text(USES_POSTGRES)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LAYERGUARD_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environ, **env},
        timeout=300,
        check=False,
    )


def test_without_server_binaries_the_tests_skip_with_the_reason(tmp_path: Path) -> None:
    run = run_pytest(tmp_path, LAYERGUARD_PG_BINDIR=str(tmp_path / "nowhere"))
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout
    assert "PostgreSQL server binaries not found (initdb, pg_ctl): install them" in run.stdout


def test_under_ci_a_missing_server_is_a_failure(tmp_path: Path) -> None:
    run = run_pytest(
        tmp_path,
        LAYERGUARD_PG_BINDIR=str(tmp_path / "nowhere"),
        LAYERGUARD_REQUIRE_POSTGRES="1",
    )
    assert run.returncode == 1, run.stdout
    assert "1 error" in run.stdout
    assert "LAYERGUARD_REQUIRE_POSTGRES is set, but PostgreSQL server binaries not found" in (
        run.stdout
    )


def test_the_cluster_listens_on_loopback_only_and_not_as_root(
    layerguard_postgres: PostgresCluster,
) -> None:
    assert layerguard_postgres.sql("SHOW listen_addresses") == "127.0.0.1"
    assert layerguard_postgres.sql("SELECT current_setting('port')") == str(
        layerguard_postgres.port
    )
    if os.geteuid() == 0:  # PostgreSQL refuses root: the server runs as an unprivileged account
        assert os.stat(layerguard_postgres.base / "data").st_uid != 0


@pytest.mark.skipif(os.geteuid() != 0, reason="only root switches to another account")
def test_a_second_cluster_starts_and_stops_cleanly_as_root() -> None:
    cluster = PostgresCluster.start_new()
    base = cluster.base
    try:
        assert cluster.sql("SELECT 1") == "1"
    finally:
        cluster.stop()
    assert not base.exists()
