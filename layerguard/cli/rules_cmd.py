"""`layerguard rules` and `layerguard explain`: the rule reference in the terminal.

Both print what the rule classes declare (docs/rules.md is the same text), so what a user
reads here is what the linter does.
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from layerguard.cli import exit_codes


class RulesFormat(enum.StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def rules_command(
    output_format: Annotated[
        RulesFormat,
        typer.Option(
            "--format",
            help="text: an aligned table. json: {schema_version, rules: [{code, name, family, "
            "level, enabled_by_default, import_scopes, summary, explanation}]}. markdown: the "
            "whole rule reference, exactly docs/rules.md.",
        ),
    ] = RulesFormat.text,
) -> None:
    """List every rule: code, name, default level, whether it runs by default, which imports it
    counts, and what it catches.

    These are the defaults; `rules:` and `import_scopes:` in layerguard.yaml change them per
    project. `layerguard explain CODE` shows one rule in full.
    """

    from layerguard.linter.rules import reference

    render = {
        RulesFormat.text: reference.rules_text,
        RulesFormat.json: reference.rules_json,
        RulesFormat.markdown: reference.rules_markdown,
    }[output_format]
    typer.echo(render(), nl=False)


def explain_command(
    code: Annotated[
        str,
        typer.Argument(
            help="A rule code (LG101, any case) or name (forbidden-layer-import).",
            show_default=False,
        ),
    ],
) -> None:
    """Explain one rule: why it exists and how to fix its findings, bad and good examples (the
    ones the test suite runs), which imports it counts, and how to suppress a finding.

    Exit status 2 for an unknown rule, with the closest codes.
    """

    from layerguard.linter.rules import reference

    rule = reference.lookup(code)
    if rule is None:
        matches = reference.close_matches(code)
        choices = " or ".join(filter(None, (", ".join(matches[:-1]), *matches[-1:])))
        hint = f"did you mean {choices}? " if matches else ""
        typer.echo(
            f"layerguard: unknown rule '{code}'; {hint}`layerguard rules` lists every rule",
            err=True,
        )
        raise typer.Exit(exit_codes.USAGE_ERROR)
    typer.echo(reference.explain(rule), nl=False)
