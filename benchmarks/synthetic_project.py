"""A synthetic hoc-style backend for the speed benchmark, shaped like a real one.

What real backends have and a uniform generator would miss: a long tail of file sizes (median
~150 lines, a few files of 2-3k lines: one class with dozens of methods), decorators
(`@staticmethod`, `@property`, `@functools.lru_cache`, FastAPI route decorators), module, class
and multi-line method docstrings, lazy imports inside methods, `TYPE_CHECKING` blocks, registry
calls split over several lines, and placement cards for about a quarter of the files (engines,
handlers and drivers), written by `layerguard cards generate` and then left to drift the way
cards do: some files gained a function or an import since, some cards describe deleted files.

Imports run between layers and domains with a few violations of every import and transaction
rule; each import violation is also written as an import-linter `forbidden` contract, so both
tools can be run on the same tree and their findings compared. Deterministic for a given size.
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

PRESET = Path(__file__).parent.parent / "layerguard/contracts/config/presets/hoc.yaml"

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
    cards: int = 0

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


def file_lines(rng: random.Random) -> int:
    """A file's size in lines: log-normal, median 150, clipped to 20..3000 (real code bases
    have a long tail of big modules)."""
    return int(min(3000, max(20, rng.lognormvariate(5.0, 0.95))))


_DECORATED = (
    (0.55, None, "self, session: AsyncSession, tenant_id: str, items: list[dict[str, int]]"),
    (0.15, "@staticmethod", "session: AsyncSession, tenant_id: str, items: list[dict[str, int]]"),
    (0.1, "@classmethod", "cls, session: AsyncSession, tenant_id: str, items: list[dict]"),
    (0.1, "@property", "self"),
    (0.1, "@functools.lru_cache(maxsize=128)", "self, tenant_id: str, items: tuple = ()"),
)


def _method(rng: random.Random, number: int, lines: int, lazy: str | None) -> list[str]:
    """One method: a decorator or none, a signature to match, a docstring, a body."""
    draw, chosen = rng.random(), _DECORATED[0]
    for option in _DECORATED:
        if draw < option[0]:
            chosen = option
            break
        draw -= option[0]
    _, decorator, params = chosen
    name = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{number}"
    out = [""]
    if decorator is not None:
        out.append(f"    {decorator}")
    out.append(f"    async def {name}({params}, value: int = {number}) -> list[dict[str, object]]:")
    if rng.random() < 0.3:
        out += [
            f'        """{name.replace("_", " ").capitalize()}.',
            "",
            "        Runs inside the caller's unit of work; never commits.",
            '        """',
        ]
    if lazy is not None:
        out.append(f"        {lazy}")
    out.append("        total = 0")
    out.append(textwrap.indent(_body(rng, name, lines), "        "))
    return out


def _class(rng: random.Random, name: str, budget: int, lazy: list[str]) -> str:
    """A class of about `budget` lines: a docstring, `__init__`, methods of 4-40 lines."""
    parts = [f"class {name}:", f'    """{name} keeps its state per request."""', ""]
    parts.append("    def __init__(self, session: AsyncSession | None = None) -> None:")
    parts.append("        self._session = session")
    number, lines = 0, len(parts)
    while lines < budget:
        wanted = lazy[number % len(lazy)] if lazy and rng.random() < 0.08 else None
        method = _method(rng, number, rng.randint(4, min(40, max(4, budget - lines))), wanted)
        parts += method
        lines += sum(part.count("\n") + 1 for part in method)
        number += 1
    return "\n".join(parts) + "\n"


def _code(rng: random.Random, stem: str, budget: int, lazy: list[str] = ()) -> str:  # type: ignore[assignment]
    """Classes (one with dozens of methods in a big file) and functions filling `budget`
    lines; `lazy` are import statements some methods make inside their body."""
    blocks, used, number = [], 0, 0
    while used < budget:
        if rng.random() < 0.75:
            size = min(budget - used, rng.randint(40, 900))
            block = _class(rng, f"{stem}{number or ''}", size, list(lazy))
        else:
            fn = f"{rng.choice(WORDS)}_{stem.lower()}_{number}"
            decorator = "@functools.cache\n" if rng.random() < 0.3 else ""
            body = textwrap.indent(_body(rng, fn, rng.randint(4, 30)), "    ")
            block = f"{decorator}def {fn}(tenant_id: str, items: list, value: int = 0):\n"
            block += "    total = 0\n" + body + "\n"
        blocks.append(block)
        used += block.count("\n") + 2
        number += 1
    return "\n\n".join(blocks)


def _header(doc: str, imports: list[str], type_imports: tuple[str, ...] | list[str] = ()) -> str:
    lines = [f'"""{doc}', "", "Generated for the layerguard benchmark.", '"""', ""]
    lines += ["from __future__ import annotations", "", "import functools", "import logging"]
    lines += ["import time", "from typing import TYPE_CHECKING", ""]
    lines += imports
    if type_imports:
        lines += ["", "if TYPE_CHECKING:"] + [f"    {line}" for line in type_imports]
    lines += ["", "logger = logging.getLogger(__name__)", "", ""]
    return "\n".join(lines)


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def generate(root: Path, total_files: int = 2000, seed: int = 7, cards: bool = True) -> Project:
    """Write the project under `root` (wiped first), its contract (the hoc preset) and, unless
    `cards` is False, its placement cards; return what was written."""
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
            + _code(rng, service.title().replace("_", ""), file_lines(rng)),
        )
    for package in SPINE_PACKAGES:
        for number in range(4):
            path = f"backend/app/hoc/cus/hoc_spine/{package}/{package}_{number}.py"
            imports = ["from app.hoc.cus.hoc_spine.services.time import Time"]
            project.spine_modules.append(_module(path))
            project.add(
                path,
                _header(f"Spine {package} {number}.", imports)
                + _code(rng, f"{package.title()}{number}", file_lines(rng)),
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
                path,
                _header(f"{d} model {n}.", []) + _code(rng, f"{d.title()}Row{n}", file_lines(rng)),
            )
        for n in range(5):
            path = f"{base}/L6_drivers/{d}_driver_{n}.py"
            domain.drivers.append(_module(path))
            imports = [f"from app.models.{d}_{n % 3} import {d.title()}Row{n % 3}"]
            text = _header(
                f"{d} driver {n}.", imports, ["from sqlalchemy.ext.asyncio import AsyncSession"]
            )
            text += _code(
                rng,
                f"{d.title()}Driver{n}",
                file_lines(rng),
                [f"from app.models import {d}_{(n + 1) % 3}"],
            )
            project.add(path, text)
        for n in range(3):
            path = f"{base}/L5_schemas/{d}_schema_{n}.py"
            domain.schemas.append(_module(path))
            project.add(
                path,
                _header(f"{d} schemas {n}.", [])
                + _code(rng, f"{d.title()}Schema{n}", file_lines(rng)),
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
            text += _code(
                rng,
                f"{d.title()}Engine{n}",
                file_lines(rng),
                [f"from app.hoc.cus.{d}.L6_drivers import {d}_driver_{(n + 2) % 5}", "import json"],
            )
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
                "from fastapi import APIRouter",
            ]
            text = _header(f"HTTP routes of {d} ({n}).", imports)
            text += (
                "router = APIRouter()\n\n\n"
                f'@router.get("/{d}/{n}", response_model=list[{d.title()}Schema{n % 3}])\n'
                f"async def list_{d}_{n}(ctx):\n"
                f"    registry = get_operation_registry()\n"
                f'    return await registry.execute(\n        "{d}.query_{n}",\n'
                "        ctx,\n    )\n\n\n"
            )
            text += _code(rng, f"{d.title()}Routes{n}", file_lines(rng))
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
                f'registry.register(\n    "{d}.query_{n}",\n    {d.title()}QueryHandler(),\n)\n'
                for n in range(4)
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
            + _code(rng, f"Step{n}", file_lines(rng)),
        )
        n += 1

    for relative, text in project.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    shutil.copy(PRESET, root / "layerguard.yaml")
    if cards:
        _write_cards(project)
    return project


def _write_cards(project: Project) -> None:
    """Cards for the engines and handlers (about a quarter of the files), written by
    `layerguard cards generate`; then drift: every 8th carded file gained a public function
    since, every 12th an import, and four cards describe files that were deleted."""
    from layerguard.contracts.config.loader import load_config
    from layerguard.linter.cards.generate import generate_cards

    root = project.root
    carded = sorted(
        path
        for path in project.files
        if "/L5_engines/" in path or "/orchestrator/handlers/" in path
    )
    carded = [path for path in carded if not path.endswith("__init__.py")]
    generate_cards(load_config(root / "layerguard.yaml"), "literature", tuple(carded))
    shutil.rmtree(root / ".layerguard_cache", ignore_errors=True)
    for number, path in enumerate(carded):
        addition = ""
        if number % 8 == 3:
            addition += f"\n\ndef added_since_the_card_{number}(tenant_id: str) -> str:\n"
            addition += "    return tenant_id\n"
        if number % 12 == 5:
            addition += "\nimport json  # added since the card\n"
        if addition:
            project.files[path] += addition
            with (root / path).open("a", encoding="utf-8") as handle:
                handle.write(addition)
    for number, path in enumerate(carded[:: max(1, len(carded) // 4)][:4]):
        card = root / "literature" / path.replace(".py", ".md")
        retired = path.replace(".py", f"_retired_{number}.py")
        stale = card.read_text("utf-8").replace(f"`{path}`", f"`{retired}`")
        card.with_name(card.stem + f"_retired_{number}.md").write_text(stale, "utf-8")
    project.cards = len(list((root / "literature").rglob("*.md")))


def _inject(project: Project, module: str, line: str, target: str) -> None:
    """Add an import line after the header imports and record the expected finding."""
    path = f"backend/{module.replace('.', '/')}.py"
    lines = project.files[path].splitlines()
    at = lines.index("from typing import TYPE_CHECKING") + 1
    lines.insert(at, line)
    project.files[path] = "\n".join(lines) + "\n"
    project.expected_import_findings.add((module, target, at + 1))
