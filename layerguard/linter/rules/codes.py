"""Every code layerguard can print, as plain data: the one place a code string is written.

Codes are the public interface: never renumber them. Each constant is named after its rule
class (`FORBIDDEN_LAYER_IMPORT` for `ForbiddenLayerImport`, whose kebab-case name is
`forbidden-layer-import`); a test keeps the three in step. Selecting rules must not import the
rules: a warm run answered by the results cache never runs one, and importing every rule
module (and the card model they use) costs more than the rest of such a run.
"""

from layerguard.contracts.config.errors import CONFIG_ERROR_CODE

# LG0xx input
PYTHON_SYNTAX_ERROR = "LG001"
MALFORMED_CARD = "LG002"
INVALID_CONFIG = CONFIG_ERROR_CODE  # contracts reports it, and cannot import the linter
EMPTY_SCOPE = "LG004"
# LG1xx imports
FORBIDDEN_LAYER_IMPORT = "LG101"
FORBIDDEN_MODULE_IMPORT = "LG102"
CROSS_DOMAIN_IMPORT = "LG103"
INBOUND_IMPORT_NOT_ALLOWED = "LG104"
LAYERS_CONTRACT_BROKEN = "LG111"
FORBIDDEN_CONTRACT_BROKEN = "LG112"
INDEPENDENCE_CONTRACT_BROKEN = "LG113"
ACYCLIC_SIBLINGS_CONTRACT_BROKEN = "LG114"
PROTECTED_CONTRACT_BROKEN = "LG115"
CONTRACT_MODULE_MISSING = "LG118"
UNMATCHED_IMPORT_EXCEPTION = "LG119"
# LG2xx transactions
TRANSACTION_OUTSIDE_OWNER = "LG201"
SESSION_CONSTRUCTION_OUTSIDE_CREATOR = "LG202"
# LG3xx cards
STALE_CARD = "LG301"
MISSING_CARD = "LG302"
CARD_IMPORTS_DRIFT = "LG303"
CARD_TRANSACTION_DRIFT = "LG304"
CARD_EXPORT_DRIFT = "LG305"
CARD_LAYER_MISMATCH = "LG306"
# LG4xx operations
UNKNOWN_OPERATION = "LG401"
DUPLICATE_REGISTRATION = "LG402"
HANDLER_CALLS_HANDLER = "LG403"
OPERATION_NEVER_EXECUTED = "LG404"
# LG9xx suppressions and the baseline
SUPPRESSION_WITHOUT_REASON = "LG901"
UNUSED_SUPPRESSION = "LG902"
MALFORMED_SUPPRESSION = "LG903"
STALE_BASELINE_ENTRY = "LG904"

ALL_CODES: tuple[str, ...] = tuple(
    sorted(
        {
            value
            for value in dict(globals()).values()
            if isinstance(value, str) and value[:2] == "LG"
        }
    )
)
"""Every code above, in order."""

OFF_BY_DEFAULT = frozenset({OPERATION_NEVER_EXECUTED})
"""Rules a project opts into (`rules.extend_select`)."""

FIXED_BY_CARD_SYNC = frozenset({CARD_IMPORTS_DRIFT, CARD_EXPORT_DRIFT})
"""Rules whose findings `check --fix` fixes: `cards sync` rewrites the card's machine-owned
parts (actual imports, the Export Contract) from the code, keeping what people wrote."""

ON_WITH_SECTION: dict[str, str] = {
    TRANSACTION_OUTSIDE_OWNER: "transactions",
    SESSION_CONSTRUCTION_OUTSIDE_CREATOR: "transactions",
}
"""Rules on by default only in projects whose `layerguard.yaml` has this top-level section:
without `transactions:`, nothing says the project uses SQLAlchemy's transactions at all."""

ENABLED_BY_DEFAULT: dict[str, bool] = {code: code not in OFF_BY_DEFAULT for code in ALL_CODES}
