"""C45 (c): a company proxy that wants a sign-in; it is asked once and kept in the keyring."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldops.sync.credentials import CredentialStore
from fieldops.sync.errors import ProxyAuthRequired
from fieldops.sync.transport import SyncClient
from tests.support.tls import TunnelProxy
from tests.sync.central import USERS
from tests.sync_flow.conftest import DEMO
from tests.sync_flow.test_sync_flow import log_incident


def test_proxy_sign_in_is_asked_kept_and_used(
    device,
    central_tls,
    pki,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_cert))  # the test CA as a system CA
    with TunnelProxy(credentials=("tech01", "Pr0xy pass/word")) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        ws = device("laptop")  # signed in directly to the plain server by the fixture
        ws.sync.credentials = CredentialStore(session_only=True)
        ws.sync.proxy_credentials = CredentialStore(session_only=True)
        with pytest.raises(ProxyAuthRequired):
            ws.sync.login(central_tls.url, "tom", USERS["tom"][2])
        assert ws.sync.proxy(central_tls.url) == proxy.url
        ws.sync.set_proxy_login("tech01", "Pr0xy pass/word", central_tls.url)
        ws.sync.login(central_tls.url, "tom", USERS["tom"][2])
        with SyncClient(central_tls.url, proxy_credentials=("tech01", "Pr0xy pass/word")) as admin:
            admin.set_token(admin.login("ada", USERS["ada"][2]).token)
            admin.import_catalogue((DEMO / "catalogue-snipeit.csv").read_bytes())
        log_incident(ws, "Through the proxy")
        assert ws.sync.sync().changes_sent == 1
        assert proxy.tunnels
