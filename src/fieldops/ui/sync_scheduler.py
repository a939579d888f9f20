"""When to sync: on demand, soon after a change, and when the server becomes reachable.

A gentle probe (every minute, or at once when the operating system says the network
changed) checks whether the server answers; when it does and work is waiting, a sync starts.
Everything runs in the window's io lane; only the results touch widgets.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QInputDialog, QLineEdit

from fieldops.services.sync_service import NotSignedIn, SyncStatus
from fieldops.sync.engine import SyncCancelled, SyncReport
from fieldops.sync.errors import ProxyAuthRequired, SignInRequired, UpgradeRequired
from fieldops.ui.errors import describe_error

if TYPE_CHECKING:
    from fieldops.ui.main_window import MainWindow

log = logging.getLogger(__name__)

PROBE_MS = 60_000
SOON_MS = 3_000


class SyncScheduler(QObject):
    """Starts syncs for the main window and shows their progress and outcome."""

    # (SyncReport) after a sync finished
    sync_finished = Signal(object)
    # (message) after a sync failed, with the sentence shown
    sync_failed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.status: SyncStatus | None = None
        self.running = False
        self.online: bool | None = None
        self._cancel = threading.Event()
        self._probe = QTimer(self)
        self._probe.setInterval(PROBE_MS)
        self._probe.timeout.connect(self.probe)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(SOON_MS)
        self._soon.timeout.connect(lambda: self.start(manual=False))
        self._watch_network()

    def _watch_network(self) -> None:
        try:
            from PySide6.QtNetwork import QNetworkInformation

            if QNetworkInformation.loadDefaultBackend():
                info = QNetworkInformation.instance()
                info.reachabilityChanged.connect(lambda _r: self.probe())
        except (ImportError, RuntimeError):  # no backend on this system: the timer suffices
            log.info("no network change notifications here; probing every minute")

    def begin(self) -> None:
        """Starts the periodic probe once the workspace is open."""
        self._probe.start()
        self.probe()

    def stop(self) -> None:
        """Stops probing and cancels a running sync (at quit)."""
        self._probe.stop()
        self._soon.stop()
        self.cancel()

    def soon(self) -> None:
        """A change was saved: sync in a few seconds if the server is reachable."""
        if self.online:
            self._soon.start()

    def probe(self) -> None:
        """Asks, off the GUI thread, whether the server answers; syncs when work waits."""
        workspace = self.window.workspace
        if workspace is None or self.running or not (self.status and self.status.signed_in):
            return
        self.window.lanes.io.submit(
            lambda job: workspace.sync.reachable(), self._probed, name="probe"
        )

    def _probed(self, reachable: bool) -> None:
        was = self.online
        self.online = reachable
        self.window.sync_bar.set_online(reachable)
        waiting = self.status is not None and (self.status.changes or self.status.photos)
        if reachable and (waiting or was is False):
            self.start(manual=False)

    def start(self, manual: bool = False) -> None:
        """Runs one sync in the io lane, with progress and Cancel in the status bar."""
        workspace = self.window.workspace
        if workspace is None or self.running:
            return
        if not (self.status and self.status.signed_in):
            if manual:
                self.window.sign_in()
            return
        self.running = True
        self._cancel.clear()
        self.window.sync_bar.show_running(True)
        cancel = self._cancel
        job = self.window.lanes.io.submit(
            lambda job: workspace.sync.sync(
                lambda stage, done, total: job.report_stage(stage, done, total), cancel
            ),
            self._done,
            lambda exc: self._failed(exc, manual),
            name="sync",
        )
        job.staged.connect(self._staged)

    def _staged(self, stage: str, done: int, total: int) -> None:
        names = {
            "photos": self.tr("Photos"),
            "changes": self.tr("Changes"),
            "catalogue": self.tr("Catalogue"),
        }
        self.window.sync_bar.show_progress(names.get(stage, stage), done, total)

    def cancel(self) -> None:
        """Stops the running sync at its next step and aborts the request under way."""
        if not self.running:
            return
        self._cancel.set()
        workspace = self.window.workspace
        if workspace is not None:
            workspace.sync.cancel()

    def _done(self, report: SyncReport) -> None:
        self._finish()
        self.online = True
        self.window.sync_bar.set_online(True)
        text = self.tr(
            "Synced: {sent} changes and {photos} photos sent, {pulled} received."
        ).format(sent=report.changes_sent, photos=report.photos_sent, pulled=report.pulled)
        if report.conflicts or report.rejected:
            text += " " + self.tr("Some changes need a decision (click the red count).")
        self.window.status.showMessage(text, 10_000)
        self.window.refresh()
        self.sync_finished.emit(report)

    def _failed(self, exc: BaseException, manual: bool) -> None:
        self._finish()
        message = describe_error(exc)
        if isinstance(exc, SyncCancelled):
            self.window.status.showMessage(message, 8000)
        elif isinstance(exc, NotSignedIn | SignInRequired):
            self.window.status.showMessage(message, 10_000)
            if manual or isinstance(exc, SignInRequired):
                self.window.sign_in()
        elif isinstance(exc, UpgradeRequired):
            self.window.status.showMessage(message)
        elif isinstance(exc, ProxyAuthRequired):
            self.window.sync_bar.set_online(False, message)
            self.window.status.showMessage(message, 15_000)
            if manual:
                self.ask_proxy_login()
        else:
            offline = bool(getattr(exc, "offline", False))
            self.online = False if offline else self.online
            self.window.sync_bar.set_online(False, message)
            self.window.status.showMessage(message, 15_000)
        self.window.refresh()
        self.sync_failed.emit(message)

    def ask_proxy_login(self) -> None:
        """Asks for the proxy's user name and password, keeps them, and syncs again."""
        workspace = self.window.workspace
        if workspace is None:
            return
        user, ok = QInputDialog.getText(
            self.window,
            self.tr("Proxy sign-in"),
            self.tr("The company proxy asks for a user name:"),
        )
        if not ok or not user:
            return
        password, ok = QInputDialog.getText(
            self.window,
            self.tr("Proxy sign-in"),
            self.tr("Password for {user} at the proxy:").format(user=user),
            QLineEdit.EchoMode.Password,
        )
        if not ok:
            return
        self.window.lanes.io.submit(
            lambda job: workspace.sync.set_proxy_login(user, password),
            lambda _r: self.start(manual=True),
            lambda exc: self.window.status.showMessage(describe_error(exc), 10_000),
        )

    def _finish(self) -> None:
        self.running = False
        self.window.sync_bar.show_running(False)
