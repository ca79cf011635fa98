"""Process exit codes, shared by every command (the conventional ruff/flake8 triple)."""

OK = 0
FINDINGS = 1
USAGE_ERROR = 2
