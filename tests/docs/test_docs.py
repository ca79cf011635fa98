"""The documentation under docs/ stays true: the generated rule reference is current, every
report format and every JSON report field is documented, configuration snippets parse, and
links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from layerguard.cli.app import app
from layerguard.linter.reporters import FORMAT_MODULES

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
# Written by the engineers who build those features; until they land, a link may be ahead.
WRITTEN_ELSEWHERE: frozenset[str] = frozenset()
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_rules_md_is_the_generated_reference() -> None:
    result = CliRunner().invoke(app, ["rules", "--output-format", "markdown"])
    assert result.exit_code == 0
    assert read("rules.md") == result.stdout, (
        "docs/rules.md is stale: regenerate it with "
        "`layerguard rules --output-format markdown > docs/rules.md`"
    )


def test_every_output_format_has_a_section() -> None:
    headings = re.findall(r"^## `([a-z]+)`$", read("output.md"), re.M)
    assert sorted(headings) == sorted(FORMAT_MODULES)


def yaml_blocks(name: str) -> list[str]:
    return re.findall(r"^ *```yaml\n(.*?)^ *```$", read(name), re.S | re.M)


def test_ci_snippets_are_valid_yaml_and_use_real_options() -> None:
    blocks = [yaml.safe_load(block) for block in yaml_blocks("ci.md")]
    assert len(blocks) == 4
    workflow, local_hook, remote_hook, gitlab = blocks
    steps = workflow["jobs"]["layerguard"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert "layerguard check --output-format sarif --exit-zero > layerguard.sarif" in runs
    assert runs[-1] == "layerguard check"
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload"))
    assert upload["with"]["sarif_file"] == "layerguard.sarif"
    assert workflow["jobs"]["layerguard"]["permissions"]["security-events"] == "write"
    # The cache: saved per commit, restored by prefix (a branch finds main's).
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))["with"]
    assert cache["path"] == ".layerguard_cache"
    assert cache["key"].startswith(cache["restore-keys"])
    assert cache["key"].endswith("${{ github.sha }}")
    assert remote_hook["repos"][0]["hooks"] == [{"id": "layerguard"}]
    assert local_hook["repos"][0]["hooks"][0]["entry"] == "layerguard check"
    script = gitlab["layerguard"]["script"]
    assert "layerguard check --output-format junit --exit-zero > layerguard-junit.xml" in script
    assert gitlab["layerguard"]["artifacts"]["reports"]["junit"] == "layerguard-junit.xml"
    gitlab_cache = gitlab["layerguard"]["cache"]
    assert gitlab_cache["paths"] == [".layerguard_cache/"]
    assert gitlab_cache["fallback_keys"] == ["layerguard-$CI_DEFAULT_BRANCH"]
    # GitLab keeps the caches of protected and unprotected branches apart by default, so the
    # fallback works only with that setting off: the recipe's section must say so.
    gitlab_section = read("ci.md").split("\n## GitLab CI\n")[1].split("\n## ")[0]
    assert "*Use separate caches for protected branches*" in gitlab_section


def test_the_documented_pre_commit_hook_exists() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = [hook for hook in hooks if hook["id"] == "layerguard"]
    assert hook["entry"] == "layerguard check"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]


@pytest.mark.parametrize(
    "name",
    ["index.md", "ci.md", "output.md", "rules.md", "cards.md", "contracts.md", "import-linter.md"],
)
def test_relative_links_resolve(name: str) -> None:
    for target, _ in LINK.findall(read(name)):
        if "://" not in target and target not in WRITTEN_ELSEWHERE:
            assert (DOCS / target).is_file(), f"{name} links to missing {target}"


def test_index_lists_every_document_and_command() -> None:
    index = read("index.md")
    linked = {target for target, _ in LINK.findall(index)}
    assert linked >= {path.name for path in DOCS.glob("*.md")} - {"index.md"}
    assert linked >= WRITTEN_ELSEWHERE
    commands = {
        info.name or (info.callback.__name__ if info.callback else "")
        for info in app.registered_commands
    } | {group.name for group in app.registered_groups}
    for command in commands:
        assert f"`layerguard {command}" in index, f"docs/index.md does not list {command}"


def test_contributing_layout_table_matches_the_tree() -> None:
    """CONTRIBUTING.md lists every package of layerguard/ and nothing that is not one."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text[text.index("## Layout") : text.index("## Conventions")]
    listed = re.findall(r"^\| `(layerguard/[a-z_/]*)/` \|", section, re.M)
    packages = sorted(
        {
            module.parent.relative_to(ROOT).as_posix()
            for module in (ROOT / "layerguard").rglob("*.py")
            if module.parent != ROOT / "layerguard"
        }
    )
    assert sorted(listed) == packages
