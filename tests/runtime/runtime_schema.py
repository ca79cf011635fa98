"""The tables the runtime tests write to (a plain module: test modules import it by name)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

METADATA = MetaData()
ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("tenant_id", String(100)),
)


class Base(DeclarativeBase):
    metadata = METADATA


class Note(Base):
    """An ORM-mapped table, for tests about pending (unflushed) objects."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100), unique=True)


def audit_row(operation: str, **changes: Any) -> dict[str, Any]:
    """A row of the audit table as the table sink makes it (``changes`` overrides fields)."""
    row: dict[str, Any] = {
        "record_id": uuid.uuid4().hex,
        "recorded_at": datetime.now(UTC),
        "operation": operation,
        "tenant_id": None,
        "outcome": "ok",
        "error_code": None,
        "duration_ms": 1.0,
        "governance": "active",
        "unguarded": False,
        "degraded": False,
        "governance_reason": None,
        "correlation_id": None,
        "work_committed": None,
    }
    row.update(changes)
    return row
