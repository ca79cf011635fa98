"""`layerguard cards generate` and `layerguard cards sync` through the real CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.contracts.cards.model import CardParseResult
from layerguard.contracts.cards.parser import parse_card
from tests.helpers import HOC_CONTRACT, Run, write_project
from tests.linter.test_card_rules import DATA, HANDLER, REGISTRY, ROUTE, SPINE

ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
MODEL = "backend/app/models/policy.py"
SCRIPT = "backend/scripts/backfill.py"


def card_of(source: str) -> str:
    """The naming scheme: the source path mirrored under literature/, .py -> .md."""
    return "literature/" + source.removesuffix(".py") + ".md"


PROJECT = {
    REGISTRY: (DATA / "operation_registry.py").read_text("utf-8"),
    f"{SPINE}/services/time.py": "def utc_now():\n    return 0\n",
    f"{SPINE}/authority/runtime_switch.py": "def is_governance_active():\n    return True\n",
    "backend/app/db.py": "async def get_async_session():\n    yield None\n",
    ROUTE: """\
from app.hoc.cus.hoc_spine.orchestrator.operation_registry import get_operation_registry


async def overview(ctx):
    return await get_operation_registry().execute("overview.query", ctx)
""",
    HANDLER: '''\
"""Overview operations."""

from app.hoc.cus.hoc_spine.orchestrator.operation_registry import (
    OperationHandler,
    get_operation_registry,
)


class OverviewQueryHandler(OperationHandler):
    """Answers overview.query."""

    async def execute(self, ctx):
        from app.hoc.cus.policies.L5_engines.policy_engine import evaluate

        return evaluate(ctx)


registry = get_operation_registry()
registry.register("overview.query", OverviewQueryHandler())
''',
    ENGINE: '''\
"""Evaluates policies.

## Not a section

```
not a code block in the card
```
"""

from app.hoc.cus.policies.L6_drivers.policy_driver import PolicyDriver
from app.models.policy import Policy


def evaluate(ctx, mode: str = "strict") -> bool:
    """Evaluate.

    # not a heading either
    """
    return True
''',
    DRIVER: """\
class PolicyDriver:
    async def save(self, session, row):
        session.add(row)
        await session.flush()
""",
    MODEL: "class Policy:\n    pass\n",
    "backend/app/hoc/cus/policies/L5_engines/__init__.py": "",
    SCRIPT: "import sqlalchemy\n",
}
LAYERED = [REGISTRY, f"{SPINE}/services/time.py", f"{SPINE}/authority/runtime_switch.py"]
LAYERED += [ROUTE, HANDLER, ENGINE, DRIVER, MODEL]


def words(text: str) -> str:
    """Usage errors as words, however the installed click/rich frames and wraps them."""
    return " ".join(text.replace("│", " ").split())


def cards(run_cli: Callable[..., Run], *args: str) -> Run:
    return run_cli(["cards", *args])


def test_generate_then_check_then_an_import_change_then_sync(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, PROJECT)
    generated = cards(run_cli, "generate")
    assert generated.exit_code == 0, generated.stderr
    written = sorted(
        p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("literature/**/*.md")
    )
    assert written == sorted(card_of(path) for path in LAYERED)  # no empty __init__, no script
    assert generated.stdout.splitlines()[-1] == "8 card(s) written, 0 kept, 0 not described."

    assert cards(run_cli, "sync", "--check").exit_code == 0
    check = run_cli(["check", "--output-format", "json", "--select", "LG3,LG104"])
    assert check.findings() == []  # what generation writes is what the rules expect

    # A person completes the card: a section of their own, and a note in the Purpose.
    card = tmp_path / card_of(REGISTRY)
    text = card.read_text("utf-8")
    hand = text.replace(
        "## Export Contract",
        "## Decisions\n\nWe keep one registry per process.\n\n## Export Contract",
    ).replace("## Import Analysis", "Reviewed by the platform team.\n\n## Import Analysis")
    card.write_text(hand, encoding="utf-8")
    assert cards(run_cli, "sync", "--check").exit_code == 0

    # One import changes in the code.
    source = tmp_path / REGISTRY
    source.write_text(
        source.read_text("utf-8").replace(
            "from sqlalchemy.ext.asyncio import AsyncSession", "from sqlalchemy.orm import Session"
        ),
        encoding="utf-8",
    )
    stale = cards(run_cli, "sync", "--check")
    assert stale.exit_code == 1
    out = stale.stdout.splitlines()
    assert out[0] == (
        f"{card_of(REGISTRY)}: out of date: actual_imports (added `sqlalchemy.orm`; removed "
        "`sqlalchemy.ext.asyncio`)"
    )
    assert "-    external: ['sqlalchemy.ext.asyncio']" in out
    assert "+    external: ['sqlalchemy.orm']" in out
    assert card.read_text("utf-8") == hand  # --check writes nothing

    synced = cards(run_cli, "sync")
    assert synced.exit_code == 0
    assert synced.stdout.splitlines()[0].startswith(f"synced {card_of(REGISTRY)}: actual_imports")
    after = card.read_text("utf-8")
    # Exactly one line changed: every hand-written byte is where it was.
    assert after == hand.replace(
        "    external: ['sqlalchemy.ext.asyncio']", "    external: ['sqlalchemy.orm']"
    )
    assert cards(run_cli, "sync", "--check").exit_code == 0


def test_generated_cards_describe_the_code(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    write_project(tmp_path, PROJECT)
    cards(run_cli, "generate")
    engine = (tmp_path / card_of(ENGINE)).read_text("utf-8")
    # Docstring lines that would be structure are escaped; the parser sees no extra section.
    assert "\\## Not a section\n\n\\```\n" in engine
    assert "\n\\# not a heading either\n" in engine
    result = parse_card(engine, "engine.md")
    assert result.errors == ()
    assert result.card is not None
    assert [s.heading for s in result.card.sections] == [
        "Placement Card",
        "Purpose",
        "Import Analysis",
        "Transaction Boundary",
        "Functions",
        "Classes",
        "Domain Usage",
        "Export Contract",
        "Import Boundary",
        "L5 Pairing Declaration",
    ]
    handler = parse_card((tmp_path / card_of(HANDLER)).read_text("utf-8"), "h.md").card
    assert handler is not None
    assert handler.pairing is not None
    assert [o.value for o in handler.pairing.orchestrator_operations] == ["overview.query"]
    assert [d.value for d in handler.pairing.serves_domains] == ["policies"]
    assert handler.placement_field("Transaction") is not None
    driver = parse_card((tmp_path / card_of(DRIVER)).read_text("utf-8"), "d.md").card
    assert driver is not None
    transaction = driver.placement_field("Transaction")
    assert transaction is not None
    assert transaction.value == "Flush only"
    text = (tmp_path / card_of(HANDLER)).read_text("utf-8")
    assert "**Inside functions** (not in `actual_imports`):\n" in text
    assert (
        "- `app.hoc.cus.policies.L5_engines.policy_engine` (in `OverviewQueryHandler.execute`)\n"
        in text
    )


def test_existing_cards_are_kept_unless_forced(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    hand = f"# mine\n\n**Path:** `{ENGINE}`\n\nWritten by hand.\n"
    write_project(tmp_path, {**PROJECT, "literature/policies/engine.md": hand})
    run = cards(run_cli, "generate", ENGINE)
    assert run.exit_code == 0
    assert run.stdout.splitlines() == [
        "kept literature/policies/engine.md: it exists (`cards sync` updates it; --force "
        "overwrites)",
        "0 card(s) written, 1 kept, 0 not described.",
    ]
    assert (tmp_path / "literature/policies/engine.md").read_text("utf-8") == hand
    forced = cards(run_cli, "generate", "--force", ENGINE)
    assert forced.stdout.splitlines()[0] == "wrote literature/policies/engine.md"  # in place
    assert not (tmp_path / card_of(ENGINE)).exists()
    assert "## Export Contract" in (tmp_path / "literature/policies/engine.md").read_text("utf-8")


def test_out_directory_and_cards_outside_cards_paths(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, PROJECT)
    run = cards(run_cli, "generate", "--out", "docs/cards", "backend/app/models")
    assert run.exit_code == 0
    assert run.stdout.splitlines()[0] == "wrote docs/cards/backend/app/models/policy.md"
    assert "outside `cards.paths` (literature/**/*.md)" in run.stderr
    assert "`layerguard check` will not read them" in run.stderr


def test_usage_errors_and_files_that_do_not_parse(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    config = HOC_CONTRACT[: HOC_CONTRACT.index("\ncards:\n")]
    write_project(tmp_path, {**PROJECT, DRIVER: "def broken(:\n"}, config)
    no_dir = cards(run_cli, "generate")
    assert no_dir.exit_code == 2
    assert "no `cards.paths`: say where cards go with --out DIR" in words(no_dir.stderr)
    nothing = cards(run_cli, "generate", "--out", "literature", "backend/scripts/../../docs")
    assert nothing.exit_code == 2
    outside = cards(run_cli, "generate", "--out", str(tmp_path.parent / "elsewhere"))
    assert outside.exit_code == 2
    assert "is outside the project" in words(outside.stderr)
    assert not (tmp_path.parent / "elsewhere").exists()
    broken = cards(run_cli, "generate", "--out", "literature", DRIVER)
    assert broken.exit_code == 1
    assert f"{DRIVER}: not described: it does not parse (see LG001)" in broken.stderr


SYNC_SOURCE = '''\
"""Drivers."""

from sqlalchemy import select


class PolicyDriver:
    def load(self, session):
        return session.execute(select(1))

    def store(self, session, row):
        session.add(row)


class Loader:
    def run(self):
        pass


def helper(x: int = 1) -> int:
    return x
'''
SYNC_CARD = """\
# policy_driver.py\r
\r
**Path:** `backend/app/hoc/cus/policies/L6_drivers/policy_driver.py`\r
**Layer:** L6 — Drivers\r
\r
## Transaction Boundary\r
\r
- **Commits:** YES\r
\r
## Classes\r
\r
## Notes (hand-written)\r
\r
Kept as is.\r
\r
## Export Contract\r
\r
Who relies on what:\r
\r
```yaml\r
exports:\r
  functions:\r
    - name: helper\r
      signature: "helper(x: int=1) -> int"\r
      consumers: ["engines", 'handlers']\r
  classes:\r
    - name: PolicyDriver\r
      methods: [load]\r
      consumers: ["L5"]\r
  protocols:\r
    - name: Loader\r
      consumers: ["tests"]\r
```\r
\r
## Import Boundary\r
\r
```yaml\r
boundary:\r
  allowed_inbound: ["policies.L5_engines.*"]   # engines only\r
  forbidden_inbound:\r
  actual_imports: {external: [requests], L7: []}\r
  violations: ["none known"]\r
```\r
"""


def test_sync_keeps_hand_written_parts_and_line_endings(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    card = tmp_path / "literature/driver.md"
    write_project(tmp_path, {DRIVER: SYNC_SOURCE})
    card.parent.mkdir(parents=True)
    card.write_bytes(b"\xef\xbb\xbf" + SYNC_CARD.encode("utf-8"))
    run = cards(run_cli, "sync")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[0] == (
        "synced literature/driver.md: Transaction Boundary; Classes; Export Contract "
        "(changed `Loader`, `PolicyDriver`); actual_imports (added `sqlalchemy`; removed "
        "`requests`)"
    )
    data = card.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert "\n" not in text.replace("\r\n", "")  # every line still ends with CRLF
    assert text.replace("\r\n", "\n") == (
        SYNC_CARD.replace("\r\n", "\n")
        .replace(
            "- **Commits:** YES\n", "- **Commits:** no\n- **Flushes:** no\n- **Rollbacks:** no\n"
        )
        .replace(
            "## Classes\n\n",
            "## Classes\n\n### `PolicyDriver`\n\n_No docstring._\n\n#### Methods\n\n"
            "- `load(session)` — _No docstring._\n- `store(session, row)` — _No docstring._\n\n"
            "### `Loader`\n\n_No docstring._\n\n#### Methods\n\n- `run()` — _No docstring._\n\n",
        )
        .replace(
            """\
      signature: "helper(x: int=1) -> int"
      consumers: ["engines", 'handlers']
  classes:
    - name: PolicyDriver
      methods: [load]
      consumers: ["L5"]
  protocols:
    - name: Loader
      consumers: ["tests"]
""",
            """\
      signature: "helper(x: int = 1) -> int"
      consumers: ["engines", "handlers"]
  classes:
    - name: PolicyDriver
      methods:
        - load
        - store
      consumers: ["L5"]
  protocols:
    - name: Loader
      methods:
        - run
      consumers: ["tests"]
""",
        )
        .replace(
            "  actual_imports: {external: [requests], L7: []}\n",
            "  actual_imports:\n    spine_internal: []\n    l7_model: []\n"
            "    external: ['sqlalchemy']\n",
        )
    )
    assert cards(run_cli, "sync", "--check").exit_code == 0


def test_sync_check_names_what_to_do_and_skips_what_it_cannot_sync(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(
        tmp_path,
        {
            DRIVER: SYNC_SOURCE,
            "literature/driver.md": SYNC_CARD.replace("\r\n", "\n"),
            "literature/gone.md": "# gone\n\n**Path:** `backend/app/gone.py`\n",
            "literature/broken.md": "# broken\n\n## Export Contract\n\n```yaml\nexports: [\n```\n",
        },
    )
    run = cards(run_cli, "sync", "--check")
    assert run.exit_code == 1
    assert "literature/broken.md: cannot sync: the card has errors" in run.stderr
    assert "literature/gone.md: skipped: it describes no project file (see LG301)" in run.stdout
    assert run.stdout.splitlines()[-1] == (
        "1 card(s) out of date, 0 up to date, 1 skipped (no file), 1 could not be synced. Run "
        "`layerguard cards sync` to update them."
    )
    only = cards(run_cli, "sync", "--check", DRIVER)  # a card chosen by its source file
    assert only.stdout.splitlines()[-1].startswith("1 card(s) out of date, 0 up to date, 0 sk")


def test_hand_written_sections_named_like_machine_owned_parts_are_left_alone(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    write_project(tmp_path, PROJECT)
    cards(run_cli, "generate", MODEL)
    card = tmp_path / card_of(MODEL)
    notes = "## Exports\n\n```yaml\nexports: hand-written\n```\n\n## Boundary\n\nOurs.\n\n"
    text = card.read_text("utf-8").replace("## Placement Card", notes + "## Placement Card")
    card.write_text(text, encoding="utf-8")
    (tmp_path / MODEL).write_text("class Policy:\n    pass\n\n\nclass Rule:\n    pass\n")
    assert cards(run_cli, "sync").exit_code == 0
    synced = card.read_text("utf-8")
    assert synced.startswith(text[: text.index("## Placement Card")])
    assert "    - name: Rule\n" in synced


def test_a_lone_surrogate_in_a_docstring_is_written_escaped_and_synced_once(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    """`cards generate` and `cards sync` ended in UnicodeEncodeError (no card written): the
    surrogate is written as its escape, and `sync` finds the card up to date afterwards."""
    engine = 'def evaluate():\n    """Evaluate \\ud800 policies."""\n    return 1\n'
    write_project(tmp_path, {**PROJECT, ENGINE: engine})
    generated = cards(run_cli, "generate", ENGINE)
    assert generated.stdout.splitlines()[-1] == "1 card(s) written, 0 kept, 0 not described."
    card = tmp_path / card_of(ENGINE)
    text = card.read_bytes().decode("utf-8")
    assert "\nEvaluate \\ud800 policies.\n" in text
    assert cards(run_cli, "sync", "--check").exit_code == 0
    (tmp_path / ENGINE).write_text(engine.replace("Evaluate", "Judge"), encoding="utf-8")
    synced = cards(run_cli, "sync")
    assert synced.stdout.splitlines()[0] == f"synced {card_of(ENGINE)}: Functions"
    assert "\nJudge \\ud800 policies.\n" in card.read_bytes().decode("utf-8")
    assert cards(run_cli, "sync", "--check").exit_code == 0


def test_the_check_after_a_sync_parses_no_card(
    tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cards sync` leaves the parse of every card it writes in the card cache: the `check`
    after it reads the cards from there (as one after a `check` does)."""
    from layerguard.contracts.cards import parser

    write_project(tmp_path, PROJECT)
    assert cards(run_cli, "generate").exit_code == 0
    run_cli(["check"])
    source = tmp_path / REGISTRY
    text = source.read_text("utf-8")
    source.write_text(text.replace("ext.asyncio import AsyncSession", "orm import Session"))
    parsed: list[str] = []
    parse_card_bytes = parser.parse_card_bytes

    def counted(data: bytes, label: str) -> CardParseResult:
        parsed.append(label.removeprefix(f"{tmp_path}/"))  # sync labels relative, check not
        return parse_card_bytes(data, label)

    monkeypatch.setattr(parser, "parse_card_bytes", counted)
    synced = cards(run_cli, "sync")
    assert synced.stdout.splitlines()[0].startswith(f"synced {card_of(REGISTRY)}: actual_imports")
    by_sync = parsed[:]
    parsed.clear()
    check = run_cli(["check", "--output-format", "json", "--select", "LG3,LG104"])
    assert (by_sync, parsed, check.findings()) == ([card_of(REGISTRY)], [], [])
    parsed.clear()
    fresh = run_cli(["check", "--output-format", "json", "--no-cache", "--select", "LG3,LG104"])
    assert fresh.findings() == []
    assert len(parsed) == len(LAYERED)  # without the cache, every card is parsed
