"""FastAPI integration: session alias, result → response, lifespan, correlation ids.

API modules import from here (or ``layerguard.runtime``) and never import SQLAlchemy: the
``SessionDep`` alias carries the ``AsyncSession`` type for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from layerguard.runtime import errors
from layerguard.runtime.correlation import current_correlation_id
from layerguard.runtime.errors import UnitOfWorkError
from layerguard.runtime.integrations.sqlalchemy_session import (
    configure_session_factory,
    get_session_dep,
    get_session_factory_or_none,
)
from layerguard.runtime.registry import OperationRegistry, get_operation_registry
from layerguard.runtime.result import OperationResult

SessionDep = Annotated[AsyncSession, Depends(get_session_dep, scope="function")]
"""The request's session. ``scope="function"`` makes FastAPI run the commit in
``get_session_dep`` before the response is sent (the default ``"request"`` scope would run it
after). Use it as ``session: SessionDep``."""

# ------------------------------------------------------------------ error code → HTTP status

DEFAULT_ERROR_STATUSES: Final[Mapping[str, int]] = {
    # The route exists and was matched, but no handler is registered behind it: a deployment
    # bug on the server side, not a missing resource. 501 keeps it a 5xx (alerts fire) and
    # says precisely "not implemented here"; 404 would blame the client and hide the bug.
    errors.UNKNOWN_OPERATION: 501,
    errors.HANDLER_EXCEPTION: 500,
    errors.TRANSACTION_OWNERSHIP: 500,
    errors.TRANSACTION_ERROR: 503,
    errors.INVALID_RESULT: 500,
    errors.TIMEOUT: 504,
    errors.DATABASE_UNAVAILABLE: 503,
    errors.KILL_SWITCH_ENGAGED: 503,
    errors.COMMIT_FAILED: 500,
    errors.COMMIT_OUTCOME_UNKNOWN: 500,
    errors.UNIT_OF_WORK_POISONED: 500,
    errors.INTERNAL_ERROR: 500,
    # Conventional codes handlers return with OperationResult.fail(...):
    "VALIDATION_ERROR": 422,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "FORBIDDEN": 403,
    "UNAUTHORIZED": 401,
}


class ErrorStatusMap:
    """Maps error codes to HTTP statuses: exact code first, then its prefix before ``:``.

    ``HANDLER_EXCEPTION:ValueError`` can be mapped on its own, or fall back to
    ``HANDLER_EXCEPTION``. Unmapped codes get ``default`` (500: an unexplained failure is the
    server's problem until a mapping says otherwise).
    """

    __slots__ = ("_statuses", "default")

    def __init__(
        self,
        statuses: Mapping[str, int] | None = None,
        *,
        default: int = 500,
        include_defaults: bool = True,
    ) -> None:
        base = dict(DEFAULT_ERROR_STATUSES) if include_defaults else {}
        base.update(statuses or {})
        self._statuses = base
        self.default = default

    def status_for(self, error_code: str | None) -> int:
        """The HTTP status for ``error_code``."""
        if error_code is None:
            return self.default
        status = self._statuses.get(error_code)
        if status is None and ":" in error_code:
            status = self._statuses.get(error_code.split(":", 1)[0])
        return self.default if status is None else status

    def with_overrides(self, statuses: Mapping[str, int]) -> ErrorStatusMap:
        """A copy with some codes remapped."""
        return ErrorStatusMap({**self._statuses, **statuses}, default=self.default)


_error_statuses = ErrorStatusMap()


def configure_error_statuses(statuses: ErrorStatusMap) -> None:
    """Set the mapping ``result_to_response`` uses when none is passed."""
    global _error_statuses
    _error_statuses = statuses


def result_to_response(result: OperationResult, statuses: ErrorStatusMap | None = None) -> Any:
    """The result's data, or an ``HTTPException`` for a failed result.

    The exception's detail is ``{"error", "error_code", "operation"}`` so clients can match on
    the code. Raising it rolls back the request's unit of work: to keep the writes of earlier
    successful operations, return a response describing the failure instead of raising.
    """
    if result.success:
        return result.data
    mapping = _error_statuses if statuses is None else statuses
    raise HTTPException(
        status_code=mapping.status_for(result.error_code),
        detail=error_body(result.error, result.error_code, result.operation)["detail"],
    )


def error_body(error: str | None, error_code: str | None, operation: str | None) -> dict[str, Any]:
    """The JSON body of every error response: ``{"detail": {error, error_code, operation}}``
    (``result_to_response`` raises its ``detail``)."""
    return {"detail": {"error": error, "error_code": error_code, "operation": operation}}


async def _unit_of_work_error(request: Request, exc: Exception) -> Response:
    code = getattr(exc, "error_code", errors.UNIT_OF_WORK_POISONED)
    return JSONResponse(
        error_body(str(exc), code, None), status_code=_error_statuses.status_for(code)
    )


async def _unhandled_error(request: Request, exc: Exception) -> Response:
    # Starlette's last resort is a plain-text "Internal Server Error"; clients that match on
    # codes get one. The exception is still logged by the server (Starlette re-raises it).
    if errors.database_unavailable(exc):
        code, error = errors.DATABASE_UNAVAILABLE, "the database could not be reached"
    else:
        code, error = errors.INTERNAL_ERROR, "internal server error; details are in the server log"
    return JSONResponse(error_body(error, code, None), status_code=_error_statuses.status_for(code))


def install_error_handlers(app: FastAPI) -> bool:
    """Answer ``UnitOfWorkError`` (commit-time failures) and any unhandled exception as JSON
    error responses with a code, instead of Starlette's plain-text 500.

    Handlers the application registered itself for those classes are kept. Returns whether
    anything was added. The lifespan helper calls it (``error_responses=True``).
    """
    added = False
    for exc_class, handler in (
        (UnitOfWorkError, _unit_of_work_error),
        (Exception, _unhandled_error),
    ):
        if exc_class not in app.exception_handlers:
            app.add_exception_handler(exc_class, handler)
            added = True
    return added


# ------------------------------------------------------------------ lifespan

Registrar = Callable[[OperationRegistry], None]


def registry_lifespan(
    *registrars: Registrar,
    registry: OperationRegistry | None = None,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
    check_session_scope: bool = True,
    error_responses: bool = True,
    inner: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A FastAPI ``lifespan`` that wires the runtime at start-up.

    On start-up: configure ``session_factory`` for ``get_session_dep``, call every registrar
    with the registry (default: the process singleton), freeze it, and (by default) refuse to
    start if a route declares ``get_session_dep`` without ``scope="function"`` (its commit
    would run after the response is sent), and let the sinks and the authority provider
    refuse a misconfiguration (``check_backends``). With ``error_responses`` (the default)
    commit-time failures and unhandled exceptions are answered as JSON with a code
    (``install_error_handlers``). ``inner`` is the application's own lifespan, run
    inside (after the registry is ready, before it shuts down). On shutdown: await
    ``aclose()`` of the sinks and the authority that have one (the table sink drains its
    queue, the table kill switch stops listening).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        target = registry if registry is not None else get_operation_registry()
        if session_factory is not None:
            configure_session_factory(session_factory)
        for register in registrars:
            register(target)
        target.freeze()
        if check_session_scope:
            check_session_scopes(app)
        try:  # a refused start-up closes the backends too (the outbox's claim, its watch)
            await check_backends(target, session_factory)
            if error_responses and install_error_handlers(app):
                # Starlette built its middleware stack (with a copy of the handlers) before
                # the lifespan ran: rebuild it on the next request so the handlers take part.
                app.middleware_stack = None
            app.state.operation_registry = target
            if inner is None:
                yield
            else:
                async with inner(app):
                    yield
        finally:
            for backend in (*target.audit_sinks, target.authority):
                aclose = getattr(backend, "aclose", None)
                if aclose is not None:
                    await aclose()

    return lifespan


async def check_backends(
    registry: OperationRegistry,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
) -> None:
    """Let the audit sinks and the authority provider refuse their misconfiguration now,
    with a clear error, rather than fail requests later (``check_configuration()``, e.g. the
    table sink's missing table, or a sink on another database than the request sessions)."""
    if session_factory is None:
        session_factory = get_session_factory_or_none()
    for backend in (*registry.audit_sinks, registry.authority):
        check = getattr(backend, "check_configuration", None)
        if check is not None:
            await check(session_factory)


def check_session_scopes(app: FastAPI) -> None:
    """Raise if a route uses ``get_session_dep`` with a scope other than ``"function"``."""
    offenders = sorted(
        {
            f"{','.join(sorted(route.methods or ()))} {route.path}"
            for route in app.routes
            if isinstance(route, APIRoute)
            for dependant in _walk(route.dependant)
            if dependant.call is get_session_dep and dependant.scope != "function"
        }
    )
    if offenders:
        raise RuntimeError(
            "these routes declare Depends(get_session_dep) without scope='function', so the "
            "commit would run after the response is sent: "
            + "; ".join(offenders)
            + ". Use `session: SessionDep` or Depends(get_session_dep, scope='function')."
        )


def _walk(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


# ------------------------------------------------------------------ health and correlation


def add_status_route(
    app: FastAPI, path: str = "/health/operations", registry: OperationRegistry | None = None
) -> None:
    """Serve ``registry.status()`` (default: the singleton) as JSON at ``path``."""

    async def operations_status() -> dict[str, Any]:
        return (registry if registry is not None else get_operation_registry()).status()

    app.add_api_route(path, operations_status, methods=["GET"], tags=["health"])


class CorrelationIdMiddleware:
    """Binds the request's correlation id (``X-Request-ID`` by default) for audit records."""

    def __init__(self, app: ASGIApp, header: str = "x-request-id") -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the context variable for the duration of the request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = _header(scope.get("headers", ()), self.header)
        token = current_correlation_id.set(value)
        try:
            await self.app(scope, receive, send)
        finally:
            current_correlation_id.reset(token)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


__all__ = [
    "DEFAULT_ERROR_STATUSES",
    "CorrelationIdMiddleware",
    "ErrorStatusMap",
    "SessionDep",
    "add_status_route",
    "check_backends",
    "check_session_scopes",
    "configure_error_statuses",
    "error_body",
    "get_session_dep",
    "install_error_handlers",
    "registry_lifespan",
    "result_to_response",
]
