"""Baseline matching, the pure middle: findings and a baseline in, what is hidden, new and
stale out (linter/baseline/model.py); no file is read."""

from __future__ import annotations

from layerguard.linter.baseline.model import (
    Baseline,
    EntryKey,
    match_baseline,
    stale_diagnostics,
    updated_baseline,
)
from layerguard.linter.diagnostics import Diagnostic, Severity

ROUTE = "app/api/routes.py"


def finding(line: int, key: str = "app.db", code: str = "LG101", path: str = ROUTE) -> Diagnostic:
    return Diagnostic(path, line, 1, code, f"imports {key}", Severity.ERROR, key)


def everything(_: EntryKey) -> bool:
    return True


def test_findings_are_matched_by_key_not_line() -> None:
    baseline = Baseline({EntryKey(ROUTE, "LG101", "app.db"): 1})
    match = match_baseline([finding(40)], baseline, everything)  # it moved from line 3
    assert (match.kept, match.new, match.hidden, match.stale) == ([], [], 1, [])


def test_extra_findings_with_one_key_are_new_the_last_ones_first() -> None:
    baseline = Baseline({EntryKey(ROUTE, "LG101", "app.db"): 2})
    match = match_baseline([finding(30), finding(10), finding(20)], baseline, everything)
    assert match.new == [finding(30)]
    assert match.kept == [finding(30)]
    assert match.hidden == 2
    assert match.occurring == {EntryKey(ROUTE, "LG101", "app.db"): 3}


def test_info_findings_are_never_hidden_nor_counted() -> None:
    info = Diagnostic(ROUTE, 5, 1, "LG404", "never dispatched", Severity.INFO, "op")
    baseline = Baseline({EntryKey(ROUTE, "LG404", "op"): 1}, {EntryKey(ROUTE, "LG404", "op"): 7})
    match = match_baseline([info], baseline, everything)
    assert match.kept == [info]
    assert match.new == []
    assert [(s.entry.key, s.missing, s.line) for s in match.stale] == [("op", 1, 7)]


def test_only_judged_entries_can_be_stale() -> None:
    gone = EntryKey(ROUTE, "LG201", "save:session.commit")
    other = EntryKey("app/other.py", "LG101", "app.db")
    baseline = Baseline({gone: 2, other: 1}, {gone: 5, other: 9})
    match = match_baseline(
        [finding(3, "save:session.commit", "LG201")], baseline, lambda k: k.path == ROUTE
    )
    assert [(s.entry, s.baselined, s.missing, s.line) for s in match.stale] == [(gone, 2, 1, 5)]


def test_stale_entries_become_lg904_at_their_line() -> None:
    gone = EntryKey(ROUTE, "LG201", "save:session.commit")
    baseline = Baseline({gone: 2}, {gone: 5})
    stale = match_baseline([], baseline, everything).stale
    (diagnostic,) = stale_diagnostics(stale, ".layerguard-baseline.json")
    assert diagnostic == Diagnostic(
        ".layerguard-baseline.json",
        5,
        1,
        "LG904",
        "the 2 baselined findings LG201 in app/api/routes.py (`save:session.commit`) no longer "
        "occur; run `layerguard baseline update` to remove it from the baseline",
        Severity.WARNING,
        "LG201:app/api/routes.py:save:session.commit",
    )


def test_update_shrinks_and_grows_only_when_allowed() -> None:
    kept = EntryKey(ROUTE, "LG101", "app.db")
    fixed = EntryKey(ROUTE, "LG201", "save:s")
    unjudged = EntryKey(ROUTE, "LG404", "op")
    new = EntryKey(ROUTE, "LG102", "sqlalchemy")
    baseline = Baseline({kept: 2, fixed: 1, unjudged: 1})
    occurring = {kept: 1, new: 1}
    judged = lambda key: key.code != "LG404"  # noqa: E731
    assert updated_baseline(baseline, occurring, judged, allow_new=False).counts == {
        kept: 1,
        unjudged: 1,
    }
    assert updated_baseline(baseline, occurring, judged, allow_new=True).counts == {
        kept: 1,
        new: 1,
        unjudged: 1,
    }


def test_from_findings_counts_equal_keys() -> None:
    info = Diagnostic(ROUTE, 5, 1, "LG404", "x", Severity.INFO, "op")
    baseline = Baseline.from_findings([finding(1), finding(2), finding(3, "app.models"), info])
    assert baseline.counts == {
        EntryKey(ROUTE, "LG101", "app.db"): 2,
        EntryKey(ROUTE, "LG101", "app.models"): 1,
    }
    assert baseline.description() == "3 findings in 1 file"
