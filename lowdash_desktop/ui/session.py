"""What the window works on: one account's cache, and the connection when online."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..api.connection import Connection
from ..store.cache import CountAhead
from ..store.db import OpenReport


@dataclass
class Session:
    """The cache file of one account, its open report, and how to reach the platform."""

    cache_path: Path
    connection: Connection | None
    account_label: str = ""
    demo: bool = False
    open_report: OpenReport | None = None
    notes: list[str] = field(default_factory=list)
    # a known account whose key is still in the keyring: the window reads it after its first
    # paint (loading keyring and asking the OS store takes 0.2 s and more, or waits on an
    # unlock prompt), then signs in and syncs; with no key there, it offers the sign-in
    keyring_url: str | None = None
    sync_on_open: bool = False  # sync once the window has painted (a sign-in syncs anyway)
    count_ahead: CountAhead | None = None  # the row count, taken while the window is built

    def take_count(self) -> int | None:
        """The count taken ahead (once: later counts must see later writes), else None."""
        ahead, self.count_ahead = self.count_ahead, None
        return ahead.result() if ahead is not None else None
