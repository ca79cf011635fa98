"""Fault injection on the example app: PostgreSQL, uvicorn with 2 workers, faults under load.

Run: ``.venv/bin/python benchmarks/runtime_faults.py [--requests 2000] [--rate 50]``

What it does, on this machine only (a throwaway PostgreSQL server on 127.0.0.1, the example
app under uvicorn on 127.0.0.1, nothing else is contacted), bounded in requests and time:

1. starts a PostgreSQL server (``PostgresCluster``, the server's default durability) with a
   database owned by an unprivileged role ``app``, and the example app on it under
   ``uvicorn --workers 2`` (both create the tables at start-up);
2. sends ``--requests`` mixed requests at ``--rate`` per second from ``--concurrency``
   clients: policies created (some conflicting), imported (some all-or-nothing conflicts),
   listed and read, incidents reported (some for unknown policies) and listed, and the kill
   switch flipped now and then;
3. meanwhile: terminates every backend of ``app`` three times, restarts the server once, and
   revokes ``INSERT`` on the audit table for 10 s;
4. measures how long a kill-switch flip made through one worker takes to reach the other
   (the ttl is set to 30 s, so only the push can make it fast);
5. waits for the audit outboxes to drain and checks, printing PASS/FAIL for each:
   rows == successful responses (policies and incidents), audit records == dispatches
   (0 lost, 0 duplicated, outbox drained), 0 plain-text 500s, 0 requests without a response,
   kill-switch propagation under 1 s.

Exit status 0 when every check passes, 1 otherwise. ``LAYERGUARD_FAULTS_LOG=1`` prints the
end of the server's log. This is a benchmark, not a test: it is
not part of the test suite (it takes about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from layerguard.runtime.testing.postgres import PostgresCluster, free_port

REPO = Path(__file__).resolve().parents[1]
TOKEN = "fault-benchmark-token"
ADMIN = {"X-Admin-Token": TOKEN}
TENANTS = [f"tenant-{i}" for i in range(4)]
TTL = 30.0
PROPAGATION_LIMIT = 1.0  # seconds; the ttl is 30 s, so only LISTEN/NOTIFY gets under this
TIME_LIMIT = 300.0  # the whole run, seconds


@dataclass
class Outcome:
    kind: str
    status: int | None
    json: Any = None
    plain_text_5xx: bool = False
    created_rows: int = 0  # rows a successful response says it committed
    attempted_rows: int = 0  # rows the request would have written


@dataclass
class Load:
    """The requests of the run and what each answered."""

    rng: random.Random
    outcomes: list[Outcome] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=dict)
    policy_ids: dict[str, list[int]] = field(default_factory=dict)
    counter: int = 0
    engaged: bool = False

    def next_request(self) -> tuple[str, str, str, dict[str, Any] | None, dict[str, str]]:
        """(kind, method, path, json body, headers) of the next request."""
        self.counter += 1
        n = self.counter
        tenant = self.rng.choice(TENANTS)
        headers = {"X-Tenant-ID": tenant}
        names = self.names.setdefault(tenant, [])
        ids = self.policy_ids.setdefault(tenant, [])
        roll = self.rng.random()
        if roll < 0.35:
            return "create", "POST", "/policies", {"name": f"p{n}"}, headers
        if roll < 0.42 and names:
            return "conflict", "POST", "/policies", {"name": self.rng.choice(names)}, headers
        if roll < 0.50:
            batch = [{"name": f"i{n}a"}, {"name": f"i{n}b"}]
            if names and self.rng.random() < 0.25:
                batch.append({"name": self.rng.choice(names)})  # all or nothing: refused
            return "import", "POST", "/policies/import", {"policies": batch}, headers
        if roll < 0.65:
            return "list", "GET", "/policies", None, headers
        if roll < 0.73 and ids:
            return "get", "GET", f"/policies/{self.rng.choice(ids)}", None, headers
        if roll < 0.88:
            policy = self.rng.choice(ids) if ids and self.rng.random() < 0.8 else 10_000_000
            body = {"policy_id": policy, "title": f"incident {n}", "severity": "high"}
            return "report", "POST", "/incidents", body, headers
        if roll < 0.98:
            return "incidents", "GET", "/incidents", None, headers
        self.engaged = not self.engaged
        body = {"engaged": self.engaged, "reason": f"flip {n}", "actor": "benchmark"}
        return "flip", "PUT", "/admin/kill-switch", body, ADMIN

    def record(
        self, kind: str, tenant: str | None, body: dict[str, Any] | None, response: httpx.Response
    ) -> None:
        content_type = response.headers.get("content-type", "")
        try:
            data = response.json()
        except ValueError:
            data = None
        outcome = Outcome(
            kind,
            response.status_code,
            data,
            plain_text_5xx=response.status_code >= 500 and "json" not in content_type,
            attempted_rows=len(body["policies"]) if kind == "import" and body else 1,
        )
        if response.status_code == 201 and tenant is not None:
            if kind == "create":
                outcome.created_rows = 1
                self.names.setdefault(tenant, []).append(data["name"])
                self.policy_ids.setdefault(tenant, []).append(data["id"])
            elif kind == "import":
                outcome.created_rows = len(data)
                for item in data:
                    self.names.setdefault(tenant, []).append(item["name"])
                    self.policy_ids.setdefault(tenant, []).append(item["id"])
            elif kind == "report":
                outcome.created_rows = 1
        self.outcomes.append(outcome)


def error_code(outcome: Outcome) -> str | None:
    if isinstance(outcome.json, dict) and isinstance(outcome.json.get("detail"), dict):
        code = outcome.json["detail"].get("error_code")
        return code if isinstance(code, str) else None
    return None


# ---------------------------------------------------------------------- the server


def start_app(cluster: PostgresCluster, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "HOC_APP_DATABASE_URL": f"postgresql+asyncpg://app@127.0.0.1:{cluster.port}/hoc_app",
        "HOC_APP_ADMIN_TOKEN": TOKEN,
        "HOC_APP_GOVERNANCE_TTL": str(TTL),
        "HOC_APP_AUDIT_OUTBOX": str(workdir / "outbox"),
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--workers", "2"]
    command += ["--app-dir", "examples/hoc_app/backend", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    log = open(workdir / "uvicorn.log", "wb")  # noqa: SIM115  (the server writes to it)
    server = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return server, f"http://127.0.0.1:{port}"


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/health/operations", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the app did not start within 60 s")


# ---------------------------------------------------------------------- load and faults


async def run_load(base: str, load: Load, requests: int, rate: float, concurrency: int) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    started = time.monotonic()

    async def client_loop(client: httpx.AsyncClient) -> None:
        while True:
            index = await queue.get()
            if index < 0:
                return
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, method, path, body, headers = load.next_request()
            tenant = headers.get("X-Tenant-ID")
            # A connection per request: the kernel hands each to either worker, as a load
            # balancer would (kept-alive connections would pin the load to one worker).
            headers = {**headers, "Connection": "close"}
            try:
                response = await client.request(method, path, json=body, headers=headers)
            except httpx.HTTPError:
                load.outcomes.append(Outcome(kind, None))
                continue
            load.record(kind, tenant, body, response)

    for i in range(requests):
        queue.put_nowait(i)
    for _ in range(concurrency):
        queue.put_nowait(-1)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))


async def inject_faults(cluster: PostgresCluster, duration: float, log: list[str]) -> None:
    """Three backend terminations, one restart, INSERT on the audit table revoked for 10 s,
    spread over the load."""

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, started + fraction * duration - time.monotonic()))

    def sql(statement: str, database: str = "hoc_app") -> str:
        return cluster.sql(statement, database)

    started = time.monotonic()
    terminate = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'app'"
    )
    for number, fraction in enumerate((0.12, 0.25, 0.38), 1):
        await at(fraction)
        killed = await asyncio.to_thread(sql, terminate)
        log.append(
            f"t={time.monotonic() - started:5.1f}s terminated {killed} backends ({number}/3)"
        )
    await at(0.45)
    began = time.monotonic()
    await asyncio.to_thread(cluster.restart)
    log.append(f"t={began - started:5.1f}s server restarted (down {time.monotonic() - began:.1f}s)")
    await at(0.6)
    await asyncio.to_thread(sql, "REVOKE INSERT ON layerguard_audit FROM app")
    log.append(f"t={time.monotonic() - started:5.1f}s INSERT on layerguard_audit revoked")
    await asyncio.sleep(10)
    await asyncio.to_thread(sql, "GRANT INSERT ON layerguard_audit TO app")
    log.append(f"t={time.monotonic() - started:5.1f}s INSERT on layerguard_audit granted again")


# ---------------------------------------------------------------------- observing the workers


async def worker_statuses(base: str, workers: int = 2, limit: float = 30.0) -> dict[int, Any]:
    """The latest ``/health/operations`` of every worker (a fresh connection per request, so
    the kernel hands them to either worker)."""
    seen: dict[int, Any] = {}
    deadline = time.monotonic() + limit
    polls = 0
    while len(seen) < workers or polls < 10:
        polls += 1
        if time.monotonic() > deadline:
            raise SystemExit(f"saw only {len(seen)} of {workers} workers")
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            status = (await client.get("/health/operations")).json()
        seen[status["pid"]] = status
    return seen


async def wait_drained(base: str, limit: float = 90.0) -> dict[int, Any]:
    """Until every worker's table sink has nothing queued or waiting in its outbox."""
    deadline = time.monotonic() + limit
    while True:
        statuses = await worker_statuses(base)
        sinks = [s["audit"]["sink_status"]["TableAuditSink"] for s in statuses.values()]
        if all(
            s["queued"] == 0 and s["outbox_pending_bytes"] == 0 and not s["table_failing"]
            for s in sinks
        ):
            return statuses
        if time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.5)


async def kill_switch_propagation(base: str, flips: int = 5) -> list[float]:
    """Seconds from a flip's response (one worker) to the other worker reporting it."""
    clients: dict[int, httpx.AsyncClient] = {}
    spare: list[httpx.AsyncClient] = []
    try:
        for _ in range(64):  # persistent connections until both workers hold one
            client = httpx.AsyncClient(base_url=base, timeout=10)
            pid = (await client.get("/health/operations")).json()["pid"]
            if pid in clients:
                spare.append(client)
            else:
                clients[pid] = client
            if len(clients) == 2:
                break
        if len(clients) < 2:
            raise SystemExit("could not reach both workers")
        flipper, other = clients.values()
        times = []
        for n in range(flips):
            engaged = n % 2 == 0
            want = "disabled" if engaged else "active"
            body = {"engaged": engaged, "reason": f"propagation {n}", "actor": "benchmark"}
            response = await flipper.put("/admin/kill-switch", json=body, headers=ADMIN)
            assert response.json()["mode"] == want, response.text
            flipped = time.monotonic()
            while True:
                status = (await other.get("/health/operations")).json()
                if status["governance"]["mode"] == want:
                    times.append(time.monotonic() - flipped)
                    break
                if time.monotonic() - flipped > TTL + 5:
                    times.append(float("inf"))
                    break
        return times
    finally:
        for client in (*clients.values(), *spare):
            await client.aclose()


# ---------------------------------------------------------------------- accounting


def count(cluster: PostgresCluster, sql: str) -> int:
    return int(cluster.sql(sql, "hoc_app"))


def report(
    cluster: PostgresCluster,
    load: Load,
    statuses: dict[int, Any],
    propagation: list[float],
    outbox: Path,
    faults: list[str],
    elapsed: float,
) -> bool:
    outcomes = load.outcomes
    by_status = Counter(o.status for o in outcomes)
    by_code = Counter(error_code(o) for o in outcomes if o.status and o.status >= 400)
    unknown = [o for o in outcomes if error_code(o) == "COMMIT_OUTCOME_UNKNOWN"]
    successes = {
        "policies": sum(o.created_rows for o in outcomes if o.kind in ("create", "import")),
        "incidents": sum(o.created_rows for o in outcomes if o.kind == "report"),
    }
    rows = {
        "policies": count(cluster, "SELECT count(*) FROM policies"),
        "incidents": count(cluster, "SELECT count(*) FROM incidents"),
    }
    audit = count(cluster, "SELECT count(*) FROM layerguard_audit")
    distinct = count(cluster, "SELECT count(DISTINCT record_id) FROM layerguard_audit")
    dispatches = sum(
        sum(op["calls"] for op in s["operations"].values()) + s["unknown_operation_calls"]
        for s in statuses.values()
    )
    sinks = {pid: s["audit"]["sink_status"]["TableAuditSink"] for pid, s in statuses.items()}
    pending_files = sum(p.stat().st_size for p in outbox.rglob("*.jsonl")) if outbox.exists() else 0
    plain_500 = sum(o.plain_text_5xx for o in outcomes)
    no_response = sum(o.status is None for o in outcomes)

    print(f"{len(outcomes)} requests in {elapsed:.1f}s; faults:")
    for line in faults:
        print(f"  {line}")
    print("responses by status:", dict(sorted(by_status.items(), key=lambda kv: kv[0] or 0)))
    print("error codes:", dict(by_code.most_common()))
    server_errors = Counter(
        (o.kind, error_code(o)) for o in outcomes if o.status is not None and o.status >= 500
    )
    print("5xx by request kind:", dict(server_errors.most_common()))
    for pid, sink in sorted(sinks.items()):
        print(
            f"worker {pid}: audit with work {sink['written_with_work']}, independently "
            f"{sink['written_independently']}, spooled to outbox {sink['outbox_spooled']}, "
            f"replayed {sink['outbox_replayed']}, rejected {sink['outbox_rejected']}"
        )
    finite = [t for t in propagation if t != float("inf")]
    checks = []
    kinds = {"policies": ("create", "import"), "incidents": ("report",)}
    for table in ("policies", "incidents"):
        # A commit whose connection died in flight may or may not have happened.
        in_doubt = sum(o.attempted_rows for o in unknown if o.kind in kinds[table])
        ok = successes[table] <= rows[table] <= successes[table] + in_doubt
        checks.append(
            (
                f"{table}: rows {rows[table]} == successful responses {successes[table]}"
                + (f" (+{in_doubt} in doubt)" if in_doubt else ""),
                ok,
            )
        )
    checks.append(
        (
            f"audit records {audit} == dispatches {dispatches} (lost {max(0, dispatches - audit)}, "
            f"duplicated {max(0, audit - dispatches) + (audit - distinct)})",
            audit == dispatches == distinct,
        )
    )
    drained = pending_files == 0 and all(
        s["outbox_pending_bytes"] == 0 and s["queued"] == 0 for s in sinks.values()
    )
    rejected = sum(s["outbox_rejected"] for s in sinks.values())
    checks.append(
        (
            f"outbox drained ({pending_files} bytes left, {rejected} rejected)",
            drained and not rejected,
        )
    )
    checks.append((f"plain-text 500s: {plain_500}", plain_500 == 0))
    checks.append((f"requests without a response: {no_response}", no_response == 0))
    median = statistics.median(finite) if finite else float("inf")
    checks.append(
        (
            f"kill-switch propagation to the other worker: median {median * 1000:.0f} ms, "
            f"max {max(propagation) * 1000:.0f} ms over {len(propagation)} flips "
            f"(ttl {TTL:.0f} s; limit {PROPAGATION_LIMIT * 1000:.0f} ms)",
            max(propagation) < PROPAGATION_LIMIT,
        )
    )
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for _, ok in checks)


async def main(requests: int, rate: float, concurrency: int) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="layerguard-faults-"))
    cluster = PostgresCluster.start_new(durable=True)
    server: subprocess.Popen[bytes] | None = None
    try:
        cluster.sql("CREATE ROLE app LOGIN")
        cluster.sql("CREATE DATABASE hoc_app OWNER app")
        server, base = start_app(cluster, workdir)
        await asyncio.to_thread(wait_until_up, base, server)
        load = Load(random.Random(15))
        faults: list[str] = []
        began = time.monotonic()
        await asyncio.wait_for(
            asyncio.gather(
                run_load(base, load, requests, rate, concurrency),
                inject_faults(cluster, requests / rate, faults),
            ),
            TIME_LIMIT,
        )
        elapsed = time.monotonic() - began
        propagation = await kill_switch_propagation(base)
        statuses = await wait_drained(base)
        server.send_signal(signal.SIGTERM)  # graceful: the sinks drain at shutdown
        server.wait(timeout=60)
        return report(cluster, load, statuses, propagation, workdir / "outbox", faults, elapsed)
    finally:
        if server is not None:  # the workers too, whatever happened to the master
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        cluster.stop()
        log = workdir / "uvicorn.log"
        if log.exists() and os.environ.get("LAYERGUARD_FAULTS_LOG"):
            print(log.read_text(errors="replace")[-20_000:])
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    passed = asyncio.run(main(args.requests, args.rate, args.concurrency))
    print(json.dumps({"passed": passed}))
    sys.exit(0 if passed else 1)
