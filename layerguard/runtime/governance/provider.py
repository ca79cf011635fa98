"""The pluggable source of the governance state, and the gate that makes it fail-safe."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from layerguard.runtime.arguments import seconds
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


FailSafe = GovernanceState | GovernanceMode | None
"""A fail-safe setting: a whole state, or a mode (the reason then names the failure)."""


def check_provider(provider: object, argument: str) -> None:
    """Refuse, naming ``argument``, what cannot be an ``AuthorityProvider``: a class instead
    of an instance (its methods are there, unbound, so the protocol check alone accepts it),
    or an object without ``snapshot()`` and ``refresh()``."""
    if isinstance(provider, type):
        raise TypeError(
            f"{argument} must be a provider instance, not the class: "
            f"{argument}={provider.__name__}()"
        )
    if not (
        callable(getattr(provider, "snapshot", None))
        and callable(getattr(provider, "refresh", None))
    ):
        raise TypeError(
            f"{argument} must be an authority provider, with snapshot() and async refresh() "
            f"(e.g. InMemoryKillSwitch()), got {type(provider).__name__}"
        )


def fail_safe_option(value: object, argument: str) -> FailSafe:
    """``value`` as a fail-safe setting: ``None`` (degraded, the default), a
    ``GovernanceState``, or a mode (``GovernanceMode`` or its name: ``"disabled"``...);
    anything else is a ``TypeError``/``ValueError`` naming ``argument``."""
    if value is None or isinstance(value, GovernanceState):
        return value
    accepted = ", ".join(repr(m.value) for m in GovernanceMode)
    if isinstance(value, str):
        try:
            return GovernanceMode(value)
        except ValueError:
            raise ValueError(
                f"{argument} must be a GovernanceState, a GovernanceMode or one of {accepted}; "
                f"got {value!r}"
            ) from None
    raise TypeError(
        f"{argument} must be a GovernanceState, a GovernanceMode or one of {accepted}; "
        f"got {type(value).__name__}"
    )


class AuthorityGate:
    """Wraps a provider so that a failing provider never takes dispatch down.

    When the provider raises, does not answer within ``refresh_timeout`` seconds (even one
    that ignores the cancellation: ``refresh()`` runs in a task of its own, which the gate
    stops waiting for), or answers with something that is not a ``GovernanceState``, the gate
    answers with ``fail_safe`` (by default *degraded*, with the error type as reason:
    operations keep running, warn, and their audit records are flagged, because we no longer
    know whether governance is on; a mode instead of a whole state keeps that reason), stops
    asking the provider for ``retry_interval`` seconds, and logs the error once per
    ``log_interval``.
    """

    __slots__ = (
        "_clock",
        "_episode",
        "_fail_safe",
        "_failing_until",
        "_hung",
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
        fail_safe: GovernanceState | GovernanceMode | str | None = None,
        retry_interval: float = 5.0,
        refresh_timeout: float = 1.0,
        log_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_provider(provider, "provider")
        if not callable(clock):
            raise TypeError(f"clock must be callable (time.monotonic), got {type(clock).__name__}")
        self.provider = provider
        self._refresh_timeout = seconds(refresh_timeout, "refresh_timeout")
        self._fail_safe = fail_safe_option(fail_safe, "fail_safe")
        self._retry_interval = seconds(retry_interval, "retry_interval", zero=True)
        self._clock = clock
        self._failing_until = float("-inf")
        self._last: GovernanceState = ACTIVE_STATE
        self._episode: GovernanceState | None = None
        # A refresh() that outlived its timeout and ignored the cancellation: never a second.
        self._hung: asyncio.Future[object] | None = None
        self._log = ThrottledLog(logger, seconds(log_interval, "log_interval", zero=True), clock)

    @property
    def last_state(self) -> GovernanceState:
        """The last state handed to a dispatch (what ``status()`` reports)."""
        return self._last

    async def refresh(self) -> GovernanceState:
        """Ask the provider for a fresh state, unless it failed less than ``retry_interval`` ago."""
        if self._clock() < self._failing_until:
            return self._fail_safe_state("error")
        name = type(self.provider).__name__
        if self._hung is not None:
            if not self._hung.done():
                return self.failed(
                    ProviderTimeoutError(f"{name}.refresh() ignored its cancellation, still runs")
                )
            self._hung = None
        try:
            # A task of its own: a refresh() that swallows the cancellation cannot hold the
            # dispatch beyond the timeout (it could inside asyncio.timeout()).
            task: asyncio.Future[object] = asyncio.ensure_future(self.provider.refresh())
        except Exception as exc:  # refresh() is no coroutine function
            return self.failed(exc)
        try:
            await asyncio.wait((task,), timeout=self._refresh_timeout)
        except BaseException:  # the dispatch was cancelled: so is its refresh
            _stop(task)
            raise
        if not task.done():
            _stop(task)
            self._hung = task  # if it ignores the cancellation, no other one is started
            return self.failed(
                ProviderTimeoutError(
                    f"{name}.refresh() did not answer within {self._refresh_timeout}s"
                )
            )
        if task.cancelled():  # by itself: not the dispatch's cancellation
            return self.failed(RuntimeError(f"{name}.refresh() was cancelled"))
        try:
            state = self._checked(task.result(), "refresh()")
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
        fixed = self._fail_safe
        if isinstance(fixed, GovernanceState):
            state = fixed
        else:  # one state per failure episode: its changed_at says when the trouble started
            state = self._episode or GovernanceState(
                fixed or GovernanceMode.DEGRADED,
                reason=f"authority provider unavailable ({cause})",
                actor="layerguard",
                changed_at=datetime.now(UTC),
            )
            self._episode = state
        self._last = state
        return state

    def _recovered(self) -> None:
        if self._failing_until != float("-inf"):
            self._failing_until = float("-inf")
            self._episode = None
            self._log.reset("provider")
            logger.warning("authority provider %s recovered", type(self.provider).__name__)


def _stop(task: asyncio.Future[object]) -> None:
    task.cancel()
    task.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Future[object]) -> None:
    """A refresh nobody waits for any more: mark its failure as seen (no "never retrieved")."""
    if not task.cancelled():
        task.exception()
