"""`registry.handler_layers`: where LG403 finds handlers without a registration."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.model import ProjectConfig, RegistryNames

Problems = list[tuple[int, str, str]]

LAYERS = """
version: 1
layers:
  - id: api
    name: API
    paths: ["app/api/**"]
  - id: handlers
    name: Handlers
    paths: ["app/handlers/**"]
"""


def test_handler_layers_default_to_none(load: Callable[[str], ProjectConfig]) -> None:
    assert load(LAYERS).registry == RegistryNames()
    assert RegistryNames().handler_layers == ()


def test_handler_layers_are_read_next_to_the_call_names(
    load: Callable[[str], ProjectConfig],
) -> None:
    config = load(LAYERS + "registry:\n  lookup: [hub.fetch]\n  handler_layers: [handlers]\n")
    assert config.registry == RegistryNames(lookup=("hub.fetch",), handler_layers=("handlers",))


def test_an_unknown_handler_layer_is_reported_at_its_line(
    problems: Callable[[str], Problems],
) -> None:
    text = LAYERS + "registry:\n  handler_layers: [handlers, handler]\n"
    assert problems(text) == [
        (
            10,
            "registry.handler_layers[1]",
            "unknown layer id 'handler'; did you mean 'handlers'? Layer ids: api, handlers.",
        )
    ]


def test_the_hoc_preset_names_its_handler_layer(tmp_path: Path) -> None:
    preset = files("layerguard.contracts.config") / "presets" / "hoc.yaml"
    path = tmp_path / "layerguard.yaml"
    path.write_text(preset.read_text("utf-8"), encoding="utf-8")
    assert load_config(path).registry.handler_layers == ("L4_handlers",)
