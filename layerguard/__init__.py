"""layerguard: an operation registry and an architecture linter sharing one layer contract."""

from layerguard._version import __version__

__all__ = ["__version__"]
