"""Reading the files a project hands layerguard, and writing the ones it asks for.

Input is read only from regular files, and never more than a limit: a FIFO would block the
run forever, `/dev/zero` would fill the memory, and a file of gigabytes is no contract, card,
baseline or source file a person wrote. Output is written atomically (a temporary file
renamed over the target) with the mode a user expects: an existing file keeps its own, a new
one gets the umask's (what `open()` would give it), not `mkstemp`'s 0600.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_FILE_BYTES = MIB
"""Python files and cards larger than this are not read, unless `max_file_size_kb` says
otherwise (see its description in contracts/config/spec.py)."""

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class UnreadableFileError(Exception):
    """Why a file is not read; `str()` is the reason, to follow the file's path."""


class NotRegularFileError(UnreadableFileError):
    """A FIFO, a device, a directory: nothing layerguard reads."""


class FileTooLargeError(UnreadableFileError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"too large ({size_text(size)}; the limit is {size_text(limit)})")
        self.size = size
        self.limit = limit


def kind_of(mode: int) -> str:
    """What a non-regular file is, as a message says it: `a FIFO`, `a directory`."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def size_text(size: int) -> str:
    """`20,480 KB`: sizes in messages, in the unit of the limits."""
    return f"{-(-size // KIB):,} KB"


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes.

    The file is opened without blocking (a FIFO does not wait for a writer), checked on the
    open descriptor (what was checked is what is read), and read up to one byte past the
    limit (a file growing meanwhile cannot make the read unbounded).
    """
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
    except OSError as error:
        raise UnreadableFileError(_os_reason(error)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(f"{kind_of(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise FileTooLargeError(info.st_size, limit)
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, MIB))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise FileTooLargeError(len(data), limit)
        return data
    except OSError as error:
        raise UnreadableFileError(_os_reason(error)) from None
    finally:
        os.close(fd)


def _os_reason(error: OSError) -> str:
    return str(error.strerror or error)


def write_atomically(path: Path, text: str, newline: str | None = None) -> None:
    """Replace `path` with `text` (UTF-8) so that no reader ever sees half of it. An
    existing file keeps its mode; a new one gets the umask's."""
    try:
        mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None  # new (or unreadable: replaced like a new one)
    temporary = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(temporary, flags, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
