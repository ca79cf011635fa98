"""Database wiring of the composition root: the engines, and the tables created at start-up.

The runtime's own tables (the kill switch row, the audit trail) join the models' metadata, so
``create_tables`` creates them too and a migration tool would see them.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerguard.runtime.audit.table import audit_table
from layerguard.runtime.governance.table import governance_table
from layerguard.runtime.integrations.sqlalchemy_session import create_sqlite_engine
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.models import Base

AUDIT_TABLE: Table = audit_table(Base.metadata)
GOVERNANCE_TABLE: Table = governance_table(Base.metadata)


@dataclass(frozen=True, slots=True)
class Engines:
    """``sessions`` serves the requests' units of work; ``backends`` the kill switch and the
    audit sink, which read and write through connections of their own."""

    sessions: AsyncEngine
    backends: AsyncEngine

    async def dispose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        await self.sessions.dispose()
        if self.backends is not self.sessions:
            await self.backends.dispose()


def create_engines(url: str) -> Engines:
    """The engines for ``url`` (any async SQLAlchemy URL; a SQLite one must name a file).

    SQLite allows one writer at a time, and refuses a request transaction that has read the
    upgrade to writing while the audit sink writes: request transactions take the write lock
    up front (``BEGIN IMMEDIATE``, so they wait instead of failing), and the backends get a
    deferred engine of their own, whose reads never wait for a request. The runtime's recipe
    also makes SAVEPOINT work there: without it a failed operation's writes could not be
    rolled back on their own. A server database needs none of this: one engine serves all.
    """
    if url.startswith("sqlite"):
        return Engines(
            sessions=create_sqlite_engine(url, begin="IMMEDIATE"),
            backends=create_sqlite_engine(url),
        )
    engine = create_async_engine(url, pool_pre_ping=True)
    return Engines(sessions=engine, backends=engine)


# Any constant shared by every worker: the key of the advisory lock create_tables holds.
_CREATE_TABLES_LOCK = 0x686F635F617070  # "hoc_app"


async def create_tables(engine: AsyncEngine) -> None:
    """Create missing tables (a real deployment would run migrations instead).

    Every worker of ``uvicorn --workers N`` runs this at start-up. On PostgreSQL two of them
    would both see a table missing and both create it (``DuplicateTableError``: the second
    worker dies), so the check-and-create runs under a transaction-scoped advisory lock: one
    worker creates, the others wait for it and then find the tables there. SQLite serialises
    schema changes by itself.
    """
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_TABLES_LOCK}
            )
        await conn.run_sync(Base.metadata.create_all)
