"""The declarative base: one ``MetaData`` for every table the app creates."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Base class of the ORM models."""
