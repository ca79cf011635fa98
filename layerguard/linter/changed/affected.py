"""Which files `check --changed` reports on: the changed files, and every file whose findings
the changes can alter.

`check` always analyses the whole project, so `--changed` only narrows the report, and its
findings are by construction the full run's findings on these files. What this module decides
is which files those are. It compares two indexes of the same contract — `now` (the work tree)
and `before` (the base revision: `now` with the changed files' old facts and cards) — and
applies these rules, each recorded as the file's reason:

1. a changed Python file or card (added, modified, or the new side of a rename);
2. the files a changed card describes, before and after the change;
3. for every *subject* — a changed Python file (deleted ones included) or a file described by
   a changed card — the cards describing it and the files importing it (inbound rules such as
   LG101 and LG104 depend on the target's layer and card; a deleted or added module changes
   what `from pkg import name` resolves to); for any other changed file, the cards describing
   it (a card of a deleted file is stale);
4. the cards of the modules a changed file imports, before and after (a card's inbound and
   consumer declarations are about who imports its file);
5. for operations a changed file registers (before or after), every call site naming them;
   for operations it dispatches or looks up, their registrations;
6. every file whose findings differ between the two indexes. The rules above are the
   dependencies layerguard knows of; this comparison covers the ones it cannot enumerate
   (which classes are handlers, LG403, depends on registrations and subclasses anywhere), so
   that no finding a change alters is ever left out.

A change to the contract itself (layerguard.yaml) affects every file. The contract file is
reported on too: its own findings (a layer that matches no file, LG004; a contract scope or an
exception that matches nothing) follow from the contract and the tree, so they count when the
contract changed and, by rule 6, when a change to the tree makes them appear or go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from layerguard.contracts.cards.location import card_source_file
from layerguard.contracts.cards.model import CardParseResult
from layerguard.contracts.config.model import CONFIG_FILE_NAME
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex, ResolvedImport
from layerguard.linter.project.modules import module_for_path

CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class Affected:
    """The files to report on, each with the first reason found for it."""

    reasons: Mapping[str, str]
    deleted: frozenset[str] = frozenset()  # changed paths that no longer exist

    @property
    def files(self) -> frozenset[str]:
        return frozenset(self.reasons)


def described_file(result: CardParseResult, cards_root: str) -> str | None:
    """The project-relative file a card's `**Path:**` names (None: it names none)."""
    if result.card is None:
        return None
    return card_source_file(result.card.source_path.value, cards_root)


class _Reasons:
    def __init__(self, exists: frozenset[str]) -> None:
        self.exists = exists
        self.found: dict[str, str] = {}

    def add(self, path: str, reason: str) -> None:
        if path in self.exists:
            self.found.setdefault(path, reason)


def affected_files(
    now: ProjectIndex,
    before: ProjectIndex,
    changed: Iterable[str],
    *,
    contract: str = CONFIG_FILE_NAME,
    contract_changed: bool = False,
    findings_now: Iterable[Diagnostic] = (),
    findings_before: Iterable[Diagnostic] = (),
) -> Affected:
    """The affected files; `changed` are project-relative paths that differ between the two
    indexes (both sides of a rename, deletions included); `contract` is the contract file's."""
    changed = sorted(set(changed))
    exists = frozenset(now.files) | frozenset(now.cards) | {contract}
    deleted = frozenset(
        p for p in changed if p not in exists and (p in before.files or p in before.cards)
    )
    reasons = _Reasons(exists)
    if contract_changed:
        reasons.add(contract, CHANGED)
        for path in sorted(exists):
            reasons.add(path, "the contract (layerguard.yaml) changed")
        return Affected(reasons.found, deleted)

    changed_python = [p for p in changed if p in now.files or p in before.files]
    changed_cards = [p for p in changed if p in now.cards or p in before.cards]
    for path in [*changed_python, *changed_cards]:
        reasons.add(path, CHANGED)

    cards_root = now.config.cards.root
    subjects: dict[str, str] = dict.fromkeys(changed_python, "which changed")
    for card in changed_cards:
        for index in (now, before):
            result = index.cards.get(card)
            described = described_file(result, cards_root) if result is not None else None
            if described is not None:
                reasons.add(described, f"described by changed card {card}")
                subjects.setdefault(described, f"whose card {card} changed")

    cards_of = _cards_by_file(now, cards_root)
    importers = _Importers(now)
    for subject, how in subjects.items():
        for card in cards_of.get(subject, ()):
            reasons.add(card, f"describes {subject}, {how}")
        module = _module_of(now, before, subject)
        if module is not None:
            for importer in importers.of(module):
                reasons.add(importer, f"imports {module} ({subject}), {how}")

    for path in changed:  # a changed file that is not a project module: a card still names it
        if path not in subjects:
            for card in cards_of.get(path, ()):
                reasons.add(card, f"describes {path}, which changed")

    for path in changed_python:
        for index in (now, before):
            source = index.files.get(path)
            if source is None:
                continue
            for target in sorted({r.file.path for r in source.imports if r.file is not None}):
                for card in cards_of.get(target, ()):
                    reasons.add(card, f"describes {target}, which changed {path} imports")

    _operation_sites(now, before, changed_python, reasons)

    changed_findings = set(findings_now) ^ set(findings_before)
    for finding in sorted(changed_findings):
        reasons.add(finding.path, "its findings differ from the base revision's")
    return Affected(dict(sorted(reasons.found.items())), deleted)


def _module_of(now: ProjectIndex, before: ProjectIndex, path: str) -> str | None:
    for index in (now, before):
        source = index.files.get(path)
        if source is not None:
            return source.module.name if source.module is not None else None
    module = module_for_path(path, now.layer_map.source_roots)
    return module.name if module is not None else None


def _cards_by_file(index: ProjectIndex, cards_root: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for card, result in sorted(index.cards.items()):
        described = described_file(result, cards_root)
        if described is not None:
            found.setdefault(described, []).append(card)
    return found


class _Importers:
    """Which files import a module, including imports whose resolution the module decides.

    `import a.b` depends on the module `a.b` (its file, its layer). `from a import b` depends
    on `a.b` and every module below it too: whether `a.b` is a module or a package decides
    whether the import's target is `a.b` or `a` (a module added under a new package changes it).
    """

    def __init__(self, index: ProjectIndex) -> None:
        self.exact: dict[str, set[str]] = {}
        self.within: dict[str, set[str]] = {}
        for source in index.files.values():
            for resolved in source.imports:
                for name in (resolved.target, *resolved.names):
                    self.exact.setdefault(name, set()).add(source.path)
                for child in _child_forms(resolved):
                    self.within.setdefault(child, set()).add(source.path)

    def of(self, module: str) -> list[str]:
        found = set(self.exact.get(module, ()))
        parts = module.split(".")
        for length in range(1, len(parts) + 1):
            found.update(self.within.get(".".join(parts[:length]), ()))
        return sorted(found)


def _child_forms(resolved: ResolvedImport) -> tuple[str, ...]:
    """For `from base import name`: the names `base.name` can have (the target is either)."""
    name = resolved.fact.name
    if name is None or name == "*":
        return ()
    forms = [f"{resolved.target}.{name}"]
    if resolved.target == name or resolved.target.endswith("." + name):
        forms.append(resolved.target)
    return tuple(forms)


def _operation_sites(
    now: ProjectIndex, before: ProjectIndex, changed_python: list[str], reasons: _Reasons
) -> None:
    sites: dict[str, list[tuple[str, str]]] = {}  # operation -> (path, kind)
    for source in now.files.values():
        for call in source.facts.registry_calls:
            if call.operation is not None:
                sites.setdefault(call.operation, []).append((source.path, call.kind))
    for path in changed_python:
        registered: set[str] = set()
        used: set[str] = set()
        for index in (now, before):
            calls = index.files[path].facts.registry_calls if path in index.files else ()
            for call in calls:
                if call.operation is not None:
                    (registered if call.kind == "register" else used).add(call.operation)
        for operation in sorted(registered):
            for site, kind in sites.get(operation, ()):
                reasons.add(site, f"{_verb(kind)} operation '{operation}' registered in {path}")
        for operation in sorted(used):
            for site, kind in sites.get(operation, ()):
                if kind == "register":
                    reasons.add(site, f"registers operation '{operation}' used in {path}")


def _verb(kind: str) -> str:
    return {"register": "registers", "execute": "dispatches", "lookup": "looks up"}.get(kind, kind)
