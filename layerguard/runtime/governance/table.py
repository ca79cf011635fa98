"""A kill switch stored in a database table, shared by every worker of a deployment.

Each worker process has its own engine and its own ``TableAuthority``; the state is cached for
``ttl`` seconds, so a flip made anywhere (another worker, an admin endpoint, a manual
``UPDATE``) is seen by every worker at most ``ttl`` seconds later, at the cost of one
primary-key SELECT per worker and TTL. Reads use the provider's own engine, never the
request's session, so a kill-switch check is not part of any request's transaction.

On PostgreSQL (asyncpg), every flip also sends ``NOTIFY`` on a channel named after the table,
in the flip's transaction, and each worker ``LISTEN``s on a connection of its own: a flip
reaches the other workers in milliseconds, not after the ttl. The ttl stays the fallback
(while the listening connection is down, e.g. the server restarted, until it reconnects; and
on other databases). A manual ``UPDATE`` should ``NOTIFY`` too to propagate at once
(``SELECT pg_notify('layerguard_governance', 'default')``), or it is seen within the ttl.

Operators can flip it without the application::

    UPDATE layerguard_governance
       SET mode = 'disabled', reason = 'incident 42', actor = 'alice', changed_at = now()
     WHERE scope = 'default';
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from layerguard.runtime.errors import database_unavailable
from layerguard.runtime.governance.state import ACTIVE_STATE, GovernanceMode, GovernanceState

logger = logging.getLogger("layerguard.runtime.governance")

DEFAULT_TABLE = "layerguard_governance"


def governance_table(metadata: MetaData | None = None, name: str = DEFAULT_TABLE) -> Table:
    """The table definition (add it to your metadata to manage it with your migrations)."""
    return Table(
        name,
        metadata if metadata is not None else MetaData(),
        Column("scope", String(100), primary_key=True),
        Column("mode", String(20), nullable=False),
        Column("reason", String(500)),
        Column("actor", String(200)),
        Column("changed_at", DateTime(timezone=True)),
    )


class GovernanceConfigurationError(RuntimeError):
    """The kill-switch table cannot be used as configured (the message says what to do)."""


class TableAuthority:
    """Governance state read from (and written to) one row of a table, cached for ``ttl``.

    ``scope`` selects the row, so several deployments can share a table. No row means active.
    A row with an unknown mode, or a database error, makes ``refresh()`` raise: the registry's
    gate then applies its fail-safe state and logs the error once per interval.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: float = 2.0,
        scope: str = "default",
        table: Table | None = None,
        clock: Callable[[], float] = time.monotonic,
        listen: bool = True,
    ) -> None:
        """``listen`` (PostgreSQL with asyncpg only) keeps one connection of the engine's pool
        to receive flips at once; elsewhere it does nothing."""
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, got {ttl!r}")
        if not isinstance(engine, AsyncEngine):
            raise TypeError(
                "engine must be an AsyncEngine (sqlalchemy.ext.asyncio.create_async_engine), "
                f"got {type(engine).__name__}"
            )
        if not isinstance(scope, str) or not scope:
            raise TypeError(f"scope must be a non-empty str, got {scope!r}")
        self._engine = engine
        self._listen = (
            listen and engine.dialect.name == "postgresql" and (engine.dialect.driver == "asyncpg")
        )
        self._listener: asyncio.Task[None] | None = None
        self.listening = False
        self.notifications = 0
        self._ttl = ttl
        self._scope = scope
        self.table = table if table is not None else governance_table()
        self._clock = clock
        self._state: GovernanceState = ACTIVE_STATE
        self._expires_at = float("-inf")
        self._loading: asyncio.Task[GovernanceState] | None = None
        # Bumped by every flip this worker hears of (a notification, its own write): a read
        # that started before cannot be shared any more, nor cached once it returns.
        self._generation = 0
        self._loading_generation = 0

    def snapshot(self) -> GovernanceState | None:
        """The cached state while fresh, ``None`` once it is older than ``ttl``."""
        if self._clock() < self._expires_at:
            return self._state
        return None

    @property
    def channel(self) -> str:
        """The NOTIFY channel of flips (PostgreSQL)."""
        return self.table.name

    async def refresh(self) -> GovernanceState:
        """Read the row; concurrent callers share one query, unless a flip was heard of since
        it started (its answer may predate the flip: a new query starts)."""
        self._start_listening()
        task = self._loading
        if task is None or task.done() or self._loading_generation != self._generation:
            self._loading_generation = self._generation
            task = self._loading = asyncio.ensure_future(self._load())
            task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def create_table(self) -> None:
        """Create the table if it does not exist (applications with migrations skip this)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(self.table.create, checkfirst=True)

    async def check_configuration(self, session_factory: object = None) -> None:
        """Refuse at start-up a table that is missing or unreadable (an unreachable database
        is only logged: the fail-safe state covers it), and start listening for flips."""
        try:
            await self._load()
        except Exception as exc:
            if not database_unavailable(exc):
                raise GovernanceConfigurationError(
                    f"kill-switch table {self.table.name!r} cannot be read "
                    f"({type(exc).__name__}); create it (await authority.create_table(), or "
                    "governance_table(metadata) in your migrations)"
                ) from exc
            logger.warning(
                "kill-switch table %s: the database is unreachable at start-up (%s)",
                self.table.name,
                type(exc).__name__,
            )
        self._start_listening()

    async def aclose(self) -> None:
        """Stop listening (the lifespan helper calls this at shutdown)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        self._listen = False

    async def disable(self, reason: str, actor: str | None = None) -> GovernanceState:
        """Turn the kill switch on for every worker (seen by all within ``ttl``)."""
        return await self._write(GovernanceMode.DISABLED, reason, actor)

    async def enable(self, reason: str | None = None, actor: str | None = None) -> GovernanceState:
        """Turn the kill switch off for every worker."""
        return await self._write(GovernanceMode.ACTIVE, reason, actor)

    async def enter_degraded(self, reason: str, actor: str | None = None) -> GovernanceState:
        """Put every worker in degraded mode."""
        return await self._write(GovernanceMode.DEGRADED, reason, actor)

    async def exit_degraded(
        self, reason: str | None = None, actor: str | None = None
    ) -> GovernanceState:
        """Leave degraded mode everywhere."""
        return await self._write(GovernanceMode.ACTIVE, reason, actor)

    async def _load(self) -> GovernanceState:
        generation = self._generation
        table = self.table
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table.c.mode, table.c.reason, table.c.actor, table.c.changed_at).where(
                        table.c.scope == self._scope
                    )
                )
            ).first()
        if row is None:
            state = ACTIVE_STATE
        else:
            try:
                mode = GovernanceMode(row.mode)
            except ValueError:
                raise ValueError(
                    f"{table.name} row {self._scope!r} has mode {row.mode!r}; expected one of "
                    + ", ".join(m.value for m in GovernanceMode)
                ) from None
            state = GovernanceState(mode, row.reason, row.actor, _aware(row.changed_at))
        if generation == self._generation:  # else a flip came meanwhile: it may be older
            self._remember(state)
        return state

    async def _write(
        self, mode: GovernanceMode, reason: str | None, actor: str | None
    ) -> GovernanceState:
        state = GovernanceState(mode, reason, actor, datetime.now(UTC))
        values = {
            "mode": mode.value,
            "reason": reason,
            "actor": actor,
            "changed_at": state.changed_at,
        }
        async with self._engine.begin() as conn:
            await conn.execute(upsert(conn.dialect.name, self.table, self._scope, values))
            if conn.dialect.name == "postgresql":  # delivered to the listeners at COMMIT
                await conn.execute(select(func.pg_notify(self.channel, self._scope)))
        self._generation += 1  # a read in flight must not overwrite this with what it read
        self._remember(state)
        return state

    # ------------------------------------------------------------------ LISTEN (PostgreSQL)

    def _start_listening(self) -> None:
        if self._listen and (self._listener is None or self._listener.done()):
            self._listener = asyncio.get_running_loop().create_task(self._listen_forever())

    async def _listen_forever(self) -> None:
        """Hold a LISTEN connection; reconnect with backoff whenever it is lost."""
        delay = 0.2
        while True:
            lost = asyncio.Event()
            try:
                async with self._engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None
                    driver.add_termination_listener(lambda _c, lost=lost: lost.set())
                    await driver.add_listener(self.channel, self._notified)
                    try:
                        self.listening, delay = True, 0.2
                        self._invalidate()  # flips made while we were not listening
                        await lost.wait()
                        await conn.invalidate()  # dead: never hand it back to the pool
                    finally:  # the connection goes back to the pool: leave it as it was
                        if not driver.is_closed():
                            with contextlib.suppress(Exception):
                                await asyncio.shield(
                                    driver.remove_listener(self.channel, self._notified)
                                )
            except asyncio.CancelledError:
                self.listening = False
                raise
            except Exception as exc:
                logger.debug("kill-switch listener: %s", type(exc).__name__, exc_info=exc)
            self.listening = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == self._scope:
            self.notifications += 1
            self._invalidate()
            task = asyncio.ensure_future(self.refresh())  # fresh before the next dispatch
            task.add_done_callback(_retrieve)

    def _invalidate(self) -> None:
        """Forget the cached state, and the read in flight: both may predate a flip."""
        self._generation += 1
        self._expires_at = float("-inf")

    def _remember(self, state: GovernanceState) -> None:
        self._state = state
        self._expires_at = self._clock() + self._ttl


def upsert(dialect: str, table: Table, scope: str, values: dict[str, Any]) -> Executable:
    """One statement that inserts the row or updates it: two writers flipping the switch at
    once both succeed (UPDATE-then-INSERT lost one of them to a duplicate key)."""
    if dialect in ("postgresql", "sqlite"):
        module = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
        statement = module.insert(table).values(scope=scope, **values)
        return cast(
            Executable,
            statement.on_conflict_do_update(index_elements=[table.c.scope], set_=values),
        )
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        return mysql_insert(table).values(scope=scope, **values).on_duplicate_key_update(**values)
    raise NotImplementedError(
        f"TableAuthority writes need an upsert, which layerguard knows for PostgreSQL, SQLite "
        f"and MySQL/MariaDB, not {dialect}; flip the switch with your database's MERGE"
    )


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; the table stores UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _retrieve(task: asyncio.Future[GovernanceState]) -> None:
    """Mark a failed load as retrieved even if every waiter was cancelled meanwhile."""
    if not task.cancelled():
        task.exception()
