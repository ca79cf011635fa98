"""File paths <-> module names, by source roots (regular and namespace packages alike).

A directory without `__init__.py` inside a source root is a namespace package: its files are
modules like any other. Skipping them is how other tools silently miss part of a codebase.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModuleName:
    name: str
    is_package: bool  # an `__init__.py`: relative imports resolve against the module itself


def module_for_path(path: str, source_roots: tuple[str, ...]) -> ModuleName | None:
    """The module a project-relative posix path defines, under the deepest matching root."""
    if not path.endswith(".py"):
        return None
    best: str | None = None
    for root in source_roots:
        prefix = "" if root in (".", "") else root.rstrip("/") + "/"
        if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    if best is None:
        return None
    parts = path[len(best) : -3].split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ModuleName(".".join(parts), is_package)


def resolve_relative(importer: ModuleName, level: int, module: str) -> str | None:
    """The absolute module of `from <level dots><module> import ...` inside `importer`."""
    package = importer.name.split(".") if importer.is_package else importer.name.split(".")[:-1]
    if level > len(package):
        return None  # beyond the top-level package: Python itself refuses it
    base = package[: len(package) - (level - 1)]
    parts = [*base, module] if module else base
    return ".".join(parts) if parts else None
