"""The cache an offline command (eco, report, metrics) reads: one way to find and open it.

Each command used to find the account and open its cache itself, and the copies had drifted
apart (one lacked the missing-file check, another the damaged-cache check). Qt-free.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exitcodes import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from .accounts import KnownAccount
    from .store.cache import Cache


@dataclass(frozen=True)
class Refusal:
    """Why the cache cannot be read: the exit code and one sentence (without the command's
    name); `damaged` when a cache was there but is empty now because it was damaged."""

    code: int
    text: str
    damaged: bool = False


def _account(args: Any) -> tuple[Path, KnownAccount] | Refusal:
    from . import accounts
    from .paths import data_dir

    root = data_dir(getattr(args, "data_dir", None))
    base_url = getattr(args, "base_url", None)
    entry = accounts.find(root, base_url)
    if entry is None:
        where = f" for {base_url}" if base_url else ""
        # `lowdash sync` needs --base-url: the hint says so
        return Refusal(EXIT_USAGE, f"no cached account{where}; run `lowdash sync` first, with "
                       "--base-url URL")
    return root, entry


def find_account(args: Any, command: str) -> tuple[Path, KnownAccount] | int:
    """(data dir, account) for `--base-url` (or the most recent one), or the exit code after
    saying in one line that there is none."""
    found = _account(args)
    if isinstance(found, Refusal):
        return _say(found, command)
    return found


def say_upgrade(path: Path) -> None:
    """Tell a script's user (on stderr) why opening this cache will take a while."""
    from .store.db import needs_upgrade

    if needs_upgrade(path):
        print("Upgrading the local cache to a more compact format (once; about a minute for a "
              "million generations)...", file=sys.stderr, flush=True)


def locate_cache(args: Any) -> Cache | Refusal:
    """The chosen account's cache, opened, or why not: no account, no cache yet, a disk
    fault, or damage (moved aside at open: an empty cache would report nothing as if it
    were the truth)."""
    from .store.cache import Cache
    from .store.db import CacheError

    found = _account(args)
    if isinstance(found, Refusal):
        return found
    root, entry = found
    path = entry.cache_path(root)
    if not path.exists():
        return Refusal(EXIT_FAILED, f"no cache yet for {entry.label}; run `lowdash sync` first")
    say_upgrade(path)
    try:
        cache, opened = Cache.open(path)
    except CacheError as exc:
        return Refusal(EXIT_FAILED, str(exc))
    if opened.migrated_from is not None:  # where the old file's copy is
        for note in opened.notes:
            print(note, file=sys.stderr)
    if opened.moved_aside is not None:
        cache.close()
        return Refusal(EXIT_FAILED, " ".join(opened.notes) + " Run `lowdash sync` first.",
                       damaged=True)
    aside = set_aside_before(cache, path)
    if aside is not None:
        cache.close()
        return Refusal(EXIT_FAILED, aside, damaged=True)
    return cache


def open_cache(args: Any, command: str) -> Cache | int:
    """`locate_cache`, or the exit code after saying in one line why not."""
    found = locate_cache(args)
    return _say(found, command) if isinstance(found, Refusal) else found


def _say(refusal: Refusal, command: str) -> int:
    print(f"lowdash {command}: {refusal.text}", file=sys.stderr)
    return refusal.code


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
