"""Why a request to the sync server failed, each reason with its own sentence and kind.

Every failure says three things: a sentence a technician can act on (its text), a `kind` the
window can show distinctly (an untrusted certificate is not "offline"), and `transient`,
whether the sync engine should try again later with backoff. `offline` is set only when the
server could not be reached at all, so the status bar may simply say "offline".
"""

from __future__ import annotations

from typing import ClassVar

from fieldops.domain.errors import FieldOpsError
from fieldops.protocol import ErrorBody

KEPT = "Your unsent changes are kept."


class SyncError(FieldOpsError):
    """A request to the sync server that did not give a usable answer."""

    kind: ClassVar[str] = "sync_error"
    transient: ClassVar[bool] = False
    offline: ClassVar[bool] = False

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message, code=self.kind)
        self.url = url
        """The request's address, already stripped of secrets."""
        self.retry_after: float | None = None
        """Seconds the server asked to wait before trying again, when it said so."""


class BadCaBundle(SyncError):
    """The CA bundle named in the settings cannot be read."""

    kind = "ca_bundle"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"The CA bundle {path} cannot be used ({reason}). Fix the path in the settings "
            "or remove it to use only this computer's trusted certificates."
        )
        self.path = path


class RequestCancelled(SyncError):
    """The request was stopped on purpose, for example because the app is closing."""

    kind = "cancelled"

    def __init__(self, url: str | None = None) -> None:
        super().__init__(f"The request was cancelled. {KEPT}", url=url)


# Network: the server could not be reached, or the connection broke.


class NetworkFailure(SyncError):
    """Talking to the server failed below HTTP; worth trying again later."""

    kind = "network"
    transient = True
    template: ClassVar[str] = "Talking to {host} failed ({detail}). It will be tried again."
    """The sentence, filled in with the host and the values each kind adds."""

    def __init__(self, host: str, url: str | None = None, **values: object) -> None:
        super().__init__(self.template.format(host=host, kept=KEPT, **values), url=url)
        self.host = host


class NetworkUnreachable(NetworkFailure):
    """There is no network route to the server: the device is offline."""

    kind = "no_route"
    offline = True
    template = (
        "There is no network route to {host}: this device seems to be offline. "
        "{kept} They are sent when the network is back."
    )


class NameNotResolved(NetworkFailure):
    """The server's name could not be looked up (DNS)."""

    kind = "dns"
    offline = True
    template = (
        "The server name {host} could not be found (DNS). Check the network connection "
        "and the server address in the settings."
    )


class ServerRefused(NetworkFailure):
    """Something answered at the address but refused the connection."""

    kind = "refused"
    offline = True
    template = (
        "{host} refused the connection: the FieldOps server is not running there, or the "
        "port in the server address is wrong."
    )


class ConnectionDropped(NetworkFailure):
    """The connection was reset or closed before the whole answer arrived."""

    kind = "connection_lost"
    template = (
        "The connection to {host} was cut off before the answer arrived. It will be tried again."
    )


class TimedOut(NetworkFailure):
    """A time limit ran out; `phase` says which: connect, read, deadline or name lookup."""

    kind = "timeout"
    phase: ClassVar[str] = "request"
    template = "{host} did not answer within {seconds:g} s. It will be tried again."

    def __init__(self, host: str, seconds: float, url: str | None = None) -> None:
        super().__init__(host, url, seconds=seconds)
        self.seconds = seconds


class ConnectTimedOut(TimedOut):
    """No connection within the connect timeout."""

    kind = "connect_timeout"
    phase = "connect"
    offline = True
    template = (
        "{host} did not accept a connection within {seconds:g} s: the network is down, "
        "or something on it blocks the server."
    )


class ReadTimedOut(TimedOut):
    """Connected, but the server sent nothing for longer than the read timeout."""

    kind = "read_timeout"
    phase = "read"
    template = (
        "{host} accepted the connection but sent nothing for {seconds:g} s. It will be tried again."
    )


class DeadlineExceeded(TimedOut):
    """The whole request took longer than its overall deadline (a trickling answer)."""

    kind = "deadline"
    phase = "deadline"
    template = (
        "The request to {host} took longer than {seconds:g} s in all, so it was stopped: "
        "the connection is too slow right now. It will be tried again."
    )


class NameLookupTimedOut(TimedOut):
    """Looking up the server's name took longer than the connect timeout."""

    kind = "dns_timeout"
    phase = "dns"
    offline = True
    template = (
        "Looking up the server name {host} took longer than {seconds:g} s (DNS). "
        "Check the network connection."
    )


# TLS: the server was reached, but its certificate was not accepted.


class TlsFailure(SyncError):
    """A secure connection could not be set up; verification is never turned off."""

    kind = "tls"

    def __init__(self, message: str, *, host: str, url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.host = host
        self.certificate: object | None = None
        """What the server presented (a certinfo.CertificateSummary), when it could be read."""


class CertificateUntrusted(TlsFailure):
    """The certificate's issuer is not among this computer's trusted authorities."""

    kind = "tls_untrusted"

    def __init__(self, host: str, issuer: str | None, url: str | None = None) -> None:
        named = f" (issuer: {issuer})" if issuer else ""
        super().__init__(
            f"The server's certificate is not trusted{named}. Contact IT: this computer needs "
            "their certificate authority installed, or a CA bundle set in the settings. "
            f"{KEPT}",
            host=host,
            url=url,
        )
        self.issuer = issuer


class CertificateHostMismatch(TlsFailure):
    """The certificate is for another name than the one in the server address."""

    kind = "tls_host_mismatch"

    def __init__(self, host: str, names: list[str], url: str | None = None) -> None:
        shown = ", ".join(names) if names else "another name"
        super().__init__(
            f"The server's certificate is for {shown}, not {host}. Check the server address "
            "in the settings; if it is right, contact IT.",
            host=host,
            url=url,
        )
        self.names = names


class CertificateExpired(TlsFailure):
    """The certificate is outside its validity dates (or this device's clock is wrong)."""

    kind = "tls_expired"

    def __init__(
        self, host: str, when: str | None, *, not_yet: bool = False, url: str | None = None
    ) -> None:
        if not_yet:
            dated = f" until {when}" if when else " yet"
            text = (
                f"The server's certificate is not valid{dated}. Check this device's date and "
                "time; if they are right, contact the server's administrator."
            )
        else:
            dated = f" on {when}" if when else ""
            text = (
                f"The server's certificate expired{dated}. Contact the server's administrator; "
                "also check this device's date and time."
            )
        super().__init__(text, host=host, url=url)
        self.not_yet = not_yet


class TlsHandshakeFailed(TlsFailure):
    """The secure connection failed for another reason (protocol, cipher, not TLS at all)."""

    kind = "tls_failed"

    def __init__(self, host: str, reason: str, url: str | None = None) -> None:
        super().__init__(
            f"A secure connection to {host} could not be set up ({reason}). Check that the "
            "server address starts with the right https:// or http://.",
            host=host,
            url=url,
        )
        self.reason = reason


# Proxy: the request went to a proxy, and the proxy is the problem.


class ProxyFailure(SyncError):
    """The proxy in use is the problem, not the server."""

    kind = "proxy"

    def __init__(self, message: str, *, proxy: str, url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.proxy = proxy


class ProxyUnreachable(ProxyFailure):
    """The proxy could not be reached or failed to open the way to the server."""

    kind = "proxy_unreachable"
    transient = True

    def __init__(self, proxy: str, reason: str, url: str | None = None) -> None:
        super().__init__(
            f"The proxy {proxy} could not be used ({reason}), so the server was not reached. "
            "Check the proxy settings (HTTPS_PROXY and NO_PROXY) or ask IT.",
            proxy=proxy,
            url=url,
        )
        self.reason = reason


class ProxyAuthRequired(ProxyFailure):
    """The proxy wants a user name and password (HTTP 407)."""

    kind = "proxy_auth"

    def __init__(self, proxy: str, url: str | None = None) -> None:
        super().__init__(
            f"The proxy {proxy} asks for a user name and password. Enter your proxy "
            "credentials in the settings, or ask IT.",
            proxy=proxy,
            url=url,
        )


# Answers that are not the FieldOps server's.


class CaptivePortal(SyncError):
    """A web page came back where the server's JSON was expected."""

    kind = "captive_portal"
    transient = True

    def __init__(self, status: int, url: str | None = None) -> None:
        super().__init__(
            "A web page answered instead of the FieldOps server: this network probably wants "
            "you to sign in through a browser first (a guest or hotel network). Open a "
            f"browser, sign in to the network, then sync again. {KEPT}",
            url=url,
        )
        self.status = status


class UnexpectedRedirect(SyncError):
    """The address redirects elsewhere; the client never follows redirects."""

    kind = "redirected"

    def __init__(self, location: str, url: str | None = None) -> None:
        super().__init__(
            f"The server address redirects to {location}. Check the server address in the "
            "settings (for example https:// instead of http://).",
            url=url,
        )
        self.location = location


class BadResponse(SyncError):
    """The answer could not be read as what the protocol says it should be."""

    kind = "bad_response"

    def __init__(self, detail: str, url: str | None = None) -> None:
        super().__init__(
            f"The server's answer could not be read ({detail}). The server may run another "
            "FieldOps version; tell the administrator if this keeps happening.",
            url=url,
        )
        self.detail = detail


# HTTP: the FieldOps server answered with an error.


class HttpFailure(SyncError):
    """The server answered with an error status and, usually, an ErrorBody."""

    kind = "http_error"

    def __init__(
        self, message: str, *, status: int, body: ErrorBody | None, url: str | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.body = body
        self.server_code = body.code if body else None
        """The protocol's ErrorCode, when the server gave one."""


def _said(body: ErrorBody | None, fallback: str) -> str:
    """The server's own sentence, or ours when it gave none."""
    return body.message if body and body.message else fallback


class SignInRequired(HttpFailure):
    """401: the token is missing, expired or revoked."""

    kind = "sign_in"

    def __init__(
        self, body: ErrorBody | None, url: str | None = None, *, message: str | None = None
    ) -> None:
        super().__init__(
            message
            or f"Your sign-in has expired or was ended. Sign in again to sync; {KEPT.lower()}",
            status=401,
            body=body,
            url=url,
        )


class WrongCredentials(SignInRequired):
    """401 at sign-in: the user name or password is wrong."""

    kind = "wrong_credentials"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(body, url, message="The user name or password is wrong.")


class AccessDenied(HttpFailure):
    """403: the role or account does not allow this."""

    kind = "forbidden"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(
            _said(body, "The server does not allow this for your account."),
            status=403,
            body=body,
            url=url,
        )


class NotOnServer(HttpFailure):
    """404: absent, or outside the caller's sites."""

    kind = "not_found"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(
            _said(body, "The server has no such record, or it is outside your sites."),
            status=404,
            body=body,
            url=url,
        )


class Conflict(HttpFailure):
    """409: the request does not fit what the server holds."""

    kind = "conflict"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(
            _said(body, "The request conflicts with what the server holds."),
            status=409,
            body=body,
            url=url,
        )


class SequenceGap(Conflict):
    """409: the push does not start at the sequence the server expects."""

    kind = "sequence_gap"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(body, url=url)
        self.expected_seq = body.expected_seq if body else None


class OffsetMismatch(Conflict):
    """409: a blob upload resumed at another offset than the bytes the server holds."""

    kind = "offset_mismatch"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(body, url=url)
        self.offset = body.offset if body else None


class ResyncRequired(HttpFailure):
    """410: the server no longer keeps changes back to our cursor."""

    kind = "resync_required"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(
            "The server no longer has every change since this device last synced, so a full "
            f"resync is needed. {KEPT}",
            status=410,
            body=body,
            url=url,
        )


class TooLarge(HttpFailure):
    """413: over the server's size limit."""

    kind = "too_large"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(
            _said(body, "This is larger than the server accepts."),
            status=413,
            body=body,
            url=url,
        )


class UpgradeRequired(HttpFailure):
    """426: the server needs a newer protocol than this FieldOps speaks."""

    kind = "upgrade_required"

    def __init__(self, body: ErrorBody | None, url: str | None = None) -> None:
        wanted = body.min_client_version if body else None
        named = f" (protocol {wanted} or newer)" if wanted else ""
        super().__init__(
            f"The server needs a newer FieldOps{named}. Install the update, then sync; {KEPT}",
            status=426,
            body=body,
            url=url,
        )
        self.min_client_version = wanted


class RateLimited(HttpFailure):
    """429: too many attempts; wait `retry_after` seconds."""

    kind = "rate_limited"
    transient = True

    def __init__(
        self, body: ErrorBody | None, retry_after: float | None, url: str | None = None
    ) -> None:
        wait = f" in {retry_after:g} s" if retry_after is not None else " in a while"
        super().__init__(
            _said(body, "Too many attempts.") + f" Try again{wait}.",
            status=429,
            body=body,
            url=url,
        )
        self.retry_after = retry_after


class ServerFailure(HttpFailure):
    """5xx: the server (or a gateway in front of it) failed; try again later."""

    kind = "server_error"
    transient = True

    def __init__(
        self,
        status: int,
        body: ErrorBody | None,
        url: str | None = None,
        *,
        gateway: bool = False,
        message: str | None = None,
    ) -> None:
        where = "A gateway in front of the server" if gateway else "The server"
        super().__init__(
            message
            or f"{where} failed on this request (HTTP {status}). It will be tried again; tell "
            "the administrator if it keeps happening.",
            status=status,
            body=body,
            url=url,
        )


class ServerBusy(ServerFailure):
    """503: the server is busy; wait `retry_after` seconds."""

    kind = "server_busy"

    def __init__(
        self, body: ErrorBody | None, retry_after: float | None, url: str | None = None
    ) -> None:
        wait = f"{retry_after:g} s" if retry_after is not None else "a while"
        text = f"The server is busy right now; it will be tried again in {wait}."
        super().__init__(503, body, url, message=text)
        self.retry_after = retry_after


class RequestRejected(HttpFailure):
    """Another 4xx: the server refused this request as it is; sending it again will not help."""

    kind = "rejected"

    def __init__(self, status: int, body: ErrorBody | None, url: str | None = None) -> None:
        super().__init__(
            _said(body, f"The server refused the request (HTTP {status})."),
            status=status,
            body=body,
            url=url,
        )
