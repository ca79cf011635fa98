"""The hoc layer model is direct-only by default: in the bundled example the router wiring
(L2.1) imports the routes (L2), which use the spine (L4) and their own domain's schemas (L5) —
the design, although L2.1 may import neither itself. Opting a layer's `forbid` into indirect
checking reports those chains; the example as shipped reports nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Run

EXAMPLE = Path(__file__).parents[2] / "examples" / "hoc_app"
ROUTERS = "backend/app/hoc/api/facades/routers.py"


def test_the_example_reports_chains_only_once_a_layer_opts_into_them(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    copy = tmp_path / "hoc_app"
    shutil.copytree(
        EXAMPLE, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", ".*_cache", "*.db")
    )
    assert run_cli(["check", "--no-cache", "--output-format", "json"], cwd=copy).findings() == []

    config = copy / "layerguard.yaml"
    text = config.read_text("utf-8")
    forbid = "      layers: [L4, L4_handlers, L5, L6, L7]  # adapted: no L4_services\n"
    assert text.count(forbid) == 1  # L2.1's
    config.write_text(text.replace(forbid, forbid + "      indirect: true\n"), "utf-8")
    run = run_cli(["check", "--no-cache", "--output-format", "json"], cwd=copy)
    assert run.findings() == [
        ("LG101", ROUTERS, 10),
        ("LG101", ROUTERS, 11),
        ("LG101", ROUTERS, 12),
    ]
    assert [f["key"] for f in run.report["findings"]] == [
        "L2.1:app.hoc.api.facades.routers->app.hoc.cus.hoc_spine.authority.admin_token, "
        "app.hoc.cus.hoc_spine.schemas.governance",
        "L2.1:app.hoc.api.facades.routers->app.hoc.cus.incidents.L5_schemas.incident",
        "L2.1:app.hoc.api.facades.routers->app.hoc.cus.hoc_spine.schemas.tenancy, "
        "app.hoc.cus.policies.L5_schemas.policy",
    ]
    assert run.report["findings"][1]["message"] == (
        "L2.1 (API facades (router wiring)) must not depend on L5 (Domain engines) "
        "`app.hoc.cus.incidents.L5_schemas.incident`, even indirectly: "
        "`app.hoc.api.facades.routers` → `app.hoc.api.cus.incidents.incidents` "
        f"({ROUTERS}:11) → `app.hoc.cus.incidents.L5_schemas.incident` "
        "(backend/app/hoc/api/cus/incidents/incidents.py:14); remove an import of the chain, or "
        "add an `allow:` exception with a reason"
    )
