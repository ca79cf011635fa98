"""Where a card's `**Path:**` points, and what `**Path:**` to write for a file.

A card names its file relative to `cards.root` (itself relative to the project root), so that
card sets written for `backend/` can live in a repository whose root is one level up. Both
directions are pure string work on POSIX paths: the file system is the caller's business.
"""

from __future__ import annotations

import posixpath
import re

_DRIVE = re.compile(r"[A-Za-z]:/")


def _root(cards_root: str) -> str:
    root = cards_root.strip().replace("\\", "/").strip("/")
    return "" if root in ("", ".") else posixpath.normpath(root)


def card_source_file(written: str, cards_root: str = ".") -> str | None:
    """The project-relative POSIX path a `**Path:**` value names.

    None when the value cannot name a project file: empty, absolute, or leaving the project
    through `..`. Backslashes are read as separators (cards written on Windows).
    """
    text = written.strip().replace("\\", "/")
    if not text or text.startswith("/") or _DRIVE.match(text):
        return None
    joined = posixpath.normpath(posixpath.join(_root(cards_root), text))
    if joined in (".", "..") or joined.startswith("../"):
        return None
    return joined


def card_path_value(source_file: str, cards_root: str = ".") -> str:
    """The `**Path:**` value naming a project-relative file: the inverse of `card_source_file`."""
    root = _root(cards_root)
    return posixpath.relpath(source_file, root) if root else source_file
