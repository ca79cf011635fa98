"""`check --changed`: the files a run reports on, from git and the two indexes.

`check` always analyses the whole project; `--changed` only narrows what is reported, so its
findings are by construction the full run's findings on these files.
"""

from __future__ import annotations

from collections.abc import Callable

from layerguard.contracts.config.model import CONFIG_FILE_NAME, ProjectConfig
from layerguard.linter.changed.affected import Affected, affected_files
from layerguard.linter.changed.base_index import base_index
from layerguard.linter.changed.git import changes_since
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules.runner import run_rules


def changed_scope(
    index: ProjectIndex,
    findings: list[Diagnostic],
    base: str,
    enabled: frozenset[str],
    use_cache: bool = True,
    reported: Callable[[str], bool] = lambda path: True,
) -> Affected:
    """The affected files of the work tree's changes since `base` (raises GitError).

    `findings` are the run's findings on `index`; the base revision's are computed here and
    narrowed by `reported` the same way, so that only real differences count.
    """
    config = index.config
    contract = _contract_path(config)
    changes = changes_since(config.root, base)
    before = base_index(index, changes, use_cache)
    findings_before = [d for d in run_rules(before, enabled) if reported(d.path)]
    return affected_files(
        index,
        before,
        changes.paths,
        contract=contract,
        contract_changed=contract in changes.paths,
        findings_now=findings,
        findings_before=findings_before,
    )


def _contract_path(config: ProjectConfig) -> str:
    path = config.path or config.root / CONFIG_FILE_NAME
    try:
        return path.resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return CONFIG_FILE_NAME
