"""Saving the eco baseline choice: on the platform when reachable, locally when offline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..api import errors
from ..api.client import RetryPolicy
from ..store.cache import Cache
from .impact import LOCAL_BASELINE_META

SAVED = "saved"
OFFLINE = "offline"


def save_baseline(open_reader: Callable[[], Cache], connection: Any | None, model_id: str) -> str:
    """PATCH /settings and refresh the cached snapshot; offline, keep the choice locally.

    Runs off the UI thread, on the connection `open_reader()` opens there
    (`Session.open_worker_reader`). Returns SAVED or OFFLINE; other platform errors (refused
    key, invalid model) are raised.
    """
    cache = open_reader()
    try:
        if connection is not None:
            try:
                retry = RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0)
                with connection.client(retry=retry) as client:
                    settings = client.patch_settings(eco_baseline_model=model_id)
            except errors.NetworkError:
                pass
            else:
                cache.save_snapshot("settings", settings.model_dump(mode="json"))
                cache.set_meta(LOCAL_BASELINE_META, None)
                return SAVED
        cache.set_meta(LOCAL_BASELINE_META, model_id)
        snap = cache.snapshot("settings")
        body = dict(snap[0]) if snap and isinstance(snap[0], dict) else {}
        body["eco_baseline_model"] = model_id
        cache.save_snapshot("settings", body)
        return OFFLINE
    finally:
        cache.close()

