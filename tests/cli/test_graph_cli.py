"""`layerguard graph`: exact Mermaid and DOT output for a small hoc-layout project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.linter.graph.formats import render_dot, render_mermaid
from layerguard.linter.graph.views import Edge, Graph, Node
from tests.helpers import Run, write_project

RunCli = Callable[..., Run]

FILES = {
    # L2: the registry (allowed), an engine (LG101), two schemas of its own domain (an allowed
    # exception) and a model under TYPE_CHECKING (LG101 counts those by default).
    "backend/app/hoc/api/cus/policies/policies.py": """\
from typing import TYPE_CHECKING

from app.hoc.cus.hoc_spine.orchestrator.operation_registry import get_operation_registry
from app.hoc.cus.policies.L5_engines.policy_engine import run
from app.hoc.cus.policies.L5_schemas.policy_schemas import PolicyIn, PolicyOut

if TYPE_CHECKING:
    from app.models.policy import Policy
""",
    "backend/app/hoc/api/facades/cus/router.py": "from app.hoc.api.cus.policies import policies\n",
    "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py": "",
    # L5: its own driver, and another domain's (LG103).
    "backend/app/hoc/cus/policies/L5_engines/policy_engine.py": """\
from app.hoc.cus.policies.L6_drivers.policy_driver import save
from app.hoc.cus.incidents.L6_drivers.incident_driver import load
""",
    "backend/app/hoc/cus/policies/L5_schemas/policy_schemas.py": "",
    "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py": "from app.models.policy import P\n",
    "backend/app/hoc/cus/incidents/L6_drivers/incident_driver.py": (
        "from app.models import incident\n"
    ),
    "backend/app/models/policy.py": "",
    "backend/app/models/incident.py": "",
    # Outside every layer: not drawn.
    "backend/scripts/seed.py": "from app.models.policy import Policy\n",
}

LAYER_NODES_MERMAID = """\
flowchart LR
    L2["L2: API routes"]
    L2_1["L2.1: API facades (router wiring)"]
    L4["L4: Orchestration spine"]
    L4_handlers["L4_handlers: Operation handlers"]
    L4_services["L4_services: Spine services"]
    L5["L5: Domain engines"]
    L6["L6: Drivers"]
    L7["L7: Models"]
"""
LAYERS_MERMAID = (
    LAYER_NODES_MERMAID
    + """\
    L2 -->|"1 import"| L4
    L2 -.->|"3 imports, 1 forbidden"| L5
    L2 -.->|"1 import, 1 forbidden"| L7
    L2_1 -->|"1 import"| L2
    L5 -.->|"2 imports, 1 forbidden"| L6
    L6 -->|"2 imports"| L7
    linkStyle 1,2,4 stroke:#d32f2f,stroke-width:2px,color:#d32f2f
"""
)
RED = 'color="#d32f2f", fontcolor="#d32f2f", style="dashed"'
LAYERS_DOT = f"""\
digraph "layers" {{
    rankdir=LR;
    node [shape=box, fontname="Helvetica"];
    edge [fontname="Helvetica"];
    "L2" [label="L2: API routes"];
    "L2.1" [label="L2.1: API facades (router wiring)"];
    "L4" [label="L4: Orchestration spine"];
    "L4_handlers" [label="L4_handlers: Operation handlers"];
    "L4_services" [label="L4_services: Spine services"];
    "L5" [label="L5: Domain engines"];
    "L6" [label="L6: Drivers"];
    "L7" [label="L7: Models"];
    "L2" -> "L4" [label="1 import"];
    "L2" -> "L5" [label="3 imports, 1 forbidden", {RED}];
    "L2" -> "L7" [label="1 import, 1 forbidden", {RED}];
    "L2.1" -> "L2" [label="1 import"];
    "L5" -> "L6" [label="2 imports, 1 forbidden", {RED}];
    "L6" -> "L7" [label="2 imports"];
}}
"""
ROUTE_ID = "app_hoc_api_cus_policies_policies"
REGISTRY_ID = "app_hoc_cus_hoc_spine_orchestrator_operation_registry"
ENGINE_ID = "app_hoc_cus_policies_L5_engines_policy_engine"
SCHEMAS_ID = "app_hoc_cus_policies_L5_schemas_policy_schemas"
DRIVER_ID = "app_hoc_cus_policies_L6_drivers_policy_driver"
OTHER_DRIVER_ID = "app_hoc_cus_incidents_L6_drivers_incident_driver"
DOMAIN_MERMAID = f"""\
flowchart LR
    subgraph group_L2["L2: API routes"]
        {ROUTE_ID}["app.hoc.api.cus.policies.policies"]
    end
    subgraph group_L4["L4: Orchestration spine"]
        {REGISTRY_ID}["app.hoc.cus.hoc_spine.orchestrator.operation_registry"]
    end
    subgraph group_L5["L5: Domain engines"]
        {ENGINE_ID}["app.hoc.cus.policies.L5_engines.policy_engine"]
        {SCHEMAS_ID}["app.hoc.cus.policies.L5_schemas.policy_schemas"]
    end
    subgraph group_L6["L6: Drivers"]
        {DRIVER_ID}["app.hoc.cus.policies.L6_drivers.policy_driver"]
        {OTHER_DRIVER_ID}["app.hoc.cus.incidents.L6_drivers.incident_driver"]
    end
    subgraph group_L7["L7: Models"]
        app_models_policy["app.models.policy"]
    end
    {ROUTE_ID} -->|"1 import"| {REGISTRY_ID}
    {ROUTE_ID} -.->|"1 import, 1 forbidden"| {ENGINE_ID}
    {ROUTE_ID} -->|"2 imports"| {SCHEMAS_ID}
    {ROUTE_ID} -.->|"1 import, 1 forbidden"| app_models_policy
    {ENGINE_ID} -->|"1 import"| {DRIVER_ID}
    {ENGINE_ID} -.->|"1 import, 1 forbidden"| {OTHER_DRIVER_ID}
    {DRIVER_ID} -->|"1 import"| app_models_policy
    classDef outside stroke-dasharray: 4 4,color:#666
    class {REGISTRY_ID},{OTHER_DRIVER_ID},app_models_policy outside
    linkStyle 1,3,5 stroke:#d32f2f,stroke-width:2px,color:#d32f2f
"""
INCIDENT_DRIVER_DOT = """\
digraph "modules of layer L6, domain incidents" {
    rankdir=LR;
    node [shape=box, fontname="Helvetica"];
    edge [fontname="Helvetica"];
    subgraph "cluster_L6" {
        label="L6: Drivers";
        "app.hoc.cus.incidents.L6_drivers.incident_driver" \
[label="app.hoc.cus.incidents.L6_drivers.incident_driver"];
    }
    subgraph "cluster_L7" {
        label="L7: Models";
        "app.models.incident" [label="app.models.incident", style="dashed", fontcolor="#666666"];
    }
    "app.hoc.cus.incidents.L6_drivers.incident_driver" -> "app.models.incident" \
[label="1 import"];
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, FILES)


def graph(run_cli: RunCli, *args: str) -> str:
    run = run_cli(["graph", *args])
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    return run.stdout


def test_layer_graph_in_mermaid(project: Path, run_cli: RunCli) -> None:
    assert graph(run_cli) == LAYERS_MERMAID
    assert graph(run_cli, "--output-format", "mermaid") == LAYERS_MERMAID


def test_layer_graph_in_dot(project: Path, run_cli: RunCli) -> None:
    assert graph(run_cli, "--output-format", "dot") == LAYERS_DOT


def test_the_module_graph_of_a_domain(project: Path, run_cli: RunCli) -> None:
    assert graph(run_cli, "--domain", "policies") == DOMAIN_MERMAID


def test_the_module_graph_of_a_layer_and_domain(project: Path, run_cli: RunCli) -> None:
    assert graph(run_cli, "--layer", "L6", "--domain", "incidents", "--output-format", "dot") == (
        INCIDENT_DRIVER_DOT
    )


def test_the_module_graph_of_a_layer_shows_forbidden_imports_inside_it(
    project: Path, run_cli: RunCli
) -> None:
    text = graph(run_cli, "--layer", "L5", "--output-format", "dot")
    assert text.splitlines()[0] == 'digraph "modules of layer L5" {'
    assert (
        '    "app.hoc.cus.policies.L5_engines.policy_engine" -> '
        '"app.hoc.cus.incidents.L6_drivers.incident_driver" '
        f'[label="1 import, 1 forbidden", {RED}];'
    ) in text.splitlines()


def test_an_empty_layer_is_an_empty_graph(project: Path, run_cli: RunCli) -> None:
    assert graph(run_cli, "--layer", "L4_services") == "flowchart LR\n"


def test_the_output_does_not_depend_on_the_cache(project: Path, run_cli: RunCli) -> None:
    assert graph(run_cli, "--no-cache") == graph(run_cli) == graph(run_cli) == LAYERS_MERMAID


def test_unknown_layer_or_domain_exits_2(project: Path, run_cli: RunCli) -> None:
    layer = run_cli(["graph", "--layer", "L9"])
    assert layer.exit_code == 2
    assert layer.stderr == (
        "layerguard: unknown layer 'L9'; the contract's layers are: L2, L2.1, L4, L4_handlers, "
        "L4_services, L5, L6, L7\n"
    )
    domain = run_cli(["graph", "--domain", "billing"])
    assert domain.exit_code == 2
    assert domain.stderr == (
        "layerguard: no project file belongs to domain 'billing'; domains: incidents, policies\n"
    )
    fmt = run_cli(["graph", "--output-format", "png"])
    assert fmt.exit_code == 2


def test_renderers_escape_labels_and_keep_identifiers_unique() -> None:
    handmade = Graph(
        'a "quoted" title',
        (
            Node("a.b", 'say "hi"', "g"),
            Node("a_b", "back\\slash", "g", outside=True),
            Node("c", "c"),
        ),
        (Edge("a.b", "a_b", 1), Edge("a_b", "c", 2, 2)),
        {"g": 'group "g"'},
    )
    assert (
        render_mermaid(handmade)
        == """\
flowchart LR
    subgraph group_g["group #quot;g#quot;"]
        a_b["say #quot;hi#quot;"]
        a_b_2["back\\slash"]
    end
    c["c"]
    a_b -->|"1 import"| a_b_2
    a_b_2 -.->|"2 imports, 2 forbidden"| c
    classDef outside stroke-dasharray: 4 4,color:#666
    class a_b_2 outside
    linkStyle 1 stroke:#d32f2f,stroke-width:2px,color:#d32f2f
"""
    )
    assert (
        render_dot(handmade)
        == f"""\
digraph "a \\"quoted\\" title" {{
    rankdir=LR;
    node [shape=box, fontname="Helvetica"];
    edge [fontname="Helvetica"];
    subgraph "cluster_g" {{
        label="group \\"g\\"";
        "a.b" [label="say \\"hi\\""];
        "a_b" [label="back\\\\slash", style="dashed", fontcolor="#666666"];
    }}
    "c" [label="c"];
    "a.b" -> "a_b" [label="1 import"];
    "a_b" -> "c" [label="2 imports, 2 forbidden", {RED}];
}}
"""
    )
