"""The example over HTTP: real app, real SQLite file, reads checked through another engine."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
from layerguard.runtime import OperationRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings

T1 = {"X-Tenant-ID": "tenant-1"}
T2 = {"X-Tenant-ID": "tenant-2"}
ADMIN = {"X-Admin-Token": "test-admin-token"}  # the token of the `settings` fixture


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(text(sql))]


async def audit_trail(engine: AsyncEngine, registry: OperationRegistry) -> list[tuple[Any, ...]]:
    """The audit table, in dispatch order, once the sink's background writes are done."""
    for sink in registry.audit_sinks:
        drain = getattr(sink, "drain", None)
        if drain is not None:
            await drain()
    return await rows(
        engine,
        "SELECT operation, tenant_id, outcome, error_code, governance, unguarded,"
        " governance_reason, work_committed FROM layerguard_audit ORDER BY recorded_at, id",
    )


# ------------------------------------------------------------------ create / read


async def test_a_created_policy_is_committed_and_read_back(
    client: httpx.AsyncClient, reader: AsyncEngine
) -> None:
    created = await client.post(
        "/policies", json={"name": "mfa", "description": "MFA on"}, headers=T1
    )
    assert created.status_code == 201
    assert created.json() == {"id": 1, "name": "mfa", "description": "MFA on"}
    # Committed before the response was sent: another connection sees it now.
    assert await rows(reader, "SELECT id, tenant_id, name FROM policies") == [
        (1, "tenant-1", "mfa")
    ]

    one = await client.get("/policies/1", headers=T1)
    assert (one.status_code, one.json()) == (200, created.json())
    listed = await client.get("/policies", headers=T1)
    assert (listed.status_code, listed.json()) == (200, [created.json()])


async def test_tenants_do_not_see_each_others_policies(client: httpx.AsyncClient) -> None:
    await client.post("/policies", json={"name": "mfa"}, headers=T1)
    assert (await client.get("/policies", headers=T2)).json() == []
    missing = await client.get("/policies/1", headers=T2)
    assert missing.status_code == 404
    assert missing.json()["detail"]["error_code"] == "NOT_FOUND"
    # The same name is free in another tenant.
    assert (await client.post("/policies", json={"name": "mfa"}, headers=T2)).status_code == 201


async def test_a_request_without_a_tenant_is_rejected_before_any_dispatch(
    client: httpx.AsyncClient, layerguard_registry: OperationRegistry
) -> None:
    response = await client.get("/policies")
    assert response.status_code == 422
    assert layerguard_registry.status()["operations"]["policies.list"]["calls"] == 0


async def test_a_taken_name_is_a_conflict(client: httpx.AsyncClient) -> None:
    await client.post("/policies", json={"name": "mfa"}, headers=T1)
    again = await client.post("/policies", json={"name": "mfa"}, headers=T1)
    assert again.status_code == 409
    assert again.json() == {
        "detail": {
            "error": "policy 'mfa' already exists",
            "error_code": "CONFLICT",
            "operation": "policies.create",
        }
    }


async def test_incidents_are_reported_against_a_policy_and_listed(
    client: httpx.AsyncClient, reader: AsyncEngine
) -> None:
    await client.post("/policies", json={"name": "mfa"}, headers=T1)
    await client.post("/policies", json={"name": "backups"}, headers=T1)
    first = await client.post(
        "/incidents", json={"policy_id": 1, "title": "MFA off", "severity": "high"}, headers=T1
    )
    second = await client.post(
        "/incidents", json={"policy_id": 2, "title": "no backup", "severity": "low"}, headers=T1
    )
    assert (first.status_code, second.status_code) == (201, 201)
    body = first.json()
    assert {key: body[key] for key in ("id", "policy_id", "title", "severity")} == {
        "id": 1,
        "policy_id": 1,
        "title": "MFA off",
        "severity": "high",
    }
    assert body["reported_at"].endswith("Z")

    everything = await client.get("/incidents", headers=T1)
    assert [incident["id"] for incident in everything.json()] == [2, 1]  # newest first
    assert everything.json()[1] == body  # read back from the database, same body
    for_mfa = await client.get("/incidents", params={"policy_id": 1}, headers=T1)
    assert [incident["title"] for incident in for_mfa.json()] == ["MFA off"]
    assert await rows(reader, "SELECT id, policy_id, severity FROM incidents ORDER BY id") == [
        (1, 1, "high"),
        (2, 2, "low"),
    ]


# ------------------------------------------------------------------ failures leave no rows


async def test_a_failed_import_leaves_no_rows(
    client: httpx.AsyncClient, reader: AsyncEngine
) -> None:
    imported = await client.post(
        "/policies/import", json={"policies": [{"name": "mfa"}, {"name": "backups"}]}, headers=T1
    )
    assert imported.status_code == 201
    assert [policy["name"] for policy in imported.json()] == ["mfa", "backups"]

    # "audit" and "vpn" are written (and flushed) before "mfa" conflicts: the registry rolls
    # the operation back to its savepoint, so neither reaches the database.
    failed = await client.post(
        "/policies/import",
        json={"policies": [{"name": "audit"}, {"name": "vpn"}, {"name": "mfa"}]},
        headers=T1,
    )
    assert failed.status_code == 409
    assert failed.json()["detail"]["error_code"] == "CONFLICT"
    assert await rows(reader, "SELECT name FROM policies ORDER BY id") == [("mfa",), ("backups",)]
    listed = await client.get("/policies", headers=T1)
    assert [policy["name"] for policy in listed.json()] == ["mfa", "backups"]


async def test_an_incident_for_an_unknown_policy_is_rejected_and_leaves_no_row(
    client: httpx.AsyncClient, reader: AsyncEngine
) -> None:
    response = await client.post(
        "/incidents", json={"policy_id": 99, "title": "ghost", "severity": "low"}, headers=T1
    )
    assert response.status_code == 422
    assert response.json()["detail"] == {
        "error": "policy 99 does not exist",
        "error_code": "VALIDATION_ERROR",
        "operation": "incidents.report",
    }
    assert await rows(reader, "SELECT count(*) FROM incidents") == [(0,)]


# ------------------------------------------------------------------ kill switch and audit


async def test_the_kill_switch_needs_the_admin_token(
    client: httpx.AsyncClient, reader: AsyncEngine
) -> None:
    change = {"engaged": True, "reason": "incident 42", "actor": "alice"}
    missing = await client.put("/admin/kill-switch", json=change)
    wrong = await client.put("/admin/kill-switch", json=change, headers={"X-Admin-Token": "guess"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert wrong.json() == {"detail": "missing or wrong X-Admin-Token"}
    assert await rows(reader, "SELECT count(*) FROM layerguard_governance") == [(0,)]
    health = await client.get("/health/operations")
    assert health.json()["operations"]["governance.kill_switch"]["calls"] == 0


async def test_without_a_configured_token_the_admin_api_is_closed(
    settings: Settings, layerguard_registry: OperationRegistry
) -> None:
    app = create_app(replace(settings, admin_token=None))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hoc") as c,
    ):
        response = await c.put(
            "/admin/kill-switch",
            json={"engaged": True, "reason": "r", "actor": "a"},
            headers={"X-Admin-Token": ""},
        )
    assert response.status_code == 503
    assert response.json() == {"detail": "the admin API is disabled: set HOC_APP_ADMIN_TOKEN"}


async def test_the_kill_switch_produces_unguarded_audit_records(
    client: httpx.AsyncClient, reader: AsyncEngine, layerguard_registry: OperationRegistry
) -> None:
    engaged = await client.put(
        "/admin/kill-switch",
        json={"engaged": True, "reason": "incident 42", "actor": "alice"},
        headers=ADMIN,
    )
    assert engaged.status_code == 200
    assert {key: engaged.json()[key] for key in ("mode", "reason", "actor")} == {
        "mode": "disabled",
        "reason": "incident 42",
        "actor": "alice",
    }
    # The state lives in the table every worker reads, not in this process.
    assert await rows(reader, "SELECT scope, mode, reason, actor FROM layerguard_governance") == [
        ("default", "disabled", "incident 42", "alice")
    ]
    health = (await client.get("/health/operations")).json()["governance"]
    assert (health["mode"], health["guarded"], health["provider"]) == (
        "disabled",
        False,
        "TableAuthority",
    )

    # Operations keep running while governance is disabled...
    assert (await client.post("/policies", json={"name": "mfa"}, headers=T1)).status_code == 201
    released = await client.put(
        "/admin/kill-switch",
        json={"engaged": False, "reason": "incident 42 closed", "actor": "alice"},
        headers=ADMIN,
    )
    assert released.json()["mode"] == "active"
    assert (await client.post("/policies", json={"name": "vpn"}, headers=T1)).status_code == 201

    # ...and their audit records say so.
    assert await audit_trail(reader, layerguard_registry) == [
        # The switch is written through its own connection, not the request's transaction:
        # no database work of the request to tie these two records to (work_committed null).
        ("governance.kill_switch", "admin", "ok", None, "active", 0, None, None),
        ("policies.create", "tenant-1", "ok", None, "disabled", 1, "incident 42", 1),
        ("governance.kill_switch", "admin", "ok", None, "disabled", 1, "incident 42", None),
        ("policies.create", "tenant-1", "ok", None, "active", 0, None, 1),
    ]


async def test_the_audit_trail_is_in_the_database(
    client: httpx.AsyncClient, reader: AsyncEngine, layerguard_registry: OperationRegistry
) -> None:
    await client.post("/policies", json={"name": "mfa"}, headers=T1)
    await client.post("/policies", json={"name": "mfa"}, headers=T1)  # conflict
    await client.post(
        "/incidents",
        json={"policy_id": 1, "title": "MFA off", "severity": "high"},
        headers={**T1, "X-Request-ID": "req-7"},
    )
    await client.post(
        "/incidents", json={"policy_id": 5, "title": "ghost", "severity": "low"}, headers=T1
    )

    trail = await audit_trail(reader, layerguard_registry)
    # (operation, tenant, outcome, error code, work committed): failed operations are recorded
    # through the sink's own connection, so their rows survive the rollback of their work.
    assert [(r[0], r[1], r[2], r[3], r[7]) for r in trail] == [
        ("policies.create", "tenant-1", "ok", None, 1),
        ("policies.create", "tenant-1", "failed", "CONFLICT", 0),
        ("incidents.report", "tenant-1", "ok", None, 1),
        ("policies.get", "tenant-1", "ok", None, 1),  # dispatched by the incidents handler
        ("incidents.report", "tenant-1", "failed", "VALIDATION_ERROR", 0),
        ("policies.get", "tenant-1", "failed", "NOT_FOUND", 0),
    ]
    assert await rows(
        reader,
        "SELECT operation, correlation_id FROM layerguard_audit"
        " WHERE correlation_id IS NOT NULL ORDER BY recorded_at",
    ) == [("incidents.report", "req-7"), ("policies.get", "req-7")]


async def test_the_health_route_serves_the_registry_status(client: httpx.AsyncClient) -> None:
    await client.post("/policies", json={"name": "mfa"}, headers=T1)
    await client.post("/policies", json={"name": "mfa"}, headers=T1)
    response = await client.get("/health/operations")
    assert response.status_code == 200
    status = response.json()
    assert status["frozen"] is True
    assert status["operation_count"] == 7
    assert sorted(status["operations"]) == [
        "governance.kill_switch",
        "incidents.list",
        "incidents.report",
        "policies.create",
        "policies.get",
        "policies.import",
        "policies.list",
    ]
    create = status["operations"]["policies.create"]
    assert (create["calls"], create["failures"], create["last_error_code"]) == (2, 1, "CONFLICT")
    assert status["governance"]["mode"] == "active"
    audit = status["audit"]
    assert (audit["sinks"], audit["sink_failures"]) == (["TableAuditSink", "LoggingAuditSink"], 0)
    table_sink = audit["sink_status"]["TableAuditSink"]
    assert (table_sink["written_with_work"], table_sink["outbox_rejected"]) == (1, 0)
