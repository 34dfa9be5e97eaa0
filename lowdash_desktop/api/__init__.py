"""Qt-free access to the lowrouter platform HTTP API.

Names are loaded on first use: httpx and pydantic take a noticeable part of start-up, and the
window paints before it needs either.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

# httpx imports its command-line tool (click, rich, pygments: ~6 MB and ~0.1 s) whenever those
# happen to be installed, as they are beside pytest. The app never runs it; a None entry makes
# that one optional import fail the way httpx expects when they are absent.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
# Likewise httpcore loads trio (~4 MB, ~0.1 s) when installed, for async clients; ours is
# synchronous and nothing else in the app uses trio.
sys.modules.setdefault("trio", None)  # type: ignore[arg-type]

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
