"""Every kind of problem in a layerguard.yaml: exact line, key path and message."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.spec import PATH_GLOB

ProblemsOf = Callable[[str], list[tuple[int, str, str]]]

LAYERS = """
layers:
  - id: api
    name: API
    paths: ["app/api/**"]
  - id: core
    name: Core
    paths: ["app/core/**"]
"""


def test_unknown_top_level_key_suggests_the_closest(problems: ProblemsOf) -> None:
    assert problems("version: 1\nsoruce_roots: [src]\n") == [
        (
            2,
            "soruce_roots",
            "unknown key 'soruce_roots'; did you mean 'source_roots'? Allowed keys: version, "
            "source_roots, exclude, placeholders, layers, contracts, cross_domain_layers, "
            "transactions, import_scopes, registry, cards, max_file_size_kb, rules.",
        )
    ]


def test_unknown_nested_key(problems: ProblemsOf) -> None:
    text = "version: 1" + LAYERS + "    forbid: {layer: [api]}\n"
    assert problems(text) == [
        (
            9,
            "layers[1].forbid.layer",
            "unknown key 'layer'; did you mean 'layers'? Allowed keys: layers, modules, indirect.",
        )
    ]


def test_unknown_key_without_a_close_match(problems: ProblemsOf) -> None:
    [(line, key_path, message)] = problems("version: 1\ncards: {zzz: 1}\n")
    assert (line, key_path) == (2, "cards.zzz")
    assert message == "unknown key 'zzz'. Allowed keys: paths, root, import_groups."


@pytest.mark.parametrize(
    ("snippet", "key_path", "message"),
    [
        ("source_roots: src", "source_roots", "expected a list, got a string."),
        ("source_roots: [3]", "source_roots[0]", "expected a string, got an integer."),
        ("layers: {}", "layers", "expected a list, got a mapping."),
        ("transactions: [owners]", "transactions", "expected a mapping, got a list."),
        ("transactions: {owners: }", "transactions.owners", "expected a list, got null."),
        (
            "import_scopes: {LG102: {lazy: 'no'}}",
            "import_scopes.LG102.lazy",
            "expected a boolean, got a string.",
        ),
        ("cards: {root: 1.5}", "cards.root", "expected a string, got a number."),
        ("exclude: ['']", "exclude[0]", "expected a non-empty string."),
    ],
)
def test_wrong_types(problems: ProblemsOf, snippet: str, key_path: str, message: str) -> None:
    assert problems(f"version: 1\n{snippet}\n") == [(2, key_path, message)]


def test_missing_version(problems: ProblemsOf) -> None:
    assert problems("layers: []\n") == [(1, "version", "missing required key.")]


@pytest.mark.parametrize("version", ["2", "0"])
def test_unsupported_version(problems: ProblemsOf, version: str) -> None:
    assert problems(f"version: {version}\n") == [
        (1, "version", f"unsupported version {version} (supported: 1).")
    ]


def test_version_must_be_an_integer(problems: ProblemsOf) -> None:
    assert problems("version: '1'\n") == [(1, "version", "expected an integer, got a string.")]


def test_missing_layer_id_and_name(problems: ProblemsOf) -> None:
    text = """
    version: 1
    layers:
      - paths: [app/**]
    """
    assert problems(text) == [
        (3, "layers[0].id", "missing required key."),
        (3, "layers[0].name", "missing required key."),
    ]


def test_a_layer_needs_paths_or_modules(problems: ProblemsOf) -> None:
    text = """
    version: 1
    layers:
      - id: api
        name: API
      - id: core
        name: Core
        paths: []
    """
    message = "needs at least one entry in 'paths' or 'modules'."
    assert problems(text) == [(3, "layers[0]", message), (5, "layers[1]", message)]


def test_duplicate_layer_id(problems: ProblemsOf) -> None:
    text = "version: 1" + LAYERS + "  - id: api\n    name: Again\n    paths: [lib/**]\n"
    assert problems(text) == [(9, "layers[2].id", "duplicate layer id 'api' (first on line 3).")]


def test_forbid_names_an_unknown_layer(problems: ProblemsOf) -> None:
    text = "version: 1" + LAYERS + "    forbid: {layers: [api, apx, nothing_like_it]}\n"
    assert problems(text) == [
        (
            9,
            "layers[1].forbid.layers[1]",
            "unknown layer id 'apx'; did you mean 'api'? Layer ids: api, core.",
        ),
        (
            9,
            "layers[1].forbid.layers[2]",
            "unknown layer id 'nothing_like_it'. Layer ids: api, core.",
        ),
    ]


def test_a_layer_cannot_forbid_itself(problems: ProblemsOf) -> None:
    text = "version: 1" + LAYERS + "    forbid:\n      layers: [core]\n"
    assert problems(text) == [
        (10, "layers[1].forbid.layers[0]", "a layer cannot forbid importing itself.")
    ]


def test_transaction_owners_are_layer_ids_or_module_patterns(problems: ProblemsOf) -> None:
    text = (
        "version: 1"
        + LAYERS
        + """
transactions:
  owners: [core, app.db.session, "app.*.uow", cor]
  session_creators:
    - app..db
"""
    )
    assert problems(text) == [
        (
            11,
            "transactions.owners[3]",
            "unknown layer id 'cor'; did you mean 'core'? Layer ids: api, core.",
        ),
        (
            13,
            "transactions.session_creators[0]",
            "expected a layer id or a dotted module "
            "pattern: `*` within a segment, `**` and `{name}` as whole segments "
            "(e.g. `app.hoc.cus.{domain}.L5_schemas.**`), got 'app..db'.",
        ),
    ]


def test_cross_domain_layers(problems: ProblemsOf) -> None:
    text = "version: 1" + LAYERS + "cross_domain_layers: [core, engines]\n"
    assert problems(text) == [
        (
            9,
            "cross_domain_layers[0]",
            "layer 'core' has no {domain} in its paths or modules: it has no domains to keep "
            "apart.",
        ),
        (9, "cross_domain_layers[1]", "unknown layer id 'engines'. Layer ids: api, core."),
    ]


def test_allow_binding_domain_needs_a_domain(problems: ProblemsOf) -> None:
    text = (
        "version: 1"
        + LAYERS
        + """    allow:
      - module: "app.{domain}.schemas"
        reason: own schemas
"""
    )
    assert problems(text) == [
        (
            10,
            "layers[1].allow[0].module",
            "uses {domain}, but layer 'core' has no {domain} in its paths or modules to bind it "
            "to.",
        ),
    ]


def test_allow_entry_needs_module_and_reason(problems: ProblemsOf) -> None:
    text = "version: 1" + LAYERS + "    allow:\n      - {module: app.api}\n"
    assert problems(text) == [(10, "layers[1].allow[0].reason", "missing required key.")]


@pytest.mark.parametrize(
    ("snippet", "key_path"),
    [
        ("import_scopes: {LG1O2: {lazy: false}}", "import_scopes.LG1O2"),
        ("import_scopes: {LG1: {lazy: false}}", "import_scopes.LG1"),
    ],
)
def test_unknown_rule_codes(problems: ProblemsOf, snippet: str, key_path: str) -> None:
    [(line, path, message)] = problems(f"version: 1\n{snippet}\n")
    assert (line, path) == (2, key_path)
    assert message.startswith("expected a rule code such as `LG101`, got ")


@pytest.mark.parametrize(
    ("snippet", "key_path"),
    [
        ("rules: {select: [E501]}", "rules.select[0]"),
        ("rules: {ignore: [LG1, LG10001]}", "rules.ignore[1]"),
        ("rules: {extend_select: [ALLL]}", "rules.extend_select[0]"),
        ("rules: {per_file_ignores: {tests/**: [F401]}}", "rules.per_file_ignores.tests/**[0]"),
    ],
)
def test_rule_selectors_are_codes_prefixes_or_all(
    problems: ProblemsOf, snippet: str, key_path: str
) -> None:
    [(line, path, message)] = problems(f"version: 1\n{snippet}\n")
    assert (line, path) == (2, key_path)
    assert message.startswith("expected a rule code or prefix (`LG101`, `LG1`) or `ALL`, got ")


def test_any_code_or_prefix_is_accepted_in_any_case(load: Callable[[str], object]) -> None:
    load(
        "version: 1\nrules: {select: [LG999, lg1, All, LG], ignore: [LG000]}\n"
        "import_scopes: {LG555: {}}\n"
    )


def test_per_file_ignores_globs_are_path_globs(problems: ProblemsOf) -> None:
    text = "version: 1\nrules:\n  per_file_ignores:\n    /abs/**: [LG1]\n    ok/**: LG1\n"
    assert problems(text) == [
        (4, "rules.per_file_ignores./abs/**", "expected " + PATH_GLOB.hint + ", got '/abs/**'."),
        (5, "rules.per_file_ignores.ok/**", "expected a list, got a string."),
    ]


def test_placeholder_constraints_never_used(problems: ProblemsOf) -> None:
    text = """
    version: 1
    placeholders:
      domain: {exclude: [shared]}
      audience:
        values: [cus]
    layers:
      - id: engines
        name: Engines
        paths: ["app/{domain}/engines/**"]
    """
    assert problems(text) == [
        (
            4,
            "placeholders.audience",
            "placeholder '{audience}' is never used in a layer path or module pattern.",
        ),
    ]


@pytest.mark.parametrize(
    "glob",
    ["/app/**", "app/**x/y", "app/{domain}x/**", "app/../x", "app/./x", "app\\\\x", "app//x"],
)
def test_invalid_path_globs(problems: ProblemsOf, glob: str) -> None:
    [(line, key_path, message)] = problems(f'version: 1\nexclude: ["{glob}"]\n')
    assert (line, key_path) == (2, "exclude[0]")
    assert message.startswith("expected a path glob relative to the project root")


def test_invalid_module_pattern(problems: ProblemsOf) -> None:
    text = "version: 1\nlayers:\n  - {id: a, name: A, modules: ['app.**x']}\n"
    [(line, key_path, message)] = problems(text)
    assert (line, key_path) == (3, "layers[0].modules[0]")
    assert message.startswith("expected a dotted module pattern")


def test_forbidden_modules_are_plain_dotted_names(problems: ProblemsOf) -> None:
    text = "version: 1\nlayers:\n  - {id: a, name: A, paths: [a], forbid: {modules: [sql*]}}\n"
    assert problems(text) == [
        (
            3,
            "layers[0].forbid.modules[0]",
            "expected a dotted module name (e.g. `sqlalchemy`), got 'sql*'.",
        ),
    ]


def test_an_item_listed_twice(problems: ProblemsOf) -> None:
    text = "version: 1\nexclude:\n  - a/**\n  - b/**\n  - a/**\n"
    assert problems(text) == [(5, "exclude[2]", "'a/**' is listed twice (see line 3).")]


def test_yaml_syntax_error_has_its_line(problems: ProblemsOf) -> None:
    text = "version: 1\nlayers:\n  - id: a\n    name: [unclosed\n"
    [(line, key_path, message)] = problems(text)
    assert (line, key_path) == (5, "")
    assert message.startswith("invalid YAML: ")


def test_bad_indentation_is_a_yaml_error(problems: ProblemsOf) -> None:
    [(line, key_path, message)] = problems("version: 1\n  source_roots: [a]\n")
    assert (line, key_path) == (2, "")
    assert message.startswith("invalid YAML: mapping values are not allowed")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file(problems: ProblemsOf, text: str) -> None:
    assert problems(text) == [(1, "", "the file is empty; `layerguard init` writes a start.")]


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "a list"), ("just text\n", "a string"), ("3\n", "an integer")]
)
def test_not_a_mapping(problems: ProblemsOf, text: str, kind: str) -> None:
    assert problems(text) == [(1, "", f"expected a mapping of keys at the top level, got {kind}.")]


def test_duplicate_keys(problems: ProblemsOf) -> None:
    text = "version: 1\nexclude: [a]\ncards:\n  root: .\n  root: docs\nexclude: [b]\n"
    assert problems(text) == [
        (5, "cards.root", "duplicate key 'root' (first on line 4)."),
        (6, "exclude", "duplicate key 'exclude' (first on line 2)."),
    ]


def test_non_string_keys(problems: ProblemsOf) -> None:
    assert problems("version: 1\n3: x\n") == [(2, "", "keys must be strings, got an integer.")]


def test_merge_keys_and_custom_tags_are_rejected(problems: ProblemsOf) -> None:
    text = "version: 1\nbase: &b {root: .}\ncards: !custom {paths: []}\n"
    assert problems(text) == [
        (
            2,
            "base",
            "unknown key 'base'. Allowed keys: version, source_roots, exclude, "
            "placeholders, layers, contracts, cross_domain_layers, transactions, import_scopes, "
            "registry, cards, max_file_size_kb, rules.",
        ),
        (3, "cards", "expected a mapping, got a value tagged !custom."),
    ]


def test_every_problem_is_reported_at_once(config_file: Callable[[str], Path]) -> None:
    path = config_file(
        "version: 3\nlayers:\n  - id: a\n    name: A\n    paths: [x/**]\n    forbid: "
        "{layers: [b]}\nrules: {select: [X1]}\nextra: 1\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines() == [
        f"{path}:1: LG003 version: unsupported version 3 (supported: 1).",
        f"{path}:6: LG003 layers[0].forbid.layers[0]: unknown layer id 'b'. Layer ids: a.",
        f"{path}:7: LG003 rules.select[0]: expected a rule code or prefix (`LG101`, `LG1`) or "
        "`ALL`, got 'X1'.",
        f"{path}:8: LG003 extra: unknown key 'extra'. Allowed keys: version, source_roots, "
        "exclude, placeholders, layers, contracts, cross_domain_layers, transactions, "
        "import_scopes, registry, cards, max_file_size_kb, rules.",
    ]


def test_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "layerguard.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: LG003 cannot read: No such file or directory."


def test_a_file_that_is_not_utf8(config_file: Callable[[str], Path]) -> None:
    path = config_file("")
    path.write_bytes(b"version: 1\nexclude: ['\xff']\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: LG003 not UTF-8 text: invalid start byte."


SENTENCE_END = re.compile(r"[.?!]$")
LOWERCASE_SENTENCE = re.compile(r"[.?!] [a-z]")

EVERY_KIND_OF_PROBLEM = """
version: 2
source_roots: src
soruce: 1
3: x
placeholders:
  audience: {values: [cus]}
  domain: {exclude: ['']}
layers:
  - id: api
    name: API
    paths: ["app/**", "/abs"]
    forbid: {layers: [databse, api, zzz], modules: ["sql*"], layer: []}
    allow:
      - {module: "app.{domain}.x"}
  - id: api
    name: Again
  - id: core
    name: Core
    paths: ["app/core/**", "app/core/**"]
    requires_cards: "yes"
cross_domain_layers: [core, nothing]
transactions: {owners: [core, "app..db", cor], calls: commit}
registry: {handler_layers: [handler]}
import_scopes: {LG1O2: {lazy: false}}
cards:
  root: 1.5
  import_groups:
    - {name: external, layers: [core]}
    - {name: spine, layers: [core, api]}
    - {name: spine, layers: [nope]}
rules: {select: [E501], per_file_ignores: {"/x": [LG1]}}
"""


def test_every_message_is_punctuated_as_sentences(config_file: Callable[[str], Path]) -> None:
    """`unknown layer id 'databse'; did you mean 'database'? Layer ids: api, core.`: a message
    ends as a sentence ends, and a sentence after a question or full stop starts with a
    capital."""
    messages = []
    for text in (EVERY_KIND_OF_PROBLEM, "", "- a list\n", "version: [\n", b"\xff".decode("latin1")):
        with pytest.raises(ConfigError) as caught:
            load_config(config_file(text))
        messages += [problem.message for problem in caught.value.problems]
    overlapping = "version: 1\nlayers:\n  - {id: a, name: A, paths: [app]}\n"
    overlapping += "  - {id: b, name: B, paths: [app/sub]}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(config_file(overlapping))
    messages += [problem.message for problem in caught.value.problems]
    assert len(messages) >= 30
    for message in messages:
        assert SENTENCE_END.search(message), message
        assert not LOWERCASE_SENTENCE.search(message), message
