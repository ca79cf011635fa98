"""An in-process kill switch: the default provider, and the one tests flip."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from layerguard.runtime.governance.state import ACTIVE_STATE, GovernanceMode, GovernanceState


class InMemoryKillSwitch:
    """Thread-safe switch between active, disabled and degraded.

    Writers replace the whole immutable state under a lock; readers take the current reference
    without locking (a single attribute read is atomic), which keeps ``snapshot()`` cheap.
    """

    __slots__ = ("_lock", "_state")

    def __init__(self, state: GovernanceState = ACTIVE_STATE) -> None:
        self._lock = threading.Lock()
        self._state = state

    def snapshot(self) -> GovernanceState:
        """The current state (never stale: it lives in this process)."""
        return self._state

    async def refresh(self) -> GovernanceState:
        """Nothing to load; present for the provider protocol."""
        return self._state

    @property
    def state(self) -> GovernanceState:
        """The current state."""
        return self._state

    def disable(self, reason: str, actor: str | None = None) -> GovernanceState:
        """Turn the kill switch on: operations keep running, audited as unguarded."""
        return self._set(GovernanceMode.DISABLED, reason, actor)

    def enable(self, reason: str | None = None, actor: str | None = None) -> GovernanceState:
        """Turn the kill switch off (back to active)."""
        return self._set(GovernanceMode.ACTIVE, reason, actor)

    def enter_degraded(self, reason: str, actor: str | None = None) -> GovernanceState:
        """Keep governing but warn and flag every dispatch."""
        return self._set(GovernanceMode.DEGRADED, reason, actor)

    def exit_degraded(self, reason: str | None = None, actor: str | None = None) -> GovernanceState:
        """Leave degraded mode (back to active)."""
        return self._set(GovernanceMode.ACTIVE, reason, actor)

    def _set(self, mode: GovernanceMode, reason: str | None, actor: str | None) -> GovernanceState:
        state = GovernanceState(mode, reason, actor, datetime.now(UTC))
        with self._lock:
            self._state = state
        return state
