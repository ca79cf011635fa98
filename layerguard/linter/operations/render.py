"""The catalogue as text (a table for a terminal), JSON (a stable, documented schema) and
markdown (a table to paste into docs). Renderers only format: every decision is the
catalogue's. Paths are project-relative in every format, so the output does not depend on the
directory it was produced from. The JSON schema is documented in docs/operations.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from layerguard._version import __version__
from layerguard.contracts.escaping import printable
from layerguard.linter.diagnostics import plural
from layerguard.linter.operations.catalogue import CallSite, Catalogue, Operation, Registration

SCHEMA_VERSION = 1
NOT_REGISTERED = "NOT REGISTERED"
NEVER_EXECUTED = "(never executed)"

Renderer = Callable[[Catalogue, str], str]


def _where(path: str, line: int) -> str:
    return f"{path}:{line}"


def _handler_name(registration: Registration, number: int, code: Callable[[str], str]) -> str:
    """`PolicyQueryHandler`, `build (unresolved, duplicate)`: `number` > 0 is a duplicate."""
    notes = [] if registration.handler is not None else ["unresolved"]
    notes += ["duplicate"] if number else []
    if registration.handler is not None:
        name = code(registration.handler.name)
    elif registration.expression is not None:
        name = code(registration.expression)
    else:
        name, notes = "(no handler given)", notes[1:]
    return f"{name} ({', '.join(notes)})" if notes else name


def _plain(text: str) -> str:
    return text


def _handler_place(registration: Registration, code: Callable[[str], str]) -> str:
    """Where the class is defined, or else where it is registered (the place to look)."""
    handler = registration.handler
    if handler is not None:
        return code(_where(handler.path, handler.line))
    site = registration.site
    return f"{code(_where(site.path, site.line))} (registration)"


def _callers(operation: Operation, code: Callable[[str], str]) -> list[str]:
    callers = [code(_where(site.path, site.line)) for site in operation.dispatches]
    callers += [f"{code(_where(site.path, site.line))} (lookup)" for site in operation.lookups]
    return callers


def _summary(catalogue: Catalogue) -> str:
    operations = catalogue.operations
    registered = sum(1 for op in operations if op.registered)
    duplicated = sum(1 for op in operations if op.duplicated)
    calls = sum(len(op.dispatches) + len(op.lookups) for op in operations)
    parts = [
        f"{plural(len(operations), 'operation')}: {registered} registered, "
        f"{len(operations) - registered} not registered"
    ]
    if duplicated:
        parts.append(f"{duplicated} registered more than once")
    parts.append(f"{plural(calls, 'call site')}, {len(catalogue.dynamic)} dynamic")
    return "; ".join(parts) + f" (in {plural(catalogue.files, 'file')})."


def _dynamic_line(site: CallSite) -> str:
    where = f" in {site.symbol}" if site.symbol else " at module level"
    return f"{_where(site.path, site.line)}  {site.callee}{where}"


# -- text -------------------------------------------------------------------------------------


def _text_rows(operation: Operation) -> list[tuple[str, str, str, str]]:
    handlers: list[tuple[str, str]] = []
    for number, registration in enumerate(operation.registrations):
        name = _handler_name(registration, number, _plain)
        handlers.append((name, _handler_place(registration, _plain)))
    if not handlers:
        handlers.append((NOT_REGISTERED, "-"))
    callers = _callers(operation, _plain) or [NEVER_EXECUTED]
    rows = []
    for number in range(max(len(handlers), len(callers))):
        handler, place = handlers[number] if number < len(handlers) else ("", "")
        caller = callers[number] if number < len(callers) else ""
        rows.append((operation.name if number == 0 else "", handler, place, caller))
    return rows


def render_text(catalogue: Catalogue, project_root: str, summary: bool = True) -> str:
    """The table, the dynamic call sites, then a summary line unless `summary` is off (--quiet:
    an empty catalogue is then nothing at all)."""
    if not catalogue.operations and not catalogue.dynamic:
        if not summary:
            return ""
        return f"No operations: no registry calls in {plural(catalogue.files, 'file')}.\n"
    lines = []
    if catalogue.operations:
        header = ("OPERATION", "HANDLER", "DEFINED AT", "CALLED FROM")
        rows = [
            tuple(map(printable, row))  # names and paths come from the code: one line each
            for operation in catalogue.operations
            for row in _text_rows(operation)
        ]
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
        for row in (header, *rows):
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  ".join([*cells, row[3]]).rstrip())
    if catalogue.dynamic:
        if lines:
            lines.append("")
        lines.append("Dynamic call sites (the operation name is computed; not checked):")
        lines.extend(
            f"  {site.kind:<8}  {printable(_dynamic_line(site))}" for site in catalogue.dynamic
        )
    if summary:
        lines.append("")
        lines.append(_summary(catalogue))
    return "\n".join(lines) + "\n"


# -- JSON -------------------------------------------------------------------------------------


def _site_data(site: CallSite) -> dict[str, Any]:
    return {
        "path": site.path,
        "line": site.line,
        "col": site.col,
        "callee": site.callee,
        "symbol": site.symbol,
    }


def _registration_data(registration: Registration) -> dict[str, Any]:
    handler = registration.handler
    return {
        "class": handler.name if handler is not None else None,
        "qualified_name": handler.qualified_name if handler is not None else None,
        "path": handler.path if handler is not None else None,
        "line": handler.line if handler is not None else None,
        "col": handler.col if handler is not None else None,
        "expression": registration.expression,
        "registration": _site_data(registration.site),
    }


def catalogue_data(catalogue: Catalogue, project_root: str) -> dict[str, Any]:
    """The JSON document (schema_version 1, see docs/operations.md)."""
    operations = catalogue.operations
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "layerguard", "version": __version__},
        "project_root": project_root,
        "summary": {
            "operations": len(operations),
            "registered": sum(1 for op in operations if op.registered),
            "unregistered": sum(1 for op in operations if not op.registered),
            "duplicated": sum(1 for op in operations if op.duplicated),
            "dispatch_sites": sum(len(op.dispatches) for op in operations),
            "lookup_sites": sum(len(op.lookups) for op in operations),
            "dynamic_sites": len(catalogue.dynamic),
            "files": catalogue.files,
            "unparsed_files": len(catalogue.unparsed),
        },
        "operations": [
            {
                "name": op.name,
                "registered": op.registered,
                "duplicated": op.duplicated,
                "handlers": [_registration_data(r) for r in op.registrations],
                "dispatches": [_site_data(site) for site in op.dispatches],
                "lookups": [_site_data(site) for site in op.lookups],
            }
            for op in operations
        ],
        "dynamic": [{"kind": site.kind, **_site_data(site)} for site in catalogue.dynamic],
        "unparsed": list(catalogue.unparsed),
    }


def render_json(catalogue: Catalogue, project_root: str) -> str:
    return json.dumps(catalogue_data(catalogue, project_root), indent=2) + "\n"


# -- markdown ---------------------------------------------------------------------------------


def _code(text: str) -> str:
    return "`" + printable(text).replace("|", "\\|") + "`"


def _markdown_row(operation: Operation) -> str:
    registrations = enumerate(operation.registrations)
    handler_cell = "<br>".join(_handler_name(r, number, _code) for number, r in registrations)
    place_cell = "<br>".join(_handler_place(r, _code) for r in operation.registrations)
    caller_cell = "<br>".join(_callers(operation, _code)) or "_never executed_"
    return (
        f"| {_code(operation.name)} | {handler_cell or '**not registered**'} | {place_cell} "
        f"| {caller_cell} |"
    )


def render_markdown(catalogue: Catalogue, project_root: str) -> str:
    lines = []
    if catalogue.operations:
        lines.append("| Operation | Handler | Defined at | Dispatched from |")
        lines.append("| --- | --- | --- | --- |")
        lines.extend(_markdown_row(operation) for operation in catalogue.operations)
    else:
        lines.append("_No operations._")
    if catalogue.dynamic:
        lines.append("")
        lines.append("**Dynamic call sites** (the operation name is computed; not checked):")
        lines.append("")
        for site in catalogue.dynamic:
            where = f" in `{site.symbol}`" if site.symbol else " at module level"
            lines.append(f"- {_code(_where(site.path, site.line))}: `{site.callee}`{where}")
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
