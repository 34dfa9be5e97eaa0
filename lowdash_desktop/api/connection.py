"""Everything needed to talk to one platform as one account, with the key kept out of repr."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .urls import normalize_base_url

if TYPE_CHECKING:
    from .client import LowrouterClient

# where an API key may come from instead of the keyring (public: README, scripts); a key from
# there is used, never copied into the keyring
API_KEY_ENV = "LOWDASH_API_KEY"


@dataclass(frozen=True)
class Connection:
    """Base URL, API key and TLS options; never printed with the key."""

    base_url: str
    api_key: str = field(repr=False)
    ca_bundle: str | None = None
    # an explicit proxy (the OS settings); None lets the *_PROXY variables apply. May hold a
    # proxy password, so it stays out of repr too.
    proxy: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))

    def client(self, cancel_event: threading.Event | None = None, **kw) -> LowrouterClient:
        from .client import LowrouterClient  # httpx loads on first use, not at start-up

        return LowrouterClient(
            self.base_url, self.api_key, ca_bundle=self.ca_bundle, proxy=self.proxy,
            cancel_event=cancel_event, **kw,
        )
