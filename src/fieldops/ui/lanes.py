"""Background lanes: work runs off the GUI thread and its result comes back through Qt.

The database lane has one thread, so reads and writes from the window queue up in order; the
io lane runs photo and file work in parallel. Work functions never touch widgets: they get a
`Job` to report progress and check for cancel, and their result or error is handed to
callbacks on the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Job(QObject):
    """One piece of background work: progress out, cancel in."""

    # (done, total) as the work reports it
    progressed = Signal(int, int)
    # (result) on success, on the GUI thread
    succeeded = Signal(object)
    # (exception) on failure, on the GUI thread
    failed = Signal(object)
    # always, after succeeded or failed, so buttons and progress bars come back
    finished = Signal()
    # (ok, value) from the worker thread; delivered to _deliver on the GUI thread
    _outcome = Signal(bool, object)
    # (done, total) from the worker thread; re-emitted as progressed on the GUI thread
    _progress = Signal(int, int)
    # (stage, done, total) for work with named stages, such as sync; on the GUI thread
    staged = Signal(str, int, int)
    _staged = Signal(str, int, int)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._cancel = threading.Event()
        # A bound slot of this object (which lives on the GUI thread) makes Qt queue the
        # call across threads; a plain lambda could run on the worker thread instead.
        self._outcome.connect(self._deliver)
        self._progress.connect(self._relay_progress)
        self._staged.connect(self._relay_staged)

    @Slot(str, int, int)
    def _relay_staged(self, stage: str, done: int, total: int) -> None:
        self.staged.emit(stage, done, total)

    def report_stage(self, stage: str, done: int, total: int) -> None:
        """Called by the work, from its thread, to report progress in a named stage."""
        self._staged.emit(stage, done, total)

    @Slot(int, int)
    def _relay_progress(self, done: int, total: int) -> None:
        self.progressed.emit(done, total)

    @Slot(bool, object)
    def _deliver(self, ok: bool, value: object) -> None:
        try:
            if ok:
                self.succeeded.emit(value)
            else:
                self.failed.emit(value)
        finally:
            self.finished.emit()

    def cancel(self) -> None:
        """Asks the work to stop at its next check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel was asked for."""
        return self._cancel.is_set()

    def report(self, done: int, total: int) -> None:
        """Called by the work, from its thread, to report progress."""
        self._progress.emit(done, total)


class _Runner(QRunnable):
    def __init__(self, job: Job, work: Callable[[Job], Any]) -> None:
        super().__init__()
        self.job = job
        self.work = work
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.work(self.job)
        except BaseException as exc:
            log.debug("job %s failed: %r", self.job.name, exc)
            self.job._outcome.emit(False, exc)
        else:
            self.job._outcome.emit(True, result)


class Lane(QObject):
    """A named pool of worker threads."""

    def __init__(self, name: str, threads: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._ids = itertools.count(1)
        self._live: set[Job] = set()
        self._closed = False

    def submit(
        self,
        work: Callable[[Job], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        name: str = "",
    ) -> Job:
        """Runs `work(job)` in the lane; callbacks run on the GUI thread.

        Once the lane is closed (the window is closing) new work is not started: its job is
        returned but never runs, so nothing outlives the window.
        """
        job = Job(name or f"{self.name}-{next(self._ids)}")
        if self._closed:
            log.debug("lane %s closed: %s not started", self.name, job.name)
            return job
        if on_done is not None:
            job.succeeded.connect(on_done)
        if on_error is not None:
            job.failed.connect(on_error)
        self._live.add(job)
        job.finished.connect(lambda: self._live.discard(job))
        self._pool.start(_Runner(job, work))
        return job

    def busy(self) -> bool:
        """Whether any work is queued or running."""
        return bool(self._live)

    def close(self) -> None:
        """Starts no more work; what runs already finishes."""
        self._closed = True

    @property
    def closed(self) -> bool:
        """Whether the lane has stopped taking work."""
        return self._closed

    def wait(self, msecs: int = 30_000) -> bool:
        """Waits for the lane to drain (for shutdown); True when it did."""
        return self._pool.waitForDone(msecs)


class Lanes(QObject):
    """The window's lanes: `db` (writes, serial), `read` (lookups and lists), `io` (files).

    Reads have their own lane so that a scan is answered while a save waits for the write
    lock (a large catalogue import holds it for half a minute); they read a consistent
    snapshot under SQLite's write-ahead log whatever is being written.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = Lane("db", 1, self)
        self.read = Lane("read", 1, self)
        self.io = Lane("io", 2, self)

    def close(self) -> None:
        """Starts no more work in any lane (the window is closing)."""
        for lane in (self.db, self.read, self.io):
            lane.close()

    def wait(self, msecs: int = 30_000) -> bool:
        """Waits for every lane to drain."""
        return self.db.wait(msecs) and self.read.wait(msecs) and self.io.wait(msecs)
