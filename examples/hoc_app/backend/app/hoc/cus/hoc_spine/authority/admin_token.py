"""The admin API's guard: a shared token in the ``X-Admin-Token`` header.

The expected token is the app's (``app.state.admin_token``, from ``HOC_APP_ADMIN_TOKEN``),
compared in constant time so the response time does not leak how much of a guess was right.
Without a configured token the admin API is closed (503), never open.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Header, HTTPException, Request


async def require_admin_token(
    request: Request,
    token: Annotated[str | None, Header(alias="X-Admin-Token")] = None,
) -> None:
    """FastAPI dependency: pass, or raise 503 (not configured) / 401 (missing or wrong)."""
    expected: str | None = getattr(request.app.state, "admin_token", None)
    if not expected:
        raise HTTPException(503, "the admin API is disabled: set HOC_APP_ADMIN_TOKEN")
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong X-Admin-Token")
