"""Database wiring of the composition root: the engine, and the tables created at start-up.

The runtime's own tables (the kill switch row, the audit trail) join the models' metadata, so
``create_tables`` creates them too and a migration tool would see them.
"""

from __future__ import annotations

from layerguard.runtime.audit.table import audit_table
from layerguard.runtime.governance.table import governance_table
from layerguard.runtime.integrations.sqlalchemy_session import create_sqlite_engine
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.models import Base

AUDIT_TABLE: Table = audit_table(Base.metadata)
GOVERNANCE_TABLE: Table = governance_table(Base.metadata)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets the runtime's SAVEPOINT recipe, without which a
    failed operation's writes could not be rolled back on their own."""
    if url.startswith("sqlite"):
        return create_sqlite_engine(url)
    return create_async_engine(url, pool_pre_ping=True)


async def create_tables(engine: AsyncEngine) -> None:
    """Create missing tables (a real deployment would run migrations instead)."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
