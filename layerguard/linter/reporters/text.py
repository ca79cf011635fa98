"""`path:line:col: CODE message`, sorted, then a summary line (and `--statistics`)."""

from __future__ import annotations

from collections import Counter

from layerguard.linter.check import CheckResult
from layerguard.linter.diagnostics import plural
from layerguard.linter.reporters.context import ReportContext


def summary(result: CheckResult) -> str:
    stats = result.extraction
    found = len(result.diagnostics)
    head = f"Found {plural(found, 'finding')}" if found else "No findings"
    return (
        f"{head} in {plural(stats.files, 'file')} and {plural(result.cards, 'card')} "
        f"({stats.parsed} parsed, {stats.cached} cached) in {result.elapsed:.2f}s."
    )


def statistics(result: CheckResult) -> list[str]:
    from layerguard.linter.rules.registry import RULES_BY_CODE

    counts = Counter(d.code for d in result.diagnostics)
    lines = [
        f"{count:>6}  {code}  {RULES_BY_CODE[code].name if code in RULES_BY_CODE else ''}".rstrip()
        for code, count in sorted(counts.items())
    ]
    stats = result.extraction
    lines.append(
        f"files: {stats.files}, parsed: {stats.parsed}, cached: {stats.cached}, "
        f"cards: {result.cards}, jobs: {stats.jobs}"
    )
    return lines


def render(result: CheckResult, context: ReportContext) -> str:
    lines = [context.line(d) for d in result.diagnostics]
    if context.statistics:
        lines.extend(statistics(result))
    lines.append(summary(result))
    return "\n".join(lines) + "\n"
