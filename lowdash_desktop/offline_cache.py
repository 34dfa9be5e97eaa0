"""The cache an offline command (eco, report, metrics) reads: one way to find and open it.

Each command used to find the account and open its cache itself, and the copies had drifted
apart (one lacked the missing-file check, another the damaged-cache check). Qt-free.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accounts import KnownAccount
    from .store.cache import Cache

EXIT_FAILED = 1
EXIT_USAGE = 2


def find_account(args: Any, command: str) -> tuple[Path, KnownAccount] | int:
    """(data dir, account) for `--base-url` (or the most recent one), or the exit code after
    saying in one line that there is none."""
    from . import accounts
    from .paths import data_dir

    root = data_dir(getattr(args, "data_dir", None))
    base_url = getattr(args, "base_url", None)
    entry = accounts.find(root, base_url)
    if entry is None:
        where = f" for {base_url}" if base_url else ""
        print(f"lowdash {command}: no cached account{where}; run `lowdash sync` first",
              file=sys.stderr)
        return EXIT_USAGE
    return root, entry


def open_cache(args: Any, command: str) -> Cache | int:
    """The chosen account's cache, opened, or the exit code after saying in one line why not:
    no account, no cache yet, a disk fault, or damage (moved aside at open: an empty cache
    would report nothing as if it were the truth)."""
    from .store.cache import Cache
    from .store.db import CacheError

    found = find_account(args, command)
    if isinstance(found, int):
        return found
    root, entry = found
    path = entry.cache_path(root)
    if not path.exists():
        print(f"lowdash {command}: no cache yet for {entry.label}; run `lowdash sync` first",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        cache, opened = Cache.open(path)
    except CacheError as exc:
        print(f"lowdash {command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if opened.moved_aside is not None:
        cache.close()
        print(f"lowdash {command}: " + " ".join(opened.notes) + " Run `lowdash sync` first.",
              file=sys.stderr)
        return EXIT_FAILED
    aside = set_aside_before(cache, path)
    if aside is not None:
        cache.close()
        print(f"lowdash {command}: {aside}", file=sys.stderr)
        return EXIT_FAILED
    return cache


def set_aside_before(cache: Cache, path: Path) -> str | None:
    """The sentence for a cache that is empty because a damaged one was moved aside (by an
    earlier command) and no sync has filled it since, or None. Reading it would report an
    empty history as if it were the truth."""
    if cache.last_sync_ms is not None or cache.generation_count():
        return None
    moved = sorted(path.parent.glob(path.name + ".corrupt-*"))
    if not moved:
        return None
    return (f"the cached history was damaged and moved aside ({moved[-1].name}); nothing is "
            "cached until `lowdash sync` downloads it again.")
