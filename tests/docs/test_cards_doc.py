"""docs/cards.md says what the code does: its Transaction values and its CI step."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from layerguard.linter.cards.derive import TRANSACTION_VALUES, Declared, read_transaction_value

CARDS_MD = (Path(__file__).parents[2] / "docs" / "cards.md").read_text(encoding="utf-8")


def test_every_documented_transaction_value_is_understood_as_documented() -> None:
    section = CARDS_MD[CARDS_MD.index("### LG304") : CARDS_MD.index("### LG305")]
    rows = re.findall(r"^\| `([^`]+)` \(([^)]*)\) \| .* \|$", section, re.M)
    assert [value for value, _ in rows] == [declared.value for declared in Declared]
    documented = set()
    for value, synonyms in rows:
        for text in (value, *re.findall(r"`([^`]+)`", synonyms)):
            assert read_transaction_value(text) is read_transaction_value(value), text
            documented.add(" ".join(text.replace("-", " ").split()).casefold())
    assert documented == set(TRANSACTION_VALUES)


def test_the_ci_step_is_valid_yaml() -> None:
    block = re.search(r"```yaml\n(      - name: Cards are up to date\n.*?)```", CARDS_MD, re.S)
    assert block is not None
    [step] = yaml.safe_load(block.group(1))
    assert step["run"] == "layerguard cards sync --check"
