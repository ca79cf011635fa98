"""LG2xx: transaction control and session construction outside their owners."""

from __future__ import annotations

from collections.abc import Iterator

from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex, SourceFile
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, Rule

HANDLER = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"

HANDLERS_OWN = """
version: 1
source_roots: [backend]
layers:
  - id: L4_handlers
    name: Operation handlers
    paths: ["backend/app/hoc/cus/hoc_spine/orchestrator/handlers/**"]
  - id: L6
    name: Drivers
    paths: ["backend/app/hoc/cus/{domain}/L6_*/**"]
transactions:
  owners: [L4_handlers]
"""


def _is_owner(index: ProjectIndex, source: SourceFile, entries: tuple[str, ...]) -> bool:
    module = source.module.name if source.module is not None else ""
    return index.layer_map.allows(entries, source.layer, module)


def _owners_text(entries: tuple[str, ...]) -> str:
    if not entries:
        return "only the request's session dependency may"
    return "only " + ", ".join(entries) + " may"


class TransactionOutsideOwner(Rule):
    code = codes.TRANSACTION_OUTSIDE_OWNER
    summary = "commit / rollback / begin / begin_nested called outside the transaction owner."
    catches = """
A call of `commit()`, `rollback()`, `begin()` or `begin_nested()` (the names in
`transactions.calls`) in a file of a layer that `transactions.owners` does not name, whatever
the receiver is called (`self._session`, `db`, `ctx.session`, `conn`), including
`async with x.begin():`. Only code counts: a docstring or comment that mentions
`session.commit()` is not a finding. Files in no layer are not checked.
"""
    why = """
One unit of work per request: whoever owns the transaction decides when it commits. A driver
that commits half-way through an operation makes a later failure leave partial writes behind;
a handler that rolls back undoes work of operations that ran before it in the same request.
"""
    instead = """
Remove the call and let the owner commit. Use `flush()` if you need generated keys before the
end of the unit of work: it sends the pending SQL without ending the transaction.
"""
    options = """
- `transactions.owners`: the layers or module patterns that may make those calls. In the hoc
  preset nobody in the layers owns the transaction: the runtime's session dependency commits
  after the operation succeeded and rolls back otherwise. To make the operation handlers the
  owners instead, set `owners: [L4_handlers]`.
- `transactions.calls`: the method names that control a transaction.
"""
    valid = (
        Example(
            {
                DRIVER: '''
                    """Never call session.commit() in a driver."""
                    async def save(session, row):
                        session.add(row)
                        await session.flush()  # the dependency commits
                '''
            },
            title="A driver flushes and leaves the commit to the session dependency",
        ),
        Example(
            {HANDLER: "async def run(ctx):\n    await ctx.session.commit()\n"},
            config=HANDLERS_OWN,
            title="Handlers own the transaction in this project",
        ),
    )
    invalid = (
        Example(
            {
                DRIVER: """
                    class PolicyDriver:
                        async def save(self, row):
                            self._session.add(row)
                            await self._session.commit()

                        async def replace(self, db, rows):
                            async with db.begin():
                                db.add_all(rows)
                            await db.rollback()
                """
            },
            expected=((DRIVER, 4), (DRIVER, 7), (DRIVER, 9)),
            title="A driver commits, opens a transaction and rolls back",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        policy = index.config.transactions
        controlled = frozenset(policy.calls)
        for source in index.files.values():
            calls = [c for c in source.facts.transaction_calls if c.method in controlled]
            if not calls or source.layer is None or _is_owner(index, source, policy.owners):
                continue
            for call in calls:
                yield self.finding(
                    source,
                    call.line,
                    call.col,
                    f"`{call.receiver}.{call.method}()` in {source.layer.layer}: "
                    f"{_owners_text(policy.owners)} control transactions; remove it and let the "
                    "owner commit (use flush() for generated keys)",
                    f"{call.symbol or '<module>'}:{call.receiver}.{call.method}",
                )


class SessionConstructionOutsideCreator(Rule):
    code = codes.SESSION_CONSTRUCTION_OUTSIDE_CREATOR
    summary = "A session is constructed outside the layers allowed to create sessions."
    catches = """
A session constructed in a file of a layer that `transactions.session_creators` does not
name: a call of one of the `transactions.session_factories` (`AsyncSession(...)`,
`Session(...)`, `AsyncSessionLocal()`), or a call of what one of the
`transactions.session_makers` returns (`sessionmaker(...)()`). Files in no layer are not
checked.
"""
    why = """
A session built inside a handler, engine or driver is a second unit of work next to the
request's: its commits escape the request's rollback, so a failed operation can leave writes
behind, and its connection escapes the pool's accounting.
"""
    instead = """
Take the session from the operation context (`ctx.session`) or from the runtime's session
dependency, so that the work joins the request's unit of work.
"""
    options = """
- `transactions.session_creators`: the layers or module patterns that may construct sessions
  (none in the hoc preset: sessions come from the runtime's dependency).
- `transactions.session_factories`: the names whose call constructs a session.
- `transactions.session_makers`: the names whose result constructs a session when called.
"""
    valid = (
        Example(
            {ENGINE: "async def run(ctx):\n    return await ctx.session.get(Policy, 1)\n"},
            title="An engine uses the context's session",
        ),
    )
    invalid = (
        Example(
            {
                HANDLER: """
                    from app.db import AsyncSessionLocal
                    from sqlalchemy.orm import sessionmaker

                    class PolicyHandler:
                        async def execute(self, ctx):
                            async with AsyncSessionLocal() as session:
                                pass
                            other = sessionmaker(bind=engine)()
                """
            },
            expected=((HANDLER, 6), (HANDLER, 8)),
            title="A handler opens its own sessions",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        creators = index.config.transactions.session_creators
        for source in index.files.values():
            built = source.facts.session_constructions
            if not built or source.layer is None or _is_owner(index, source, creators):
                continue
            for construction in built:
                yield self.finding(
                    source,
                    construction.line,
                    construction.col,
                    f"`{construction.factory}(...)` builds a session in {source.layer.layer}; "
                    "take the session from the operation context or the session dependency",
                    f"{construction.symbol or '<module>'}:{construction.factory}",
                )
