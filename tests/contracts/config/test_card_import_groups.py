"""`cards.import_groups`: how generated cards group `actual_imports`, and its reference checks."""

from __future__ import annotations

from collections.abc import Callable

from layerguard.contracts.config.model import CardImportGroup, ProjectConfig
from tests.contracts.config.conftest import Problems

LAYERS = """
version: 1
layers:
  - {id: L4, name: Spine, paths: [spine]}
  - {id: L4_handlers, name: Handlers, paths: [handlers]}
  - {id: L7, name: Models, paths: [models]}
"""


def test_groups_load_in_order_with_lines(load: Callable[[str], ProjectConfig]) -> None:
    config = load(
        LAYERS
        + """
cards:
  import_groups:
    - name: spine_internal
      layers: [L4, L4_handlers]
    - name: l7_model
      layers: [L7]
"""
    )
    assert config.cards.import_groups == (
        CardImportGroup("spine_internal", ("L4", "L4_handlers"), 9),
        CardImportGroup("l7_model", ("L7",), 11),
    )
    assert config.cards.import_group("L4_handlers") == "spine_internal"
    assert config.cards.import_group("L7") == "l7_model"


def test_ungrouped_layers_are_grouped_by_id_and_unlayered_modules_are_external(
    load: Callable[[str], ProjectConfig],
) -> None:
    config = load(LAYERS)
    assert config.cards.import_groups == ()
    assert config.cards.import_group("L4") == "L4"
    assert config.cards.import_group(None) == "external"


def test_reference_problems(problems: Callable[[str], Problems]) -> None:
    text = (
        LAYERS
        + """
cards:
  import_groups:
    - name: external
      layers: [L4]
    - name: spine
      layers: [L4, L5]
    - name: spine
      layers: [L7]
"""
    )
    assert problems(text) == [
        (
            9,
            "cards.import_groups[0].name",
            ("'external' is the group of modules in no layer; choose another name."),
        ),
        (
            12,
            "cards.import_groups[1].layers[0]",
            "layer 'L4' is already in import group 'external'.",
        ),
        (
            12,
            "cards.import_groups[1].layers[1]",
            "unknown layer id 'L5'. Layer ids: L4, L4_handlers, L7.",
        ),
        (
            13,
            "cards.import_groups[2].name",
            "duplicate import group 'spine' (also cards.import_groups[1]).",
        ),
    ]


def test_a_group_needs_a_name_and_layers(problems: Callable[[str], Problems]) -> None:
    found = problems(LAYERS + "cards:\n  import_groups:\n    - name: models\n")
    assert found == [(8, "cards.import_groups[0].layers", "missing required key.")]
