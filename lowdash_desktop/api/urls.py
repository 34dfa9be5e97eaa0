"""Base URL rules: https everywhere, plain http only to this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .errors import InvalidBaseUrl

DEFAULT_BASE_URL = "https://api.lowrouter.example/v1"


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: str) -> str:
    """Check a base URL against the contract's rules and return it without a trailing slash."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidBaseUrl(f"Not a valid platform address: {url!r}. Use https://host/v1.")
    if parts.username or parts.password:
        raise InvalidBaseUrl("The platform address must not contain a user name or password.")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise InvalidBaseUrl(
            f"Refusing plain http:// to {parts.hostname}: the API key would travel unencrypted. "
            "Use https://, or http:// only for this machine (localhost, 127.0.0.1, [::1])."
        )
    return url.rstrip("/")
