"""Cache keys follow layerguard's own code, not just its version number, and not where or
when it was installed."""

from __future__ import annotations

import shutil
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


def fingerprint_of(package: Path, *packages: str, monkeypatch: pytest.MonkeyPatch) -> str:
    code_fingerprint.cache_clear()
    monkeypatch.setattr(module, "_PACKAGE", package)
    return code_fingerprint(*packages)


def test_a_module_edit_changes_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "linter" / "facts" / "extract.py"
    source.parent.mkdir(parents=True)
    source.write_text("x = 1\n", "utf-8")
    other = tmp_path / "linter" / "rules.py"
    other.write_text("y = 1\n", "utf-8")
    before = fingerprint_of(tmp_path, "linter/facts", monkeypatch=monkeypatch)
    other.write_text("y = 22\n", "utf-8")  # outside the fingerprinted package
    assert fingerprint_of(tmp_path, "linter/facts", monkeypatch=monkeypatch) == before
    source.write_text("x = 2\n", "utf-8")  # same size, whatever the timestamps say
    assert fingerprint_of(tmp_path, "linter/facts", monkeypatch=monkeypatch) != before


def test_two_installs_of_the_same_code_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy elsewhere, with other timestamps (pre-commit's environment, a CI runner)."""
    real = Path(module.__file__).resolve().parents[2]
    copy = tmp_path / "site-packages" / "layerguard"
    shutil.copytree(real, copy, ignore=shutil.ignore_patterns("__pycache__"))
    here = fingerprint_of(real, "contracts", "linter", monkeypatch=monkeypatch)
    there = fingerprint_of(copy, "contracts", "linter", monkeypatch=monkeypatch)
    assert here == there
    assert here != fingerprint_of(copy, "contracts", monkeypatch=monkeypatch)


def test_the_real_packages_are_fingerprinted() -> None:
    """Every name the cache keys use is a real package or module (a moved module would
    otherwise fingerprint nothing, silently)."""
    package = Path(module.__file__).resolve().parents[2]
    for name in ("contracts", "contracts/cards", "linter", "linter/facts"):
        assert any((package / name).rglob("*.py")), name
