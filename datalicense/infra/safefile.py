"""Write an output file safely: through the descriptor its temporary file was created with, then rename.

    from datalicense.infra.safefile import atomic_output, cleanup_partials

    cleanup_partials(dest)                  # leftovers of interrupted runs for dest (not of running ones)
    with atomic_output(dest) as f:          # f: binary file object on the new temporary file's descriptor
        f.write(data)                       # ... stream everything into f
    # here dest is complete (fsynced, renamed into place); if the block raised, dest is untouched and the
    # temporary file is gone

How (POSIX):
- The parent directory of dest is opened once (O_DIRECTORY); every later step names files relative to that
  descriptor, so swapping a directory in the path mid-run changes nothing.
- The temporary file is `.{dest name}.partial-{16 hex digits}` (random) in that directory, created with
  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC and mode 0600 (before umask): it is always a new regular
  file of ours, never an existing file or a link someone planted at that name (the name is then drawn again).
  It is locked (flock) while in use, which is how `cleanup_partials` tells a running write from a leftover.
- The caller writes through the yielded object, on that same descriptor: nothing is reopened by name.
- On success: flush, fsync, then `os.replace` of the temporary name by dest (or, with overwrite=False, a
  hard link that fails if dest exists), fsync of the directory. A symbolic link at dest is replaced, never
  followed. On any failure (the block raising, KeyboardInterrupt included, or the rename failing) the
  temporary file is removed and the exception propagates; errors of the file system steps are
  SafeFileError (a DataLicenseError) with a one-line reason.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Iterator
import mimetypes

from datalicense.errors import DataLicenseError

__all__ = ["SafeFileError", "atomic_output", "cleanup_partials", "dataset_output", "is_partial_name", "output_path",
           "partial_prefix"]

_SUFFIX_HEX = 16
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_ATTEMPTS = 16


class SafeFileError(DataLicenseError):
    """The output file could not be created, written into place or cleaned up."""


def output_path(out: str | os.PathLike[str], stem: str, media_type: str = "") -> Path:
    """Where `-o OUT` writes, as curl and wget do: OUT itself when its folder exists, or the file `stem` (plus the
    media type's extension) inside OUT when OUT is a folder. The one rule of `fetch` and `get`, called before
    anything is fetched or paid: a missing folder is refused (never created), and so is a file taken for a folder
    or a folder nothing can be created in (tried with a file created and removed at once)."""
    dest = Path(out).expanduser()
    if dest.is_dir():
        _probe(dest)
        ext = mimetypes.guess_extension(media_type.split(";")[0].strip()) if media_type else None
        if ext is None and "/" in media_type:
            ext = "." + re.sub(r"[^a-z0-9]", "", media_type.split("/", 1)[1].split(";")[0].lower())[:10]
        return dest / (stem + (ext if ext and ext != "." else ""))
    parent = dest.parent
    if parent.exists() and not parent.is_dir():
        raise SafeFileError(f"cannot write {dest}: {parent} is not a folder (give -o a file in a folder, or a folder)")
    if not parent.is_dir():
        raise SafeFileError(f"cannot write {dest}: the folder {parent} does not exist (create it first)")
    _probe(parent)
    return dest


def dataset_output(out: str | os.PathLike[str], dataset_id: int, version: int, media_type: str = "") -> Path:
    """Where a dataset's version is written for `-o OUT` (`output_path`): OUT, or OUT/dataset-ID-vN.EXT when OUT is a
    folder."""
    return output_path(out, f"dataset-{dataset_id}-v{version}", media_type)


def _probe(folder: Path) -> None:
    """SafeFileError unless a new file can be created in `folder` (permissions, a read-only or pseudo file system)."""
    probe = folder / f".datalicense-probe-{_token()}"
    try:
        os.close(os.open(probe, _CREATE_FLAGS, 0o600))
        os.unlink(probe)
    except OSError as exc:
        raise SafeFileError(f"cannot write in the folder {folder}: {exc.strerror or exc} (choose another -o)") from exc


def partial_prefix(dest: str | os.PathLike[str]) -> str:
    """The name prefix of dest's temporary files: `.{name}.partial-`."""
    return f".{Path(dest).name}.partial-"


def is_partial_name(dest: str | os.PathLike[str], name: str) -> bool:
    """True when name (a file name in dest's directory) is one of dest's temporary files."""
    return re.fullmatch(re.escape(partial_prefix(dest)) + f"[0-9a-f]{{{_SUFFIX_HEX}}}", name) is not None


def _token() -> str:
    return secrets.token_hex(_SUFFIX_HEX // 2)


def _open_dir(dest: Path, parents: bool) -> int:
    parent = dest.parent
    if parents:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SafeFileError(f"cannot create the folder {parent}: {exc.strerror or exc}") from exc
    try:
        return os.open(parent, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SafeFileError(f"cannot write {dest}: its folder {parent} is not usable ({exc.strerror or exc})") from exc


def _check_name(dest: Path) -> str:
    name = dest.name
    if name in ("", ".", "..") or len(os.fsencode(partial_prefix(dest))) + _SUFFIX_HEX > 255:
        raise SafeFileError(f"cannot write {dest}: not a usable file name")
    return name


@contextlib.contextmanager
def atomic_output(dest: str | os.PathLike[str], *, overwrite: bool = True, parents: bool = False,
                  mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a binary file object on a new temporary file next to dest; on success move it into place.

    dest: the final path. Its directory must exist (parents=True creates it).
    overwrite: replace an existing dest (default); with False an existing dest is a SafeFileError.
    mode: permissions of the new file (default 0600, owner only; the umask applies).

    The caller may close the yielded object; the descriptor stays ours until the end. If the with-block
    raises, dest is left as it was and the temporary file is removed.
    """
    dest = Path(dest)
    name = _check_name(dest)
    dfd = _open_dir(dest, parents)
    try:
        fd, tmp = _create(dest, dfd, mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            f = os.fdopen(fd, "wb", closefd=False)
            try:
                yield f  # type: ignore[misc]
                if not f.closed:
                    f.flush()
            finally:
                with contextlib.suppress(OSError, ValueError):
                    f.close()
            try:
                os.fsync(fd)
            except OSError as exc:
                raise SafeFileError(f"cannot write {dest}: {exc.strerror or exc}") from exc
            _move_into_place(dest, tmp, name, dfd, overwrite)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.fsync(dfd)
    finally:
        os.close(dfd)


def _create(dest: Path, dfd: int, mode: int) -> tuple[int, str]:
    last: OSError | None = None
    for _ in range(_ATTEMPTS):
        tmp = partial_prefix(dest) + _token()
        try:
            return os.open(tmp, _CREATE_FLAGS, mode, dir_fd=dfd), tmp
        except FileExistsError as exc:  # taken, or a link planted there: never open it, draw another name
            last = exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                last = exc
                continue
            raise SafeFileError(f"cannot create a temporary file next to {dest}: {exc.strerror or exc}") from exc
    raise SafeFileError(f"cannot create a temporary file next to {dest}: {_ATTEMPTS} names were taken") from last


def _move_into_place(dest: Path, tmp: str, name: str, dfd: int, overwrite: bool) -> None:
    try:
        if overwrite:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISDIR(os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode):
                    raise SafeFileError(f"cannot write {dest}: it is a folder")
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        else:
            os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
            os.unlink(tmp, dir_fd=dfd)
    except FileExistsError as exc:
        raise SafeFileError(f"{dest} exists already: choose another output path or remove it") from exc
    except OSError as exc:
        raise SafeFileError(f"cannot move the output into place at {dest}: {exc.strerror or exc}") from exc


def cleanup_partials(dest: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that interrupted runs left next to dest; return their paths.

    Only names of dest's pattern (`.{name}.partial-` and 16 hex digits) are considered. A temporary file still
    locked by a running write is kept; links planted at such a name are removed (never followed); folders are
    never removed. A missing folder means nothing to clean.
    """
    dest = Path(dest)
    _check_name(dest)
    try:
        dfd = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SafeFileError(f"cannot clean up next to {dest}: {exc.strerror or exc}") from exc
    removed: list[Path] = []
    try:
        for entry in os.listdir(dfd):
            if not is_partial_name(dest, entry):
                continue
            try:
                st = os.stat(entry, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry, dir_fd=dfd)
                    removed.append(dest.parent / entry)
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            try:
                fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
                             dir_fd=dfd)
            except OSError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a write in progress
                # still the file we locked? (not swapped for another since the stat)
                if not os.path.samestat(os.fstat(fd), os.stat(entry, dir_fd=dfd, follow_symlinks=False)):
                    continue
                os.unlink(entry, dir_fd=dfd)
                removed.append(dest.parent / entry)
            except OSError:
                continue
            finally:
                os.close(fd)
    finally:
        os.close(dfd)
    return removed
