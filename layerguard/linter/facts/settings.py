"""The parts of the project contract that change what extraction finds in a file.

They are part of the cache key: editing a layer's paths keeps every cached fact valid, adding a
session factory name does not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from layerguard.contracts.config.model import ProjectConfig, TransactionPolicy
from layerguard.linter.caching.fingerprint import code_fingerprint

BASE_TRANSACTION_METHODS = ("commit", "rollback", "begin", "begin_nested", "flush")
"""Always collected: cards describe flushes too (`Flush only`), even where no rule forbids them."""

SQLALCHEMY_KEYWORDS: dict[str, frozenset[str]] = {
    "commit": frozenset(),
    "rollback": frozenset(),
    "begin": frozenset({"nested", "subtransactions"}),
    "begin_nested": frozenset(),
}
"""The arguments SQLAlchemy's sessions, connections and engines (sync and async) accept in
these calls: none positional, and keywords only in `Session.begin(nested=...)` (and
`subtransactions=`, SQLAlchemy 1.x's). A call passing anything else is another library's method
of the same name (`painter.begin(device)` in Qt, `git.commit(repo=...)`), not a transaction.
Other names of `transactions.calls` are the project's own: any call counts."""

SQLALCHEMY_PACKAGES = frozenset({"sqlalchemy", "sqlmodel"})
"""The packages whose sessions the transaction rules mean: SQLAlchemy, and SQLModel, whose
`Session` and `AsyncSession` are SQLAlchemy's subclasses (FastAPI's full-stack template)."""

_DEFAULT_POLICY = TransactionPolicy()


@dataclass(frozen=True, slots=True)
class ExtractionSettings:
    transaction_methods: tuple[str, ...] = BASE_TRANSACTION_METHODS
    session_factories: tuple[str, ...] = _DEFAULT_POLICY.session_factories
    session_makers: tuple[str, ...] = _DEFAULT_POLICY.session_makers
    registry_execute: tuple[str, ...] = ("registry.execute",)
    registry_register: tuple[str, ...] = ("registry.register",)
    registry_lookup: tuple[str, ...] = ("registry.get_handler",)

    @staticmethod
    def from_config(config: ProjectConfig) -> ExtractionSettings:
        tx = config.transactions
        methods = BASE_TRANSACTION_METHODS + tuple(
            m for m in tx.calls if m not in BASE_TRANSACTION_METHODS
        )
        return ExtractionSettings(
            transaction_methods=methods,
            session_factories=tx.session_factories,
            session_makers=tx.session_makers,
            registry_execute=config.registry.execute,
            registry_register=config.registry.register,
            registry_lookup=config.registry.lookup,
        )

    def fingerprint(self) -> str:
        """A short stable digest of these settings and of the extraction code: the facts
        cache's key besides each file's content."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        blob += code_fingerprint("linter/facts").encode()
        return hashlib.blake2b(blob, digest_size=8).hexdigest()
