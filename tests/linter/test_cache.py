"""The facts cache: an unchanged tree parses nothing; only what changed is parsed again."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from tests.helpers import HOC_CONTRACT, Run, write_project

DRIVERS = "backend/app/hoc/cus/policies/L6_drivers"


def summary(run: Run) -> dict[str, int]:
    data: dict[str, int] = run.report["summary"]
    return data


def age(path: Path, seconds: float = 10.0) -> None:
    """Push a file's mtime into the past, as if written before the previous run."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def test_second_run_over_1000_files_parses_nothing(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    files = {
        f"{DRIVERS}/driver_{n:04}.py": f"from app.models import m{n % 7}\n\nX = {n}\n"
        for n in range(1000)
    }
    files[f"{DRIVERS}/bad.py"] = "async def f(s):\n    await s.commit()\n"
    write_project(tmp_path, files)
    for path in (tmp_path / DRIVERS).iterdir():
        age(path)
    first = run_cli(["check", "--output-format", "json"])
    assert summary(first)["parsed"] == 1001
    second = run_cli(["check", "--statistics"])
    assert "files: 1001, parsed: 0, cached: 1001" in second.stdout
    assert second.stdout.splitlines()[0].startswith(f"{DRIVERS}/bad.py:2:11: LG201 ")

    changed = tmp_path / DRIVERS / "driver_0007.py"
    changed.write_text("async def g(db):\n    await db.rollback()\n", "utf-8")
    third = run_cli(["check", "--output-format", "json"])
    assert (summary(third)["parsed"], summary(third)["cached"]) == (1, 1000)
    assert sorted(third.findings()) == [
        ("LG201", f"{DRIVERS}/bad.py", 2),
        ("LG201", f"{DRIVERS}/driver_0007.py", 2),
    ]


def test_cache_is_json_keyed_by_content_and_extraction_settings(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": "import os\n", f"{DRIVERS}/b.py": "import os\n"})
    run_cli(["check"])
    [cache_file] = (tmp_path / ".layerguard_cache").glob("facts-*.json")
    data = json.loads(cache_file.read_text("utf-8"))
    assert len(data["entries"]) == 1  # two files, one content
    assert (tmp_path / ".layerguard_cache" / ".gitignore").read_text("utf-8").endswith("*\n")

    # A change to the layers does not touch extraction: the cache stays valid.
    config = tmp_path / "layerguard.yaml"
    config.write_text(HOC_CONTRACT.replace("name: Drivers", "name: Data drivers"), "utf-8")
    assert summary(run_cli(["check", "--output-format", "json"]))["parsed"] == 0
    # A new session factory changes what extraction finds: everything is parsed again.
    config.write_text(
        HOC_CONTRACT.replace(
            "  session_creators: []\n",
            "  session_creators: []\n  session_factories: [make_session]\n",
        ),
        "utf-8",
    )
    assert summary(run_cli(["check", "--output-format", "json"]))["parsed"] == 2


def test_a_corrupt_cache_is_ignored_and_repaired(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": "async def f(s):\n    await s.commit()\n"})
    run_cli(["check"])
    [cache_file] = (tmp_path / ".layerguard_cache").glob("facts-*.json")
    cache_file.write_text("{not json", "utf-8")
    run = run_cli(["check", "--output-format", "json"])
    assert run.findings() == [("LG201", f"{DRIVERS}/a.py", 2)]
    assert summary(run)["parsed"] == 1
    json.loads(cache_file.read_text("utf-8"))


def test_no_cache_neither_reads_nor_writes(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": "import os\n"})
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert summary(run)["parsed"] == 1
    assert not (tmp_path / ".layerguard_cache").exists()


def test_unwritable_cache_warns_and_still_checks(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, {f"{DRIVERS}/a.py": "async def f(s):\n    await s.commit()\n"})
    (tmp_path / ".layerguard_cache").write_text("a file where the directory should be", "utf-8")
    run = run_cli(["check"])
    assert run.exit_code == 1
    assert "could not write .layerguard_cache/" in run.stderr
