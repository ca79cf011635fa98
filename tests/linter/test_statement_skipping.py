"""Extraction emits the text of statements that cannot hold a fact instead of generating them
node by node (see `_FactCollector.generate`). That is only a speed-up: on any source, the facts
must be exactly those of generating everything. Real code nobody here wrote is the main corpus.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import libcst
import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerguard.linter.facts import extract
from layerguard.linter.facts.logical_lines import PRIVATE_API, logical_line_ends
from layerguard.linter.facts.model import FileFacts
from layerguard.linter.facts.settings import ExtractionSettings

SETTINGS = ExtractionSettings()

PLANTED = {
    "byte order mark": b"\xef\xbb\xbfimport os\nx = 1\ndef f():\n    import sys\n",
    "CRLF": b"import os\r\nx = (1,\r\n 2)\r\ndef f():\r\n    y = 2\r\n    import sys\r\n",
    "a lone CR": b"import os\rx = 1\ndef f():\n    import sys\n",
    "latin-1": b"# -*- coding: latin-1 -*-\nx = '\xe9'\ndef f():\n    import sys\n",
    "no final newline": b"x = 1\ndef f():\n    y = 1\n    import sys",
    "a final comment": b"x = 1\ndef f():\n    y = 1\n# end",
    "semicolons": b"x = 1; import os\ny = 2; z = 3\n",
    "backslash continuation": b"x = 1 + \\\n  2\nimport os\n",
    "a line holding only a backslash": b"x = 1\n\\\ny = 2\nimport os\n",
    "an indented one": b"def f():\n    x = 1\n    \\\n    y = 2\n    import os\n",
    "form feed": b"x = 1\n\x0c\ndef f():\n    \x0cimport sys\n",
    "tabs": b"if True:\n\tx = 1\n\tif x:\n\t\timport os\n",
    "one-line suites": b"if x: pass\nelse: import os\nclass A: x = 1\ndef g(): import q\n",
    "decorators and comments": (
        b"@a\n# c\n@b(\n  1)\n\ndef f():\n    import os\n\n@d\nclass C:\n"
        b"    @e\n    def m(self):\n        import z\n"
    ),
    "match": b"match x:\n    case 1:\n        import os\n    case _:\n        y = 2\n",
    "TYPE_CHECKING": b"if TYPE_CHECKING:\n    import os\nelse:\n    x = 1\n",
    "try": (
        b"try:\n    import a\nexcept ImportError:\n    a = None\nelse:\n    b = 1\n"
        b"finally:\n    c = 2\n"
    ),
    "try star": b"try:\n    x = 1\nexcept* ValueError:\n    import os\n",
    "elif chain": (
        b"if a:\n    x = 1\nelif b:\n    import os\nelif c:\n    y = 2\nelse:\n    z = 3\n"
    ),
    "suppressions": (
        b"x = 1  # layerguard: ignore[LG101] because\nimport os  # LayerGuard: ignore\n"
    ),
    "f-strings": b"x = f'{a!r:>{w}}'\nimport os\ny = f\"{'nested'}\"\n",
    "registry call over lines": (
        b"async def h(r):\n    return await registry.execute(\n        'a.b', ctx)\n"
    ),
    "parenthesised callee": (
        b"async def h(r):\n    return await (registry.execute\n      # hm\n      )('a.b', ctx)\n"
    ),
    "transactions": b"def f(s):\n    s.commit()\n    s.begin()\n    x = sessionmaker()\n",
    "async compound": (
        b"async def f():\n    async with a as b:\n        import os\n    async for x in y:\n"
        b"        z = 1\n"
    ),
    "while else": b"while x:\n    y = 1\nelse:\n    import os\n",
    "methods in conditional class bodies": (
        b"class A:\n    if X:\n        def m(self): ...\n    def n(self):\n        pass\n"
        b"class B:\n    if Y:\n        def o(self): ...\n"
    ),
    "an over-indented comment": b"def f():\n    x = 1\n        # odd\n    import os\n",
    "blank lines with spaces": b"def f():\n    x = 1\n    \n  \n    import os\n",
    "lambdas": b"f = lambda: 1\ng = lambda x=lambda: 2: x\n",
    "suppressed import": b"with suppress(ImportError):\n    import ujson\n",
    "empty": b"",
}


def facts_generating_everything(source: bytes, monkeypatch: pytest.MonkeyPatch) -> FileFacts:
    with monkeypatch.context() as patched:
        patched.setattr(extract, "_line_ends", lambda text: None)
        return extract.extract_facts(source, SETTINGS)


@pytest.mark.parametrize("source", PLANTED.values(), ids=PLANTED.keys())
def test_planted_shapes_give_the_facts_of_generating_everything(
    source: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert extract.extract_facts(source, SETTINGS) == facts_generating_everything(
        source, monkeypatch
    )


def corpus() -> list[Path]:
    """Every 7th file of two installed packages that use every statement form: 80 files
    of real code, in a stable order."""
    files: list[Path] = []
    for package in (sqlalchemy, libcst):
        root = Path(str(package.__file__)).parent
        files += sorted(root.rglob("*.py"))[::7]
    return files


def test_real_code_gives_the_facts_of_generating_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = corpus()
    assert len(files) >= 80
    differing = [
        str(path)
        for path in files
        if extract.extract_facts(path.read_bytes(), SETTINGS)
        != facts_generating_everything(path.read_bytes(), monkeypatch)
    ]
    assert differing == []


def test_statements_without_facts_are_not_generated_node_by_node(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The speed-up is real: a statement that cannot hold a fact never reaches code generation,
    one that may hold a fact does."""
    generated: list[str] = []
    original = libcst.SimpleStatementLine._codegen_impl

    def spy(self: libcst.SimpleStatementLine, state: object, *args: object) -> None:
        generated.append(type(self.body[0]).__name__)
        original(self, state, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(libcst.SimpleStatementLine, "_codegen_impl", spy)
    source = "x = 1\ndef f():\n    y = compute(x)\n    import os\n    return y\n"
    facts = extract.extract_facts(source, SETTINGS)
    assert generated == ["Import"]
    assert [(i.line, i.module) for i in facts.imports] == [(4, "os")]


def test_the_tokenizer_has_the_shape_relied_on() -> None:
    """`_tokenize.TokenizerIter` is private (`PRIVATE_API`): when a Python changes it, this
    fails here instead of every file silently taking the slow path."""
    source = "x = (1,\n     2)\n# a comment\n\nif a:\n    y = 1  # trailing\nz = \\\n  3\n"
    assert logical_line_ends(source) == {1: 2, 5: 5, 6: 6, 7: 8}, (
        f"Python {sys.version_info[:2]}: {PRIVATE_API}"
    )


def test_what_the_tokenizer_refuses_takes_the_slow_path() -> None:
    assert logical_line_ends("x = 'unterminated\n") is None
    assert extract._line_ends("a = 1\rb = 2\n") is None  # lone CR: lines count differently


SOURCES = [
    path.read_bytes()
    for path in sorted((Path(__file__).parents[2] / "examples" / "hoc_app").rglob("*.py"))
    if path.stat().st_size > 500
]

SNIPPETS = [
    b"import os\n",
    b"x = (1,\n  2)\n",
    b"y = 1 + \\\n  2\n",
    b"s.commit()\n",
    b"await registry.execute(\n  'a.b', ctx)\n",
    b"# layerguard: ignore[LG101]\n",
    b"z = f'{a!r}' if b else '''\nlong\n'''\n",
    b"@decorator\n",
    b"if x: import y\n",
    b"\n",
    b"    \n",
    b"# a comment\n",
    b"\x0c\n",
]
TOKENS = [b"\\\n", b"(", b")", b"'", b'"', b"#", b"\n", b"\r", b"\r\n", b"f'", b";", b":", b"\t"]


@st.composite
def edited(draw: st.DrawFn) -> bytes:
    """A real file with whole lines inserted (at the next line's indentation, so that most
    edits still parse) and stray tokens that the tokenizer and libcst must agree about."""
    data = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        lines = data.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines)))
        if draw(st.booleans()):
            following = lines[at] if at < len(lines) else b""
            indent = following[: len(following) - len(following.lstrip(b" \t"))]
            snippet = draw(st.sampled_from(SNIPPETS))
            lines.insert(at, b"".join(indent + line for line in snippet.splitlines(True)))
            data = b"".join(lines)
        else:
            position = draw(st.integers(0, len(data)))
            data = data[:position] + draw(st.sampled_from(TOKENS)) + data[position:]
    return data


@settings(
    max_examples=int(os.environ.get("LAYERGUARD_FUZZ_EXAMPLES", "12")) * 8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(source=edited())
def test_edited_real_files_give_the_facts_of_generating_everything(
    source: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert extract.extract_facts(source, SETTINGS) == facts_generating_everything(
        source, monkeypatch
    )
