"""The baseline: the findings a codebase had when it adopted layerguard, so only new ones fail.

Entries are keyed by rule code, file and the finding's `key` (import target, symbol,
operation), never by line, so that code moving inside a file keeps matching its entry; equal
keys in one file are counted. The baseline may only shrink: an entry that no longer occurs is
reported (LG904) until `baseline update` removes it, and `update` adds nothing unless told to.

Pure: baseline_file.py reads and writes the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from layerguard.linter.diagnostics import Diagnostic, Severity, plural
from layerguard.linter.rules.codes import STALE_BASELINE_ENTRY

STALE_SEVERITY = Severity.WARNING
"""The level of stale entries (rules/baseline.py); a constant here, because check imports this
module whenever a baseline exists and must not import the rule modules for it."""


@dataclass(frozen=True, slots=True, order=True)
class EntryKey:
    path: str
    code: str
    key: str


def entry_key(finding: Diagnostic) -> EntryKey:
    """What identifies a finding in the baseline (the message when a rule gives no key)."""
    return EntryKey(finding.path, finding.code, finding.key or finding.message)


def baselinable(finding: Diagnostic) -> bool:
    """Info findings never fail a check, so there is nothing to accept; LG904 is about the
    baseline itself."""
    return finding.severity is not Severity.INFO and finding.code != STALE_BASELINE_ENTRY


@dataclass(frozen=True, slots=True)
class Baseline:
    """Accepted findings: how many findings each key stands for.

    `lines` gives the line of each entry in the file it was read from, so that a stale entry
    can be reported where it must be deleted.
    """

    counts: Mapping[EntryKey, int]
    lines: Mapping[EntryKey, int] = field(default_factory=dict)

    @staticmethod
    def from_findings(findings: Iterable[Diagnostic]) -> Baseline:
        counts: dict[EntryKey, int] = {}
        for finding in findings:
            if baselinable(finding):
                key = entry_key(finding)
                counts[key] = counts.get(key, 0) + 1
        return Baseline(counts)

    @property
    def findings(self) -> int:
        return sum(self.counts.values())

    def description(self) -> str:
        """`3 findings in 2 files`."""
        files = len({key.path for key in self.counts})
        return f"{plural(self.findings, 'finding')} in {plural(files, 'file')}"


@dataclass(frozen=True, slots=True)
class StaleEntry:
    """A baseline entry standing for more findings than occur now (`missing` of `baselined`)."""

    entry: EntryKey
    baselined: int
    missing: int
    line: int


@dataclass(frozen=True, slots=True)
class BaselineMatch:
    kept: list[Diagnostic]  # what to report: new findings, and info findings
    new: list[Diagnostic]  # the baselinable findings no entry covers
    hidden: int
    stale: list[StaleEntry]
    occurring: dict[EntryKey, int]  # baselinable findings by key


def match_baseline(
    findings: Iterable[Diagnostic], baseline: Baseline, judged: Callable[[EntryKey], bool]
) -> BaselineMatch:
    """Hide the findings the baseline accepts and find its stale entries.

    When a file has more findings with one key than the baseline accepts, the extra ones are
    reported: the last ones by position, as the likeliest to be new. Only entries for which
    `judged` holds can be stale (a rule that did not run, a file outside the report).
    """
    groups: dict[EntryKey, list[Diagnostic]] = {}
    kept: list[Diagnostic] = []
    for finding in findings:
        if baselinable(finding):
            groups.setdefault(entry_key(finding), []).append(finding)
        else:
            kept.append(finding)
    new: list[Diagnostic] = []
    hidden = 0
    for key, group in groups.items():
        group.sort(key=lambda d: (d.line, d.col))
        accepted = min(len(group), baseline.counts.get(key, 0))
        hidden += accepted
        new.extend(group[accepted:])
    occurring = {key: len(group) for key, group in groups.items()}
    stale = [
        StaleEntry(key, count, count - occurring.get(key, 0), baseline.lines.get(key, 0))
        for key, count in sorted(baseline.counts.items())
        if count > occurring.get(key, 0) and judged(key)
    ]
    return BaselineMatch(sorted([*kept, *new]), sorted(new), hidden, stale, occurring)


def stale_diagnostics(stale: Iterable[StaleEntry], baseline_path: str) -> list[Diagnostic]:
    """LG904 at each stale entry's line of the baseline file (`baseline_path`, as reported)."""
    diagnostics = []
    for item in stale:
        entry = item.entry
        where = f"{entry.code} in {entry.path} (`{entry.key}`)"
        if item.baselined == 1:
            what = f"the baselined finding {where} no longer occurs"
        elif item.missing == item.baselined:
            what = f"the {item.baselined} baselined findings {where} no longer occur"
        else:
            what = f"{item.missing} of the {item.baselined} baselined findings {where} no longer"
            what += " occur"
        diagnostics.append(
            Diagnostic(
                baseline_path,
                max(item.line, 1),
                1,
                STALE_BASELINE_ENTRY,
                f"{what}; run `layerguard baseline update` to remove it from the baseline",
                STALE_SEVERITY,
                f"{entry.code}:{entry.path}:{entry.key}",
            )
        )
    return diagnostics


def updated_baseline(
    baseline: Baseline,
    occurring: Mapping[EntryKey, int],
    judged: Callable[[EntryKey], bool],
    allow_new: bool,
) -> Baseline:
    """The baseline shrunk to what still occurs (entries not `judged` are kept as they are);
    with `allow_new`, also grown by what occurs beyond it."""
    counts: dict[EntryKey, int] = {}
    for key, count in baseline.counts.items():
        counts[key] = min(count, occurring.get(key, 0)) if judged(key) else count
    if allow_new:
        for key, count in occurring.items():
            counts[key] = max(counts.get(key, 0), count)
    return Baseline({key: count for key, count in sorted(counts.items()) if count > 0})
