"""Witness paths for the intersection of segment globs: how layer overlaps are found statically.

Deciding exactly whether two layers (globs minus `exclude` globs, with placeholder constraints)
share a path is more machinery than the question deserves. Instead this module proposes a few
concrete paths that every given glob matches — built segment by segment, choosing for each
segment a string all the globs accept there — and the caller keeps a witness only if the real
matchers, excludes included, accept it. A reported overlap is therefore always real; a missed
one is still caught on real files by `LayerMap.check_files`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence

from layerguard.contracts.patterns import ANY_DEPTH, PlaceholderRule, Syntax, placeholder_name

_FILLERS = ("x", "lgw")
"""Text put where every glob has a `*`; the second dodges placeholder excludes like `x`."""

_MAX_STEPS = 20_000


def witnesses(
    globs: Sequence[tuple[str, ...]],
    syntax: Syntax,
    rules: Mapping[str, PlaceholderRule],
    limit: int = 32,
) -> Iterator[str]:
    """Yield up to `limit` distinct texts matched by every glob (each a tuple of segments)."""
    seen: set[str] = set()
    for options in _segment_sequences(globs, syntax, rules):
        for variant in range(len(_FILLERS) + 1):
            text = syntax.sep.join(o[min(variant, len(o) - 1)] for o in options)
            if text not in seen:
                seen.add(text)
                yield text
                if len(seen) >= limit:
                    return


def _segment_sequences(
    globs: Sequence[tuple[str, ...]],
    syntax: Syntax,
    rules: Mapping[str, PlaceholderRule],
) -> Iterator[list[list[str]]]:
    """Walk all globs in step; yield, per accepted walk, the candidate strings of each segment."""
    max_depth = sum(len(g) for g in globs) + 1
    steps = 0

    def walk(
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
        involved = [g[p] for p, g in state if g[p] != ANY_DEPTH]
        if not involved and free_last:
            return  # one free segment in a row is enough to separate neighbours
        options = _segment_candidates(involved, syntax, rules)
        if options:
            nxt = tuple(p if g[p] == ANY_DEPTH else p + 1 for p, g in state)
            yield from walk(nxt, [*acc, options], not involved)

    yield from walk(tuple(0 for _ in globs), [], False)


def _segment_candidates(
    segments: Sequence[str],
    syntax: Syntax,
    rules: Mapping[str, PlaceholderRule],
) -> list[str]:
    """A few strings (most readable first) that every segment glob and `{placeholder}` accepts."""
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


def _accepts(
    segments: Sequence[str], text: str, syntax: Syntax, rules: Mapping[str, PlaceholderRule]
) -> bool:
    if not text or syntax.sep in text:
        return False
    for segment in segments:
        name = placeholder_name(segment)
        if name is None:
            if not re.fullmatch(".*".join(map(re.escape, segment.split("*"))), text, re.S):
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
