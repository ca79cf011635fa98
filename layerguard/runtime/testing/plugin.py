"""pytest plugin (entry point ``layerguard``): fixtures for code built on the registry.

Loaded in every pytest session of every project that installs layerguard, so it imports only
pytest at load time; the runtime is imported when a fixture is first used.

Fixtures:

* ``layerguard_authority`` - an ``InMemoryKillSwitch`` the test can flip;
* ``layerguard_audit`` - an ``InMemoryAuditSink`` collecting every record;
* ``layerguard_registry`` - a fresh ``OperationRegistry`` wired to both, installed as the
  process singleton for the test (so ``get_operation_registry()`` returns it) and removed after;
* ``layerguard_postgres`` - a throwaway PostgreSQL server on 127.0.0.1 for the whole session
  (``initdb`` + ``pg_ctl`` in a temporary directory, stopped at the end);
* ``layerguard_postgres_url`` - a fresh, empty database on it for one test (dropped after).

Without the server binaries (or asyncpg) the PostgreSQL fixtures skip the test with the reason;
with ``LAYERGUARD_REQUIRE_POSTGRES=1`` in the environment (CI) that is a failure instead.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from layerguard.runtime.audit.memory import InMemoryAuditSink
    from layerguard.runtime.governance.memory import InMemoryKillSwitch
    from layerguard.runtime.registry import OperationRegistry
    from layerguard.runtime.testing.postgres import PostgresCluster

REQUIRE_POSTGRES_VARIABLE = "LAYERGUARD_REQUIRE_POSTGRES"
_databases = itertools.count(1)


@pytest.fixture
def layerguard_authority() -> InMemoryKillSwitch:
    """A switchable authority: ``.disable(reason)``, ``.enter_degraded(reason)``, ``.enable()``."""
    from layerguard.runtime.governance.memory import InMemoryKillSwitch

    return InMemoryKillSwitch()


@pytest.fixture
def layerguard_audit() -> InMemoryAuditSink:
    """Collects the audit records of the test's dispatches in ``.records``."""
    from layerguard.runtime.audit.memory import InMemoryAuditSink

    return InMemoryAuditSink()


@pytest.fixture
def layerguard_registry(
    layerguard_authority: InMemoryKillSwitch, layerguard_audit: InMemoryAuditSink
) -> Iterator[OperationRegistry]:
    """A fresh registry, also returned by ``get_operation_registry()`` during the test."""
    from layerguard.runtime.registry import OperationRegistry, swap_operation_registry

    registry = OperationRegistry(authority=layerguard_authority, audit_sinks=[layerguard_audit])
    previous = swap_operation_registry(registry)
    try:
        yield registry
    finally:
        swap_operation_registry(previous)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_POSTGRES_VARIABLE, "") not in ("", "0"):
        pytest.fail(f"{REQUIRE_POSTGRES_VARIABLE} is set, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def layerguard_postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL server for the session; skips (or fails, under CI) when none can start."""
    from layerguard.runtime.testing.postgres import PostgresCluster, PostgresUnavailableError

    try:
        import asyncpg  # type: ignore[import-untyped]  # noqa: F401  (the URLs' driver)
    except ImportError:
        _unavailable("asyncpg is not installed: pip install 'layerguard[postgres]'")
    try:
        cluster = PostgresCluster.start_new()
    except PostgresUnavailableError as exc:
        _unavailable(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def layerguard_postgres_url(layerguard_postgres: PostgresCluster) -> Iterator[str]:
    """The SQLAlchemy URL (asyncpg) of an empty database of the test's own."""
    name = f"test_{os.getpid()}_{next(_databases)}"
    url = layerguard_postgres.create_database(name)
    try:
        yield url
    finally:
        layerguard_postgres.drop_database(name)
