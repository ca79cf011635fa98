"""`layerguard rules` and `layerguard explain`: the rule reference in the terminal.

Both print what the rule classes declare (docs/rules.md is the same text), so what a user
reads here is what the linter does.
"""

from __future__ import annotations

from typing import Annotated

import typer

from layerguard.cli.options import (
    ColorOption,
    LegacyFormatOption,
    fail,
    format_option,
    output_format,
)

RULES_FORMATS = ("text", "json", "markdown")


def rules_command(
    chosen_format: Annotated[
        str | None,
        format_option(
            RULES_FORMATS,
            "text: an aligned table (the default). json: {schema_version, rules: [{code, "
            "name, family, level, enabled_by_default, enabled_with_section, import_scopes, "
            "summary, sections}]}. "
            "markdown: the whole rule reference, exactly docs/rules.md.",
        ),
    ] = None,
    legacy_format: LegacyFormatOption = None,
) -> None:
    """List every rule: code, name, default level, whether it runs by default, which imports it
    counts, and what it catches.

    These are the defaults; `rules:` and `import_scopes:` in layerguard.yaml change them per
    project, and LG2xx runs by default only where layerguard.yaml has a `transactions:`
    section. `layerguard explain CODE` shows one rule in full.
    """

    from layerguard.linter.rules import reference

    fmt = output_format(chosen_format, legacy_format, RULES_FORMATS)
    render = {
        "text": reference.rules_text,
        "json": reference.rules_json,
        "markdown": reference.rules_markdown,
    }[fmt]
    typer.echo(render(), nl=False)


def explain_command(
    code: Annotated[
        str,
        typer.Argument(
            help="A rule code (LG101, any case) or name (forbidden-layer-import).",
            show_default=False,
        ),
    ],
    color: ColorOption = None,
) -> None:
    """Explain one rule: what it catches, why it matters, an example (the ones the test suite
    runs), what to write instead, and its options (configuration, import scopes, suppression).

    Exit status 2 for an unknown rule, with the closest codes.
    """

    from layerguard.linter.rules import reference

    rule = reference.lookup(code)
    if rule is None:
        matches = reference.close_matches(code)
        choices = " or ".join(filter(None, (", ".join(matches[:-1]), *matches[-1:])))
        hint = f"did you mean {choices}? " if matches else ""
        fail(f"unknown rule '{code}'; {hint}`layerguard rules` lists every rule")
    typer.echo(reference.explain(rule), nl=False)
