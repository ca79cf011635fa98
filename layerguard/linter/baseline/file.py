"""`.layerguard-baseline.json`: reading and writing the baseline file (the adapter of baseline.py).

The file is meant to be reviewed in pull requests, so it is sorted, indented and free of line
numbers and timestamps: fixing a violation deletes exactly its line, and regenerating an
unchanged baseline changes nothing::

    {
      "about": "...",
      "findings": {
        "backend/app/hoc/api/cus/policies/policies.py": {
          "LG101": {
            "app.hoc.cus.policies.L5_engines.policy_engine": 1
          }
        }
      },
      "version": 1
    }

`findings` maps file -> rule code -> finding key -> how many findings with that key the file
may have.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from layerguard.linter.baseline.model import Baseline, EntryKey
from layerguard.linter.errors import UsageError

BASELINE_FILE_NAME = ".layerguard-baseline.json"
FORMAT_VERSION = 1
ABOUT = (
    "Findings accepted when layerguard was adopted; `layerguard check` hides them. This file "
    "may only shrink: `layerguard baseline update` removes the findings that were fixed."
)


class BaselineFileError(UsageError):
    """A baseline file that cannot be used, with the line that says why (0: the whole file)."""

    def __init__(self, path: str, line: int, message: str, col: int | None = None) -> None:
        super().__init__(path, line, message, col)
        self.path = path
        self.line = line
        self.col = col
        self.message = message

    def __str__(self) -> str:
        if not self.line:
            return f"{self.path}: {self.message}"
        where = f"{self.line}:{self.col}" if self.col is not None else str(self.line)
        return f"{self.path}:{where}: {self.message}"


def format_baseline(baseline: Baseline) -> str:
    findings: dict[str, dict[str, dict[str, int]]] = {}
    for key, count in sorted(baseline.counts.items()):
        findings.setdefault(key.path, {}).setdefault(key.code, {})[key.key] = count
    data = {"about": ABOUT, "findings": findings, "version": FORMAT_VERSION}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Replace the file atomically: a baseline is never left half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".layerguard-baseline-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(format_baseline(baseline))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_baseline(path: Path) -> Baseline:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise BaselineFileError(str(path), 1, f"cannot read the baseline: {reason}") from None
    return parse_baseline(text, str(path))


def parse_baseline(text: str, label: str) -> Baseline:
    """The baseline in `text`; every problem names its line (`label` names the file)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"invalid JSON: {error.msg}"
        raise BaselineFileError(label, error.lineno, message, error.colno) from None
    locator = _Locator(text)

    def fail(keys: list[str], message: str) -> BaselineFileError:
        where = "".join(f"[{json.dumps(k, ensure_ascii=False)}]" for k in keys)
        return BaselineFileError(label, locator.line(keys), f"{where or 'top level'}: {message}")

    if not isinstance(data, dict):
        raise fail([], f"expected an object, found {_kind(data)}")
    if data.get("version") != FORMAT_VERSION:
        found = "nothing" if "version" not in data else json.dumps(data["version"])
        raise fail(
            ["version"] if "version" in data else [],
            f'expected `"version": {FORMAT_VERSION}`, found {found}',
        )
    findings = data.get("findings")
    if not isinstance(findings, dict):
        raise fail(["findings"] if "findings" in data else [], "expected a `findings` object")
    counts: dict[EntryKey, int] = {}
    lines: dict[EntryKey, int] = {}
    for path, codes in findings.items():
        if not isinstance(codes, dict):
            raise fail(
                ["findings", path], f"expected an object of rule codes, found {_kind(codes)}"
            )
        for code, keys in codes.items():
            if not isinstance(keys, dict):
                raise fail(
                    ["findings", path, code],
                    f"expected an object of finding keys, found {_kind(keys)}",
                )
            for key, count in keys.items():
                if type(count) is not int or count < 1:
                    raise fail(
                        ["findings", path, code, key],
                        f"expected a count (a positive integer), found {json.dumps(count)}",
                    )
                entry = EntryKey(path, code, key)
                counts[entry] = count
                lines[entry] = locator.line(["findings", path, code, key])
    return Baseline(counts, lines)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), "a number")


class _Locator:
    """Lines of object keys, found by searching the text key after key (json keeps none).

    Each key is searched after the previous one, which finds the right occurrence in any file
    written by `format_baseline` or edited by hand without reordering; a key it cannot find
    gets the line of its parent.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def line(self, keys: list[str]) -> int:
        position = 0
        line = 1
        for key in keys:
            found = self._find(key, position)
            if found is None:
                break
            position = found
            line = self.text.count("\n", 0, found) + 1
        return line

    def _find(self, key: str, start: int) -> int | None:
        found = [
            match.start()
            for encoded in (json.dumps(key, ensure_ascii=False), json.dumps(key))
            if (match := re.compile(re.escape(encoded) + r"\s*:").search(self.text, start))
        ]
        return min(found, default=None)
