"""The failure taxonomy as a whole, the classifier's order, and addresses made safe to log."""

from __future__ import annotations

import errno
import ssl

import pytest
import requests
import urllib3.exceptions as u3

from fieldops.domain.errors import FieldOpsError, ValidationError
from fieldops.sync import errors as e
from fieldops.sync.classify import RequestContext, chain, classify_exception
from fieldops.sync.transfers import LocalFileError
from fieldops.sync.urls import host_port, normalise_base_url, safe_url

CONTEXT = RequestContext("https://sync.example.test/api", "sync.example.test", None, 10, 30)


def _all_subclasses(base: type) -> list[type]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def test_every_sync_error_has_its_own_kind_and_is_a_fieldops_error() -> None:
    classes = _all_subclasses(e.SyncError)
    assert LocalFileError in classes and len(classes) >= 30
    kinds = [cls.kind for cls in classes]
    assert len(kinds) == len(set(kinds)), "a kind is shared"
    assert all(issubclass(cls, FieldOpsError) for cls in classes)


def test_transient_and_offline_flags() -> None:
    transient = {
        e.NetworkUnreachable,
        e.NameNotResolved,
        e.ServerRefused,
        e.ConnectionDropped,
        e.ConnectTimedOut,
        e.ReadTimedOut,
        e.DeadlineExceeded,
        e.NameLookupTimedOut,
        e.ProxyUnreachable,
        e.CaptivePortal,
        e.RateLimited,
        e.ServerFailure,
        e.ServerBusy,
        e.NetworkFailure,
        e.TimedOut,
    }
    for cls in _all_subclasses(e.SyncError):
        assert cls.transient == (cls in transient), cls
    offline = {cls for cls in _all_subclasses(e.SyncError) if cls.offline}
    assert offline == {
        e.NetworkUnreachable,
        e.NameNotResolved,
        e.ServerRefused,
        e.ConnectTimedOut,
        e.NameLookupTimedOut,
    }
    assert not any(cls.offline for cls in _all_subclasses(e.TlsFailure))


def test_code_is_the_kind() -> None:
    error = e.UpgradeRequired(None, "https://x.test")
    assert error.code == "upgrade_required" == error.kind


def test_tls_inside_a_connection_error_is_tls_not_offline() -> None:
    """C41: requests' SSLError is a ConnectionError; the classifier must look inside first."""
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify.verify_code = 20
    wrapped = requests.exceptions.SSLError(u3.MaxRetryError(None, "/", u3.SSLError(verify)))
    assert isinstance(wrapped, requests.exceptions.ConnectionError)
    failure = classify_exception(wrapped, CONTEXT)
    assert isinstance(failure, e.CertificateUntrusted) and not failure.offline


def test_unreachable_errnos_are_no_route() -> None:
    for number in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        cause = OSError(number, "unreachable")
        error = requests.exceptions.ConnectionError(u3.MaxRetryError(None, "/", cause))
        assert isinstance(classify_exception(error, CONTEXT), e.NetworkUnreachable)


def test_chain_visits_each_error_once() -> None:
    inner = OSError("inner")
    outer = RuntimeError(inner)
    outer.__cause__ = inner
    assert list(chain(outer)) == [outer, inner]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://tom:pw@sync.test:8443/api?cursor=5", "https://sync.test:8443/api?cursor=5"),
        ("https://sync.test/api?token=abc&limit=2", "https://sync.test/api?token=redacted&limit=2"),
        (
            "https://sync.test/a?api_key=k&Signature=s",
            "https://sync.test/a?api_key=redacted&Signature=redacted",
        ),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("https://sync.test:notaport/", "(unreadable address)"),
    ],
)
def test_safe_url_drops_user_info_and_query_secrets(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_base_url_is_checked_and_normalised() -> None:
    assert normalise_base_url(" https://sync.test:8443/ ") == "https://sync.test:8443"
    for bad in ("ftp://sync.test", "sync.test", "https://u:p@sync.test", "https://s.test/?a=1"):
        with pytest.raises(ValidationError):
            normalise_base_url(bad)


def test_host_port_fills_the_default_port() -> None:
    assert host_port("https://sync.test") == "sync.test:443"
    assert host_port("http://127.0.0.1:8000/x") == "127.0.0.1:8000"
    assert host_port("https://[::1]/") == "[::1]:443"
