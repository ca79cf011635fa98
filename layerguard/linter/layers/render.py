"""The layer listing as text (a heading per layer, its files indented) or JSON."""

from __future__ import annotations

import json

from layerguard.linter.diagnostics import plural
from layerguard.linter.layers.listing import LayerListing


def text(listing: LayerListing) -> str:
    """Per layer `id (name): N files` and its files, project-relative (as the contract's globs
    are written), each with its domain; then the files in no layer."""
    lines = []
    for layer in listing.layers:
        count = plural(len(layer.files), "file") if layer.files else "no files"
        lines.append(f"{_shown(layer.id)} ({_shown(layer.name)}): {count}")
        lines += [
            f"  {_shown(file.path)}" + (f"  [{_shown(file.domain)}]" if file.domain else "")
            for file in layer.files
        ]
    lines.append(f"in no layer: {plural(len(listing.unlayered), 'file')}")
    lines += [f"  {_shown(path)}" for path in listing.unlayered]
    return "\n".join(lines) + "\n"


def _shown(text: str) -> str:
    """A file name may hold anything but `/` and NUL: escape what a terminal would act on."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def json_text(listing: LayerListing) -> str:
    data = {
        "layers": [
            {
                "id": layer.id,
                "name": layer.name,
                "files": [{"path": f.path, "domain": f.domain} for f in layer.files],
            }
            for layer in listing.layers
        ],
        "unlayered": list(listing.unlayered),
    }
    # ASCII, as every JSON output: a bidirectional override or a lone surrogate (a file name
    # that is not UTF-8) in a name is a \u escape, never written raw.
    return json.dumps(data, indent=2) + "\n"


RENDERERS = {"text": text, "json": json_text}
