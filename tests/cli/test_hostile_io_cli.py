"""Audit a1 of issue 11 (linter hostile input), items 1 and 3 to 7: a poisoned cache row, links
planted in the cache directory, `init` on special files and dangling links, a huge
pyproject.toml above the project, a huge file being written during a run, and huge files at
`--changed`'s base revision. (Item 2, the baseline's huge number, is in test_baseline_cli.py.)

Every run is a process of its own, bounded in time and in address space (2 GiB; the files
planted are 3 GiB, sparse), so that a regression fails the test instead of the machine.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.helpers import Run, run_process, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
HERE = "backend/app/hoc/api/cus/policies"
CARD = "literature/policy_engine.md"
LG101 = ("LG101", ROUTE, 1)
BOUNDED = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))"
HUGE = 3 << 30
CACHE = ".layerguard_cache"
DATABASE = f"{CACHE}/cache-v1.sqlite3"
CARD_TEXT = f"# policy_engine.py\n\n**Path:** `{ENGINE}`\n**Layer:** L5 — Domain Engines\n"


def project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return write_project(
        root,
        {
            ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",
            ENGINE: "def evaluate():\n    return 1\n",
        },
    )


def sparse(path: Path) -> None:
    """A file of HUGE bytes that takes no disk space."""
    path.touch()
    os.truncate(path, HUGE)


def check(root: Path, *args: str) -> Run:
    return run_process(["check", "--output-format", "json", *args], root, 60, BOUNDED)


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert "Error" not in run.stderr, run.stderr


# Item 1: a poisoned cache row crashed every run with a RecursionError until the cache was
# deleted (only ValueError, TypeError and KeyError were caught).

POISONS = {
    "nested": "[" * 200_000,
    "long number": '{"files": 1' + "0" * 5000 + "}",
}


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
def test_a_poisoned_cache_row_is_a_miss(tmp_path: Path, poison: str) -> None:
    root = project(tmp_path)
    assert check(root).findings() == [LG101]
    with sqlite3.connect(root / DATABASE) as connection:  # every finding of every run
        connection.execute("UPDATE runs SET data = ?", (poison,))
    run = check(root)
    no_traceback(run)
    assert (run.exit_code, run.findings()) == (1, [LG101])
    assert run.report["summary"]["parsed"] == 0  # the facts still came from the cache
    with sqlite3.connect(root / DATABASE) as connection:  # every parsed file and card
        connection.execute("DELETE FROM runs")
        connection.execute("UPDATE parses SET data = ?", (poison,))
    run = check(root)
    no_traceback(run)
    assert (run.exit_code, run.findings()) == (1, [LG101])
    assert run.report["summary"]["parsed"] == 2  # parsed again, and stored again
    run = check(root)
    assert (run.exit_code, run.findings(), run.stderr) == (1, [LG101], "")


def test_a_cached_run_naming_an_impossible_file_is_a_miss(tmp_path: Path) -> None:
    """A cached run's `described_elsewhere` is checked against the tree: a name too long to
    look up was an OSError traceback."""
    root = project(tmp_path)
    assert check(root).findings() == [LG101]
    with sqlite3.connect(root / DATABASE) as connection:
        (data,) = connection.execute("SELECT data FROM runs").fetchone()
        poisoned = data.replace(
            '"described_elsewhere":{}', f'"described_elsewhere":{{"{"x" * 5000}":true}}'
        )
        assert poisoned != data
        connection.execute("UPDATE runs SET data = ?", (poisoned,))
    run = check(root)
    no_traceback(run)
    assert (run.exit_code, run.findings()) == (1, [LG101])


# Item 3: links inside .layerguard_cache/ made the cache write outside the project.


def warning(path: Path, what: str) -> str:
    return (
        f"layerguard: warning: {path}: {what} in the cache directory, where layerguard keeps a "
        "file of its own; removed (the cache never reads or writes through a link)\n"
    )


@pytest.mark.parametrize("name", ["cache-v1.sqlite3", "cache-v1.sqlite3-wal", ".gitignore"])
def test_a_dangling_link_in_the_cache_directory_is_not_followed(tmp_path: Path, name: str) -> None:
    root = project(tmp_path / "project")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / CACHE).mkdir()
    (root / CACHE / name).symlink_to(outside / "planted")
    run = check(root)
    assert (run.exit_code, run.findings()) == (1, [LG101])
    assert run.stderr == warning(root / CACHE / name, f"a symbolic link to {outside / 'planted'}")
    assert list(outside.iterdir()) == []
    assert not (root / CACHE / name).is_symlink()
    run = check(root)  # the cache works again: answered from it, nothing said
    assert (run.exit_code, run.findings(), run.stderr) == (1, [LG101], "")
    assert run.report["summary"]["parsed"] == 0


def test_a_database_linked_to_a_file_outside_is_neither_read_nor_written(tmp_path: Path) -> None:
    root = project(tmp_path / "project")
    check(root)
    outside = tmp_path / "outside.sqlite3"
    (root / DATABASE).rename(outside)  # a cache that answers: it must not be used either
    before = outside.read_bytes()
    (root / DATABASE).symlink_to(outside)
    run = check(root)
    assert (run.exit_code, run.findings()) == (1, [LG101])
    assert run.stderr == warning(root / DATABASE, f"a symbolic link to {outside}")
    assert run.report["summary"]["parsed"] == 2
    assert outside.read_bytes() == before
    assert not (tmp_path / "outside.sqlite3-wal").exists()


def test_a_database_hard_linked_outside_is_not_written(tmp_path: Path) -> None:
    root = project(tmp_path / "project")
    check(root)
    outside = tmp_path / "outside.sqlite3"
    os.link(root / DATABASE, outside)
    before = outside.read_bytes()
    (root / ROUTE).write_text("x = 1\n", encoding="utf-8")  # something to write
    run = check(root)
    assert (run.exit_code, run.findings()) == (0, [])
    assert run.stderr == warning(root / DATABASE, "a hard link to a file with other names")
    assert outside.read_bytes() == before


# Item 4: init read pyproject.toml linked to /dev/zero (memory without limit) or a FIFO (a
# hang), and followed a dangling layerguard.yaml link out of the project.


def init(root: Path, *args: str) -> Run:
    return run_process(["init", "--preset", "fastapi", *args], root, 30, BOUNDED)


def test_init_writes_no_contract_through_a_link(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "pyproject.toml").symlink_to("/dev/zero")
    run = init(root, "--pyproject")
    assert run.exit_code == 2
    assert run.stderr == (
        "layerguard: pyproject.toml is a symbolic link to /dev/zero; init writes a "
        "regular file there only: remove the link, or run init in the directory it leads to\n"
    )
    (root / "pyproject.toml").unlink()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "layerguard.yaml").symlink_to(outside / "lg.yaml")
    for args in ((), ("--force",)):
        run = init(root, *args)
        assert run.exit_code == 2
        assert run.stderr == (
            f"layerguard: layerguard.yaml is a symbolic link to {outside / 'lg.yaml'}"
            "; init writes a regular file there only: remove the link, or run init in the "
            "directory it leads to\n"
        )
    run = init(root, "--pyproject")  # the dangling link is a contract there
    assert run.exit_code == 2
    assert "already holds the contract" in run.stderr
    assert list(outside.iterdir()) == []
    assert not (root / "pyproject.toml").exists()


def test_init_does_not_wait_for_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    os.mkfifo(tmp_path / "pyproject.toml")
    run = init(tmp_path, "--pyproject")
    assert run.exit_code == 2
    assert run.stderr == (
        "layerguard: pyproject.toml: cannot read it (a FIFO, not a regular file)\n"
    )


# Item 5: a pyproject.toml in a directory above the project was read whole (3 GB: 3.1 GB).


def test_a_huge_pyproject_above_the_project_is_not_read(tmp_path: Path) -> None:
    sparse(tmp_path / "pyproject.toml")
    root = project(tmp_path / "proj")
    (root / "layerguard.yaml").rename(root / "backend" / "layerguard.yaml")
    subdirectory = root / "sub"
    subdirectory.mkdir()
    run = run_process(["check"], subdirectory, 60, BOUNDED)
    assert run.exit_code == 2
    no_traceback(run)
    assert "no layerguard.yaml" in run.stderr, run.stderr


# Item 6: a huge file modified within the racy window was read whole for the run key.


def test_a_huge_file_written_just_now_is_too_large_unread(tmp_path: Path) -> None:
    root = project(tmp_path)
    sparse(root / HERE / "big.py")
    run = check(root)
    no_traceback(run)
    assert (run.exit_code, run.findings()) == (1, [("LG001", f"{HERE}/big.py", 1), LG101])
    assert run.report["findings"][0]["message"].startswith(
        "too large to analyse (3,145,728 KB; `max_file_size_kb` is 1,024)"
    )


# Item 7: `check --changed` read the base revision's files whole (a 400 MB blob: 1.27 GB).


def git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    settings = ["-c", "user.name=t", "-c", "user.email=t@t.invalid", "-c", "commit.gpgsign=false"]
    done = subprocess.run(
        ["git", *settings, *args], cwd=root, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode()


def zero_blob(root: Path, size: int) -> str:
    """A blob of `size` zero bytes written straight into the object store (git would hash and
    compress a file of that size for seconds); its object id."""
    header = f"blob {size}\0".encode()
    digest = hashlib.sha1(header)
    compressor = zlib.compressobj(1)
    parts = [compressor.compress(header)]
    chunk = bytes(1 << 20)
    for _ in range(size >> 20):
        digest.update(chunk)
        parts.append(compressor.compress(chunk))
    parts.append(compressor.flush())
    oid = digest.hexdigest()
    path = root / ".git" / "objects" / oid[:2] / oid[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(parts))
    return oid


def test_huge_files_at_the_base_revision_are_not_read(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "literature").mkdir()
    (root / CARD).write_text(CARD_TEXT)
    git(root, "init", "-q")
    git(root, "add", ".")
    oid = zero_blob(root, 1 << 30)
    for path in (ROUTE, CARD):  # both 1 GiB at the base revision
        git(root, "update-index", "--cacheinfo", f"100644,{oid},{path}")
    git(root, "commit", "-q", "-m", "huge")
    run = check(root, "--changed", "--base", "HEAD")
    no_traceback(run)
    assert (run.exit_code, run.findings()) == (1, [LG101])
    assert run.report["summary"]["files"] == 2


# A `layerguard.yaml` that is a link to a shared contract outside the project: the project is
# where the link is. The directory of the link's target was taken as the root, so the sources
# were looked for there and the cache written there.


def test_a_contract_linked_from_outside_roots_the_project_where_the_link_is(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "project")
    shared = tmp_path / "shared"
    shared.mkdir()
    (root / "layerguard.yaml").rename(shared / "contract.yaml")
    (root / "layerguard.yaml").symlink_to(shared / "contract.yaml")
    run = check(root)
    no_traceback(run)
    assert (run.exit_code, run.findings()) == (1, [LG101])
    assert (root / DATABASE).is_file()
    assert sorted(p.name for p in shared.iterdir()) == ["contract.yaml"]
