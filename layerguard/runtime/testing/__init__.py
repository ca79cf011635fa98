"""Testing kit: fixtures and helpers for code built on the operation registry."""
