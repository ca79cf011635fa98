"""LG4xx: operation wiring — dispatches, registrations and handlers, as the code states them.

Only calls with a literal operation name are checked; a computed name (`registry.execute(name,
ctx)`) cannot be, and `layerguard operations` lists those call sites instead. Files excluded by
the config do not exist for these rules: neither their registrations nor their dispatches count.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from layerguard.contracts.config.model import ImportScopePolicy
from layerguard.linter.diagnostics import Diagnostic, Severity, plural
from layerguard.linter.operations.handlers import Handlers
from layerguard.linter.project.index import (
    OperationSite,
    ProjectIndex,
    ResolvedImport,
    SourceFile,
)
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, Rule, counted_statements

ROUTE = "backend/app/hoc/api/cus/policies/policies.py"
HANDLERS = "backend/app/hoc/cus/hoc_spine/orchestrator/handlers"
POLICIES = f"{HANDLERS}/policies_handler.py"
INCIDENTS = f"{HANDLERS}/incidents_handler.py"
WIRING = f"{HANDLERS}/__init__.py"
BASE = f"{HANDLERS}/base.py"
REGISTRY = "backend/app/hoc/cus/hoc_spine/orchestrator/operation_registry.py"

POLICIES_HANDLER = """
    class PolicyQueryHandler:
        async def execute(self, ctx):
            return None


    def register(registry):
        registry.register("policies.query", PolicyQueryHandler())
"""
INCIDENTS_HANDLER = """
    class IncidentQueryHandler:
        async def execute(self, ctx):
            return None


    def register(registry):
        registry.register("incidents.query", IncidentQueryHandler())
"""


def _sorted(sites: list[OperationSite]) -> list[OperationSite]:
    return sorted(sites, key=lambda s: (s.file.path, s.call.line, s.call.col))


def _key(site: OperationSite) -> str:
    return f"{site.call.symbol or '<module>'}:{site.call.operation}"


class UnknownOperation(Rule):
    code = codes.UNKNOWN_OPERATION
    summary = "An operation is dispatched by a name that no handler registers."
    catches = """
A dispatch (`registry.execute("...")`) whose literal operation name no
`registry.register("...")` of the project registers, reported at the line of the call (even
when the name stands on the next line), with the closest registered name. Registrations in
files that `exclude` removes from the project do not count. A computed name cannot be
checked; `layerguard operations` lists those call sites as dynamic.
"""
    why = """
`registry.execute("policies.qeury", ctx)` compiles, imports and passes every test that does
not reach it; in production it returns `UNKNOWN_OPERATION`. The linter knows every
registration of the project, so it can catch the typo before it ships.
"""
    instead = """
Fix the name (the message suggests the closest registered one), or register a handler for the
operation.
"""
    options = """
- `registry.execute`, `registry.register`: the call names that dispatch and register
  (`registry.execute` and `registry.register` by default), for a project that uses others.
- `exclude`: files whose registrations and dispatches do not exist for the linter.
"""
    valid = (
        Example(
            {
                ROUTE: """
                    async def list_policies(registry, ctx):
                        return await registry.execute("policies.query", ctx)
                """,
                POLICIES: POLICIES_HANDLER,
            },
            title="A route dispatches a registered operation",
        ),
        Example(
            {
                ROUTE: """
                    async def run(registry, name, ctx):
                        return await registry.execute(name, ctx)
                """
            },
            title="A computed name is not checked",
        ),
    )
    invalid = (
        Example(
            {
                ROUTE: """
                    async def list_policies(registry, ctx):
                        return await registry.execute(
                            "policies.qeury",
                            ctx,
                        )
                """,
                POLICIES: POLICIES_HANDLER,
            },
            expected=((ROUTE, 2),),
            title="A typo in the operation name, reported at the line of the call",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        registered = sorted(index.registrations)
        for operation, sites in sorted(index.dispatches.items()):
            if operation in index.registrations:
                continue
            close = difflib.get_close_matches(operation, registered, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            for site in _sorted(sites):
                yield self.finding(
                    site.file,
                    site.call.line,
                    site.call.col,
                    f"no handler registers operation '{operation}'{hint}; fix the name or "
                    "register a handler for it",
                    _key(site),
                )


class DuplicateRegistration(Rule):
    code = codes.DUPLICATE_REGISTRATION
    summary = "The same operation name is registered more than once."
    catches = """
An operation name registered more than once: every registration after the first — in path,
then line order — is reported, naming the first.
"""
    why = """
An operation name maps to one handler. A second `registry.register("x", ...)` either fails at
start-up (the runtime refuses a name that is already taken) or, with another registry,
silently replaces the first handler, depending on import order.
"""
    instead = """
Remove one registration, or give the second operation its own name.
"""
    options = """
- `registry.register`: the call names that register (`registry.register` by default).
- `exclude`: files whose registrations do not count.
"""
    valid = (
        Example(
            {POLICIES: POLICIES_HANDLER, INCIDENTS: INCIDENTS_HANDLER},
            title="Each operation registered once",
        ),
    )
    invalid = (
        Example(
            {
                POLICIES: POLICIES_HANDLER,
                INCIDENTS: """
                    class IncidentQueryHandler:
                        async def execute(self, ctx):
                            return None


                    def register(registry):
                        registry.register("incidents.query", IncidentQueryHandler())
                        registry.register("policies.query", IncidentQueryHandler())
                """,
            },
            expected=((POLICIES, 7),),
            title="Two modules register 'policies.query'; `incidents_handler.py` sorts first",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for operation, sites in sorted(index.registrations.items()):
            if len(sites) < 2:
                continue
            first, *others = _sorted(sites)
            for site in others:
                yield self.finding(
                    site.file,
                    site.call.line,
                    site.call.col,
                    f"operation '{operation}' is already registered at "
                    f"{first.file.path}:{first.call.line}; remove one registration or give this "
                    "operation its own name",
                    operation,
                )


class HandlerCallsHandler(Rule):
    code = codes.HANDLER_CALLS_HANDLER
    summary = "A handler module imports or fetches another handler instead of dispatching."
    default_scope = ImportScopePolicy(type_checking=False)
    catches = """
In a *handler module* — a file that defines a handler class: a class some `register` call
registers (resolved through the registering file's imports), or, in a layer listed in
`registry.handler_layers`, a class with an `execute` method that no other class derives from:

- an import of another handler module, or of a handler class (also through a package that
  re-exports it), at module level, inside a function, or with `importlib.import_module`;
  imports under `if TYPE_CHECKING:` do not count by default;
- a handler lookup (`registry.get_handler("x")`, the `registry.lookup` call names).

Files that define no handler — a package `__init__.py` that imports every handler module to
register it, a module holding a shared base class — are wiring, not handlers, and may import
handlers.
"""
    why = """
A handler that calls another handler directly skips what the registry adds to every dispatch
— the authority check, the audit record, uniform error handling — and couples two operations
that were meant to change independently.
"""
    instead = """
Cross-operation calls go through the registry: `await registry.execute("incidents.query",
ctx)`. Shared code that two handlers need belongs in a spine service or an engine.
"""
    options = """
- `registry.register`: the calls whose registered classes are handlers.
- `registry.handler_layers`: layers where an unregistered class with an `execute` method is a
  handler too.
- `registry.lookup`: the calls that fetch a handler directly (`registry.get_handler` by
  default).
"""
    valid = (
        Example(
            {
                POLICIES: """
                    from app.hoc.cus.hoc_spine.orchestrator.handlers.base import BaseHandler


                    class PolicyQueryHandler(BaseHandler):
                        async def execute(self, ctx):
                            return await self.registry.execute("incidents.query", ctx)
                """,
                INCIDENTS: INCIDENTS_HANDLER,
                WIRING: """
                    from app.hoc.cus.hoc_spine.orchestrator.handlers import incidents_handler
                    from app.hoc.cus.hoc_spine.orchestrator.handlers.policies_handler import (
                        PolicyQueryHandler,
                    )


                    def register_all(registry):
                        incidents_handler.register(registry)
                        registry.register("policies.query", PolicyQueryHandler())
                """,
                BASE: """
                    class BaseHandler:
                        async def execute(self, ctx):
                            raise NotImplementedError
                """,
            },
            title="A handler dispatches through the registry; wiring and base modules import "
            "handlers",
        ),
    )
    invalid = (
        Example(
            {
                POLICIES: """
                    from app.hoc.cus.hoc_spine.orchestrator.handlers.incidents_handler import (
                        IncidentQueryHandler,
                    )


                    class PolicyQueryHandler:
                        async def execute(self, ctx):
                            from . import incidents_handler

                            handler = ctx.registry.get_handler("incidents.query")
                            return await IncidentQueryHandler().execute(ctx)
                """,
                INCIDENTS: INCIDENTS_HANDLER,
            },
            expected=((POLICIES, 1), (POLICIES, 8), (POLICIES, 10)),
            title="A handler imports another handler (at module level and lazily) and fetches "
            "one directly",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        handlers = Handlers(index)
        yield from self._imports(index, handlers)
        yield from self._lookups(index, handlers)

    def _imports(self, index: ProjectIndex, handlers: Handlers) -> Iterator[Diagnostic]:
        sources = (index.files[path] for path in handlers.by_path)
        for source, statement in counted_statements(self, index, sources):
            imported: dict[str, str] = {}  # imported module -> the handler it brings in
            for resolved in statement:
                handler = self._imported_handler(index, handlers, source, resolved)
                if handler is not None:
                    imported.setdefault(resolved.target, handler)
            if imported:
                what = ", ".join(f"`{module}` ({d})" for module, d in imported.items())
                yield self.statement_finding(
                    source,
                    statement,
                    f"handler module imports handler module {what}; dispatch the other "
                    "operation with `registry.execute(...)` or move the shared code to a "
                    "spine service",
                    imported,
                )

    def _imported_handler(
        self, index: ProjectIndex, handlers: Handlers, source: SourceFile, resolved: ResolvedImport
    ) -> str | None:
        """How the other handler this import brings in is described, if it brings one in."""
        target = resolved.file
        if target is None or not handlers.is_handler_module(target.path):
            imported = handlers.resolver.resolve_imported(source, resolved)
            if imported is None or not handlers.is_handler(imported):
                return None
            target = index.files[imported.path]
        if target.path == source.path:
            return None
        return handlers.describe_module(target.path)

    def _lookups(self, index: ProjectIndex, handlers: Handlers) -> Iterator[Diagnostic]:
        for path in handlers.by_path:
            source = index.files[path]
            for call in source.facts.registry_calls:
                if call.kind != "lookup":
                    continue
                what = f"'{call.operation}'" if call.operation is not None else "an operation"
                yield self.finding(
                    source,
                    call.line,
                    call.col,
                    f"a handler fetches the handler of {what} directly with `{call.callee}()`; "
                    "dispatch it with `registry.execute(...)` so it gets the authority check "
                    "and the audit record",
                    f"{call.symbol or '<module>'}:lookup:{call.operation or ''}",
                )


class OperationNeverExecuted(Rule):
    code = codes.OPERATION_NEVER_EXECUTED
    summary = "A registered operation that no code dispatches (opt-in, informational)."
    severity = Severity.INFO
    catches = """
A registered operation whose name no `registry.execute("...")` of the project dispatches,
reported at its first registration. The message says how many dynamic dispatch sites (with a
computed name) exist, since any of them might dispatch it. Off by default and informational:
it never fails a run.
"""
    why = """
A handler that nothing dispatches is dead code, or is reached only from outside — a
scheduler, another service, a computed name — and those callers are invisible to the linter.
That is why the rule is opt-in and informational: useful for a clean-up pass, wrong as a gate.
"""
    instead = """
Remove the handler and its registration, or suppress the finding with the reason it is kept.
"""
    options = """
- `registry.execute`, `registry.register`: the call names that dispatch and register.
"""
    valid = (
        Example(
            {
                ROUTE: """
                    async def list_policies(registry, ctx):
                        return await registry.execute("policies.query", ctx)
                """,
                POLICIES: POLICIES_HANDLER,
            },
            title="A registered operation that a route dispatches",
        ),
    )
    invalid = (
        Example(
            {
                ROUTE: """
                    async def list_policies(registry, ctx):
                        return await registry.execute("policies.query", ctx)
                """,
                POLICIES: POLICIES_HANDLER,
                INCIDENTS: INCIDENTS_HANDLER,
            },
            expected=((INCIDENTS, 7),),
            title="'incidents.query' is registered and never dispatched",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        dynamic = sum(
            1
            for source in index.files.values()
            for call in source.facts.registry_calls
            if call.kind == "execute" and call.operation is None
        )
        note = f" ({plural(dynamic, 'dynamic dispatch site')} might dispatch it)" if dynamic else ""
        for operation, sites in sorted(index.registrations.items()):
            if operation in index.dispatches:
                continue
            first = _sorted(sites)[0]
            yield self.finding(
                first.file,
                first.call.line,
                first.call.col,
                f"operation '{operation}' is registered but nothing executes it{note}; remove "
                "the handler and its registration, or suppress this with the reason it is kept",
                operation,
            )
