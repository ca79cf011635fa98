"""The git adapter of `check --changed`: which paths differ from a base revision, and what they
held there.

It runs the `git` command (no library) in the project root, with NUL-separated output so that
no file name needs unquoting. Paths are relative to the project root, which may be any
directory of the repository.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from layerguard.linter.errors import LayerguardWarning, UsageError


class GitError(UsageError):
    """git cannot answer: not a repository, an unknown revision, git missing."""


@dataclass(frozen=True, slots=True)
class GitChanges:
    """What differs between `commit` and the work tree (staged or not, untracked included).

    A rename is a deletion plus an addition: both paths are listed.
    """

    commit: str
    paths: tuple[str, ...]


def _git(root: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, check=False
        )
    except OSError as error:
        raise GitError(f"cannot run git: {error.strerror or error}") from None


def _message(process: subprocess.CompletedProcess[bytes]) -> str:
    return process.stderr.decode("utf-8", "replace").strip()


def changes_since(root: Path, base: str) -> GitChanges:
    """The paths that differ from the merge base of `base` and HEAD.

    Comparing with the merge base makes `--base origin/main` mean "what this branch changed",
    whatever happened on main since the branch was made.
    """
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != b"true":
        raise GitError(f"{root} is not inside a git work tree; --changed needs one")
    resolved = _git(
        root, "rev-parse", "--verify", "--quiet", "--end-of-options", base + "^{commit}"
    )
    if resolved.returncode != 0:
        raise GitError(f"unknown revision '{base}' for --base: {_why_unknown(root, base)}")
    commit = resolved.stdout.decode().strip()
    merge_base = _git(root, "merge-base", commit, "HEAD")
    if merge_base.returncode == 0:
        commit = merge_base.stdout.decode().strip()
    elif _shallow(root):
        warnings.warn(
            f"--base {base}: no common ancestor with HEAD in this shallow clone, so files are "
            f"compared with '{base}' itself (changes made there since the branch count too); "
            f"{FETCH_MORE}",
            LayerguardWarning,
            stacklevel=2,
        )
    diff = _git(root, "diff", "--name-status", "--no-renames", "--relative", "-z", commit, "--")
    if diff.returncode != 0:
        raise GitError(f"git diff failed: {_message(diff)}")
    fields = diff.stdout.split(b"\0")
    paths = {_decode(path) for path in fields[1::2] if path}
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    if untracked.returncode != 0:
        raise GitError(f"git ls-files failed: {_message(untracked)}")
    paths.update(_decode(path) for path in untracked.stdout.split(b"\0") if path)
    return GitChanges(commit, tuple(sorted(paths)))


FETCH_MORE = (
    "fetch more history (`git fetch --deepen=100`, or `git fetch --unshallow`; with GitHub's "
    "actions/checkout, `fetch-depth: 0`)"
)


_COMMIT_HASH = re.compile(r"[0-9a-fA-F]{4,64}")
_ANCESTRY = re.compile(r"(.+?)(?:[~^][0-9]*)+")  # HEAD~3, main^2~1: from `start`, back


def _why_unknown(root: Path, base: str) -> str:
    """Why `base` names no commit here. The shallow clone is blamed only where it can be
    the reason: a commit hash, an ancestor of a commit it has (`HEAD~3`), or a branch of a
    remote (a shallow clone fetches one branch)."""
    if _shallow(root):
        ancestry = _ANCESTRY.fullmatch(base)
        if _COMMIT_HASH.fullmatch(base) or (ancestry and _resolves(root, ancestry[1])):
            return (
                f"this is a shallow clone, and its history may stop before '{base}'; {FETCH_MORE}"
            )
        remote, _, branch = base.partition("/")
        if branch and remote in _remotes(root):
            return (
                f"this is a shallow clone, which fetched one branch; fetch '{branch}' from "
                f"'{remote}' (`git fetch {remote} {branch}:refs/remotes/{remote}/{branch}`)"
            )
    if _resolves(root, base, "^{object}"):
        return "it names no commit"
    return "no such revision"


def _resolves(root: Path, revision: str, peel: str = "^{commit}") -> bool:
    found = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", revision + peel)
    return found.returncode == 0


def _remotes(root: Path) -> list[str]:
    listed = _git(root, "remote")
    return listed.stdout.decode("utf-8", "replace").split() if listed.returncode == 0 else []


def _shallow(root: Path) -> bool:
    answer = _git(root, "rev-parse", "--is-shallow-repository")
    return answer.returncode == 0 and answer.stdout.strip() == b"true"


def _decode(path: bytes) -> str:
    return path.decode("utf-8", "surrogateescape")


def read_at(root: Path, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """The content of each project-relative path at `commit` (None: not a file there).

    One `git cat-file --batch` process reads them all.
    """
    found: dict[str, bytes | None] = {path: None for path in paths if "\n" in path}
    paths = [path for path in paths if path not in found]  # cat-file --batch reads lines
    if not paths:
        return found
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix.returncode != 0:
        raise GitError(f"git rev-parse failed: {_message(prefix)}")
    top = prefix.stdout.decode("utf-8", "surrogateescape").strip()
    request = b"".join(
        f"{commit}:{top}{path}\n".encode("utf-8", "surrogateescape") for path in paths
    )
    batch = _git(root, "cat-file", "--batch", stdin=request)
    if batch.returncode != 0:
        raise GitError(f"git cat-file failed: {_message(batch)}")
    out = batch.stdout
    position = 0
    for path in paths:
        end = out.index(b"\n", position)
        header = out[position:end].split(b" ")
        position = end + 1
        if len(header) == 3 and header[1] in (b"blob", b"tree", b"commit", b"tag"):
            size = int(header[2])
            content = out[position : position + size]
            position += size + 1  # the content is followed by a newline
            found[path] = content if header[1] == b"blob" else None
        else:  # "<name> missing" or "<name> ambiguous"
            found[path] = None
    return found
