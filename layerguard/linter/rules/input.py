"""LG0xx: input the linter cannot read, and a contract that does not fit the tree. Reported,
counted, never skipped."""

from __future__ import annotations

from collections.abc import Iterator

from layerguard.contracts.patterns import PATH, compile_pattern
from layerguard.linter.diagnostics import Diagnostic, Severity
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, Rule, RuleInfo

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"


class PythonSyntaxError(Rule):
    code = codes.PYTHON_SYNTAX_ERROR
    summary = "A Python file does not parse, or cannot be analysed at all."
    catches = """
A Python file of the project that does not parse, reported at the position of the syntax
error with the parser's message. Python 3.12+ syntax (PEP 701 f-strings, `type` statements,
generic functions) parses even when layerguard runs on an older Python, so only real errors are
reported.

Also a file that is not analysed at all, with the reason and what to do: it cannot be read, it
is not a regular file (a FIFO, a device), it is larger than `max_file_size_kb`, it nests too
deeply to be parsed safely (brackets more than 200 deep, which CPython refuses too, or an
expression more than 1,000 levels deep), or the worker process analysing it crashed or ran out
of its memory or time (see docs/robustness.md).
"""
    why = """
A file that does not parse cannot be checked. Skipping it silently would also skip every
import, transaction call and registration in it: the check would pass on exactly the file
nobody can vouch for. So it is reported rather than skipped, and the rest of the run goes on,
so that one broken file hides no other finding.
"""
    instead = """
Fix the syntax at the reported position so the file can be checked. A file that is not meant
to be run by the project's Python (a template, a fixture for another interpreter, generated
data too large to analyse) belongs under `exclude`.
"""
    options = """
- `source_roots` and `exclude`: which `.py` files belong to the project, and so are parsed.
- `max_file_size_kb`: larger files are reported instead of parsed (default 1024).
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
            if error is None:
                continue
            if error.remedy is None:
                message = (
                    f"cannot parse: {error.message}; fix the syntax so the file can be checked"
                )
            else:  # not analysed at all (unreadable, too large, too deeply nested)
                message = f"{error.message}; {error.remedy}"
            yield self.finding(source, error.line, error.col, message, "syntax")


class MalformedCard(Rule):
    code = codes.MALFORMED_CARD
    summary = "A placement card cannot be read, or part of it is malformed."
    catches = """
A placement card (a file matched by `cards.paths`) that cannot be read, or a part of one that
is malformed, each problem at its card line: YAML that does not parse, a block of the wrong
shape, an unterminated code fence, a Placement Card line without a colon, a card without
`**Path:**`. The parser reads everything it can — a broken Export Contract block still leaves
the Import Boundary checked.

Only a file that looks like a card is one: it has a `**Path:**` line, a title that is a `.py`
file's name or path (`# policy_engine.py`; not a title that only mentions one), or a section
only cards have (Placement Card, Import Boundary, Export Contract, L5 Pairing Declaration,
Transaction Boundary, Import Analysis). Other markdown files under `cards.paths` — index
pages, domain summaries, long-form documents — are counted (`documents skipped` in `check
--statistics`), not reported.
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
    summary = "The contract is invalid: the run stops (exit status 2) before any check."
    catches = """
Every problem of the contract (`layerguard.yaml`, or `[tool.layerguard]` in `pyproject.toml`)
at once, each at its line and key path: YAML or TOML that does not parse, unknown keys (with
the closest known key), values of the wrong type, references to layer ids that do not exist,
two layers claiming the same file, a glob going below a `.py` file name, a source root that is
not a directory, both files holding a contract in one directory. The command stops with exit
status 2 before any check runs.
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
  `layerguard.yaml` or `pyproject.toml` with `[tool.layerguard]` of the current directory, or
  of the nearest parent that has one.
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


SCOPES = """
    version: 1
    source_roots: [src]
    layers:
      - id: views
        name: Views
        paths: ["src/dispatch/{domain}/**/views.py"]
      - id: flows
        name: Flows
        paths: ["src/dispatch/{domain}/**/flows.py", "src/dispatch/{domain}/**/flow.py"]
      - id: models
        name: Models
        paths: ["src/dispatch/{domain}/**/models.py"]
        forbid:
          layers: [views, flows]
    transactions:
      owners: [flows, dispatch.database.core]
"""


class EmptyScope(Rule):
    code = codes.EMPTY_SCOPE
    summary = "A layer, or another file scope of the contract, matches no file."
    severity = Severity.WARNING
    reports_in_contract = True
    catches = """
A part of the contract that names files or modules but matches none of the project, reported
at its line of the contract file:

- a layer none of whose `paths` and `modules` matches a Python file of the project (files
  under the top-level `exclude`, or outside the `source_roots`, do not count);
- in a layer that has files, one `paths` or `modules` entry that contributes none (it matches
  nothing, or only what the layer's `exclude` carves out);
- a `cards.paths` glob that matches no card;
- a module pattern in `transactions.owners` or `transactions.session_creators`, or an
  `allow[].importer`, that matches no module of the project.
"""
    why = """
A scope that matches nothing constrains nothing, silently: a layer whose directory was renamed,
a glob with a typo, an `exclude` that carves out more than meant, an owner pattern that names
no module. Every check of that layer passes — because it has no files. The contract reads as
if it held while it holds nothing.
"""
    instead = """
Fix the glob or pattern so that it names the files you meant (`layerguard layers` lists the
files each layer holds, and the files in none), or remove the scope. A layer a preset wrote
for a part your project does not have can simply be deleted, with the references to it.
"""
    options = """
- `layers[].paths`, `layers[].modules`, `layers[].exclude`, `source_roots` and `exclude`: which
  files each layer holds.
- `cards.paths`, `transactions.owners`, `transactions.session_creators`,
  `layers[].allow[].importer`: the other scopes it checks.
"""
    valid = (
        Example(
            {
                "src/dispatch/incident/views.py": "",
                "src/dispatch/incident/flows.py": "",
                "src/dispatch/case/type/flow.py": "",
                "src/dispatch/incident/models.py": "",
                "src/dispatch/database/core.py": "",
            },
            config=SCOPES,
            title="Every layer, glob and pattern matches something",
        ),
    )
    invalid = (
        Example(
            {
                "src/dispatch/incident/views.py": "",
                "src/dispatch/incident/flows.py": "",
                "src/dispatch/database/core.py": "",
            },
            expected=(
                ("layerguard.yaml", 9, 1, "'src/dispatch/{domain}/**/flow.py'"),
                ("layerguard.yaml", 10, 1, "layer 'models' matches no file"),
            ),
            config=SCOPES,
            title="No models at all, and no `flow.py`",
        ),
        Example(
            {
                "src/dispatch/incident/views.py": "",
                "src/dispatch/incident/flows.py": "",
                "src/dispatch/case/type/flow.py": "",
                "src/dispatch/incident/models.py": "",
                "src/dispatch/database/session.py": "",
            },
            expected=(("layerguard.yaml", 16, 1, "'dispatch.database.core'"),),
            config=SCOPES,
            title="A transaction owner that names no module",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        config = index.config
        for scope in index.layer_map.unmatched(index.files):
            if scope.entry is None:
                message = (
                    f"layer '{scope.layer}' matches no file; fix its `paths`/`modules` "
                    "(`layerguard layers` lists what each layer holds), or remove the layer"
                )
                yield self._finding(index, scope.key_path, message, f"layer:{scope.layer}")
            else:
                message = (
                    f"'{scope.entry}' matches no file of layer '{scope.layer}'; fix it or remove it"
                )
                key = f"layer:{scope.layer}:{scope.entry}"
                yield self._finding(index, scope.key_path, message, key)
        for i, glob in enumerate(config.cards.paths):
            regex = compile_pattern(glob, PATH, {})
            if not any(regex.match("/" + card) for card in index.cards):
                message = (
                    f"'{glob}' matches no card; fix the glob, or write the cards "
                    "(`layerguard cards generate`)"
                )
                yield self._finding(index, f"cards.paths[{i}]", message, f"cards:{glob}")
        for key_path, pattern in _module_scopes(index):
            if not any(index.layer_map.module_matches(pattern, m) for m in index.by_module):
                message = f"'{pattern}' matches no module of the project; fix it or remove it"
                yield self._finding(index, key_path, message, f"modules:{pattern}")

    def _finding(self, index: ProjectIndex, key_path: str, message: str, key: str) -> Diagnostic:
        config = index.config
        line = config.line_of(key_path)
        return Diagnostic(config.file_name, line, 1, self.code, message, self.severity, key)


def _module_scopes(index: ProjectIndex) -> Iterator[tuple[str, str]]:
    """(key path, pattern) of the module patterns that select project modules: the module
    entries of `transactions.owners`/`session_creators` (the others are layer ids) and
    `allow[].importer`."""
    transactions = index.config.transactions
    for key, entries in (
        ("owners", transactions.owners),
        ("session_creators", transactions.session_creators),
    ):
        for j, entry in enumerate(entries):
            if entry not in index.layers:
                yield f"transactions.{key}[{j}]", entry
    for i, layer in enumerate(index.config.layers):
        for k, allow in enumerate(layer.allow):
            if allow.importer is not None:
                yield f"layers[{i}].allow[{k}].importer", allow.importer
