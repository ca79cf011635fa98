"""The tables the runtime tests write to (a plain module: test modules import it by name)."""

from __future__ import annotations

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
