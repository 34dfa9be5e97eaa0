"""Telling a disk that cannot be written from a cache that is damaged.

One classifier for every place the cache is opened, migrated, checked, written or read: SQLite's
result code (`sqlite_errorcode`, Python 3.11+; the message text before that) or an OSError's
errno. Only SQLITE_CORRUPT and SQLITE_NOTADB mean damage; a full disk, a read-only folder, a file
that cannot be opened, an I/O error, a busy lock or an interruption never do, and never move a
healthy cache aside.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

FULL = "full"
READ_ONLY = "read-only"
CANT_OPEN = "cannot-open"
IO_ERROR = "io-error"
DAMAGED = "damaged"
BUSY = "busy"
INTERRUPTED = "interrupted"

DISK_KINDS = frozenset({FULL, READ_ONLY, CANT_OPEN, IO_ERROR})
NOT_DAMAGE = DISK_KINDS | {BUSY, INTERRUPTED}

# primary result codes (the low byte of an extended code)
_SQLITE_KINDS = {
    3: READ_ONLY,  # SQLITE_PERM
    5: BUSY,  # SQLITE_BUSY
    6: BUSY,  # SQLITE_LOCKED
    8: READ_ONLY,  # SQLITE_READONLY
    9: INTERRUPTED,  # SQLITE_INTERRUPT
    10: IO_ERROR,  # SQLITE_IOERR
    11: DAMAGED,  # SQLITE_CORRUPT
    13: FULL,  # SQLITE_FULL
    14: CANT_OPEN,  # SQLITE_CANTOPEN
    26: DAMAGED,  # SQLITE_NOTADB
}
_ERRNO_KINDS = {
    errno.ENOSPC: FULL,
    errno.EDQUOT: FULL,
    errno.EFBIG: FULL,
    errno.EROFS: READ_ONLY,
    errno.EACCES: READ_ONLY,
    errno.EPERM: READ_ONLY,
    errno.EIO: IO_ERROR,
    errno.ENOENT: CANT_OPEN,
    errno.ENOTDIR: CANT_OPEN,
    errno.EISDIR: CANT_OPEN,
}
_TEXTS = (  # for errors without a result code
    ("database or disk is full", FULL),
    ("readonly database", READ_ONLY),
    ("unable to open database", CANT_OPEN),
    ("disk i/o error", IO_ERROR),
    ("malformed", DAMAGED),
    ("not a database", DAMAGED),
    ("could not decode to utf-8", DAMAGED),  # a stored text that is no longer text
    ("database is locked", BUSY),
    ("interrupted", INTERRUPTED),
)


class CacheError(Exception):
    """The cache cannot be used; the message says why in plain words."""


class DiskFault(CacheError, sqlite3.OperationalError):
    """The disk or folder cannot be written (or read) now. The cache is not damaged: it stays
    where it is, and nothing in it was lost. Still an `sqlite3.OperationalError` for code that
    catches those."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class CacheDamaged(CacheError, sqlite3.DatabaseError):
    """SQLite found the cache damaged while using it (not only at open)."""

    kind = DAMAGED

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def classify(exc: BaseException) -> str | None:
    """FULL, READ_ONLY, CANT_OPEN, IO_ERROR, DAMAGED, BUSY, INTERRUPTED, or None (other)."""
    kind = getattr(exc, "kind", None)
    if isinstance(exc, CacheError) and kind:
        return kind
    if isinstance(exc, UnicodeDecodeError):  # only valid text is ever written: a flipped bit
        return DAMAGED
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE_KINDS:
            return _SQLITE_KINDS[code & 0xFF]
        text = str(exc).lower()
        for needle, found in _TEXTS:
            if needle in text:
                return found
        return None
    if isinstance(exc, OSError):
        return _ERRNO_KINDS.get(exc.errno)
    return None


def is_damage(exc: BaseException) -> bool:
    """True only when the error itself says the file is damaged."""
    return classify(exc) == DAMAGED


def _free_text(folder: Path) -> str:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return "no space"
    if free >= 1024 * 1024:
        return f"{free // (1024 * 1024)} MB free"
    return f"{free // 1024} KB free"


def _folder(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def describe(kind: str, path: Path, exc: BaseException | None = None) -> str:
    """The plain sentence a user reads for a disk fault at `path` (a cache file or folder)."""
    folder = _folder(Path(path))
    if kind == FULL:
        return (
            f"The disk is full ({_free_text(folder)}); nothing was lost; the sync resumes "
            "when there is room."
        )
    if kind == READ_ONLY:
        return (
            f"The data folder is read-only ({folder}); nothing was lost; Lowdash cannot save "
            "new data until it can write there again."
        )
    if kind == CANT_OPEN:
        return (
            f"The cache in {folder} cannot be opened (the folder or file is not accessible); "
            "nothing was lost or moved."
        )
    detail = f" ({exc})" if exc is not None else ""
    return (
        f"The disk reported an error reading or writing the cache in {folder}{detail}; "
        "nothing was moved or deleted; check the disk."
    )


def _read_only_folder(path: Path) -> bool:
    """True when the folder holding `path` is on a file system mounted read-only."""
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return bool(os.statvfs(_folder(folder)).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False


def disk_fault(exc: BaseException, path: Path) -> DiskFault:
    """The DiskFault for `exc` (which classify() puts in DISK_KINDS), logged without a trace.

    SQLite says "unable to open" when a read-only folder stops it creating the WAL's index
    beside the file: the folder's mount flags tell that case apart.
    """
    kind = classify(exc) or IO_ERROR
    if kind in (CANT_OPEN, IO_ERROR) and _read_only_folder(path):
        kind = READ_ONLY
    fault = DiskFault(kind, describe(kind, path, exc))
    log.info("cache %s: %s (%s)", path, kind, exc)
    return fault


def damaged_marker(path: Path) -> Path:
    """The note left beside a damaged cache (its text: the reason); the next open moves the
    cache aside."""
    return path.with_name(path.name + ".damaged")


def note_damage(path: Path, reason: str) -> None:
    """Leave the note that makes the next open move the cache aside (best effort)."""
    try:
        damaged_marker(path).write_text(reason, "utf-8")
    except OSError as exc:
        log.warning("could not note the damage beside %s: %s", path, exc)
    log.warning("cache %s is damaged: %s", path, reason)


def _short(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "decode to utf-8" in text.lower():
        return "a stored text is not valid UTF-8"
    return text if len(text) <= 100 else text[:99] + "…"


def damaged(exc: BaseException, path: Path) -> CacheDamaged:
    """The CacheDamaged for an SQLite damage error met while using the cache; noted beside it."""
    reason = f"SQLite cannot read it ({_short(exc)})"
    note_damage(path, reason)
    return CacheDamaged(
        reason,
        f"The local cache is damaged ({_short(exc)}). It will be moved aside and downloaded "
        "again when Lowdash next opens it; your account on the platform is not affected.",
    )


def translate(exc: BaseException, path: Path) -> BaseException:
    """A DiskFault or CacheDamaged for `exc` when it is one of those, else `exc` itself."""
    if isinstance(exc, CacheError):
        return exc
    kind = classify(exc)
    if kind in DISK_KINDS:
        return disk_fault(exc, path)
    if kind == DAMAGED:
        return damaged(exc, path)
    return exc
