"""Placement cards on the linter side: what the code says a card should hold (`derive`), the
card text for it (`render`), rewriting the machine-owned parts of an existing card (`sync`),
and where generated cards go on disk (`output`, the only part that touches files)."""
