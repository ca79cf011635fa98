"""The hook through which a dispatch gets its own unit of work inside the request's session.

The registry core knows nothing about SQLAlchemy. When ``ctx.session`` is not ``None`` it asks
this module for the adapter registered for the session's type; the adapter opens a *dispatch
unit* (for SQLAlchemy: a SAVEPOINT plus a guard against commit/rollback) that the registry
then keeps (success) or discards (failure). The request's session dependency still owns the
real COMMIT.

Adapters register by session type. SQLAlchemy sessions are recognised by the module their
class comes from, and the SQLAlchemy integration is imported on first sight, so a failed
operation's writes are discarded even if the application never imported the integration.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Protocol

_SQLALCHEMY_INTEGRATION = "layerguard.runtime.integrations.sqlalchemy_session"


class DispatchUnit(Protocol):
    """One dispatch's share of the request's unit of work."""

    @property
    def violation(self) -> str | None:
        """What the handler did to the transaction it does not own (``"commit"``...), if any."""
        ...

    async def commit(self) -> None:
        """Keep the dispatch's writes. If that fails, discard them first, then raise."""
        ...

    async def rollback(self) -> None:
        """Discard the dispatch's writes. Never raises: if it cannot discard them, it must make
        sure the request's unit of work will refuse to commit."""
        ...

    def abandon(self) -> None:
        """Synchronous last resort (``KeyboardInterrupt``/``SystemExit``): no I/O, but the
        request's unit of work must refuse to commit."""
        ...


class UnitOfWorkAdapter(Protocol):
    """Opens a ``DispatchUnit`` on a session of the type it was registered for."""

    async def begin(self, session: Any, operation: str) -> DispatchUnit:
        """Start the dispatch's unit (e.g. emit SAVEPOINT)."""
        ...


_lock = threading.Lock()
_registered: dict[type, UnitOfWorkAdapter] = {}
_resolved: dict[type, UnitOfWorkAdapter | None] = {}


def register_unit_of_work(session_type: type, adapter: UnitOfWorkAdapter) -> None:
    """Use ``adapter`` for sessions of ``session_type`` (and its subclasses)."""
    with _lock:
        _registered[session_type] = adapter
        _resolved.clear()


def unregister_unit_of_work(session_type: type) -> None:
    """Stop using an adapter (tests)."""
    with _lock:
        _registered.pop(session_type, None)
        _resolved.clear()


def unit_of_work_for(session: object) -> UnitOfWorkAdapter | None:
    """The adapter for ``session``'s type, or ``None`` (cached per type: one dict lookup)."""
    session_type = type(session)
    try:
        return _resolved[session_type]
    except KeyError:
        return _resolve(session_type)


def _resolve(session_type: type) -> UnitOfWorkAdapter | None:
    adapter = _lookup(session_type)
    if adapter is None and _looks_like_sqlalchemy(session_type):
        importlib.import_module(_SQLALCHEMY_INTEGRATION)  # registers its adapter on import
        adapter = _lookup(session_type)
    with _lock:
        _resolved[session_type] = adapter
    return adapter


def _lookup(session_type: type) -> UnitOfWorkAdapter | None:
    with _lock:
        for klass in session_type.__mro__:
            adapter = _registered.get(klass)
            if adapter is not None:
                return adapter
    return None


def _looks_like_sqlalchemy(session_type: type) -> bool:
    return any(k.__module__.startswith("sqlalchemy.") for k in session_type.__mro__)
