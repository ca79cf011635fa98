"""LG104: imports into a file that its placement card does not let in.

A sibling of the LG1xx layer rules (`imports.py`): those read `layerguard.yaml`, this one reads
the target file's card, whose Import Boundary may name who may (`allowed_inbound`) and who
must not (`forbidden_inbound`) import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from layerguard.contracts.cards.model import Card, Names
from layerguard.contracts.patterns import MODULE, PlaceholderRule, pattern_regex
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex, ResolvedImport, SourceFile
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, ImportRule, counted_statements

REGISTRY = "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py"
REGISTRY_CARD = "literature/hoc_spine/operation_registry.md"
ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
ADAPTER = "backend/app/hoc/cus/hoc_spine/adapters/http.py"
ENGINE = "backend/app/hoc/cus/policies/L5_engines/policy_engine.py"
DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
DRIVER_CARD = "literature/policies/policy_driver.md"


class InboundPatterns:
    """Card inbound patterns, compiled once per run.

    A pattern is a layer id of `layerguard.yaml` (matching importers in that layer) or a dotted
    module pattern (`*` within one segment, `**` any number of segments; a pattern also covers
    the modules below what it matches). A module pattern whose first segment is not a top-level
    package of the project is *unanchored*: it matches at any segment boundary, as a gitignore
    pattern without a slash does, so `hoc.api.*` matches `app.hoc.api.cus.policies`.
    """

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.layer_ids = frozenset(layer.id for layer in index.config.layers)
        self.roots = frozenset(module.split(".")[0] for module in index.by_module)
        self.rules = {
            p.name: PlaceholderRule(values=p.values, exclude=p.exclude)
            for p in index.config.placeholders
        }
        self._compiled: dict[str, re.Pattern[str]] = {}

    def regex(self, pattern: str) -> re.Pattern[str]:
        compiled = self._compiled.get(pattern)
        if compiled is None:
            body = pattern_regex(pattern.strip(), MODULE, self.rules)
            if pattern.strip().split(".")[0] not in self.roots:
                body = r"(?:\.[^.]+)*?" + body
            compiled = self._compiled[pattern] = re.compile(body)
        return compiled

    def matches(self, pattern: str, importer: SourceFile, module: str) -> bool:
        if pattern in self.layer_ids:
            return importer.layer is not None and importer.layer.layer == pattern
        return self.regex(pattern).match("." + module) is not None

    def first_match(self, patterns: Names, importer: SourceFile, module: str) -> str | None:
        return next((p.value for p in patterns if self.matches(p.value, importer, module)), None)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a card refuses an importer: its `forbidden` or `allowed` inbound list, in words."""

    kind: str
    target: str
    words: str


def _quoted(patterns: Names) -> str:
    return ", ".join(f"`{p.value}`" for p in patterns) or "nothing"


class InboundImportNotAllowed(ImportRule):
    code = codes.INBOUND_IMPORT_NOT_ALLOWED
    summary = "A module imports a file whose placement card forbids or does not allow it."
    catches = """
An import of a file whose placement card restricts who may import it, by a module the card's
Import Boundary does not let in:

```yaml
boundary:
  allowed_inbound: ["hoc.api.*", "hoc_spine.adapters.*"]   # only these may import it
  forbidden_inbound: ["L6"]                                # these never may
```

Each entry is a layer id of `layerguard.yaml` or a dotted module pattern (`*` one segment,
`**` any number of segments; a pattern also covers what is below what it matches). A pattern
that does not start with a top-level package of the project matches at any segment boundary,
like a gitignore pattern without a slash: `hoc.api.*` matches `app.hoc.api.cus.policies`.

`forbidden_inbound` wins over `allowed_inbound`. `allowed_inbound` restricts only when it has
a value: an empty `allowed_inbound:` (as generated) means "not decided yet", while
`allowed_inbound: []` means nothing may import the file. Each import statement is reported
once, naming every file it imports that a card keeps out. Every import counts by default —
relative, lazy, `TYPE_CHECKING`.
"""
    why = """
Layers say which groups of modules may depend on which; some files need a finer contract — the
operation registry is for routes and spine adapters, not for the engines that operations run.
The card states that contract next to the file's documentation; unchecked, it would be a
comment nobody enforces.
"""
    instead = """
Import what you need through a module the card allows (for the registry: the names it
re-exports to routes), or, if the card is too strict, widen its boundary.
"""
    options = """
- The Import Boundary of the imported file's card (`allowed_inbound`, `forbidden_inbound`): the
  rule's real configuration, one file at a time.
- `cards.paths`, `cards.root`: which cards are read, and what their `**Path:**` is relative to.
- `layers[].id` and `placeholders`: the layer ids and `{placeholder}` constraints that card
  patterns can use.
"""
    valid = (
        Example(
            {
                REGISTRY_CARD: """
                    # operation_registry.py

                    **Path:** `backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py`

                    ## Import Boundary

                    ```yaml
                    boundary:
                      allowed_inbound:
                        - "hoc.api.*"
                        - "hoc_spine.adapters.*"
                      forbidden_inbound:
                    ```
                """,
                REGISTRY: "def get_operation_registry():\n    pass\n",
                ROUTE: """
                    from app.hoc.cus.hoc_spine.orchestrator.operation_registry import (
                        get_operation_registry,
                    )
                """,
                ADAPTER: "from ..orchestrator import operation_registry\n",
            },
            title="Unanchored patterns: a route and a spine adapter (relative import) may import",
        ),
    )
    invalid = (
        Example(
            {
                REGISTRY_CARD: """
                    # operation_registry.py

                    **Path:** `backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py`

                    ## Import Boundary

                    ```yaml
                    boundary:
                      allowed_inbound: ["hoc.api.*"]
                    ```
                """,
                REGISTRY: "def get_operation_registry():\n    pass\n",
                ENGINE: """
                    def run():
                        from app.hoc.cus.hoc_spine.orchestrator.operation_registry import (
                            get_operation_registry,
                        )
                """,
                DRIVER_CARD: """
                    # policy_driver.py

                    **Path:** `backend/app/hoc/cus/policies/L6_drivers/policy_driver.py`

                    ## Import Boundary

                    ```yaml
                    boundary:
                      forbidden_inbound: ["L2", "policies.L5_engines.**"]
                    ```
                """,
                DRIVER: "def load():\n    return []\n",
                "backend/app/hoc/cus/policies/L5_engines/other_engine.py": (
                    "from app.hoc.cus.policies.L6_drivers import policy_driver\n"
                ),
            },
            expected=(
                (ENGINE, 2),
                ("backend/app/hoc/cus/policies/L5_engines/other_engine.py", 1),
            ),
            title="An engine imports the registry (lazily); an engine imports a driver it may not",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        cards: dict[str, tuple[str, Card]] = {}
        for path, card_path in index.card_of_file.items():
            card = index.cards[card_path].card
            boundary = card.boundary if card is not None else None
            if card is not None and boundary is not None and _restricts(card):
                cards[path] = (card_path, card)
        if not cards:
            return
        patterns = InboundPatterns(index)
        sources = (source for source in index.files.values() if source.module is not None)
        for source, statement in counted_statements(self, index, sources):
            judged: dict[str, Verdict] = {}  # by imported file
            for resolved in statement:
                target = resolved.file
                if target is None or target is source or target.path not in cards:
                    continue
                if target.path in judged:
                    continue
                verdict = self._judge(patterns, source, resolved, *cards[target.path])
                if verdict is not None:
                    judged[target.path] = verdict
            if judged:
                yield self._finding(source, statement, judged)

    def _finding(
        self, source: SourceFile, statement: list[ResolvedImport], judged: dict[str, Verdict]
    ) -> Diagnostic:
        """One finding for an import statement, whatever number of restricted files it
        imports: what each card says, then what to do."""
        assert source.module is not None
        verdicts = list(judged.values())
        kinds = {verdict.kind for verdict in verdicts}
        if kinds == {"forbidden"}:
            advice = "depend on a module the card allows, or change its forbidden_inbound"
        elif kinds == {"allowed"}:
            advice = "go through a module the card allows, or widen its allowed_inbound"
        else:
            advice = "go through modules the cards allow, or change their boundaries"
        if len(verdicts) > 1:
            advice = advice.replace("the card allows", "the cards allow").replace("its ", "their ")
        return self.statement_finding(
            source,
            statement,
            f"`{source.module.name}` imports {'; and '.join(v.words for v in verdicts)}; {advice}",
            dict.fromkeys(v.target for v in verdicts),
        )

    def _judge(
        self,
        patterns: InboundPatterns,
        source: SourceFile,
        resolved: ResolvedImport,
        card_path: str,
        card: Card,
    ) -> Verdict | None:
        """Whether the card of the imported file lets this importer in: None, or why not."""
        boundary = card.boundary
        assert boundary is not None
        assert source.module is not None
        module = source.module.name
        forbidden = boundary.forbidden_inbound
        allowed = boundary.allowed_inbound
        if forbidden is not None and forbidden.value is not None:
            pattern = patterns.first_match(forbidden.value, source, module)
            if pattern is not None:
                return Verdict(
                    "forbidden",
                    resolved.target,
                    f"`{resolved.target}`, whose card forbids importers matching `{pattern}` "
                    f"({card_path}:{forbidden.line})",
                )
        if (
            allowed is not None
            and allowed.value is not None
            and patterns.first_match(allowed.value, source, module) is None
        ):
            return Verdict(
                "allowed",
                resolved.target,
                f"`{resolved.target}`, whose card allows only {_quoted(allowed.value)} "
                f"({card_path}:{allowed.line})",
            )
        return None


def _restricts(card: Card) -> bool:
    boundary = card.boundary
    if boundary is None:
        return False
    return any(
        entry is not None and entry.value is not None
        for entry in (boundary.allowed_inbound, boundary.forbidden_inbound)
    )
