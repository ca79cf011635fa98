"""`layerguard cards`: commands for card authors.

`cards parse` shows exactly what the linter reads from a card, so that an author can see why a
card is not understood before the linter reports drift against it.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from layerguard.cli import exit_codes

if TYPE_CHECKING:
    from layerguard.contracts.cards.model import Card, CardParseResult, Names

CARD_ERROR_CODE = "LG002"  # unreadable or malformed card

cards_app = typer.Typer(
    help="Inspect, generate and sync placement cards (the markdown cards that describe one "
    "source file each).",
    no_args_is_help=True,
)


class OutputFormat(enum.StrEnum):
    text = "text"
    json = "json"


@cards_app.command("parse")
def parse_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Card files (markdown) to parse.", show_default=False),
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="text: a readable dump of each card, then its errors as path:line: LG002 "
            "message. json: {cards: [{path, card, errors}]} with every value's card line.",
        ),
    ] = OutputFormat.text,
) -> None:
    """Parse placement cards and print what was read from them and any card errors.

    Exit status: 0 when every card parsed cleanly, 1 when a card has errors, 2 when a path does
    not exist.
    """
    from layerguard.contracts.cards.parser import read_card

    results: list[tuple[str, CardParseResult]] = []
    missing = False
    for path in paths:
        if not path.exists():
            typer.echo(f"layerguard: {path}: no such file", err=True)
            missing = True
            continue
        results.append((str(path), read_card(path)))
    if output_format is OutputFormat.json:
        cards = [_result_data(label, result) for label, result in results]
        typer.echo(json.dumps({"cards": cards}, indent=2, ensure_ascii=False))
    else:
        for index, (label, result) in enumerate(results):
            if index:
                typer.echo("")
            for line in _dump(label, result):
                typer.echo(line)
    if missing:
        raise typer.Exit(exit_codes.USAGE_ERROR)
    if any(result.errors for _, result in results):
        raise typer.Exit(exit_codes.FINDINGS)


def _result_data(path: str, result: CardParseResult) -> dict[str, object]:
    return {
        "path": path,
        "card": None if result.card is None else result.card.to_data(),
        "errors": [{"line": e.line, "message": e.message} for e in result.errors],
    }


def _dump(path: str, result: CardParseResult) -> list[str]:
    lines = [f"{path}: no card could be read"] if result.card is None else _card_lines(result.card)
    lines.extend(f"{e.path}:{e.line}: {CARD_ERROR_CODE} {e.message}" for e in result.errors)
    return lines


def _names(names: Names) -> str:
    return ", ".join(name.value for name in names) or "none"


def _card_lines(card: Card) -> list[str]:
    lines = [card.path, f"  path: {card.source_path.value} (line {card.source_path.line})"]
    if card.layer is not None:
        lines.append(f"  layer: {card.layer.value} [id {card.layer_id}] (line {card.layer.line})")
    if card.component is not None:
        lines.append(f"  component: {card.component.value} (line {card.component.line})")
    lines.append("  placement card:" if card.placement else "  placement card: none")
    lines.extend(f"    {f.key}: {f.value} (line {f.line})" for f in card.placement)
    lines.extend(_export_lines(card))
    lines.extend(_boundary_lines(card))
    if card.pairing is None:
        lines.append("  pairing: none")
    else:
        pairing = card.pairing
        lines.append(f"  pairing (line {pairing.line}):")
        lines.append(f"    serves_domains: {_names(pairing.serves_domains)}")
        lines.append(f"    expected_l5_consumers: {_names(pairing.expected_l5_consumers)}")
        lines.append(f"    orchestrator_operations: {_names(pairing.orchestrator_operations)}")
    lines.append("  sections:")
    lines.extend(
        f"    line {s.line}: {s.heading}"
        + (f" [{s.kind}]" if s.kind else "")
        + f" (body {s.body_start}-{s.body_end - 1})"
        for s in card.sections
    )
    return lines


def _export_lines(card: Card) -> list[str]:
    exports = card.exports
    if exports is None:
        return ["  exports: none"]
    lines = [f"  exports (line {exports.line}):"]
    for function in exports.functions:
        shown = function.signature or function.name
        lines.append(
            f"    function {shown.value} (line {function.name.line});"
            f" consumers: {_names(function.consumers)}"
        )
    for kind, classes in (("class", exports.classes), ("protocol", exports.protocols)):
        lines.extend(
            f"    {kind} {cls.name.value} (line {cls.name.line}); methods: {_names(cls.methods)};"
            f" consumers: {_names(cls.consumers)}"
            for cls in classes
        )
    return lines


def _boundary_lines(card: Card) -> list[str]:
    boundary = card.boundary
    if boundary is None:
        return ["  boundary: none"]
    lines = [f"  boundary (line {boundary.line}):"]
    for key, patterns in (
        ("allowed_inbound", boundary.allowed_inbound),
        ("forbidden_inbound", boundary.forbidden_inbound),
    ):
        if patterns is None:
            lines.append(f"    {key}: absent")
        elif patterns.value is None:
            lines.append(f"    {key}: empty (line {patterns.line})")
        else:
            lines.append(f"    {key}: {_names(patterns.value)} (line {patterns.line})")
    actual = boundary.actual_imports
    if actual is None:
        lines.append("    actual_imports: absent")
    else:
        lines.append(f"    actual_imports (line {actual.line}):")
        lines.extend(
            f"      {group.name}: {_names(group.modules)} (line {group.line})"
            for group in actual.value
        )
    lines.append(f"    violations: {_names(boundary.violations)}")
    return lines
