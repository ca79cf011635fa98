"""The pluggable unit-of-work hook the core uses instead of knowing SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from layerguard.runtime import (
    OperationContext,
    OperationRegistry,
    OperationResult,
    register_unit_of_work,
)
from layerguard.runtime.transaction import unit_of_work_for, unregister_unit_of_work


class FakeSession:
    """A session type of some other library."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.broken_release = False


class SubSession(FakeSession):
    pass


class FakeUnit:
    def __init__(self, session: FakeSession, operation: str) -> None:
        self.session = session
        self.operation = operation
        self.violation: str | None = None

    async def commit(self) -> None:
        if self.session.broken_release:
            self.session.log.append(f"rollback {self.operation}")
            raise LookupError("release failed")
        self.session.log.append(f"commit {self.operation}")

    async def rollback(self) -> None:
        self.session.log.append(f"rollback {self.operation}")

    def abandon(self) -> None:
        self.session.log.append(f"abandon {self.operation}")


class FakeAdapter:
    async def begin(self, session: Any, operation: str) -> FakeUnit:
        session.log.append(f"begin {operation}")
        return FakeUnit(session, operation)


@pytest.fixture
def adapter() -> Iterator[FakeAdapter]:
    adapter = FakeAdapter()
    register_unit_of_work(FakeSession, adapter)
    yield adapter
    unregister_unit_of_work(FakeSession)


class Behaves:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        if ctx.params.get("raise"):
            raise ValueError("x")
        if ctx.params.get("fail"):
            return OperationResult.fail("no", "NOT_FOUND")
        return OperationResult.ok()


async def test_registry_brackets_each_dispatch_with_the_adapters_unit(adapter: FakeAdapter) -> None:
    registry = OperationRegistry(audit_sinks=[])
    registry.register("a.op", Behaves())
    session = SubSession()  # subclasses use their base's adapter
    assert unit_of_work_for(session) is adapter
    await registry.execute("a.op", OperationContext(session))
    await registry.execute("a.op", OperationContext(session, params={"fail": True}))
    await registry.execute("a.op", OperationContext(session, params={"raise": True}))
    session.broken_release = True
    released = await registry.execute("a.op", OperationContext(session))
    assert released.error_code == "HANDLER_EXCEPTION:LookupError"
    assert session.log == [
        "begin a.op",
        "commit a.op",
        "begin a.op",
        "rollback a.op",
        "begin a.op",
        "rollback a.op",
        "begin a.op",
        "rollback a.op",
    ]


async def test_violation_reported_by_the_unit_fails_the_dispatch(adapter: FakeAdapter) -> None:
    class Violating(FakeAdapter):
        async def begin(self, session: Any, operation: str) -> FakeUnit:
            unit = await super().begin(session, operation)
            unit.violation = "commit"
            return unit

    register_unit_of_work(FakeSession, Violating())
    registry = OperationRegistry(audit_sinks=[])
    registry.register("a.op", Behaves())
    session = FakeSession()
    result = await registry.execute("a.op", OperationContext(session))
    assert result.error_code == "TRANSACTION_OWNERSHIP"
    assert session.log == ["begin a.op", "rollback a.op"]


def test_sessions_without_adapter_resolve_to_none() -> None:
    assert unit_of_work_for(object()) is None
    assert unit_of_work_for("a string") is None
