"""Placement cards from markdown: `parse_card` (text) and `read_card` (a file).

Card sets are written by hand as often as they are generated, so the parser reads what it can
and reports the rest: every problem becomes a `CardError` with the card line and what was
expected there, and the parser itself never raises. Card folders also hold other documents
(index pages, domain summaries, long-form notes): a file is read as a card only when it looks
like one — a `**Path:**` line, a title that is a `.py` file's name, or a section only cards
have — and is otherwise a *document*, with no card and no errors. The markdown structure it
relies on:

- `# title`, then header lines `**Path:** ...`, `**Layer:** ...`, `**Component:** ...` (or the
  rows of a `| Field | Value |` table) anywhere outside code blocks;
- `## heading` sections. A `## ` line always starts a section, even inside a code block: a block
  that reaches one is reported as unclosed and ends there, so one missing fence cannot swallow
  the rest of the card;
- machine-owned sections, recognised by their heading without any parenthesised or
  dash-separated suffix ("Import Boundary (generated)", "Export Contract — v2"), whose first
  code block holds the data: `Key: Value` lines for the Placement Card, YAML for the others.
  Unknown YAML keys are ignored, so cards may carry notes the tool does not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import yaml
from yaml.reader import ReaderError

from layerguard.contracts.cards.model import (
    Card,
    CardError,
    CardParseResult,
    ExportContract,
    ExportedClass,
    ExportedFunction,
    ImportBoundary,
    ImportGroup,
    Located,
    Names,
    PairingDeclaration,
    PatternList,
    PlacementField,
    Section,
    SectionKind,
)
from layerguard.contracts.file_access import (
    DEFAULT_MAX_FILE_BYTES,
    UnreadableFileError,
    read_regular_file,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = (
    yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
)
_NULL_TAG = "tag:yaml.org,2002:null"
_EMPTY = yaml.ScalarNode(_NULL_TAG, "", yaml.Mark("", 0, 0, 0, None, 0))
"""An empty YAML block, as a null at its first line."""

# Every pattern here runs once per card line, and a line may be a megabyte long: each must
# match in linear time. None ends in a lazy `.*?` before optional blanks (quadratic on a long
# run of spaces): the text is matched greedily and its trailing blanks stripped afterwards.
_SECTION = re.compile(r" {0,3}##[ \t]+(?P<heading>\S.*)")
_TITLE = re.compile(r" {0,3}#[ \t]+(?P<title>\S.*)")
_FENCE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_HEADER_LINE = re.compile(
    r"\*\*(?P<key>[A-Za-z]+)(?::\*\*|\*\*:)[ \t]*(?P<value>.*)", re.IGNORECASE
)
_TABLE_ROW = re.compile(r"[ \t]*\|(?P<cells>.*)\|[ \t]*")
_HEADER_KEYS = ("path", "layer", "component")
_BLANKS = " \t"
_SUFFIX_START = re.compile(r"\(|\s[-\u2013\u2014]|[\u2013\u2014]")
_DASH_SUFFIX = re.compile(r"\s[-\u2013\u2014]|[\u2013\u2014]")
_SECTION_KINDS: dict[str, SectionKind] = {
    "placement card": "placement",
    "export contract": "exports",
    "import boundary": "boundary",
    "l5 pairing declaration": "pairing",
}
CARD_ONLY_SECTIONS = frozenset({*_SECTION_KINDS, "transaction boundary", "import analysis"})
"""Headings (as `heading_name` reads them) that only placement cards have: one of them makes a
markdown file a card even without `**Path:**` (which is then reported missing)."""
_NOT_IN_A_FILE_TITLE = re.compile(r"[\s`]")  # a card's title is its file's name or path

T = TypeVar("T")

_BOM = b"\xef\xbb\xbf"


def parse_card(text: str, path: str) -> CardParseResult:
    """Parse a card's text; `path` only labels the card and its errors."""
    return _CardReader(text, path).read()


def read_card(path: Path, limit: int = DEFAULT_MAX_FILE_BYTES) -> CardParseResult:
    """Read and parse a card file; an unreadable file (a FIFO, one larger than `limit` bytes)
    or a bad encoding is a card error too."""
    label = str(path)
    try:
        data = read_regular_file(path, limit)
    except UnreadableFileError as exc:
        return _unreadable(label, 1, f"cannot read the card: {exc}")
    return parse_card_bytes(data, label)


def decode_card(data: bytes, path: str) -> tuple[str, bool] | CardError:
    """A card file's text and whether it starts with a UTF-8 BOM (which `cards sync` keeps),
    or the error saying where it is not UTF-8."""
    bom = data.startswith(_BOM)
    data = data.removeprefix(_BOM)
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return CardError(
            path, line, f"expected UTF-8 text, found byte 0x{data[exc.start]:02x} ({exc.reason})"
        )


def parse_card_bytes(data: bytes, path: str) -> CardParseResult:
    """Parse a card file's bytes (UTF-8, with or without a BOM); `path` labels the card."""
    decoded = decode_card(data, path)
    if isinstance(decoded, CardError):
        return CardParseResult(card=None, errors=(decoded,))
    return parse_card(decoded[0], path)


def _unreadable(path: str, line: int, message: str) -> CardParseResult:
    return CardParseResult(card=None, errors=(CardError(path, line, message),))


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the text ends with a line break: no line after it
    return [line.removesuffix("\r") for line in lines]


def heading_name(heading: str) -> str:
    """A `## heading` as sections are recognised: without a parenthesised or dash-separated
    suffix, whitespace collapsed, case folded ("Functions (generated)" -> "functions")."""
    return " ".join(_without_suffixes(heading).split()).casefold().rstrip(":")


def _without_suffixes(heading: str) -> str:
    """`heading` with each `(...)` group and everything from a dash on (` - `, `–`, `—`)
    replaced by a space, in one pass: a regex `\\([^)]*\\)` would scan to the end of the line
    from every `(` that is never closed, quadratic on a line of `(`s."""
    last_close = heading.rfind(")")
    kept: list[str] = []
    start = 0
    while (found := _SUFFIX_START.search(heading, start)) is not None:
        kept.append(heading[start : found.start()])
        if found.group() != "(":
            kept.append(" ")  # a dash: the rest of the heading is a suffix
            return "".join(kept)
        if found.start() > last_close:  # no `)` after it, nor after any later `(`
            dash = _DASH_SUFFIX.search(heading, found.start())
            end = len(heading) if dash is None else dash.start()
            kept.append(heading[found.start() : end])
            kept.append("" if dash is None else " ")
            return "".join(kept)
        kept.append(" ")
        start = heading.index(")", found.end()) + 1
    kept.append(heading[start:])
    return "".join(kept)


def _section_kind(heading: str) -> SectionKind | None:
    return _SECTION_KINDS.get(heading_name(heading))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith("`") and value.endswith("`"):
        return value[1:-1].strip()
    return value


@dataclass(frozen=True, slots=True)
class _Fence:
    """A code block: its opening line, info string and the half-open range of its content."""

    line: int
    info: str
    body_start: int
    body_end: int


class _CardReader:
    """One parse: the card's lines and the errors found so far."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = _split_lines(text)
        self.errors: list[CardError] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(CardError(self.path, line, message))

    def result(self, card: Card | None) -> CardParseResult:
        return CardParseResult(card, tuple(sorted(self.errors, key=lambda error: error.line)))

    def read(self) -> CardParseResult:
        title, header, headings, fences = self._scan()
        if not _looks_like_a_card(title, header, headings):
            return CardParseResult(card=None, document=True)
        sections = self._sections(headings)
        placement: tuple[PlacementField, ...] = ()
        exports = boundary = pairing = None
        for section, fence in self._blocks(sections, fences):
            if section.kind == "placement":
                placement = self._placement(fence)
                continue
            root = self._compose(section, fence)
            if root is None:
                continue
            block = _YamlBlock(self, fence.body_start)
            if section.kind == "exports":
                exports = block.top(root, fence, "exports", block.exports)
            elif section.kind == "boundary":
                boundary = block.top(root, fence, "boundary", block.boundary)
            else:
                pairing = block.top(root, fence, "pairing", block.pairing)
        source_path = header.get("path")
        if source_path is None:
            self.error(1, "expected a `**Path:**` line naming the source file the card describes")
            return self.result(None)
        if not source_path.value:
            self.error(source_path.line, "expected the described source file after `**Path:**`")
            return self.result(None)
        card = Card(
            path=self.path,
            source_path=source_path,
            title=title,
            layer=header.get("layer"),
            component=header.get("component"),
            placement=placement,
            exports=exports,
            boundary=boundary,
            pairing=pairing,
            sections=tuple(sections),
        )
        return self.result(card)

    def _scan(
        self,
    ) -> tuple[Located[str] | None, dict[str, Located[str]], list[Located[str]], list[_Fence]]:
        """One pass over the lines: title, header fields, `## ` headings and code blocks."""
        title: Located[str] | None = None
        header: dict[str, Located[str]] = {}
        headings: list[Located[str]] = []
        fences: list[_Fence] = []
        open_fence: tuple[int, str, str] | None = None  # line, fence, info
        for number, line in enumerate(self.lines, start=1):
            heading = _SECTION.fullmatch(line)
            if open_fence is not None:
                start, marker, info = open_fence
                if heading is None and not self._closes(line, marker):
                    continue
                if heading is not None:
                    self._unclosed(start, marker)
                fences.append(_Fence(start, info, start + 1, number))
                open_fence = None
                if heading is None:
                    continue
            if heading is not None:
                headings.append(Located(heading["heading"].rstrip(_BLANKS), number))
            elif fence := _FENCE.fullmatch(line):
                info = fence["info"].strip()
                if not (fence["fence"][0] == "`" and "`" in info):  # else: inline code
                    open_fence = (number, fence["fence"], info)
            elif not headings and title is None and (match := _TITLE.fullmatch(line)):
                title = Located(match["title"].rstrip(_BLANKS), number)
            else:
                self._header_field(line, number, header)
        if open_fence is not None:
            start, marker, info = open_fence
            self._unclosed(start, marker)
            fences.append(_Fence(start, info, start + 1, len(self.lines) + 1))
        return title, header, headings, fences

    @staticmethod
    def _closes(line: str, marker: str) -> bool:
        fence = _FENCE.fullmatch(line)
        return (
            fence is not None
            and fence["fence"][0] == marker[0]
            and len(fence["fence"]) >= len(marker)
            and not fence["info"].strip()
        )

    def _unclosed(self, line: int, marker: str) -> None:
        self.error(line, f"expected a closing {marker} for this code block before the next section")

    def _header_field(self, line: str, number: int, header: dict[str, Located[str]]) -> None:
        if match := _HEADER_LINE.fullmatch(line):
            key, value = match["key"], match["value"].rstrip(_BLANKS)
        elif row := _TABLE_ROW.fullmatch(line):
            cells = row["cells"].split("|")
            if len(cells) < 2:
                return
            key, value = cells[0].strip().strip("*").strip().rstrip(":"), cells[1].strip()
        else:
            return
        key = key.casefold()
        if key in _HEADER_KEYS and key not in header:
            header[key] = Located(_unquote(value), number)

    def _sections(self, headings: list[Located[str]]) -> list[Section]:
        sections: list[Section] = []
        first_line: dict[str, int] = {}
        for index, heading in enumerate(headings):
            end = headings[index + 1].line if index + 1 < len(headings) else len(self.lines) + 1
            kind = _section_kind(heading.value)
            sections.append(Section(heading.value, heading.line, heading.line + 1, end, kind))
            # Kinds and prose headings apart: a prose "## Exports" is not an "Export Contract".
            identity = f"kind:{kind}" if kind else " ".join(heading.value.split()).casefold()
            if identity in first_line:
                self.error(
                    heading.line,
                    f"expected one '{heading.value}' section, found another at line "
                    f"{first_line[identity]} (only that one is read)",
                )
            else:
                first_line[identity] = heading.line
        return sections

    def _blocks(
        self, sections: list[Section], fences: list[_Fence]
    ) -> list[tuple[Section, _Fence]]:
        """The data block of each machine-owned section (the first of each kind)."""
        blocks: list[tuple[Section, _Fence]] = []
        seen: set[SectionKind] = set()
        for section in sections:
            if section.kind is None or section.kind in seen:
                continue
            seen.add(section.kind)
            fence = next((f for f in fences if section.line < f.line < section.body_end), None)
            if fence is None:
                self.error(
                    section.line, f"expected a ``` code block in the '{section.heading}' section"
                )
            else:
                blocks.append((section, fence))
        return blocks

    def _placement(self, fence: _Fence) -> tuple[PlacementField, ...]:
        """`Key: Value` lines, split on the first colon; indented lines continue a value."""
        fields: list[PlacementField] = []
        first_line: dict[str, int] = {}
        for number in range(fence.body_start, fence.body_end):
            line = self.lines[number - 1].rstrip()
            if not line.strip():
                continue
            if line[0] in " \t":
                if not fields:
                    self.error(number, "expected `Key: Value` before an indented continuation line")
                else:
                    last = fields[-1]
                    value = f"{last.value} {line.strip()}".strip()
                    fields[-1] = PlacementField(last.key, value, last.line)
                continue
            key, colon, value = line.partition(":")
            key = key.strip()
            if not colon or not key:
                self.error(number, "expected `Key: Value` (a key, a colon, then the value)")
                continue
            identity = key.casefold()
            if identity in first_line:
                self.error(
                    number,
                    f"expected one '{key}' key, found another at line {first_line[identity]}",
                )
                continue
            first_line[identity] = number
            fields.append(PlacementField(key, value.strip(), number))
        return tuple(fields)

    def _compose(self, section: Section, fence: _Fence) -> yaml.Node | None:
        """The YAML node tree of a block, or None after reporting why it does not parse."""
        text = "\n".join(self.lines[fence.body_start - 1 : fence.body_end - 1])
        offset = 0
        try:
            root = yaml.compose(text, Loader=_LOADER)
            return root if root is not None else _EMPTY
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            if exc.context_mark is not None and mark is not None and mark.index >= len(text):
                mark = exc.context_mark  # at the end of the block: point where the construct began
            offset = mark.line if mark is not None else 0
            problem = exc.problem or exc.context or "unreadable YAML"
            if exc.problem and exc.context:
                problem = f"{exc.problem} ({exc.context})"
        except ReaderError as exc:
            offset = text.count("\n", 0, exc.position)
            problem = exc.reason
        except (yaml.YAMLError, RecursionError, UnicodeError) as exc:
            problem = str(exc) or type(exc).__name__
        last = max(fence.body_start, fence.body_end - 1)
        line = min(max(fence.body_start + offset, fence.body_start), last)
        self.error(line, f"expected valid YAML in the '{section.heading}' block: {problem}")
        return None


def _looks_like_a_card(
    title: Located[str] | None, header: dict[str, Located[str]], headings: list[Located[str]]
) -> bool:
    """A `**Path:**` line, a title that is a `.py` file's name (`# policy_engine.py`), or a
    section only cards have: anything else under `cards.paths` is another kind of document."""
    if "path" in header:
        return True
    if title is not None and _is_file_title(title.value):
        return True
    return any(heading_name(heading.value) in CARD_ONLY_SECTIONS for heading in headings)


def _is_file_title(title: str) -> bool:
    """Whether a `# title` is a Python file's name or path and nothing else, as cards are
    titled (`policy_engine.py`, `` `app/models/__init__.py` ``, an ATX closing `#` aside): a
    title that only mentions one (`policy_engine.py and policy_store.py: a walkthrough`) is a
    document's. Linear: a title may be one line of megabytes."""
    unclosed = title.rstrip("#")
    if unclosed != title and (not unclosed or unclosed[-1] in " \t"):
        title = unclosed.rstrip(" \t")
    if len(title) > 2 and title[0] == title[-1] == "`":
        title = title[1:-1]
    if _NOT_IN_A_FILE_TITLE.search(title):
        return False
    name = title.replace("\\", "/").rpartition("/")[2]
    return name.endswith(".py") and len(name) > 3 and (name[-4].isalnum() or name[-4] == "_")


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL_TAG:
        return "nothing"
    return f"{node.value!r}"


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


_Entries = dict[str, tuple[yaml.Node, yaml.Node]]


class _YamlBlock:
    """Reads the node tree of one YAML block into the model, shape by shape.

    Every reader reports what it expected at the node's card line and returns what it could
    read, so one bad entry does not hide the others.
    """

    def __init__(self, reader: _CardReader, first_line: int) -> None:
        self.reader = reader
        self.first_line = first_line

    def line(self, node: yaml.Node) -> int:
        return self.first_line + node.start_mark.line

    def expected(self, node: yaml.Node, where: str, what: str) -> None:
        self.reader.error(self.line(node), f"{where}: expected {what}, found {_describe(node)}")

    def top(
        self,
        root: yaml.Node,
        fence: _Fence,
        key: str,
        read: Callable[[yaml.Node, int], T | None],
    ) -> T | None:
        """The block's `key:` entry, read by `read(value, line of the key)`."""
        entries = self.mapping(root, "the block", f"a mapping with the `{key}:` key")
        if entries is None:
            return None
        if key not in entries:
            self.reader.error(
                self.line(root) if entries else fence.line,
                f"expected the `{key}:` key in this block",
            )
            return None
        key_node, value = entries[key]
        return read(value, self.line(key_node))

    def mapping(self, node: yaml.Node, where: str, what: str = "a mapping") -> _Entries | None:
        """The entries of a mapping by key (null is an empty mapping); None if not a mapping."""
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.expected(node, where, what)
            return None
        entries: _Entries = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.expected(key, where, "a key name")
            elif key.value in entries:
                first = self.line(entries[key.value][0])
                self.reader.error(
                    self.line(key),
                    f"{where}: expected one `{key.value}:` key, found another at line {first}",
                )
            else:
                entries[key.value] = (key, value)
        return entries

    def text(self, node: yaml.Node, where: str, what: str) -> Located[str] | None:
        if not isinstance(node, yaml.ScalarNode) or _is_null(node):
            self.expected(node, where, what)
            return None
        return Located(node.value, self.line(node))

    def names(self, node: yaml.Node | None, where: str, what: str) -> Names:
        """A list of strings (`what`s); a single string is a list of one, null an empty list."""
        if node is None or _is_null(node):
            return ()
        if isinstance(node, yaml.ScalarNode):
            return (Located(node.value, self.line(node)),)
        if not isinstance(node, yaml.SequenceNode):
            self.expected(node, where, f"a list of {what}s")
            return ()
        items = (self.text(item, f"{where}[{i}]", f"a {what}") for i, item in enumerate(node.value))
        return tuple(item for item in items if item is not None)

    def entries(
        self, node: yaml.Node | None, where: str, read: Callable[[yaml.Node, str], T | None]
    ) -> tuple[T, ...]:
        """A list of entries, each read by `read(item, where)`; failed entries are left out."""
        if node is None or _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.expected(node, where, "a list")
            return ()
        items = (read(item, f"{where}[{i}]") for i, item in enumerate(node.value))
        return tuple(item for item in items if item is not None)

    def named(self, node: yaml.Node, where: str) -> tuple[Located[str], _Entries] | None:
        """An entry that is a bare name or a mapping with a `name:`, and its other entries."""
        if isinstance(node, yaml.ScalarNode) and not _is_null(node):
            return Located(node.value, self.line(node)), {}
        entries = self.mapping(node, where, "a name or a mapping with a `name:`")
        if entries is None:
            return None
        if "name" not in entries:
            self.reader.error(self.line(node), f"{where}: expected a `name:` key in this entry")
            return None
        name = self.text(entries["name"][1], f"{where}.name", "a name")
        return None if name is None else (name, entries)

    def function(self, node: yaml.Node, where: str) -> ExportedFunction | None:
        named = self.named(node, where)
        if named is None:
            return None
        name, entries = named
        signature = entries.get("signature")
        return ExportedFunction(
            name=name,
            signature=None
            if signature is None or _is_null(signature[1])
            else self.text(signature[1], f"{where}.signature", "a signature"),
            consumers=self.names(
                self.value(entries, "consumers"), f"{where}.consumers", "consumer"
            ),
        )

    def cls(self, node: yaml.Node, where: str) -> ExportedClass | None:
        named = self.named(node, where)
        if named is None:
            return None
        name, entries = named
        return ExportedClass(
            name=name,
            methods=self.names(self.value(entries, "methods"), f"{where}.methods", "method name"),
            consumers=self.names(
                self.value(entries, "consumers"), f"{where}.consumers", "consumer"
            ),
        )

    @staticmethod
    def value(entries: _Entries, key: str) -> yaml.Node | None:
        entry = entries.get(key)
        return None if entry is None else entry[1]

    def exports(self, node: yaml.Node, line: int) -> ExportContract | None:
        entries = self.mapping(node, "exports", "a mapping of functions, classes and protocols")
        if entries is None:
            return None
        return ExportContract(
            line=line,
            functions=self.entries(
                self.value(entries, "functions"), "exports.functions", self.function
            ),
            classes=self.entries(self.value(entries, "classes"), "exports.classes", self.cls),
            protocols=self.entries(self.value(entries, "protocols"), "exports.protocols", self.cls),
        )

    def patterns(self, entries: _Entries, key: str) -> PatternList | None:
        """A list that may be absent (None), empty (`key:`: value None) or given."""
        if key not in entries:
            return None
        key_node, value = entries[key]
        line = self.line(key_node)
        if _is_null(value):
            return Located(None, line)
        return Located(self.names(value, f"boundary.{key}", "module pattern"), line)

    def boundary(self, node: yaml.Node, line: int) -> ImportBoundary | None:
        entries = self.mapping(node, "boundary")
        if entries is None:
            return None
        actual: Located[tuple[ImportGroup, ...]] | None = None
        if "actual_imports" in entries:
            key_node, value = entries["actual_imports"]
            groups = self.mapping(value, "boundary.actual_imports", "a mapping of import groups")
            if groups is not None:
                actual = Located(
                    tuple(
                        ImportGroup(
                            name=name,
                            line=self.line(group_key),
                            modules=self.names(group, f"boundary.actual_imports.{name}", "module"),
                        )
                        for name, (group_key, group) in groups.items()
                    ),
                    self.line(key_node),
                )
        return ImportBoundary(
            line=line,
            allowed_inbound=self.patterns(entries, "allowed_inbound"),
            forbidden_inbound=self.patterns(entries, "forbidden_inbound"),
            actual_imports=actual,
            violations=self.names(
                self.value(entries, "violations"), "boundary.violations", "violation"
            ),
        )

    def pairing(self, node: yaml.Node, line: int) -> PairingDeclaration | None:
        entries = self.mapping(node, "pairing")
        if entries is None:
            return None
        return PairingDeclaration(
            line=line,
            serves_domains=self.names(
                self.value(entries, "serves_domains"), "pairing.serves_domains", "domain"
            ),
            expected_l5_consumers=self.names(
                self.value(entries, "expected_l5_consumers"),
                "pairing.expected_l5_consumers",
                "consumer",
            ),
            orchestrator_operations=self.names(
                self.value(entries, "orchestrator_operations"),
                "pairing.orchestrator_operations",
                "operation",
            ),
        )
