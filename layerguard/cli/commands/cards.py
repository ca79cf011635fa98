"""`layerguard cards`: commands for card authors.

`cards parse` shows exactly what the linter reads from a card, so that an author can see why a
card is not understood before the linter reports drift against it. `cards generate` and
`cards sync` write cards from the code; their flows are the linter's (linter/cards/).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from layerguard.cli.options import (
    FINDINGS,
    OK,
    USAGE_ERROR,
    CacheDirOption,
    ColorOption,
    ConfigOption,
    LegacyFormatOption,
    NoCacheOption,
    QuietOption,
    format_option,
    open_project,
    output_format,
    parsing_progress,
    project_relative,
    say,
    usage_errors,
    warn_unwritten_cache,
)

if TYPE_CHECKING:
    from layerguard.contracts.cards.model import Card, CardParseResult, Names
    from layerguard.contracts.config.model import ProjectConfig

PARSE_FORMATS = ("text", "json")

cards_app = typer.Typer(
    help="Inspect, generate and sync placement cards (the markdown cards that describe one "
    "source file each).",
    no_args_is_help=True,
)


@cards_app.command("parse")
def parse_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Card files (markdown) to parse.", show_default=False),
    ],
    chosen_format: Annotated[
        str | None,
        format_option(
            PARSE_FORMATS,
            "text: a readable dump of each card, then its errors as path:line: LG002 "
            "message (the default). json: {cards: [{path, card, errors}]} with every value's "
            "card line.",
        ),
    ] = None,
    legacy_format: LegacyFormatOption = None,
    color: ColorOption = None,
) -> None:
    """Parse placement cards and print what was read from them and any card errors.

    Exit status: 0 when every card parsed cleanly, 1 when a card has errors, 2 when a path does
    not exist or is a link out of the project it is in (such a card is not read).
    """
    from layerguard.contracts.cards.parser import read_card
    from layerguard.contracts.config.loader import project_left_by
    from layerguard.contracts.escaping import printable

    fmt = output_format(chosen_format, legacy_format, PARSE_FORMATS)
    results: list[tuple[str, CardParseResult]] = []
    missing = False
    for path in paths:
        if not path.exists():
            say(f"{printable(str(path))}: no such file", "error")
            missing = True
            continue
        left = project_left_by(path)
        if left is not None:
            root, real = left
            say(
                f"{printable(str(path))}: not read: it is outside the project "
                f"({printable(str(root))}), a symbolic link to {printable(real)}",
                "error",
            )
            missing = True
            continue
        results.append((str(path), read_card(path)))
    if fmt == "json":
        cards = [_result_data(label, result) for label, result in results]
        typer.echo(json.dumps({"cards": cards}, indent=2))  # ASCII: \u escapes for the rest
    else:
        for index, (label, result) in enumerate(results):
            if index:
                typer.echo("")
            for line in _dump(label, result):
                typer.echo(printable(line))  # card text: a line stays one line, inert
    if missing:
        raise typer.Exit(USAGE_ERROR)
    if any(result.errors for _, result in results):
        raise typer.Exit(FINDINGS)


def _result_data(path: str, result: CardParseResult) -> dict[str, object]:
    from layerguard.contracts.cards.serialize import card_to_data

    return {
        "path": path,
        "card": None if result.card is None else card_to_data(result.card),
        "document": result.document,
        "errors": [{"line": e.line, "message": e.message} for e in result.errors],
    }


def _dump(path: str, result: CardParseResult) -> list[str]:
    from layerguard.linter.rules.codes import MALFORMED_CARD

    if result.document:
        return [
            f"{path}: not a placement card (no `**Path:**` line, no title that is a .py file's "
            "name, no card section): `check` counts it as a document and skips it"
        ]
    lines = [f"{path}: no card could be read"] if result.card is None else _card_lines(result.card)
    lines.extend(f"{e.path}:{e.line}: {MALFORMED_CARD} {e.message}" for e in result.errors)
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


def _card_dir(out: Path | None, project: ProjectConfig) -> str:
    """Where new cards go: `--out` (inside the project), else the fixed part of the first
    `cards.paths` glob."""
    from layerguard.linter.cards.output import default_card_dir

    if out is not None:
        return _inside(out, project)
    found = default_card_dir(project)
    if found is None:
        raise typer.BadParameter(
            "layerguard.yaml has no `cards.paths`: say where cards go with --out DIR (and add "
            "a glob for them to `cards.paths` so that `layerguard check` reads them)",
            param_hint="--out",
        )
    return found


def _inside(out: Path, project: ProjectConfig) -> str:
    """`--out` as a project-relative path; it need not exist yet (it is created)."""
    try:
        relative = out.resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        raise typer.BadParameter(
            f"'{out}' is outside the project ({project.root})", param_hint="--out"
        ) from None
    return "" if relative == "." else relative


@cards_app.command("generate")
def generate_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Python files or directories to write cards for (default: every non-empty "
            "file that belongs to a layer).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Directory for new cards, inside the project (default: the fixed part of the "
            "first `cards.paths` glob, e.g. literature/). A card mirrors its file's path: "
            "x/y.py -> DIR/x/y.md.",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite existing cards (a file's card is rewritten where it is)."
        ),
    ] = False,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """Write placement cards for Python files, in the seed card's format.

    Everything the code can tell is filled in: header, Placement Card, Purpose (the module
    docstring), imports, transaction calls, functions and classes with their docstrings, the
    Export Contract, the Import Boundary's actual imports and the operations the file
    registers. Inbound rules are left empty for a person to decide. Existing cards are kept
    unless --force; `cards sync` updates them instead. Exit status: 0 done, 1 a file could not
    be described (it does not parse), 2 usage or configuration error.
    """
    from layerguard.contracts.escaping import printable
    from layerguard.linter.cards.generate import Generated, generate_cards

    project = open_project(config)
    card_dir = _card_dir(out, project)
    wanted = project_relative(paths, project.root) if paths else None
    with usage_errors(), parsing_progress(quiet, text_output=True) as progress:
        summary = generate_cards(
            project,
            card_dir,
            wanted,
            replace=force,
            use_cache=not no_cache,
            cache_dir=cache_dir,
            progress=progress,
        )
    for card in summary.cards:
        if card.outcome is Generated.NOT_DESCRIBED:
            typer.echo(
                f"{printable(card.source)}: not described: it does not parse (see LG001)", err=True
            )
        elif quiet:
            continue
        elif card.outcome is Generated.KEPT:
            typer.echo(
                f"kept {printable(card.card)}: it exists (`cards sync` updates it; --force "
                "overwrites)"
            )
        else:
            typer.echo(f"wrote {printable(card.card)}")
    if summary.unread:
        say(
            printable(
                f"{len(summary.unread)} card(s) outside `cards.paths` "
                f"({', '.join(project.cards.paths) or 'none'}): `layerguard check` will not "
                f"read them, e.g. {summary.unread[0]}"
            ),
            "warning",
        )
    warn_unwritten_cache(summary.cache_written)
    failed = summary.count(Generated.NOT_DESCRIBED)
    if not quiet:
        typer.echo(
            f"{summary.count(Generated.WRITTEN)} card(s) written, {summary.count(Generated.KEPT)} "
            f"kept, {failed} not described."
        )
    raise typer.Exit(FINDINGS if failed else OK)


@cards_app.command("sync")
def sync_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Cards, or the files they describe, or directories of either (default: every "
            "card of `cards.paths`).",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing: print what is out of date as a unified diff and exit 1 if "
            "anything is (the CI step).",
        ),
    ] = False,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    color: ColorOption = None,
) -> None:
    """Rewrite the machine-owned parts of existing cards from the code.

    Machine-owned: the Export Contract (hand-written `consumers` are kept), `actual_imports`
    in the Import Boundary (the inbound rules are kept), and the Transaction Boundary,
    Functions and Classes sections. Every other byte — header, Placement Card, Purpose, your
    own sections — stays as written. Exit status: 0 up to date (or synced), 1 out of date with
    --check or a card that could not be synced, 2 usage or configuration error.
    """
    from layerguard.contracts.escaping import printable
    from layerguard.linter.cards.sync import Synced, sync_cards
    from layerguard.linter.project.discovery import selected_by

    project = open_project(config)
    selected = selected_by(project_relative(paths, project.root) if paths else ())
    with usage_errors(), parsing_progress(quiet, text_output=True) as progress:
        summary = sync_cards(
            project,
            selected,
            write=not check,
            use_cache=not no_cache,
            cache_dir=cache_dir,
            progress=progress,
        )
    for card in summary.cards:
        name = printable(card.card)
        for problem in card.problems:
            typer.echo(f"{name}: {printable(problem)}", err=True)
        if card.outcome is Synced.NO_FILE and not quiet:
            typer.echo(f"{name}: skipped: it describes no project file (see LG301)")
        elif card.outcome is Synced.CHANGED:
            changes = printable("; ".join(card.changes))
            if check:  # what --check is for: printed with --quiet too
                typer.echo(f"{name}: out of date: {changes}")
                # The diff quotes cards and code: each of its lines stays one inert line.
                typer.echo("\n".join(map(printable, card.diff.split("\n"))), nl=False)
            elif not quiet:
                typer.echo(f"synced {name}: {changes}")
    warn_unwritten_cache(summary.cache_written)
    changed = summary.count(Synced.CHANGED)
    verb = "out of date" if check else "synced"
    if not quiet:
        typer.echo(
            f"{changed} card(s) {verb}, {summary.count(Synced.CURRENT)} up to date, "
            f"{summary.count(Synced.NO_FILE)} skipped (no file), {summary.failed} could not be "
            "synced."
            + (" Run `layerguard cards sync` to update them." if check and changed else "")
        )
    raise typer.Exit(FINDINGS if summary.failed or (check and changed) else OK)
