"""Where Lowdash keeps its files: one data dir (overridable), one cache per account."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "lowdash"
APP_AUTHOR = "Lowdash"
DATA_DIR_ENV = "LOWDASH_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data dir: --data-dir, else $LOWDASH_DATA_DIR, else the platform's user data dir."""
    chosen = override or os.environ.get(DATA_DIR_ENV)
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """The rotating log folder (under the data dir when it is overridden, for isolation)."""
    if os.environ.get(DATA_DIR_ENV):
        path = Path(os.environ[DATA_DIR_ENV]) / "logs"
    else:
        path = Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def account_slug(base_url: str, account_id: str) -> str:
    """A stable, non-secret folder name for one account on one platform."""
    import hashlib  # here, not at the top: it loads OpenSSL (8 ms), and a start needs no slug

    digest = hashlib.sha256(f"{base_url.rstrip('/')}|{account_id}".encode()).hexdigest()
    return f"acct-{digest[:16]}"


def cache_path(root: Path, slug: str) -> Path:
    """The SQLite cache file of one account."""
    folder = root / "accounts" / slug
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "cache.sqlite3"
