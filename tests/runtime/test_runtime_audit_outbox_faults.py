"""The outbox when things go wrong around it: a replay that fails with several files taken, a
torn or corrupted line, a record that does not fit the table, a directory deleted under a
running process. Nothing is lost without being counted, and nothing spins. On SQLite and
PostgreSQL where a database is involved.

The table is made unwritable by renaming it away (what a dropped table or a revoked INSERT
looks like to the sink); one test revokes INSERT for real, from an unprivileged role.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from conftest import app_engine
from runtime_schema import audit_row
from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from layerguard.runtime import OperationContext, OperationRegistry, OperationResult
from layerguard.runtime.audit.outbox import AuditOutbox
from layerguard.runtime.audit.table import TableAuditSink


class Compute:
    async def execute(self, ctx: OperationContext) -> OperationResult:
        return OperationResult.ok()


@pytest.fixture
async def sink_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = app_engine(db_url)
    yield engine
    await engine.dispose()


def registry_for(sink: TableAuditSink, name: str = "pure.compute") -> OperationRegistry:
    registry = OperationRegistry(audit_sinks=[sink])
    registry.register(name, Compute())
    return registry


async def dispatch(registry: OperationRegistry, name: str, times: int) -> None:
    for _ in range(times):
        assert (await registry.execute(name, OperationContext())).success


async def rename(engine: AsyncEngine, old: str, new: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def operations(engine: AsyncEngine, sink: TableAuditSink) -> list[str]:
    """Every audited operation in the table, sorted (a duplicate shows twice)."""
    async with engine.connect() as conn:
        names = (await conn.execute(select(sink.table.c.operation))).scalars()
        return sorted(name for name in names if name != "layerguard.configuration_check")


def files_on_disk(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("outbox-*.jsonl"))


async def until(condition: Callable[[], bool], limit: float = 20.0) -> None:
    """Wait for ``condition``, at most ``limit`` seconds (a bound, not a speed assertion)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), limit)


@contextlib.contextmanager
def event_loop_watchdog(seconds: float) -> Iterator[None]:
    """A task that never awaits blocks the loop, and asyncio.wait_for with it: a SIGALRM
    raises in the main thread instead, so the test fails rather than hangs."""

    def fire(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError(f"the event loop was blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def record(operation: str, **changes: Any) -> dict[str, Any]:
    """A row as the table sink spools it, JSON-ready."""
    row = audit_row(operation, **changes)
    if isinstance(row["recorded_at"], datetime):
        row["recorded_at"] = row["recorded_at"].isoformat()
    return row


def line(row: object) -> str:
    return json.dumps(row, separators=(",", ":"))


def set_aside_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings of lines set aside, in order."""
    return [r.getMessage() for r in caplog.records if "; set aside in " in r.getMessage()]


# ---------------------------------------------------------------- a failed replay (spin.py)


async def test_a_failed_replay_gives_back_every_file_it_took_and_the_replay_loop_yields(
    sink_engine: AsyncEngine, tmp_path: Path
) -> None:
    """Worker A spools and exits while the table is down; worker B, running, has rows of its
    own spooled and adopts A's file too. B's replays fail with both files taken. They used to
    keep A's file counted as adopted (pending bytes never reached 0 once it was replayed)
    and the replay loop then never awaited: 100% CPU, the event loop blocked for good."""
    shared = tmp_path / "shared"
    sink_a = TableAuditSink(sink_engine, outbox=shared, replay_interval=0.05, retries=0)
    sink_b = TableAuditSink(sink_engine, outbox=shared, replay_interval=0.05, retries=0)
    await sink_a.create_table()
    await rename(sink_engine, "layerguard_audit", "audit_away")
    sink_b.outbox.check()  # B runs: it holds a file of its own
    await dispatch(registry_for(sink_a, "worker.a"), "worker.a", 3)
    await sink_a.aclose()  # A exits, its rows spooled: an orphan for B
    await dispatch(registry_for(sink_b, "worker.b"), "worker.b", 3)
    await sink_b.drain()

    with event_loop_watchdog(30):
        # Several failed replays, each with both files taken.
        await until(lambda: sink_b.outbox.has_pending() and sink_b.replayed == 0, 5)
        await asyncio.sleep(0.5)
        assert sink_b.status()["table_failing"] is True
        assert sink_b.status()["outbox_pending_bytes"] == files_on_disk(shared) > 0
        # What a failed replay gave back can be adopted by a sibling (its lock is free).
        sibling = AuditOutbox(shared)
        adopted = sibling.take()
        assert [len(batch.rows) for batch in adopted] == [3]
        for batch in adopted:
            batch.release()
        sibling.close()

        await rename(sink_engine, "audit_away", "layerguard_audit")
        await until(lambda: sink_b.status()["outbox_pending_bytes"] == 0)
        beats = 0

        async def heartbeat() -> None:
            nonlocal beats
            while True:
                await asyncio.sleep(0.01)
                beats += 1

        beating = asyncio.create_task(heartbeat())
        await asyncio.sleep(0.3)
        beating.cancel()
        assert beats >= 5  # the loop runs other tasks: nothing spins
        await sink_b.drain()

    assert await operations(sink_engine, sink_b) == ["worker.a"] * 3 + ["worker.b"] * 3
    status = sink_b.status()
    assert (status["outbox_replayed"], status["outbox_pending_bytes"]) == (6, 0)
    assert (status["outbox_rejected"], status["table_failing"]) == (0, False)
    assert files_on_disk(shared) == 0
    await sink_b.aclose()


async def test_two_workers_and_a_revoked_insert_replay_everything_once(
    layerguard_postgres_url: str, tmp_path: Path
) -> None:
    """two.sh: two workers of an unprivileged role share the outbox; INSERT on the audit table
    is revoked, A exits while it is, B goes on; after the GRANT, B replays A's rows and its
    own, once each, and its replay loop ends."""
    role = f"app_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(layerguard_postgres_url, isolation_level="AUTOCOMMIT")
    app_url = make_url(layerguard_postgres_url).set(username=role)
    engines = [create_async_engine(app_url), create_async_engine(app_url)]
    shared = tmp_path / "shared"
    sink_a, sink_b = (
        TableAuditSink(engine, outbox=shared, replay_interval=0.05, retries=0) for engine in engines
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        await TableAuditSink(admin, outbox=tmp_path / "unused").create_table()
        async with admin.connect() as conn:
            await conn.execute(text(f"GRANT SELECT, INSERT ON layerguard_audit TO {role}"))
            await conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        await sink_a.check_configuration()
        await sink_b.check_configuration()
        async with admin.connect() as conn:
            await conn.execute(text(f"REVOKE INSERT ON layerguard_audit FROM {role}"))

        with event_loop_watchdog(60):
            await dispatch(registry_for(sink_a, "worker.a"), "worker.a", 20)
            await dispatch(registry_for(sink_b, "worker.b"), "worker.b", 20)
            await sink_a.aclose()
            await sink_b.drain()
            await asyncio.sleep(0.5)  # B's replays fail, A's file taken with its own
            assert sink_b.status()["outbox_pending_bytes"] == files_on_disk(shared) > 0
            async with admin.connect() as conn:
                await conn.execute(text(f"GRANT INSERT ON layerguard_audit TO {role}"))
            await until(lambda: sink_b.status()["outbox_pending_bytes"] == 0)
            await sink_b.drain()
        assert await operations(admin, sink_b) == ["worker.a"] * 20 + ["worker.b"] * 20
        assert sink_b.status()["outbox_replayed"] == 40
        assert sink_b.status()["table_failing"] is False
    finally:
        await sink_b.aclose()
        for engine in engines:
            await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP OWNED BY {role}"))
            await conn.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()


# ---------------------------------------------------------------- damaged lines (outbox1/2.py)


def test_a_torn_last_line_does_not_swallow_the_next_process_s_first_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A process killed mid-write leaves a partial line without its newline; the next process
    appending to that file used to glue its first record to it: both unreadable, one lost."""
    directory = tmp_path / "outbox"
    dead = AuditOutbox(directory)
    assert dead.append([record("op1"), record("op2")])
    path = dead.path
    assert path is not None
    dead.close()
    os.truncate(path, path.stat().st_size - 10)

    alive = AuditOutbox(directory)
    assert alive.append([record("op3"), record("op4")])
    assert alive.path == path  # it claimed the dead process's file
    (batch,) = alive.take()
    assert [row["operation"] for row in batch.rows] == ["op1", "op3", "op4"]
    assert alive.rejected == 0  # not yet: set aside once the batch is done
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"):
        batch.done()
    assert alive.rejected == 1
    (warning,) = caplog.messages  # the torn line got its newline: a JSON error now
    assert warning.startswith(f"audit outbox {path}: line 2 is not a valid audit record (")
    assert warning.endswith(f"); set aside in {directory / 'rejected.jsonl'}")
    torn = (directory / "rejected.jsonl").read_text()
    assert torn.startswith('{"record_id":')
    assert '"operation":"op2"' in torn
    assert (alive.pending_bytes(), path.stat().st_size) == (0, 0)
    assert alive.append([record("op5")])
    assert [row["operation"] for b in alive.take() for row in b.rows] == ["op5"]
    alive.close()


_PARTIAL_WRITE = """
import json, os, resource, signal, sys, uuid
from layerguard.runtime.audit.outbox import AuditOutbox

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
row = lambda op, pad="": {"record_id": uuid.uuid4().hex, "operation": op, "pad": pad}
outbox = AuditOutbox(sys.argv[1])
first = outbox.append([row("op1")])
size = outbox.pending_bytes()
_soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 50, hard))  # what a full disk does
second = outbox.append([row("op2", "x" * 200)])  # 50 bytes of it get written
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # room again
third = outbox.append([row("op3")])
rows = [r["operation"] for batch in outbox.take() for r in batch.rows]
print(json.dumps([first, second, third, rows, outbox.rejected, outbox.pending_bytes(),
                  os.path.getsize(outbox.path)]))
"""


def test_a_write_that_failed_halfway_is_cut_back_so_the_next_record_stays_readable(
    tmp_path: Path,
) -> None:
    """A full disk can take part of an append: the rows are refused (counted), and their
    partial line must not be left for the next append to continue."""
    done = subprocess.run(
        [sys.executable, "-c", _PARTIAL_WRITE, str(tmp_path / "outbox")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    first, second, third, rows, rejected, pending, size = json.loads(done.stdout)
    assert (first, second, third) == (True, False, True)
    assert rows == ["op1", "op3"]
    assert rejected == 1
    assert pending == size


async def test_lines_that_are_no_valid_record_are_set_aside_and_the_rest_replayed(
    sink_engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """outbox2.py: a line that parses but is not a record used to fail every replay of its
    file (table_failing stayed true, atomic writes off for good); a bad recorded_at raised
    in the replay task (it died) and from drain() and aclose()."""
    directory = tmp_path / "outbox"
    directory.mkdir()
    bad = [
        line({"record_id": "abc"}),
        line(record("bad.when", recorded_at="yesterday")),
        "[1, 2, 3]",
        line(record("bad.id", record_id="x" * 33)),
        line(record("bad.flag", degraded="no")),
        line(record("bad.extra", id=7)),
        line(record("bad.duration", duration_ms=float("nan"))),
    ]
    # The file this process claims at start-up (a dead worker's first file), and one it
    # adopts (another dead worker's).
    (directory / "outbox-0.jsonl").write_text(
        "\n".join([line(record("left.n0")), bad[0], line(record("left.n1")), *bad[1:4]]) + "\n"
    )
    (directory / "outbox-7.jsonl").write_text("\n".join([*bad[4:], line(record("left.n2"))]) + "\n")
    sink = TableAuditSink(sink_engine, outbox=directory, replay_interval=0.05)
    await sink.create_table()
    with (
        event_loop_watchdog(30),
        caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"),
    ):
        await sink.check_configuration()  # replays what it finds, in the background
        registry = registry_for(sink)
        await dispatch(registry, "pure.compute", 5)
        await until(lambda: sink.status()["outbox_pending_bytes"] == 0)
        await sink.drain()
        await sink.aclose()
    assert await operations(sink_engine, sink) == [
        "left.n0",
        "left.n1",
        "left.n2",
        *["pure.compute"] * 5,
    ]
    status = sink.status()
    assert (status["outbox_rejected"], status["table_failing"]) == (7, False)
    assert sink.dropped == 7
    own, adopted = directory / "outbox-0.jsonl", directory / "outbox-7.jsonl"
    warnings = set_aside_warnings(caplog)
    assert warnings == [
        f"audit outbox {own}: line 2 is not a valid audit record (recorded_at is missing); "
        f"set aside in {directory / 'rejected.jsonl'}",
        f"audit outbox {own}: line 4 is not a valid audit record (recorded_at is not a "
        f"date-time: 'yesterday'); set aside in {directory / 'rejected.jsonl'}",
        f"audit outbox {own}: line 5 is not a valid audit record (a JSON list, not an "
        f"object); set aside in {directory / 'rejected.jsonl'}",
        f"audit outbox {own}: line 6 is not a valid audit record (record_id is longer than "
        f"32 characters); set aside in {directory / 'rejected.jsonl'}",
        f"audit outbox {adopted}: line 1 is not a valid audit record (degraded is not a "
        f"boolean); set aside in {directory / 'rejected.jsonl'}",
        f"audit outbox {adopted}: line 2 is not a valid audit record (unknown field 'id'); "
        f"set aside in {directory / 'rejected.jsonl'}",
        f"audit outbox {adopted}: line 3 is not a valid audit record (duration_ms is not a "
        f"finite number); set aside in {directory / 'rejected.jsonl'}",
    ]
    assert (directory / "rejected.jsonl").read_text().splitlines() == bad
    assert "Task exception was never retrieved" not in caplog.text


# ---------------------------------------------------------------- a deleted directory (rmdir.py)


async def five_spooled(
    sink_engine: AsyncEngine, directory: Path
) -> tuple[TableAuditSink, OperationRegistry]:
    """A started sink whose table was then renamed away, with 5 dispatches' rows spooled."""
    sink = TableAuditSink(sink_engine, outbox=directory, replay_interval=0.05, retries=0)
    await sink.create_table()
    await sink.check_configuration()
    registry = registry_for(sink)
    await rename(sink_engine, "layerguard_audit", "audit_away")
    await dispatch(registry, "pure.compute", 5)
    await sink.drain()
    return sink, registry


async def test_records_spooled_into_a_deleted_directory_are_written_again_and_replayed(
    sink_engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """rmdir.py: the outbox directory is removed (an operator, a cleaner) while the table is
    down. Appends used to go on into the unlinked file, and the replay found nothing: 10
    dispatches, 0 rows, nothing counted as lost."""
    directory = tmp_path / "outbox"
    sink, registry = await five_spooled(sink_engine, directory)
    assert sink.status()["outbox_spooled"] == 5
    first = sink.outbox.path

    shutil.rmtree(directory)
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"):
        await dispatch(registry, "pure.compute", 5)
        await sink.drain()
    assert (
        f"audit outbox file {first} was removed while in use; its 5 audit records were "
        f"written again to {directory / 'outbox-0.jsonl'}"
    ) in caplog.messages
    assert sink.status()["outbox_pending_bytes"] == files_on_disk(directory) > 0

    await rename(sink_engine, "audit_away", "layerguard_audit")
    with event_loop_watchdog(30):
        await until(lambda: sink.status()["outbox_pending_bytes"] == 0)
        await sink.drain()
    assert await operations(sink_engine, sink) == ["pure.compute"] * 10
    status = sink.status()
    assert (status["outbox_spooled"], status["outbox_replayed"]) == (10, 10)
    assert (status["outbox_rejected"], status["table_failing"]) == (0, False)
    await sink.aclose()


async def test_a_deleted_directory_that_cannot_be_recreated_counts_its_records_as_lost(
    sink_engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """If the directory cannot come back, what its file held is lost: counted in
    ``outbox_rejected`` and ``dropped``, logged as an error; status() says so. Once the
    table is back, rows go to it directly again."""
    directory = tmp_path / "parent" / "outbox"
    sink, registry = await five_spooled(sink_engine, directory)
    first = sink.outbox.path

    shutil.rmtree(tmp_path / "parent")
    (tmp_path / "parent").write_text("a file now: no directory can be made under it\n")
    with caplog.at_level(logging.ERROR, logger="layerguard.runtime.audit"):
        await dispatch(registry, "pure.compute", 3)
        await sink.drain()
    lost = [m for m in caplog.messages if m.startswith(f"audit outbox file {first} was removed")]
    assert lost == [
        f"audit outbox file {first} was removed while in use, and {directory} cannot be "
        f"written ([Errno 20] Not a directory: '{directory}'): 5 audit records lost "
        "(5 in all)"
    ]
    status = sink.status()
    assert (status["outbox_spooled"], status["outbox_rejected"]) == (5, 8)
    assert (status["outbox_pending_bytes"], sink.dropped) == (0, 8)

    await rename(sink_engine, "audit_away", "layerguard_audit")
    await dispatch(registry, "pure.compute", 2)
    await sink.drain()
    assert await operations(sink_engine, sink) == ["pure.compute"] * 2
    assert sink.status()["table_failing"] is False
    await sink.aclose()


def test_a_sibling_that_recreated_the_directory_keeps_its_file(tmp_path: Path) -> None:
    """After the directory was removed, the first process to write recreates it and claims
    outbox-0 again; the other must not append to that file as if it were its own."""
    directory = tmp_path / "outbox"
    one, two = AuditOutbox(directory), AuditOutbox(directory)
    assert one.append([record("one.n0")])
    assert two.append([record("two.n0")])
    shutil.rmtree(directory)
    assert two.append([record("two.n1")])  # first again: it gets outbox-0
    assert one.append([record("one.n1")])
    assert (one.path, two.path) == (directory / "outbox-1.jsonl", directory / "outbox-0.jsonl")
    assert [r["operation"] for b in one.take() for r in b.rows] == ["one.n0", "one.n1"]
    assert [r["operation"] for b in two.take() for r in b.rows] == ["two.n0", "two.n1"]
    one.close()
    two.close()


# ---------------------------------------------------- lines the replay cannot store (outbox3.py)


async def replay_left_lines(
    sink: TableAuditSink, directory: Path, own: list[str], adopted: list[str]
) -> None:
    """Start ``sink`` over an outbox holding ``own`` (the file it claims, a dead worker's
    first) and ``adopted`` (another dead worker's file), dispatch 5 times, wait for the
    outbox to drain."""
    directory.mkdir()
    (directory / "outbox-0.jsonl").write_text("\n".join(own) + "\n")
    (directory / "outbox-7.jsonl").write_text("\n".join(adopted) + "\n")
    await sink.create_table()
    with event_loop_watchdog(30):
        await sink.check_configuration()
        await dispatch(registry_for(sink), "pure.compute", 5)
        await until(lambda: sink.status()["outbox_pending_bytes"] == 0)
        await sink.drain()
        await sink.aclose()


async def test_a_line_whose_check_raises_anything_is_set_aside_not_the_whole_replay(
    sink_engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """outbox3.py: a duration of 10**400 (valid JSON) made the check raise OverflowError,
    which the parser did not catch: every replay failed, 0 rows of 5 dispatches stored, 0
    rejected, the same error logged every turn. Whatever a line raises sets it aside."""
    directory = tmp_path / "outbox"
    huge = line(record("bad.huge")).replace('"duration_ms":1.0', '"duration_ms":1' + "0" * 400)
    early = record("bad.early", recorded_at="0001-01-01T00:00:00+01:00")
    late = record("bad.late", recorded_at="9999-12-31T23:59:59-01:00")
    bad = [huge, line(early), line(late)]
    sink = TableAuditSink(sink_engine, outbox=directory, replay_interval=0.05)
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"):
        await replay_left_lines(
            sink,
            directory,
            [line(record("left.n0")), huge, line(record("left.n1")), line(early)],
            [line(late), line(record("left.n2"))],
        )
    assert await operations(sink_engine, sink) == [
        "left.n0",
        "left.n1",
        "left.n2",
        *["pure.compute"] * 5,
    ]
    status = sink.status()
    assert (status["outbox_rejected"], status["table_failing"]) == (3, False)
    assert status["outbox_replayed"] == 3 + status["outbox_spooled"]  # 0 to 5 dispatches
    own, adopted = directory / "outbox-0.jsonl", directory / "outbox-7.jsonl"
    aside = directory / "rejected.jsonl"
    assert set_aside_warnings(caplog) == [
        f"audit outbox {own}: line 2 is not a valid audit record (duration_ms is not a "
        f"finite number); set aside in {aside}",
        f"audit outbox {own}: line 4 is not a valid audit record (recorded_at is out of "
        f"range in UTC: '0001-01-01T00:00:00+01:00'); set aside in {aside}",
        f"audit outbox {adopted}: line 1 is not a valid audit record (recorded_at is out of "
        f"range in UTC: '9999-12-31T23:59:59-01:00'); set aside in {aside}",
    ]
    assert aside.read_text().splitlines() == bad
    assert not [m for m in caplog.messages if "cannot be replayed" in m]


def test_a_check_that_raises_any_exception_sets_the_line_aside(tmp_path: Path) -> None:
    """The parser caught only ValueError, TypeError and RecursionError: anything else a
    check raised (a KeyError, an OverflowError, a bug) stopped take() for every line."""

    def check(row: dict[str, Any]) -> dict[str, Any]:
        if row["operation"] == "bad.key":
            return {"missing": row["nothing"]}
        if row["operation"] == "bad.bug":
            raise RuntimeError("a bug in the check")
        return row

    outbox = AuditOutbox(tmp_path / "outbox")
    assert outbox.append([record("op1"), record("bad.key"), record("op2"), record("bad.bug")])
    (batch,) = outbox.take(check)
    assert [row["operation"] for row in batch.rows] == ["op1", "op2"]
    assert [(number, why) for number, _line, why in batch.invalid] == [
        (2, "'nothing'"),
        (4, "a bug in the check"),
    ]
    batch.done()
    assert (outbox.rejected, outbox.pending_bytes()) == (2, 0)
    outbox.close()


def refusing_table() -> Any:
    """The audit table with a CHECK constraint the sink's own check does not know of: what a
    database that refuses a value the sink accepted looks like."""
    from sqlalchemy import CheckConstraint, MetaData

    from layerguard.runtime.audit.table import audit_table

    table = audit_table(MetaData())
    table.append_constraint(CheckConstraint("operation NOT LIKE 'refused.%'", name="no_refused"))
    return table


async def test_rows_the_database_refuses_are_set_aside_and_the_others_stored(
    sink_engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A line the check accepts but the database refuses (on PostgreSQL, a recorded_at that
    leaves the year range once in UTC did) failed its whole batch on every replay: 0 rows
    of 5 dispatches stored, table_failing for good. The batch is now tried again in halves
    down to single rows (3 rows per chunk here, so that chunks and halves both show): the
    refused rows are set aside, counted, logged; every other row is stored once."""
    directory = tmp_path / "outbox"
    refused = [line(record(f"refused.n{n}")) for n in range(3)]
    own = [line(record(f"left.n{n}")) for n in range(6)]
    own[1:1] = [refused[0]]
    own[5:5] = [refused[1]]
    adopted = [refused[2], line(record("left.n6"))]
    sink = TableAuditSink(
        sink_engine, table=refusing_table(), outbox=directory, replay_interval=0.05, batch_size=3
    )
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"):
        await replay_left_lines(sink, directory, own, adopted)
    assert await operations(sink_engine, sink) == [
        *[f"left.n{n}" for n in range(7)],
        *["pure.compute"] * 5,
    ]
    status = sink.status()
    assert (status["outbox_rejected"], status["table_failing"]) == (3, False)
    assert (status["outbox_replayed"], sink.dropped) == (7 + status["outbox_spooled"], 3)
    warnings = set_aside_warnings(caplog)
    where = [w.split(" was refused by the database (")[0] for w in warnings]
    assert where == [
        f"audit outbox {directory / 'outbox-0.jsonl'}: line 2",
        f"audit outbox {directory / 'outbox-0.jsonl'}: line 6",
        f"audit outbox {directory / 'outbox-7.jsonl'}: line 1",
    ]
    for warning in warnings:
        assert warning.split(" was refused by the database (")[1].startswith("IntegrityError: ")
        assert "no_refused" in warning
        assert warning.endswith(f"; set aside in {directory / 'rejected.jsonl'}")
    assert (directory / "rejected.jsonl").read_text().splitlines() == refused
    assert files_on_disk(directory) == 0
    assert not [m for m in caplog.messages if "cannot be written" in m]


async def test_a_table_that_fails_as_a_whole_sets_no_row_aside(
    sink_engine: AsyncEngine, tmp_path: Path
) -> None:
    """The fallback to single rows is for values the database refuses: a missing table fails
    every row alike, so the rows wait in the outbox (none set aside) until it is back."""
    directory = tmp_path / "outbox"
    sink, _registry = await five_spooled(sink_engine, directory)
    await asyncio.sleep(0.3)  # a few failed replays
    status = sink.status()
    assert (status["outbox_rejected"], status["table_failing"]) == (0, True)
    assert not (directory / "rejected.jsonl").exists()
    await rename(sink_engine, "audit_away", "layerguard_audit")
    with event_loop_watchdog(30):
        await until(lambda: sink.status()["outbox_pending_bytes"] == 0)
        await sink.drain()
    assert await operations(sink_engine, sink) == ["pure.compute"] * 5
    assert (sink.status()["outbox_replayed"], sink.status()["outbox_rejected"]) == (5, 0)
    await sink.aclose()


# ---------------------------------------------------------- a deleted lock file (lockdel2.py)


def operations_taken(outbox: AuditOutbox) -> list[tuple[str, list[str]]]:
    return [(b.path.name, [r["operation"] for r in b.rows]) for b in outbox.take()]


def test_a_sibling_that_claims_a_file_whose_lock_was_deleted_does_not_truncate_new_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """lockdel2.py: A's outbox-0.lock removed (a cleaner), a sibling B claims outbox-0 and
    takes its rows; A appends op3 there, B's replay is done and truncates the file: op3
    was gone, nothing counted or logged. A now sees its lock is gone and writes to a file
    of its own; what it wrote before is B's to replay."""
    directory = tmp_path / "outbox"
    a = AuditOutbox(directory)
    assert a.append([record("op1"), record("op2")])
    assert a.path is not None
    os.remove(a.path.with_suffix(".lock"))
    b = AuditOutbox(directory)
    assert b.append([record("op9")])
    assert b.path == directory / "outbox-0.jsonl"  # the lock was free
    taken = b.take()
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"):
        assert a.append([record("op3")])
    assert caplog.messages == [
        f"audit outbox lock file {directory / 'outbox-0.lock'} was removed while in use and "
        f"another process claimed {directory / 'outbox-0.jsonl'}: the records in it are that "
        "process's to replay; the next ones go to a new file"
    ]
    assert a.path == directory / "outbox-1.jsonl"
    assert [[r["operation"] for r in batch.rows] for batch in taken] == [["op1", "op2", "op9"]]
    for batch in taken:
        batch.done()
    assert operations_taken(a) == [("outbox-1.jsonl", ["op3"])]
    assert operations_taken(b) == []
    assert (a.rejected, b.rejected) == (0, 0)
    a.close()
    b.close()


def test_a_deleted_lock_file_is_taken_again_when_no_sibling_holds_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With no sibling around yet, A locks its file again: a sibling starting later takes
    another file instead of A's."""
    directory = tmp_path / "outbox"
    a = AuditOutbox(directory)
    assert a.append([record("op1")])
    lock = directory / "outbox-0.lock"
    os.remove(lock)
    with caplog.at_level(logging.WARNING, logger="layerguard.runtime.audit"):
        assert a.append([record("op2")])
    assert caplog.messages == [
        f"audit outbox lock file {lock} was removed while in use; locked again"
    ]
    b = AuditOutbox(directory)
    assert b.append([record("op9")])
    assert (a.path, b.path) == (directory / "outbox-0.jsonl", directory / "outbox-1.jsonl")
    assert operations_taken(b) == [("outbox-1.jsonl", ["op9"])]  # not A's file
    (batch,) = a.take()
    assert [r["operation"] for r in batch.rows] == ["op1", "op2"]
    batch.done()
    assert (a.pending_bytes(), (directory / "outbox-0.jsonl").stat().st_size) == (0, 0)
    a.close()
    b.close()


def test_a_batch_taken_before_the_lock_was_lost_does_not_truncate_the_sibling_s_rows(
    tmp_path: Path,
) -> None:
    """A takes its rows; its lock file is deleted and B claims the file and appends; A's
    replay is done: truncating the file to A's size would drop B's row."""
    directory = tmp_path / "outbox"
    a = AuditOutbox(directory)
    assert a.append([record("op1"), record("op2")])
    (batch,) = a.take()
    assert a.path is not None
    os.remove(a.path.with_suffix(".lock"))
    b = AuditOutbox(directory)
    assert b.append([record("op9")])
    assert b.path == directory / "outbox-0.jsonl"
    batch.done()  # A's rows are in the table; the file is B's now
    assert a.path is None
    # B replays A's rows again (stored once: record_id) and its own.
    assert operations_taken(b) == [("outbox-0.jsonl", ["op1", "op2", "op9"])]
    assert (a.rejected, b.rejected) == (0, 0)
    a.close()
    b.close()


def test_rows_written_as_a_sibling_claimed_the_file_are_written_again_to_a_file_of_our_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock file removed and the file claimed by a sibling between A's check and A's
    write: the sibling's size misses A's row, and its replay truncates it unread. A checks
    again after the write and writes the row to a file of its own as well."""
    directory = tmp_path / "outbox"
    a = AuditOutbox(directory)
    assert a.append([record("op1")])
    assert a.path is not None
    siblings: list[AuditOutbox] = []
    write = a._write

    def sibling_claims_first(fd: int, data: bytes) -> None:
        if not siblings:
            assert a.path is not None
            os.remove(a.path.with_suffix(".lock"))
            siblings.append(AuditOutbox(directory))
            siblings[0].check()  # claims outbox-0, of the size it has now
        write(fd, data)

    monkeypatch.setattr(a, "_write", sibling_claims_first)
    assert a.append([record("op2")])
    (b,) = siblings
    assert (a.path, b.path) == (directory / "outbox-1.jsonl", directory / "outbox-0.jsonl")
    (taken,) = b.take()
    assert [r["operation"] for r in taken.rows] == ["op1"]  # op2 came after its claim
    taken.done()
    assert operations_taken(a) == [("outbox-1.jsonl", ["op2"])]
    assert (a.spooled, a.rejected, b.rejected) == (2, 0, 0)
    a.close()
    b.close()
