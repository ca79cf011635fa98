"""Fixtures of the example's tests: the real app on a real database, driven over HTTP; every
test that takes ``settings`` runs on a SQLite file and on a throwaway PostgreSQL database.

``backend/`` goes on ``sys.path`` so that ``import app`` finds the example from the repository
root. The registry is the runtime's process singleton; the ``layerguard_registry`` fixture (the
runtime's pytest plugin) gives every test a fresh one, which the app's lifespan then wires to
its table-backed kill switch and audit sink.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from layerguard.runtime import OperationRegistry
from layerguard.runtime.integrations.sqlalchemy_session import configure_session_factory
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

EXAMPLE = Path(__file__).resolve().parents[1]
BACKEND = EXAMPLE / "backend"
if str(BACKEND) not in sys.path:
    sys.path.insert(0, str(BACKEND))

from app.main import create_app  # noqa: E402  (needs backend/ on sys.path)
from app.settings import Settings  # noqa: E402


@pytest.fixture(autouse=True)
def _forget_the_session_factory() -> Iterator[None]:
    """The lifespan configures the runtime's process-wide session factory; unset it after."""
    yield
    configure_session_factory(None)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the test's own: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hoc_app.db'}"
    url: str = request.getfixturevalue("layerguard_postgres_url")
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test's database and audit outbox, and an admin token."""
    return Settings(
        database_url=database_url,
        admin_token="test-admin-token",
        audit_outbox=str(tmp_path / "audit-outbox"),
    )


@pytest.fixture
def app(settings: Settings, layerguard_registry: OperationRegistry) -> FastAPI:
    """The application, with the test's fresh registry as the process singleton."""
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, inside its lifespan (tables created, registry frozen)."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hoc") as c,
    ):
        yield c


@pytest.fixture
async def reader(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An independent engine on the same file: what another process sees, i.e. committed rows."""
    engine = create_async_engine(settings.database_url)
    yield engine
    await engine.dispose()
