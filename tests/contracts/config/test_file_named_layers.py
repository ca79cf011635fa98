"""Layers defined by file name: a glob ending in `.py` matches files only, overlaps are judged
on paths that can exist, and a glob that goes below a file is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from layerguard.contracts.config.model import ProjectConfig
from layerguard.contracts.glob_intersection import WitnessSearch
from layerguard.contracts.layers import LayerMap, LayerMatch
from layerguard.contracts.patterns import PATH

ProblemsOf = Callable[[str], list[tuple[int, str, str]]]
Load = Callable[[str], ProjectConfig]

PER_DOMAIN = """
version: 1
source_roots: [src]
layers:
  - id: views
    name: Views
    paths: ["src/dispatch/{domain}/**/views.py"]
  - id: flows
    name: Flows
    paths: ["src/dispatch/{domain}/**/flows.py"]
  - id: service
    name: Services
    paths: ["src/dispatch/{domain}/**/service.py"]
  - id: models
    name: Models
    paths: ["src/dispatch/{domain}/**/models.py"]
"""


def test_the_per_domain_layers_of_the_issue_load_without_overlap(load: Load) -> None:
    config = load(PER_DOMAIN)
    assert [layer.id for layer in config.layers] == ["views", "flows", "service", "models"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/dispatch/incident/views.py", LayerMatch("views", "incident")),
        ("src/dispatch/incident/flows.py", LayerMatch("flows", "incident")),
        ("src/dispatch/case/type/service.py", LayerMatch("service", "case")),
        ("src/dispatch/incident/severity/models.py", LayerMatch("models", "incident")),
        # A glob ending in `.py` names files: nothing below a directory of that name.
        ("src/dispatch/incident/views.py/helpers.py", None),
        ("src/dispatch/incident/flows.py/views.py", LayerMatch("views", "incident")),
        ("src/dispatch/incident/messaging.py", None),
        ("src/dispatch/views.py", None),  # `{domain}` is a directory
    ],
)
def test_file_named_layers_claim_the_files_they_name(
    load: Load, path: str, expected: LayerMatch | None
) -> None:
    assert LayerMap(load(PER_DOMAIN)).classify_path(path) == expected


def test_directory_globs_still_cover_what_is_below(load: Load) -> None:
    layer_map = LayerMap(
        load(
            """
            version: 1
            layers:
              - id: models
                name: Models
                paths: ["app/models", "app/schemas.py"]
            """
        )
    )
    assert layer_map.classify_path("app/models/user.py") == LayerMatch("models")
    assert layer_map.classify_path("app/schemas.py") == LayerMatch("models")
    assert layer_map.classify_path("app/schemas.py/user.py") is None


def test_a_real_file_overlap_still_names_a_path_that_can_exist(problems: ProblemsOf) -> None:
    [(line, key_path, message)] = problems(
        """
        version: 1
        layers:
          - id: views
            name: Views
            paths: ["app/**/views.py"]
          - id: web
            name: Web
            paths: ["app/web/**"]
        """
    )
    assert (line, key_path) == (8, "layers[1].paths[0]")
    assert "both claim 'app/web/views.py'" in message


def test_module_patterns_of_sibling_modules_do_not_overlap(load: Load) -> None:
    config = load(
        """
        version: 1
        source_roots: [src]
        layers:
          - id: views
            name: Views
            modules: ["dispatch.{domain}.*.views"]
          - id: flows
            name: Flows
            modules: ["dispatch.{domain}.*.flows"]
        """
    )
    layer_map = LayerMap(config)
    assert layer_map.classify_module("dispatch.case.type.views") == LayerMatch("views", "case")
    assert layer_map.classify_module("dispatch.case.type.flows") == LayerMatch("flows", "case")


def test_a_module_pattern_and_a_file_glob_overlap_on_a_real_package(
    problems: ProblemsOf,
) -> None:
    """`views` as a package holding `views.py` is a real place both layers claim."""
    [(_, key_path, message)] = problems(
        """
        version: 1
        source_roots: [src]
        layers:
          - id: views
            name: Views
            modules: ["dispatch.{domain}.*.views"]
          - id: pages
            name: Pages
            paths: ["src/dispatch/{domain}/**/views.py"]
        """
    )
    assert key_path == "layers[1].paths[0]"
    assert "both claim 'src/dispatch/x/x/views/views.py'" in message


def witness(*globs: str) -> str | None:
    split = [tuple(g.split("/")) for g in globs]
    return next(WitnessSearch(PATH, {}).witnesses([*split, ("**", "*.py")]), None)


def test_no_witness_puts_a_directory_named_like_a_python_file() -> None:
    assert witness("app/**/views.py", "app/**/flows.py") is None
    assert witness("app/*/views.py", "app/flows.py/**") is None
    assert witness("app/**/views.py", "app/**") == "app/views.py"


def test_an_exclude_below_every_python_file_is_refused(problems: ProblemsOf) -> None:
    """`**/*.py/**` would match every Python file (`**` also matches nothing) and silently
    empty the layers; it is refused, with why."""
    assert problems(
        PER_DOMAIN.replace(
            "source_roots: [src]\n", 'source_roots: [src]\nexclude: ["**/*.py/**"]\n'
        )
    ) == [
        (
            3,
            "exclude[0]",
            "'*.py' names a Python file and nothing is below a file; with '**' after it the "
            "glob matches every such file itself. Globs ending in `.py` match files only, so no "
            "directory named like a Python file needs excluding: drop the glob, or end it at "
            "'*.py' to mean the files.",
        )
    ]


def test_a_layer_glob_below_a_file_is_refused(problems: ProblemsOf) -> None:
    text = PER_DOMAIN.replace(
        '["src/dispatch/{domain}/**/flows.py"]', '["src/dispatch/{domain}/flows.py/steps.py"]'
    )
    assert problems(text) == [
        (
            9,
            "layers[1].paths[0]",
            "'flows.py' names a Python file and nothing is below a file: 'steps.py' would match "
            "only inside a directory named like one, which is no package; end the glob at "
            "'flows.py'.",
        )
    ]
