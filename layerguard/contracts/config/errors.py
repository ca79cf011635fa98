"""What goes wrong in a `layerguard.yaml`, said with the file, line and YAML key path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from layerguard.contracts.escaping import printable

CONFIG_ERROR_CODE = "LG003"
"""The diagnostic code of an invalid `layerguard.yaml` (the LG0xx family is bad input)."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the file.

    `line` is 1-based (0 when the problem concerns the file as a whole, e.g. it cannot be
    read); `key_path` is the YAML path of the offending value, such as `layers[3].forbid.layers[1]`
    (empty for problems of the whole document, such as a YAML syntax error).
    """

    file: Path
    line: int
    key_path: str
    message: str

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else str(self.file)
        subject = f"{self.key_path}: " if self.key_path else ""
        return printable(f"{location}: {CONFIG_ERROR_CODE} {subject}{self.message}")


def sentence(text: str) -> str:
    """`text` ending as a sentence does: every LG003 message is punctuated as one or more
    sentences (`unknown key 'x'; did you mean 'y'? Allowed keys: a, b.`)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


def unknown_name(kind: str, name: str, known: list[str], listing: str) -> str:
    """`unknown layer id 'database'; did you mean 'db'? Layer ids: api, db.`"""
    import difflib  # only for an invalid file: a valid one never pays for it

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    return f"unknown {kind} '{name}'{hint} {listing}: {', '.join(known) or 'none'}."


class ConfigError(Exception):
    """An invalid `layerguard.yaml`: carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line, p.key_path))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)
