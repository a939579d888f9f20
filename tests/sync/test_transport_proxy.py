"""Proxies as the environment sets them, NO_PROXY respected, and proxy failures named (C45).

Policy: the environment decides (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY); on Windows
and macOS Python also reads the system's proxy settings when no variable is set. PAC files
are not evaluated. A 407 asks for proxy credentials, which the client then sends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fieldops.sync import errors as e
from fieldops.sync.transport import SyncClient, Timeouts
from tests.support.tls import (
    CA_NAME,
    Pki,
    Reply,
    ScriptedServer,
    TunnelProxy,
    always,
    closed_port,
    server_context,
)

QUICK = Timeouts(connect=1.0, read=2.0, deadline=5.0)
INFO = {
    "protocol_version": 1,
    "min_client_version": 1,
    "epoch": "epoch-1",
    "server_time": "2026-01-01T00:00:00+00:00",
}


@pytest.fixture
def https_server(pki: Pki) -> Iterator[ScriptedServer]:
    context = server_context(pki.server_cert, pki.server_key)
    with ScriptedServer(always(Reply.json(INFO)), tls=context) as server:
        yield server


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> str:
    """C45 (a): HTTPS_PROXY and HTTP_PROXY point at a loopback port nobody listens on."""
    proxy = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    return proxy


def test_dead_proxy_is_named_and_is_not_offline(
    dead_proxy: str, https_server: ScriptedServer, pki: Pki
) -> None:
    client = SyncClient(https_server.url, ca_bundle=pki.ca_cert, timeouts=QUICK)
    assert client.effective_proxy() == dead_proxy
    with pytest.raises(e.ProxyUnreachable) as caught:
        client.info()
    error = caught.value
    assert error.proxy == dead_proxy and dead_proxy in str(error)
    assert "connection refused" in str(error) and "HTTPS_PROXY" in str(error)
    assert not error.offline
    assert https_server.requests == []


def test_dead_forwarding_proxy_for_plain_http_is_named(dead_proxy: str) -> None:
    with (
        ScriptedServer(always(Reply.json(INFO))) as server,
        pytest.raises(e.ProxyUnreachable) as caught,
    ):
        SyncClient(server.url, timeouts=QUICK).info()
    assert caught.value.proxy == dead_proxy


def test_no_proxy_sends_the_request_direct(
    dead_proxy: str, https_server: ScriptedServer, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C45 (b): the same dead proxy, with NO_PROXY naming the server."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    client = SyncClient(https_server.url, ca_bundle=pki.ca_cert, timeouts=QUICK)
    assert client.effective_proxy() is None
    assert client.info().epoch == "epoch-1"
    assert len(https_server.requests) == 1


def test_tunnel_through_a_working_proxy_still_verifies_tls(
    https_server: ScriptedServer, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TunnelProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert SyncClient(https_server.url, ca_bundle=pki.ca_cert, timeouts=QUICK).info()
        assert proxy.tunnels == [f"127.0.0.1:{https_server.port}"]
        with pytest.raises(e.CertificateUntrusted) as caught:
            SyncClient(https_server.url, timeouts=QUICK).info()
    assert caught.value.issuer == CA_NAME, "the certificate is read through the tunnel too"


def test_proxy_asking_for_credentials_gets_them(
    https_server: ScriptedServer, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C45 (c): a proxy answering 407 until it gets its user name and password."""
    with TunnelProxy(credentials=("tech01", "Pr0xy pass/word")) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(e.ProxyAuthRequired) as caught:
            SyncClient(https_server.url, ca_bundle=pki.ca_cert, timeouts=QUICK).info()
        assert caught.value.proxy == proxy.url and proxy.url in str(caught.value)
        assert not caught.value.transient
        with_login = SyncClient(
            https_server.url,
            ca_bundle=pki.ca_cert,
            timeouts=QUICK,
            proxy_credentials=("tech01", "Pr0xy pass/word"),
        )
        assert with_login.info().epoch == "epoch-1"


def test_forwarding_proxy_answering_407(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain-HTTP request through a proxy that wants credentials gets the 407 back itself."""
    with ScriptedServer(always(Reply(407, b"", {"Proxy-Authenticate": "Basic"}))) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with pytest.raises(e.ProxyAuthRequired) as caught:
            SyncClient("http://127.0.0.1:9", timeouts=QUICK).info()
    assert caught.value.proxy == proxy.url


def test_proxy_password_in_the_environment_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = closed_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://tech01:hunter2@127.0.0.1:{port}")
    client = SyncClient("https://127.0.0.1:8443", timeouts=QUICK)
    assert client.effective_proxy() == f"http://127.0.0.1:{port}"
    with pytest.raises(e.ProxyUnreachable) as caught:
        client.info()
    assert "hunter2" not in str(caught.value) and "tech01" not in str(caught.value)
