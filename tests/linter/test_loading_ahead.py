"""A run after an edit loads the rest of the project while its workers parse what changed
(linter/project/build.py, ProjectLoading): the index is built before the edited file's facts
are in, and they are put into it after. The findings must be those of a fresh run, and a run
that stops early must not leave a worker parsing."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from layerguard.contracts.config.loader import load_config
from layerguard.linter.caching.parses import content_hash
from layerguard.linter.check import CheckOptions, check
from layerguard.linter.facts.serialize import facts_from_data
from layerguard.linter.facts.settings import ExtractionSettings
from layerguard.linter.project import build, extraction
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules.codes import ALL_CODES
from tests.helpers import Run, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
OTHER = "backend/app/hoc/cus/billing/L6_drivers/billing_driver.py"


@pytest.fixture
def project(tmp_path: Path, run_cli: Callable[..., Run]) -> Path:
    write_project(
        tmp_path,
        {
            ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",
            ENGINE: "from app.hoc.cus.policies.L6_drivers import policy_driver\n\n\n"
            "def evaluate():\n    return policy_driver.load()\n",
            DRIVER: "def load():\n    return 1\n",
            OTHER: "def bill():\n    return 2\n",
        },
    )
    generated = run_cli(["cards", "generate"])
    assert generated.exit_code == 0, generated.stdout + generated.stderr
    assert len(list((tmp_path / "literature").rglob("*.md"))) == 4
    return tmp_path


@pytest.fixture
def fresh_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[extraction._Worker]]:
    """A pool of its own for the test (workers forked after the test's patches), and every
    worker it starts."""
    started: list[extraction._Worker] = []
    real_start = extraction._Pool._start

    def start(self: extraction._Pool, busy: list[extraction._Worker]) -> extraction._Worker:
        worker = real_start(self, busy)
        started.append(worker)
        return worker

    monkeypatch.setattr(extraction._Pool, "_start", start)
    monkeypatch.setattr(extraction, "_pool", None)
    yield started
    for worker in started:
        worker.process.kill()
        worker.process.join()


@pytest.mark.parametrize("ahead", [64, 0], ids=["indexed-while-parsing", "long-parse"])
def test_the_edited_file_is_indexed_after_the_rest_and_the_findings_are_a_fresh_runs(
    project: Path,
    run_cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    fresh_pool: list[extraction._Worker],
    ahead: int,
) -> None:
    """An import edit changes the edited file's own findings (a forbidden import) and its
    card's (the imports it lists), from an index built while the file was being parsed (the
    worker is slowed down so that it is); or, when more files are to be parsed than are
    indexed ahead, built after the parse."""
    monkeypatch.setattr(build, "_PARSED_AHEAD", ahead)
    first = run_cli(["check", "--output-format", "json"])
    assert first.report["summary"]["parsed"] == 0  # `cards generate` parsed every file
    real_extract = extraction._extract_one

    def slow(task: str | bytes, limits: extraction.WorkerLimits) -> extraction.Result:
        time.sleep(0.5)
        return real_extract(task, limits)

    monkeypatch.setattr(extraction, "_extract_one", slow)
    replaced: list[str] = []
    real_replace = ProjectIndex.replace_facts

    def replace_facts(self: ProjectIndex, path: str, facts: object) -> None:
        replaced.append(path)
        real_replace(self, path, facts)  # type: ignore[arg-type]

    monkeypatch.setattr(ProjectIndex, "replace_facts", replace_facts)
    engine = project / ENGINE
    engine.write_text(
        "from app.hoc.cus.billing.L6_drivers import billing_driver\n" + engine.read_text("utf-8"),
        "utf-8",
    )
    after = run_cli(["check", "--output-format", "json"])
    assert (after.report["summary"]["parsed"], replaced) == (1, [ENGINE] if ahead else [])
    fresh = run_cli(["check", "--output-format", "json", "--no-cache"])
    assert after.report["findings"] == fresh.report["findings"]
    new = set(after.findings()) - set(first.findings())
    assert {path for _, path, _ in new} == {ENGINE, f"literature/{ENGINE[:-3]}.md"}
    assert ("LG101", ROUTE, 1) in after.findings()


def test_a_run_that_fails_while_its_worker_parses_ends_the_worker(
    project: Path,
    run_cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    fresh_pool: list[extraction._Worker],
) -> None:
    """The work done while the workers parse can fail (here: reading the cards); the busy
    worker is ended, not left parsing for a run that is over."""
    run_cli(["check"])

    def stall(task: str | bytes, limits: extraction.WorkerLimits) -> extraction.Result:
        time.sleep(60)
        raise AssertionError("not ended")

    def fail(self: build.ProjectLoading, paths: list[str]) -> None:
        raise RuntimeError("the cards could not be read")

    monkeypatch.setattr(extraction, "_extract_one", stall)
    monkeypatch.setattr(build.ProjectLoading, "_read_cards", fail)
    (project / DRIVER).write_text("def load():\n    return 3\n", "utf-8")
    config = load_config(project / "layerguard.yaml")
    with pytest.raises(RuntimeError, match="could not be read"):
        check(config, CheckOptions(enabled=frozenset(ALL_CODES), jobs=1))
    assert len(fresh_pool) == 1
    fresh_pool[0].process.join(timeout=10)
    assert fresh_pool[0].process.exitcode is not None
    assert extraction._pool is not None
    assert extraction._pool.idle == []


def test_an_extraction_polled_or_abandoned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_pool: list[extraction._Worker]
) -> None:
    """`poll()` never waits and takes the answers that came; `results()` is every answer;
    `close()` ends a worker still parsing and keeps an idle one."""
    source = tmp_path / "a.py"
    source.write_text("import os\n", "utf-8")
    settings = ExtractionSettings()
    limits = extraction.WorkerLimits()
    done = extraction.start_extraction([str(source)], settings, 1, limits)
    deadline = time.monotonic() + 30
    while not done.poll() and time.monotonic() < deadline:
        time.sleep(0.01)
    ((digest, data),) = done.results()
    assert digest == content_hash(b"import os\n")
    assert [fact.module for fact in facts_from_data(data).imports] == ["os"]
    assert extraction._pool is not None
    assert len(extraction._pool.idle) == 1

    def stall(task: str | bytes, limits: extraction.WorkerLimits) -> extraction.Result:
        time.sleep(60)
        raise AssertionError("not ended")

    monkeypatch.setattr(extraction, "_extract_one", stall)
    monkeypatch.setattr(extraction, "_pool", None)  # workers forked with the stall
    stalled = extraction.start_extraction([str(source)], settings, 1, limits)
    started = time.monotonic()
    assert stalled.poll() is False
    assert time.monotonic() - started < 1
    stalled.close()
    stalled.close()  # twice is once
    fresh_pool[-1].process.join(timeout=10)
    assert fresh_pool[-1].process.exitcode is not None
    assert extraction._pool is not None
    assert extraction._pool.idle == []


def test_a_check_pauses_the_cyclic_collector_and_restores_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = build.ProjectLoading.index

    def index(self: build.ProjectLoading) -> build.IndexBuild:
        seen.append(gc.isenabled())
        return real(self)

    monkeypatch.setattr(build.ProjectLoading, "index", index)
    (project / DRIVER).write_text("def load():\n    return 3\n\n", "utf-8")
    config = load_config(project / "layerguard.yaml")
    assert gc.isenabled()
    check(config, CheckOptions(enabled=frozenset(ALL_CODES), jobs=1))
    assert (seen, gc.isenabled()) == ([False], True)
    gc.disable()
    try:  # a caller that switched it off keeps it off
        (project / DRIVER).write_text("def load():\n    return 4\n\n\n", "utf-8")
        check(config, CheckOptions(enabled=frozenset(ALL_CODES), jobs=1))
        assert gc.isenabled() is False
    finally:
        gc.enable()
