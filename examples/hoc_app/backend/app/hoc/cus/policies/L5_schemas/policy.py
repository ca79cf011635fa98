"""Policy request and response bodies: the routes' contract with clients and with the engine."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PolicyIn(BaseModel):
    """A policy to create."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)


class PolicyImport(BaseModel):
    """Several policies created all together or not at all."""

    policies: list[PolicyIn] = Field(min_length=1, max_length=100)


class PolicyOut(BaseModel):
    """A stored policy."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
