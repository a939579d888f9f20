"""Turns what went wrong in a request into one of the sync errors, by type, not by wording.

requests wraps urllib3, which wraps the socket and ssl errors; the useful one is somewhere
in the chain. The order of the checks matters: an SSLError is also a ConnectionError (and
an OSError), and a connection refused by a proxy is a proxy problem, not the server's.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import requests
import urllib3.exceptions as u3

from fieldops.sync import errors as e
from fieldops.sync.certinfo import CertificateSummary
from fieldops.sync.deadline import LookupTimedOut

_UNREACHABLE = {
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.EHOSTDOWN,
    errno.EADDRNOTAVAIL,
}
_DROPPED = {errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ESHUTDOWN}

# OpenSSL's verification results (X509_V_ERR_*) that name the certificate problem.
_EXPIRED = {10}
_NOT_YET_VALID = {9}
_HOST_MISMATCH = {62, 64}
_UNTRUSTED = {2, 18, 19, 20, 21, 24, 27}


@dataclass(frozen=True)
class RequestContext:
    """What the classifier needs to word an error: where the request went, and its limits."""

    url: str
    host: str
    proxy: str | None
    connect_timeout: float
    read_timeout: float


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every error it wraps, each once, outermost first."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            getattr(current, "original_error", None),
            *current.args,
        ]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def _first(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    return next((item for item in chain(error) if isinstance(item, kind)), None)


def classify_exception(
    error: BaseException,
    context: RequestContext,
    certificate: CertificateSummary | None = None,
) -> e.SyncError:
    """The sync error for an exception raised while sending a request or reading its answer."""
    url, host = context.url, context.host
    verify = _first(error, ssl.SSLCertVerificationError)
    if isinstance(verify, ssl.SSLCertVerificationError):
        return tls_verification_error(verify, host, url, certificate)
    if _first(error, ssl.SSLError) is not None or _first(error, u3.SSLError) is not None:
        return e.TlsHandshakeFailed(host, _tls_reason(error), url)
    if context.proxy and _through_proxy(error):
        return _proxy_error(error, context)
    if isinstance(_first(error, LookupTimedOut), LookupTimedOut):
        return e.NameLookupTimedOut(host, context.connect_timeout, url)
    if _first(error, socket.gaierror) is not None or _first(error, u3.NameResolutionError):
        return e.NameNotResolved(host, url)
    return _network_error(error, context)


def _network_error(error: BaseException, context: RequestContext) -> e.SyncError:
    url, host = context.url, context.host
    if _is_connect_timeout(error):
        return e.ConnectTimedOut(host, context.connect_timeout, url)
    if _first(error, u3.ReadTimeoutError) or _first(error, requests.ReadTimeout):
        return e.ReadTimedOut(host, context.read_timeout, url)
    number = _errno(error)
    if number == errno.ECONNREFUSED:
        return e.ServerRefused(host, url)
    if number in _UNREACHABLE:
        return e.NetworkUnreachable(host, url)
    if number in _DROPPED or _was_cut_off(error):
        return e.ConnectionDropped(host, url)
    if _first(error, TimeoutError) is not None:
        return e.ReadTimedOut(host, context.read_timeout, url)
    return e.NetworkFailure(host, url, detail=type(error).__name__)


def _is_connect_timeout(error: BaseException) -> bool:
    # urllib3's NewConnectionError derives from ConnectTimeoutError, yet means "could not
    # connect" (refused, unreachable) rather than a timeout.
    return (
        any(
            isinstance(item, u3.ConnectTimeoutError) and not isinstance(item, u3.NewConnectionError)
            for item in chain(error)
        )
        or _first(error, requests.ConnectTimeout) is not None
    )


def _errno(error: BaseException) -> int | None:
    for item in chain(error):
        if isinstance(item, OSError) and item.errno is not None:
            return item.errno
    return None


def _was_cut_off(error: BaseException) -> bool:
    kinds = (
        http.client.RemoteDisconnected,
        http.client.IncompleteRead,
        u3.ProtocolError,
        requests.exceptions.ChunkedEncodingError,
        ConnectionResetError,
        BrokenPipeError,
    )
    return any(isinstance(item, kinds) for item in chain(error))


def _through_proxy(error: BaseException) -> bool:
    kinds = (u3.ProxyError, requests.exceptions.ProxyError)
    return any(isinstance(item, kinds) for item in chain(error))


def _proxy_error(error: BaseException, context: RequestContext) -> e.SyncError:
    proxy = context.proxy or "the proxy"
    if _tunnel_status(error) == 407:
        return e.ProxyAuthRequired(proxy, context.url)
    status = _tunnel_status(error)
    if status is not None:
        reason = f"it answered {status} when asked to connect to {context.host}"
    elif _errno(error) == errno.ECONNREFUSED:
        reason = "connection refused"
    elif _is_connect_timeout(error) or _first(error, TimeoutError) is not None:
        reason = "no answer in time"
    elif _first(error, socket.gaierror) is not None:
        reason = "its name could not be found"
    elif _errno(error) in _UNREACHABLE:
        reason = "no network route to it"
    else:
        reason = "the connection through it failed"
    return e.ProxyUnreachable(proxy, reason, context.url)


def _tunnel_status(error: BaseException) -> int | None:
    """The status a proxy gave to CONNECT, from http.client's "Tunnel connection failed: N".

    http.client raises a bare OSError for this, with no type or attribute of its own, so
    the number is read from its text.
    """
    for item in chain(error):
        if type(item) is OSError and item.args and isinstance(item.args[0], str):
            words = item.args[0].split()
            if item.args[0].startswith("Tunnel connection failed") and len(words) > 3:
                number = words[3].rstrip(":")
                return int(number) if number.isdigit() else None
    return None


def _tls_reason(error: BaseException) -> str:
    for item in chain(error):
        if isinstance(item, ssl.SSLError) and item.reason:
            return str(item.reason).replace("_", " ").lower()
    return "the handshake failed"


def tls_verification_error(
    error: ssl.SSLCertVerificationError,
    host: str,
    url: str | None,
    certificate: CertificateSummary | None,
) -> e.TlsFailure:
    """The TLS error naming the certificate problem OpenSSL (or the system) reported."""
    code = error.verify_code
    failure: e.TlsFailure
    if code in _HOST_MISMATCH:
        failure = e.CertificateHostMismatch(host, certificate.names if certificate else [], url)
    elif code in _EXPIRED:
        when = _date(certificate.not_after) if certificate else None
        failure = e.CertificateExpired(host, when, url=url)
    elif code in _NOT_YET_VALID:
        when = _date(certificate.not_before) if certificate else None
        failure = e.CertificateExpired(host, when, not_yet=True, url=url)
    elif code in _UNTRUSTED or code is None or code == 0:
        failure = e.CertificateUntrusted(host, certificate.issuer if certificate else None, url)
    else:
        failure = e.TlsHandshakeFailed(host, error.verify_message or "certificate refused", url)
    failure.certificate = certificate
    return failure


def _date(moment: object) -> str | None:
    return moment.strftime("%d %B %Y") if hasattr(moment, "strftime") else None
