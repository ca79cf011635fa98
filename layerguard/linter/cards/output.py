"""Where generated cards go, and writing them: the file-system side of `cards generate/sync`.

Naming scheme: a new card mirrors the `**Path:**` it will carry under the card directory, with
`.md` for `.py`: `backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py` gets
`<dir>/backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.md`. Mirroring keeps every
name unique (`__init__.py` files, same-named modules of different domains) and lets a reader
find a card from the file and back. The card directory is `--out`, or else the fixed part of
the first `cards.paths` glob (`literature` for `literature/**/*.md`), so that new cards are
found by the next `layerguard check`.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from layerguard.contracts.cards.location import card_path_value
from layerguard.contracts.config.model import ProjectConfig
from layerguard.contracts.file_access import write_atomically
from layerguard.linter.errors import UsageError
from layerguard.linter.project.discovery import card_matcher, fixed_directory


def default_card_dir(config: ProjectConfig) -> str | None:
    """The fixed directory part of the first `cards.paths` glob ("" = the project root), or
    None when no card glob is configured."""
    if not config.cards.paths:
        return None
    return fixed_directory(config.cards.paths[0])


def card_file_for(source: str, config: ProjectConfig, card_dir: str) -> str:
    """The project-relative path of a new card for the project file `source`."""
    value = card_path_value(source, config.cards.root)
    if value.startswith("../"):  # outside `cards.root`: mirror the project path instead
        value = source
    mirrored = value.removesuffix(".py") + ".md"
    return posixpath.join(card_dir, mirrored) if card_dir else mirrored


def read_by_checks(path: str, config: ProjectConfig) -> bool:
    """Whether `layerguard check` reads a card at this project-relative path."""
    return card_matcher(config.cards.paths)(path)


def write_text(path: Path, text: str, root: Path) -> None:
    """Write a card (or the contract) atomically: an interrupted run never leaves half a file
    behind. Directories are created, never through a link out of the project (`root`); the
    file keeps its mode, or gets the umask's (see `write_atomically`)."""
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    real_root = os.path.realpath(root)
    real = os.path.realpath(existing)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise UsageError(
            f"{path}: not written: {existing} leads out of the project (to {real}); "
            "cards are only written inside it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, newline="")
