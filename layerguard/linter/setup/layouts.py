"""Where a tree keeps its application, and which of the known layouts it follows.

Pure functions of a scanned `Tree`: the main package (and so the source root, detected rather
than assumed), the parts of a layered FastAPI application, the per-domain packages. The presets
(drafts.py) are written from what is found here, so a preset names only directories and files
the project has.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass

from layerguard.linter.setup.tree import Tree

NOT_APPLICATION = frozenset(
    {
        "tests",
        "test",
        "testing",
        "docs",
        "doc",
        "examples",
        "example",
        "scripts",
        "benchmarks",
        "migrations",
        "alembic",
        "build",
        "dist",
    }
)
"""Directory names that hold no application code: never the main package or a layer."""


@dataclass(frozen=True, slots=True)
class Package:
    """The application's top-level package: `path` (e.g. `backend/app`) under `root`."""

    root: str  # "." or a relative directory
    path: str

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    def below(self, name: str) -> str:
        return f"{self.path}/{name}"


DEFAULT_PACKAGE = Package(".", "app")
"""What presets are written for when the tree has no Python package yet."""


def main_package(tree: Tree) -> Package | None:
    """The top-level package holding the most Python files (test, docs and script trees
    aside); without `__init__.py` files, the top directory holding the most."""
    tops = [
        p
        for p in tree.packages
        if posixpath.dirname(p) not in tree.packages and not _outside_application(p)
    ]
    if not tops:
        tops = _namespace_tops(tree)
    if not tops:
        return None
    sizes = {top: sum(1 for f in tree.files if f.startswith(top + "/")) for top in tops}
    best = max(sorted(tops), key=lambda top: (sizes[top], -top.count("/")))
    return Package(posixpath.dirname(best) or ".", best)


def _outside_application(path: str) -> bool:
    return any(part in NOT_APPLICATION for part in path.split("/"))


def _namespace_tops(tree: Tree) -> list[str]:
    """Top directories holding Python files below them, one level inside `src` if it is there:
    the packages of a project written without `__init__.py` files."""
    tops = set()
    for path in tree.files:
        directories = path.split("/")[:-1]
        if directories[:1] == ["src"] and len(directories) > 1:
            top = "src/" + directories[1]
        elif directories and directories[0] != "src":
            top = directories[0]
        else:
            continue
        if not _outside_application(top):
            tops.add(top)
    return sorted(tops)


def sub_packages(tree: Tree, package: Package) -> list[str]:
    """The directories right below the package that hold Python files (test and migration
    trees aside), by name."""
    prefix = package.path + "/"
    below = [f[len(prefix) :] for f in tree.files if f.startswith(prefix)]
    return sorted(
        {path.split("/")[0] for path in below if "/" in path}
        - {"tests", "test", "migrations", "alembic"}
    )


def top_modules(tree: Tree, package: Package) -> list[str]:
    """The modules directly in the package (not its `__init__.py`), as paths."""
    return [
        f
        for f in tree.files
        if posixpath.dirname(f) == package.path and not f.endswith("/__init__.py")
    ]


def package_shape(tree: Tree) -> str:
    """What the tree's main package is made of, in words, for a message that says why no
    layer can be made of its sub-packages (`click/ has no sub-package ...`)."""
    package = main_package(tree)
    if package is None:
        return "it holds no Python package (a directory of .py files)"
    children = sub_packages(tree, package)
    modules = len(top_modules(tree, package))
    beside = f"{modules} module{'' if modules == 1 else 's'}"
    if not children:
        return f"{package.path}/ has no sub-package, only {beside} directly in it"
    if len(children) == 1:
        return f"{package.path}/ has one sub-package ({children[0]}) beside {beside}"
    return f"{package.path}/ has {len(children)} sub-packages ({', '.join(children)})"


@dataclass(frozen=True, slots=True)
class Part:
    """One layer of a known layout as found in the tree: its globs and how many files each
    holds (a directory is written `dir/**`, a module `name.py`)."""

    id: str
    name: str
    globs: tuple[str, ...]
    files: int


def found_parts(
    tree: Tree, package: Package, layers: tuple[tuple[str, str, tuple[str, ...]], ...]
) -> list[Part]:
    """The layers of `layers` ((id, name, candidate names below the package)) that the tree
    has, each with the globs of the candidates it has."""
    parts = []
    for layer_id, name, candidates in layers:
        globs = []
        files = 0
        for candidate in candidates:
            path = package.below(candidate)
            if candidate.endswith(".py") and path in tree.files:
                globs.append(path)
                files += 1
            elif not candidate.endswith(".py") and tree.is_dir(path):
                globs.append(f"{path}/**")
                files += sum(1 for f in tree.files if f.startswith(path + "/"))
        if globs:
            parts.append(Part(layer_id, name, tuple(globs), files))
    return parts


@dataclass(frozen=True, slots=True)
class Domains:
    """Per-domain packages: `parent/{domain}/...`, and which file names occur in them."""

    parent: str
    directories: tuple[str, ...]
    names: frozenset[str]


def per_domain_packages(tree: Tree, names: frozenset[str], minimum: int = 2) -> Domains | None:
    """Directories holding at least two of `names` (`views.py`, `service.py`, ...), under the
    common parent that holds the most of them (the deepest on a tie)."""
    by_directory: dict[str, set[str]] = {}
    for path in tree.files:
        directory, _, name = path.rpartition("/")
        if name in names and directory and not _outside_application(directory):
            by_directory.setdefault(directory, set()).add(name)
    domains = sorted(d for d, found in by_directory.items() if len(found) >= 2)
    if len(domains) < minimum:
        return None
    parents: Counter[str] = Counter()
    for directory in domains:
        parts = directory.split("/")
        for end in range(1, len(parts)):
            parents["/".join(parts[:end])] += 1
    if not parents:
        return None
    parent = max(sorted(parents), key=lambda p: (parents[p], p.count("/")))
    below = tuple(d for d in domains if d.startswith(parent + "/"))
    if len(below) < minimum:
        return None
    used = frozenset(n for d in below for n in by_directory[d])
    return Domains(parent, below, used)
