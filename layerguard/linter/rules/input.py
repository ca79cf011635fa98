"""LG0xx: input the linter cannot read. Reported, counted, never skipped."""

from __future__ import annotations

from collections.abc import Iterator

from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules.base import Example, Rule

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"


class PythonSyntaxError(Rule):
    code = "LG001"
    name = "python-syntax-error"
    summary = "A Python file does not parse."
    explanation = """
A file that does not parse cannot be checked, so it is reported rather than skipped: an
architecture check that silently ignores a broken file would also ignore whatever the file
imports. The rest of the run goes on. Python 3.12+ syntax (PEP 701 f-strings, `type`
statements, generic functions) parses even when layerguard runs on an older Python.
"""
    valid = (
        Example(
            {ROUTE: 'type Alias = int\nmessage = f"{"nested" + "quotes"}"\n'},
            title="Python 3.12 syntax",
        ),
    )
    invalid = (
        Example(
            {ROUTE: "import os\n\ndef broken(:\n    pass\n"},
            expected=((ROUTE, 3),),
            title="a syntax error",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for source in index.files.values():
            error = source.facts.syntax_error
            if error is not None:
                yield self.finding(
                    source,
                    error.line,
                    error.col,
                    f"cannot parse: {error.message}; fix the syntax so the file can be checked",
                    "syntax",
                )


class MalformedCard(Rule):
    code = "LG002"
    name = "malformed-card"
    summary = "A placement card cannot be read, or part of it is malformed."
    explanation = """
Cards are checked against the code, so a card the parser cannot read is a finding, not a
silent skip. The parser reads everything it can — a broken Export Contract block still leaves
the Import Boundary checked — and reports each problem at its card line: YAML that does not
parse, a block of the wrong shape, an unterminated code fence, a Placement Card line without
a colon, a card without `**Path:**`. `layerguard cards parse CARD` shows what was understood.
"""
    valid = (
        Example(
            {
                "literature/policies.md": """
                    # policies.py

                    **Path:** `backend/app/hoc/api/cus/policies/policies.py`
                    **Layer:** L2 — API
                """,
                ROUTE: "",
            },
            title="a minimal card",
        ),
    )
    invalid = (
        Example(
            {
                "literature/policies.md": """
                    # policies.py

                    **Layer:** L2 — API

                    ## Import Boundary

                    ```yaml
                    boundary:
                      allowed_inbound: [unclosed
                    ```
                """,
            },
            expected=(("literature/policies.md", 1), ("literature/policies.md", 9)),
            extra={ROUTE: ""},
            title="no **Path:**, and YAML that does not parse",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for path, result in index.cards.items():
            for error in result.errors:
                yield Diagnostic(
                    path, error.line, 1, self.code, error.message, self.severity, error.message
                )
