"""What a rule is: a stable code, a message that says what to do instead, documentation in
fixed sections (as ruff's rule pages have), and valid/invalid example projects that the test
suite runs (as Fixit does).

Rules are pure functions of the ProjectIndex: they never read files or print.
"""

from __future__ import annotations

import re
import textwrap
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import ClassVar

from layerguard.contracts.config.model import ImportScopePolicy, Layer
from layerguard.linter.diagnostics import Diagnostic, Severity
from layerguard.linter.project.index import ProjectIndex, ResolvedImport, SourceFile, counts
from layerguard.linter.rules import codes

Expected = tuple[str, int] | tuple[str, int, int] | tuple[str, int, int, str]
"""Where an example's finding is: `(path, line)`, optionally with the column and a fragment of
the message."""


@dataclass(frozen=True)
class Example:
    """A tiny project: files by project-relative path (dedented), and for invalid examples
    where every finding of the rule is (see `Expected`). `config` replaces the default contract
    (the hoc preset) when an example needs another one."""

    files: Mapping[str, str]
    expected: tuple[Expected, ...] = ()
    config: str | None = None
    title: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)  # more files, not shown by `explain`

    def sources(self) -> dict[str, str]:
        merged = {**self.files, **self.extra}
        return {path: textwrap.dedent(text).lstrip("\n") for path, text in merged.items()}


def kebab_case(class_name: str) -> str:
    """`ForbiddenLayerImport` -> `forbidden-layer-import`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", class_name).lower()


class RuleInfo:
    """What every rule declares; `layerguard rules` and `layerguard explain` read it.

    A rule's identity is its class: the kebab-case `name` is derived from the class name
    (`ForbiddenLayerImport` -> `forbidden-layer-import`), and `code` is the constant of that
    name in rules/codes.py, which also says whether the rule is enabled by default.

    Its documentation is four markdown texts that `layerguard explain` lays out in the same
    sections for every rule (rules/reference.py), so a reader finds the same thing in the same
    place on every page and a rule cannot leave a question unanswered: what it catches, why it
    matters, its invalid examples, what to use instead (then its valid examples), and its
    options — `options` names the `layerguard.yaml` keys that change what the rule reports;
    import scopes, enabling and suppressing are the same for every rule and are generated.
    """

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, derived from the class name
    summary: ClassVar[str]  # one line, for tables: what the rule catches
    catches: ClassVar[str]  # precisely what it reports, and where
    why: ClassVar[str]  # why that matters
    instead: ClassVar[str]  # how to fix a finding
    options: ClassVar[str]  # the configuration that changes what it reports
    severity: ClassVar[Severity] = Severity.ERROR
    enabled_by_default: ClassVar[bool] = True
    reports_in_cards: ClassVar[bool] = False  # findings are card lines: no comment reaches them
    reports_in_contract: ClassVar[bool] = False  # findings are lines of the contract file
    default_scope: ClassVar[ImportScopePolicy | None] = None  # set by rules about imports
    valid: ClassVar[tuple[Example, ...]] = ()
    invalid: ClassVar[tuple[Example, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:  # a rule, not an abstract family base
            cls.name = kebab_case(cls.__name__)
            cls.enabled_by_default = cls.code not in codes.OFF_BY_DEFAULT

    def finding(
        self, source: SourceFile, line: int, col: int, message: str, key: str
    ) -> Diagnostic:
        return Diagnostic(source.path, line, col, self.code, message, self.severity, key)

    def scope_policy(self, index: ProjectIndex) -> ImportScopePolicy:
        """The imports this rule counts in this project: its default, as `import_scopes`
        changes it."""
        return index.config.scope_policy(self.code, self.default_scope or ImportScopePolicy())

    def statement_finding(
        self,
        source: SourceFile,
        statement: Sequence[ResolvedImport],
        message: str,
        keys: Iterable[str],
    ) -> Diagnostic:
        """The one finding of an import statement, at its start, keyed by all it names (a
        statement that names one module keeps the key a baseline recorded for it)."""
        fact = statement[0].fact
        return self.finding(source, fact.line, fact.col, message, ", ".join(keys))


class Rule(RuleInfo, ABC):
    """A rule over the project index."""

    @abstractmethod
    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        """Every finding of this rule in the project."""


class ImportRule(Rule):
    """A rule about imports: it sees only the imports its scope policy counts."""

    default_scope: ClassVar[ImportScopePolicy | None] = ImportScopePolicy()

    def constrained_statements(
        self, index: ProjectIndex, layers: Collection[str]
    ) -> Iterator[tuple[SourceFile, Layer, list[ResolvedImport]]]:
        """The counted imports of the files in `layers` (the layers the rule constrains), one
        import statement at a time: a rule reports a statement once, whatever it imports.

        Runs over every import of the project on every check: files of other layers are
        skipped whole.
        """
        sources = (
            source
            for source in index.files.values()
            if source.layer is not None and source.layer.layer in layers
        )
        for source, statement in counted_statements(self, index, sources):
            assert source.layer is not None
            yield source, index.layers[source.layer.layer], statement


def counted_statements(
    rule: RuleInfo, index: ProjectIndex, sources: Iterable[SourceFile]
) -> Iterator[tuple[SourceFile, list[ResolvedImport]]]:
    """The imports of `sources` that `rule` counts (its import scopes), one import statement
    at a time; the scope test is skipped when the policy counts everything."""
    policy = rule.scope_policy(index)
    everything = policy == ImportScopePolicy()
    for source in sources:
        counted = [
            resolved
            for resolved in source.imports
            if everything or counts(resolved.fact.scope, policy)
        ]
        for _, statement in groupby(counted, key=statement_of):
            yield source, list(statement)


def statement_of(resolved: ResolvedImport) -> tuple[int, int]:
    """The import statement an import belongs to: where it starts (`from x import a, b` and
    `import a, b` are one statement each)."""
    return resolved.fact.line, resolved.fact.col
