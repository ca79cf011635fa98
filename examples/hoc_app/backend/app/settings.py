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
    # How stale a worker's view of the kill switch may be (the table is re-read after this).
    governance_ttl: float = 2.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """``HOC_APP_DATABASE_URL`` (any async SQLAlchemy URL), ``HOC_APP_ADMIN_TOKEN``,
        ``HOC_APP_GOVERNANCE_TTL`` (seconds)."""
        return cls(
            database_url=environ.get("HOC_APP_DATABASE_URL") or DEFAULT_DATABASE_URL,
            admin_token=environ.get("HOC_APP_ADMIN_TOKEN") or None,
            governance_ttl=float(environ.get("HOC_APP_GOVERNANCE_TTL") or 2.0),
        )
