"""Per-file facts: the linter's only contact with Python source code."""
