"""The HTTP client of the sync protocol: one session, verified TLS, time limits on everything.

`SyncClient` speaks the protocol in fieldops.protocol and nothing else: each method sends one
request and returns the protocol model of the answer, or raises one of the errors in
fieldops.sync.errors. It never retries; the sync engine decides what to send again.
"""

from __future__ import annotations

import logging
import platform
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, urlencode

import requests
import urllib3.exceptions
from requests.auth import AuthBase
from requests.utils import select_proxy

from fieldops import __version__
from fieldops.protocol import (
    DEFAULT_PULL_LIMIT,
    EPOCH_HEADER,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    UPLOAD_LENGTH_HEADER,
    UPLOAD_OFFSET_HEADER,
    BlobStatus,
    ClientInfo,
    ImportSummary,
    LoginRequest,
    LoginResponse,
    Paths,
    PullResponse,
    PushRequest,
    PushResponse,
    RevokeResult,
    ServerInfo,
    SiteInfo,
    SiteUpdate,
    UserCreate,
    UserInfo,
    UserUpdate,
)
from fieldops.sync.adapter import TrustStoreAdapter, trust_store_context
from fieldops.sync.answers import Answer, error_for, parse, parse_list
from fieldops.sync.certinfo import presented_certificate
from fieldops.sync.classify import RequestContext, classify_exception
from fieldops.sync.deadline import LookupTimedOut, RequestWatch, resolve_within, watching
from fieldops.sync.errors import (
    BadResponse,
    CaptivePortal,
    DeadlineExceeded,
    NotOnServer,
    RequestCancelled,
    SyncError,
    TlsFailure,
    TlsHandshakeFailed,
)
from fieldops.sync.transfers import (
    DownloadSink,
    ProgressCallback,
    SourceFailed,
    UploadBody,
    source_size,
)
from fieldops.sync.urls import host_of, host_port, is_ip_literal, normalise_base_url, safe_url

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 256 * 1024 * 1024
_READ_CHUNK = 256 * 1024
_LOW_LEVEL_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True)
class Timeouts:
    """Time limits of every request, in seconds."""

    connect: float = 10.0
    """To open the connection (and, separately, to look the server's name up)."""
    read: float = 30.0
    """The longest silence between two pieces of an answer."""
    deadline: float = 120.0
    """The whole of one API request, however the server trickles."""
    transfer_deadline: float = 900.0
    """The whole of one photo upload or download."""


class _BearerAuth(AuthBase):
    """Puts the token on one request; an object, so requests reads no .netrc either."""

    def __init__(self, token: str | None) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._token:
            request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<bearer token hidden>" if self._token else "<no token>"


class SyncClient:
    """The sync server's API over one requests.Session; use it as a context manager."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeouts: Timeouts | None = None,
        ca_bundle: str | Path | None = None,
        proxy_credentials: tuple[str, str] | None = None,
        pool_size: int = 4,
    ) -> None:
        self._base = normalise_base_url(base_url)
        self._token = token
        self.timeouts = timeouts or Timeouts()
        self._proxy_credentials = proxy_credentials
        self._session = requests.Session()
        self._session.trust_env = True  # proxies and NO_PROXY as the environment sets them
        self._session.headers.update(
            {
                "User-Agent": user_agent(),
                "Accept": "application/json",
                PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            }
        )
        adapter = TrustStoreAdapter(trust_store_context(_text(ca_bundle)), pool_size)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._watches: set[RequestWatch] = set()
        self._watch_lock = threading.Lock()
        self._closed = False
        self._last_proxy: str | None = None
        self.last_epoch: str | None = None
        """The server epoch on the most recent answer that carried one."""

    # Life cycle.

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SyncClient({safe_url(self._base)!r})"

    def close(self) -> None:
        """Stops requests under way and closes every connection; the client is done."""
        self._closed = True
        self.cancel()
        self._session.close()

    def cancel(self) -> None:
        """Stops the requests under way (from any thread); each raises RequestCancelled."""
        with self._watch_lock:
            watches = list(self._watches)
        for watch in watches:
            watch.fire("cancelled")

    @property
    def base_url(self) -> str:
        """The server address this client talks to."""
        return self._base

    @property
    def server_key(self) -> str:
        """The server as host:port, the form credentials are stored under."""
        return host_port(self._base)

    @property
    def signed_in(self) -> bool:
        """Whether a token is set."""
        return bool(self._token)

    def set_token(self, token: str | None) -> None:
        """Uses this bearer token from the next request on (None to sign out locally)."""
        self._token = token

    def effective_proxy(self, url: str | None = None) -> str | None:
        """The proxy a request to `url` (the server by default) goes through, for diagnostics.

        None means direct. The environment decides (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and
        NO_PROXY); on Windows and macOS, Python also reads the system's proxy settings when
        the environment names none. Proxy auto-configuration (PAC) files are not evaluated.
        """
        target = url or self._base
        settings = self._session.merge_environment_settings(target, {}, None, None, None)
        chosen = select_proxy(target, settings["proxies"])
        return safe_url(chosen) if chosen else None

    # Session and server.

    def info(self) -> ServerInfo:
        """The server's protocol versions, epoch and clock; needs no sign-in."""
        return parse(self._call("GET", Paths.INFO, signed=False), ServerInfo)

    def login(self, username: str, password: str, device: str = "") -> LoginResponse:
        """Exchanges a name and password for a token, which this client then uses."""
        body = LoginRequest(username=username, password=password, device=device)
        answer = self._call(
            "POST", Paths.LOGIN, body=body.model_dump_json().encode(), signed=False, login=True
        )
        session = parse(answer, LoginResponse)
        self._token = session.token
        log.info("signed in to %s as %s", safe_url(self._base), session.user.name)
        return session

    def logout(self) -> None:
        """Ends the token on the server and forgets it here."""
        try:
            self._call("POST", Paths.LOGOUT, ok=(204,))
        finally:
            self._token = None

    def me(self) -> UserInfo:
        """The signed-in user, with role and sites."""
        return parse(self._call("GET", Paths.ME), UserInfo)

    # Sync.

    def push(self, request: PushRequest) -> PushResponse:
        """Sends a batch of outbox mutations; the answer says what became of each."""
        answer = self._call("POST", Paths.PUSH, body=request.model_dump_json().encode())
        return parse(answer, PushResponse)

    def pull(self, cursor: int = 0, limit: int = DEFAULT_PULL_LIMIT) -> PullResponse:
        """One page of the changes after `cursor`."""
        answer = self._call("GET", Paths.PULL, params={"cursor": cursor, "limit": limit})
        return parse(answer, PullResponse)

    # Administration and lists.

    def sites(self) -> list[SiteInfo]:
        """The sites the user works at (every site for leads and administrators)."""
        return parse_list(self._call("GET", Paths.SITES), SiteInfo)

    def clients(self) -> list[ClientInfo]:
        """Every device that has pushed, most recent first (leads and administrators)."""
        return parse_list(self._call("GET", Paths.CLIENTS), ClientInfo)

    def users(self) -> list[UserInfo]:
        """Every user (administrators)."""
        return parse_list(self._call("GET", Paths.USERS), UserInfo)

    def create_user(self, user: UserCreate) -> UserInfo:
        """Adds a user (administrators)."""
        body = user.model_dump_json().encode()
        return parse(self._call("POST", Paths.USERS, body=body, ok=(201,)), UserInfo)

    def update_user(self, name: str, changes: UserUpdate) -> UserInfo:
        """Changes a user's role, sites, password or whether they may sign in."""
        body = changes.model_dump_json(exclude_none=True).encode()
        return parse(self._call("PATCH", _path(Paths.USER, name=name), body=body), UserInfo)

    def revoke_tokens(self, name: str) -> RevokeResult:
        """Ends every token a user holds (administrators)."""
        return parse(self._call("POST", _path(Paths.USER_REVOKE, name=name)), RevokeResult)

    def set_site(self, code: str, site: SiteUpdate) -> SiteInfo:
        """Creates or renames a site (administrators)."""
        body = site.model_dump_json().encode()
        return parse(self._call("PUT", _path(Paths.SITE, code=code), body=body), SiteInfo)

    def import_catalogue(self, data: bytes, catalogue_format: str | None = None) -> ImportSummary:
        """Imports a catalogue CSV file (administrators); the format is guessed when not given."""
        answer = self._call(
            "POST",
            Paths.CATALOGUE_IMPORT,
            params={"format": catalogue_format} if catalogue_format else None,
            body=data,
            content_type="text/csv",
            deadline=self.timeouts.transfer_deadline,
        )
        return parse(answer, ImportSummary)

    # Photo blobs.

    def blob_status(self, sha256: str) -> BlobStatus:
        """How many bytes of a blob the server holds."""
        answer = self._call("HEAD", Paths.blob(sha256), ok=(200, 404))
        held = answer.headers.get(UPLOAD_OFFSET_HEADER, "")
        if not held.isdigit():
            if answer.status == 404:
                raise NotOnServer(None, answer.url)
            if answer.looks_like_html():
                raise CaptivePortal(answer.status, answer.url)
            raise BadResponse(f"no {UPLOAD_OFFSET_HEADER} header", answer.url)
        return BlobStatus(sha256=sha256, offset=int(held), complete=answer.status == 200)

    def upload_blob(
        self,
        sha256: str,
        source: Path | bytes,
        offset: int = 0,
        progress: ProgressCallback | None = None,
    ) -> BlobStatus:
        """Sends a blob's bytes from `offset` on, streamed; the answer says how much is held.

        A wrong offset raises OffsetMismatch carrying the server's offset to resume from.
        """
        size = source_size(source)
        answer = self._call(
            "PUT",
            Paths.blob(sha256),
            body=UploadBody(source, offset, size, progress),
            content_type="application/octet-stream",
            headers={UPLOAD_LENGTH_HEADER: str(size), UPLOAD_OFFSET_HEADER: str(offset)},
            ok=(200, 201, 202),
            deadline=self.timeouts.transfer_deadline,
        )
        return parse(answer, BlobStatus)

    def resume_upload(
        self, sha256: str, source: Path | bytes, *, progress: ProgressCallback | None = None
    ) -> BlobStatus:
        """Asks how much of the blob the server holds, then sends the rest."""
        held = self.blob_status(sha256)
        if held.complete:
            return held
        return self.upload_blob(sha256, source, offset=held.offset, progress=progress)

    def download_blob(
        self, sha256: str, target: Path, *, progress: ProgressCallback | None = None
    ) -> int:
        """Saves a whole blob to `target`, checked against its hash; returns its size."""
        sink = DownloadSink(target, sha256, None, progress)
        try:
            answer = self._call(
                "GET",
                Paths.blob(sha256),
                headers={"Accept": "application/octet-stream"},
                deadline=self.timeouts.transfer_deadline,
                sink=sink,
            )
        except BaseException:
            sink.abandon()
            raise
        return sink.finish(answer.url)

    # The request itself.

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, int | str] | None = None,
        body: bytes | Iterable[bytes] | None = None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
        ok: tuple[int, ...] = (200,),
        login: bool = False,
        deadline: float | None = None,
        sink: Callable[[bytes], None] | None = None,
    ) -> Answer:
        """Sends one request and reads its whole answer, or raises the fitting SyncError."""
        if self._closed:
            raise RequestCancelled(safe_url(self._base + path))
        url = self._base + path
        shown = safe_url(f"{url}?{urlencode(params)}" if params else url)
        proxy = self._note_proxy(url)
        context = RequestContext(
            shown, host_of(url), proxy, self.timeouts.connect, self.timeouts.read
        )
        extra = dict(headers or {})
        if body is not None:
            extra.setdefault("Content-Type", content_type)
        watch = RequestWatch(deadline or self.timeouts.deadline)
        started = time.monotonic()
        self._track(watch, True)
        try:
            with watching(watch):
                if proxy is None:
                    self._look_up(url)
                status, answer_headers, content = self._exchange(
                    method, url, params, body, extra, signed, proxy, sink
                )
        except SourceFailed as failed:
            raise failed.as_error() from failed.error
        except (*_LOW_LEVEL_ERRORS, LookupTimedOut) as error:
            failure = self._failure(error, watch, context)
            log.warning("%s %s failed: %s (%s)", method, shown, failure.kind, type(error).__name__)
            raise failure from error
        finally:
            self._track(watch, False)
        answer = Answer(status, answer_headers, content, shown)
        self._remember_epoch(answer_headers)
        log.debug(
            "%s %s -> %d in %.0f ms", method, shown, status, (time.monotonic() - started) * 1000
        )
        if status not in ok:
            failure = error_for(answer, login=login, proxy=proxy)
            log.warning("%s %s answered %d: %s", method, shown, status, failure.kind)
            raise failure
        return answer

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, int | str] | None,
        body: bytes | Iterable[bytes] | None,
        headers: dict[str, str],
        signed: bool,
        proxy: str | None,
        sink: Callable[[bytes], None] | None,
    ) -> tuple[int, requests.structures.CaseInsensitiveDict[str], bytes]:
        response = self._session.request(
            method,
            url,
            params=params,
            data=body,
            headers=headers,
            auth=_BearerAuth(self._token if signed else None),
            timeout=(self.timeouts.connect, self.timeouts.read),
            allow_redirects=False,
            stream=True,
            proxies=self._proxies_with_credentials(proxy),
        )
        with response:
            wanted = sink is not None and 200 <= response.status_code < 300
            content = _read_body(response, sink if wanted else None)
        return response.status_code, response.headers, content

    def _failure(
        self, error: BaseException, watch: RequestWatch, context: RequestContext
    ) -> SyncError:
        """The SyncError for a request that raised, naming the certificate when TLS failed."""
        if watch.reason == "cancelled":
            return RequestCancelled(context.url)
        if watch.reason == "deadline":
            return DeadlineExceeded(context.host, watch.deadline, context.url)
        failure = classify_exception(error, context)
        if isinstance(failure, TlsFailure) and not isinstance(failure, TlsHandshakeFailed):
            certificate = presented_certificate(
                self._base, proxy=context.proxy, timeout=self.timeouts.connect
            )
            if certificate is not None:
                failure = classify_exception(error, context, certificate)
        return failure

    def _look_up(self, url: str) -> None:
        """Looks the server's name up within the connect timeout, which requests cannot do."""
        host = host_of(url)
        if host and not is_ip_literal(host):
            resolve_within(host, 443, self.timeouts.connect)

    def _track(self, watch: RequestWatch, active: bool) -> None:
        with self._watch_lock:
            if active:
                self._watches.add(watch)
            else:
                self._watches.discard(watch)

    def _note_proxy(self, url: str) -> str | None:
        proxy = self.effective_proxy(url)
        if proxy != self._last_proxy:
            log.info("requests to %s go %s", host_port(url), f"via {proxy}" if proxy else "direct")
            self._last_proxy = proxy
        return proxy

    def _proxies_with_credentials(self, proxy: str | None) -> dict[str, str] | None:
        """The proxy with the configured user name and password in it, when both exist."""
        if not proxy or not self._proxy_credentials:
            return None
        user, password = (quote(part, safe="") for part in self._proxy_credentials)
        scheme, _, rest = proxy.partition("://")
        with_login = f"{scheme}://{user}:{password}@{rest}"
        return {"http": with_login, "https": with_login}

    def _remember_epoch(self, headers: Mapping[str, str]) -> None:
        epoch = headers.get(EPOCH_HEADER)
        if epoch:
            self.last_epoch = epoch


def _path(template: str, **values: str) -> str:
    """A path with its {placeholders} filled, each value quoted as one path segment."""
    return template.format(**{key: quote(value, safe="") for key, value in values.items()})


def _read_body(response: requests.Response, sink: Callable[[bytes], None] | None) -> bytes:
    """The whole body, or streams it to `sink` and returns nothing; too much is an error."""
    parts: list[bytes] = []
    total = 0
    for piece in response.iter_content(_READ_CHUNK):
        total += len(piece)
        if sink is not None:
            sink(piece)
            continue
        if total > MAX_ANSWER_BYTES:
            raise requests.exceptions.ContentDecodingError("the answer is too large")
        parts.append(piece)
    return b"".join(parts)


def user_agent() -> str:
    """The User-Agent of every request: the FieldOps version and the protocol it speaks."""
    return f"FieldOps/{__version__} (protocol {PROTOCOL_VERSION}; {platform.system() or 'unknown'})"


def _text(value: str | Path | None) -> str | None:
    return str(value) if value is not None else None
