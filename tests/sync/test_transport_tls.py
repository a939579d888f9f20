"""TLS is always verified, against the system's trust store, and each failure names its problem.

C41: a company's inspecting proxy signs with its own root CA ("Contoso Test Root CA" here).
When the CA is trusted by the system, or given as a bundle, sync works; when it is not, the
error names the issuer and is not "offline"; a host-name mismatch and an expired certificate
each have their own message.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fieldops.sync import errors as e
from fieldops.sync.certinfo import presented_certificate, summarise
from fieldops.sync.transport import SyncClient, Timeouts
from tests.support.tls import (
    CA_NAME,
    WRONG_HOST,
    Pki,
    Reply,
    ScriptedServer,
    always,
    server_context,
)
from tests.sync.central import Central

QUICK = Timeouts(connect=1.0, read=2.0, deadline=5.0)
INFO = {
    "protocol_version": 1,
    "min_client_version": 1,
    "epoch": "epoch-1",
    "server_time": "2026-01-01T00:00:00+00:00",
}


@pytest.fixture
def https_server(pki: Pki) -> Iterator[ScriptedServer]:
    """A server answering /info over HTTPS with a certificate from the test CA."""
    context = server_context(pki.server_cert, pki.server_key)
    with ScriptedServer(always(Reply.json(INFO)), tls=context) as server:
        yield server


def test_untrusted_ca_names_the_issuer_and_is_not_offline(https_server: ScriptedServer) -> None:
    """C41 (2): the CA is installed nowhere."""
    with pytest.raises(e.CertificateUntrusted) as caught:
        SyncClient(https_server.url, timeouts=QUICK).info()
    error = caught.value
    assert error.issuer == CA_NAME
    assert f"issuer: {CA_NAME}" in str(error) and "Contact IT" in str(error)
    assert not error.offline and not error.transient
    assert error.kind == "tls_untrusted"
    assert https_server.requests == [], "no request may travel over an unverified connection"


def test_ca_given_as_a_bundle_is_trusted(https_server: ScriptedServer, pki: Pki) -> None:
    info = SyncClient(https_server.url, ca_bundle=pki.ca_cert, timeouts=QUICK).info()
    assert info.epoch == "epoch-1"


def test_ca_in_the_system_trust_store_is_trusted(
    https_server: ScriptedServer, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C41 (1): on Linux, OpenSSL's system store is what SSL_CERT_FILE names; truststore reads it.

    Nothing is installed on the machine: the variable points this process's OpenSSL at a
    file holding only the test CA.
    """
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_cert))
    assert SyncClient(https_server.url, timeouts=QUICK).info().epoch == "epoch-1"


def test_certifi_and_requests_variables_change_nothing(
    https_server: ScriptedServer, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests' own CA variables neither add trust nor turn verification off."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_cert))
    with pytest.raises(e.CertificateUntrusted):
        SyncClient(https_server.url, timeouts=QUICK).info()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    with pytest.raises(e.CertificateUntrusted):
        SyncClient(https_server.url, timeouts=QUICK).info()


def test_host_name_mismatch_has_its_own_message(pki: Pki) -> None:
    """C41 (3)."""
    context = server_context(pki.wrong_host_cert, pki.wrong_host_key)
    with (
        ScriptedServer(always(Reply.json(INFO)), tls=context) as server,
        pytest.raises(e.CertificateHostMismatch) as caught,
    ):
        SyncClient(server.url, ca_bundle=pki.ca_cert, timeouts=QUICK).info()
    assert caught.value.names == [WRONG_HOST]
    assert f"is for {WRONG_HOST}, not 127.0.0.1" in str(caught.value)


def test_expired_certificate_says_when(pki: Pki) -> None:
    context = server_context(pki.expired_cert, pki.expired_key)
    with (
        ScriptedServer(always(Reply.json(INFO)), tls=context) as server,
        pytest.raises(e.CertificateExpired) as caught,
    ):
        SyncClient(server.url, ca_bundle=pki.ca_cert, timeouts=QUICK).info()
    assert "expired on" in str(caught.value) and not caught.value.not_yet


def test_https_to_a_plain_http_server_is_a_handshake_failure(central: Central) -> None:
    url = central.url.replace("http://", "https://")
    with pytest.raises(e.TlsHandshakeFailed) as caught:
        SyncClient(url, timeouts=QUICK).info()
    assert "wrong version number" in caught.value.reason
    assert "https://" in str(caught.value)


def test_bad_ca_bundle_path_is_refused_at_once(tmp_path: object) -> None:
    with pytest.raises(e.BadCaBundle) as caught:
        SyncClient("https://127.0.0.1:1", ca_bundle="/nonexistent/ca.pem")
    assert "/nonexistent/ca.pem" in str(caught.value)


def test_real_server_over_tls_with_the_bundle(central_tls: Central, pki: Pki) -> None:
    with SyncClient(central_tls.url, ca_bundle=pki.ca_cert, timeouts=QUICK) as client:
        session = client.login("tom", "tom-password-1")
        assert client.me().name == "tom"
        assert session.user.sites == ["HQ-DC1"]


def test_real_server_over_tls_untrusted(central_tls: Central) -> None:
    with pytest.raises(e.CertificateUntrusted) as caught:
        SyncClient(central_tls.url, timeouts=QUICK).login("tom", "tom-password-1")
    assert caught.value.issuer == CA_NAME


def test_presented_certificate_reads_what_the_server_shows(https_server: ScriptedServer) -> None:
    """The diagnostics view: subject, issuer, names and dates, without trusting it."""
    summary = presented_certificate(https_server.url, timeout=2)
    assert summary is not None
    assert summary.issuer == CA_NAME and summary.subject == "127.0.0.1"
    assert summary.names == ["127.0.0.1", "localhost"]
    assert summary.not_after is not None and summary.not_after > datetime.now(UTC)
    assert https_server.requests == []


def test_certificate_summary_of_each_test_certificate(pki: Pki) -> None:
    for path, names in [(pki.wrong_host_cert, [WRONG_HOST]), (pki.ca_cert, [])]:
        der = ssl.PEM_cert_to_DER_cert(path.read_text())
        summary = summarise(der)
        assert summary is not None and summary.issuer == CA_NAME and summary.names == names


def test_unreadable_certificate_gives_no_summary() -> None:
    assert summarise(b"\x30\x03\x02\x01") is None
    assert summarise(b"") is None
