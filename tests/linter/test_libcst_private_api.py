"""The libcst internals facts extraction relies on still exist, with the shape it uses.

When a libcst release changes them, this fails first and says what changed, instead of the
facts silently going wrong (or every file becoming LG001).
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version

import libcst as cst

from layerguard.linter.facts.extract import PRIVATE_API

LIBCST = version("libcst")


def test_the_private_names_extraction_uses_exist() -> None:
    from libcst._nodes.internal import CodegenState

    missing = []
    for owner, members in PRIVATE_API.items():
        module_name, _, name = owner.rpartition(".")
        target = getattr(importlib.import_module(module_name), name)
        for member in members:
            attribute = member.split("(")[0]
            if attribute == "__init__":
                parameters = inspect.signature(CodegenState).parameters
                wanted = member[member.index("(") + 1 : -1].split(", ")
                missing += [f"{owner}({p}=...)" for p in wanted if p not in parameters]
            elif attribute == "tokens":
                fields = getattr(target, "__dataclass_fields__", {})
                if attribute not in fields:
                    missing.append(f"{owner}.{attribute}")
            elif not callable(getattr(target, attribute, None)):
                missing.append(f"{owner}.{attribute}()")
    assert not missing, (
        f"libcst {LIBCST} changed the private API layerguard/linter/facts/extract.py relies on: "
        f"{', '.join(missing)} missing. Adapt extract.py, or keep libcst below this version "
        "in pyproject.toml."
    )


def test_code_generation_still_feeds_the_hooks_in_source_order() -> None:
    """The collector counts emitted tokens between hooks: libcst must call before_codegen and
    after_codegen around every node while appending to `tokens`."""
    from libcst._nodes.internal import CodegenState

    seen: list[str] = []

    class Probe(CodegenState):
        def before_codegen(self, node: cst.CSTNode) -> None:
            if isinstance(node, cst.Name):
                seen.append(f"{node.value}@{len(''.join(self.tokens))}")

    source = "import os\nx = os.path\n"
    module = cst.parse_module(source)
    probe = Probe(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(probe)
    assert "".join(probe.tokens) == source
    assert seen == ["os@7", "x@10", "os@14", "path@17"]
