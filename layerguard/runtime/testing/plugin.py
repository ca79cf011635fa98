"""pytest plugin (entry point ``layerguard``): fixtures for code built on the registry.

Loaded in every pytest session of every project that installs layerguard, so it imports only
pytest at load time; the runtime is imported when a fixture is first used.

Fixtures:

* ``layerguard_authority`` - an ``InMemoryKillSwitch`` the test can flip;
* ``layerguard_audit`` - an ``InMemoryAuditSink`` collecting every record;
* ``layerguard_registry`` - a fresh ``OperationRegistry`` wired to both, installed as the
  process singleton for the test (so ``get_operation_registry()`` returns it) and removed after.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from layerguard.runtime.audit.memory import InMemoryAuditSink
    from layerguard.runtime.governance.memory import InMemoryKillSwitch
    from layerguard.runtime.registry import OperationRegistry


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
