"""The list of accounts this data dir has caches for (no secrets: ids, URLs, e-mails)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .paths import account_slug, cache_path

INDEX = "accounts.json"


@dataclass
class KnownAccount:
    slug: str
    base_url: str
    account_id: str
    email: str = ""
    name: str = ""
    last_used: float = 0.0

    def cache_path(self, root: Path) -> Path:
        return cache_path(root, self.slug)

    @property
    def label(self) -> str:
        return self.email or self.name or self.account_id


def _read(root: Path) -> list[KnownAccount]:
    try:
        items = json.loads((root / INDEX).read_text("utf-8"))
        return [KnownAccount(**item) for item in items]
    except (OSError, ValueError, TypeError):
        return []


def _write(root: Path, accounts: list[KnownAccount]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".accounts-", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump([asdict(a) for a in accounts], fh, indent=1)
        os.replace(tmp, root / INDEX)
    except BaseException:  # a full disk: the old list stays whole, no half-written file left
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remember(
    root: Path, base_url: str, account_id: str, email: str = "", name: str = ""
) -> KnownAccount:
    """Record (or refresh) an account and make it the most recent."""
    entry = KnownAccount(
        account_slug(base_url, account_id),
        base_url.rstrip("/"),
        account_id,
        email,
        name,
        time.time(),
    )
    others = [a for a in _read(root) if a.slug != entry.slug]
    _write(root, [entry, *others])
    return entry


def known(root: Path) -> list[KnownAccount]:
    """Most recently used first."""
    return sorted(_read(root), key=lambda a: a.last_used, reverse=True)


def find(root: Path, base_url: str | None = None) -> KnownAccount | None:
    """The most recent account, on `base_url` if given."""
    for entry in known(root):
        if base_url is None or entry.base_url == base_url.rstrip("/"):
            return entry
    return None


def forget(root: Path, slug: str) -> None:
    _write(root, [a for a in _read(root) if a.slug != slug])
