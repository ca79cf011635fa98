"""Cache keys follow layerguard's own code, not just its version number."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerguard.linter.caching import fingerprint as module
from layerguard.linter.caching.fingerprint import code_fingerprint


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    code_fingerprint.cache_clear()
    yield
    code_fingerprint.cache_clear()


def test_a_module_edit_changes_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "linter" / "facts" / "extract.py"
    source.parent.mkdir(parents=True)
    source.write_text("x = 1\n", "utf-8")
    other = tmp_path / "linter" / "rules.py"
    other.write_text("y = 1\n", "utf-8")
    monkeypatch.setattr(module, "_PACKAGE", tmp_path)
    before = code_fingerprint("linter/facts")
    code_fingerprint.cache_clear()
    other.write_text("y = 22\n", "utf-8")  # outside the fingerprinted package
    assert code_fingerprint("linter/facts") == before
    code_fingerprint.cache_clear()
    stat = source.stat()
    source.write_text("x = 22\n", "utf-8")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert code_fingerprint("linter/facts") != before
