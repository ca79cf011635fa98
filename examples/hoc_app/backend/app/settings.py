"""Configuration from the environment, read once by the app factory.

Tests build a ``Settings`` directly instead of mutating ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Next to the example, not in the caller's working directory: `uvicorn` is run from the
# repository root, and the database should not land there.
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{Path(__file__).resolve().parents[2] / 'hoc_app.db'}"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the composition root needs to build the app."""

    database_url: str = DEFAULT_DATABASE_URL
    # No token, no admin API: the kill switch route answers 503 rather than run unguarded.
    admin_token: str | None = None
    # How stale a worker's view of the kill switch may be (the table is re-read after this;
    # on PostgreSQL a flip is pushed to every worker at once, and this is the fallback).
    governance_ttl: float = 2.0
    # Where audit records wait while the audit table cannot take them (None: the runtime's
    # default, under ~/.local/state/layerguard/audit-outbox/). Keep it on persistent disk.
    audit_outbox: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """``HOC_APP_DATABASE_URL`` (any async SQLAlchemy URL), ``HOC_APP_ADMIN_TOKEN``,
        ``HOC_APP_GOVERNANCE_TTL`` (seconds), ``HOC_APP_AUDIT_OUTBOX`` (a directory)."""
        return cls(
            database_url=environ.get("HOC_APP_DATABASE_URL") or DEFAULT_DATABASE_URL,
            admin_token=environ.get("HOC_APP_ADMIN_TOKEN") or None,
            governance_ttl=float(environ.get("HOC_APP_GOVERNANCE_TTL") or 2.0),
            audit_outbox=environ.get("HOC_APP_AUDIT_OUTBOX") or None,
        )
