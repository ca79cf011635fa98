"""Authority: where the governance state comes from, and how the gate survives its failures.

The table-backed provider lives in ``layerguard.runtime.governance.table`` (needs SQLAlchemy);
it is not imported here so the core stays dependency-free.
"""

from layerguard.runtime.governance.environment import EnvironmentAuthority
from layerguard.runtime.governance.memory import InMemoryKillSwitch
from layerguard.runtime.governance.provider import AuthorityGate, AuthorityProvider
from layerguard.runtime.governance.state import ACTIVE_STATE, GovernanceMode, GovernanceState

__all__ = [
    "ACTIVE_STATE",
    "AuthorityGate",
    "AuthorityProvider",
    "EnvironmentAuthority",
    "GovernanceMode",
    "GovernanceState",
    "InMemoryKillSwitch",
]
