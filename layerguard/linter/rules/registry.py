"""Every rule, in code order. Codes are the public interface: never renumber them."""

from __future__ import annotations

from layerguard.linter.rules.base import Rule, RuleInfo
from layerguard.linter.rules.baseline import StaleBaselineEntry
from layerguard.linter.rules.cards import (
    CardExportDrift,
    CardImportsDrift,
    CardLayerMismatch,
    CardTransactionDrift,
    MissingCard,
    StaleCard,
)
from layerguard.linter.rules.contracts import (
    AcyclicSiblingsContractBroken,
    ContractModuleMissing,
    ForbiddenContractBroken,
    IndependenceContractBroken,
    LayersContractBroken,
    ProtectedContractBroken,
    UnmatchedImportException,
)
from layerguard.linter.rules.imports import (
    CrossDomainImport,
    ForbiddenLayerImport,
    ForbiddenModuleImport,
)
from layerguard.linter.rules.inbound_imports import InboundImportNotAllowed
from layerguard.linter.rules.input import (
    EmptyScope,
    InvalidConfig,
    MalformedCard,
    PythonSyntaxError,
)
from layerguard.linter.rules.operations import (
    DuplicateRegistration,
    HandlerCallsHandler,
    OperationNeverExecuted,
    UnknownOperation,
)
from layerguard.linter.rules.suppressions import (
    MalformedSuppression,
    SuppressionRule,
    SuppressionWithoutReason,
    UnusedSuppression,
)
from layerguard.linter.rules.transactions import (
    SessionConstructionOutsideCreator,
    TransactionOutsideOwner,
)

INDEX_RULES: tuple[type[Rule], ...] = (
    PythonSyntaxError,
    MalformedCard,
    EmptyScope,
    ForbiddenLayerImport,
    ForbiddenModuleImport,
    CrossDomainImport,
    InboundImportNotAllowed,
    LayersContractBroken,
    ForbiddenContractBroken,
    IndependenceContractBroken,
    AcyclicSiblingsContractBroken,
    ProtectedContractBroken,
    ContractModuleMissing,
    UnmatchedImportException,
    TransactionOutsideOwner,
    SessionConstructionOutsideCreator,
    StaleCard,
    MissingCard,
    CardImportsDrift,
    CardTransactionDrift,
    CardExportDrift,
    CardLayerMismatch,
    UnknownOperation,
    DuplicateRegistration,
    HandlerCallsHandler,
    OperationNeverExecuted,
)
SUPPRESSION_RULES: tuple[type[SuppressionRule], ...] = (
    SuppressionWithoutReason,
    UnusedSuppression,
    MalformedSuppression,
)
ALL_RULES: tuple[type[RuleInfo], ...] = tuple(
    sorted(
        (*INDEX_RULES, *SUPPRESSION_RULES, InvalidConfig, StaleBaselineEntry),
        key=lambda rule: rule.code,
    )
)
RULES_BY_CODE: dict[str, type[RuleInfo]] = {rule.code: rule for rule in ALL_RULES}
