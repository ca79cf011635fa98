"""Card text from `CardContent`: the whole card (`render_card`) and each machine-owned part on
its own, so that `sync` writes exactly what generation writes.

Pure string building in the seed card's format. Text taken from the code (docstrings) is made
safe for the card parser: a docstring line that would start a section, a heading or a code
block is escaped with a backslash (markdown shows it unchanged). YAML values are quoted
whenever a plain scalar could be read as something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from layerguard.contracts.escaping import surrogates_escaped
from layerguard.linter.cards.content import CardContent, ClassDoc, FunctionDoc
from layerguard.linter.cards.derive import ImportGroups

PLACEMENT_WIDTH = 17  # `Key:` padded to this column, as in the seed cards

SECTIONS = (
    "Placement Card",
    "Purpose",
    "Import Analysis",
    "Transaction Boundary",
    "Functions",
    "Classes",
    "Domain Usage",
    "Export Contract",
    "Import Boundary",
    "L5 Pairing Declaration",
)

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_YAML_WORDS = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "nan", "inf"}
)
_MARKDOWN_CONTROL = re.compile(r"^( {0,3})(#|`{3}|~{3})")
_HEADER_FIELD = re.compile(
    r"^([ \t]*)(\*\*[A-Za-z]+(?::\*\*|\*\*:)|\|[^|]*\|)"  # `**Key:**`, or a table row's first cell
)
_HEADER_KEYS = frozenset({"path", "layer", "component"})
_NO_DOCSTRING = "_No docstring._"


# --- scalars -----------------------------------------------------------------------------------


def _escape(char: str) -> str:
    if char in '\\"':
        return "\\" + char
    if char.isprintable():
        return char
    code = ord(char)  # YAML's escapes; JSON's surrogate pairs would not be read back
    return (
        f"\\x{code:02x}"
        if code <= 0xFF
        else f"\\u{code:04x}"
        if code <= 0xFFFF
        else f"\\U{code:08x}"
    )


def yaml_double(text: str) -> str:
    """A double-quoted YAML scalar: anything not printable is escaped."""
    return '"' + "".join(map(_escape, text)) + '"'


def yaml_single(text: str) -> str:
    """A single-quoted YAML scalar, as the seed writes module lists; double-quoted when a
    single-quoted scalar could not hold the text (line breaks, control characters)."""
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return yaml_double(text)


def yaml_name(text: str) -> str:
    """A plain scalar for identifiers YAML reads as strings; quoted otherwise (`yes`, `null`)."""
    if _PLAIN.fullmatch(text) and text.casefold() not in _YAML_WORDS:
        return text
    return yaml_double(text)


def flow_list(items: Iterable[str], quote: str = "'") -> str:
    scalar = yaml_single if quote == "'" else yaml_double
    return "[" + ", ".join(scalar(item) for item in items) + "]"


def inline_code(text: str) -> str:
    """`text` as markdown inline code, with a longer fence when the text holds backticks."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def _escaped(line: str) -> str:
    line = _MARKDOWN_CONTROL.sub(r"\1\\\2", line, count=1)
    field = _HEADER_FIELD.match(line)
    if field is not None and field[2].strip("*|: \t").casefold() in _HEADER_KEYS:
        return f"{field[1]}\\{line[len(field[1]) :]}"
    return line


def trimmed(lines: list[str]) -> list[str]:
    """Without leading and trailing blank lines: section bodies own no blank edges, so that
    the blank lines around them (which `sync` keeps) are the card's own."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return lines[filled[0] : filled[-1] + 1] if filled else []


def safe_prose(text: str) -> list[str]:
    """The lines of code-derived text (a docstring), escaped where the card parser or markdown
    would read structure: headings, `## ` sections, code fences, and header fields
    (`**Layer:** ...`, table rows), which a card without its own would take from a docstring."""
    return trimmed([_escaped(line.rstrip()) for line in text.splitlines()])


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- machine-owned parts -----------------------------------------------------------------------


def transaction_lines(content: CardContent) -> list[str]:
    summary = content.transactions

    def flag(value: bool) -> str:
        return "YES" if value else "no"

    lines = [
        f"- **Commits:** {flag(summary.commits)}",
        f"- **Flushes:** {flag(summary.flushes)}",
        f"- **Rollbacks:** {flag(summary.rollbacks)}",
    ]
    if summary.others:
        calls = ", ".join(f"`{method}()`" for method in summary.others)
        lines.append(f"- **Other transaction calls:** {calls}")
    return lines


def _docstring_lines(docstring: str | None) -> list[str]:
    return (docstring and safe_prose(docstring)) or [_NO_DOCSTRING]


def _function_block(function: FunctionDoc, level: str) -> list[str]:
    return [f"{level} {inline_code(function.signature)}", "", *_docstring_lines(function.docstring)]


def function_lines(content: CardContent) -> list[str]:
    if not content.functions:
        return ["_None._"]
    lines: list[str] = []
    for function in content.functions:
        if lines:
            lines.append("")
        lines.extend(_function_block(function, "###"))
    return lines


def _method_line(method: FunctionDoc) -> str:
    docstring = method.docstring or ""
    summary = next((line.strip() for line in docstring.splitlines() if line.strip()), None)
    return f"- {inline_code(method.signature)} — {_one_line(summary) if summary else _NO_DOCSTRING}"


def _class_block(cls: ClassDoc) -> list[str]:
    lines = [f"### {inline_code(cls.heading)}", "", *_docstring_lines(cls.docstring)]
    if cls.methods:
        lines.extend(["", "#### Methods", "", *(_method_line(m) for m in cls.methods)])
    return lines


def class_lines(content: CardContent) -> list[str]:
    if not content.classes:
        return ["_None._"]
    lines: list[str] = []
    for cls in content.classes:
        if lines:
            lines.append("")
        lines.extend(_class_block(cls))
    return lines


def exports_yaml(
    content: CardContent,
    consumers: Mapping[str, tuple[str, ...]] | None = None,
    protocols: frozenset[str] = frozenset(),
) -> list[str]:
    """The Export Contract block. `consumers` (hand-written, by symbol name) are kept; classes
    named in `protocols` are listed under `protocols:`, where the card had them."""
    consumers = consumers or {}

    def consumer_line(name: str) -> str:
        return "      consumers: " + flow_list(consumers.get(name, ()), quote='"')

    lines = ["exports:"]
    if content.exported_functions:
        lines.append("  functions:")
        for function in content.exported_functions:
            lines.append(f"    - name: {yaml_name(function.name)}")
            lines.append(f"      signature: {yaml_double(function.signature)}")
            lines.append(consumer_line(function.name))
    else:
        lines.append("  functions: []")
    for key, wanted in (("classes", False), ("protocols", True)):
        entries = [c for c in content.exported_classes if (c.name in protocols) == wanted]
        if not entries:
            lines.append(f"  {key}: []")
            continue
        lines.append(f"  {key}:")
        for cls in entries:
            lines.append(f"    - name: {yaml_name(cls.name)}")
            if cls.methods:
                lines.append("      methods:")
                lines.extend(f"        - {yaml_name(method)}" for method in cls.methods)
            else:
                lines.append("      methods: []")
            lines.append(consumer_line(cls.name))
    return lines


def actual_imports_lines(groups: ImportGroups, indent: str, child: str) -> list[str]:
    """The `actual_imports:` key and its groups, the key at `indent`, groups at `child`."""
    return [
        f"{indent}actual_imports:",
        *(f"{child}{yaml_name(name)}: {flow_list(modules)}" for name, modules in groups),
    ]


def boundary_yaml(content: CardContent) -> list[str]:
    """A new Import Boundary: inbound rules left for a person to decide (empty values)."""
    return [
        "boundary:",
        "  allowed_inbound:",
        "  forbidden_inbound:",
        *actual_imports_lines(content.import_groups, "  ", "    "),
        "  violations: []",
    ]


def pairing_yaml(content: CardContent) -> list[str]:
    return [
        "pairing:",
        f"  serves_domains: {flow_list(content.serves_domains)}",
        "  expected_l5_consumers: []",
        f"  orchestrator_operations: {flow_list(content.operations)}",
    ]


# --- the whole card ----------------------------------------------------------------------------


def _group_title(name: str) -> str:
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


def import_analysis_lines(content: CardContent) -> list[str]:
    lines: list[str] = []
    for name, modules in content.import_groups:
        if modules:
            if lines:
                lines.append("")
            lines.append(f"**{_group_title(name)}:**")
            lines.extend(f"- {inline_code(module)}" for module in modules)
    if content.lazy_imports:
        if lines:
            lines.append("")
        lines.append("**Inside functions** (not in `actual_imports`):")
        for module, symbol in content.lazy_imports:
            where = f" (in {inline_code(symbol)})" if symbol else ""
            lines.append(f"- {inline_code(module)}{where}")
    return lines or ["_No imports besides the standard library._"]


def _fenced(lines: list[str], info: str = "") -> list[str]:
    return [f"```{info}", *lines, "```"]


def _placement_lines(content: CardContent) -> list[str]:
    return [f"{key + ':':<{PLACEMENT_WIDTH}}{_one_line(value)}" for key, value in content.placement]


def section_bodies(content: CardContent) -> dict[str, list[str]]:
    """The body of each section of a generated card, by heading (no surrounding blank lines)."""
    purpose = content.purpose
    return {
        "Placement Card": _fenced(_placement_lines(content)),
        "Purpose": (purpose and safe_prose(purpose)) or [_NO_DOCSTRING],
        "Import Analysis": import_analysis_lines(content),
        "Transaction Boundary": transaction_lines(content),
        "Functions": function_lines(content),
        "Classes": class_lines(content),
        "Domain Usage": [f"**Callers:** {content.callers}"],
        "Export Contract": _fenced(exports_yaml(content), "yaml"),
        "Import Boundary": _fenced(boundary_yaml(content), "yaml"),
        "L5 Pairing Declaration": _fenced(pairing_yaml(content), "yaml"),
    }


def render_card(content: CardContent) -> str:
    """The text of a new card, in the seed card's format."""
    header = [f"**Path:** {inline_code(content.path_value)}"]
    if content.layer is not None:
        header.append(f"**Layer:** {_one_line(content.layer)}")
    header.append(f"**Component:** {_one_line(content.component)}")
    lines = [
        f"# {_one_line(content.title)}",
        "",
        *(line + "  " for line in header[:-1]),  # two spaces: a markdown line break
        header[-1],
        "",
        "---",
    ]
    for heading, body in section_bodies(content).items():
        lines.extend(["", f"## {heading}", "", *body])
    return card_text("\n".join(lines) + "\n")


def card_text(text: str) -> str:
    """A card's text as it is written: a lone surrogate from the code (a docstring holding
    `\\ud800`, a file name with an undecodable byte) as its escape, which UTF-8 can hold."""
    return surrogates_escaped(text)
