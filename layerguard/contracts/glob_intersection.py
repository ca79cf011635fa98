"""Witness paths for the intersection of segment globs: how layer overlaps are found statically.

Deciding exactly whether two layers (globs minus `exclude` globs, with placeholder constraints)
share a path is more machinery than the question deserves. Instead this module proposes a few
concrete paths that every given glob matches — built segment by segment, choosing for each
segment a string all the globs accept there — and the caller keeps a witness only if the real
matchers, excludes included, accept it. A reported overlap is therefore always real; a missed
one is still caught on real files by `LayerMap.check_files`.

A witness is a path that can exist in a project: no directory in it is named like a Python
file (`flows.py/views.py` would satisfy two globs ending in `.py`, and no project has it).
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence

from layerguard.contracts.patterns import (
    ANY_DEPTH,
    PYTHON_SUFFIX,
    PlaceholderRule,
    Syntax,
    placeholder_name,
    segment_glob_regex,
)

_FILLERS = ("x", "lgw")
"""Text put where every glob has a `*`; the second dodges placeholder excludes like `x`."""

_MAX_STEPS = 20_000


class WitnessSearch:
    """Finds witnesses for many glob combinations over one set of placeholder rules.

    Keeps what every search repeats: the candidate strings of a segment combination.
    """

    def __init__(self, syntax: Syntax, rules: Mapping[str, PlaceholderRule]) -> None:
        self.syntax = syntax
        self.rules = rules
        self._candidates: dict[tuple[str, ...], list[str]] = {}

    def witnesses(self, globs: Sequence[tuple[str, ...]], limit: int = 32) -> Iterator[str]:
        """Yield up to `limit` distinct texts matched by every glob (each a tuple of segments)."""
        if any(_apart(a, b) for i, a in enumerate(globs) for b in globs[i + 1 :]):
            return
        seen: set[str] = set()
        for options in self._segment_sequences(globs):
            for variant in range(len(_FILLERS) + 1):
                text = self.syntax.sep.join(o[min(variant, len(o) - 1)] for o in options)
                directories = text.split(self.syntax.sep)[:-1]
                if any(d.endswith(PYTHON_SUFFIX) for d in directories):
                    continue
                if text not in seen:
                    seen.add(text)
                    yield text
                    if len(seen) >= limit:
                        return

    def _segment_sequences(self, globs: Sequence[tuple[str, ...]]) -> Iterator[list[list[str]]]:
        """Walk all globs in step; yield, per accepted walk, the candidates of each segment."""
        max_depth = sum(len(g) for g in globs) + 1
        steps = 0
        dead: set[tuple[tuple[int, ...], bool, int]] = set()  # states that led nowhere

        def walk(
            pos: tuple[int, ...], acc: list[list[str]], free_last: bool
        ) -> Iterator[list[list[str]]]:
            key = (pos, free_last, len(acc))
            if key in dead:
                return
            produced = False
            for found in expand(pos, acc, free_last):
                produced = True
                yield found
            if not produced:
                dead.add(key)

        def expand(
            pos: tuple[int, ...], acc: list[list[str]], free_last: bool
        ) -> Iterator[list[list[str]]]:
            nonlocal steps
            steps += 1
            if steps > _MAX_STEPS:
                return
            state = list(zip(pos, globs, strict=True))
            if all(p == len(g) for p, g in state):
                if acc:
                    yield acc
                return
            # A `**` may match nothing more...
            for i, (p, g) in enumerate(state):
                if p < len(g) and g[p] == ANY_DEPTH:
                    yield from walk((*pos[:i], p + 1, *pos[i + 1 :]), acc, free_last)
            if len(acc) >= max_depth or any(p == len(g) for p, g in state):
                return
            # ...or every glob consumes one more segment, a `**` staying where it is.
            involved = tuple(g[p] for p, g in state if g[p] != ANY_DEPTH)
            if not involved and free_last:
                return  # one free segment in a row is enough to separate neighbours
            options = self.segment_candidates(involved)
            if options:
                nxt = tuple(p if g[p] == ANY_DEPTH else p + 1 for p, g in state)
                yield from walk(nxt, [*acc, options], not involved)

        yield from walk(tuple(0 for _ in globs), [], False)

    def segment_candidates(self, segments: tuple[str, ...]) -> list[str]:
        """A few strings (most readable first) every segment glob and `{placeholder}` accepts."""
        cached = self._candidates.get(segments)
        if cached is None:
            cached = self._candidates[segments] = _segment_candidates(
                segments, self.syntax, self.rules
            )
        return cached


def _segment_candidates(
    segments: Sequence[str],
    syntax: Syntax,
    rules: Mapping[str, PlaceholderRule],
) -> list[str]:
    names = [n for s in segments if (n := placeholder_name(s)) is not None]
    globs = [s for s in segments if placeholder_name(s) is None]
    valued = [rules[n].values for n in names if n in rules and rules[n].values]
    if valued:
        pool: list[str] = list(valued[0])
    elif literal := next((g for g in globs if "*" not in g), None):
        pool = [literal]
    else:
        stars = [*globs, *("*" for _ in names)]
        pool = [c for f in (_FILLERS[0], None, *_FILLERS[1:]) if (c := _common_string(stars, f))]
    accepted = [c for c in dict.fromkeys(pool) if _accepts(segments, c, syntax, rules)]
    return accepted[: len(_FILLERS) + 1]


def _apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """A quick proof that two globs share nothing: their leading segments (up to a `**`) are
    incompatible somewhere. Most pairs of layers differ in a leading directory name, and
    this spares them the search."""
    for x, y in zip(a, b, strict=False):
        if ANY_DEPTH in (x, y):
            return False
        if placeholder_name(x) is None and placeholder_name(y) is None and not _may_meet(x, y):
            return True
    return False


def _may_meet(x: str, y: str) -> bool:
    """Whether two segment globs might match a common string (a necessary condition)."""
    if "*" not in x and "*" not in y:
        return x == y
    if "*" not in x:
        return _glob_matches(y, x)
    if "*" not in y:
        return _glob_matches(x, y)
    x_parts, y_parts = x.split("*"), y.split("*")
    x_head, y_head, x_tail, y_tail = x_parts[0], y_parts[0], x_parts[-1], y_parts[-1]
    heads_agree = x_head.startswith(y_head) or y_head.startswith(x_head)
    tails_agree = x_tail.endswith(y_tail) or y_tail.endswith(x_tail)
    return heads_agree and tails_agree


def _glob_matches(glob: str, text: str) -> bool:
    return _glob_regex(glob).fullmatch(text) is not None


@functools.lru_cache(maxsize=4096)
def _glob_regex(glob: str) -> re.Pattern[str]:
    return re.compile(segment_glob_regex(glob, "(?s:.)"))


def _accepts(
    segments: Sequence[str], text: str, syntax: Syntax, rules: Mapping[str, PlaceholderRule]
) -> bool:
    if not text or syntax.sep in text:
        return False
    for segment in segments:
        name = placeholder_name(segment)
        if name is None:
            if not _glob_matches(segment, text):
                return False
            continue
        rule = rules.get(name, PlaceholderRule())
        if "." in text or text in rule.exclude or (rule.values and text not in rule.values):
            return False
    return True


def _common_string(globs: Sequence[str], filler: str | None) -> str | None:
    """A short string every `*` glob matches (a 0-1 BFS over their positions).

    With `filler`, the string must contain it at a point where every glob is inside a `*`:
    a longer alternative to the shortest string, which may be empty or excluded.
    """
    queue: deque[tuple[tuple[int, ...], bool, str]] = deque(
        [(tuple(0 for _ in globs), filler is None, "")]
    )
    seen: set[tuple[tuple[int, ...], bool]] = set()
    while queue:
        pos, filled, text = queue.popleft()
        if (pos, filled) in seen:
            continue
        seen.add((pos, filled))
        state = list(zip(pos, globs, strict=True))
        if filled and all(p == len(g) for p, g in state):
            return text
        for i, (p, g) in enumerate(state):
            if p < len(g) and g[p] == "*":
                queue.appendleft(((*pos[:i], p + 1, *pos[i + 1 :]), filled, text))
        if any(p == len(g) for p, g in state):
            continue
        literals = {g[p] for p, g in state if g[p] != "*"}
        if len(literals) == 1:
            nxt = tuple(p if g[p] == "*" else p + 1 for p, g in state)
            queue.append((nxt, filled, text + literals.pop()))
        elif not literals and not filled and filler is not None:
            queue.append((pos, True, text + filler))
    return None
