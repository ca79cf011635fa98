"""Composition root: builds the app (engine, sessions, registry, routes) from the settings.

It lives outside the layers because it is the one place allowed to know all of them. Run it
from the repository root with ``uvicorn app.main:app --app-dir examples/hoc_app/backend``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from layerguard.runtime import LoggingAuditSink, OperationRegistry
from layerguard.runtime.audit.table import TableAuditSink
from layerguard.runtime.governance.table import TableAuthority
from layerguard.runtime.integrations.fastapi import (
    CorrelationIdMiddleware,
    add_status_route,
    registry_lifespan,
)
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db import AUDIT_TABLE, GOVERNANCE_TABLE, create_engines, create_tables
from app.hoc.api.facades.routers import api_router
from app.hoc.cus.hoc_spine.orchestrator.wiring import register_handlers
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; ``settings`` defaults to the environment (``Settings.from_env``)."""
    settings = settings if settings is not None else Settings.from_env()
    engines = create_engines(settings.database_url)
    sessions = async_sessionmaker(engines.sessions, expire_on_commit=False)
    # Both read and write their tables through connections of their own, never the request's
    # session: the kill switch is shared by every worker, and the audit rows of failed
    # operations must survive the rollback of their work.
    kill_switch = TableAuthority(
        engines.backends, ttl=settings.governance_ttl, table=GOVERNANCE_TABLE
    )
    # Records the table cannot take (database down, INSERT revoked) wait in a local outbox
    # and are replayed, exactly once, when it is back.
    audit = TableAuditSink(engines.backends, table=AUDIT_TABLE, outbox=settings.audit_outbox)

    def wire(registry: OperationRegistry) -> None:
        registry.set_authority(kill_switch)
        registry.set_audit_sinks([audit, LoggingAuditSink()])
        register_handlers(registry, kill_switch=kill_switch)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await create_tables(engines.backends)
        # Registers and freezes the registry, configures the session dependency, refuses
        # routes whose commit would run after the response and a misconfigured audit table or
        # kill switch, answers every failure as JSON with a code; drains the audit queue and
        # stops the kill-switch listener on exit.
        async with registry_lifespan(wire, session_factory=sessions)(app):
            yield
        await engines.dispose()

    app = FastAPI(title="hoc_app", summary="The layerguard example", lifespan=lifespan)
    app.state.admin_token = settings.admin_token
    app.add_middleware(CorrelationIdMiddleware)  # X-Request-ID → audit records
    app.include_router(api_router)
    add_status_route(app, path="/health/operations")  # registry.status()
    return app


app = create_app()
