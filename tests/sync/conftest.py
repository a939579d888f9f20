"""Transport and credential test fixtures: no proxy from the machine, a test CA, real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tls import Pki, make_pki
from tests.sync.central import Central, start_central

PROXY_AND_CA_VARIABLES = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
]


@pytest.fixture(autouse=True)
def no_machine_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with no proxy or CA settings from the machine; tests set their own."""
    for name in PROXY_AND_CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway "Contoso Test Root CA" and the server certificates it signed."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    """The real FieldOps server over plain HTTP on loopback, shared by the tests of a run."""
    running = start_central(tmp_path_factory.mktemp("central"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def central_tls(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Central]:
    """The real FieldOps server over HTTPS, with a certificate from the test CA."""
    folder: Path = tmp_path_factory.mktemp("central-tls")
    running = start_central(folder, certfile=pki.server_cert, keyfile=pki.server_key)
    yield running
    running.stop()
