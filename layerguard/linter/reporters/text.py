"""`path:line:col: CODE message`, sorted, then `--statistics` and a summary line (not with
--quiet); coloured when the run is (`--color`): the same text, with the path, the code and the
summary styled."""

from __future__ import annotations

from collections import Counter

from layerguard.contracts.escaping import printable
from layerguard.linter.check import CheckResult
from layerguard.linter.diagnostics import Diagnostic, plural
from layerguard.linter.reporters.ansi import SEVERITY_STYLES, Chunk, paint
from layerguard.linter.reporters.context import ReportContext


def summary(result: CheckResult) -> str:
    stats = result.extraction
    found = len(result.diagnostics)
    if result.fixed:
        head = (
            f"Found {plural(found + result.fixed, 'finding')} ({result.fixed} fixed, "
            f"{found} remaining)"
        )
    else:
        head = f"Found {plural(found, 'finding')}" if found else "No findings"
    unread = f", {stats.not_read} not read" if stats.not_read else ""
    return (
        f"{head} in {plural(stats.files, 'file')} and {plural(result.cards, 'card')} "
        f"({stats.parsed} parsed, {stats.cached} cached{unread}) in {result.elapsed:.2f}s."
    )


def _finding(context: ReportContext, finding: Diagnostic) -> list[Chunk]:
    """One line whatever the path and message hold (they quote file names and code)."""
    shown = printable(context.display_path(finding.path))
    return [
        (shown, "bold"),
        (f":{finding.line}:{finding.col}:", ""),
        (" ", ""),
        (finding.code, SEVERITY_STYLES.get(finding.severity.value, "bold")),
        (f" {printable(finding.message)}", ""),
    ]


def _statistics(result: CheckResult) -> list[list[Chunk]]:
    from layerguard.linter.rules.registry import RULES_BY_CODE

    counts = Counter(d.code for d in result.diagnostics)
    lines: list[list[Chunk]] = [
        [
            (f"{count:>6}", "bold"),
            ("  ", ""),
            (code, "bold red"),
            (f"  {RULES_BY_CODE[code].name}" if code in RULES_BY_CODE else "", ""),
        ]
        for code, count in sorted(counts.items())
    ]
    stats = result.extraction
    unread = f"not read: {stats.not_read}, " if stats.not_read else ""
    lines.append(
        [
            (
                f"files: {stats.files}, parsed: {stats.parsed}, cached: {stats.cached}, {unread}"
                f"cards: {result.cards}, documents skipped: {result.documents}, "
                f"jobs: {stats.jobs}",
                "",
            )
        ]
    )
    return lines


def render(result: CheckResult, context: ReportContext) -> str:
    lines = [_finding(context, d) for d in result.diagnostics]
    if context.statistics:
        lines.extend(_statistics(result))
    if context.summary:
        lines.append([(summary(result), "bold red" if result.failing else "bold green")])
    if not context.color:
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    return paint([chunk for line in lines for chunk in (*line, ("\n", ""))])
