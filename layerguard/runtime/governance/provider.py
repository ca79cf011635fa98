"""The pluggable source of the governance state, and the gate that makes it fail-safe."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from layerguard.runtime.governance.state import ACTIVE_STATE, GovernanceMode, GovernanceState
from layerguard.runtime.throttle import ThrottledLog

logger = logging.getLogger("layerguard.runtime.governance")


@runtime_checkable
class AuthorityProvider(Protocol):
    """Where the governance state comes from.

    ``snapshot()`` is on the hot path: it must not do I/O. It returns the current state, or
    ``None`` when its cached copy is too old; the registry then awaits ``refresh()``, which may
    do I/O (a database read) and returns the fresh state.
    """

    def snapshot(self) -> GovernanceState | None:
        """The current state without I/O, or ``None`` if a refresh is due."""
        ...

    async def refresh(self) -> GovernanceState:
        """Load the state from its source."""
        ...


class ProviderTimeoutError(TimeoutError):
    """The provider's ``refresh()`` did not answer in time (a hung database read)."""


class AuthorityGate:
    """Wraps a provider so that a failing provider never takes dispatch down.

    When the provider raises, does not answer within ``refresh_timeout`` seconds, or answers
    with something that is not a ``GovernanceState``, the gate answers with ``fail_safe`` (by
    default *degraded*, with the error type as reason: operations keep running, warn, and
    their audit records are flagged, because we no longer know whether governance is on),
    stops asking the provider for ``retry_interval`` seconds, and logs the error once per
    ``log_interval``.
    """

    __slots__ = (
        "_clock",
        "_episode",
        "_fail_safe",
        "_failing_until",
        "_last",
        "_log",
        "_refresh_timeout",
        "_retry_interval",
        "provider",
    )

    def __init__(
        self,
        provider: AuthorityProvider,
        *,
        fail_safe: GovernanceState | None = None,
        retry_interval: float = 5.0,
        refresh_timeout: float = 1.0,
        log_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(provider, AuthorityProvider):
            raise TypeError(
                f"the authority provider must have snapshot() and async refresh(), got "
                f"{type(provider).__name__}"
            )
        self.provider = provider
        self._refresh_timeout = refresh_timeout
        self._fail_safe = fail_safe
        self._retry_interval = retry_interval
        self._clock = clock
        self._failing_until = float("-inf")
        self._last: GovernanceState = ACTIVE_STATE
        self._episode: GovernanceState | None = None
        self._log = ThrottledLog(logger, log_interval, clock)

    @property
    def last_state(self) -> GovernanceState:
        """The last state handed to a dispatch (what ``status()`` reports)."""
        return self._last

    async def refresh(self) -> GovernanceState:
        """Ask the provider for a fresh state, unless it failed less than ``retry_interval`` ago."""
        if self._clock() < self._failing_until:
            return self._fail_safe_state("error")
        try:
            async with asyncio.timeout(self._refresh_timeout):
                state = await self.provider.refresh()
            state = self._checked(state, "refresh()")
        except TimeoutError:
            return self.failed(
                ProviderTimeoutError(
                    f"{type(self.provider).__name__}.refresh() did not answer within "
                    f"{self._refresh_timeout}s"
                )
            )
        except Exception as exc:
            return self.failed(exc)
        self._recovered()
        self._last = state
        return state

    def current(self) -> GovernanceState:
        """Synchronous best effort (for ``status()``): snapshot, else the last known state."""
        if self._clock() < self._failing_until:
            return self._fail_safe_state("error")
        try:
            state = self.provider.snapshot()
            if state is not None:
                state = self._checked(state, "snapshot()")
        except Exception as exc:
            return self.failed(exc)
        return self._last if state is None else state

    def _checked(self, state: object, method: str) -> GovernanceState:
        if not isinstance(state, GovernanceState):
            raise TypeError(
                f"{type(self.provider).__name__}.{method} returned {type(state).__name__}, "
                "expected a GovernanceState"
            )
        return state

    def seen(self, state: GovernanceState) -> None:
        """Remember the state a dispatch used (cheap; called only when it changed)."""
        self._last = state

    def failed(self, exc: Exception) -> GovernanceState:
        """The provider raised: log (throttled), back off, and return the fail-safe state."""
        self._failing_until = self._clock() + self._retry_interval
        self._log.log(
            "provider",
            logging.ERROR,
            "authority provider %s failed; using the fail-safe governance state for %.1fs",
            type(self.provider).__name__,
            self._retry_interval,
            exc_info=exc,
        )
        return self._fail_safe_state(type(exc).__name__)

    def _fail_safe_state(self, cause: str) -> GovernanceState:
        # One state per failure episode: its changed_at says when the trouble started.
        state = self._fail_safe or self._episode
        if state is None:
            state = self._episode = GovernanceState(
                GovernanceMode.DEGRADED,
                reason=f"authority provider unavailable ({cause})",
                actor="layerguard",
                changed_at=datetime.now(UTC),
            )
        self._last = state
        return state

    def _recovered(self) -> None:
        if self._failing_until != float("-inf"):
            self._failing_until = float("-inf")
            self._episode = None
            self._log.reset("provider")
            logger.warning("authority provider %s recovered", type(self.provider).__name__)
