"""Authority gate: kill switch, degraded mode, environment provider, fail-safe on errors."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
from collections.abc import Iterator

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
    with pytest.raises(
        TypeError, match="must have snapshot\\(\\) and async refresh\\(\\), got dict"
    ):
        OperationRegistry(authority={})  # type: ignore[arg-type]


async def test_refuse_mode_stops_operations_while_the_switch_is_engaged() -> None:
    switch, audit = InMemoryKillSwitch(), InMemoryAuditSink()
    registry = OperationRegistry(
        authority=switch,
        audit_sinks=[audit],
        kill_switch="refuse",
        kill_switch_exempt=["governance.release"],
    )
    registry.register("a.op", Ok())
    registry.register("governance.release", Ok())
    switch.disable("incident 9")
    refused = await registry.execute("a.op", OperationContext())
    exempt = await registry.execute("governance.release", OperationContext())
    unknown = await registry.execute("no.such", OperationContext())
    switch.enable()
    again = await registry.execute("a.op", OperationContext())
    assert (refused.success, refused.error_code) == (False, "KILL_SWITCH_ENGAGED")
    assert (
        refused.error == "operation 'a.op' is refused while the kill switch is engaged (incident 9)"
    )
    assert (exempt.data, unknown.error_code, again.data) == ("ran", "UNKNOWN_OPERATION", "ran")
    assert [(r.operation, r.error_code, r.unguarded) for r in audit.records] == [
        ("a.op", "KILL_SWITCH_ENGAGED", True),
        ("governance.release", None, True),
        ("no.such", "UNKNOWN_OPERATION", True),
        ("a.op", None, False),
    ]
    assert registry.status()["operations"]["a.op"]["failures"] == 1


async def test_refuse_mode_answers_a_name_of_the_wrong_type_as_audit_mode_does() -> None:
    switch = InMemoryKillSwitch()
    registry = OperationRegistry(authority=switch, audit_sinks=[], kill_switch="refuse")
    registry.register("a.op", Ok())
    switch.disable("incident 9")
    with pytest.raises(TypeError, match=r"the operation argument of execute\(\) must be a str"):
        await registry.execute(["a.op"], OperationContext())  # type: ignore[arg-type]


class Sleepy:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        await asyncio.sleep(0.02)
        return OperationResult.ok("slept")


async def test_refused_calls_take_their_place_in_the_latency_samples() -> None:
    """A refusal takes no time: once the samples have wrapped around, a slot it takes must
    not keep an older call's latency."""
    switch = InMemoryKillSwitch()
    registry = OperationRegistry(authority=switch, audit_sinks=[], kill_switch="refuse")
    registry.register("a.op", Sleepy())
    await registry.execute("a.op", OperationContext())  # sample 0: ~20 ms
    switch.disable("incident 9")
    for _ in range(1024):  # the rest of the ring, then sample 0 again
        await registry.execute("a.op", OperationContext())
    latency = registry.status()["operations"]["a.op"]["latency_ms"]
    assert (latency["samples"], latency["max"]) == (1024, 0.0)


def test_the_kill_switch_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="kill_switch must be 'audit' or 'refuse', got 'stop'"):
        OperationRegistry(kill_switch="stop")


FORGED = '\nINFO: 127.0.0.1:1 - "DELETE /policies/1 HTTP/1.1" 200 OK'


@pytest.mark.parametrize(
    ("flip", "expected"),
    [
        (
            "disable",
            [
                "WARNING governance is disabled (reason: 'incident\\nINFO: 127.0.0.1:1 - \"DELETE "
                "/policies/1 HTTP/1.1\" 200 OK', actor: 'mallory\\nINFO: 127.0.0.1:1 - \"DELETE "
                "/policies/1 HTTP/1.1\" 200 OK'): operations run unguarded"
            ],
        ),
        (
            "enter_degraded",
            [
                "WARNING governance is degraded (reason: 'incident\\nINFO: 127.0.0.1:1 - \"DELETE "
                "/policies/1 HTTP/1.1\" 200 OK', actor: 'mallory\\nINFO: 127.0.0.1:1 - \"DELETE "
                "/policies/1 HTTP/1.1\" 200 OK'): operations run degraded",
                "WARNING operation a.op dispatched while governance is degraded (reason: "
                "'incident\\nINFO: 127.0.0.1:1 - \"DELETE /policies/1 HTTP/1.1\" 200 OK')",
            ],
        ),
    ],
)
async def test_a_kill_switch_reason_or_actor_cannot_forge_a_log_line(
    flip: str, expected: list[str]
) -> None:
    """Reason and actor come from whoever flips the switch (an admin endpoint's JSON body): a
    newline in them started a line of its own, e.g. a forged access-log entry."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    runtime_logger = logging.getLogger("layerguard.runtime")
    runtime_logger.addHandler(handler)
    switch, audit = InMemoryKillSwitch(), InMemoryAuditSink()
    registry = registry_with(switch, audit)
    getattr(switch, flip)("incident" + FORGED, actor="mallory" + FORGED)
    try:
        with caplog_level(runtime_logger, logging.WARNING):
            await registry.execute("a.op", OperationContext())
    finally:
        runtime_logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == expected
    # The record and status() keep the text as it was given (formatters serialise them).
    assert audit.records[0].governance_reason == "incident" + FORGED
    assert registry.status()["governance"]["actor"] == "mallory" + FORGED


@contextlib.contextmanager
def caplog_level(logger: logging.Logger, level: int) -> Iterator[None]:
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


async def test_an_unknown_name_dispatched_while_degraded_cannot_forge_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The degraded warning names the operation before it is looked up: any name from input."""
    switch, audit = InMemoryKillSwitch(), InMemoryAuditSink()
    registry = registry_with(switch, audit)
    switch.enter_degraded("lag")
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime"):
        await registry.execute("evil" + FORGED, OperationContext())
    assert caplog.records[1].getMessage() == (
        "operation 'evil\\nINFO: 127.0.0.1:1 - \"DELETE /policies/1 HTTP/1.1\" 200 OK' "
        "dispatched while governance is degraded (reason: lag)"
    )
