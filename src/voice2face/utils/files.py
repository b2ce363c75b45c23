"""Writing outputs: atomic files, folders checked before any slow work, modes that follow the umask.

Readers never see a half-written file and a crash leaves the old one. Files and folders get the
permissions any other program would give them (0644 / 0755 under the usual umask 022), not the
private 0600 / 0700 of the temporary names they are written under. An output folder is created
(and tried) up front, so a location that cannot be used fails in one sentence before a model is
loaded, and a folder made for a command that then wrote nothing is removed again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from voice2face.errors import OutputError


def current_umask() -> int:
    """The process's file-mode creation mask (e.g. 0o022), read without changing it where possible."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # no /proc: the only portable read sets it, so put it straight back
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets from ``open()``: 0o666 less the umask."""
    return 0o666 & ~current_umask()


def folder_mode() -> int:
    """The mode a new folder gets from ``mkdir``: 0o777 less the umask."""
    return 0o777 & ~current_umask()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched. The file
    ends with the umask's mode (the temporary file is created private, 0600).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), file_mode())
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def make_staging_dir(parent: str | Path, prefix: str, suffix: str = "") -> Path:
    """A new hidden folder in ``parent`` to build an output in before renaming it into place.

    Like ``tempfile.mkdtemp`` (a unique name, created atomically), but with the umask's folder
    mode rather than 0700, so the folder it becomes is as readable as any other.
    """
    staging = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    os.chmod(staging, folder_mode())
    return staging


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries (makes a rename in it durable); a no-op where unsupported."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def prepare_output_dir(path: str | Path, option: str | None = None) -> list[Path]:
    """Create folder ``path`` (and missing parents) and check that a file can be written in it.

    Call it before any slow work. Returns the folders it created, outermost first, for
    :func:`remove_empty_dirs`. Raises :class:`OutputError` with one sentence naming the folder
    (and ``option``, the command-line option that chose it, if given) for a path under a file, a folder
    that cannot be created (no permission, a read-only or special file system such as /proc)
    or written into.
    """
    path = Path(path)
    fix = f"choose another {option} folder" if option else "choose another folder"
    if path.exists() and not path.is_dir():
        raise OutputError(f"Output folder {path} is a file, not a folder; {fix}.")
    missing = []
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        missing.append(ancestor)
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"Cannot create output folder {path}: {ancestor} is a file, not a folder; {fix}.")
    created: list[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
            created.append(folder)
        except FileExistsError:
            continue  # another process made it meanwhile; the probe below checks that it is usable
        except OSError as exc:
            remove_empty_dirs(created)
            raise OutputError(f"Cannot create output folder {path} ({_reason(exc)}); {fix}.") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".voice2face-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        remove_empty_dirs(created)
        raise OutputError(f"Cannot write into output folder {path} ({_reason(exc)}); {fix}.") from None
    return created


def remove_empty_dirs(created: list[Path]) -> None:
    """Remove the folders :func:`prepare_output_dir` created (innermost first) if they are still empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (something was written) or already gone: keep it and its parents


@contextlib.contextmanager
def output_dir(path: str | Path, option: str | None = None) -> Iterator[Path]:
    """:func:`prepare_output_dir` now; on leaving, remove the folders it made if nothing was written in them."""
    created = prepare_output_dir(path, option)
    try:
        yield Path(path)
    finally:
        remove_empty_dirs(created)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror.lower() if exc.strerror else type(exc).__name__
