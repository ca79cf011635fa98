"""Path globs and module patterns match in polynomial time (audit a1 item 11), and still match
exactly what the plain translation of the grammar (each `**` a greedy run of segments, each
`*` a greedy run of characters) matched, with the same `{domain}`: a differential test over
random patterns and paths. The patterns that took minutes are run through the command line,
with a timeout, in tests/cli/test_hostile_cpu_cli.py."""

from __future__ import annotations

import random
import re

import pytest

from layerguard.contracts.patterns import (
    ANY_DEPTH,
    DOMAIN,
    MODULE,
    PATH,
    PlaceholderRule,
    Syntax,
    compile_pattern,
    names_files,
    placeholder_name,
)

RULES = {"domain": PlaceholderRule(exclude=("b",)), "v": PlaceholderRule(values=("a", "ab"))}
SEGMENTS = ["**", "a", "b", "*", "a*", "*b", "a*b", "*a*", "{domain}", "{v}", "{x}", "ab"]
NAMES = ["a", "b", "ab", "ba", "aab", "bb"]


def plain_regex(pattern: str, syntax: Syntax, domain: str | None, below: bool) -> str:
    """The translation that backtracked exponentially: the reference for what matches."""
    sep = re.escape(syntax.sep)
    parts = []
    captured = False
    for segment in syntax.split(pattern):
        if segment == ANY_DEPTH:
            parts.append(f"(?:{sep}[^{sep}]+)*")
            continue
        name = placeholder_name(segment)
        if name is None:
            body = "".join(f"[^{sep}]*" if ch == "*" else re.escape(ch) for ch in segment)
        elif name == DOMAIN and domain is not None:
            body = re.escape(domain)
        elif name == DOMAIN and captured:
            body = f"(?P={DOMAIN})"
        else:
            rule = RULES.get(name, PlaceholderRule())
            guard = (
                f"(?!(?:{'|'.join(map(re.escape, rule.exclude))})(?:{sep}|\\Z))"
                if rule.exclude
                else ""
            )
            body = guard + (
                f"(?:{'|'.join(map(re.escape, rule.values))})"
                if rule.values
                else f"[{syntax.segment_chars}]+"
            )
            if name == DOMAIN:
                body, captured = f"(?P<{DOMAIN}>{body})", True
        parts.append(sep + body)
    below_it = below and not (syntax is PATH and names_files(syntax.split(pattern)))
    return "".join(parts) + (rf"(?:{sep}.*)?" if below_it else "") + r"\Z"


@pytest.mark.parametrize("syntax", [PATH, MODULE], ids=["path", "module"])
def test_patterns_match_what_the_plain_translation_matches(syntax: Syntax) -> None:
    generator = random.Random(11)
    compared = matched = 0
    for _ in range(4000):
        pattern = syntax.sep.join(
            generator.choice(SEGMENTS) for _ in range(generator.randint(1, 5))
        )
        below = generator.random() < 0.7
        domain = generator.choice([None, None, "a"])
        plain = re.compile(plain_regex(pattern, syntax, domain, below))
        built = compile_pattern(pattern, syntax, RULES, domain=domain, below=below)
        for _ in range(8):
            text = "".join(
                syntax.sep + generator.choice(NAMES) for _ in range(generator.randint(1, 6))
            )
            expected, found = plain.match(text), built.match(text)
            assert (expected is None) == (found is None), (pattern, text)
            if expected is not None and found is not None:
                matched += 1
                assert expected.groupdict() == found.groupdict(), (pattern, text)
            compared += 1
    assert compared == 32_000
    assert matched > 5_000  # the comparison is not only of failures
