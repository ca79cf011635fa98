"""Router wiring: every route module's router under one ``APIRouter`` for the app factory.

A facade only assembles L2 routers; it never reaches the spine, the domains or the database.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.hoc.api.admin.governance import kill_switch
from app.hoc.api.cus.incidents import incidents
from app.hoc.api.cus.policies import policies

api_router = APIRouter()
api_router.include_router(policies.router)
api_router.include_router(incidents.router)
api_router.include_router(kill_switch.router)
