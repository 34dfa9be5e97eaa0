"""Write a file next to its target and rename it into place, so no half file is ever seen."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def temp_path_for(target: str | os.PathLike[str]) -> Path:
    """A hidden, unique temporary path in the target's folder (same file system)."""
    target = Path(target)
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")


def discard(path: str | os.PathLike[str]) -> None:
    """Remove a temporary file if it exists."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@contextmanager
def atomic_output(target: str | os.PathLike[str], mode: str = "x", **open_kw) -> Iterator[IO]:
    """A file to write that replaces `target` on success and vanishes on any failure."""
    tmp = temp_path_for(target)
    try:
        with open(tmp, mode, **open_kw) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        discard(tmp)
        raise


def write_bytes_atomically(target: str | os.PathLike[str], data: bytes) -> None:
    """Replace `target` with `data` in one rename (file mode follows the umask)."""
    with atomic_output(target, "xb") as fh:
        fh.write(data)
