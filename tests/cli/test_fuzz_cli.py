"""Fuzzing the command line with mutated real files: whatever a Python file, a card or the
contract holds, `layerguard check` ends with exit 0 or 1 and a valid JSON report (2 and a
one-line LG003 per problem for a contract it cannot use), never a traceback, a signal or a
crashed worker.

The inputs are real files, the bundled example's and layerguard's own, mutated the ways files
get damaged or crafted: truncated, bytes flipped or inserted, nested deeply, re-encoded. Each
example runs the real command line in-process over a copy of the example project whose caches
are warm, so only the mutated file is parsed (by real worker processes). The suite runs a few
examples per input kind; a longer run:

    LAYERGUARD_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/cli/test_fuzz_cli.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import Run, invoke

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "hoc_app"
ROUTE = "backend/app/hoc/api/cus/incidents/incidents.py"
CARD = "literature/backend/app/hoc/api/cus/incidents/incidents.md"
CONTRACT = "layerguard.yaml"
SOURCES = [
    path.read_bytes()
    for path in sorted(
        [*EXAMPLE.glob("backend/app/**/*.py"), *(ROOT / "layerguard" / "linter").glob("**/*.py")]
    )
]
CARDS = [path.read_bytes() for path in sorted(EXAMPLE.glob("literature/**/*.md"))]
CONTRACTS = [(EXAMPLE / "layerguard.yaml").read_bytes()]

EXAMPLES = int(os.environ.get("LAYERGUARD_FUZZ_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CONTRACT_PROBLEM = re.compile(r"^\S.*: LG003 .+$")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example project, checked once so that its caches are warm."""
    root = tmp_path_factory.mktemp("fuzz") / "hoc_app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".layerguard_cache"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert invoke(["check"], root, monkeypatch).exit_code == 0
    return root


@pytest.fixture
def fuzz_cli(example: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, bytes], Run]:
    """Write bytes to a project file, check the project, put the file back."""

    def run(relative: str, data: bytes) -> Run:
        path = example / relative
        original = path.read_bytes()
        path.write_bytes(data)
        try:
            return invoke(["check", "--output-format", "json"], example, monkeypatch)
        finally:
            path.write_bytes(original)

    return run


def nest(data: bytes, at: int, depth: int, kind: int) -> bytes:
    opening, closing = [(b"(", b")"), (b"[", b"]"), (b"{", b"}"), (b"1+", b"")][kind]
    return data[:at] + opening * depth + b"x" + closing * depth + data[at:]


def encode(data: bytes, how: int) -> bytes:
    text = data.decode("utf-8", "replace")
    return [
        lambda: b"\xef\xbb\xbf" + data,  # a UTF-8 BOM
        lambda: text.encode("utf-16"),  # UTF-16 with its BOM, no cookie
        lambda: b"# -*- coding: latin-1 -*-\n" + text.encode("latin-1", "replace"),
        lambda: b"# -*- coding: no-such-codec -*-\n" + data,
        lambda: data.replace(b"\n", b"\r\n"),
        lambda: data.replace(b"\n", b"\r"),
        lambda: data.replace(b"    ", b"\t"),
        lambda: data.replace(b"\n", b"\n\x00", 3),
    ][how]()


@st.composite
def mutated(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    """A real file, damaged in one to three ways."""
    data = draw(st.sampled_from(originals))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["truncate", "flip", "insert", "nest", "encode", "repeat"]))
        if how == "truncate":
            data = data[:at]
        elif how == "flip" and data:
            position = min(at, len(data) - 1)
            data = data[:position] + bytes([draw(st.integers(0, 255))]) + data[position + 1 :]
        elif how == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        elif how == "nest":
            depth = draw(st.sampled_from([3, 150, 201, 1500, 6000]))
            data = nest(data, at, depth, draw(st.integers(0, 3)))
        elif how == "encode":
            data = encode(data, draw(st.integers(0, 7)))
        elif how == "repeat":
            data = data * draw(st.integers(2, 40))
    return data


def assert_report(run: Run) -> None:
    assert run.exit_code in (0, 1), (run.exit_code, run.stderr)
    report = json.loads(run.stdout)
    for finding in report["findings"]:
        # a worker that died means the nesting estimate let through what crashes libcst
        assert "process analysing it" not in finding["message"], finding
        assert "its analysis failed" not in finding["message"], finding
    assert "Traceback" not in run.stderr


@FUZZ
@given(data=mutated(SOURCES))
def test_any_python_file(fuzz_cli: Callable[[str, bytes], Run], data: bytes) -> None:
    assert_report(fuzz_cli(ROUTE, data))


@FUZZ
@given(data=mutated(CARDS))
def test_any_card(fuzz_cli: Callable[[str, bytes], Run], data: bytes) -> None:
    assert_report(fuzz_cli(CARD, data))


@FUZZ
@given(data=mutated(CONTRACTS))
def test_any_contract(fuzz_cli: Callable[[str, bytes], Run], data: bytes) -> None:
    run = fuzz_cli(CONTRACT, data)
    if run.exit_code == 2:
        assert run.stdout == ""
        problems = run.stderr.splitlines()
        assert problems, "exit 2 without a word"
        for line in problems:
            assert CONTRACT_PROBLEM.match(line) or line.startswith("layerguard: "), line
    else:
        assert_report(run)
