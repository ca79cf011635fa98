"""LG904: a baseline entry that no longer matches any finding.

The baseline (`.layerguard-baseline.json`) is a bulk suppression, so it gets the same treatment
as an unused `# layerguard: ignore[...]` comment: an entry that hides nothing is reported,
because it would silently excuse the same violation if someone wrote it again. The finding is
produced by `check` after the rules ran (linter/baseline.py), not by a rule over the index.
"""

from __future__ import annotations

from layerguard.linter.baseline.model import STALE_SEVERITY
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, RuleInfo

DRIVER = "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py"
BASELINE = """
    {
      "findings": {
        "backend/app/hoc/cus/policies/L6_drivers/policy_driver.py": {
          "LG201": {
            "save:session.commit": 1
          }
        }
      },
      "version": 1
    }
"""


class StaleBaselineEntry(RuleInfo):
    code = codes.STALE_BASELINE_ENTRY
    summary = "A baseline entry matches no finding any more: the baseline must shrink."
    severity = STALE_SEVERITY
    catches = """
An entry of the baseline file that matches no finding any more, reported at its line in the
baseline file. `layerguard baseline create` records the findings a codebase had when it
adopted layerguard, keyed by rule, file and the finding's key (import target,
`function:receiver.method`, ...), never by line; `check` hides those findings and reports new
ones. When a baselined violation is fixed, its entry becomes stale. Entries of rules that are
not enabled in a run are not judged; entries of codes that no longer exist are always stale.
"""
    why = """
Left in place, a stale entry would excuse the same violation if someone wrote it again. So it
fails the check, like an unused suppression comment, until the baseline shrinks — which makes
the baseline a record of debt that only goes down.
"""
    instead = """
Run `layerguard baseline update`, which removes the entries that no longer occur (and refuses
to add new findings unless given `--allow-new`), and commit the smaller file together with the
fix.
"""
    options = """
- `--baseline PATH` (`check`): the baseline file, which must then exist; by default
  `.layerguard-baseline.json` next to the contract file, when there is one.
- `--no-baseline` (`check`): report every finding, baselined or not, and no stale entries.
- `check PATHS` and `check --changed` judge only the entries of the files they report on.
"""
    valid = (
        Example(
            {
                DRIVER: """
                    async def save(session):
                        await session.commit()
                """,
                ".layerguard-baseline.json": BASELINE,
            },
            title="A baselined commit that is still there (hidden, not reported)",
        ),
    )
    invalid = (
        Example(
            {
                DRIVER: """
                    async def save(session):
                        session.add(object())
                """,
                ".layerguard-baseline.json": BASELINE,
            },
            expected=((".layerguard-baseline.json", 5),),
            title="The commit was removed but its baseline entry was not",
        ),
    )
