"""What reporters need to know besides the findings: where paths are shown from, options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from layerguard.contracts.escaping import printable
from layerguard.linter.diagnostics import Diagnostic


@dataclass(frozen=True, slots=True)
class ReportContext:
    project_root: Path
    cwd: Path
    statistics: bool = False
    color: bool = False  # the text report only: machine-readable formats are never coloured
    summary: bool = True  # the "Found N findings ..." line of text and github (off: --quiet)

    def display_path(self, project_path: str) -> str:
        """A path as the user typed it: relative to the working directory when below it."""
        absolute = self.project_root / project_path
        try:
            return absolute.relative_to(self.cwd).as_posix()
        except ValueError:
            return os.path.relpath(absolute, self.cwd).replace(os.sep, "/")

    def line(self, finding: Diagnostic) -> str:
        """`path:line:col: CODE message`, the one-line form of a finding: always one line,
        without a control character (see `printable`)."""
        shown = printable(self.display_path(finding.path))
        message = printable(finding.message)
        return f"{shown}:{finding.line}:{finding.col}: {finding.code} {message}"
