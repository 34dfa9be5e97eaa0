"""Proxy and CA settings: how they are resolved, and that they reach the httpx client."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import socketserver
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lowdash_desktop import netconfig
from lowdash_desktop.api import errors
from lowdash_desktop.api.client import RetryPolicy
from lowdash_desktop.api.connection import Connection

PLATFORM = "https://api.lowrouter.example/v1"
ONE_TRY = RetryPolicy(attempts=1)


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# -- resolution ---------------------------------------------------------------------------
def test_environment_proxy_wins_and_no_proxy_bypasses():
    env = {"HTTPS_PROXY": "http://env-proxy:3128", "NO_PROXY": "internal.example"}
    config = netconfig.resolve(PLATFORM, environ=env, system_lookup=lambda url: "http://os:8080")
    assert config.proxy_source == netconfig.SOURCE_ENV
    assert config.proxy is None, "httpx applies env proxies itself (trust_env)"
    assert config.effective_proxy == "http://env-proxy:3128"
    bypassed = netconfig.resolve("https://internal.example/v1", environ=env)
    assert bypassed.proxy_source == netconfig.SOURCE_NONE


def test_lowercase_variable_and_all_proxy():
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    assert netconfig.env_proxy_for(PLATFORM, env) == "http://lower:2"
    assert netconfig.env_proxy_for(PLATFORM, {"ALL_PROXY": "socks5://s:1080"}) == "socks5://s:1080"


def test_system_proxy_used_without_env():
    asked: list[str] = []

    def lookup(url: str) -> str | None:
        asked.append(url)
        return "http://os-proxy:8080"

    config = netconfig.resolve(PLATFORM, environ={}, system_lookup=lookup)
    assert asked == [PLATFORM]
    assert config.proxy == "http://os-proxy:8080"
    assert config.proxy_source == netconfig.SOURCE_SYSTEM
    assert "os-proxy:8080 (from OS settings)" in config.describe()


def test_loopback_is_always_direct():
    env = {"HTTP_PROXY": "http://env-proxy:3128"}
    config = netconfig.resolve(
        "http://127.0.0.1:8000/v1", environ=env, system_lookup=lambda url: "http://os:1"
    )
    assert config.proxy_source == netconfig.SOURCE_NONE and config.proxy is None


def test_describe_hides_proxy_password_and_names_ca():
    config = netconfig.resolve(
        PLATFORM,
        ca_bundle="/etc/corp/ca.pem",
        environ={},
        system_lookup=lambda url: "http://bob:hunter2@os-proxy:8080",
    )
    text = config.describe()
    assert "hunter2" not in text and "bob" not in text
    assert "***@os-proxy:8080" in text
    assert "/etc/corp/ca.pem" in text and "TLS verification on" in text


def test_configure_applies_to_connection():
    conn = Connection(PLATFORM, "lr-live-" + "a" * 40)
    configured, config = netconfig.configure(
        conn, ca_bundle=None, system_lookup=lambda url: "http://os-proxy:8080"
    )
    assert configured.proxy == "http://os-proxy:8080"
    assert configured.api_key == conn.api_key
    assert "lr-live" not in repr(configured) and "os-proxy" not in repr(configured)


# -- reaching the client ------------------------------------------------------------------
class _RecordingProxy(socketserver.ThreadingTCPServer):
    """A dummy proxy: records the first request line, answers 502 and closes."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.lines: list[str] = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(inner) -> None:  # noqa: N805
                line = inner.rfile.readline().decode("latin-1").strip()
                self.lines.append(line)
                inner.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def dummy_proxy():
    proxy = _RecordingProxy()
    yield proxy
    proxy.stop()


def test_explicit_proxy_is_mounted_and_used(dummy_proxy):
    conn = Connection(PLATFORM, "lr-live-" + "b" * 40, proxy=dummy_proxy.url)
    with conn.client(retry=ONE_TRY) as client:
        mounts = {p.pattern: t for p, t in client._http._mounts.items()}
        assert mounts["all://"]._pool._proxy_url.port == dummy_proxy.server_address[1]
        with pytest.raises(errors.NetworkError):
            client.credits()
    assert dummy_proxy.lines == ["CONNECT api.lowrouter.example:443 HTTP/1.1"]


def test_environment_proxy_is_used(dummy_proxy, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", dummy_proxy.url)
    conn, config = netconfig.configure(Connection(PLATFORM, "lr-live-" + "c" * 40))
    assert config.proxy_source == netconfig.SOURCE_ENV
    with conn.client(retry=ONE_TRY) as client, pytest.raises(errors.NetworkError):
        client.credits()
    assert dummy_proxy.lines == ["CONNECT api.lowrouter.example:443 HTTP/1.1"]


# -- custom CA bundle ------------------------------------------------------------------------
def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _make_pki(folder):
    """A private CA and a 127.0.0.1 server certificate it signed; returns (ca.pem, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Lowdash Test Corp CA"))
        .issuer_name(_name("Lowdash Test Corp CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = folder / "corp-ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem = folder / "server.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = folder / "server.key"
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_pem, cert_pem, key_pem


class _CreditsHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps(
            {"currency": "EUR", "balance": "12.50", "spent_this_month": "3.25"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tls_platform(tmp_path):
    ca_pem, cert_pem, key_pem = _make_pki(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CreditsHandler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_pem, key_pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/v1", ca_pem
    server.shutdown()
    server.server_close()


def test_custom_ca_bundle_reaches_client_and_verification_stays_on(tls_platform):
    url, ca_pem = tls_platform
    key = "lr-live-" + "d" * 40
    with Connection(url, key).client(retry=ONE_TRY) as client, pytest.raises(errors.TlsError):
        client.credits()  # unknown CA: refused, never silently accepted
    conn, config = netconfig.configure(Connection(url, key), ca_bundle=str(ca_pem))
    assert config.ca_bundle == str(ca_pem) and str(ca_pem) in config.describe()
    with conn.client(retry=ONE_TRY) as client:
        context = client._http._transport._pool._ssl_context
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        subjects = [dict(x[0] for x in c["subject"]) for c in context.get_ca_certs()]
        assert {"commonName": "Lowdash Test Corp CA"} in subjects
        assert len(subjects) > 1, "the custom CA is added to the built-in trust, not instead"
        assert str(client.credits().balance) == "12.50"


def test_missing_ca_bundle_is_an_error(tmp_path):
    conn = Connection(PLATFORM, "k" * 12, ca_bundle=str(tmp_path / "nope.pem"))
    with pytest.raises(errors.ApiError, match="CA bundle not found"):
        conn.client()
