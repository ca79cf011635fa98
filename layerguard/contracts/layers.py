"""Which layer (and domain) a file or module belongs to, from the contract's globs and patterns.

Pure and file-system free: paths are project-root-relative POSIX strings, modules dotted names.
Patterns are compiled into regexes once, and answers are memoised, because the linter asks
about every import target of every file.

A layer claims a path when one of its `paths` globs matches it, or one of its `modules`
patterns matches the module the path holds under a source root, and none of its `exclude`
globs matches it. A module is classified through its *virtual paths* (`<root>/a/b.py` and
`<root>/a/b/__init__.py` for every source root), so it need not be a file of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from layerguard.contracts.config.errors import ConfigProblem
from layerguard.contracts.config.model import CONFIG_FILE_NAME, Layer, ProjectConfig
from layerguard.contracts.glob_intersection import WitnessSearch
from layerguard.contracts.patterns import (
    ANY_DEPTH,
    DOMAIN,
    MODULE,
    PATH,
    PlaceholderRule,
    Syntax,
    compile_pattern,
    names_files,
    pattern_regex,
    placeholder_name,
    placeholders_in,
)

_PYTHON_FILE = (ANY_DEPTH, "*.py")

MAX_OVERLAP_PAIRS = 20_000
"""Pairs of layers that might share a path whose overlap is searched for when the contract is
loaded (all the pairs of 200 layers): a pair takes up to a few hundred microseconds."""


@dataclass(frozen=True, slots=True)
class LayerMatch:
    """The layer a file or module belongs to, and its domain when the layer has `{domain}`."""

    layer: str
    domain: str | None = None


@dataclass(frozen=True, slots=True)
class UnmatchedScope:
    """A layer, or one `paths`/`modules` entry of a layer, that claims none of the files.

    `entry` is None for a whole layer; else the entry's text (its key path names it)."""

    key_path: str
    layer: str
    entry: str | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    """One `paths` or `modules` entry of a layer.

    `globs` are the path globs it covers, for the overlap search: a module pattern gives its
    package and module forms under every source root.
    """

    key: str  # "paths" or "modules"
    index: int
    text: str
    regex: re.Pattern[str]
    globs: tuple[tuple[str, ...], ...]

    def matches(self, text: str, modules: Iterable[str]) -> bool:
        if self.key == "paths":
            return self.regex.match(text) is not None
        return any(self.regex.match("." + m) for m in modules)


class _CompiledLayer:
    """One layer's matchers. Its regex groups are named after its index (`d3_0` for the domain
    of `paths[0]`, `m3_0` of `modules[0]`, `x3_0` in `exclude[0]`) so that the map can join
    every layer into one regex."""

    def __init__(self, index: int, layer: Layer, layer_map: LayerMap) -> None:
        self.index = index
        self.id = layer.id
        rules = layer_map.rules
        self.paths_source = _alternation(layer.paths, PATH, rules, f"d{index}_")
        self.exclude_source = _alternation(layer.exclude, PATH, rules, f"x{index}_")
        modules_source = _alternation(layer.modules, MODULE, rules, f"m{index}_")
        self.domain_groups = [
            *(
                f"d{index}_{i}"
                for i, p in enumerate(layer.paths)
                if DOMAIN in placeholders_in(p, PATH)
            ),
            *(
                f"m{index}_{i}"
                for i, m in enumerate(layer.modules)
                if DOMAIN in placeholders_in(m, MODULE)
            ),
        ]
        self.paths = _compile(self.paths_source)
        self.modules = _compile(modules_source)
        self.exclude = _compile(self.exclude_source)
        self.entries = [
            *(
                _Entry("paths", i, p, compile_pattern(p, PATH, rules), (_with_tail(PATH.split(p)),))
                for i, p in enumerate(layer.paths)
            ),
            *(
                _Entry(
                    "modules", i, m, compile_pattern(m, MODULE, rules), layer_map.module_globs(m)
                )
                for i, m in enumerate(layer.modules)
            ),
        ]

    def claim(self, text: str, modules: Iterable[str]) -> LayerMatch | None:
        """Match `text` (a path with a leading `/`) or one of the modules it holds."""
        found = self.paths.match(text) if self.paths else None
        if found is None and self.modules:
            found = next(filter(None, (self.modules.match("." + m) for m in modules)), None)
        if found is None or (self.exclude and self.exclude.match(text)):
            return None
        return self.match_of(found)

    def match_of(self, found: re.Match[str]) -> LayerMatch:
        """The layer, with the domain captured by whichever of its globs or patterns matched."""
        names = found.re.groupindex
        for group in self.domain_groups:
            if group in names and (domain := found.group(group)) is not None:
                return LayerMatch(self.id, domain)
        return LayerMatch(self.id)


class LayerMap:
    """Classifies paths and modules into the layers of one `ProjectConfig`."""

    def __init__(self, config: ProjectConfig) -> None:
        self.config = config
        self._file = config.path or config.root / CONFIG_FILE_NAME
        self.rules = {
            p.name: PlaceholderRule(values=p.values, exclude=p.exclude) for p in config.placeholders
        }
        self.source_roots = tuple(_normalise_root(r) for r in config.source_roots)
        self._root_prefixes = ["" if r == "." else r + "/" for r in self.source_roots]
        self._layer_ids = frozenset(layer.id for layer in config.layers)
        self._layers = [_CompiledLayer(i, layer, self) for i, layer in enumerate(config.layers)]
        self._any_modules = any(layer.modules for layer in config.layers)
        self._all_layers = None if self._any_modules else _one_regex(self._layers)
        self._exclude = _compile(_alternation(config.exclude, PATH, self.rules, "t"))
        self._by_path: dict[str, LayerMatch | None] = {}
        self._by_module: dict[str, LayerMatch | None] = {}
        self._patterns: dict[tuple[str, str | None], re.Pattern[str]] = {}

    # --- classification ---------------------------------------------------------------------

    def classify_path(self, rel_posix_path: str) -> LayerMatch | None:
        """The layer of a project file, e.g. `backend/app/models/user.py`, or None."""
        try:
            return self._by_path[rel_posix_path]
        except KeyError:
            match = self._by_path[rel_posix_path] = self._first_claim(rel_posix_path)
            return match

    def classify_module(self, dotted_name: str) -> LayerMatch | None:
        """The layer of a module, whether or not it is a file of the project, or None."""
        try:
            return self._by_module[dotted_name]
        except KeyError:
            match = next(
                filter(None, map(self._first_claim, self.virtual_paths(dotted_name))), None
            )
            self._by_module[dotted_name] = match
            return match

    def is_excluded(self, rel_posix_path: str) -> bool:
        """Whether the top-level `exclude` globs keep this path out of every check."""
        return bool(self._exclude and self._exclude.match("/" + rel_posix_path))

    def module_matches(self, pattern: str, module: str, domain: str | None = None) -> bool:
        """Whether `module` (or a package above it) matches a dotted `pattern`.

        With `domain`, `{domain}` in the pattern stands for exactly that segment: an allow
        exception `app.{domain}.schemas` then only covers the importer's own domain.
        """
        key = (pattern, domain)
        regex = self._patterns.get(key)
        if regex is None:
            regex = self._patterns[key] = compile_pattern(
                pattern, MODULE, self.rules, domain=domain
            )
        return regex.match("." + module) is not None

    def allows(self, entries: Iterable[str], match: LayerMatch | None, module: str) -> bool:
        """Whether a module (of layer `match`) is named by `entries`: layer ids or module
        patterns, as in `transactions.owners` and `transactions.session_creators`."""
        for entry in entries:
            if entry in self._layer_ids:
                if match is not None and match.layer == entry:
                    return True
            elif self.module_matches(entry, module):
                return True
        return False

    def virtual_paths(self, module: str) -> list[str]:
        """Where a module's file would be under each source root: `.py`, then `__init__.py`."""
        stem = module.replace(".", "/")
        paths = []
        for prefix in self._root_prefixes:
            paths.append(prefix + stem + ".py")
            paths.append(prefix + stem + "/__init__.py")
        return paths

    def modules_of(self, rel_posix_path: str) -> list[str]:
        """The module a `.py` path holds under each source root that contains it."""
        if not rel_posix_path.endswith(".py"):
            return []
        stem = rel_posix_path[:-3].removesuffix("/__init__")
        found = []
        for root in self.source_roots:
            if root == ".":
                rest = stem
            elif stem.startswith(root + "/"):
                rest = stem[len(root) + 1 :]
            else:
                continue
            if rest and "." not in rest and rest != "__init__":
                found.append(rest.replace("/", "."))
        return found

    def _first_claim(self, path: str) -> LayerMatch | None:
        text = "/" + path
        if self._all_layers is not None:
            found = self._all_layers.match(text)
            if found is None or found.lastgroup is None:
                return None
            return self._layers[int(found.lastgroup[1:])].match_of(found)
        modules = self.modules_of(path) if self._any_modules else []
        return next(filter(None, (layer.claim(text, modules) for layer in self._layers)), None)

    def unmatched(self, paths: Iterable[str]) -> list[UnmatchedScope]:
        """The layers that claim none of `paths` (project files), then the `paths`/`modules`
        entries that claim none of them in the other layers: an entry that matches only what
        the layer's `exclude` carves out, or what an earlier layer claims, counts as unmatched.
        """
        by_id = {layer.id: layer for layer in self._layers}
        used: set[tuple[int, str, int]] = set()
        claimed: set[int] = set()
        for path in paths:
            match = self.classify_path(path)
            if match is None:
                continue
            layer = by_id[match.layer]
            claimed.add(layer.index)
            modules = self.modules_of(path) if self._any_modules else []
            for entry in layer.entries:
                key = (layer.index, entry.key, entry.index)
                if key not in used and entry.matches("/" + path, modules):
                    used.add(key)
        found = [
            UnmatchedScope(f"layers[{layer.index}]", layer.id)
            for layer in self._layers
            if layer.index not in claimed
        ]
        found += [
            UnmatchedScope(
                f"layers[{layer.index}].{entry.key}[{entry.index}]", layer.id, entry.text
            )
            for layer in self._layers
            if layer.index in claimed
            for entry in layer.entries
            if (layer.index, entry.key, entry.index) not in used
        ]
        return found

    def _claimants(self, path: str) -> list[_CompiledLayer]:
        text = "/" + path
        modules = self.modules_of(path) if self._any_modules else []
        return [layer for layer in self._layers if layer.claim(text, modules)]

    # --- overlaps ---------------------------------------------------------------------------

    def module_globs(self, pattern: str) -> tuple[tuple[str, ...], ...]:
        """Path globs covering the files of a module pattern, under every source root."""
        segments = MODULE.split(pattern)
        globs: list[tuple[str, ...]] = []
        for root in self.source_roots:
            base = () if root == "." else PATH.split(root)
            globs.append(_with_tail((*base, *segments)))
            last = segments[-1]
            if last != ANY_DEPTH and placeholder_name(last) is None:
                globs.append((*base, *segments[:-1], last + ".py"))
        return tuple(globs)

    def overlaps(self) -> list[ConfigProblem]:
        """Pairs of layers some Python file could belong to both of, each with a witness path.

        Reported on the later layer's entry, since that is usually the one being added. Only
        layers whose globs might meet are compared, and at most `MAX_OVERLAP_PAIRS` pairs of
        them: past that (hundreds of layers matching anywhere, `**/x/**`), the check of the
        real files (`check_files`) still reports every file two layers claim, and
        `overlap_search_stopped_at` names the first layer not compared with every other, so
        that the contract's reader is told the search is incomplete.
        """
        self.overlap_search_stopped_at: str | None = None
        problems: list[ConfigProblem] = []
        search = WitnessSearch(PATH, self.rules)
        index = _PrefixIndex()
        budget = MAX_OVERLAP_PAIRS
        for later in self._layers:
            prefixes = {_literal_prefix(glob) for entry in later.entries for glob in entry.globs}
            for earlier_index in sorted(index.meeting(prefixes)):
                budget -= 1
                if budget < 0:
                    self.overlap_search_stopped_at = later.id
                    return problems
                earlier = self._layers[earlier_index]
                found = self._overlap(search, earlier, later)
                if found is not None:
                    entry, other, witness = found
                    key_path = f"layers[{later.index}].{entry.key}[{entry.index}]"
                    problems.append(
                        self._problem(
                            key_path,
                            f"layer '{later.id}' overlaps layer '{earlier.id}' "
                            f"({other.key}[{other.index}] '{other.text}'): both claim "
                            f"'{witness}'; carve one out with 'exclude' or narrow a placeholder.",
                        )
                    )
            index.add(later.index, prefixes)
        return problems

    def _overlap(
        self, search: WitnessSearch, earlier: _CompiledLayer, later: _CompiledLayer
    ) -> tuple[_Entry, _Entry, str] | None:
        for entry in later.entries:
            for other in earlier.entries:
                for witness in self._witnesses(search, entry, other):
                    modules = self.modules_of(witness) if self._any_modules else []
                    text = "/" + witness
                    if earlier.claim(text, modules) and later.claim(text, modules):
                        return entry, other, witness
        return None

    def _witnesses(self, search: WitnessSearch, a: _Entry, b: _Entry) -> Iterator[str]:
        for glob_a in a.globs:
            for glob_b in b.globs:
                for witness in search.witnesses([glob_a, glob_b, _PYTHON_FILE]):
                    if not self.is_excluded(witness):
                        yield witness

    def check_files(self, paths: Iterable[str]) -> list[ConfigProblem]:
        """Problems for real files (project-relative POSIX paths) that two layers both claim."""
        problems = []
        for path in paths:
            claimants = self._claimants(path)
            if len(claimants) > 1:
                first, second = claimants[0], claimants[1]
                modules = self.modules_of(path)
                entry = next(e for e in second.entries if e.matches("/" + path, modules))
                key_path = f"layers[{second.index}].{entry.key}[{entry.index}]"
                problems.append(
                    self._problem(
                        key_path,
                        f"'{path}' belongs to both layer '{first.id}' and layer '{second.id}'; "
                        "carve it out of one with 'exclude'.",
                    )
                )
        return problems

    def _problem(self, key_path: str, message: str) -> ConfigProblem:
        return ConfigProblem(self._file, self.config.line_of(key_path), key_path, message)


def _literal_prefix(glob: tuple[str, ...]) -> tuple[str, ...]:
    """The leading segments of a glob that are plain names (up to a `**`, a `*` or a
    placeholder): globs whose prefixes differ where both have one share no path."""
    prefix: list[str] = []
    for segment in glob:
        if segment == ANY_DEPTH or "*" in segment or placeholder_name(segment) is not None:
            break
        prefix.append(segment)
    return tuple(prefix)


class _PrefixIndex:
    """The layers seen so far by the literal prefixes of their globs, so that each layer is
    compared only with the layers that might share a path with it (one of two prefixes
    starts the other): thousands of layers in separate directories are not compared pair by
    pair (2,000 took 28 s)."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, ...], set[int]] = {}
        self._under: dict[tuple[str, ...], set[int]] = {}  # a prefix -> the layers below it

    def add(self, layer: int, prefixes: Iterable[tuple[str, ...]]) -> None:
        for prefix in prefixes:
            self._exact.setdefault(prefix, set()).add(layer)
            for end in range(len(prefix) + 1):
                self._under.setdefault(prefix[:end], set()).add(layer)

    def meeting(self, prefixes: Iterable[tuple[str, ...]]) -> set[int]:
        found: set[int] = set()
        for prefix in prefixes:
            found |= self._under.get(prefix, set())
            for end in range(len(prefix)):
                found |= self._exact.get(prefix[:end], set())
        return found


def _normalise_root(root: str) -> str:
    root = root.strip("/")
    while root.startswith("./"):
        root = root[2:]
    return root or "."


def _with_tail(segments: tuple[str, ...]) -> tuple[str, ...]:
    """A glob covers what is below its matches: give it an explicit trailing `**` (a glob
    naming Python files covers nothing below them)."""
    if segments[-1] == ANY_DEPTH or names_files(segments):
        return segments
    return (*segments, ANY_DEPTH)


def _alternation(
    patterns: tuple[str, ...], syntax: Syntax, rules: dict[str, PlaceholderRule], group: str
) -> str | None:
    """A regex matching any of `patterns`; pattern i captures `{domain}` in group `<group>i`."""
    if not patterns:
        return None
    parts = [pattern_regex(p, syntax, rules, group=f"{group}{i}") for i, p in enumerate(patterns)]
    return "|".join(f"(?:{part})" for part in parts)


def _compile(source: str | None) -> re.Pattern[str] | None:
    return None if source is None else re.compile(source)


def _one_regex(layers: list[_CompiledLayer]) -> re.Pattern[str] | None:
    """All path-only layers in one regex: group `L<i>` matches when layer i claims the path.

    The linter classifies tens of thousands of import targets; one regex call per target
    instead of one per layer matters. A layer's excludes become a negative lookahead, and
    alternation order keeps the first claiming layer, as the per-layer loop does.
    """
    parts = [
        f"(?P<L{layer.index}>"
        + (f"(?!{layer.exclude_source})" if layer.exclude_source else "")
        + f"(?:{layer.paths_source}))"
        for layer in layers
        if layer.paths_source is not None
    ]
    return re.compile("|".join(parts)) if parts else None
