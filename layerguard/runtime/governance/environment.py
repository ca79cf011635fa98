"""A provider read from environment variables, for deployments that flip it by redeploying."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

from layerguard.runtime.governance.state import GovernanceMode, GovernanceState

MODE_VARIABLE = "LAYERGUARD_GOVERNANCE"
REASON_VARIABLE = "LAYERGUARD_GOVERNANCE_REASON"
ACTOR_VARIABLE = "LAYERGUARD_GOVERNANCE_ACTOR"


class EnvironmentAuthority:
    """Reads ``LAYERGUARD_GOVERNANCE`` (active | disabled | degraded) once, plus reason/actor.

    The environment of a running process does not change from outside, so the state is read at
    construction (and by ``reload()``), never per dispatch. An unknown mode is a configuration
    error reported at start-up, with the accepted values.
    """

    __slots__ = ("_environ", "_state")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._state = self._read()

    def snapshot(self) -> GovernanceState:
        """The state read from the environment."""
        return self._state

    async def refresh(self) -> GovernanceState:
        """The state read from the environment (no I/O)."""
        return self._state

    def reload(self) -> GovernanceState:
        """Re-read the environment (after an in-process change, e.g. in tests)."""
        self._state = self._read()
        return self._state

    def _read(self) -> GovernanceState:
        raw = self._environ.get(MODE_VARIABLE, GovernanceMode.ACTIVE.value).strip().lower()
        try:
            mode = GovernanceMode(raw or GovernanceMode.ACTIVE.value)
        except ValueError:
            accepted = ", ".join(m.value for m in GovernanceMode)
            raise ValueError(
                f"{MODE_VARIABLE}={raw!r} is not a governance mode; use one of: {accepted}"
            ) from None
        return GovernanceState(
            mode,
            reason=self._environ.get(REASON_VARIABLE) or None,
            actor=self._environ.get(ACTOR_VARIABLE) or f"env:{MODE_VARIABLE}",
            changed_at=datetime.now(UTC),
        )
