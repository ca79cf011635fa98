"""A fingerprint of layerguard's own code, for the cache keys.

The version number says which release made a cache entry, but not which code: in an editable
install (a developer's, or a team's fork) the code changes under the same version, and facts or
findings computed by yesterday's rules must not be served today. The fingerprint hashes the
modules' bytes, not their paths or times, so two installs of the same code (a virtualenv and
pre-commit's environment, a CI runner) share their caches.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from layerguard._version import __version__

_PACKAGE = Path(__file__).resolve().parent.parent.parent


@cache
def code_fingerprint(*packages: str) -> str:
    """A digest of the version and of every module under `packages` (relative to layerguard/,
    e.g. "linter/facts"; a module path names that module alone)."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    for package in packages:
        target = _PACKAGE / package
        modules = [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))
        for module in modules:
            digest.update(module.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            digest.update(module.read_bytes())
    return digest.hexdigest()
