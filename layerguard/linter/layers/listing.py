"""`layerguard layers` (and `check --show-files`): which files each layer holds, and which
files no layer does.

A contract is only as good as the files it reaches: this is how a user sees that a layer of
file-named globs claims the files meant, that none is empty, and what is left in no layer.
It discovers files and classifies their paths; nothing is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.project.discovery import discover


@dataclass(frozen=True, slots=True)
class LayerFile:
    path: str  # project-relative POSIX
    domain: str | None = None  # what `{domain}` matched, for layers that capture one


@dataclass(frozen=True, slots=True)
class LayerFiles:
    id: str
    name: str
    files: tuple[LayerFile, ...]


@dataclass(frozen=True, slots=True)
class LayerListing:
    """Every layer of the contract, in its order, with its files; then the files in none."""

    layers: tuple[LayerFiles, ...]
    unlayered: tuple[str, ...]

    @property
    def files(self) -> int:
        return sum(len(layer.files) for layer in self.layers) + len(self.unlayered)


def list_layers(config: ProjectConfig) -> LayerListing:
    """The project's Python files by layer (raises ConfigError when the contract does not fit
    the tree: a missing source root, a file two layers claim)."""
    project = discover(config)
    by_layer: dict[str, list[LayerFile]] = {layer.id: [] for layer in config.layers}
    unlayered = []
    for path in project.python:
        match = project.layer_map.classify_path(path)
        if match is None:
            unlayered.append(path)
        else:
            by_layer[match.layer].append(LayerFile(path, match.domain))
    layers = tuple(
        LayerFiles(layer.id, layer.name, tuple(by_layer[layer.id])) for layer in config.layers
    )
    return LayerListing(layers, tuple(unlayered))
