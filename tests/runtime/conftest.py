"""Shared fixtures of the runtime tests: every test that takes ``db_url`` (or ``engine``,
``sessions``, ``reader``...) runs twice, on a real SQLite file through aiosqlite and on a fresh
database of a throwaway PostgreSQL server through asyncpg; outcomes are read back through an
independent engine (its own connections, no savepoint recipe)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_schema import ITEMS, METADATA
from sqlalchemy import select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from layerguard.runtime.audit.outbox import DIRECTORY_VARIABLE
from layerguard.runtime.integrations.sqlalchemy_session import (
    configure_session_factory,
    create_sqlite_engine,
)


@pytest.fixture(autouse=True)
def _audit_outbox_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Table sinks built without an outbox directory spool under the test's tmp_path."""
    directory = tmp_path / "outbox"
    monkeypatch.setenv(DIRECTORY_VARIABLE, str(directory))
    return directory


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a PostgreSQL database of the test's own."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    url: str = request.getfixturevalue("layerguard_postgres_url")
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def app_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """The application's engine for ``url`` (SQLite gets the savepoint recipe)."""
    if is_sqlite(url):
        return create_sqlite_engine(url, **kwargs)
    return create_async_engine(url, **kwargs)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """The application's engine, with the SQLite savepoint recipe, tables created."""
    engine = app_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def reader(db_url: str, engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A second, independent engine on the same file: what another process would see."""
    other = create_async_engine(db_url)
    yield other
    await other.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Iterator[async_sessionmaker[AsyncSession]]:
    """The session factory ``get_session_dep`` uses, reset after the test."""
    factory = async_sessionmaker(engine, expire_on_commit=False)
    configure_session_factory(factory)
    yield factory
    configure_session_factory(None)


async def item_names(reader: AsyncEngine) -> list[str]:
    """Committed item names, in insertion order, read through ``reader``."""
    async with reader.connect() as conn:
        return list((await conn.execute(select(ITEMS.c.name).order_by(ITEMS.c.id))).scalars())


@pytest.fixture
def read_items(reader: AsyncEngine):  # type: ignore[no-untyped-def]
    """``await read_items()`` -> committed item names."""

    async def read() -> list[str]:
        return await item_names(reader)

    return read
