"""LG0xx: input the linter cannot read. Reported, counted, never skipped."""

from __future__ import annotations

from collections.abc import Iterator

from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, Rule, RuleInfo

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"


class PythonSyntaxError(Rule):
    code = codes.PYTHON_SYNTAX_ERROR
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
    code = codes.MALFORMED_CARD
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


CONFIG = """
    version: 1
    source_roots: [backend]
    layers:
      - id: api
        name: HTTP routes
        paths: ["backend/app/api/**"]
        forbid:
          layers: [models]
      - id: models
        name: Models
        paths: ["backend/app/models/**"]
"""


class InvalidConfig(RuleInfo):
    code = codes.INVALID_CONFIG
    summary = "`layerguard.yaml` is invalid: the run stops (exit status 2) before any check."
    explanation = """
A contract that does not say what its author meant would make every finding (and every
silence) wrong, so no check runs until it is valid. Every problem is reported at once, each at
its line and YAML key path: unknown keys (with the closest known key), values of the wrong
type, references to layer ids that do not exist, two layers claiming the same file, a source
root that is not a directory. `layerguard schema` prints the JSON Schema that editors can
validate the file against as it is typed; docs/configuration.md describes every key.
"""
    valid = (Example({"backend/app/api/routes.py": ""}, config=CONFIG, title="a valid contract"),)
    invalid = (
        Example(
            {"backend/app/api/routes.py": ""},
            expected=(("layerguard.yaml", 8),),
            config=CONFIG.replace("      - id: models", "      - id: model"),
            title="a layer id that no layer has",
        ),
    )
