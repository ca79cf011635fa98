"""The operation registry: one dispatch point with authority gate, audit and error handling.

``execute`` is the hot path of every API call, so it is written for speed: no copies of the
context or result in the common case, no audit record built when no sink wants one, counters
and a ring buffer instead of a latency histogram, and the slow paths (errors, timeouts,
savepoints, degraded mode) moved into helpers that the common case never calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from layerguard.runtime import errors
from layerguard.runtime.arguments import optional_seconds, seconds
from layerguard.runtime.audit.logging_sink import LoggingAuditSink
from layerguard.runtime.audit.record import AuditOutcome, AuditRecord
from layerguard.runtime.context import OperationContext, _set_operation, _set_timestamp
from layerguard.runtime.correlation import current_correlation_id
from layerguard.runtime.governance.memory import InMemoryKillSwitch
from layerguard.runtime.governance.provider import (
    AuthorityGate,
    check_provider,
    fail_safe_option,
)
from layerguard.runtime.governance.state import ACTIVE_STATE, GovernanceMode, GovernanceState
from layerguard.runtime.names import MAX_NAME_LENGTH, is_valid_name, safe_name, safe_text
from layerguard.runtime.result import OperationResult
from layerguard.runtime.stats import OperationStats
from layerguard.runtime.throttle import ThrottledLog
from layerguard.runtime.transaction import unit_of_work_for

if TYPE_CHECKING:
    from layerguard.runtime.audit.sink import AuditSink
    from layerguard.runtime.governance.provider import AuthorityProvider
    from layerguard.runtime.handler import OperationHandler
    from layerguard.runtime.transaction import DispatchUnit

logger = logging.getLogger("layerguard.runtime")

_ACTIVE = GovernanceMode.ACTIVE
_DEGRADED = GovernanceMode.DEGRADED
_OK = AuditOutcome.OK
_FAILED = AuditOutcome.FAILED
_wall = time.time
_perf = time.perf_counter_ns


class _Entry(OperationStats):
    """A registered operation: its handler and optional timeout, plus its counters (one
    object, so the hot path reaches the counters without another attribute lookup)."""

    __slots__ = ("handler", "timeout")

    def __init__(self, handler: OperationHandler, timeout: float | None, size: int) -> None:
        super().__init__(size)
        self.handler = handler
        self.timeout = timeout


class OperationRegistry:
    """Maps operation names (``"policies.query"``) to handlers and dispatches to them.

    Every dispatch reads the governance state (kill switch disabled: the operation runs and is
    audited as *unguarded*; degraded: a warning and a flag), runs the handler inside its own
    unit of work when the context carries a session, turns exceptions into failed results and
    sends one audit record to the sinks. The registry never commits: the session dependency
    does, once per request.
    """

    def __init__(
        self,
        *,
        authority: AuthorityProvider | None = None,
        audit_sinks: Iterable[AuditSink] | None = None,
        expose_error_details: bool = False,
        fail_safe_state: GovernanceState | GovernanceMode | str | None = None,
        reservoir_size: int = 1024,
        degraded_warning_interval: float = 60.0,
        log_interval: float = 60.0,
        authority_timeout: float = 1.0,
        kill_switch: str = "audit",
        kill_switch_exempt: Iterable[str] = (),
    ) -> None:
        """Create a registry.

        ``authority`` defaults to an in-memory kill switch, ``audit_sinks`` to one logging
        sink. ``expose_error_details`` puts ``str(exc)`` in public error text (off by default:
        exception messages can carry SQL, paths or personal data). ``log_interval`` throttles
        repeated operational errors (failing sinks, unknown operations, provider errors).
        ``authority_timeout`` bounds the provider's ``refresh()``: a provider that hangs costs a
        dispatch at most that long, then the fail-safe state applies (``fail_safe_state``: a
        ``GovernanceState``, or a mode such as ``"disabled"``; default degraded). Each argument
        of the wrong type or value is a ``TypeError``/``ValueError`` naming it. ``kill_switch`` says
        what a disabled governance does: ``"audit"`` (the default, the seed's contract: the
        operation runs and its record says *unguarded*) or ``"refuse"`` (it does not run and
        fails with ``KILL_SWITCH_ENGAGED``, audited), except for the operations named in
        ``kill_switch_exempt`` (the one that releases the switch, typically).
        """
        # Every argument is checked here, with a message naming it: a wrong one used to
        # surface on the dispatch path (an AttributeError, a dispatch that never returned).
        if kill_switch not in ("audit", "refuse"):
            raise ValueError(f"kill_switch must be 'audit' or 'refuse', got {kill_switch!r}")
        self._refuse_when_disabled = kill_switch == "refuse"
        self._kill_switch_exempt = _exempt_names(kill_switch_exempt)
        if isinstance(reservoir_size, bool) or not isinstance(reservoir_size, int):
            raise TypeError(
                "reservoir_size must be an int (a power of two), got "
                + type(reservoir_size).__name__
            )
        OperationStats(reservoir_size)  # validate early, with the stats' own message
        self._entries: dict[str, _Entry] = {}
        self._frozen = False
        self._lock = threading.Lock()
        self._reservoir_size = reservoir_size
        self._expose_error_details = expose_error_details
        self._log_interval = seconds(log_interval, "log_interval", zero=True)
        self._fail_safe_state = fail_safe_option(fail_safe_state, "fail_safe_state")
        self._authority_timeout = seconds(authority_timeout, "authority_timeout")
        self.set_authority(authority if authority is not None else InMemoryKillSwitch())
        self._seen_state: GovernanceState = ACTIVE_STATE
        # The last seen state if it is active, else None: one identity check per dispatch.
        self._quiet_state: GovernanceState | None = ACTIVE_STATE
        self._sinks: tuple[AuditSink, ...] = (
            (LoggingAuditSink(),) if audit_sinks is None else _sinks(audit_sinks)
        )
        self._sink_failures = 0
        self._unknown_calls = 0
        self._throttled = ThrottledLog(logger, log_interval)
        self._degraded_log = ThrottledLog(
            logger, seconds(degraded_warning_interval, "degraded_warning_interval", zero=True)
        )

    # ------------------------------------------------------------------ registration

    def register(
        self, operation: str, handler: OperationHandler, *, timeout: float | None = None
    ) -> None:
        """Register ``handler`` under ``operation``, optionally with a timeout in seconds.

        Refuses a name that does not match ``OPERATION_NAME`` or is already taken, an object
        without ``async def execute(self, ctx)``, a timeout that is not a positive number, and
        any registration once the registry is frozen: each error says what to do.
        """
        _check_name(operation)
        _check_handler(operation, handler)
        _check_timeout(operation, timeout)
        with self._lock:
            if self._frozen:
                raise errors.RegistryFrozenError(
                    f"cannot register {operation!r}: the registry is frozen. Register handlers "
                    "at start-up, before freeze() (e.g. in the lifespan helper's registrars); "
                    "in tests use registry.override() or a fresh registry."
                )
            existing = self._entries.get(operation)
            if existing is not None:
                raise errors.DuplicateOperationError(
                    f"operation {operation!r} is already handled by "
                    f"{type(existing.handler).__name__}; give the new handler its own name, "
                    "or remove the other registration (tests: use registry.override())."
                )
            self._entries[operation] = _Entry(handler, timeout, self._reservoir_size)

    def freeze(self) -> None:
        """Refuse further registrations: the operation table is fixed after start-up."""
        with self._lock:
            self._frozen = True

    def is_frozen(self) -> bool:
        """Whether ``freeze()`` was called."""
        return self._frozen

    @contextmanager
    def override(
        self, operation: str, handler: OperationHandler, *, timeout: float | None = None
    ) -> Iterator[OperationHandler]:
        """Temporarily route ``operation`` to ``handler`` (tests; works on a frozen registry).

        The previous handler (or the absence of one) is restored on exit; counters carry on.
        """
        _check_name(operation)
        _check_handler(operation, handler)
        _check_timeout(operation, timeout)
        with self._lock:
            entry = self._entries.get(operation)
            if entry is None:
                added = _Entry(handler, timeout, self._reservoir_size)
                self._entries[operation] = added
                previous: tuple[OperationHandler, float | None] | None = None
            else:
                previous = (entry.handler, entry.timeout)
                entry.handler, entry.timeout = handler, timeout
        try:
            yield handler
        finally:
            with self._lock:
                if previous is None:
                    if self._entries.get(operation) is added:
                        del self._entries[operation]
                elif entry is not None:
                    entry.handler, entry.timeout = previous

    # ------------------------------------------------------------------ introspection

    def operations(self) -> list[str]:
        """Sorted names of the registered operations."""
        return sorted(self._entries)

    def operation_count(self) -> int:
        """Number of registered operations."""
        return len(self._entries)

    def has_operation(self, operation: str) -> bool:
        """Whether ``operation`` has a handler."""
        return operation in self._entries

    def get_handler(self, operation: str) -> OperationHandler | None:
        """The handler of ``operation``, or ``None``."""
        entry = self._entries.get(operation)
        return None if entry is None else entry.handler

    def status(self) -> dict[str, Any]:
        """Registry health, JSON-serialisable as is (serve it from a health route).

        Governance is the provider's current state without I/O (the last refreshed one for
        cached providers); latency percentiles are computed here, never on the dispatch path.
        """
        state = self._gate.current()
        return {
            # Which process answered: with several workers, each has its own registry.
            "pid": os.getpid(),
            "frozen": self._frozen,
            "operation_count": len(self._entries),
            "governance": {
                **state.as_dict(),
                "guarded": state.guarded,
                "provider": type(self._gate.provider).__name__,
            },
            "operations": {name: self._entries[name].snapshot() for name in sorted(self._entries)},
            "unknown_operation_calls": self._unknown_calls,
            "audit": {
                "sinks": [type(s).__name__ for s in self._sinks],
                "sink_failures": self._sink_failures,
                **self._sink_status(),
            },
        }

    def _sink_status(self) -> dict[str, Any]:
        """The counters of sinks that keep some (``status()``), e.g. the table sink's outbox."""
        details = {}
        for sink in self._sinks:
            status = getattr(sink, "status", None)
            if callable(status):
                try:
                    details[type(sink).__name__] = status()
                except Exception as exc:
                    details[type(sink).__name__] = {"error": type(exc).__name__}
        return {"sink_status": details} if details else {}

    # ------------------------------------------------------------------ configuration

    @property
    def authority(self) -> AuthorityProvider:
        """The governance provider (e.g. the kill switch to flip)."""
        return self._gate.provider

    def set_authority(self, provider: AuthorityProvider) -> None:
        """Replace the governance provider (allowed after ``freeze()``: it is configuration)."""
        check_provider(provider, "authority")
        gate = AuthorityGate(
            provider,
            fail_safe=self._fail_safe_state,
            log_interval=self._log_interval,
            refresh_timeout=self._authority_timeout,
        )
        self._gate, self._snapshot = gate, provider.snapshot

    @property
    def audit_sinks(self) -> tuple[AuditSink, ...]:
        """The sinks every record goes to."""
        return self._sinks

    def set_audit_sinks(self, sinks: Iterable[AuditSink]) -> None:
        """Replace the audit sinks (an empty iterable turns auditing off)."""
        self._sinks = _sinks(sinks)

    def add_audit_sink(self, sink: AuditSink) -> None:
        """Send records to one more sink."""
        _check_sink(sink, "sink")
        self._sinks = (*self._sinks, sink)

    # ------------------------------------------------------------------ dispatch

    async def execute(self, operation: str, ctx: OperationContext) -> OperationResult:
        """Dispatch ``ctx`` to the handler of ``operation`` and return its result.

        Never raises for handler errors (they become ``HANDLER_EXCEPTION:<Type>``), unknown
        names (``UNKNOWN_OPERATION``) or timeouts (``TIMEOUT``). ``CancelledError``,
        ``KeyboardInterrupt`` and ``SystemExit`` are audited, then re-raised.
        """
        if type(ctx) is not OperationContext:
            _check_context(operation, ctx)
        if ctx.operation is not None:  # a context is dispatched again: give it its own copy
            ctx = OperationContext(ctx.session, ctx.tenant_id, ctx.params, ctx.correlation_id)
        _set_operation(ctx, operation)
        _set_timestamp(ctx, _wall())
        try:
            state = self._snapshot()
            if state is None:
                state = await self._gate.refresh()
        except Exception as exc:
            state = self._gate.failed(exc)
        except BaseException as exc:  # cancelled while the state was being refreshed
            self._interrupted_before_start(operation, ctx, exc)
            raise
        if state is not self._quiet_state:  # changed, degraded or disabled: the slow path
            state = self._governance_seen(operation, state)
            if self._refuse_when_disabled and state.mode is GovernanceMode.DISABLED:
                refused = self._refused(operation, ctx, state)
                if refused is not None:
                    return refused

        try:
            entry = self._entries.get(operation)
        except TypeError:  # unhashable: not a name at all
            entry = None
        if entry is None:
            return self._unknown(operation, ctx, state)

        started = _perf()
        unit: DispatchUnit | None = None
        result: OperationResult | None = None
        # Every await below can be cancelled (opening the unit, the handler, the deferred flush
        # when the unit settles): whatever ends the dispatch there is counted and audited once.
        try:
            if ctx.session is not None:
                unit, result = await self._begin_unit(operation, ctx.session)
            if result is None:
                try:
                    if entry.timeout is None:
                        result = await entry.handler.execute(ctx)
                    else:
                        result = await self._execute_with_timeout(entry, ctx)
                except Exception as exc:
                    result = self._exception_result(operation, exc)
                if type(result) is not OperationResult:  # typed, but checked at run time
                    result = self._checked_result(operation, result)
                if unit is not None:
                    result = await self._settle(unit, operation, result)
        except BaseException as exc:
            await self._interrupted(entry, operation, ctx, state, started, unit, exc)
            raise

        # Stamp, count and audit. Inlined rather than a helper: this runs on every dispatch.
        duration = _perf() - started
        if result.operation is not None:  # a result object reused by the handler
            result = OperationResult(result.success, result.data, result.error, result.error_code)
        result.operation = operation
        result.duration_ms = duration_ms = duration / 1e6
        calls = entry.calls
        entry.calls = calls + 1
        entry.samples[calls & entry.mask] = duration
        if result.success:
            outcome = _OK
        else:
            outcome = _FAILED
            entry.failures += 1
            entry.last_error_code = result.error_code
            entry.last_error_at = ctx.timestamp
            if result.error_code == errors.TIMEOUT:
                entry.timeouts += 1
        for sink in self._sinks:  # build a record only if some sink wants one
            try:
                wanted = sink.enabled()
            except Exception as exc:
                self._sink_failed(sink, exc)
                continue
            except BaseException as exc:  # the other sinks get the record, then it goes on
                self._sink_failed(sink, exc)
                with contextlib.suppress(BaseException):
                    self._emit(
                        sink,
                        ctx,
                        operation,
                        outcome,
                        result.error_code,
                        duration_ms,
                        state,
                        after_first=True,
                    )
                raise
            if wanted:
                self._emit(sink, ctx, operation, outcome, result.error_code, duration_ms, state)
                break
        return result

    def _emit(
        self,
        first: AuditSink | None,
        ctx: OperationContext,
        operation: str,
        outcome: AuditOutcome,
        error_code: str | None,
        duration_ms: float,
        state: GovernanceState,
        *,
        after_first: bool = False,
    ) -> None:
        """Build the record once and give it to every sink that wants it, isolating failures.

        ``first`` is a sink that already said it is enabled (the sinks before it said no, so
        they are skipped); with ``after_first``, it failed to answer and is skipped too. ``None``
        asks every sink.
        """
        record = AuditRecord(
            operation=operation,
            tenant_id=ctx.tenant_id,
            outcome=outcome,
            error_code=error_code,
            duration_ms=duration_ms,
            governance=str(state.mode),  # str(): Enum.value is a slow descriptor
            unguarded=state.mode is GovernanceMode.DISABLED,
            degraded=state.mode is _DEGRADED,
            timestamp=ctx.timestamp if ctx.timestamp is not None else _wall(),
            correlation_id=ctx.correlation_id or current_correlation_id.get(),
            governance_reason=state.reason if state.mode is not _ACTIVE else None,
        )
        skipping = first is not None
        interrupt: BaseException | None = None
        for sink in self._sinks:
            if skipping:
                if sink is not first:
                    continue  # it already said no
                skipping = False
                if after_first:
                    continue
            try:
                if sink is first or sink.enabled():
                    sink.emit(record, ctx)
            except Exception as exc:
                self._sink_failed(sink, exc)
            except BaseException as exc:  # SystemExit, KeyboardInterrupt, CancelledError
                self._sink_failed(sink, exc)
                interrupt = interrupt or exc
        if interrupt is not None:
            raise interrupt  # every sink has the record; an interruption is never swallowed

    # ------------------------------------------------------------------ slow paths

    async def _begin_unit(
        self, operation: str, session: object
    ) -> tuple[DispatchUnit | None, OperationResult | None]:
        """Open the dispatch's unit of work if the session type has an adapter."""
        adapter = unit_of_work_for(session)
        if adapter is None:
            return None, None
        try:
            return await adapter.begin(session, operation), None
        except Exception as exc:
            return None, self._transaction_error(operation, exc)

    async def _execute_with_timeout(self, entry: _Entry, ctx: OperationContext) -> OperationResult:
        timeout = entry.timeout
        scope = asyncio.timeout(timeout)
        try:
            async with scope:
                return await entry.handler.execute(ctx)
        except TimeoutError:
            if not scope.expired():
                raise  # the handler's own TimeoutError: a handler exception like any other
            self._throttled.log(
                f"timeout:{ctx.operation}",
                logging.WARNING,
                "operation %s timed out after %ss",
                ctx.operation,
                timeout,
            )
            return OperationResult.fail(
                f"operation {ctx.operation!r} did not finish within {timeout}s", errors.TIMEOUT
            )

    def _exception_result(self, operation: str, exc: Exception) -> OperationResult:
        if errors.database_unavailable(exc):
            return self._unavailable_result(operation, exc)
        logger.error("operation %s failed with %s", operation, type(exc).__name__, exc_info=exc)
        name = type(exc).__name__
        if self._expose_error_details:
            error = f"{name}: {exc}"
        else:
            error = f"operation {operation!r} failed ({name}); details are in the server log"
        return OperationResult.fail(error, errors.handler_exception_code(exc))

    def _checked_result(self, operation: str, value: object) -> OperationResult:
        """A subclass of ``OperationResult`` is fine; anything else is ``INVALID_RESULT``."""
        if isinstance(value, OperationResult):
            return value
        return self._invalid_result(operation, value)

    def _invalid_result(self, operation: str, value: object) -> OperationResult:
        self._throttled.log(
            f"invalid-result:{operation}",
            logging.ERROR,
            "handler of %s returned %s instead of an OperationResult",
            operation,
            type(value).__name__,
        )
        return OperationResult.fail(
            f"handler of {operation!r} returned {type(value).__name__}, "
            "expected OperationResult.ok(...) or OperationResult.fail(...)",
            errors.INVALID_RESULT,
        )

    def _unavailable_result(self, operation: str, exc: Exception) -> OperationResult:
        """The database is down or the connection was lost: an incident, not a handler bug.
        One log line per interval (with the traceback), not one per request."""
        self._throttled.log(
            "database-unavailable",
            logging.ERROR,
            "operation %s could not reach the database (%s)",
            operation,
            type(exc).__name__,
            exc_info=exc,
        )
        return OperationResult.fail(
            f"operation {operation!r} could not reach the database; try again later",
            errors.DATABASE_UNAVAILABLE,
        )

    def _transaction_error(self, operation: str, exc: Exception) -> OperationResult:
        if errors.database_unavailable(exc):
            return self._unavailable_result(operation, exc)
        logger.error("could not open the unit of work of operation %s", operation, exc_info=exc)
        return OperationResult.fail(
            f"operation {operation!r} could not start its unit of work",
            f"{errors.TRANSACTION_ERROR}:{type(exc).__name__}",
        )

    async def _settle(
        self, unit: DispatchUnit, operation: str, result: OperationResult
    ) -> OperationResult:
        """Keep the dispatch's writes if it succeeded and respected ownership, else discard."""
        violation = unit.violation
        if violation is not None:
            await unit.rollback()
            logger.error(
                "operation %s tried to %s the request's transaction; refused and rolled back",
                operation,
                violation,
            )
            return OperationResult.fail(
                f"operation {operation!r} tried to {violation} the request's transaction; "
                "only the session dependency commits or rolls back",
                errors.TRANSACTION_OWNERSHIP,
            )
        if not result.success:
            await unit.rollback()
            return result
        try:
            await unit.commit()
        except Exception as exc:  # deferred flush of the handler's writes failed
            return self._exception_result(operation, exc)
        return result

    async def _interrupted(
        self,
        entry: _Entry,
        operation: str,
        ctx: OperationContext,
        state: GovernanceState,
        started: int,
        unit: DispatchUnit | None,
        exc: BaseException,
    ) -> None:
        """Cancellation or interpreter exit went through the dispatch (opening its unit, the
        handler, settling the unit): discard, count, audit.

        The caller re-raises ``exc``; nothing here may swallow it.
        """
        cancelled = isinstance(exc, asyncio.CancelledError)
        if unit is not None:
            if cancelled:
                try:
                    await unit.rollback()
                except BaseException:  # cancelled again while rolling back
                    unit.abandon()
            else:
                unit.abandon()
        duration = _perf() - started
        outcome, code = _counted_interruption(entry, ctx, duration, exc)
        self._emit(None, ctx, operation, outcome, code, duration / 1e6, state)

    def _interrupted_before_start(
        self, operation: object, ctx: OperationContext, exc: BaseException
    ) -> None:
        """Cancelled while the governance state was being refreshed: the handler never ran,
        but the dispatch is counted and audited all the same, with the last state known."""
        if not isinstance(operation, str):
            return  # no dispatch: a name of another type is a TypeError, never audited
        duration = int((_wall() - ctx.timestamp) * 1e9) if ctx.timestamp is not None else 0
        entry = self._entries.get(operation)
        if entry is None:
            self._unknown_calls += 1
            operation = safe_name(operation)
            outcome, code = _interruption(exc)
        else:
            outcome, code = _counted_interruption(entry, ctx, duration, exc)
        self._emit(None, ctx, operation, outcome, code, duration / 1e6, self._gate.last_state)

    def _refused(
        self, operation: str, ctx: OperationContext, state: GovernanceState
    ) -> OperationResult | None:
        """The kill switch is engaged in refuse mode: fail without running (None: run it)."""
        if not isinstance(operation, str) or operation in self._kill_switch_exempt:
            return None  # a name that is no string is answered as such
        entry = self._entries.get(operation)
        if entry is None:
            return None  # unknown names are answered as such
        calls = entry.calls
        entry.calls = calls + 1
        entry.samples[calls & entry.mask] = 0  # it took no time: no older sample stands for it
        entry.failures += 1
        entry.last_error_code, entry.last_error_at = errors.KILL_SWITCH_ENGAGED, ctx.timestamp
        result = OperationResult.fail(
            f"operation {operation!r} is refused while the kill switch is engaged"
            + (f" ({state.reason})" if state.reason else ""),
            errors.KILL_SWITCH_ENGAGED,
        )
        result.operation, result.duration_ms = operation, 0.0
        self._emit(None, ctx, operation, _FAILED, errors.KILL_SWITCH_ENGAGED, 0.0, state)
        return result

    def _unknown(
        self, operation: str, ctx: OperationContext, state: GovernanceState
    ) -> OperationResult:
        if not isinstance(operation, str):
            raise TypeError(
                f"the operation argument of execute() must be a str such as 'policies.query', "
                f"got {type(operation).__name__}"
            )
        self._unknown_calls += 1
        name = safe_name(operation)  # input: never a raw newline in a log line or a record
        # One throttle key for all unknown names: a flood of distinct names costs one log line
        # per interval and no memory per name.
        self._throttled.log(
            "unknown-operation",
            logging.ERROR,
            "no handler registered for operation %s (registered: %d operations)",
            name if name != operation else repr(operation),
            len(self._entries),
        )
        result = OperationResult.fail(f"unknown operation {name}", errors.UNKNOWN_OPERATION)
        if name == operation:
            result.error = f"unknown operation {operation!r}"
        result.operation = name
        result.duration_ms = 0.0
        self._emit(None, ctx, name, AuditOutcome.FAILED, errors.UNKNOWN_OPERATION, 0.0, state)
        return result

    def _governance_seen(self, operation: str, state: object) -> GovernanceState:
        """Log transitions once, and warn (throttled) about dispatches in degraded mode; a
        snapshot that is no ``GovernanceState`` is a provider failure (the fail-safe state)."""
        if not isinstance(state, GovernanceState):
            state = self._gate.failed(
                TypeError(
                    f"{type(self._gate.provider).__name__}.snapshot() returned "
                    f"{type(state).__name__}, expected a GovernanceState or None"
                )
            )
        if state is not self._seen_state:
            self._seen_state = state
            self._gate.seen(state)
            self._quiet_state = state if state.mode is _ACTIVE else None
            if state.mode is not _ACTIVE:
                logger.warning(
                    "governance is %s (reason: %s, actor: %s): operations run %s",
                    state.mode.value,
                    _loggable(state.reason),
                    _loggable(state.actor),
                    "unguarded" if state.mode is GovernanceMode.DISABLED else "degraded",
                )
                self._degraded_log.reset("degraded")
        if state.mode is _DEGRADED:
            self._degraded_log.log(
                "degraded",
                logging.WARNING,
                "operation %s dispatched while governance is degraded (reason: %s)",
                safe_name(operation),  # not looked up yet: any name from input
                _loggable(state.reason),
            )
        return state

    def _sink_failed(self, sink: AuditSink, exc: BaseException) -> None:
        if not isinstance(exc, Exception):
            self._sink_failures += 1
            logger.error(
                "audit sink %s raised %s; the other sinks still got the record, then it is "
                "re-raised",
                type(sink).__name__,
                type(exc).__name__,
            )
            return
        self._sink_failures += 1
        self._throttled.log(
            f"sink:{id(sink)}",
            logging.ERROR,
            "audit sink %s failed; the dispatch and the other sinks are unaffected",
            type(sink).__name__,
            exc_info=exc,
        )


def _loggable(text: str | None) -> str | None:
    """A governance reason or actor as it may appear in a log line: whoever flips the switch
    writes them (an admin endpoint's body), so a newline must not start a forged line."""
    return None if text is None else safe_text(text)


def _interruption(exc: BaseException) -> tuple[AuditOutcome, str]:
    """The audit outcome and code of an exception that ends a dispatch and is re-raised."""
    if isinstance(exc, asyncio.CancelledError):
        return AuditOutcome.CANCELLED, errors.CANCELLED
    return AuditOutcome.ABORTED, f"{errors.ABORTED}:{type(exc).__name__}"


def _counted_interruption(
    entry: _Entry, ctx: OperationContext, duration: int, exc: BaseException
) -> tuple[AuditOutcome, str]:
    """Count an interrupted dispatch in its operation's counters; its outcome and code."""
    calls = entry.calls
    entry.calls = calls + 1
    entry.samples[calls & entry.mask] = duration
    outcome, code = _interruption(exc)
    if outcome is AuditOutcome.CANCELLED:
        entry.cancelled += 1
    entry.last_error_code, entry.last_error_at = code, ctx.timestamp
    return outcome, code


def _exempt_names(names: object) -> frozenset[str]:
    """``kill_switch_exempt`` as a set of operation names (a lone str is no list of names:
    ``"a.b"`` became the set of its characters)."""
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(
            "kill_switch_exempt must be a list of operation names, e.g. "
            f"kill_switch_exempt=['admin.release'], got {type(names).__name__} {names!r}"
        )
    exempt = frozenset(names)
    for name in exempt:
        if not isinstance(name, str) or not is_valid_name(name):
            raise ValueError(
                f"kill_switch_exempt must hold operation names such as 'admin.release', "
                f"got {safe_name(name)}"
            )
    return exempt


def _sinks(sinks: object) -> tuple[AuditSink, ...]:
    """``audit_sinks`` as a tuple of sinks, each checked (a lone sink is no list of sinks)."""
    if not isinstance(sinks, Iterable) or hasattr(sinks, "emit"):
        raise TypeError(
            "audit_sinks must be a list of audit sinks, e.g. audit_sinks=[LoggingAuditSink()], "
            f"got {type(sinks).__name__}"
        )
    checked = tuple(sinks)
    for index, sink in enumerate(checked):
        _check_sink(sink, f"audit_sinks[{index}]")
    return checked


def _check_sink(sink: object, argument: str) -> None:
    if isinstance(sink, type):
        raise TypeError(f"{argument} must be a sink instance, not the class: {sink.__name__}()")
    if not (callable(getattr(sink, "enabled", None)) and callable(getattr(sink, "emit", None))):
        raise TypeError(
            f"{argument} must be an audit sink, with enabled() and emit(record, ctx), "
            f"got {type(sink).__name__}"
        )


def _check_name(operation: object) -> None:
    if not isinstance(operation, str):
        raise errors.RegistrationError(
            "operation names are non-empty strings such as 'policies.query'; the operation "
            f"argument is a {type(operation).__name__}"
        )
    if not is_valid_name(operation):
        raise errors.RegistrationError(
            f"operation names are non-empty strings such as 'policies.query' (dot-separated "
            f"segments of letters, digits, '_' and '-', at most {MAX_NAME_LENGTH} characters); "
            f"got {safe_name(operation)}"
        )


def _check_handler(operation: str, handler: object) -> None:
    if isinstance(handler, type):
        raise errors.InvalidHandlerError(
            f"register an instance, not the class: "
            f"registry.register({operation!r}, {handler.__name__}())"
        )
    execute = getattr(handler, "execute", None)
    if execute is None or not inspect.iscoroutinefunction(execute):
        found = "a synchronous execute()" if callable(execute) else "no execute()"
        raise errors.InvalidHandlerError(
            f"handler for {operation!r} ({type(handler).__name__}) has {found}; handlers "
            "define 'async def execute(self, ctx: OperationContext) -> OperationResult'"
        )


def _check_timeout(operation: str, timeout: object) -> None:
    try:
        optional_seconds(timeout, f"timeout of {operation!r}")
    except (TypeError, ValueError) as exc:
        raise errors.RegistrationError(str(exc)) from None


def _check_context(operation: object, ctx: object) -> None:
    if not isinstance(ctx, OperationContext):
        raise TypeError(
            f"the ctx argument of execute({safe_name(operation)}, ctx) must be an "
            f"OperationContext, got {type(ctx).__name__}"
        )


_singleton: OperationRegistry | None = None
_singleton_lock = threading.Lock()


def get_operation_registry() -> OperationRegistry:
    """The process-wide registry (created on first use, the same instance afterwards)."""
    registry = _singleton
    if registry is None:
        registry = _create_singleton()
    return registry


def _create_singleton() -> OperationRegistry:
    global _singleton
    with _singleton_lock:
        if _singleton is None:
            _singleton = OperationRegistry()
        return _singleton


def reset_operation_registry() -> None:
    """Forget the process-wide registry. FOR TESTS ONLY: production code never calls this."""
    global _singleton
    with _singleton_lock:
        _singleton = None


def swap_operation_registry(registry: OperationRegistry | None) -> OperationRegistry | None:
    """Install ``registry`` as the process-wide one and return the previous (testing kit)."""
    global _singleton
    with _singleton_lock:
        previous, _singleton = _singleton, registry
    return previous
