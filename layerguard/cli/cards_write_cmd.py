"""`layerguard cards generate` and `layerguard cards sync`: cards written from the code.

Both build the same project index as `check` (facts from the cache, so nothing is parsed
twice); the card text comes from `layerguard.linter.cards` (pure), and only this module and
`cards.output` touch the file system.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from layerguard.cli import exit_codes
from layerguard.cli.config_option import ConfigOption, load_project_config

if TYPE_CHECKING:
    from layerguard.contracts.config.model import ProjectConfig
    from layerguard.linter.project.index import ProjectIndex, SourceFile

_BOM = b"\xef\xbb\xbf"


def _index(project: ProjectConfig) -> ProjectIndex:
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.linter.engine import build_index
    from layerguard.linter.project.extraction import default_jobs

    try:
        index, _, _ = build_index(project, default_jobs(), use_cache=True)
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None
    return index


def _out_dir(out: Path | None, project: ProjectConfig) -> str:
    from layerguard.linter.cards.output import default_card_dir

    if out is not None:
        try:
            relative = out.resolve().relative_to(project.root.resolve()).as_posix()
        except ValueError:
            raise typer.BadParameter(
                f"'{out}' is outside the project ({project.root})", param_hint="--out"
            ) from None
        return "" if relative == "." else relative
    found = default_card_dir(project)
    if found is None:
        raise typer.BadParameter(
            "layerguard.yaml has no `cards.paths`: say where cards go with --out DIR (and add "
            "a glob for them to `cards.paths` so that `layerguard check` reads them)",
            param_hint="--out",
        )
    return found


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
            help="Directory for new cards (default: the fixed part of the first `cards.paths` "
            "glob, e.g. literature/). A card mirrors its file's path: x/y.py -> DIR/x/y.md.",
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
) -> None:
    """Write placement cards for Python files, in the seed card's format.

    Everything the code can tell is filled in: header, Placement Card, Purpose (the module
    docstring), imports, transaction calls, functions and classes with their docstrings, the
    Export Contract, the Import Boundary's actual imports and the operations the file
    registers. Inbound rules are left empty for a person to decide. Existing cards are kept
    unless --force; `cards sync` updates them instead. Exit status: 0 done, 1 a file could not
    be described (it does not parse), 2 usage or configuration error.
    """
    from layerguard.cli.check_cmd import project_relative
    from layerguard.linter.cards.content import card_content
    from layerguard.linter.cards.derive import importers, is_blank
    from layerguard.linter.cards.output import card_file_for, read_by_checks, write_text
    from layerguard.linter.cards.render import render_card
    from layerguard.linter.engine import reported_by

    project = load_project_config(config)
    card_dir = _out_dir(out, project)
    wanted = project_relative(paths, project.root) if paths else None
    index = _index(project)
    if wanted is None:
        sources = [s for s in index.files.values() if s.layer is not None and not is_blank(s.facts)]
    else:
        under = reported_by(wanted)
        sources = [s for s in index.files.values() if under(s.path)]
        if not sources:
            raise typer.BadParameter(
                "no Python file of the project is there (excluded, or outside the source roots)",
                param_hint="PATHS",
            )
    inbound = importers(index)
    written = kept = failed = 0
    unread: list[str] = []
    for source in sources:
        target = index.card_of_file.get(source.path) or card_file_for(
            source.path, project, card_dir
        )
        if source.facts.syntax_error is not None:
            typer.echo(f"{source.path}: not described: it does not parse (see LG001)", err=True)
            failed += 1
            continue
        if (project.root / target).exists() and not force:
            typer.echo(f"kept {target}: it exists (`cards sync` updates it; --force overwrites)")
            kept += 1
            continue
        content = card_content(index, source, inbound.get(source.path, []))
        write_text(project.root / target, render_card(content))
        typer.echo(f"wrote {target}")
        written += 1
        if not read_by_checks(target, project):
            unread.append(target)
    if unread:
        typer.echo(
            f"layerguard: warning: {len(unread)} card(s) outside `cards.paths` "
            f"({', '.join(project.cards.paths) or 'none'}): `layerguard check` will not read "
            f"them, e.g. {unread[0]}",
            err=True,
        )
    typer.echo(f"{written} card(s) written, {kept} kept, {failed} not described.")
    raise typer.Exit(exit_codes.FINDINGS if failed else exit_codes.OK)


def _decode(data: bytes) -> tuple[str, bool] | None:
    bom = data.startswith(_BOM)
    try:
        return data.removeprefix(_BOM).decode("utf-8"), bom
    except UnicodeDecodeError:
        return None


def _diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


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
) -> None:
    """Rewrite the machine-owned parts of existing cards from the code.

    Machine-owned: the Export Contract (hand-written `consumers` are kept), `actual_imports`
    in the Import Boundary (the inbound rules are kept), and the Transaction Boundary,
    Functions and Classes sections. Every other byte — header, Placement Card, Purpose, your
    own sections — stays as written. Exit status: 0 up to date (or synced), 1 out of date with
    --check or a card that could not be synced, 2 usage or configuration error.
    """
    from layerguard.cli.check_cmd import project_relative
    from layerguard.linter.caching.cards import open_card_cache, parse_cached
    from layerguard.linter.cards.content import card_content
    from layerguard.linter.cards.derive import importers
    from layerguard.linter.cards.output import write_text
    from layerguard.linter.cards.sync import sync_card
    from layerguard.linter.engine import reported_by

    project = load_project_config(config)
    under = reported_by(project_relative(paths, project.root) if paths else ())
    index = _index(project)
    store = open_card_cache(project.root)
    inbound = importers(index)
    selected = [
        card_path
        for card_path in sorted(index.cards)
        if under(card_path) or under(index.card_sources.get(card_path) or "")
    ]
    stale = current = changed = failed = 0
    for card_path in selected:
        source_path = index.card_sources.get(card_path)
        source: SourceFile | None = index.files.get(source_path) if source_path else None
        location = project.root / card_path
        try:
            data = location.read_bytes()
        except OSError as error:
            typer.echo(f"{card_path}: cannot sync: {error.strerror}", err=True)
            failed += 1
            continue
        decoded = _decode(data)
        result = parse_cached(store, data, card_path) if decoded is not None else None
        if result is None or result.card is None or result.errors:
            typer.echo(
                f"{card_path}: cannot sync: the card has errors "
                f"(`layerguard cards parse {card_path}` shows them)",
                err=True,
            )
            failed += 1
            continue
        if source is None:
            typer.echo(f"{card_path}: skipped: it describes no project file (see LG301)")
            stale += 1
            continue
        if source.facts.syntax_error is not None:
            typer.echo(f"{card_path}: cannot sync: {source.path} does not parse (see LG001)")
            failed += 1
            continue
        assert decoded is not None
        text, bom = decoded
        content = card_content(index, source, inbound.get(source.path, []))
        synced = sync_card(text, result.card, content)
        for problem in synced.problems:
            typer.echo(f"{card_path}: cannot sync part of it: {problem}", err=True)
        failed += bool(synced.problems)
        if synced.text == text:
            current += 1
            continue
        changed += 1
        summary = "; ".join(synced.changes)
        if check:
            typer.echo(f"{card_path}: out of date: {summary}")
            typer.echo(_diff(card_path, text, synced.text), nl=False)
        else:
            write_text(location, ("\ufeff" if bom else "") + synced.text)
            typer.echo(f"synced {card_path}: {summary}")
    verb = "out of date" if check else "synced"
    typer.echo(
        f"{changed} card(s) {verb}, {current} up to date, {stale} skipped (no file), "
        f"{failed} could not be synced."
        + (" Run `layerguard cards sync` to update them." if check and changed else "")
    )
    raise typer.Exit(exit_codes.FINDINGS if failed or (check and changed) else exit_codes.OK)
