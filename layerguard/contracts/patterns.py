"""Path globs and dotted module patterns, compiled once into regular expressions.

Both kinds share one grammar over segments (`/` separated for paths, `.` for modules):

- `*` matches any run of characters within one segment;
- `**` (a whole segment) matches zero or more segments;
- `{name}` (a whole segment) matches one segment allowed by the placeholder `name`: one of its
  `values` if it has any, never one of its `exclude`; in paths it stands for a directory (a
  package), so it never matches a segment holding a dot, such as `x.py`;
- anything else is literal.

A pattern also covers everything below what it matches, as a `.gitignore` entry does:
`backend/app/models` covers `backend/app/models/user.py`, `app.db` covers `app.db.session`.
A path glob whose last segment ends in `.py` names Python files, and matches files only:
`**/views.py` claims `x/views.py`, never what is below a directory named `views.py`.
`{domain}` is captured: the segment it matches is the file's (or module's) domain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ANY_DEPTH = "**"
DOMAIN = "domain"
PYTHON_SUFFIX = ".py"


@dataclass(frozen=True, slots=True)
class PlaceholderRule:
    """The segments a `{name}` may stand for (empty `values`: any segment not excluded)."""

    values: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Syntax:
    """How one family of patterns is written: its separator and what a segment may hold."""

    sep: str
    segment_chars: str  # regex class body of the characters a placeholder segment may hold

    def split(self, pattern: str) -> tuple[str, ...]:
        return tuple(pattern.split(self.sep))


PATH = Syntax(sep="/", segment_chars=r"^/.")
MODULE = Syntax(sep=".", segment_chars=r"^.")


def placeholder_name(segment: str) -> str | None:
    """`domain` for the segment `{domain}`, None for any other segment."""
    if len(segment) > 2 and segment[0] == "{" and segment[-1] == "}":
        return segment[1:-1]
    return None


def names_files(segments: tuple[str, ...]) -> bool:
    """Whether a path glob (split into segments) names Python files: nothing is below a file,
    so it covers nothing below what it matches."""
    return segments[-1].endswith(PYTHON_SUFFIX)


def placeholders_in(pattern: str, syntax: Syntax) -> list[str]:
    return [name for s in syntax.split(pattern) if (name := placeholder_name(s)) is not None]


def compile_pattern(
    pattern: str,
    syntax: Syntax,
    rules: Mapping[str, PlaceholderRule],
    *,
    domain: str | None = None,
    group: str = DOMAIN,
    below: bool = True,
) -> re.Pattern[str]:
    """Compile `pattern` into a regex to match against `syntax.sep + text`.

    The leading separator lets `**` stand for zero segments anywhere, the start included.
    `{domain}` is captured in the group `group` (repeated `{domain}` segments must agree),
    or, when `domain` is given, matches exactly that segment. With `below=False` the pattern
    matches what it names only, not what is below it (contracts' `ignore_imports`).
    """
    return re.compile(
        pattern_regex(pattern, syntax, rules, domain=domain, group=group, below=below)
    )


def pattern_regex(
    pattern: str,
    syntax: Syntax,
    rules: Mapping[str, PlaceholderRule],
    *,
    domain: str | None = None,
    group: str = DOMAIN,
    below: bool = True,
) -> str:
    """The regex of `compile_pattern`, built to match in time polynomial in the text's length
    whatever the pattern: patterns come from contracts and cards, texts from the tree.

    A naive translation backtracks exponentially on patterns with many `**` or `*` (24 `**/a/`
    segments took minutes on a path 33 directories deep): every way of sharing the text's
    segments among them is tried. As in glob matching (and `fnmatch`), the run of segments
    after each `**` but the last is matched where it first fits and that choice is never
    revisited (an atomic group; matching it later could only leave less room for the rest);
    likewise within a segment, each `*` but the last. The run that captures `{domain}` keeps
    its choices open, and still takes the last place it fits: the domain is the one the
    naive translation captures, and a later `{domain}` can repeat it. So a pattern matches
    what it matched before, in at most quadratic time.
    """
    sep = re.escape(syntax.sep)
    runs: list[list[str]] = [[]]  # the segments' regexes, in runs separated by `**`
    captured = False
    capture_run = -1
    for segment in syntax.split(pattern):
        if segment == ANY_DEPTH:
            if runs[-1] or len(runs) == 1:
                runs.append([])  # consecutive `**` are one
            continue
        name = placeholder_name(segment)
        if name is None:
            body = segment_glob_regex(segment, f"[^{sep}]")
        elif name == DOMAIN and domain is not None:
            body = re.escape(domain)
        elif name == DOMAIN and captured:
            body = f"(?P={group})"
        else:
            body = _placeholder_regex(rules.get(name, PlaceholderRule()), syntax)
            if name == DOMAIN:
                body, captured, capture_run = f"(?P<{group}>{body})", True, len(runs) - 1
        runs[-1].append(sep + body)
    # `**` stands for any segments, empty ones (`a//b`) included: what placing a run where it
    # first fits relies on.
    any_depth, fewest = f"(?:{sep}[^{sep}]*+)*", f"(?:{sep}[^{sep}]*+)*?"
    parts = ["".join(runs[0])]
    for index, run in enumerate(runs[1:], start=1):
        text = "".join(run)
        if index in (len(runs) - 1, capture_run):
            parts.append(any_depth + text)  # the last run must end where the text does
        else:
            parts.append(f"(?>{fewest}{text}(?={sep}|\\Z))")
    below_it = below and not (syntax is PATH and names_files(syntax.split(pattern)))
    return "".join(parts) + (rf"(?:{sep}.*)?" if below_it else "") + r"\Z"


def segment_glob_regex(segment: str, any_char: str) -> str:
    """A segment glob (`*` any run of `any_char`) as a regex that matches in linear time:
    each `*` but the last takes the shortest run after which the next literal fits, for good
    (`*a*b*c` is `(?>X*?a)(?>X*?b)X*c`), as `fnmatch` translates its globs."""
    chunks = [re.escape(chunk) for chunk in segment.split("*")]
    if len(chunks) == 1:
        return chunks[0]
    middle = "".join(f"(?>{any_char}*?{chunk})" for chunk in chunks[1:-1])
    return f"{chunks[0]}{middle}{any_char}*{chunks[-1]}"


def _placeholder_regex(rule: PlaceholderRule, syntax: Syntax) -> str:
    sep = re.escape(syntax.sep)
    guard = ""
    if rule.exclude:
        guard = f"(?!(?:{'|'.join(map(re.escape, rule.exclude))})(?:{sep}|\\Z))"
    if rule.values:
        return f"{guard}(?:{'|'.join(map(re.escape, rule.values))})"
    return f"{guard}[{syntax.segment_chars}]+"
