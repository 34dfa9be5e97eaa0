"""The OS proxy settings as Qt reads them, and the connection configured with them."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings, QUrl
from PySide6.QtNetwork import QNetworkProxy, QNetworkProxyFactory, QNetworkProxyQuery

from .. import netconfig
from ..api.connection import Connection
from ..session import settings as stored

log = logging.getLogger(__name__)

CA_BUNDLE_KEY = stored.CA_BUNDLE.key

_SCHEMES = {
    QNetworkProxy.ProxyType.HttpProxy: "http",
    QNetworkProxy.ProxyType.HttpCachingProxy: "http",
    QNetworkProxy.ProxyType.Socks5Proxy: "socks5",
}


def system_proxy_for(url: str) -> str | None:
    """The OS's proxy for `url` as a proxy URL httpx understands, or None for direct."""
    query = QNetworkProxyQuery(QUrl(url))
    for proxy in QNetworkProxyFactory.systemProxyForQuery(query):
        scheme = _SCHEMES.get(proxy.type())
        if proxy.type() == QNetworkProxy.ProxyType.NoProxy:
            return None
        if scheme is None or not proxy.hostName():
            continue
        auth = ""
        if proxy.user():
            auth = QUrl.toPercentEncoding(proxy.user()).data().decode()
            if proxy.password():
                auth += ":" + QUrl.toPercentEncoding(proxy.password()).data().decode()
            auth += "@"
        return f"{scheme}://{auth}{proxy.hostName()}:{proxy.port()}"
    return None


def stored_ca_bundle(settings: QSettings | None = None) -> str | None:
    """The custom CA bundle path from Preferences, if any."""
    return stored.CA_BUNDLE.get(settings).strip() or None


def configured(
    connection: Connection, ca_bundle: str | None = None
) -> tuple[Connection, netconfig.NetConfig]:
    """The connection with the env/OS proxy and the stored (or given) CA bundle applied."""
    bundle = ca_bundle if ca_bundle is not None else stored_ca_bundle()
    return netconfig.configure(connection, bundle or None, system_proxy_for)


def with_network_settings(connection: Connection) -> Connection:
    """The connection the app uses: its key redacted from logs, OS proxy and CA bundle applied."""
    from ..logsetup import register_secret

    register_secret(connection.api_key)
    connection, config = configured(connection)
    log.info("network: %s", config.describe())
    return connection
