"""Static overlap detection between layers, when layerguard.yaml is loaded."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from layerguard.contracts.config.model import ProjectConfig

ProblemsOf = Callable[[str], list[tuple[int, str, str]]]
Load = Callable[[str], ProjectConfig]


def contract(layers: str, extra: str = "") -> str:
    return "version: 1\n" + textwrap.dedent(extra) + "layers:\n" + textwrap.dedent(layers)


def test_nested_directories_overlap(problems: ProblemsOf) -> None:
    text = contract(
        """\
        - id: app
          name: App
          paths: ["app/**"]
        - id: core
          name: Core
          paths: ["lib/**", "app/core/**"]
        """
    )
    assert problems(text) == [
        (
            8,
            "layers[1].paths[1]",
            "layer 'core' overlaps layer 'app' (paths[0] 'app/**'): both claim 'app/core/x.py'; "
            "carve one out with 'exclude' or narrow a placeholder.",
        )
    ]


def test_exclude_separates_nested_directories(load: Load) -> None:
    load(
        contract(
            """\
            - id: app
              name: App
              paths: ["app/**"]
              exclude: ["app/core/**"]
            - id: core
              name: Core
              paths: ["app/core"]
            """
        )
    )


def test_partial_exclude_still_overlaps(problems: ProblemsOf) -> None:
    text = contract(
        """\
        - id: app
          name: App
          paths: ["app/**"]
          exclude: ["app/core/*_handler.py"]
        - id: core
          name: Core
          paths: ["app/core/**"]
        """
    )
    [(line, key_path, message)] = problems(text)
    assert (line, key_path) == (9, "layers[1].paths[0]")
    assert "both claim 'app/core/x.py'" in message


def test_star_segments_intersect(problems: ProblemsOf) -> None:
    text = contract(
        """\
        - id: engines
          name: Engines
          paths: ["app/L5_*/**"]
        - id: legacy
          name: Legacy
          paths: ["app/*_engines/**"]
        """
    )
    [(line, key_path, message)] = problems(text)
    assert (line, key_path) == (8, "layers[1].paths[0]")
    assert "both claim 'app/L5_x_engines/x.py'" in message


def test_disjoint_star_segments(load: Load) -> None:
    load(
        contract(
            """\
            - id: engines
              name: Engines
              paths: ["app/{domain}/L5_*/**"]
            - id: drivers
              name: Drivers
              paths: ["app/{domain}/L6_*/**"]
            """
        )
    )


def test_only_python_files_count(load: Load) -> None:
    load(
        contract(
            """\
            - id: code
              name: Code
              paths: ["app/*.py"]
            - id: data
              name: Data
              paths: ["app/*.json"]
            """
        )
    )


def test_placeholder_exclude_separates_layers(load: Load) -> None:
    load(
        contract(
            """\
            - id: spine
              name: Spine
              paths: ["app/spine/**"]
            - id: domains
              name: Domains
              paths: ["app/{domain}/**"]
            """,
            extra="placeholders:\n  domain: {exclude: [spine]}\n",
        )
    )


def test_placeholder_without_exclude_overlaps(problems: ProblemsOf) -> None:
    text = contract(
        """\
        - id: spine
          name: Spine
          paths: ["app/spine/**"]
        - id: domains
          name: Domains
          paths: ["app/{domain}/**"]
        """
    )
    [(line, key_path, message)] = problems(text)
    assert (line, key_path) == (8, "layers[1].paths[0]")
    assert "both claim 'app/spine/x.py'" in message


@pytest.mark.parametrize(
    ("values", "overlaps"), [("[billing, policies]", True), ("[billing]", False)]
)
def test_placeholder_values(problems: ProblemsOf, load: Load, values: str, overlaps: bool) -> None:
    text = contract(
        """\
        - id: policies
          name: Policies
          paths: ["app/policies/**"]
        - id: domains
          name: Domains
          paths: ["app/{domain}/**"]
        """,
        extra=f"placeholders:\n  domain: {{values: {values}}}\n",
    )
    if overlaps:
        [(_, key_path, message)] = problems(text)
        assert key_path == "layers[1].paths[0]"
        assert "both claim 'app/policies/x.py'" in message
    else:
        load(text)


def test_top_level_exclude_removes_the_overlap(load: Load) -> None:
    load(
        contract(
            """\
            - id: app
              name: App
              paths: ["app/**"]
              exclude: ["app/core/**"]
            - id: tests
              name: Tests
              paths: ["**/tests/**"]
            """,
            extra='exclude: ["**/tests/**"]\n',
        )
    )


def test_module_pattern_overlaps_a_path_glob(problems: ProblemsOf) -> None:
    text = contract(
        """\
        - id: db
          name: Database
          paths: ["src/app/db/**"]
        - id: sessions
          name: Sessions
          modules: ["app.db.session"]
        """,
        extra="source_roots: [src]\n",
    )
    assert problems(text) == [
        (
            9,
            "layers[1].modules[0]",
            "layer 'sessions' overlaps layer 'db' (paths[0] 'src/app/db/**'): both claim "
            "'src/app/db/session/x.py'; carve one out with 'exclude' or narrow a placeholder.",
        )
    ]


def test_module_form_of_a_pattern_overlaps_a_file_glob(problems: ProblemsOf) -> None:
    text = contract(
        """\
        - id: handlers
          name: Handlers
          paths: ["handlers/*_handler.py"]
        - id: legacy
          name: Legacy
          modules: ["handlers.*_handler"]
        """
    )
    [(_, key_path, message)] = problems(text)
    assert key_path == "layers[1].modules[0]"
    assert "both claim 'handlers/x_handler.py'" in message


def test_the_hoc_layout_has_no_overlap(load: Load) -> None:
    load(
        contract(
            """\
            - id: L4
              name: Spine
              paths: ["app/cus/hoc_spine/**"]
              exclude: ["app/cus/hoc_spine/orchestrator/handlers/**"]
            - id: L4_handlers
              name: Handlers
              paths: ["app/cus/hoc_spine/orchestrator/handlers/**"]
            - id: L5
              name: Engines
              paths: ["app/cus/{domain}/L5_*/**"]
            """,
            extra="placeholders:\n  domain: {exclude: [hoc_spine]}\n",
        )
    )
