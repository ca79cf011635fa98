"""The correlation id of the current request, for audit records that lack one in the context.

Middleware (see ``integrations.fastapi.CorrelationIdMiddleware``) binds it once per request;
code that builds contexts does not have to thread it through by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_correlation_id: ContextVar[str | None] = ContextVar(
    "layerguard_correlation_id", default=None
)


@contextmanager
def bind_correlation_id(correlation_id: str | None) -> Iterator[None]:
    """Make ``correlation_id`` the current one for the duration of the block."""
    token = current_correlation_id.set(correlation_id)
    try:
        yield
    finally:
        current_correlation_id.reset(token)
