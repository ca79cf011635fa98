"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

`::error file=PATH,line=N,col=N,title=CODE name::message`, with `warning` and `notice` for the
other severities. Values are escaped as the Actions runner unescapes them, so a `%`, a newline
or a `,` in a message or path cannot end the command early or forge another one; control
characters and lone surrogates are shown as escapes, as in the text report.
"""

from __future__ import annotations

from layerguard.contracts.escaping import printable
from layerguard.linter.check import CheckResult
from layerguard.linter.diagnostics import Severity
from layerguard.linter.reporters.context import ReportContext
from layerguard.linter.reporters.text import summary
from layerguard.linter.rules.registry import RULES_BY_CODE

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    """The message after `::` (other control characters and lone surrogates escaped as in the
    text report: the runner writes the log in UTF-8)."""
    return printable(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(value: str) -> str:
    """A `key=value` property: also `:` and `,`, which end the value."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(result: CheckResult, context: ReportContext) -> str:
    lines = []
    for d in result.diagnostics:
        rule = RULES_BY_CODE.get(d.code)
        title = f"{d.code} {rule.name}" if rule is not None else d.code
        properties = ",".join(
            f"{key}={escape_property(value)}"
            for key, value in (
                ("file", context.display_path(d.path)),
                ("line", str(d.line)),
                ("col", str(d.col)),
                ("title", title),
            )
        )
        lines.append(f"::{COMMANDS[d.severity]} {properties}::{escape_data(d.message)}")
    if context.summary:
        lines.append(summary(result))
    return "".join(line + "\n" for line in lines)
