"""The quick start of docs/runtime.md runs as written (against a SQLite file in tmp_path)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from layerguard.runtime.integrations.sqlalchemy_session import configure_session_factory

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "runtime.md"


def quick_start_source() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("```python\n# app/main.py") + len("```python\n")
    return text[start : text.index("```", start)]


async def test_quick_start_runs_as_written(
    tmp_path: Path, layerguard_registry: Any, layerguard_audit: Any
) -> None:
    source = quick_start_source().replace(
        "sqlite+aiosqlite:///app.db", f"sqlite+aiosqlite:///{tmp_path}/app.db"
    )
    module = ModuleType("quick_start_app")
    sys.modules[module.__name__] = module  # FastAPI resolves annotations through the module
    try:
        exec(compile(source, str(GUIDE), "exec"), module.__dict__)
        app, engine = module.app, module.engine
        async with engine.begin() as conn:
            await conn.run_sync(module.metadata.create_all)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as c,
        ):
            created = await c.post("/policies", params={"name": "p1"})
            refused = await c.post("/policies", params={"name": ""})
            status = (await c.get("/health/operations")).json()
        await engine.dispose()
    finally:
        del sys.modules[module.__name__]
        configure_session_factory(None)
    assert created.json() == {"name": "p1", "tenant": "t-1"}
    assert refused.status_code == 422
    assert refused.json()["detail"]["error_code"] == "VALIDATION_ERROR"
    assert status["operations"]["policies.create"]["calls"] == 2
    assert [r.outcome.value for r in layerguard_audit.records] == ["ok", "failed"]
