"""Which rules a run enables: defaults, then `layerguard.yaml`'s `rules:`, then the CLI.

Selectors are codes or code prefixes (`LG1` selects every import rule, `ALL` everything), as
in ruff.
"""

from __future__ import annotations

from collections.abc import Iterable

from layerguard.contracts.config.model import RuleSelection
from layerguard.linter.rules.codes import ENABLED_BY_DEFAULT


class UnknownSelectorError(ValueError):
    """A selector that names no rule: a typo that would silently select nothing."""


def _expand(selectors: Iterable[str]) -> set[str]:
    codes: set[str] = set()
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            continue
        matched = {
            code for code in ENABLED_BY_DEFAULT if selector == "ALL" or code.startswith(selector)
        }
        if not matched:
            raise UnknownSelectorError(
                f"unknown rule selector {raw!r}; `layerguard rules` lists every code"
            )
        codes |= matched
    return codes


def enabled_codes(
    configured: RuleSelection,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> frozenset[str]:
    if select is not None:
        codes = _expand(select)
    elif configured.select:
        codes = _expand(configured.select)
    else:
        codes = {code for code, enabled in ENABLED_BY_DEFAULT.items() if enabled}
    codes |= _expand(configured.extend_select) if select is None else set()
    codes -= _expand(configured.ignore)
    codes -= _expand(ignore)
    return frozenset(codes)
