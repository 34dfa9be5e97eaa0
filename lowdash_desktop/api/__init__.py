"""Qt-free access to the lowrouter platform HTTP API.

Names are loaded on first use: httpx and pydantic take a noticeable part of start-up, and the
window paints before it needs either.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..startup import keep_unused_imports_out

keep_unused_imports_out()  # before httpx can load: every process that talks to the platform

_EXPORTS = {
    "LowrouterClient": ".client",
    "RetryPolicy": ".client",
    "ApiError": ".errors",
    "DEFAULT_BASE_URL": ".urls",
    "normalize_base_url": ".urls",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
