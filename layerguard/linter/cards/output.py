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
import tempfile
from pathlib import Path

from layerguard.contracts.cards.location import card_path_value
from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.project.discovery import card_matcher

_WILDCARDS = frozenset("*?[{")


def default_card_dir(config: ProjectConfig) -> str | None:
    """The fixed directory part of the first `cards.paths` glob ("" = the project root), or
    None when no card glob is configured."""
    if not config.cards.paths:
        return None
    fixed: list[str] = []
    for segment in config.cards.paths[0].split("/")[:-1]:
        if _WILDCARDS & set(segment):
            break
        fixed.append(segment)
    return "/".join(fixed)


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


def write_text(path: Path, text: str) -> None:
    """Write atomically (a temporary file renamed over the target), creating directories: an
    interrupted run never leaves half a card (or half a pyproject.toml) behind. The file keeps
    the target's permissions, or gets the umask's default: not the temporary file's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
