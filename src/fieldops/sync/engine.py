"""The sync engine: photos up, then queued changes in order, then the catalogue down.

It runs in a background lane (never on the GUI thread) and is the same for the window and
`fieldops sync`. Each step is saved as it completes, so a sync cut off by a lost network or a
killed process resumes where it stopped and never sends a change twice (the server
acknowledges a replayed mutation id without applying it again).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.times import utcnow
from fieldops.protocol.errors import ErrorCode
from fieldops.protocol.messages import BlobStatus, PullResponse, PushRequest, PushResponse
from fieldops.protocol.version import PROTOCOL_VERSION
from fieldops.store.blobs import BlobStore
from fieldops.store.database import Database
from fieldops.sync import local
from fieldops.sync.errors import Conflict, OffsetMismatch, ResyncRequired, SequenceGap

log = logging.getLogger(__name__)

PUSH_BATCH = 200
PULL_LIMIT = 250
CLOCK_WARNING_S = 300.0
Progress = Callable[[str, int, int], None]


class Transport(Protocol):
    """What the engine needs from the HTTP client (fieldops.sync.transport.SyncClient)."""

    def push(self, request: PushRequest) -> PushResponse: ...

    def pull(self, cursor: int = 0, limit: int = PULL_LIMIT) -> PullResponse: ...

    def blob_status(self, sha256: str) -> BlobStatus: ...

    def upload_blob(
        self,
        sha256: str,
        source: Path | bytes,
        offset: int = 0,
        progress: Callable[[int, int], None] | None = None,
    ) -> BlobStatus: ...


class SyncCancelled(FieldOpsError):
    """The person stopped the sync; what was done so far is kept."""

    code = "sync_cancelled"


@dataclass
class SyncReport:
    """What one sync did."""

    photos_sent: int = 0
    changes_sent: int = 0
    conflicts: int = 0
    rejected: int = 0
    pulled: int = 0
    started_afresh: bool = False
    clock_offset_s: float | None = None
    numbers: dict[str, str] = field(default_factory=dict)

    @property
    def clock_warning(self) -> bool:
        """Whether this device's clock is more than five minutes off the server's."""
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > CLOCK_WARNING_S


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is worth retrying after a pause (network, busy server)."""
    return bool(getattr(exc, "transient", False))


class SyncEngine:
    """Drains the photo queue and the outbox, then pulls; one run at a time per data directory."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        transport: Transport,
        *,
        attempts: int = 4,
        backoff_s: float = 0.5,
        cancel: threading.Event | None = None,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.transport = transport
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.cancel = cancel or threading.Event()

    def run(self, progress: Progress | None = None) -> SyncReport:
        """One whole sync; transient failures are retried with backoff, then reported."""
        report = SyncReport()
        self._retrying(lambda: self._photos(report, progress))
        self._retrying(lambda: self._push(report, progress))
        self._retrying(lambda: self._pull(report, progress))
        with self.db.read() as session:
            report.clock_offset_s = local.state(session).clock_offset_s

        def finish(session: Session) -> None:
            row = local.state(session)
            row.last_sync_at = utcnow()
            row.last_error = ""

        self.db.write(finish)
        log.info(
            "sync done: %d photos, %d changes sent, %d conflicts, %d rejected, %d pulled",
            report.photos_sent,
            report.changes_sent,
            report.conflicts,
            report.rejected,
            report.pulled,
        )
        return report

    # -- steps --------------------------------------------------------------------------------

    def _photos(self, report: SyncReport, progress: Progress | None) -> None:
        with self.db.read() as session:
            queue = [b.sha256 for b in local.pending_blobs(session)]
        for index, sha256 in enumerate(queue):
            self._check_cancel()
            complete = self._upload(sha256)
            if complete:
                self.db.write(partial(local.mark_blob_done, sha256=sha256))
                report.photos_sent += 1
            if progress:
                progress("photos", index + 1, len(queue))

    def _upload(self, sha256: str) -> bool:
        """Sends one photo file from where the server's copy ends; True when it is whole."""
        path = self.blobs.path_for(sha256)
        held = self.transport.blob_status(sha256)
        for _ in range(3):
            if held.complete:
                return True
            try:
                held = self.transport.upload_blob(sha256, path, held.offset, self._moved)
            except OffsetMismatch as mismatch:
                held = BlobStatus(sha256=sha256, offset=mismatch.offset or 0, complete=False)
        return held.complete

    def _moved(self, _done: int, _total: int) -> None:
        self._check_cancel()

    def _push(self, report: SyncReport, progress: Progress | None) -> None:
        stalled = 0
        while stalled < 3:
            self._check_cancel()
            with self.db.read() as session:
                st = local.state(session)
                client_id, seq_base = st.client_id, st.seq_base
                rows = local.pending_rows(session, PUSH_BATCH)
                remaining = local.counts(session)["changes"]
            if not rows:
                return
            request = PushRequest(
                client_id=client_id,
                protocol_version=PROTOCOL_VERSION,
                mutations=[local.to_mutation(r, seq_base) for r in rows],
            )
            try:
                response = self.transport.push(request)
            except SequenceGap:
                self._start_afresh(report, None)
                continue
            except Conflict as clash:
                if clash.server_code == ErrorCode.MUTATION_CHANGED and clash.body is not None:
                    # The server holds this change id with other content (it was restored and
                    # the device renumbered): set it aside for the person so the rest can go.
                    changed = clash.body.mutation_id or ""
                    self.db.write(
                        partial(local.set_aside, mutation_id=changed, reason=clash.message)
                    )
                    report.rejected += 1
                    continue
                if clash.server_code != ErrorCode.SEQUENCE_REUSED:
                    raise
                # Another device pushed under this client id (a copied data directory):
                # this one takes a new id and sends its unsent changes under it.
                self._start_afresh(report, None)
                continue
            # The answer is the current server's, so it is recorded even when the epoch moved.
            tally = self.db.write(partial(local.apply_push, response=response, seq_base=seq_base))
            if self._epoch_changed(response.epoch):
                self._start_afresh(report, response.epoch)
            report.changes_sent += tally.applied
            report.conflicts += tally.conflicts
            report.rejected += tally.rejected
            report.numbers.update(tally.numbers)
            if progress:
                progress("changes", report.changes_sent, report.changes_sent + remaining)
            if response.missing_blobs:
                # A change refers to a photo the server does not have yet: send it, go on.
                self._photos(report, progress)
            stalled = 0 if response.results else stalled + 1

    def _pull(self, report: SyncReport, progress: Progress | None) -> None:
        while True:
            self._check_cancel()
            with self.db.read() as session:
                cursor = local.state(session).cursor
            try:
                page = self.transport.pull(cursor, PULL_LIMIT)
            except ResyncRequired:
                log.warning("cursor %d is too old; pulling everything again", cursor)
                self.db.write(lambda s: setattr(local.state(s), "cursor", 0))
                continue
            if self._epoch_changed(page.epoch):
                self._start_afresh(report, page.epoch)
                self._push(report, progress)
                continue
            report.pulled += self.db.write(partial(local.apply_page, page=page))
            if progress:
                progress(
                    "catalogue", report.pulled, report.pulled + (PULL_LIMIT if page.has_more else 0)
                )
            if not page.has_more:
                return

    # -- helpers ------------------------------------------------------------------------------

    def _epoch_changed(self, epoch: str) -> bool:
        with self.db.read() as session:
            known = local.state(session).epoch
        if not known:
            self.db.write(lambda s: setattr(local.state(s), "epoch", epoch))
            return False
        return known != epoch

    def _start_afresh(self, report: SyncReport, epoch: str | None) -> None:
        with self.db.read() as session:
            current = local.state(session).epoch
        self.db.write(lambda s: local.start_afresh(s, epoch or current))
        report.started_afresh = True

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise SyncCancelled("Sync was stopped; what was sent so far is kept.")

    def _retrying(self, step: Callable[[], None]) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                step()
                return
            except Exception as exc:
                if not is_transient(exc) or attempt == self.attempts:
                    self._remember(exc)
                    raise
                jitter = 0.5 + random.random()  # noqa: S311 - spreading retries, not secrets
                pause = self.backoff_s * (2 ** (attempt - 1)) * jitter
                log.info(
                    "sync step failed (%s); retry %d in %.1f s", type(exc).__name__, attempt, pause
                )
                if self.cancel.wait(pause):
                    raise SyncCancelled("Sync was stopped; what was sent so far is kept.") from exc

    def _remember(self, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, FieldOpsError) else type(exc).__name__
        try:
            self.db.write(lambda s: setattr(local.state(s), "last_error", message))
        except Exception:  # the database itself may be what failed
            log.exception("could not record the sync failure")
