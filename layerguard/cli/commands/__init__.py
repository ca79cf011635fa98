"""The commands of `layerguard`, one module each; they import cli/options.py, never each other."""
