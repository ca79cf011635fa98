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


# --- item 10: `migrate import-linter` on an interpolation bomb, a huge list, a long line -----

SHOP = {"shop/__init__.py": "", "shop/api.py": "from shop import db\n", "shop/db.py": ""}


def importlinter_project(root: Path, name: str, text: str) -> Path:
    return write_project(root, {**SHOP, name: text}, config=None)


def test_an_interpolation_bomb_is_refused_with_its_line(tmp_path: Path) -> None:
    """Each option names the one before ten times: configparser expands 10**10 characters
    (import-linter itself hangs on the file); the migration ran past 60 s, memory rising."""
    options = "".join(f"a{i} = {' '.join([f'%(a{i - 1})s'] * 10)}\n" for i in range(1, 10))
    root = importlinter_project(
        tmp_path,
        ".importlinter",
        "[importlinter]\nroot_packages = shop\na0 = xxxxxxxxxx\n"  # 1-3
        + options  # 4-12
        + "[importlinter:contract:one]\nname = One\ntype = forbidden\n"
        "source_modules = shop.api\nforbidden_modules = %(a9)s\n",
    )
    run = layerguard(root, "migrate", "import-linter")
    assert run.exit_code == 2, run.stderr
    assert run.stderr == (
        ".importlinter:8: option 'a5': its %(name)s references expand beyond 1,000,000 "
        "characters; write the values out\n"
    )
    assert not (root / "layerguard.yaml").exists()


def test_interpolation_still_reads_as_import_linter_reads_it(tmp_path: Path) -> None:
    root = importlinter_project(
        tmp_path,
        ".importlinter",
        "[importlinter]\nroot_packages = shop\n\n"
        "[importlinter:contract:one]\nname = No %(type)s import (100%% sure)\n"
        "type = forbidden\nsource_modules = shop.api\nforbidden_modules = shop.db\n",
    )
    run = layerguard(root, "migrate", "import-linter", "--stdout")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "contracts:\n  - id: one\n"
        '    name: "No forbidden import (100% sure)"\n'
        "    type: forbidden\n"
        "    source_modules:\n      - shop.api\n"
        "    forbidden_modules:\n      - shop.db\n"
    )


def test_a_list_of_a_million_values_is_refused_at_once(tmp_path: Path) -> None:
    """`layers = [1,1,…]` (1.5 million items, 3 MB) ran past 60 s: each item's line was
    searched for from the option's line on."""
    root = importlinter_project(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "shop"\n\n[tool.importlinter]\nroot_packages = ["shop"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "L"\ntype = "layers"\n'
        "layers = [" + "1," * 1_500_000 + "]\n",
    )
    run = layerguard(root, "migrate", "import-linter")
    assert run.exit_code == 2, run.stderr
    assert run.stderr == (
        "pyproject.toml:4: more than 100,000 values: no contract that large can be loaded (a "
        "configuration has a few hundred)\n"
    )


def test_every_toml_value_has_its_line_and_comment(tmp_path: Path) -> None:
    """Values are placed by the TOML scanner, not searched for as quoted text: unquoted ones
    and repeated ones get their own line too."""
    root = importlinter_project(
        tmp_path,
        "pyproject.toml",
        '[tool.importlinter]\nroot_packages = ["shop"]\n\n'  # 1-3
        '[[tool.importlinter.contracts]]\nname = "L"\ntype = "layers"\n'  # 4-6
        'layers = ["shop.api", "shop.db"]\n'  # 7
        "ignore_imports = [\n"  # 8
        '    "shop.api -> shop.db",\n'  # 9
        "    # Again, for the tests (line 11).\n"  # 10
        '    "shop.api -> shop.db",\n'  # 11
        "]\n",
    )
    run = layerguard(root, "migrate", "import-linter", "--stdout")
    assert run.exit_code == 0, run.stderr
    assert "reason: carried over from import-linter ('L', line 9)" in run.stdout
    assert "reason: Again, for the tests (line 11)." in run.stdout


def test_an_ini_line_of_a_million_spaces_is_read_in_linear_time(tmp_path: Path) -> None:
    """configparser's own option pattern retried the blanks at every character: 100,000
    spaces took a minute."""
    root = importlinter_project(
        tmp_path,
        ".importlinter",
        "[importlinter]\nroot_packages = shop\n"
        f"x{' ' * 1_000_000}y\n"  # 3: no `=`: not an option
        "[importlinter:contract:one]\nname = One\ntype = forbidden\n"
        "source_modules = shop.api\nforbidden_modules = shop.db\n",
    )
    run = layerguard(root, "migrate", "import-linter")
    assert run.exit_code == 2, run.stderr
    assert run.stderr == ".importlinter:3: not a valid INI file: cannot parse this line\n"
    spaced = importlinter_project(
        tmp_path / "spaced",
        ".importlinter",
        f"[importlinter]\nroot_packages{' ' * 1_000_000}= shop\n"
        "[importlinter:contract:one]\nname = One\ntype = forbidden\n"
        "source_modules = shop.api\nforbidden_modules = shop.db\n",
    )
    run = layerguard(spaced, "migrate", "import-linter", "--stdout")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "contracts:\n  - id: one\n    name: One\n    type: forbidden\n"
        "    source_modules:\n      - shop.api\n    forbidden_modules:\n      - shop.db\n"
    )


# --- item 11: globs that backtracked exponentially; thousands of layers ----------------------


def test_globs_with_many_stars_match_in_polynomial_time(tmp_path: Path) -> None:
    """`**/a/` 24 times then `zzz`, against a file 33 directories deep, ran past 60 s: the
    regex tried every way of sharing the directories among the `**`s. `*a*a…*b` within one
    name did the same with its `*`s."""
    root = project(tmp_path)
    config = root / "layerguard.yaml"
    deep_star = "**/a/" * 24 + "zzz"
    many_stars = "*a" * 11 + "*b"
    text = config.read_text(encoding="utf-8").replace(
        'exclude:\n  - "**/migrations/**"\n',
        f'exclude:\n  - "{deep_star}"\n  - "**/{many_stars}"\n  - "**/migrations/**"\n',
    )
    config.write_text(text, encoding="utf-8")
    engines = Path(ENGINE).parent
    deep = engines / ("a/" * 33) / "deep.py"
    long_name = engines / ("a" * 80 + ".py")
    for path in (deep, long_name):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("import sqlalchemy\n", encoding="utf-8")
    run = layerguard(root, "check", "--no-cache", "--output-format", "json")
    assert run.exit_code == 1, run.stderr
    assert run.findings() == [LG101]
    assert run.report["summary"] == {**run.report["summary"], "files": 4}
    excluded = root / engines / ("a" * 80 + "b")  # the long name glob matches this directory
    excluded.mkdir()
    (excluded / "x.py").write_text("import sqlalchemy\n", encoding="utf-8")
    again = layerguard(root, "check", "--no-cache", "--output-format", "json")
    assert again.report["summary"]["files"] == 4


def layers_contract(count: int, glob: str) -> str:
    return "version: 1\nlayers:\n" + "".join(
        f'  - id: l{i}\n    name: L{i}\n    paths: ["{glob.format(i=i)}"]\n' for i in range(count)
    )


def test_four_thousand_layers_in_their_own_directories_load_at_once(tmp_path: Path) -> None:
    """2,000 layers took 28 s to load and 4,000 ran past 60 s: every pair was searched for
    a shared file. Layers whose leading directories differ are no longer compared."""
    root = write_project(tmp_path, {"app/l0/a.py": "x = 1\n"}, layers_contract(4000, "app/l{i}/**"))
    run = layerguard(root, "check", "--no-cache", "--output-format", "json")
    assert run.exit_code == 1, run.stderr
    assert run.findings("LG004") == [
        ("LG004", "layerguard.yaml", 3 * i + 3) for i in range(1, 4000)
    ]


def test_the_overlap_search_stops_after_20000_pairs(tmp_path: Path) -> None:
    """500 layers that all match anywhere (`**/x7/**`) all overlap: 124,750 pairs, each with a
    witness to find. The search stops after 20,000 (the real files are still checked)."""
    root = write_project(tmp_path, {"app/x0/a.py": "x = 1\n"}, layers_contract(500, "**/x{i}/**"))
    run = layerguard(root, "check", "--no-cache")
    assert run.exit_code == 2, run.stderr
    problems = run.stderr.splitlines()
    assert len(problems) == 20_000
    assert problems[0] == (
        f"{root / 'layerguard.yaml'}:8: LG003 layers[1].paths[0]: layer 'l1' overlaps layer 'l0' "
        "(paths[0] '**/x0/**'): both claim 'x1/x0/x.py'; carve one out with 'exclude' or narrow "
        "a placeholder."
    )


def test_a_stopped_overlap_search_is_said(tmp_path: Path) -> None:
    """201 layers that may each meet every other (`**/xN/*.py`, which never do) spend the
    search's budget; two later layers that do overlap (`src/app/core/**` in `src/app/**`) were
    then never compared and nothing said so."""
    contract = layers_contract(201, "**/x{i}/*.py") + (
        '  - id: a\n    name: A\n    paths: ["src/app/core/**"]\n'
        '  - id: b\n    name: B\n    paths: ["src/app/**"]\n'
    )
    root = write_project(tmp_path, {"src/app/__init__.py": ""}, contract)
    run = layerguard(root, "check", "--no-cache", "--output-format", "json")
    assert run.exit_code == 1, run.stderr
    assert run.stderr == (
        f"layerguard: warning: {root / 'layerguard.yaml'}: the search for overlapping layers "
        "stopped after 20,000 pairs of layers that may meet; from layer 'l200' on, layers were "
        "not compared with each other (a file two layers both claim is still reported). Globs "
        "that start with a directory (`src/app/x/**` rather than `**/x/**`) let every pair be "
        "compared.\n"
    )
    (root / "src/app/core").mkdir()
    (root / "src/app/core/m.py").write_text("x = 1\n", encoding="utf-8")
    shared = layerguard(root, "check", "--no-cache")
    assert shared.exit_code == 2
    assert "belongs to both layer 'a' and layer 'b'" in shared.stderr, shared.stderr


# --- item 13: text from the input reached the terminal unescaped ----------------------------

HOSTILE = "x\x1b]0;pwned\x07 \u202e y \x85 z"  # sets the terminal title; reverses; a line break
SHOWN = "x\\x1b]0;pwned\\x07 \\u202e y \\x85 z"
RAW = ("\x1b", "\x07", "\u202e", "\x85")


def hostile_project(root: Path) -> Path:
    root = project(root)
    config = root / "layerguard.yaml"
    text = config.read_text(encoding="utf-8")
    name = HOSTILE.replace("\x1b", "\\e").replace("\x07", "\\a").replace("\x85", "\\x85")
    config.write_text(text.replace("name: API routes", f'name: "{name}"', 1), encoding="utf-8")
    card = root / "literature/policy_engine.md"
    card.parent.mkdir()
    card.write_text(f"# policy_engine.py\n**Path:** `{ENGINE}`\n**Component:** {HOSTILE}\n")
    return root


def unescaped(text: str) -> list[str]:
    return [char for char in RAW if char in text]


def test_cards_parse_escapes_the_card_in_text_and_json(tmp_path: Path) -> None:
    root = hostile_project(tmp_path)
    card = "literature/policy_engine.md"
    text = layerguard(root, "cards", "parse", card)
    assert text.exit_code == 0, text.stderr
    assert f"  component: {SHOWN} (line 3)" in text.stdout.splitlines()
    assert unescaped(text.stdout) == []
    as_json = layerguard(root, "cards", "parse", "--output-format", "json", card)
    assert as_json.exit_code == 0, as_json.stderr
    assert as_json.stdout.isascii()  # \u escapes, which JSON reads back as they were
    assert as_json.report["cards"][0]["card"]["component"] == {"value": HOSTILE, "line": 3}


def test_graph_and_layers_escape_layer_names(tmp_path: Path) -> None:
    root = hostile_project(tmp_path)
    graph = layerguard(root, "graph", "--output-format", "text")
    assert graph.exit_code == 0, graph.stderr
    assert graph.stdout.splitlines() == [
        "layers",
        f"L2: {SHOWN} → L5: Domain engines: 1 import, 1 forbidden",
    ]
    assert unescaped(graph.stdout) == []
    layers = layerguard(root, "layers", "--output-format", "json")
    assert layers.exit_code == 0, layers.stderr
    assert layers.stdout.isascii()
    assert layers.report["layers"][0]["name"] == HOSTILE


def test_cards_generate_says_a_file_name_on_one_line(tmp_path: Path) -> None:
    """`cards generate` printed `wrote …evil` and `x.md` on two lines for `evil\\nx.py`."""
    root = project(tmp_path)
    engines = Path(ENGINE).parent
    (root / engines / "evil\nx.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    run = layerguard(root, "cards", "generate", str(engines / "evil\nx.py"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"wrote literature/{engines}/evil\\nx.md",
        "1 card(s) written, 0 kept, 0 not described.",
    ]
    assert (root / "literature" / engines / "evil\nx.md").is_file()
