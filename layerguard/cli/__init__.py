"""The command line: the only place where contracts, linter and runtime meet."""
