"""Why a linter use case could not run as asked (exit status 2, not findings).

The use cases raise these instead of exiting, so that the command line alone decides what a
failure looks like; `ConfigError` (contracts) is the other kind the command line maps to 2.
"""

from __future__ import annotations


class UsageError(Exception):
    """The run cannot be done as asked: git cannot answer `--changed`, a baseline file is
    missing or malformed, an output path lies outside the project. The message says what to
    do."""


class LayerguardWarning(UserWarning):
    """Something a run skipped that is not a finding (a link out of the project): the command
    line prints it as `layerguard: warning: ...` on stderr, a library user gets a warning."""
