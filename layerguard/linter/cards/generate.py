"""`cards generate`: write placement cards for Python files, from the code.

Everything the code can tell is filled in (cards/content.py, rendered by cards/render.py);
inbound rules are left for a person to decide. Existing cards are kept unless replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.cards.content import card_content
from layerguard.linter.cards.derive import importers, is_blank
from layerguard.linter.cards.output import card_file_for, read_by_checks, write_text
from layerguard.linter.cards.render import render_card
from layerguard.linter.errors import UsageError
from layerguard.linter.project.build import build_index
from layerguard.linter.project.discovery import selected_by
from layerguard.linter.project.extraction import Progress, default_jobs


class Generated(Enum):
    WRITTEN = "written"
    KEPT = "kept"  # a card exists and was not to be replaced
    NOT_DESCRIBED = "not described"  # the file does not parse


@dataclass(frozen=True, slots=True)
class GeneratedCard:
    """What happened for one Python file: `card` is the card path (the file's own path when
    it was not described)."""

    source: str
    card: str
    outcome: Generated


@dataclass(frozen=True, slots=True)
class GenerateSummary:
    cards: list[GeneratedCard] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # written outside `cards.paths`
    cache_written: bool = True  # False: the caches could not be written

    def count(self, outcome: Generated) -> int:
        return sum(1 for card in self.cards if card.outcome is outcome)


class NothingToDescribeError(UsageError):
    """The PATHS given select no Python file of the project."""


def generate_cards(
    project: ProjectConfig,
    card_dir: str,
    paths: tuple[str, ...] | None = None,
    replace: bool = False,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Write a card for every selected file into `card_dir` (project-relative), or where the
    file's card already is. `paths` (project-relative) select files; by default every
    non-empty file that belongs to a layer."""
    built = build_index(project, default_jobs(), use_cache, None, cache_dir, progress)
    index = built.index
    if paths is None:
        sources = [s for s in index.files.values() if s.layer is not None and not is_blank(s.facts)]
    else:
        under = selected_by(paths)
        sources = [s for s in index.files.values() if under(s.path)]
        if not sources:
            raise NothingToDescribeError(
                "no Python file of the project is there (excluded, or outside the source roots)"
            )
    inbound = importers(index)
    summary = GenerateSummary(cache_written=built.cache_written)
    for source in sources:
        target = index.card_of_file.get(source.path) or card_file_for(
            source.path, project, card_dir
        )
        if source.facts.syntax_error is not None:
            summary.cards.append(GeneratedCard(source.path, source.path, Generated.NOT_DESCRIBED))
            continue
        if (project.root / target).exists() and not replace:
            summary.cards.append(GeneratedCard(source.path, target, Generated.KEPT))
            continue
        content = card_content(index, source, inbound.get(source.path, []))
        write_text(Path(project.root / target), render_card(content), project.root)
        summary.cards.append(GeneratedCard(source.path, target, Generated.WRITTEN))
        if not read_by_checks(target, project):
            summary.unread.append(target)
    return summary
