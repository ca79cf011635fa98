"""The presets `layerguard init` writes, each drafted for the tree it is written into.

A preset is a layer model (`hoc`, `fastapi`, `domains`, `packages`); its draft for a tree
names that tree's source root and package and only the layers the tree has, so that the
contract it writes matches files from the first `check` (an empty layer is a finding, LG004).
`hoc` is a packaged file, moved to the detected package when that is not `backend/app`; the
others are written here. Every comment is written to read right in YAML and, once
`init --pyproject` rewrites the draft, in TOML.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from layerguard.contracts.config.model import CONFIG_FILE_NAME
from layerguard.linter.setup.layouts import (
    DEFAULT_PACKAGE,
    Package,
    Part,
    found_parts,
    main_package,
    per_domain_packages,
    sub_packages,
)
from layerguard.linter.setup.tree import Tree

PRESETS: dict[str, str] = {
    "fastapi": "a layered FastAPI application: api → services → crud/repositories → models; core",
    "domains": "one package per domain: views → flows/service → models in each (file-named)",
    "hoc": "the hoc backend: routes, orchestration spine and handlers, engines, drivers, models",
    "packages": "one layer per sub-package and no rule yet: a start for any other tree",
}
"""Every preset with what it is for (`init --preset list`), best-known layouts first."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A preset written for one tree: the YAML, whether the tree has the preset's layout, and
    why (what was found where)."""

    preset: str
    text: str
    fits: bool
    reasons: tuple[str, ...]

    @property
    def defaults(self) -> bool:
        """Whether the text names the preset's default directories, not the tree's: a layout
        preset written for a tree without that layout (`packages` has no defaults: it names
        the tree's sub-packages, or none)."""
        return not self.fits and self.preset != "packages"


def draft(preset: str, tree: Tree) -> Draft:
    """`preset` written for `tree` (for a tree without the layout, with default names)."""
    package = main_package(tree)
    return _DRAFTERS[preset](tree, package)


def _header(preset: str, about: str) -> list[str]:
    return [
        f"# The layer contract of this project, written by `layerguard init --preset {preset}`.",
        "#",
        *(f"# {line}" if line else "#" for line in about.strip("\n").splitlines()),
        "version: 1",
        "",
    ]


def _roots(package: Package) -> list[str]:
    example = f"{package.below('x.py')}` is `{package.name}.x"
    return [
        f"# Directories whose sub-directories are top-level packages (`{example}`).",
        f"source_roots: [{_plain(package.root)}]",
        "",
    ]


_EXCLUDE = [
    "# Never checked (globs relative to this file).",
    "exclude:",
    '  - "**/migrations/**"',
    '  - "**/alembic/**"',
    '  - "**/tests/**"',
    "",
]


def _layer(
    layer_id: str, name: str, globs: Iterable[str], forbid: list[str], why: str = ""
) -> list[str]:
    lines = [
        f"  - id: {_plain(layer_id)}",
        f"    name: {_name(name)}",
        f"    paths: [{', '.join(json.dumps(g) for g in globs)}]",
    ]
    if forbid:
        lines.append("    forbid:")
        lines += [f"      # {line}" for line in why.strip().splitlines()]
        lines.append(f"      layers: [{', '.join(map(_plain, forbid))}]")
    return [*lines, ""]


def _name(text: str) -> str:
    """A layer name as a YAML block scalar: bare when it is plain words, else quoted."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _.,()/\-]*", text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _plain(text: str) -> str:
    """`text` as a YAML flow scalar: bare when YAML reads it back as the same string."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


def _found(parts: Iterable[Part]) -> tuple[str, ...]:
    return tuple(
        f"layer '{part.id}': {', '.join(part.globs)} ({part.files} "
        f"file{'' if part.files == 1 else 's'})"
        for part in parts
    )


# --- fastapi --------------------------------------------------------------------------------

_FASTAPI_LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "api",
        "HTTP routes and their dependencies",
        (
            *("api", "routes", "routers", "endpoints"),
            *("api.py", "routes.py", "routers.py", "deps.py", "dependencies.py"),
        ),
    ),
    ("services", "Services", ("services", "service", "services.py", "service.py")),
    (
        "crud",
        "Data access (CRUD, repositories)",
        (
            *("crud", "repositories", "repository", "repos"),
            *("crud.py", "repositories.py", "repository.py"),
        ),
    ),
    ("models", "Models and schemas", ("models", "models.py", "schemas", "schemas.py")),
    (
        "core",
        "Settings, security and the database",
        (
            *("core", "db", "database"),
            *("db.py", "database.py", "config.py", "settings.py", "security.py"),
        ),
    ),
)
_FASTAPI_ABOVE = {
    "api": [],
    "services": ["api"],
    "crud": ["api", "services"],
    "models": ["api", "services", "crud"],
    "core": ["api", "services"],
}


def _fastapi(tree: Tree, package: Package | None) -> Draft:
    parts = found_parts(tree, package, _FASTAPI_LAYERS) if package else []
    ids = {part.id for part in parts}
    fits = "api" in ids and bool(ids & {"services", "crud", "models"})
    if not fits:  # written as asked, for the layout the preset describes
        package = package or DEFAULT_PACKAGE
        parts = [Part(i, n, (f"{package.below(c[0])}/**",), 0) for i, n, c in _FASTAPI_LAYERS]
        ids = {part.id for part in parts}
    assert package is not None
    lines = _header(
        "fastapi",
        """
A FastAPI application in layers: the HTTP routes (api) call the services, the services call
the data access (crud, repositories), which uses the models; core holds the settings, security
and the database engine. A layer may import the layers below it, never those above. Every path
below is relative to this file. Reference: docs/configuration.md; `layerguard layers` lists
the files each layer holds.
""",
    )
    lines += _roots(package) + _EXCLUDE + ["layers:"]
    for part in parts:
        forbid = [above for above in _FASTAPI_ABOVE[part.id] if above in ids]
        why = ""
        if part.id == "api" and {"services", "crud"} <= ids:
            forbid, why = ["crud"], "With services in between, routes reach the data through them."
        lines += _layer(part.id, part.name, part.globs, forbid, why)
    owners: list[str] = [i for i in ("services", "crud", "core") if i in ids]
    deps = package.below("api/deps.py")
    creators = [f"{package.name}.api.deps" if deps in tree.files else "api", "core"]
    lines += _transactions(
        tree,
        owners,
        [c for c in creators if c in ids or "." in c],
        "the services and the data access they compose (and core, which sets the database up); "
        "routes leave the transaction to them.",
        "the request's session dependency and core.",
    )
    text = "\n".join(lines).rstrip("\n") + "\n"
    return Draft("fastapi", text, fits, _found(parts) if fits else ())


def _transactions(
    tree: Tree, owners: list[str], creators: list[str], who_owns: str, who_creates: str
) -> list[str]:
    if not tree.uses_database:
        return [
            "# No transactions section: no module imports SQLAlchemy or SQLModel. When one does,",
            "# name who may commit and who may build sessions (docs/configuration.md).",
        ]
    owns = "Who may call commit() / rollback() / begin() / begin_nested(), whatever the "
    return [
        "transactions:",
        *_comment(owns + f"receiver is called: {who_owns}", "  "),
        f"  owners: [{', '.join(owners)}]",
        *_comment(f"Who may construct sessions: {who_creates}", "  "),
        f"  session_creators: [{', '.join(creators)}]",
    ]


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, 96 - len(indent), initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# "
    )


# --- domains --------------------------------------------------------------------------------

_DOMAIN_LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("views", "Views (HTTP routes)", ("views.py", "router.py", "routes.py", "dependencies.py")),
    ("flows", "Flows (orchestration)", ("flows.py",)),
    ("service", "Services", ("service.py", "services.py")),
    ("models", "Models and schemas", ("models.py", "schemas.py")),
)
_DOMAIN_ABOVE = {"views": [], "flows": ["views"], "service": ["views", "flows"]}
_DOMAIN_ABOVE["models"] = ["views", "flows", "service"]


def _domains(tree: Tree, package: Package | None) -> Draft:
    names = frozenset(n for _, _, files in _DOMAIN_LAYERS for n in files)
    found = per_domain_packages(tree, names)
    package = package or DEFAULT_PACKAGE
    parent = found.parent if found is not None else package.path
    used = found.names if found is not None else frozenset(f[0] for _, _, f in _DOMAIN_LAYERS)
    parts = [
        Part(layer_id, name, tuple(f"{parent}/{{domain}}/**/{n}" for n in files if n in used), 0)
        for layer_id, name, files in _DOMAIN_LAYERS
    ]
    parts = [part for part in parts if part.globs]
    ids = {part.id for part in parts}
    lines = _header(
        "domains",
        f"""
One package per domain under {parent}/, each with the same layers, named by file: the views
(HTTP routes) call the flows and the services, the flows orchestrate services, the services use
the models. A layer may import the layers below it, in any domain; {{domain}} names each file's
domain (`layerguard layers` shows it). To keep the domains of a layer apart, list the layer in
cross_domain_layers. Every path below is relative to this file. Reference:
docs/configuration.md.
""",
    )
    lines += _roots(package) + _EXCLUDE + ["layers:"]
    for part in parts:
        forbid = [above for above in _DOMAIN_ABOVE[part.id] if above in ids]
        lines += _layer(part.id, part.name, part.globs, forbid)
    lines += _transactions(
        tree,
        [i for i in ("flows", "service") if i in ids],
        [],
        "the flows and the services; views and models leave the transaction to them.",
        "none of the layers; sessions come from the request's dependency.",
    )
    reasons: tuple[str, ...] = ()
    if found is not None:
        listed = ", ".join(d[len(parent) + 1 :] for d in found.directories[:6])
        more = ", ..." if len(found.directories) > 6 else ""
        reasons = (
            f"{len(found.directories)} domain packages under {parent}/ ({listed}{more}) hold "
            + ", ".join(sorted(found.names)),
        )
    text = "\n".join(lines).rstrip("\n") + "\n"
    return Draft("domains", text, found is not None, reasons)


# --- packages -------------------------------------------------------------------------------


def _packages(tree: Tree, package: Package | None) -> Draft:
    """One layer per sub-package the tree has (none, when it has none: `init` refuses to
    write that); it never names a directory the tree does not have."""
    package = package or DEFAULT_PACKAGE
    children = sub_packages(tree, package)
    lines = _header(
        "packages",
        f"""
One layer per sub-package of {package.name}, and no rule yet: this contract checks nothing
until rules are added. `layerguard graph` draws which layer imports which; decide the direction
imports should go, then give each layer the layers it must not import (forbid, layers), and
keep it true with `layerguard check`. Every path below is relative to this file. Reference:
docs/configuration.md.
""",
    )
    lines += _roots(package) + _EXCLUDE + ["layers:"]
    parts = []
    for child in children:
        layer_id = re.sub(r"[^A-Za-z0-9_.\-]", "_", child)
        files = sum(1 for f in tree.files if f.startswith(package.below(child) + "/"))
        parts.append(
            Part(layer_id, f"{package.name}.{child}", (f"{package.below(child)}/**",), files)
        )
        lines += _layer(layer_id, f"{package.name}.{child}", (f"{package.below(child)}/**",), [])
    if not parts:
        lines[-1] = "layers: []"
    if tree.uses_database:
        lines += [
            "# SQLAlchemy or SQLModel is imported: once the layers have rules, name who may commit",
            "# and who may build sessions in a transactions section (docs/configuration.md).",
        ]
    else:
        lines += _transactions(tree, [], [], "", "")
    fits = len(parts) >= 2
    reasons = (f"{package.path}/ has {len(parts)} sub-packages",) if fits else ()
    text = "\n".join(lines).rstrip("\n") + "\n"
    return Draft("packages", text, fits, reasons)


# --- hoc ------------------------------------------------------------------------------------


def _hoc(tree: Tree, package: Package | None) -> Draft:
    from importlib.resources import files

    text = (files("layerguard.contracts.config") / "presets" / "hoc.yaml").read_text("utf-8")
    fits = package is not None and all(
        tree.is_dir(package.below(part)) for part in ("hoc/api", "hoc/cus")
    )
    if not fits or package is None:
        return Draft("hoc", text, False, ())
    if package.path != "backend/app":
        text = (
            text.replace("source_roots: [backend]", f"source_roots: [{_plain(package.root)}]")
            .replace('"backend/app/', f'"{package.path}/')
            .replace(
                "`backend/app/x.py` is `app.x`", f"`{package.below('x.py')}` is `{package.name}.x`"
            )
            .replace('"app.hoc.', f'"{package.name}.hoc.')
            .replace("app.db]", f"{package.name}.db]")
        )
    empty = _empty_layers(text, tree)
    if empty:
        text = _without_layers(text, empty)
    reasons: tuple[str, ...] = (
        f"{package.path}/hoc/api/ and {package.path}/hoc/cus/ hold the hoc layers",
    )
    if empty:
        reasons += (f"no files for {', '.join(sorted(empty))}: left out",)
    return Draft("hoc", text, True, reasons)


def _empty_layers(text: str, tree: Tree) -> dict[str, tuple[str, ...]]:
    """The layers of a contract text that claim none of the tree's files, with their globs."""
    from pathlib import Path

    from layerguard.contracts.config.loader import parse_config
    from layerguard.contracts.layers import LayerMap
    from layerguard.linter.project.discovery import is_python_file_of

    config = parse_config(text, Path(CONFIG_FILE_NAME))
    layer_map = LayerMap(config)
    checked = [f for f in tree.files if is_python_file_of(f, layer_map)]
    globs = {layer.id: layer.paths for layer in config.layers}
    return {
        scope.layer: globs[scope.layer]
        for scope in layer_map.unmatched(checked)
        if scope.entry is None
    }


def _without_layers(text: str, dropped: dict[str, tuple[str, ...]]) -> str:
    """The packaged hoc text without the `dropped` layers: their blocks, every mention of
    their ids in flow lists, and `exclude` items naming their globs (an `exclude:` left with
    no item goes too). Line-based, so that every comment of the preset stays."""
    globs = {json.dumps(g) for paths in dropped.values() for g in paths}
    kept: list[str] = []
    in_dropped_block = False
    for line in text.splitlines(keepends=True):
        block = re.match(r"  - id: (\S+)\s*$", line)
        if block is not None:
            in_dropped_block = block.group(1) in dropped
        elif in_dropped_block and not line.startswith("    ") and line.strip():
            in_dropped_block = False
        if in_dropped_block:
            continue
        item = re.match(r"\s*- (\S.*?)\s*$", line)
        if item is not None and item.group(1) in globs:
            continue
        kept.append(_without_ids(line, dropped))
    lines: list[str] = []
    for line in kept:  # an `exclude:` whose items all went
        if lines and lines[-1].strip() == "exclude:" and not line.lstrip().startswith("- "):
            lines.pop()
        lines.append(line)
    return "".join(lines)


def _without_ids(line: str, ids: Iterable[str]) -> str:
    """A `key: [a, b, c]` line without the given ids in its flow list."""
    found = re.match(r"(\s*[A-Za-z_]+: \[)([^\]]*)(\].*)", line, re.S)
    if found is None:
        return line
    items = [item.strip() for item in found.group(2).split(",") if item.strip()]
    left = [item for item in items if item not in ids]
    if left == items:
        return line
    return found.group(1) + ", ".join(left) + found.group(3)


_DRAFTERS = {"fastapi": _fastapi, "domains": _domains, "hoc": _hoc, "packages": _packages}
