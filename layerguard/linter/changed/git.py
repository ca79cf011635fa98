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


@dataclass(frozen=True, slots=True)
class Blobs:
    """What paths held at a commit: the content of each file of at most the size limit, and
    the size of each larger one, which is not read (a blob of gigabytes may lie in the
    history). A path in neither was no file there."""

    content: dict[str, bytes]
    too_large: dict[str, int]


_BATCH_CHECK = re.compile(rb"([0-9a-f]{40,64}) ([a-z]+) ([0-9]+)")


def files_at(root: Path, commit: str, paths: list[str]) -> dict[str, tuple[str, int]]:
    """The object id and size of each project-relative path that is a file at `commit`
    (`git cat-file --batch-check`: no content is read)."""
    paths = [path for path in paths if "\n" not in path]  # cat-file --batch-check reads lines
    if not paths:
        return {}
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix.returncode != 0:
        raise GitError(f"git rev-parse failed: {_message(prefix)}")
    top = prefix.stdout.decode("utf-8", "surrogateescape").strip()
    request = b"".join(
        f"{commit}:{top}{path}\n".encode("utf-8", "surrogateescape") for path in paths
    )
    check = _git(root, "cat-file", "--batch-check", stdin=request)
    if check.returncode != 0:
        raise GitError(f"git cat-file failed: {_message(check)}")
    found = {}
    for path, line in zip(paths, check.stdout.splitlines(), strict=False):
        answer = _BATCH_CHECK.fullmatch(line)  # else "<name> missing" (or "ambiguous")
        if answer is not None and answer[2] == b"blob":
            found[path] = (answer[1].decode(), int(answer[3]))
    return found


def read_at(root: Path, commit: str, paths: list[str], limit: int) -> Blobs:
    """The content at `commit` of each project-relative path that is a file of at most `limit`
    bytes there, and the size of the larger ones.

    The sizes come first (`files_at`); one `git cat-file --batch` process then reads the
    files within the limit one at a time, so that no more than the files kept is held.
    """
    content: dict[str, bytes] = {}
    too_large: dict[str, int] = {}
    wanted: dict[str, str] = {}
    for path, (oid, size) in files_at(root, commit, paths).items():
        if size > limit:
            too_large[path] = size
        else:
            wanted[path] = oid
    if wanted:
        content = _read_blobs(root, wanted)
    return Blobs(content, too_large)


def _read_blobs(root: Path, objects: dict[str, str]) -> dict[str, bytes]:
    """The content of each blob (path -> object id), asked for and read one by one (git
    flushes each answer): the pipes never hold more than one blob."""
    try:
        process = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as error:
        raise GitError(f"cannot run git: {error.strerror or error}") from None
    assert process.stdin is not None
    assert process.stdout is not None
    found: dict[str, bytes] = {}
    try:
        for path, oid in objects.items():
            process.stdin.write(oid.encode() + b"\n")
            process.stdin.flush()
            header = _BATCH_CHECK.fullmatch(process.stdout.readline().rstrip(b"\n"))
            if header is None or header[2] != b"blob":
                break
            size = int(header[3])
            data = process.stdout.read(size)
            if len(data) != size or process.stdout.read(1) != b"\n":
                break
            found[path] = data
    except OSError:
        pass  # git ended early: said below
    finally:
        process.kill()  # every answer is in, or none will come: nothing is waited for
        _, errors = process.communicate()
    if len(found) != len(objects):
        why = errors.decode("utf-8", "replace").strip() or "an answer was cut short"
        raise GitError(f"git cat-file failed: {why}")
    return found
