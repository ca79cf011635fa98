"""import-linter contracts as layerguard contracts: option by option, as import-linter reads
them, with every refusal and every leftover pointing at its line.

Two kinds of trouble are told apart: *errors* (import-linter itself would refuse the
configuration: a missing option, a value it cannot parse) and what is valid but has no
layerguard equivalent (*untranslated*: custom contract types, the `private_modules` type,
unknown session options). Pure: the model of importlinter.py in, plain YAML-ready data out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from layerguard.contracts.config.model import ContractLayer
from layerguard.contracts.config.spec import CONTRACT_ID, CONTRACT_LAYER, IDENTIFIER, MODULE_PATTERN
from layerguard.linter.migrate.importlinter import ImportLinterConfig, Section

BUILT_IN_TYPES = ("layers", "forbidden", "independence", "acyclic_siblings", "protected")
UNSUPPORTED_TYPES = {
    "private_modules": "layerguard has no `private_modules` contract",
}
COMMON = ("name", "type", "id", "ignore_imports", "unmatched_ignore_imports_alerting")
OPTIONS: dict[str, tuple[str, ...]] = {
    "layers": ("layers", "containers", "exhaustive", "exhaustive_ignores"),
    "forbidden": ("source_modules", "forbidden_modules", "allow_indirect_imports", "as_packages"),
    "independence": ("modules",),
    "acyclic_siblings": ("ancestors", "depth", "skip_descendants"),
    "protected": ("protected_modules", "allowed_importers", "as_packages"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "layers": ("layers",),
    "forbidden": ("source_modules", "forbidden_modules"),
    "independence": ("modules",),
    "acyclic_siblings": ("ancestors",),
    "protected": ("protected_modules", "allowed_importers"),
}
SESSION_OPTIONS = (
    "root_package",
    "root_packages",
    "include_external_packages",
    "exclude_type_checking_imports",
    "contract_types",
)
_ALERTS = ("error", "warn", "none")
_MODULE = re.compile(MODULE_PATTERN.pattern or "")
_LAYER = re.compile(CONTRACT_LAYER.pattern or "")
_IDENTIFIER = re.compile(IDENTIFIER.pattern or "")
_CONTRACT_ID = re.compile(CONTRACT_ID.pattern or "")


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    message: str


@dataclass(slots=True)
class Translation:
    contracts: list[dict[str, Any]] = field(default_factory=list)
    root_packages: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    untranslated: list[Problem] = field(default_factory=list)


def translate(config: ImportLinterConfig) -> Translation:
    result = Translation()
    session = config.session
    custom = _session(session, result)
    exclude_type_checking = _boolean(session, "exclude_type_checking_imports", result) or False
    taken: set[str] = set()
    for number, section in enumerate(config.contracts, start=1):
        contract = _Contract(section, result, number, custom, taken)
        data = contract.translate(exclude_type_checking)
        if data is not None:
            taken.add(data["id"])
            result.contracts.append(data)
    return result


def _session(session: Section, result: Translation) -> dict[str, str]:
    """Read the session options; return the custom contract types (name -> class)."""
    roots = session.options.get("root_packages") or session.options.get("root_package")
    if not roots:
        result.errors.append(
            Problem(session.line, "no `root_packages` (or `root_package`): which packages to check")
        )
    else:
        for item in roots:
            if not re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", item.value):
                result.errors.append(Problem(item.line, f"'{item.value}' is not a package name"))
            else:
                result.root_packages.append(item.value)
    _boolean(session, "include_external_packages", result)
    custom: dict[str, str] = {}
    for item in session.options.get("contract_types", []):
        name, _, cls = item.value.partition(":")
        if not cls.strip():
            result.errors.append(
                Problem(item.line, f"contract type '{item.value}' is not `name: module.Class`")
            )
        else:
            custom[name.strip()] = cls.strip()
    for option, items in session.options.items():
        if option not in SESSION_OPTIONS:
            line = items[0].line if items else session.line_of(option)
            result.untranslated.append(
                Problem(line, f"session option `{option}` has no layerguard equivalent")
            )
    return custom


def _boolean(section: Section, option: str, result: Translation) -> bool | None:
    value = section.value(option)
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    result.errors.append(
        Problem(section.line_of(option), f"`{option}`: could not parse a boolean from '{value}'")
    )
    return None


def module_pattern(expression: str) -> str:
    """An import-linter module expression as a layerguard module pattern: its `**` stands
    for one or more segments, layerguard's for any number, so it becomes `*.**`."""
    return ".".join("*.**" if part == "**" else part for part in expression.split("."))


def _expression_error(expression: str) -> str | None:
    """Why import-linter would refuse a module expression (None: it accepts it)."""
    last = None
    for part in expression.split("."):
        if last == "**" and part in ("*", "**"):
            return "a recursive wildcard cannot be followed by a wildcard"
        if last == "*" and part == "**":
            return "a wildcard cannot be followed by a recursive wildcard"
        if part in ("*", "**"):
            last = part
            continue
        if "*" in part:
            return "a wildcard can only replace a whole module"
        last = None
    if not _MODULE.match(expression):
        return "not a dotted module name"
    return None


class _Contract:
    def __init__(
        self,
        section: Section,
        result: Translation,
        number: int,
        custom: dict[str, str],
        taken: set[str],
    ) -> None:
        self.section = section
        self.result = result
        self.number = number
        self.custom = custom
        self.taken = taken
        self.failed = False

    def error(self, line: int, message: str) -> None:
        self.failed = True
        self.result.errors.append(Problem(line, f"contract {self.label}: {message}"))

    @property
    def label(self) -> str:
        name = self.section.value("name")
        return f"'{name}'" if name else f"#{self.number}"

    def translate(self, exclude_type_checking: bool) -> dict[str, Any] | None:
        section = self.section
        kind = section.value("type")
        if kind is None:
            self.error(section.line, "no `type`")
            return None
        if kind in self.custom:
            self.result.untranslated.append(
                Problem(
                    section.line_of("type"),
                    f"contract {self.label}: custom contract type '{kind}' "
                    f"({self.custom[kind]}) cannot be translated; keep checking it with "
                    "import-linter",
                )
            )
            return None
        if kind in UNSUPPORTED_TYPES:
            self.result.untranslated.append(
                Problem(
                    section.line_of("type"),
                    f"contract {self.label}: {UNSUPPORTED_TYPES[kind]}; keep checking it with "
                    "import-linter",
                )
            )
            return None
        if kind not in BUILT_IN_TYPES:
            close = difflib.get_close_matches(kind, BUILT_IN_TYPES, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.error(section.line_of("type"), f"unknown contract type '{kind}'{hint}")
            return None
        allowed = (*COMMON, "broken_contract_guidance", *OPTIONS[kind])
        for option in section.options:
            if option not in allowed:
                close = difflib.get_close_matches(option, allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.error(section.line_of(option), f"unrecognized option `{option}`{hint}")
        for option in ("name", *REQUIRED[kind]):
            if option not in section.options:
                self.error(section.line, f"`{option}` is required")
        if self.failed:
            return None
        data: dict[str, Any] = {
            "id": self.contract_id(),
            "name": section.value("name"),
            "type": kind,
        }
        data.update(getattr(self, kind)())
        ignored = self.ignore_imports()
        if ignored:
            data["ignore_imports"] = ignored
        alert = section.value("unmatched_ignore_imports_alerting")
        if alert is not None and alert.strip():
            if alert.strip() not in _ALERTS:
                self.error(
                    section.line_of("unmatched_ignore_imports_alerting"),
                    f"invalid value '{alert}': expected 'error', 'warn' or 'none'",
                )
            elif alert.strip() != "error":
                data["unmatched_ignore_imports"] = alert.strip()
        if exclude_type_checking:
            data["import_scopes"] = {"type_checking": False}
        guidance = section.options.get("broken_contract_guidance")
        if guidance:
            data["guidance"] = " ".join(item.value for item in guidance)
        return None if self.failed else data

    def contract_id(self) -> str:
        section = self.section
        wanted = section.value("id") or (section.name if not section.name.isdigit() else "")
        wanted = wanted or str(section.value("name"))
        if not _CONTRACT_ID.match(wanted):
            wanted = re.sub(r"[^A-Za-z0-9_.\-]+", "-", wanted).strip("-.").lower() or "contract"
        candidate, suffix = wanted, 2
        while candidate in self.taken:
            candidate, suffix = f"{wanted}-{suffix}", suffix + 1
        return candidate

    # --- values -----------------------------------------------------------------------------

    def modules(self, option: str) -> list[str]:
        patterns = []
        for item in self.section.options.get(option, []):
            problem = _expression_error(item.value)
            if problem is not None:
                self.error(item.line, f"`{option}`: '{item.value}': {problem}")
            else:
                patterns.append(module_pattern(item.value))
        return list(dict.fromkeys(patterns))

    def boolean(self, option: str) -> bool | None:
        value = self.section.value(option)
        if value is None:
            return None
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.error(
            self.section.line_of(option), f"`{option}`: could not parse a boolean from '{value}'"
        )
        return None

    def ignore_imports(self) -> list[dict[str, str]]:
        entries = []
        for item in self.section.options.get("ignore_imports", []):
            importer, arrow, imported = item.value.partition("->")
            importer, imported = importer.strip(), imported.strip()
            if not (arrow and importer and imported):
                self.error(
                    item.line,
                    f"`ignore_imports`: '{item.value}' is not `package.importer -> "
                    "package.imported`",
                )
                continue
            problem = _expression_error(importer) or _expression_error(imported)
            if problem is not None:
                self.error(item.line, f"`ignore_imports`: '{item.value}': {problem}")
                continue
            reason = item.comment or (
                f"carried over from import-linter ({self.label}, line {item.line})"
            )
            entries.append(
                {
                    "importer": module_pattern(importer),
                    "imported": module_pattern(imported),
                    "reason": reason,
                }
            )
        return entries

    # --- each type --------------------------------------------------------------------------

    def layers(self) -> dict[str, Any]:
        layers = []
        for item in self.section.options["layers"]:
            text = item.value.strip()
            if "|" in text and ":" in text:
                self.error(
                    item.line,
                    f"layer '{text}' mixes independent (`|`) and non-independent (`:`) siblings",
                )
            elif not _LAYER.match(text):
                self.error(item.line, f"layer '{text}' is not one or more module names")
            else:
                layers.append(ContractLayer.parse(text).text())
        data: dict[str, Any] = {"layers": layers}
        containers = self.modules("containers")
        if containers:
            data["containers"] = containers
        if self.boolean("exhaustive"):
            data["exhaustive"] = True
        ignores = []
        for item in self.section.options.get("exhaustive_ignores", []):
            if not _IDENTIFIER.match(item.value):
                self.error(item.line, f"`exhaustive_ignores`: '{item.value}' is not a module name")
            else:
                ignores.append(item.value)
        if ignores:
            data["exhaustive_ignores"] = sorted(set(ignores))
        return data

    def forbidden(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source_modules": self.modules("source_modules"),
            "forbidden_modules": self.modules("forbidden_modules"),
        }
        if self.boolean("allow_indirect_imports"):
            data["indirect"] = False
        if self.boolean("as_packages") is False:
            data["as_packages"] = False
        return data

    def independence(self) -> dict[str, Any]:
        return {"modules": self.modules("modules")}

    def acyclic_siblings(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ancestors": self.modules("ancestors")}
        depth = self.section.value("depth")
        if depth is not None:
            if not depth.strip().isdigit():
                self.error(
                    self.section.line_of("depth"), f"`depth`: '{depth}' is not an integer >= 0"
                )
            else:
                data["depth"] = int(depth)
        skipped = self.modules("skip_descendants")
        if skipped:
            data["skip_descendants"] = skipped
        return data

    def protected(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "protected_modules": self.modules("protected_modules"),
            "allowed_importers": self.modules("allowed_importers"),
        }
        if self.boolean("as_packages") is False:
            data["as_packages"] = False
        return data
