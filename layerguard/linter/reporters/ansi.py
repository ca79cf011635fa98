"""Styled text as ANSI escape sequences, for the text report and the command's messages when
the run is coloured (`--color`). rich does the styling; it is imported only then, so a run
without colour never loads it."""

from __future__ import annotations

import io
from collections.abc import Sequence

Chunk = tuple[str, str]
"""A piece of text and its rich style (`"bold red"`, `""` for none)."""

SEVERITY_STYLES = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}


def paint(chunks: Sequence[Chunk]) -> str:
    """The chunks as one string with ANSI escape sequences; never wrapped or re-flowed."""
    from rich.console import Console
    from rich.text import Text

    text = Text()
    for chunk, style in chunks:
        text.append(chunk, style or None)
    output = io.StringIO()
    console = Console(
        file=output,
        force_terminal=True,
        no_color=False,
        color_system="standard",
        soft_wrap=True,
        highlight=False,
        markup=False,
        emoji=False,
    )
    console.print(text, end="")
    return output.getvalue()
