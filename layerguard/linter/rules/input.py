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
    catches = """
A Python file of the project that does not parse, reported at the position of the syntax
error with the parser's message. Python 3.12+ syntax (PEP 701 f-strings, `type` statements,
generic functions) parses even when layerguard runs on an older Python, so only real errors are
reported.
"""
    why = """
A file that does not parse cannot be checked. Skipping it silently would also skip every
import, transaction call and registration in it: the check would pass on exactly the file
nobody can vouch for. So it is reported rather than skipped, and the rest of the run goes on,
so that one broken file hides no other finding.
"""
    instead = """
Fix the syntax at the reported position so the file can be checked. A file that is not meant
to be run by the project's Python (a template, a fixture for another interpreter) belongs under
`exclude`.
"""
    options = """
- `source_roots` and `exclude`: which `.py` files belong to the project, and so are parsed.
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
            title="A syntax error",
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
    catches = """
A placement card (a file matched by `cards.paths`) that cannot be read, or a part of one that
is malformed, each problem at its card line: YAML that does not parse, a block of the wrong
shape, an unterminated code fence, a Placement Card line without a colon, a card without
`**Path:**`. The parser reads everything it can — a broken Export Contract block still leaves
the Import Boundary checked.

Only a file that looks like a card is one: it has a `**Path:**` line, a title naming a `.py`
file (`# policy_engine.py`), or a section only cards have (Placement Card, Import Boundary,
Export Contract, L5 Pairing Declaration, Transaction Boundary, Import Analysis). Other markdown
files under `cards.paths` — index pages, domain summaries, long-form documents — are counted
(`documents skipped` in `check --statistics`), not reported.
"""
    why = """
Cards are checked against the code, so a card the parser cannot read would otherwise be a
silent skip: its boundary would protect nothing and its drift would go unnoticed, while it
still looks like documentation that holds.
"""
    instead = """
Correct the card at the reported line. `layerguard cards parse CARD` shows what the parser
understood of it.
"""
    options = """
- `cards.paths`: which markdown files are cards, and so are read.
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
            title="A minimal card",
        ),
        Example(
            {
                "literature/README.md": """
                    # Policies domain

                    The engine (`policy_engine.py`) checks the rules; see the cards below.

                    ## Open questions
                """,
                ROUTE: "",
            },
            title="Not a card: an index page under `cards.paths`",
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
            title="No **Path:**, and YAML that does not parse",
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
    catches = """
Every problem of `layerguard.yaml` at once, each at its line and YAML key path: YAML that does
not parse, unknown keys (with the closest known key), values of the wrong type, references to
layer ids that do not exist, two layers claiming the same file, a source root that is not a
directory. The command stops with exit status 2 before any check runs.
"""
    why = """
The contract decides what every other rule reports. One that does not say what its author
meant — a misspelt key silently ignored, a layer id that names nothing — would make every
finding, and every silence, wrong. So no check runs until it is valid, and every problem is
reported at once, so that one edit fixes them all.
"""
    instead = """
Fix each reported key: the message says what is expected (for an unknown key, the closest
known one), and docs/configuration.md describes every key. `layerguard schema` prints the JSON
Schema of the file, which lets an editor validate it as it is typed.
"""
    options = """
- `--config FILE` (every command that reads the contract): which file is read; by default the
  `layerguard.yaml` of the current directory or of the nearest parent that has one.
"""
    valid = (Example({"backend/app/api/routes.py": ""}, config=CONFIG, title="A valid contract"),)
    invalid = (
        Example(
            {"backend/app/api/routes.py": ""},
            expected=(("layerguard.yaml", 8),),
            config=CONFIG.replace("      - id: models", "      - id: model"),
            title="A layer id that no layer has",
        ),
    )
