"""Helpers to write a layerguard.yaml into a temp dir and load it for real."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.model import ProjectConfig

Problems = list[tuple[int, str, str]]  # (line, key_path, message)


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "layerguard.yaml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(config_file: Callable[[str], Path]) -> Callable[[str], ProjectConfig]:
    def load_text(text: str) -> ProjectConfig:
        return load_config(config_file(text))

    return load_text


@pytest.fixture
def problems(config_file: Callable[[str], Path]) -> Callable[[str], Problems]:
    """The (line, key_path, message) of every problem of an invalid file."""

    def problems_of(text: str) -> Problems:
        with pytest.raises(ConfigError) as caught:
            load_config(config_file(text))
        return [(p.line, p.key_path, p.message) for p in caught.value.problems]

    return problems_of
