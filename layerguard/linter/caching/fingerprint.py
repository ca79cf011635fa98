"""A fingerprint of layerguard's own code, for the cache keys.

The version number says which release made a cache entry, but not which code: in an editable
install (a developer's, or a team's fork) the code changes under the same version, and facts or
findings computed by yesterday's rules must not be served today. The size and mtime of the
modules are enough, and cost a stat per module rather than a read.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from layerguard._version import __version__

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def code_fingerprint(*packages: str) -> str:
    """A digest of the version and of every module under `packages` (relative to layerguard/,
    e.g. "linter/facts")."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    for package in packages:
        for directory, _, names in sorted(os.walk(_PACKAGE / package)):
            for name in sorted(names):
                if name.endswith(".py"):
                    stat = os.stat(os.path.join(directory, name))
                    digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
