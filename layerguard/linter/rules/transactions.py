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
GIT = "backend/app/hoc/cus/policies/L5_engines/git.py"

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


def _entries_text(index: ProjectIndex, entries: tuple[str, ...]) -> str:
    """`L4_handlers`, `layers L4 and L5`, `L4 and module app.db.uow`: the configured owners."""
    layers = [entry for entry in entries if entry in index.layers]
    modules = [entry for entry in entries if entry not in index.layers]
    parts = []
    if layers:
        parts.append(("layer " if len(layers) == 1 else "layers ") + _and(layers))
    if modules:
        parts.append(("module " if len(modules) == 1 else "modules ") + _and(modules))
    return " and ".join(parts)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def uses_runtime(index: ProjectIndex) -> bool:
    """Whether the project uses layerguard's operation registry: its `layerguard.yaml` has a
    `registry:` section, or a project file imports `layerguard.runtime`. Only then do messages
    speak of the session dependency and the operation context."""
    if "registry" in index.config.sections:
        return True
    return any(
        resolved.target == RUNTIME or resolved.target.startswith(RUNTIME + ".")
        for source in index.files.values()
        for resolved in source.imports
    )


RUNTIME = "layerguard.runtime"


class TransactionOutsideOwner(Rule):
    code = codes.TRANSACTION_OUTSIDE_OWNER
    summary = "commit / rollback / begin / begin_nested called outside the transaction owner."
    catches = """
A call of `commit()`, `rollback()`, `begin()` or `begin_nested()` (the names in
`transactions.calls`) in a file of a layer that `transactions.owners` does not name, whatever
the receiver is called (`self._session`, `db`, `ctx.session`, `conn`), including
`async with x.begin():`. A call counts in the shape of SQLAlchemy's API only: `commit()`,
`rollback()` and `begin_nested()` take no argument there and `begin()` only `nested=`, so
`painter.begin(device)` (Qt), `repo.commit(sha)` or `git.commit(repo=shadow)` is another
library's method and not a finding; `session.begin(nested=True)` is one. Nor is a module's
function: `transaction.commit()` after `import transaction`, or `git.commit()` where `git` is a
project module (`from app.vcs import git`). A name imported by `from` from another package may
be an object (a scoped session), so its calls count. Only code counts: a docstring or comment
that mentions `session.commit()` is not a finding. Files in no layer are not checked.

The message names the configured owners; it speaks of the request's session dependency only
in a project that uses layerguard's runtime (a `registry:` section, or an import of
`layerguard.runtime`).
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
- `transactions:` itself: LG201 runs by default only in a project whose `layerguard.yaml` has
  this section (the hoc preset has one). Without it nothing says the project uses SQLAlchemy's
  transactions, so the rule stays off unless selected (`rules.extend_select: [LG2]`).
- `transactions.owners`: the layers or module patterns that may make those calls. In the hoc
  preset nobody in the layers owns the transaction: the runtime's session dependency commits
  after the operation succeeded and rolls back otherwise. To make the operation handlers the
  owners instead, set `owners: [L4_handlers]`.
- `transactions.calls`: the method names that control a transaction (names you add count
  whatever their arguments).
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
        Example(
            {
                ENGINE: """
                    def render(self, painter, repo, lock):
                        painter.begin(self)  # Qt's QPainter.begin(device)
                        repo.commit("v1")
                        lock.commit(message="release")
                """
            },
            title="Methods of the same name that take arguments SQLAlchemy's do not",
        ),
        Example(
            {
                ENGINE: """
                    import transaction
                    from app.hoc.cus.policies.L5_engines import git

                    def publish(self):
                        git.commit()
                        transaction.commit()
                """,
                GIT: "def commit(): ...\n",
            },
            title="A module's function of the same name is not a session's method",
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
            expected=(
                (DRIVER, 4, 15, "only the request's session dependency may control"),
                (DRIVER, 7),
                (DRIVER, 9),
            ),
            title="A driver commits, opens a transaction and rolls back",
        ),
        Example(
            {DRIVER: "async def save(db, row):\n    db.add(row)\n    await db.commit()\n"},
            expected=((DRIVER, 3, 11, "only layer L4_handlers may control transactions"),),
            config=HANDLERS_OWN,
            title="Only the handlers may commit",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        policy = index.config.transactions
        controlled = frozenset(policy.calls)
        owners: str | None = None  # what the message says about them, once there is one
        for source in index.files.values():
            calls = [c for c in index.transaction_calls(source) if c.method in controlled]
            if not calls or source.layer is None or _is_owner(index, source, policy.owners):
                continue
            if owners is None:
                owners = self._owners(index)
            for call in calls:
                yield self.finding(
                    source,
                    call.line,
                    call.col,
                    f"`{call.receiver}.{call.method}()` in {source.layer.layer}: {owners}; "
                    "remove it and let the owner commit (use flush() for generated keys)",
                    f"{call.symbol or '<module>'}:{call.receiver}.{call.method}",
                )

    @staticmethod
    def _owners(index: ProjectIndex) -> str:
        entries = index.config.transactions.owners
        if entries:
            return f"only {_entries_text(index, entries)} may control transactions"
        if uses_runtime(index):
            return "only the request's session dependency may control transactions"
        return "`transactions.owners` names no layer, so no layer may control transactions"


class SessionConstructionOutsideCreator(Rule):
    code = codes.SESSION_CONSTRUCTION_OUTSIDE_CREATOR
    summary = "A session is constructed outside the layers allowed to create sessions."
    catches = """
A session constructed in a file of a layer that `transactions.session_creators` does not
name: a call of one of the `transactions.session_factories` (`AsyncSession(...)`,
`Session(...)`, `AsyncSessionLocal()`), or a call of what one of the
`transactions.session_makers` returns (`sessionmaker(...)()`,
`scoped_session(sessionmaker(...))()`), also through a name the file binds to it:
`Maker = sessionmaker(engine)` at module level, or in the same function, makes `Maker()` a
session's construction. Files in no layer are not checked.

A name counts by what the file imported it as: SQLAlchemy's or SQLModel's
(`orm.Session(engine)` after `from sqlalchemy import orm`, `S(engine)` after
`from sqlalchemy.orm import Session as S`), or the project's own (`from app.db import
SessionLocal`). Another package's session is not a database session: `requests.Session()`,
`boto3.Session()`, `Session()` after `from requests import Session`, `aiohttp.ClientSession()`.
A name that no import of the file binds is taken as the project's own and counts (the file
defines it, as in `SessionLocal = sessionmaker(...)`, or a star import brought it).
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
- `transactions:` itself: LG202 runs by default only in a project whose `layerguard.yaml` has
  this section, as LG201.
- `transactions.session_creators`: the layers or module patterns that may construct sessions
  (none in the hoc preset: sessions come from the runtime's dependency).
- `transactions.session_factories`: the names whose call constructs a session (add your
  own factories' names; an import alias counts by the name it imports).
- `transactions.session_makers`: the names whose result constructs a session when called
  (`sessionmaker`, `async_sessionmaker`, `scoped_session`, `async_scoped_session`).
"""
    valid = (
        Example(
            {ENGINE: "async def run(ctx):\n    return await ctx.session.get(Policy, 1)\n"},
            title="An engine uses the context's session",
        ),
        Example(
            {
                ENGINE: """
                    import boto3
                    import requests
                    from requests import Session

                    def fetch(url):
                        with Session() as http:
                            http.get(url)
                        requests.Session().get(url)
                        return boto3.Session(region_name="eu-west-1")
                """
            },
            title="HTTP and cloud clients' sessions are not database sessions",
        ),
        Example(
            {
                ENGINE: """
                    from cache_client import sessionmaker

                    def build(engine):
                        Maker = sessionmaker(engine)
                        return Maker()

                    def other():
                        return Maker()
                """
            },
            title="Another package's maker, and a name only another function binds",
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
        Example(
            {
                ENGINE: """
                    from sqlalchemy import orm
                    from sqlalchemy.ext.asyncio import AsyncSession as Database

                    def run(engine):
                        with orm.Session(engine) as session:
                            pass
                        return Database(engine)
                """
            },
            expected=((ENGINE, 5, 10, "`orm.Session(...)` builds a session"), (ENGINE, 7)),
            title="SQLAlchemy's sessions, under whatever name the engine imports them",
        ),
        Example(
            {
                ENGINE: """
                    from sqlalchemy.ext.asyncio import async_sessionmaker
                    from sqlalchemy.orm import scoped_session, sessionmaker

                    make_session = sessionmaker(bind=engine)
                    registry = scoped_session(sessionmaker(engine))

                    async def run(aengine):
                        m = async_sessionmaker(aengine)
                        async with m() as session:
                            pass
                        scoped_session(sessionmaker(aengine))()
                        return make_session(), registry()
                """
            },
            expected=(
                (ENGINE, 9, 16, "`m(...)` builds a session"),
                (ENGINE, 11, 5, "`scoped_session()(...)` builds a session"),
                (ENGINE, 12, 12, "`make_session(...)` builds a session"),
                (ENGINE, 12, 28, "`registry(...)` builds a session"),
            ),
            title="Sessions from what makers return, under the names the file gives it",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        creators = index.config.transactions.session_creators
        advice: str | None = None  # where the session should come from, once there is one
        for source in index.files.values():
            built = index.session_constructions(source)
            if not built or source.layer is None or _is_owner(index, source, creators):
                continue
            if advice is None:
                advice = self._advice(index)
            for construction in built:
                yield self.finding(
                    source,
                    construction.line,
                    construction.col,
                    f"`{construction.factory}(...)` builds a session in {source.layer.layer}; "
                    + advice,
                    f"{construction.symbol or '<module>'}:{construction.factory}",
                )

    @staticmethod
    def _advice(index: ProjectIndex) -> str:
        creators = index.config.transactions.session_creators
        if uses_runtime(index):
            return "take the session from the operation context or the session dependency"
        if creators:
            return (
                f"only {_entries_text(index, creators)} may construct sessions; take the "
                "session from the caller"
            )
        return (
            "`transactions.session_creators` names no layer; take the session from the caller "
            "that owns the unit of work"
        )
