"""LG3xx: placement cards that no longer describe their file.

A card is documentation the architecture relies on, so it is checked like code: that its file
exists (LG301), that files of card-carrying layers have one (LG302), and that what it says
about imports, transactions, exports and layer matches the code (LG303-LG306). The code's side
comes from `layerguard.linter.cards.derive`, the same module `cards generate` and `cards sync`
write from, so a synced card is never reported. Findings point at the card line to correct.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerguard.contracts.cards.model import Card, ExportContract, ExportedClass
from layerguard.contracts.config.model import TransactionPolicy
from layerguard.linter.cards.derive import (
    Declared,
    contradiction,
    is_blank,
    is_transaction_owner,
    listed_imports,
    public_classes,
    public_functions,
    public_methods,
    read_transaction_value,
    signature_matches,
    transaction_use,
    transaction_value,
)
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.facts.model import ClassFact, FunctionFact, TransactionCall
from layerguard.linter.project.index import ProjectIndex, SourceFile
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, Rule

ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
HANDLER = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py"
ENGINE_CARD = "literature/policies/policy_engine.md"
DRIVER_CARD = "literature/policies/policy_driver.md"
HANDLER_CARD = "literature/hoc_spine/policies_handler.md"

CARDS_REQUIRED = """
version: 1
source_roots: [backend]
layers:
  - id: L5
    name: Domain engines
    paths: ["backend/app/hoc/cus/{domain}/L5_*/**"]
    requires_cards: true
  - id: L6
    name: Drivers
    paths: ["backend/app/hoc/cus/{domain}/L6_*/**"]
cards:
  paths: ["literature/**/*.md"]
"""


def linked_cards(index: ProjectIndex) -> Iterator[tuple[str, Card, SourceFile]]:
    """(card path, card, described file) for every readable card whose file is a project file
    that parsed: the cards the drift rules can compare with code."""
    for card_path, result in sorted(index.cards.items()):
        card = result.card
        source_path = index.card_sources.get(card_path)
        if card is None or source_path is None:
            continue
        source = index.files.get(source_path)
        if source is not None and source.facts.syntax_error is None:
            yield card_path, card, source


class CardRule(Rule):
    """A rule whose findings are in a card."""

    reports_in_cards = True

    def card_finding(self, card_path: str, line: int, message: str, key: str) -> Diagnostic:
        return Diagnostic(card_path, line, 1, self.code, message, self.severity, key)


def _code(value: str) -> str:
    return f"`{value}`"


def _listing(values: list[str], limit: int = 8) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


class StaleCard(CardRule):
    code = codes.STALE_CARD
    summary = "A placement card describes a file that does not exist."
    catches = """
A placement card whose `**Path:**` names no file — the file moved or was deleted — or cannot
name a file of the project (an absolute path, or one outside it), reported at the
`**Path:**` line. `**Path:**` is relative to `cards.root` (the project root by default). A
card describing a file that exists but is not checked (excluded, or outside the source roots)
is not stale.
"""
    why = """
A card whose file is gone documents code that moved or was deleted: readers are sent to the
wrong place, and the card's contract protects nothing while looking like it does.
"""
    instead = """
Point `**Path:**` at the file's new location (`git log --follow` finds it), or delete the card
together with the file.
"""
    options = """
- `cards.paths`: which markdown files are cards.
- `cards.root`: the directory `**Path:**` is relative to.
"""
    valid = (
        Example(
            {
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`
                """,
                ENGINE: "def evaluate():\n    return True\n",
            },
            title="The card's file exists",
        ),
    )
    invalid = (
        Example(
            {
                "literature/policies/old_engine.md": """
                    # old_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/old_engine.py`
                    **Layer:** L5 — Domain engines
                """,
            },
            expected=(("literature/policies/old_engine.md", 3),),
            extra={ENGINE: ""},
            title="The file was renamed, the card was not",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        root = index.config.cards.root
        for card_path, result in sorted(index.cards.items()):
            card = result.card
            if card is None:
                continue
            source = index.card_sources.get(card_path)
            written = card.source_path
            if source is None:
                yield self.card_finding(
                    card_path,
                    written.line,
                    f"**Path:** `{written.value}` cannot name a file of the project (absolute, or "
                    f"outside it); write the path relative to `cards.root` (`{root}`)",
                    written.value,
                )
            elif source not in index.files and source not in index.other_files:
                yield self.card_finding(
                    card_path,
                    written.line,
                    f"the card describes `{source}`, which does not exist; point **Path:** at "
                    "the file's new location or delete the card",
                    written.value,
                )


class MissingCard(Rule):
    code = codes.MISSING_CARD
    summary = "A file of a layer that requires cards has no placement card."
    catches = """
A file of a layer with `requires_cards: true` that no placement card describes, reported at
line 1 of the file. A card describes the file when it matches `cards.paths` and its
`**Path:**` names the file. Files with nothing to describe (an empty `__init__.py`) are
exempt, and so are files that are not read (not regular files, unreadable, larger than
`max_file_size_kb`): LG001 reports them already.
"""
    why = """
Cards document what the architecture relies on: who may import a file, what it exports, who
owns its transactions. Requiring them, layer by layer, keeps the layers whose contracts matter
most documented as they grow, instead of each new file arriving without one.
"""
    instead = """
Generate the card (`layerguard cards generate PATH`) and complete the parts only a person can
write: the purpose, and the allowed and forbidden inbound imports.
"""
    options = """
- `layers[].requires_cards`: opts a layer in (no layer is by default).
- `cards.paths`, `cards.root`: where cards are found, and what their `**Path:**` is relative
  to.
"""
    valid = (
        Example(
            {
                ENGINE: "def evaluate():\n    return True\n",
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`
                """,
                "backend/app/hoc/cus/policies/L5_engines/__init__.py": "",
                DRIVER: "def load():\n    return []\n",
            },
            config=CARDS_REQUIRED,
            title="Engines have cards (an empty `__init__.py` needs none; drivers are not "
            "opted in)",
        ),
    )
    invalid = (
        Example(
            {ENGINE: '"""Evaluates policies."""\n\ndef evaluate():\n    return True\n'},
            expected=((ENGINE, 1),),
            config=CARDS_REQUIRED,
            title="An engine without a card",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for source in index.files.values():
            if source.layer is None or source.path in index.card_of_file:
                continue
            layer = index.config.layer(source.layer.layer)
            if layer is None or not layer.requires_cards or is_blank(source.facts):
                continue
            if source.facts.unread:  # LG001 says so; whether it is blank is not known
                continue
            yield self.finding(
                source,
                1,
                1,
                f"layer {layer.id} ({layer.name}) requires a placement card for each file and "
                f"`{source.path}` has none; write one (`layerguard cards generate {source.path}`)",
                "card",
            )


class CardImportsDrift(CardRule):
    code = codes.CARD_IMPORTS_DRIFT
    summary = "A card's `actual_imports` differ from the file's real imports."
    catches = """
A card whose Import Boundary `actual_imports` differ from the file's imports, reported at the
`actual_imports` line with the modules added (and their lines) and removed. The comparison
follows the convention of generated cards:

- module-level imports count, including those under `if TYPE_CHECKING:` and in try/if
  blocks; imports inside functions do not;
- the standard library and `__future__` are not listed;
- relative imports are resolved to absolute names;
- `from X import name` counts as `X`, unless `X.name` is a project module.

Groups do not matter here (every module listed in any group counts); `cards sync --check`
also checks grouping.
"""
    why = """
`actual_imports` tell a reviewer what a file depends on without opening it. A list that has
drifted misleads exactly the reader who trusts it; kept current, every new dependency shows in
a pull request twice, in the code and in the card.
"""
    instead = """
Run `layerguard cards sync`, which rewrites `actual_imports` and nothing else of the Import
Boundary — or, if the import itself is the mistake, remove the import.
"""
    options = """
- `source_roots`: how imports resolve to project modules.
- `cards.import_groups`: how `cards sync` groups the list; it does not change what this rule
  compares.
"""
    valid = (
        Example(
            {
                ENGINE: """
                    from __future__ import annotations

                    import logging
                    from typing import TYPE_CHECKING

                    from sqlalchemy import select

                    from app.hoc.cus.policies.L6_drivers.policy_driver import PolicyDriver

                    def load():
                        from app.models.policy import Policy
                """,
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Import Boundary

                    ```yaml
                    boundary:
                      actual_imports:
                        spine_internal: []
                        l7_model: []
                        L6: ['app.hoc.cus.policies.L6_drivers.policy_driver']
                        external: ['sqlalchemy']
                    ```
                """,
            },
            title="The standard library, `__future__` and lazy imports are not listed",
        ),
    )
    invalid = (
        Example(
            {
                ENGINE: """
                    from sqlalchemy import select
                    from app.hoc.cus.policies.L6_drivers.policy_driver import PolicyDriver
                """,
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Import Boundary

                    ```yaml
                    boundary:
                      actual_imports:
                        external: ['sqlalchemy', 'requests']
                    ```
                """,
            },
            expected=((ENGINE_CARD, 9),),
            title="A driver import added, requests removed",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for card_path, card, source in linked_cards(index):
            boundary = card.boundary
            if boundary is None or boundary.actual_imports is None:
                continue
            written = {
                module.value for group in boundary.actual_imports.value for module in group.modules
            }
            real = listed_imports(index, source)
            added = [f"`{i.module}` (line {i.line})" for i in real if i.module not in written]
            removed = sorted(written - {i.module for i in real})
            if not added and not removed:
                continue
            changes = []
            if added:
                changes.append(f"added {_listing(added)}")
            if removed:
                changes.append(f"removed {_listing([_code(m) for m in removed])}")
            yield self.card_finding(
                card_path,
                boundary.actual_imports.line,
                f"actual_imports are out of date with `{source.path}`: {'; '.join(changes)}; run "
                "`layerguard cards sync` (or undo the import change if it was the mistake)",
                "actual_imports",
            )


def _calls_text(calls: tuple[TransactionCall, ...]) -> str:
    shown = [f"`{c.receiver}.{c.method}()` (line {c.line})" for c in calls]
    return _listing(shown, limit=3)


class CardTransactionDrift(CardRule):
    code = codes.CARD_TRANSACTION_DRIFT
    summary = "A card's Transaction field contradicts the file's transaction calls."
    catches = """
A card whose Placement Card `Transaction:` field contradicts the file's code (calls only — a
docstring or comment mentioning `session.commit()` does not count), reported at the field's
line. Understood values (case, `-` and `_` do not matter; a note after a dash, parenthesis,
colon or comma is ignored):

- `OWNS COMMIT` (also `Owns transactions`, `Owner`, `Commits`): the file controls the
  transaction — at least one of the `transactions.calls` of `layerguard.yaml` (`commit()`,
  `rollback()`, `begin()`, `begin_nested()` by default);
- `Forbidden` (also `Must not commit`, `Never commits`, `Caller owns`): none of those calls;
  `flush()` is fine;
- `Flush only`: none of those calls; it may flush;
- `None` (also `N/A`, `Read-only`, `No`): no transaction call at all, `flush()` included.

Any other value is reported with this list.
"""
    why = """
The field tells a reader whether a file may end the unit of work, which is what decides
whether a failure can leave partial writes behind. A card that says `Forbidden` over a file
that commits sends a reviewer looking for the commit everywhere but there.
"""
    instead = """
The field is hand-written (`cards sync` keeps it), so a contradiction is a decision: either
the code is wrong — remove the call and let the owner commit — or the card is, and its field
must say what the code does (the message suggests the value).
"""
    options = """
- `transactions.calls`: the calls that control a transaction.
- `transactions.owners`: for a file that makes no call, whether the suggested value is `None`
  (it may own the unit of work) or `Forbidden`.
"""
    valid = (
        Example(
            {
                DRIVER: '''
                    """Drivers never call session.commit(): the session dependency does."""

                    async def save(session, row):
                        session.add(row)
                        await session.flush()
                ''',
                DRIVER_CARD: """
                    # policy_driver.py

                    **Path:** `backend/app/hoc/cus/policies/L6_drivers/policy_driver.py`

                    ## Placement Card

                    ```
                    Transaction:     Flush only (the session dependency commits)
                    ```
                """,
            },
            title="A flush-only driver; the docstring's `commit()` is not a call",
        ),
    )
    invalid = (
        Example(
            {
                DRIVER: """
                    async def save(session, row):
                        session.add(row)
                        await session.commit()
                """,
                DRIVER_CARD: """
                    # policy_driver.py

                    **Path:** `backend/app/hoc/cus/policies/L6_drivers/policy_driver.py`

                    ## Placement Card

                    ```
                    Transaction:     Forbidden
                    ```
                """,
                ENGINE: "def evaluate():\n    return True\n",
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Placement Card

                    ```
                    Transaction:     OWNS COMMIT
                    ```
                """,
            },
            expected=((DRIVER_CARD, 8), (ENGINE_CARD, 8)),
            title="A driver that commits though its card forbids it; an engine that owns nothing",
        ),
        Example(
            {
                ENGINE: "def evaluate():\n    return True\n",
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Placement Card

                    ```
                    Transaction:     Sometimes
                    ```
                """,
            },
            expected=((ENGINE_CARD, 8),),
            title="A value the rule does not understand",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for card_path, card, source in linked_cards(index):
            field = card.placement_field("transaction")
            if field is None or not field.value.strip():
                continue
            declared = read_transaction_value(field.value)
            if declared is None:
                understood = ", ".join(f"`{value.value}`" for value in Declared)
                yield self.card_finding(
                    card_path,
                    field.line,
                    f"unknown Transaction value `{field.value}`; write one of {understood} "
                    "(`layerguard explain LG304` lists the synonyms)",
                    "transaction",
                )
                continue
            use = transaction_use(index, source)
            calls = contradiction(declared, use)
            if calls is None:
                continue
            actual = transaction_value(use, is_transaction_owner(index, source)).value
            if calls:
                found = f"`{source.path}` calls {_calls_text(calls)}"
                advice = f"remove the call (the owner commits) or write `{actual}`"
            else:
                found = f"`{source.path}` never calls {_alternatives(index.config.transactions)}"
                advice = f"write `{actual}`, or move the commit here if this file owns the work"
            yield self.card_finding(
                card_path,
                field.line,
                f"the card says `Transaction: {field.value}`, but {found}; {advice}",
                "transaction",
            )


def _alternatives(policy: TransactionPolicy) -> str:
    calls = [f"`{call}()`" for call in policy.calls]
    return calls[0] if len(calls) == 1 else ", ".join(calls[:-1]) + " or " + calls[-1]


def _declared_classes(exports: ExportContract) -> list[ExportedClass]:
    return [*exports.classes, *exports.protocols]


class CardExportDrift(CardRule):
    code = codes.CARD_EXPORT_DRIFT
    summary = "A card's Export Contract no longer matches the file's functions and classes."
    catches = """
A card whose Export Contract no longer matches the file, in one of three ways, each reported
at the card line to change:

- a declared function, class (or protocol) or method that the file no longer defines;
- a function whose signature changed (compared without whitespace differences, quote style,
  trailing commas or an `async ` prefix; a card that leaves out default values, all of them or
  only some, matches the code's signature with them, while names, order, kinds, annotations and
  the return type are still compared, and a default the card states must be the code's);
- a public symbol the contract does not declare: a top-level function or class without a
  leading underscore (or, when the module has a literal `__all__`, one named in it), and a
  public method of a declared class.

Method signatures live in the card's Classes section, which `cards sync` keeps current; the
contract lists method names.
"""
    why = """
The Export Contract is what other layers may rely on. A contract that lists a function the
file dropped, or an old signature, sends callers to an interface that no longer exists; one
that misses a public symbol lets new surface appear without review.
"""
    instead = """
Run `layerguard cards sync` (it keeps the hand-written `consumers`), or restore the symbol if
removing it was the mistake.
"""
    options = """
- `cards.paths`, `cards.root`: which cards are read. What is public is decided by the code
  (leading underscores, a literal `__all__`), not by `layerguard.yaml`.
"""
    valid = (
        Example(
            {
                ENGINE: """
                    __all__ = ["evaluate", "PolicyEngine"]

                    def evaluate(policy: str = "default") -> bool:
                        return True

                    def helper():
                        pass

                    class PolicyEngine:
                        def run(self, ctx) -> None:
                            pass

                        def _step(self):
                            pass
                """,
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Export Contract

                    ```yaml
                    exports:
                      functions:
                        - name: evaluate
                          signature: "evaluate(policy: str='default')->bool"
                      classes:
                        - name: PolicyEngine
                          methods: [run]
                    ```
                """,
            },
            title="`__all__` decides what is public; whitespace and quotes do not matter",
        ),
        Example(
            {
                ENGINE: """
                    def evaluate(policy: str, strict: bool = False, *, limit: int = 10) -> bool:
                        return True
                """,
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Export Contract

                    ```yaml
                    exports:
                      functions:
                        - name: evaluate
                          signature: "evaluate(policy: str, strict: bool, *, limit: int) -> bool"
                    ```
                """,
            },
            title="A card from another generator leaves default values out",
        ),
        Example(
            {
                ENGINE: """
                    def get(s: Session, tenant: str = "t", pid: int = 1) -> Out:
                        return Out()

                    def page(t: str = "t", /, n: int = 50, *, live: bool = True) -> list:
                        return []
                """,
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Export Contract

                    ```yaml
                    exports:
                      functions:
                        - name: get
                          signature: "get(s: Session, tenant: str = 't', pid: int) -> Out"
                        - name: page
                          signature: "page(t: str = 't', /, n: int, *, live: bool = True) -> list"
                    ```
                """,
            },
            title="A stated default, then a left-out one (not valid Python, read all the same)",
        ),
    )
    invalid = (
        Example(
            {
                ENGINE: """
                    def evaluate(policy: str, strict: bool = False) -> bool:
                        return True

                    def explain(policy: str) -> str:
                        return policy

                    class PolicyEngine:
                        def run(self, ctx) -> None:
                            pass
                """,
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Export Contract

                    ```yaml
                    exports:
                      functions:
                        - name: evaluate
                          signature: "evaluate(policy: str) -> bool"
                        - name: score
                          signature: "score(policy: str) -> int"
                      classes:
                        - name: PolicyEngine
                          methods: [run, stop]
                    ```
                """,
            },
            expected=((ENGINE_CARD, 8), (ENGINE_CARD, 11), (ENGINE_CARD, 12), (ENGINE_CARD, 16)),
            title="A changed signature, a removed function and method, an undeclared function",
        ),
        Example(
            {
                ENGINE: """
                    def get(s: Session, tenant: str = "t", pid: int = 1) -> Out:
                        return Out()

                    def find(s: Session, tenant: str = "t", pid: int = 1) -> Out:
                        return Out()

                    def count(s: Session, tenant: str = "t", live: bool = True) -> int:
                        return 0

                    def drop(s: Session, tenant: str = "t", pid: int = 1) -> None:
                        pass

                    def load(s: Session, tenant: str = "t") -> Out:
                        return Out()
                """,
                ENGINE_CARD: """
                    # policy_engine.py

                    **Path:** `backend/app/hoc/cus/policies/L5_engines/policy_engine.py`

                    ## Export Contract

                    ```yaml
                    exports:
                      functions:
                        - name: get
                          signature: "get(s: Session, tenant: str = 'u', pid: int) -> Out"
                        - name: find
                          signature: "find(s: Session, tenant: str = 't', id: int) -> Out"
                        - name: count
                          signature: "count(s: Session, tenant: str = 't', live: int) -> int"
                        - name: drop
                          signature: "drop(s: Session, tenant: str = 't') -> None"
                        - name: load
                          signature: "load(s: Session, tenant: str = 't', pid: int) -> Out"
                    ```
                """,
            },
            expected=(
                (ENGINE_CARD, 11, 1, "the signature of `get` changed"),
                (ENGINE_CARD, 13, 1, "the signature of `find` changed"),
                (ENGINE_CARD, 15, 1, "the signature of `count` changed"),
                (ENGINE_CARD, 17, 1, "the signature of `drop` changed"),
                (ENGINE_CARD, 19, 1, "the signature of `load` changed"),
            ),
            title=(
                "Left-out defaults excuse nothing else: a stated default that differs, a renamed "
                "parameter, a changed annotation, a removed parameter, an added one"
            ),
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for card_path, card, source in linked_cards(index):
            if card.exports is not None:
                yield from self._compare(card_path, card.exports, source)

    def _compare(
        self, card_path: str, exports: ExportContract, source: SourceFile
    ) -> Iterator[Diagnostic]:
        facts = source.facts
        path = source.path
        functions: dict[str, list[FunctionFact]] = {}
        for function in facts.functions:
            functions.setdefault(function.name, []).append(function)
        classes: dict[str, ClassFact] = {cls.name: cls for cls in facts.classes}
        for declared in exports.functions:
            name = declared.name.value
            defined = functions.get(name)
            if defined is None:
                kind = "a class" if name in classes else "no function"
                yield self.card_finding(
                    card_path,
                    declared.name.line,
                    f"the Export Contract declares function `{name}`, but `{path}` defines "
                    f"{kind} of that name; remove it from the contract (`layerguard cards sync`) "
                    "or restore the function",
                    f"function:{name}",
                )
                continue
            signature = declared.signature
            if signature is not None and not any(
                signature_matches(signature.value, f.signature) for f in defined
            ):
                yield self.card_finding(
                    card_path,
                    signature.line,
                    f"the signature of `{name}` changed: the card says `{signature.value}`, "
                    f"`{path}` line {defined[-1].line} has `{defined[-1].signature}`; update the "
                    "contract (`layerguard cards sync`) and its consumers",
                    f"signature:{name}",
                )
        for declared_class in _declared_classes(exports):
            name = declared_class.name.value
            cls = classes.get(name)
            if cls is None:
                kind = "a function" if name in functions else "no class"
                yield self.card_finding(
                    card_path,
                    declared_class.name.line,
                    f"the Export Contract declares class `{name}`, but `{path}` defines {kind} "
                    "of that name; remove it from the contract (`layerguard cards sync`) or "
                    "restore the class",
                    f"class:{name}",
                )
                continue
            defined_methods = {method.name for method in cls.methods}
            for method in declared_class.methods:
                if method.value not in defined_methods:
                    yield self.card_finding(
                        card_path,
                        method.line,
                        f"the Export Contract lists method `{name}.{method.value}`, but `{path}` "
                        "no longer defines it; update the contract (`layerguard cards sync`) or "
                        "restore the method",
                        f"method:{name}.{method.value}",
                    )
            listed = {method.value for method in declared_class.methods}
            missing = [m for m in public_methods(cls) if m not in listed]
            if missing:
                yield self.card_finding(
                    card_path,
                    declared_class.name.line,
                    f"public method(s) {_listing([_code(m) for m in missing])} of `{name}` are "
                    "not in the Export Contract; declare them (`layerguard cards sync`) or make "
                    "them private with a leading underscore",
                    f"methods:{name}",
                )
        yield from self._undeclared(card_path, exports, source)

    def _undeclared(
        self, card_path: str, exports: ExportContract, source: SourceFile
    ) -> Iterator[Diagnostic]:
        declared = {f.name.value for f in exports.functions} | {
            c.name.value for c in _declared_classes(exports)
        }
        symbols = [
            *(("function", f.name, f.line) for f in public_functions(source.facts)),
            *(("class", c.name, c.line) for c in public_classes(source.facts)),
        ]
        for kind, name, line in symbols:
            if name not in declared:
                yield self.card_finding(
                    card_path,
                    exports.line,
                    f"public {kind} `{name}` (`{source.path}` line {line}) is not in the Export "
                    "Contract; declare it (`layerguard cards sync`) or make it private with a "
                    "leading underscore",
                    f"undeclared:{name}",
                )


def layer_ids_agree(card_id: str, layer_id: str) -> bool:
    """Whether a card's layer id names the layer `layer_id` or the family it belongs to.

    Case does not matter; `L5/L6` names either; a family is a prefix ending where the layer id
    continues with `_`, `.` or `-`: `L4` covers `L4_handlers`, `L2` covers `L2.1`, but not the
    other way round.
    """
    actual = layer_id.casefold()
    for alternative in card_id.casefold().split("/"):
        if alternative == actual:
            return True
        if alternative and actual.startswith(alternative) and actual[len(alternative)] in "_.-":
            return True
    return False


class CardLayerMismatch(CardRule):
    code = codes.CARD_LAYER_MISMATCH
    summary = "A card's layer disagrees with the layer its file belongs to."
    catches = """
A card whose `**Layer:**` disagrees with the layer its file is in, reported at the
`**Layer:**` line. The value is read up to the first space or dash: `L4 — HOC Spine` says
`L4`, `L5/L6 — HYBRID` says `L5` or `L6`. It agrees with the file's layer when it is the same
id, ignoring case, or the id of the family the layer belongs to: `L4` agrees with
`L4_handlers` and `L4_services`, `L2` with `L2.1` — a prefix ending where the layer id goes on
with `_`, `.` or `-`. The more specific id never covers the family: a card saying
`L4_handlers` for a file in `L4` is wrong. A card without a `**Layer:**` line is not checked.
"""
    why = """
The layer decides what a file may import and who may import it. A card that names another
layer gives its reader the wrong rules for the file — or the file sits in the wrong place and
the contract checks it against rules its author did not mean.
"""
    instead = """
Fix whichever is wrong: the card (write the id of the layer the file is in) or the file's
location (move it into the layer the card describes).
"""
    options = """
- `layers[].id`: the ids a card's `**Layer:**` names.
- `layers[].paths`, `layers[].modules`, `layers[].exclude`: which layer the file is in.
"""
    valid = (
        Example(
            {
                HANDLER: "class PolicyQueryHandler:\n    pass\n",
                HANDLER_CARD: f"""
                    # policies_handler.py

                    **Path:** `{HANDLER}`
                    **Layer:** L4 — Operation handlers
                """,
                DRIVER: "def load():\n    return []\n",
                DRIVER_CARD: """
                    # policy_driver.py

                    **Path:** `backend/app/hoc/cus/policies/L6_drivers/policy_driver.py`
                    **Layer:** L5/L6 — HYBRID
                """,
            },
            title="The family id, and either id of a hybrid",
        ),
    )
    invalid = (
        Example(
            {
                HANDLER: "class PolicyQueryHandler:\n    pass\n",
                HANDLER_CARD: f"""
                    # policies_handler.py

                    **Path:** `{HANDLER}`
                    **Layer:** L5 — Domain engines
                """,
            },
            expected=((HANDLER_CARD, 4),),
            title="A handler's card says it is an engine",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for card_path, card, source in linked_cards(index):
            card_id = card.layer_id
            if card.layer is None or card_id is None:
                continue
            match = source.layer
            if match is not None and layer_ids_agree(card_id, match.layer):
                continue
            if match is None:
                where = "in no layer of layerguard.yaml"
                advice = "fix **Path:**, or add the file to a layer"
            else:
                layer = index.config.layer(match.layer)
                name = layer.name if layer is not None else match.layer
                where = f"in {match.layer} ({name})"
                advice = f"write `**Layer:** {match.layer} — {name}` or move the file"
            yield self.card_finding(
                card_path,
                card.layer.line,
                f"the card says layer `{card_id}`, but `{source.path}` is {where}; {advice}",
                "layer",
            )
