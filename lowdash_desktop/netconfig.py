"""Which proxy and CA bundle a connection uses: environment first, then the OS, never no TLS."""

from __future__ import annotations

import dataclasses
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .api.connection import Connection
from .api.urls import is_loopback_host

# A function that asks the OS (via Qt, in the UI layer) for the proxy of one URL.
SystemProxyLookup = Callable[[str], "str | None"]

SOURCE_ENV = "environment"
SOURCE_SYSTEM = "system"
SOURCE_NONE = "none"


@dataclass(frozen=True)
class NetConfig:
    """The proxy and CA decisions for one platform address."""

    proxy: str | None  # passed to httpx as `proxy=`; None when env vars or no proxy apply
    proxy_source: str  # environment, system or none
    env_proxy: str | None  # the environment proxy httpx will pick up itself (trust_env)
    ca_bundle: str | None

    @property
    def effective_proxy(self) -> str | None:
        """The proxy requests actually go through."""
        return self.env_proxy if self.proxy_source == SOURCE_ENV else self.proxy

    def describe(self) -> str:
        """One line for the connection test and diagnostics; proxy credentials removed."""
        if self.proxy_source == SOURCE_NONE:
            proxy = "Proxy: none (direct connection)"
        else:
            where = "environment variables" if self.proxy_source == SOURCE_ENV else "OS settings"
            proxy = f"Proxy: {redact_proxy_url(self.effective_proxy or '')} (from {where})"
        if self.ca_bundle:
            ca = f"CA: {self.ca_bundle} plus the built-in trust store"
        else:
            ca = "CA: the built-in trust store (certifi)"
        return f"{proxy}; {ca}; TLS verification on"


def redact_proxy_url(url: str) -> str:
    """A proxy URL with any user name and password replaced by ***."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def _environment_proxies(environ: dict[str, str]) -> dict[str, str]:
    """{scheme: proxy, "no": bypass list} from *_PROXY variables; lower case wins, as in curl."""
    proxies: dict[str, str] = {}
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy") and name.isupper():
            proxies[name[:-6].lower()] = value
    for name, value in environ.items():
        if value and name.endswith("_proxy") and name.islower():
            proxies[name[:-6]] = value
    return proxies


def env_proxy_for(url: str, environ: dict[str, str] | None = None) -> str | None:
    """The proxy that environment variables (HTTPS_PROXY, ALL_PROXY, NO_PROXY...) pick for url."""
    proxies = _environment_proxies(dict(os.environ if environ is None else environ))
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host and "no" in proxies and urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxies.get(parts.scheme) or proxies.get("all") or None


def resolve(
    base_url: str,
    ca_bundle: str | None = None,
    system_lookup: SystemProxyLookup | None = None,
    environ: dict[str, str] | None = None,
) -> NetConfig:
    """Decide the proxy (environment, else OS, else direct; loopback is always direct) and CA."""
    bundle = str(Path(ca_bundle).expanduser()) if ca_bundle else None
    host = urlsplit(base_url).hostname or ""
    if is_loopback_host(host):
        return NetConfig(None, SOURCE_NONE, None, bundle)
    env_proxy = env_proxy_for(base_url, environ)
    if env_proxy:
        return NetConfig(None, SOURCE_ENV, env_proxy, bundle)
    system = system_lookup(base_url) if system_lookup else None
    if system:
        return NetConfig(system, SOURCE_SYSTEM, None, bundle)
    return NetConfig(None, SOURCE_NONE, None, bundle)


def apply(connection: Connection, config: NetConfig) -> Connection:
    """The same connection with the proxy and CA bundle of `config`."""
    return dataclasses.replace(connection, proxy=config.proxy, ca_bundle=config.ca_bundle)


def configure(
    connection: Connection,
    ca_bundle: str | None = None,
    system_lookup: SystemProxyLookup | None = None,
) -> tuple[Connection, NetConfig]:
    """Resolve the network settings for a connection and return it with them applied."""
    config = resolve(connection.base_url, ca_bundle, system_lookup)
    return apply(connection, config), config


CA_BUNDLE_MAX = 16 << 20  # bytes: a bundle of every public CA is well under 1 MB


def ca_bundle_problem(text: str | None) -> tuple[str, str] | None:
    """Why a CA bundle cannot be used, as (kind, detail), or None when it can.

    kind: "missing", "folder", "special" (not a regular file), "too_large", "no_certificate"
    (it holds no PEM certificate: /etc/passwd, a key, a DER file), "unreadable" (detail: the
    OS's reason). One check for the command line (`--ca-bundle`, exit 2) and Preferences (the
    field refuses it), so the app never accepts a file every sync would then fail on.
    """
    if not text:
        return None
    import ssl

    path = Path(text)  # as given: the caller expands "~" where it is meant to be expanded
    try:
        if not path.exists():
            return "missing", ""
        if path.is_dir():
            return "folder", ""
        if not path.is_file():
            return "special", ""
        if path.stat().st_size > CA_BUNDLE_MAX:
            return "too_large", ""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=str(path))
    except ssl.SSLError:
        return "no_certificate", ""
    except (OSError, ValueError) as exc:
        return "unreadable", str(getattr(exc, "strerror", None) or exc)
    return None
