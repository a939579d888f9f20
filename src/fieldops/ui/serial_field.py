"""A field that expects one scanned serial and hands the focus on when the scan ends.

Scanners end a code with Enter, Tab, CR+LF or nothing at all. Whatever the suffix, the field
says it is complete once (`completed`), the form moves the focus to the next field it
expects, and no terminator ever reaches a button: Enter here never submits the form. The LF
of a CR+LF pair, arriving a moment after the CR, is swallowed. A burst with no suffix is
complete after a short idle time; a person typing slowly is never hurried on.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from fieldops.ui.scan_field import BURST_GAP_MS, MIN_BURST_KEYS, make_scan_capable

ENTER_KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter}
TAB_KEYS = {Qt.Key.Key_Tab, Qt.Key.Key_Backtab}
IDLE_END_MS = 300  # a burst with no suffix ends after this much quiet
PAIR_MS = 80  # a second terminator this soon after the first belongs to the same scan

# When any serial field last completed: the LF of a CR+LF reaches the field the focus moved
# to, so the pairing is kept across fields.
_last_end_ms = -10_000
_typed_since_end = False


def _clock_ms() -> int:
    return int(time.monotonic() * 1000)


class SerialField(QLineEdit):
    """One serial, scanned or typed; Enter, Tab or a finished burst completes it."""

    # (text) when the scan or the typing is complete and the form should move on
    completed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_scan_capable(self)
        self._last_key_ms: int | None = None
        self._burst = 0  # characters that came as one fast run
        self._keys = 0  # characters since the last completion
        self.came_as_burst = False
        """Whether the last completed text came as a scanner's burst (not typed or pasted)."""
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_END_MS)
        self._idle.timeout.connect(self._idle_end)

    def event(self, event: QEvent) -> bool:
        # Terminators are taken before Qt's focus navigation and the dialog's default button
        # see them: a scanner's Enter or Tab must never submit or jump somewhere else.
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in ENTER_KEYS or key in TAB_KEYS:
                return self._terminator(event)
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (
            event.text()
            and event.text().isprintable()
            and not event.modifiers()
            & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        ):
            self._count(event)
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        # A scan into a filled field replaces its text instead of appending to it.
        QTimer.singleShot(0, self.selectAll)

    def _count(self, event: QKeyEvent) -> None:
        global _typed_since_end
        _typed_since_end = True
        # One clock for every field: key time stamps of different windows need not agree.
        at = _clock_ms()
        fast = self._last_key_ms is not None and at - self._last_key_ms <= BURST_GAP_MS
        self._burst = self._burst + 1 if fast else 1
        self._keys += 1
        self._last_key_ms = at
        if self._burst >= MIN_BURST_KEYS:
            self._idle.start()
        else:
            self._idle.stop()

    def _terminator(self, event: QKeyEvent) -> bool:
        event.accept()
        now = _clock_ms()
        self._idle.stop()
        paired = not _typed_since_end and now - _last_end_ms <= PAIR_MS
        if paired or not self.text().strip():
            if not paired and event.key() in TAB_KEYS:
                # Tab in an empty field is a person moving on, not the end of a scan.
                self.focusNextPrevChild(event.key() == Qt.Key.Key_Tab)
            return True
        self._finish(now)
        return True

    def _idle_end(self) -> None:
        if self.text().strip():
            self._finish(_clock_ms())

    def _finish(self, at_ms: int) -> None:
        global _last_end_ms, _typed_since_end
        _last_end_ms, _typed_since_end = at_ms, False
        self.came_as_burst = self._burst >= MIN_BURST_KEYS and self._burst == self._keys
        self._keys = 0
        self._burst = 0
        self._last_key_ms = None
        self.completed.emit(self.text().strip())
