"""The architecture linter: facts from libcst, a project index, rules, reporters."""
