"""Authority gate: kill switch, degraded mode, environment provider, fail-safe on errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from layerguard.runtime import (
    EnvironmentAuthority,
    GovernanceMode,
    GovernanceState,
    InMemoryAuditSink,
    InMemoryKillSwitch,
    OperationContext,
    OperationRegistry,
    OperationResult,
)
from layerguard.runtime.governance import AuthorityGate

T = TypeVar("T")


class Ok:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok("ran")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def registry_with(
    authority: object, audit: InMemoryAuditSink, **kwargs: object
) -> OperationRegistry:
    registry = OperationRegistry(authority=authority, audit_sinks=[audit], **kwargs)  # type: ignore[arg-type]
    registry.register("a.op", Ok())
    return registry


async def test_disabled_governance_still_runs_and_audits_unguarded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    switch, audit = InMemoryKillSwitch(), InMemoryAuditSink()
    registry = registry_with(switch, audit)
    switch.disable("incident 42", actor="alice")
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime"):
        results = [await registry.execute("a.op", OperationContext()) for _ in range(3)]
    assert [r.data for r in results] == ["ran", "ran", "ran"]
    assert [(r.governance, r.unguarded, r.degraded) for r in audit.records] == [
        ("disabled", True, False)
    ] * 3
    assert audit.records[0].governance_reason == "incident 42"
    # The transition is logged once, not once per dispatch.
    assert [r.getMessage() for r in caplog.records] == [
        "governance is disabled (reason: incident 42, actor: alice): operations run unguarded"
    ]
    status = registry.status()["governance"]
    assert (status["mode"], status["guarded"], status["reason"], status["actor"]) == (
        "disabled",
        False,
        "incident 42",
        "alice",
    )
    assert status["changed_at"] is not None


async def test_degraded_mode_warns_and_flags_records(caplog: pytest.LogCaptureFixture) -> None:
    switch, audit = InMemoryKillSwitch(), InMemoryAuditSink()
    registry = registry_with(switch, audit, degraded_warning_interval=0)
    switch.enter_degraded("replica lag", actor="ops")
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime"):
        await registry.execute("a.op", OperationContext())
        await registry.execute("a.op", OperationContext())
    assert [(r.governance, r.unguarded, r.degraded) for r in audit.records] == [
        ("degraded", False, True)
    ] * 2
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "governance is degraded (reason: replica lag, actor: ops): operations run degraded",
        "operation a.op dispatched while governance is degraded (reason: replica lag)",
        "operation a.op dispatched while governance is degraded (reason: replica lag)",
    ]


async def test_degraded_warnings_are_throttled_by_default(caplog: pytest.LogCaptureFixture) -> None:
    switch, audit = InMemoryKillSwitch(), InMemoryAuditSink()
    registry = registry_with(switch, audit)
    switch.enter_degraded("replica lag")
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime"):
        for _ in range(50):
            await registry.execute("a.op", OperationContext())
    warnings = [r for r in caplog.records if "dispatched while governance is degraded" in r.message]
    assert len(warnings) == 1
    assert len(audit.records) == 50
    assert all(r.degraded for r in audit.records)


async def test_back_to_active_after_enable() -> None:
    switch, audit = InMemoryKillSwitch(), InMemoryAuditSink()
    registry = registry_with(switch, audit)
    switch.disable("maintenance")
    await registry.execute("a.op", OperationContext())
    switch.enable(actor="bob")
    await registry.execute("a.op", OperationContext())
    switch.enter_degraded("lag")
    await registry.execute("a.op", OperationContext())
    switch.exit_degraded()
    await registry.execute("a.op", OperationContext())
    assert [r.governance for r in audit.records] == ["disabled", "active", "degraded", "active"]
    assert audit.records[1].governance_reason is None


def test_in_memory_switch_is_thread_safe() -> None:
    switch = InMemoryKillSwitch()
    seen: set[GovernanceMode] = set()

    def flip(n: int) -> None:
        for i in range(500):
            if (i + n) % 2:
                switch.disable(f"{n}-{i}")
            else:
                switch.enable()

    def read() -> None:
        for _ in range(2000):
            state = switch.snapshot()
            assert isinstance(state, GovernanceState)
            seen.add(state.mode)

    threads = [threading.Thread(target=flip, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert switch.state.mode in {GovernanceMode.ACTIVE, GovernanceMode.DISABLED}
    assert seen <= {GovernanceMode.ACTIVE, GovernanceMode.DISABLED}


@pytest.mark.parametrize(
    ("environ", "mode", "reason", "actor"),
    [
        ({}, GovernanceMode.ACTIVE, None, "env:LAYERGUARD_GOVERNANCE"),
        ({"LAYERGUARD_GOVERNANCE": "disabled"}, GovernanceMode.DISABLED, None, None),
        (
            {
                "LAYERGUARD_GOVERNANCE": " Degraded ",
                "LAYERGUARD_GOVERNANCE_REASON": "db failover",
                "LAYERGUARD_GOVERNANCE_ACTOR": "deploy-bot",
            },
            GovernanceMode.DEGRADED,
            "db failover",
            "deploy-bot",
        ),
    ],
)
def test_environment_provider(
    environ: dict[str, str], mode: GovernanceMode, reason: str | None, actor: str | None
) -> None:
    state = EnvironmentAuthority(environ).snapshot()
    assert state.mode is mode
    assert state.reason == reason
    if actor is not None:
        assert state.actor == actor


def test_environment_provider_rejects_unknown_mode_at_start_up() -> None:
    with pytest.raises(ValueError, match="use one of: active, disabled, degraded") as caught:
        EnvironmentAuthority({"LAYERGUARD_GOVERNANCE": "off"})
    assert "LAYERGUARD_GOVERNANCE='off'" in str(caught.value)


async def test_environment_provider_reads_os_environ_and_reloads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAYERGUARD_GOVERNANCE", "disabled")
    provider = EnvironmentAuthority()
    audit = InMemoryAuditSink()
    registry = registry_with(provider, audit)
    await registry.execute("a.op", OperationContext())
    monkeypatch.setenv("LAYERGUARD_GOVERNANCE", "active")
    provider.reload()
    await registry.execute("a.op", OperationContext())
    assert [r.unguarded for r in audit.records] == [True, False]


class BrokenProvider:
    """Fails in snapshot() (sync) or refresh() (async), counting the calls."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.refreshes = 0

    def snapshot(self) -> GovernanceState | None:
        if self.where == "snapshot":
            raise RuntimeError("config service down")
        return None

    async def refresh(self) -> GovernanceState:
        self.refreshes += 1
        raise ConnectionError("database unreachable")


@pytest.mark.parametrize("where", ["snapshot", "refresh"])
async def test_failing_provider_never_takes_dispatch_down(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    audit = InMemoryAuditSink()
    registry = registry_with(BrokenProvider(where), audit)
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime.governance"):
        results = [await registry.execute("a.op", OperationContext()) for _ in range(100)]
    assert all(r.success and r.data == "ran" for r in results)
    cause = "RuntimeError" if where == "snapshot" else "ConnectionError"
    # Documented fail-safe: degraded, with the provider error as reason.
    assert {(r.governance, r.degraded, r.unguarded) for r in audit.records} == {
        ("degraded", True, False)
    }
    assert {r.governance_reason for r in audit.records} == {
        f"authority provider unavailable ({cause})"
    }
    errors = [r for r in caplog.records if r.name == "layerguard.runtime.governance"]
    assert len(errors) == 1  # once per interval, not once per call
    assert errors[0].getMessage().startswith("authority provider BrokenProvider failed")
    assert errors[0].exc_info is not None


async def test_gate_backs_off_then_retries_and_logs_again_after_the_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    provider = BrokenProvider("refresh")
    gate = AuthorityGate(provider, retry_interval=5, log_interval=60, clock=clock)
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime.governance"):
        for _ in range(10):
            assert (await gate.refresh()).mode is GovernanceMode.DEGRADED
        assert provider.refreshes == 1  # backing off: the provider is not hammered
        clock.now += 5
        await gate.refresh()
        assert provider.refreshes == 2
        assert len(caplog.records) == 1  # still within the log interval
        clock.now += 60
        await gate.refresh()
        assert provider.refreshes == 3
    assert len(caplog.records) == 2
    assert (
        caplog.records[1]
        .getMessage()
        .endswith("(1 similar events suppressed in the last interval)")
    )


async def test_gate_recovers_when_the_provider_comes_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()

    class Flaky:
        broken = True

        def snapshot(self) -> GovernanceState | None:
            return None

        async def refresh(self) -> GovernanceState:
            if self.broken:
                raise OSError("down")
            return GovernanceState(GovernanceMode.DISABLED, "switch on")

    provider = Flaky()
    gate = AuthorityGate(provider, retry_interval=1, clock=clock)
    assert (await gate.refresh()).mode is GovernanceMode.DEGRADED
    provider.broken = False
    clock.now += 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.governance"):
        state = await gate.refresh()
    assert (state.mode, state.reason) == (GovernanceMode.DISABLED, "switch on")
    assert [r.getMessage() for r in caplog.records] == ["authority provider Flaky recovered"]


async def test_configured_fail_safe_state_is_used() -> None:
    audit = InMemoryAuditSink()
    fail_safe = GovernanceState(GovernanceMode.DISABLED, "fail open: provider down")
    registry = registry_with(BrokenProvider("refresh"), audit, fail_safe_state=fail_safe)
    await registry.execute("a.op", OperationContext())
    [record] = audit.records
    assert (record.governance, record.unguarded, record.governance_reason) == (
        "disabled",
        True,
        "fail open: provider down",
    )


async def test_switchable_authority_fixture(
    layerguard_registry: OperationRegistry,
    layerguard_authority: InMemoryKillSwitch,
    layerguard_audit: InMemoryAuditSink,
) -> None:
    layerguard_registry.register("a.op", Ok())
    layerguard_authority.disable("test")
    await layerguard_registry.execute("a.op", OperationContext())
    assert [r.unguarded for r in layerguard_audit.records] == [True]


async def test_a_provider_that_never_answers_costs_a_dispatch_at_most_the_timeout() -> None:
    class Hangs:
        def snapshot(self) -> GovernanceState | None:
            return None

        async def refresh(self) -> GovernanceState:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    audit = InMemoryAuditSink()
    registry = registry_with(Hangs(), audit, authority_timeout=0.05)
    result = await asyncio.wait_for(registry.execute("a.op", OperationContext()), 5)
    assert result.data == "ran"
    assert audit.records[0].governance_reason == (
        "authority provider unavailable (ProviderTimeoutError)"
    )
    governance = registry.status()["governance"]  # not "active" any more
    assert (governance["mode"], governance["provider"]) == ("degraded", "Hangs")


@pytest.mark.parametrize("where", ["snapshot", "refresh"])
async def test_a_provider_answering_the_wrong_type_is_a_provider_failure(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    class WrongType:
        def snapshot(self) -> object:
            return 42 if where == "snapshot" else None

        async def refresh(self) -> object:
            return "active"

    audit = InMemoryAuditSink()
    registry = registry_with(WrongType(), audit)
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime.governance"):
        result = await registry.execute("a.op", OperationContext())
        status = registry.status()
    assert result.data == "ran"
    assert audit.records[0].governance_reason == "authority provider unavailable (TypeError)"
    assert status["governance"]["mode"] == "degraded"
    returned = "int" if where == "snapshot" else "str"
    assert f"WrongType.{where}() returned {returned}" in caplog.text


def test_an_object_that_is_no_provider_is_refused_at_once() -> None:
    with pytest.raises(TypeError) as caught:
        OperationRegistry(authority={})  # type: ignore[arg-type]
    assert str(caught.value) == (
        "authority must be an authority provider, with snapshot() and async refresh() "
        "(e.g. InMemoryKillSwitch()), got dict"
    )


def test_a_provider_class_instead_of_an_instance_is_refused_at_once() -> None:
    """The class has snapshot and refresh (unbound): the protocol check alone accepted it, and
    every dispatch then ran degraded."""
    expected = (
        "authority must be a provider instance, not the class: authority=InMemoryKillSwitch()"
    )
    with pytest.raises(TypeError) as caught:
        OperationRegistry(authority=InMemoryKillSwitch)  # type: ignore[arg-type]
    assert str(caught.value) == expected
    registry = OperationRegistry()
    with pytest.raises(TypeError) as caught:
        registry.set_authority(InMemoryKillSwitch)  # type: ignore[arg-type]
    assert str(caught.value) == expected
    with pytest.raises(TypeError, match="provider must be a provider instance, not the class"):
        AuthorityGate(InMemoryKillSwitch)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argument", "value", "error", "message"),
    [
        (
            "authority_timeout",
            None,
            TypeError,
            "authority_timeout must be a number of seconds (int or float), got NoneType None",
        ),
        (
            "authority_timeout",
            "1",
            TypeError,
            "authority_timeout must be a number of seconds (int or float), got str '1'",
        ),
        (
            "authority_timeout",
            0,
            ValueError,
            "authority_timeout must be a positive number of seconds, got 0",
        ),
        (
            "authority_timeout",
            float("inf"),
            ValueError,
            "authority_timeout must be a positive number of seconds, got inf",
        ),
        (
            "log_interval",
            "x",
            TypeError,
            "log_interval must be a number of seconds (int or float), got str 'x'",
        ),
        (
            "degraded_warning_interval",
            -1,
            ValueError,
            "degraded_warning_interval must be zero or a positive number of seconds, got -1",
        ),
        (
            "fail_safe_state",
            "off",
            ValueError,
            "fail_safe_state must be a GovernanceState, a GovernanceMode or one of 'active', "
            "'disabled', 'degraded'; got 'off'",
        ),
        (
            "fail_safe_state",
            False,
            TypeError,
            "fail_safe_state must be a GovernanceState, a GovernanceMode or one of 'active', "
            "'disabled', 'degraded'; got bool",
        ),
        (
            "kill_switch_exempt",
            "admin.release",
            TypeError,
            "kill_switch_exempt must be a list of operation names, e.g. "
            "kill_switch_exempt=['admin.release'], got str 'admin.release'",
        ),
        (
            "kill_switch_exempt",
            ["admin.release", 7],
            ValueError,
            "kill_switch_exempt must hold operation names such as 'admin.release', got <int>",
        ),
        (
            "reservoir_size",
            "1024",
            TypeError,
            "reservoir_size must be an int (a power of two), got str",
        ),
        (
            "audit_sinks",
            InMemoryAuditSink(),
            TypeError,
            "audit_sinks must be a list of audit sinks, e.g. audit_sinks=[LoggingAuditSink()], "
            "got InMemoryAuditSink",
        ),
        (
            "audit_sinks",
            [InMemoryAuditSink(), object()],
            TypeError,
            "audit_sinks[1] must be an audit sink, with enabled() and emit(record, ctx), "
            "got object",
        ),
        (
            "audit_sinks",
            [InMemoryAuditSink],
            TypeError,
            "audit_sinks[0] must be a sink instance, not the class: InMemoryAuditSink()",
        ),
    ],
)
def test_registry_arguments_of_the_wrong_type_or_value_are_refused_naming_them(
    argument: str, value: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        OperationRegistry(**{argument: value})  # type: ignore[arg-type]
    assert type(caught.value) is error
    assert str(caught.value) == message


def test_sinks_added_later_are_checked_too() -> None:
    registry = OperationRegistry()
    with pytest.raises(TypeError, match=r"^sink must be an audit sink"):
        registry.add_audit_sink(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^audit_sinks\[0\] must be an audit sink"):
        registry.set_audit_sinks([print])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("refresh_timeout", None, "refresh_timeout must be a number of seconds"),
        ("retry_interval", "5", "retry_interval must be a number of seconds"),
        ("log_interval", None, "log_interval must be a number of seconds"),
        ("fail_safe", 1, "fail_safe must be a GovernanceState"),
        ("clock", 0.0, "clock must be callable"),
    ],
)
def test_gate_arguments_are_checked(argument: str, value: object, message: str) -> None:
    with pytest.raises(TypeError, match=f"^{message}"):
        AuthorityGate(InMemoryKillSwitch(), **{argument: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("fail_safe", ["disabled", GovernanceMode.DISABLED])
async def test_fail_safe_state_may_be_a_mode(fail_safe: object) -> None:
    """The docs' "fail_safe_state= ... e.g. disabled": a mode works, and its reason still says
    what failed (it raised AttributeError from execute())."""
    audit = InMemoryAuditSink()
    registry = registry_with(BrokenProvider("refresh"), audit, fail_safe_state=fail_safe)
    result = await registry.execute("a.op", OperationContext())
    assert result.data == "ran"
    [record] = audit.records
    assert (record.governance, record.unguarded, record.governance_reason) == (
        "disabled",
        True,
        "authority provider unavailable (ConnectionError)",
    )
    assert registry.status()["governance"]["mode"] == "disabled"


async def test_a_refresh_that_swallows_its_cancellation_costs_a_dispatch_the_timeout_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``asyncio.timeout()`` around ``refresh()`` cancelled it, and a refresh that caught the
    CancelledError (a retry loop) went on: the dispatch never returned while status() said
    active. Only one such refresh ever runs: later ones do not start another."""

    class Stubborn:
        def __init__(self) -> None:
            self.started = 0
            self.stop = False
            self.stopped = asyncio.Event()

        def snapshot(self) -> GovernanceState | None:
            return None

        async def refresh(self) -> GovernanceState:
            self.started += 1
            try:
                while not self.stop:
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.sleep(0.01)
            finally:
                self.stopped.set()
            raise RuntimeError("stopped by the test")

    provider, audit = Stubborn(), InMemoryAuditSink()
    registry = registry_with(provider, audit, authority_timeout=0.05)
    gate = AuthorityGate(provider, refresh_timeout=0.05, retry_interval=0, log_interval=0)
    try:
        result = await bounded(registry.execute("a.op", OperationContext()))
        assert result.data == "ran"
        assert audit.records[0].governance_reason == (
            "authority provider unavailable (ProviderTimeoutError)"
        )
        assert registry.status()["governance"]["mode"] == "degraded"
        with caplog.at_level(logging.ERROR, logger="layerguard.runtime.governance"):
            for _ in range(3):  # no back-off: the gate asks every time
                state = await bounded(gate.refresh())
                assert state.reason == "authority provider unavailable (ProviderTimeoutError)"
        assert provider.started == 2  # the registry's and the gate's: never a third
        assert "Stubborn.refresh() ignored its cancellation, still runs" in caplog.text
    finally:
        provider.stop = True
        await asyncio.wait_for(provider.stopped.wait(), 5)


async def bounded(awaitable: Coroutine[Any, Any, T]) -> T:
    """Await in a task, failing after 5 s; unlike wait_for(), it does not then wait for the
    task to honour its cancellation (which a stubborn provider would not)."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait((task,), timeout=5)
    assert done, "it hangs"
    return task.result()
