"""The status bar's sync part: online or not, what waits, the last sync, decisions waiting."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from fieldops.services.sync_service import SyncStatus


class SyncBar(QWidget):
    """Shows sync state; a progress bar with Cancel while a sync runs."""

    # () when the person clicks the conflicts and rejections count
    review_requested = Signal()
    # () when the person cancels a running sync
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.online = QLabel()
        self.waiting = QLabel()
        self.last = QLabel()
        self.decisions = QPushButton()
        self.decisions.setFlat(True)
        self.decisions.setStyleSheet("color:#b71c1c; font-weight:bold;")
        self.decisions.setCursor(Qt.CursorShape.PointingHandCursor)
        self.decisions.clicked.connect(self.review_requested)
        self.decisions.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setVisible(False)
        self.cancel = QPushButton(self.tr("Cancel"))
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(self.cancel_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.online,
            self.waiting,
            self.last,
            self.decisions,
            self.progress,
            self.cancel,
        ):
            row.addWidget(widget)
        self.set_online(None)

    def set_online(self, online: bool | None, detail: str = "") -> None:
        """● Online, ○ Offline (with why), or not set up."""
        if online is None:
            self.online.setText(self.tr("Sync not set up"))
            self.online.setStyleSheet("color:#607d8b;")
        elif online:
            self.online.setText(self.tr("● Online"))
            self.online.setStyleSheet("color:#2e7d32; font-weight:bold;")
        else:
            self.online.setText(self.tr("○ Offline"))
            self.online.setStyleSheet("color:#ef6c00; font-weight:bold;")
        self.online.setToolTip(detail)

    def show_status(self, status: SyncStatus) -> None:
        """What waits to be sent, the last sync, and what needs a decision."""
        self.waiting.setText(
            self.tr("{changes} changes, {photos} photos waiting").format(
                changes=status.changes, photos=status.photos
            )
        )
        when = (
            status.last_sync_at.astimezone().strftime("%Y-%m-%d %H:%M")
            if status.last_sync_at
            else self.tr("never")
        )
        text = self.tr("Last sync: {when}").format(when=when)
        if status.clock_warning:
            text += "  " + self.tr("⚠ clock {offset:+.0f} s off").format(
                offset=status.clock_offset_s
            )
        self.last.setText(text)
        self.last.setToolTip(status.last_error)
        pending = status.conflicts + status.rejected
        self.decisions.setText(
            self.tr("{conflicts} conflicts, {rejected} rejected").format(
                conflicts=status.conflicts, rejected=status.rejected
            )
        )
        self.decisions.setVisible(pending > 0)

    def show_running(self, running: bool) -> None:
        """Progress bar and Cancel while a sync runs."""
        self.progress.setVisible(running)
        self.cancel.setVisible(running)
        self.progress.setRange(0, 0)

    def show_progress(self, step: str, done: int, total: int) -> None:
        """How far the current step is."""
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{step} %v/%m")
