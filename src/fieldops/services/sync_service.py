"""Signing in, syncing and reporting sync state: the use cases behind the window and CLI."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fieldops.domain.errors import FieldOpsError, ValidationError
from fieldops.i18n import tr
from fieldops.protocol.messages import UserInfo
from fieldops.store.blobs import BlobStore
from fieldops.store.database import Database
from fieldops.sync import local
from fieldops.sync.credential_errors import CredentialError
from fieldops.sync.credentials import CredentialStore
from fieldops.sync.engine import Progress, SyncEngine, SyncReport
from fieldops.sync.transport import SyncClient, Timeouts
from fieldops.sync.urls import normalise_base_url

log = logging.getLogger(__name__)

PROBE_TIMEOUTS = Timeouts(connect=3, read=5, deadline=8)
PROXY_SERVICE = "fieldops-proxy"
PROXY_ACCOUNT = "proxy"


@dataclass(frozen=True)
class SyncStatus:
    """Everything the status bar and `fieldops status` show."""

    server: str
    user: str
    signed_in: bool
    changes: int
    photos: int
    conflicts: int
    rejected: int
    last_sync_at: datetime | None
    last_error: str
    clock_offset_s: float | None
    # Pulled records waiting for a record this device has not received yet.
    pulled_waiting: int = 0

    @property
    def clock_warning(self) -> bool:
        """Whether this device's clock is more than five minutes off the server's."""
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > 300


class NotSignedIn(FieldOpsError):
    """No server or user is set up on this device yet."""

    code = "sign_in"
    kind = "sign_in"


class SyncService:
    """Owns the device's sign-in and runs sync; the token lives only in the credential store."""

    def __init__(
        self, db: Database, blobs: BlobStore, credentials: CredentialStore | None = None
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.credentials = credentials or CredentialStore()
        self.proxy_credentials = CredentialStore(service=PROXY_SERVICE)
        self._lock = threading.Lock()
        self._client: SyncClient | None = None

    def _account(self) -> tuple[str, str]:
        with self.db.read() as session:
            row = local.state(session)
            return row.server_url, row.username

    def login(self, server_url: str, username: str, password: str) -> UserInfo:
        """Exchanges a password for a token, keeps the token, forgets the password."""
        base = normalise_base_url(server_url)
        with SyncClient(base, proxy_credentials=self._proxy_login(base)) as client:
            answer = client.login(username, password, device="fieldops")
            try:
                self.credentials.save(username, base, answer.token)
            except Exception:
                # The token cannot be kept here: end it on the server rather than leave it live.
                client.set_token(answer.token)
                try:
                    client.logout()
                except Exception:
                    log.info("could not end the unkept sign-in on the server")
                raise

        def remember(session: Session) -> None:
            row = local.state(session)
            if row.server_url and row.server_url != base:
                log.warning("this device now syncs with a different server")
            row.server_url, row.username = base, username

        self.db.write(remember)
        log.info("signed in to %s as %s", client.server_key, username)
        return answer.user

    def logout(self) -> bool:
        """Removes the stored token and tells the server to forget it, when reachable."""
        server, user = self._account()
        if not server:
            return False
        try:
            token = self.credentials.load(user, server)
            with SyncClient(server, token=token, timeouts=PROBE_TIMEOUTS) as client:
                client.logout()
        except Exception as exc:  # offline, or nothing stored: the local token goes anyway
            log.info("server not told about the sign-out: %s", type(exc).__name__)
        return self.credentials.delete(user, server)

    def proxy(self, server: str | None = None) -> str | None:
        """The proxy requests to the server go through, or None when they go direct."""
        server = server or self._account()[0]
        if not server:
            return None
        with SyncClient(normalise_base_url(server)) as client:
            return client.effective_proxy()

    def set_proxy_login(self, user: str, password: str, server: str | None = None) -> None:
        """Keeps the proxy's user name and password in the keyring for this proxy."""
        proxy = self.proxy(server)
        if proxy is None:
            raise ValidationError(tr("Requests to the server do not go through a proxy."))
        self.proxy_credentials.save(PROXY_ACCOUNT, proxy, f"{user}\n{password}")
        log.info("proxy sign-in kept for %s", proxy)

    def _proxy_login(self, server: str | None = None) -> tuple[str, str] | None:
        proxy = self.proxy(server)
        if proxy is None:
            return None
        try:
            user, _, password = self.proxy_credentials.load(PROXY_ACCOUNT, proxy).partition("\n")
        except CredentialError:
            return None
        return user, password

    def token(self) -> tuple[str, str]:
        """The server and stored token; a plain error when nobody has signed in."""
        server, user = self._account()
        if not server or not user:
            raise NotSignedIn(
                tr("This device is not signed in. Run `fieldops login` or use Sync > Sign in.")
            )
        return server, self.credentials.load(user, server)

    def sync(
        self, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Sends photos and changes, then pulls the catalogue; one sync at a time."""
        if not self._lock.acquire(blocking=False):
            raise ValidationError(tr("A sync is already running."))
        try:
            server, token = self.token()
            proxy_login = self._proxy_login()
            with SyncClient(server, token=token, proxy_credentials=proxy_login) as client:
                self._client = client
                engine = SyncEngine(self.db, self.blobs, client, cancel=cancel)
                return engine.run(progress)
        finally:
            self._client = None
            self._lock.release()

    def cancel(self) -> None:
        """Stops the request under way (from any thread)."""
        client = self._client
        if client is not None:
            client.cancel()

    def reachable(self) -> bool:
        """Whether the server answers right now (a quick, unauthenticated probe)."""
        server, _ = self._account()
        if not server:
            return False
        try:
            with SyncClient(server, timeouts=PROBE_TIMEOUTS) as client:
                client.info()
            return True
        except Exception:
            return False

    def status(self) -> SyncStatus:
        """Queued work, decisions waiting, last sync and the signed-in account."""
        with self.db.read() as session:
            row = local.state(session)
            counts = local.counts(session)
            server, user = row.server_url, row.username
            last, error, offset = row.last_sync_at, row.last_error, row.clock_offset_s
        return SyncStatus(
            server=server,
            user=user,
            signed_in=bool(server and user),
            changes=counts["changes"],
            photos=counts["photos"],
            conflicts=counts["conflicts"],
            rejected=counts["rejected"],
            last_sync_at=last,
            last_error=error,
            clock_offset_s=offset,
            pulled_waiting=counts["waiting"],
        )
