"""Checks of configuration arguments, with messages that name the argument.

A wrong type passed to a constructor used to surface much later, on the dispatch path, as an
``AttributeError`` or a hang (``authority_timeout=None``); these checks refuse it at
construction, where the message can say which argument and what it should be.
"""

from __future__ import annotations

import math


def seconds(value: object, argument: str, *, zero: bool = False) -> float:
    """``value`` if it is a finite number of seconds, positive (or 0 with ``zero``); else a
    ``TypeError`` (not a number) or ``ValueError`` (out of range) naming ``argument``."""
    return _seconds(value, argument, zero=zero, wanted="(int or float)")


def optional_seconds(value: object, argument: str) -> float | None:
    """``None``, or ``value`` checked as ``seconds`` does (positive)."""
    if value is None:
        return None
    return _seconds(value, argument, zero=False, wanted="(int or float) or None")


def _seconds(value: object, argument: str, *, zero: bool, wanted: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{argument} must be a number of seconds {wanted}, got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        wanted = "zero or a positive" if zero else "a positive"
        raise ValueError(f"{argument} must be {wanted} number of seconds, got {value!r}")
    return value
