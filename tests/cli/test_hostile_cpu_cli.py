"""Issue 11, audit a1 items 8 to 13: input that made the linter spin (quadratic regexes and
scans, backtracking globs, an interpolation bomb), a change `--watch` missed, and input text
that reached the terminal unescaped, through the real command line.

The runs that used to take minutes or hang are processes of their own with a timeout (and
the 2 GiB address-space bound of the hostile-files tests), so that a regression fails the
test instead of stalling the suite. The timeouts are generous limits on a hang, not
assertions on speed.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Run, run_process, write_project

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
LG101 = ("LG101", ROUTE, 1)
BOUNDED = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))"
LONG = 200_000


def project(root: Path, extra_config: str = "") -> Path:
    root = write_project(
        root,
        {
            ROUTE: "from app.hoc.cus.policies.L5_engines import policy_engine\n",
            ENGINE: "def evaluate():\n    return 1\n",
        },
    )
    if extra_config:
        config = root / "layerguard.yaml"
        config.write_text(config.read_text(encoding="utf-8") + extra_config, encoding="utf-8")
    return root


def layerguard(root: Path, *args: str, timeout: float = 60) -> Run:
    return run_process(list(args), root, timeout, BOUNDED)


# --- item 8: card lines that made the card regexes quadratic ----------------------------------


def test_card_lines_with_long_runs_of_spaces_parse_in_linear_time(tmp_path: Path) -> None:
    """`## x` + 300,000 spaces + `y` took 226 s (`\\S.*?[ \\t]*` retried at every space); the
    title, header and Transaction lines had the same pattern, and a heading of `(`s without a
    `)` scanned to the end of the line from each of them."""
    root = project(tmp_path)
    blanks = " " * LONG
    card = root / "literature/policy_engine.md"
    card.parent.mkdir()
    card.write_text(
        f"# policy_engine.py{blanks}x\n"
        f"**Path:** `{ENGINE}`{blanks}\n"
        f"## x{blanks}y\n"
        f"## {'(' * LONG}\n"
        "## Placement Card\n"
        "```\n"
        f"Transaction: Forbidden{blanks}- it calls nothing\n"
        "```\n",
        encoding="utf-8",
    )
    parsed = layerguard(root, "cards", "parse", "--output-format", "json", str(card))
    assert parsed.exit_code == 0, parsed.stderr
    [entry] = parsed.report["cards"]
    assert entry["errors"] == []
    data = entry["card"]
    assert data["title"] == {"value": f"policy_engine.py{blanks}x", "line": 1}
    assert data["source_path"] == {"value": ENGINE, "line": 2}
    assert [s["heading"] for s in data["sections"]] == [
        f"x{blanks}y",
        "(" * LONG,
        "Placement Card",
    ]
    transaction = f"Forbidden{blanks}- it calls nothing"
    assert data["placement"] == [{"key": "Transaction", "value": transaction, "line": 7}]

    run = layerguard(root, "check", "--no-cache", "--output-format", "json")
    assert run.exit_code == 1, run.stderr
    assert run.findings() == [LG101]  # the Transaction value is read: `Forbidden`, no LG304
    assert run.report["summary"] == {**run.report["summary"], "files": 2, "cards": 1}


# --- item 9: a TOML key of 50,000 dotted parts; the wording of "too many values" -------------

PYPROJECT = (
    '[project]\nname = "x"\n\n'  # 1-3
    "[tool.layerguard]\n"  # 4
    "version = 1\n"  # 5
    "{extra}"  # 6
    "[[tool.layerguard.layers]]\n"
    'id = "api"\nname = "API"\npaths = ["app/api/**"]\n'
)


def toml_project(root: Path, extra: str = "") -> Path:
    return write_project(
        root,
        {"pyproject.toml": PYPROJECT.format(extra=extra), "app/api/a.py": "x = 1\n"},
        config=None,
    )


def test_a_dotted_key_of_50000_parts_is_refused_before_parsing(tmp_path: Path) -> None:
    """tomllib's time and memory grow with the square of a key's parts: 50,000 parts took
    14.7 GB within 60 s; 8,000 took 400 MB, then said "nested too deeply" without a line."""
    root = toml_project(tmp_path, ".".join(["a"] * 50_000) + " = 1\n")
    run = layerguard(root, "check")
    assert run.exit_code == 2, run.stderr
    assert run.stderr == (
        f"{root / 'pyproject.toml'}:6: LG003 a key of more than 32 dotted parts; layerguard "
        "does not read such a document (a contract's keys have at most five parts).\n"
    )


def test_a_deep_table_header_is_refused_and_32_parts_are_read(tmp_path: Path) -> None:
    deep = toml_project(tmp_path / "deep", "[" + ".".join(["a"] * 20_000) + "]\n")
    run = layerguard(deep, "check")
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith(f"{deep / 'pyproject.toml'}:6: LG003 a key of more than 32 ")
    # Dots in strings are not key parts, and a key of 32 parts is read (and validated).
    dots = ".".join(["a"] * 100)
    fine = toml_project(tmp_path / "fine", f'"{dots}".b = "{dots}"\n')
    fine_run = layerguard(fine, "check")
    assert fine_run.exit_code == 2, fine_run.stderr
    assert "LG003 " + dots + ": unknown key" in fine_run.stderr
    limit = toml_project(
        tmp_path / "limit", "[tool.layerguard.placeholders]\n" + "x." * 29 + "y = 1\n"
    )
    assert "more than 32" not in layerguard(limit, "check").stderr


def test_too_many_values_are_said_in_the_words_of_the_file(tmp_path: Path) -> None:
    """A TOML array of more than 100,000 values was said to expand "through YAML aliases"."""
    toml = toml_project(tmp_path / "toml", "x = [" + "1," * 150_000 + "]\n")
    run = layerguard(toml, "check")
    assert run.exit_code == 2, run.stderr
    assert run.stderr == (
        f"{toml / 'pyproject.toml'}:4: LG003 [tool.layerguard] holds more than 100,000 values; "
        "a contract has a few hundred.\n"
    )
    plain = write_project(tmp_path, {}, "version: 1\nx: [" + "1," * 150_000 + "]\n")
    run = layerguard(plain, "check")
    assert run.exit_code == 2, run.stderr
    assert run.stderr == (
        f"{plain / 'layerguard.yaml'}:1: LG003 the file holds more than 100,000 values; a "
        "contract has a few hundred.\n"
    )
    laughs = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n"
        for a, b in zip("abcdef", "bcdefg", strict=True)
    )
    (tmp_path / "bomb").mkdir()
    bomb = write_project(tmp_path / "bomb", {}, laughs)
    run = layerguard(bomb, "check")
    assert run.exit_code == 2, run.stderr
    assert run.stderr == (
        f"{bomb / 'layerguard.yaml'}:1: LG003 the file expands to more than 100,000 values "
        "through YAML aliases; write the contract out without them.\n"
    )
