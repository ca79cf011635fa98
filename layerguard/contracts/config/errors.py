"""What goes wrong in a `layerguard.yaml`, said with the file, line and YAML key path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
        return f"{location}: {CONFIG_ERROR_CODE} {subject}{self.message}"


class ConfigError(Exception):
    """An invalid `layerguard.yaml`: carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line, p.key_path))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)
