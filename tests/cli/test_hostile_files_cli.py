"""Issue 11, items 2, 9 and 10: special files, huge files, links out of the tree and link
loops, through the real command line.

Every run is a process of its own, bounded in time and in memory (2 GiB: the defects took
13 GB in 20 s, or hung), so that a regression fails the test instead of the machine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import Run, run_process, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
HERE = "backend/app/hoc/api/cus/policies"
LG101 = ("LG101", ROUTE, 1)
BOUNDED = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))"
CARDS = 'cards:\n  paths: ["literature/**/*.md"]\n'


def project(root: Path) -> Path:
    return write_project(
        root,
        {
            ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",
            ENGINE: "def evaluate():\n    return 1\n",
        },
    )


def check(root: Path, *args: str) -> Run:
    return run_process(["check", "--output-format", "json", *args], root, 30, BOUNDED)


def findings(run: Run) -> list[tuple[str, str, int]]:
    return run.findings()


def messages(run: Run, path: str) -> list[str]:
    return [f["message"] for f in run.report["findings"] if f["path"] == path]


def test_a_fifo_is_reported_not_waited_for(tmp_path: Path) -> None:
    root = project(tmp_path)
    os.mkfifo(root / HERE / "x.py")
    run = check(root)
    assert run.exit_code == 1, run.stderr
    assert findings(run) == [LG101, ("LG001", f"{HERE}/x.py", 1)]
    assert messages(run, f"{HERE}/x.py") == [
        "not read: a FIFO, not a regular file; fix or remove it, or exclude it (`exclude` in "
        "layerguard.yaml)"
    ]


def test_a_link_to_dev_zero_is_not_followed(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / HERE / "x.py").symlink_to("/dev/zero")
    run = check(root)
    assert run.exit_code == 1, run.stderr
    assert findings(run) == [LG101]
    assert run.report["summary"]["files"] == 2
    assert run.stderr == (
        f"layerguard: warning: {HERE}/x.py: not followed: a symbolic link to /dev/zero, "
        "outside the project (remove the link, or `exclude` it)\n"
    )


def test_a_huge_file_is_too_large(tmp_path: Path) -> None:
    """A real 20 MB file took 137 s and 9.6 GB."""
    root = project(tmp_path)
    (root / HERE / "huge.py").write_bytes(b"x = 1\n" * (20_000_000 // 6))
    run = check(root)
    assert run.exit_code == 1, run.stderr
    assert findings(run) == [("LG001", f"{HERE}/huge.py", 1), LG101]
    assert messages(run, f"{HERE}/huge.py") == [
        "too large to analyse (19,532 KB; `max_file_size_kb` is 1,024); exclude it (`exclude` "
        "in layerguard.yaml), or raise `max_file_size_kb`"
    ]


def test_the_size_limit_is_configurable_and_overridable(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / HERE / "big.py").write_text("x = 1\n" * 1000)  # 6,000 bytes
    assert findings(check(root)) == [LG101]
    tight = (root / "layerguard.yaml").read_text() + "max_file_size_kb: 5\n"
    (root / "layerguard.yaml").write_text(tight)
    run = check(root)
    assert findings(run) == [("LG001", f"{HERE}/big.py", 1), LG101]
    assert messages(run, f"{HERE}/big.py")[0].startswith(
        "too large to analyse (6 KB; `max_file_size_kb` is 5)"
    )
    assert findings(check(root, "--max-file-size-kb", "6")) == [LG101]


def test_cards_too_large_or_special_are_reported(tmp_path: Path) -> None:
    root = project(tmp_path)
    config = (root / "layerguard.yaml").read_text() + "max_file_size_kb: 1\n"
    (root / "layerguard.yaml").write_text(config)
    (root / "literature").mkdir()
    (root / "literature/big.md").write_text("# big\n" + "x" * 2000)
    os.mkfifo(root / "literature/fifo.md")
    run = check(root)
    lg002 = sorted(
        (f["path"], f["message"]) for f in run.report["findings"] if f["code"] == "LG002"
    )
    assert lg002 == [
        (
            "literature/big.md",
            "not read: too large (2 KB; `max_file_size_kb` is 1); narrow `cards.paths` or "
            "raise `max_file_size_kb`",
        ),
        ("literature/fifo.md", "not read: a FIFO, not a regular file; fix or remove it"),
    ]


def test_links_out_of_the_tree_are_skipped_and_said_once(tmp_path: Path) -> None:
    """A file link to /etc/passwd was read and parsed; a card linked to it was read too."""
    root = project(tmp_path)
    (root / HERE / "outside.py").symlink_to("/etc/passwd")
    (root / "literature").mkdir()
    (root / "literature/passwd.md").symlink_to("/etc/passwd")
    (root / "backend/app/shared").symlink_to(tmp_path.parent)
    (root / HERE / "inside.py").symlink_to(root / ENGINE)  # inside: read like any file
    run = check(root)
    assert run.exit_code == 1, run.stderr
    assert findings(run) == [LG101]
    assert run.report["summary"] == {**run.report["summary"], "files": 3, "cards": 0}
    skipped = "outside the project (remove the link, or `exclude` it)"
    assert run.stderr.splitlines() == [
        f"layerguard: warning: {HERE}/outside.py: not followed: a symbolic link to "
        f"/etc/passwd, {skipped}",
        f"layerguard: warning: backend/app/shared/: not followed: a symbolic link to "
        f"{tmp_path.parent}, {skipped}",
        f"layerguard: warning: literature/passwd.md: not followed: a symbolic link to "
        f"/etc/passwd, {skipped}",
    ]


def test_a_link_loop_says_so(tmp_path: Path) -> None:
    """It said "No such file or directory"."""
    root = project(tmp_path)
    (root / HERE / "a.py").symlink_to("b.py")
    (root / HERE / "b.py").symlink_to("a.py")
    (root / HERE / "c.py").symlink_to("gone.py")
    run = check(root)
    assert run.exit_code == 1, run.stderr
    fix = "; fix or remove it, or exclude it (`exclude` in layerguard.yaml)"
    assert messages(run, f"{HERE}/a.py") == [
        f"not read: a symbolic link loop: a.py -> b.py -> a.py{fix}"
    ]
    assert messages(run, f"{HERE}/c.py") == [
        f"not read: a symbolic link to a missing file: c.py -> gone.py{fix}"
    ]


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "directory"])
def test_a_config_that_is_no_regular_file_is_a_usage_error(tmp_path: Path, special: str) -> None:
    root = project(tmp_path)
    if special == "fifo":
        os.mkfifo(root / "special.yaml")
        special = "special.yaml"
    elif special == "directory":
        (root / "special.yaml").mkdir()
        special = "special.yaml"
    run = run_process(["check", "--config", special], root, 30, BOUNDED)
    assert run.exit_code == 2
    kind = {"/dev/zero": "a character device", "special.yaml": "a FIFO"}.get(special)
    if (root / special).is_dir():
        kind = None  # click refuses a directory for --config itself
        assert "is a directory" in run.stderr
    if kind is not None:
        assert run.stderr == (
            f"{special}: LG003 cannot read: {kind}, not a regular file; replace or remove it, or "
            "pass --config FILE.\n"
        )


def test_a_directory_named_like_the_contract_is_not_passed_over(tmp_path: Path) -> None:
    """It was skipped silently and the parent's contract used."""
    root = project(tmp_path)
    (root / "backend/layerguard.yaml").mkdir()
    run = run_process(["check"], root / "backend", 30, BOUNDED)
    assert run.exit_code == 2
    assert run.stderr == (
        f"{root}/backend/layerguard.yaml: LG003 cannot read: a directory, not a regular file; "
        "replace or remove it, or pass --config FILE.\n"
    )


def test_jobs_beyond_the_cores_are_capped_and_said(tmp_path: Path) -> None:
    root = project(tmp_path)
    run = check(root, "--jobs", "100000")
    assert run.exit_code == 1
    cores = len(os.sched_getaffinity(0))
    assert run.stderr == (
        f"layerguard: warning: --jobs 100000: using {cores}, one process per core available\n"
    )
    assert json.loads(run.stdout)["summary"]["jobs"] == cores


def test_files_not_read_get_no_missing_card_and_are_counted_apart(tmp_path: Path) -> None:
    """LG001 says a file was not read; LG302 said again that it had no card (whether it has
    anything to describe is not known). The summary counted such files as cached."""
    root = project(tmp_path)
    engines = 'paths: ["backend/app/hoc/cus/{domain}/L5_*/**"]\n'
    config = (root / "layerguard.yaml").read_text()
    assert engines in config
    config = config.replace(engines, engines + "    requires_cards: true\n")
    (root / "layerguard.yaml").write_text(config + "max_file_size_kb: 1\n")
    (root / ENGINE).write_text("")  # nothing to describe: no card needed
    engines_dir = root / ENGINE.rpartition("/")[0]
    (engines_dir / "big.py").write_text("x = 1\n" * 200)  # 1,200 bytes
    os.mkfifo(engines_dir / "fifo.py")
    (engines_dir / "small.py").write_text("def f():\n    return 1\n")
    big, fifo, small = (
        f"{engines_dir.relative_to(root).as_posix()}/{n}.py" for n in ("big", "fifo", "small")
    )
    expected = [LG101, ("LG001", big, 1), ("LG001", fifo, 1), ("LG302", small, 1)]
    for _ in range(2):  # parsed, then answered by the results cache
        run = check(root)
        assert findings(run) == expected
        summary = run.report["summary"]
        assert (summary["files"], summary["not_read"]) == (5, 2)
        assert summary["parsed"] + summary["cached"] == 3
    text = run_process(["check", "--statistics"], root, 30, BOUNDED)
    assert "files: 5, parsed: 0, cached: 3, not read: 2, cards: 0" in text.stdout
    assert text.stdout.splitlines()[-1].startswith(
        "Found 4 findings in 5 files and 0 cards (0 parsed, 3 cached, 2 not read) in "
    )


LOOP_FIX = "fix or remove it, or exclude it (`exclude` in layerguard.yaml)"
SELF_LOOP = (
    f"layerguard: warning: backend/app/self: not followed: a symbolic link loop: self -> self; "
    f"{LOOP_FIX}"
)
EVERY_COMMAND = [
    (["check"], 1),
    (["operations"], 0),
    (["layers"], 0),
    (["graph"], 0),
    (["baseline", "create"], 0),
    (["cards", "generate", "--out", "cards"], 0),
]


def loop_warnings(run: Run) -> list[str]:
    assert "Traceback" not in run.stderr, run.stderr
    return [line for line in run.stderr.splitlines() if "symbolic link loop" in line]


@pytest.mark.parametrize(
    ("command", "exit_code"),
    EVERY_COMMAND,
    ids=lambda c: " ".join(c) if isinstance(c, list) else str(c),
)
def test_a_link_loop_not_named_py_is_said_and_the_run_goes_on(
    tmp_path: Path, command: list[str], exit_code: int
) -> None:
    """`ln -s self app/self` crashed every command with OSError ELOOP (exit 1)."""
    root = project(tmp_path)
    (root / "backend/app/self").symlink_to("self")
    run = run_process(command, root, 30, BOUNDED)
    assert loop_warnings(run) == [SELF_LOOP]
    assert run.exit_code == exit_code, run.stderr


def test_a_link_loop_is_said_by_init_too(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "layerguard.yaml").unlink()
    (root / "backend/app/loop1").symlink_to("loop2")
    (root / "backend/app/loop2").symlink_to("loop1")
    run = run_process(["init", "--preset", "hoc"], root, 30, BOUNDED)
    assert run.exit_code == 0, run.stderr
    # Said once each, though init reads the tree for its listing and again for its check.
    assert sorted(loop_warnings(run)) == [
        "layerguard: warning: backend/app/loop1: not followed: a symbolic link loop: "
        f"loop1 -> loop2 -> loop1; {LOOP_FIX}",
        "layerguard: warning: backend/app/loop2: not followed: a symbolic link loop: "
        f"loop2 -> loop1 -> loop2; {LOOP_FIX}",
    ]
    assert (root / "layerguard.yaml").is_file()


def test_an_excluded_link_loop_is_not_said(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "backend/app/self").symlink_to("self")
    config = (root / "layerguard.yaml").read_text()
    (root / "layerguard.yaml").write_text(
        config.replace("exclude:\n", 'exclude:\n  - "**/self"\n', 1)
    )
    run = check(root)
    assert (run.exit_code, findings(run), run.stderr) == (1, [LG101], "")


def test_a_link_loop_given_as_a_path_is_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "backend/app/self").symlink_to("self")
    run = check(root, "backend/app/self")
    assert run.exit_code == 2, run.stderr
    assert "'backend/app/self' is a symbolic link loop" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_link_with_a_name_too_long_is_said(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "backend/app/long").symlink_to("a" * 300)
    run = check(root)
    assert (run.exit_code, findings(run)) == (1, [LG101]), run.stderr
    assert run.stderr == (
        f"layerguard: warning: backend/app/long: not followed: File name too long; {LOOP_FIX}\n"
    )


def test_a_directory_too_deep_to_list_is_said(tmp_path: Path) -> None:
    """A path beyond PATH_MAX cannot be listed (ENAMETOOLONG): said, never a traceback."""
    root = project(tmp_path)
    name = "d" * 250
    fd = os.open(root / "backend/app", os.O_RDONLY)
    try:
        for _ in range(20):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    run = check(root)
    assert (run.exit_code, findings(run)) == (1, [LG101]), run.stderr
    [warning] = run.stderr.splitlines()
    assert warning.startswith(f"layerguard: warning: backend/app/{name}/")
    assert warning.endswith(
        f"/: not read: the directory cannot be listed (File name too long); {LOOP_FIX}"
    )


def test_a_directory_that_cannot_be_listed_is_said(tmp_path: Path) -> None:
    """A directory without read permission was passed over silently (its files unchecked).
    The refusal is planted: the tests may run as root, whom permissions do not stop."""
    root = project(tmp_path)
    (root / "backend/app/locked").mkdir()
    (root / "backend/app/locked/m.py").write_text("x = 1\n")
    refuse = (
        "import errno, os\n"
        "scandir = os.scandir\n"
        "def refusing(path='.'):\n"
        "    if str(path).endswith('/locked'):\n"
        "        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)\n"
        "    return scandir(path)\n"
        "os.scandir = refusing\n"
    )
    run = run_process(["check", "--output-format", "json"], root, 30, f"{BOUNDED}\n{refuse}")
    assert (run.exit_code, findings(run)) == (1, [LG101]), run.stderr
    assert run.stderr == (
        "layerguard: warning: backend/app/locked/: not read: the directory cannot be listed "
        f"(Permission denied); {LOOP_FIX}\n"
    )
