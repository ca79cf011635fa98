"""A synthetic hoc-style backend for the speed benchmark.

Realistic files (docstrings, classes with methods, SQLAlchemy-style bodies; ~200 lines on
average), imports between layers and domains, lazy and TYPE_CHECKING imports, and a few
violations of every import and transaction rule. Every violation is also written as an
import-linter `forbidden` contract, so both tools can be run on the same tree and their
findings compared. Deterministic for a given size.
"""

from __future__ import annotations

import random
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

WORDS = [
    "policy",
    "incident",
    "account",
    "billing",
    "invoice",
    "tenant",
    "audit",
    "quota",
    "alert",
    "report",
    "usage",
    "plan",
    "member",
    "role",
    "token",
    "session",
    "webhook",
    "export",
    "import",
    "schedule",
    "rule",
    "limit",
    "region",
]

SPINE_PACKAGES = ("orchestrator", "authority", "adapters", "schemas", "lifecycle")
SERVICE_MODULES = ("time", "ids", "clock", "events", "metrics", "feature_flags")


@dataclass
class Domain:
    name: str
    routes: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)
    drivers: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


@dataclass
class Project:
    root: Path
    files: dict[str, str] = field(default_factory=dict)  # relative path -> source
    domains: list[Domain] = field(default_factory=list)
    spine_modules: list[str] = field(default_factory=list)  # L4 proper (dotted)
    expected_import_findings: set[tuple[str, str, int]] = field(default_factory=set)

    def add(self, path: str, text: str) -> None:
        self.files[path] = text


def _module(path: str) -> str:
    return (
        path.removeprefix("backend/")
        .removesuffix(".py")
        .removesuffix("/__init__")
        .replace("/", ".")
    )


def _body(rng: random.Random, name: str, lines: int) -> str:
    """A method body of roughly `lines` lines of plausible data-access code."""
    out = [f'"""{name.replace("_", " ").capitalize()} for the current tenant."""']
    out.append("started = time.monotonic()")
    while len(out) < lines:
        word = rng.choice(WORDS)
        kind = rng.randrange(6)
        if kind == 0:
            out += [
                f"stmt = select({word.capitalize()}Row).where(",
                f"    {word.capitalize()}Row.tenant_id == tenant_id,",
                f'    {word.capitalize()}Row.status.in_(("active", "pending")),',
                ")",
                "rows = (await session.execute(stmt)).scalars().all()",
            ]
        elif kind == 1:
            out += [
                f"{word}_by_id = {{row.id: row for row in rows}}",
                f"if not {word}_by_id:",
                f'    logger.info("no {word} for tenant %s", tenant_id)',
                "    return []",
            ]
        elif kind == 2:
            out += [
                "for item in items:",
                f"    if item.get('{word}') is None:",
                "        continue",
                f"    total += item['{word}'] * {rng.randint(2, 99)}",
            ]
        elif kind == 3:
            out += [
                "payload = {",
                f'    "{word}": value,',
                '    "tenant_id": tenant_id,',
                '    "elapsed_ms": round((time.monotonic() - started) * 1000, '
                f"{rng.randint(1, 3)}),",
                "}",
            ]
        elif kind == 4:
            out += [
                "try:",
                f"    result = await self._{word}_lookup(session, tenant_id)",
                "except KeyError as exc:",
                f'    raise ValueError(f"unknown {word}: {{exc}}") from exc',
            ]
        else:
            out += [f"# {word}: keep the ordering stable for pagination", "items.sort(key=len)"]
    out.append("return payload if 'payload' in locals() else []")
    return "\n".join(out)


def _class(rng: random.Random, name: str, methods: int, lines: int) -> str:
    parts = [f"class {name}:", f'    """{name} keeps its state per request."""', ""]
    parts.append("    def __init__(self, session: AsyncSession | None = None) -> None:")
    parts.append("        self._session = session")
    for number in range(methods):
        method = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{number}"
        parts.append("")
        parts.append(
            f"    async def {method}(self, session: AsyncSession, tenant_id: str, "
            f"items: list[dict[str, int]], value: int = {number}) -> list[dict[str, object]]:"
        )
        parts.append("        total = 0")
        parts.append(textwrap.indent(_body(rng, method, lines), "        "))
    return "\n".join(parts) + "\n"


def _header(doc: str, imports: list[str], type_imports: tuple[str, ...] | list[str] = ()) -> str:
    lines = [f'"""{doc}"""', "", "from __future__ import annotations", "", "import logging"]
    lines += ["import time", "from typing import TYPE_CHECKING", ""]
    lines += imports
    if type_imports:
        lines += ["", "if TYPE_CHECKING:"] + [f"    {line}" for line in type_imports]
    lines += ["", "logger = logging.getLogger(__name__)", "", ""]
    return "\n".join(lines)


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def generate(root: Path, total_files: int = 2000, seed: int = 7) -> Project:
    """Write the project under `root` (wiped first) and return what was written."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    project = Project(root)
    per_domain = 29
    domain_count = max(2, (total_files - 60) // per_domain)
    project.domains = [
        Domain(f"{WORDS[i % len(WORDS)]}s{i // len(WORDS) or ''}") for i in range(domain_count)
    ]

    # Packages.
    for package in (
        "app",
        "app/hoc",
        "app/hoc/api",
        "app/hoc/api/cus",
        "app/hoc/api/facades",
        "app/hoc/api/facades/cus",
        "app/hoc/cus",
        "app/hoc/cus/hoc_spine",
        "app/hoc/cus/hoc_spine/services",
        "app/hoc/cus/hoc_spine/orchestrator/handlers",
        "app/models",
        "scripts",
    ):
        project.add(f"backend/{package}/__init__.py", "")
    for package in SPINE_PACKAGES:
        project.add(f"backend/app/hoc/cus/hoc_spine/{package}/__init__.py", "")
    project.add(
        "backend/app/db.py",
        '"""Engine and session factory."""\n\nfrom sqlalchemy.ext.asyncio import '
        'async_sessionmaker, create_async_engine\n\nengine = create_async_engine("sqlite+aiosqlite://")\n'
        "AsyncSessionLocal = async_sessionmaker(engine)\n",
    )
    for service in SERVICE_MODULES:
        path = f"backend/app/hoc/cus/hoc_spine/services/{service}.py"
        project.add(
            path,
            _header(f"Spine service: {service}.", [])
            + _class(rng, service.title().replace("_", ""), 5, 30),
        )
    for package in SPINE_PACKAGES:
        for number in range(4):
            path = f"backend/app/hoc/cus/hoc_spine/{package}/{package}_{number}.py"
            imports = ["from app.hoc.cus.hoc_spine.services.time import Time"]
            project.spine_modules.append(_module(path))
            project.add(
                path,
                _header(f"Spine {package} {number}.", imports)
                + _class(rng, f"{package.title()}{number}", 6, 30),
            )
    registry_path = "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py"
    project.add(
        registry_path,
        _header("The operation registry.", [])
        + "def get_operation_registry():\n    return registry\n",
    )
    project.spine_modules.append(_module(registry_path))

    for d_index, domain in enumerate(project.domains):
        d = domain.name
        base = f"backend/app/hoc/cus/{d}"
        for package in ("", "/L5_engines", "/L5_schemas", "/L6_drivers"):
            project.add(f"{base}{package}/__init__.py", "")
        project.add(f"backend/app/hoc/api/cus/{d}/__init__.py", "")
        for n in range(3):
            path = f"backend/app/models/{d}_{n}.py"
            domain.models.append(_module(path))
            project.add(
                path, _header(f"{d} model {n}.", []) + _class(rng, f"{d.title()}Row{n}", 4, 20)
            )
        for n in range(5):
            path = f"{base}/L6_drivers/{d}_driver_{n}.py"
            domain.drivers.append(_module(path))
            imports = [f"from app.models.{d}_{n % 3} import {d.title()}Row{n % 3}"]
            text = _header(
                f"{d} driver {n}.", imports, ["from sqlalchemy.ext.asyncio import AsyncSession"]
            )
            text += _class(rng, f"{d.title()}Driver{n}", 6, 30)
            project.add(path, text)
        for n in range(3):
            path = f"{base}/L5_schemas/{d}_schema_{n}.py"
            domain.schemas.append(_module(path))
            project.add(
                path, _header(f"{d} schemas {n}.", []) + _class(rng, f"{d.title()}Schema{n}", 4, 15)
            )
        for n in range(7):
            path = f"{base}/L5_engines/{d}_engine_{n}.py"
            domain.engines.append(_module(path))
            imports = [
                f"from app.hoc.cus.{d}.L6_drivers.{d}_driver_{n % 5} "
                f"import {d.title()}Driver{n % 5}",
                f"from ..L5_schemas import {d}_schema_{n % 3}",
                "from app.hoc.cus.hoc_spine.services.clock import Clock",
            ]
            text = _header(
                f"{d} engine {n}.", imports, [f"from app.models.{d}_0 import {d.title()}Row0"]
            )
            text += _class(rng, f"{d.title()}Engine{n}", 7, 30)
            text += (
                f"\n\ndef lazy_{n}():\n"
                f"    from app.hoc.cus.{d}.L6_drivers import {d}_driver_{(n + 1) % 5}\n"
                f"    return {d}_driver_{(n + 1) % 5}\n"
            )
            project.add(path, text)
        for n in range(4):
            path = f"backend/app/hoc/api/cus/{d}/{d}_routes_{n}.py"
            domain.routes.append(_module(path))
            imports = [
                "from app.hoc.cus.hoc_spine.orchestrator.operation_registry "
                "import get_operation_registry",
                f"from app.hoc.cus.{d}.L5_schemas.{d}_schema_{n % 3} "
                f"import {d.title()}Schema{n % 3}",
            ]
            text = _header(f"HTTP routes of {d} ({n}).", imports)
            text += (
                f"async def list_{d}_{n}(ctx):\n"
                f"    registry = get_operation_registry()\n"
                f'    return await registry.execute(\n        "{d}.query_{n}",\n'
                "        ctx,\n    )\n\n\n"
            )
            text += _class(rng, f"{d.title()}Routes{n}", 5, 25)
            project.add(path, text)
        handler = f"backend/app/hoc/cus/hoc_spine/orchestrator/handlers/{d}_handler.py"
        text = _header(
            f"Handlers of {d}.",
            [f"from app.hoc.cus.{d}.L5_engines.{d}_engine_0 import {d.title()}Engine0"],
        )
        text += (
            f"class {d.title()}QueryHandler:\n    async def execute(self, ctx):\n"
            f"        return await {d.title()}Engine0(ctx.session).run(ctx)\n\n\n"
            + "".join(
                f'registry.register("{d}.query_{n}", {d.title()}QueryHandler())\n' for n in range(4)
            )
        )
        project.add(handler, text)
        facade = f"backend/app/hoc/api/facades/cus/{d}.py"
        project.add(
            facade,
            _header(f"Router wiring of {d}.", [f"from app.hoc.api.cus.{d} import {d}_routes_0"]),
        )

        # Violations, a few of each kind, recorded for the comparison with import-linter.
        if d_index % 9 == 1:  # LG101: a route imports an engine.
            _inject(
                project,
                domain.routes[0],
                f"from app.hoc.cus.{d}.L5_engines.{d}_engine_1 import {d.title()}Engine1",
                domain.engines[1],
            )
        if d_index % 11 == 2:  # LG102: a route imports sqlalchemy.
            _inject(project, domain.routes[1], "from sqlalchemy import text", "sqlalchemy")
        if d_index % 10 == 3 and d_index + 1 < len(project.domains):  # LG103: cross-domain.
            other = project.domains[d_index + 1].name
            _inject(
                project,
                domain.engines[2],
                f"from app.hoc.cus.{other}.L6_drivers import {other}_driver_0",
                f"app.hoc.cus.{other}.L6_drivers.{other}_driver_0",
            )
        if d_index % 13 == 4:  # LG101: a driver imports an engine.
            _inject(
                project,
                domain.drivers[0],
                f"from app.hoc.cus.{d}.L5_engines import {d}_engine_3",
                domain.engines[3],
            )
        if d_index % 12 == 5:  # LG201 / LG202: a driver commits, a handler builds a session.
            path = f"backend/{domain.drivers[1].replace('.', '/')}.py"
            project.files[path] += "\n\nasync def flush_all(session):\n    await session.commit()\n"
            project.files[handler] += (
                "\n\ndef own_session():\n    from app.db import AsyncSessionLocal\n"
                "    return AsyncSessionLocal()\n"
            )

    project.add("backend/scripts/broken.py", "def broken(:\n    pass\n")  # LG001
    project.add(
        "backend/scripts/suppressed.py", "import os  # layerguard: ignore[LG101]\n"
    )  # LG901/902

    # Top up to the requested size with more spine handlers' helpers.
    n = 0
    while len([p for p in project.files if p.endswith(".py")]) < total_files:
        path = f"backend/app/hoc/cus/hoc_spine/lifecycle/extra_{n}.py"
        project.spine_modules.append(_module(path))
        project.add(
            path,
            _header(f"Lifecycle step {n}.", ["from app.hoc.cus.hoc_spine.services.ids import Ids"])
            + _class(rng, f"Step{n}", 6, 30),
        )
        n += 1

    for relative, text in project.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project


def _inject(project: Project, module: str, line: str, target: str) -> None:
    """Add an import line after the header imports and record the expected finding."""
    path = f"backend/{module.replace('.', '/')}.py"
    lines = project.files[path].splitlines()
    at = lines.index("from typing import TYPE_CHECKING") + 1
    lines.insert(at, line)
    project.files[path] = "\n".join(lines) + "\n"
    project.expected_import_findings.add((module, target, at + 1))
