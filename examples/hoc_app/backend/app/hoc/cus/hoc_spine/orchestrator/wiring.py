"""Every operation of the app and its handler, registered once at start-up.

The composition root calls ``register_handlers`` from the lifespan; the registry is frozen
right after, so the table below is the whole catalogue (``layerguard operations`` prints it).
"""

from __future__ import annotations

from layerguard.runtime import OperationRegistry
from layerguard.runtime.governance.table import TableAuthority

from app.hoc.cus.hoc_spine.orchestrator.handlers.governance_handler import SetKillSwitchHandler
from app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler import (
    ListIncidentsHandler,
    ReportIncidentHandler,
)
from app.hoc.cus.hoc_spine.orchestrator.handlers.policies_handler import (
    CreatePolicyHandler,
    GetPolicyHandler,
    ImportPoliciesHandler,
    ListPoliciesHandler,
)


def register_handlers(registry: OperationRegistry, *, kill_switch: TableAuthority) -> None:
    """Register one handler per operation name (a second registration of a name raises)."""
    registry.register("policies.create", CreatePolicyHandler(), timeout=5.0)
    registry.register("policies.import", ImportPoliciesHandler(), timeout=10.0)
    registry.register("policies.get", GetPolicyHandler(), timeout=5.0)
    registry.register("policies.list", ListPoliciesHandler(), timeout=5.0)
    registry.register("incidents.report", ReportIncidentHandler(), timeout=5.0)
    registry.register("incidents.list", ListIncidentsHandler(), timeout=5.0)
    registry.register("governance.kill_switch", SetKillSwitchHandler(kill_switch), timeout=5.0)
