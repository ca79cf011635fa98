"""`python -m layerguard` runs the CLI."""

from layerguard.cli.app import main

main()
