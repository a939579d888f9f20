"""Scans wherever the focus is: a keyboard-wedge burst is told apart from typing.

A wedge scanner types a code as very fast keystrokes ending in Enter or Tab. This filter sits
on the application and looks at each key once, where Qt first delivers it to a window (a
filter on the application sees a key again for every widget it passes through, so counting
there would record characters several times). Keys meant for a scan-capable field go straight
through: the field itself handles scans. Keys for any other widget are held for a moment:
if they turn out to be a burst ending in a terminator, the whole code is handed on as a scan
and nothing is typed into the widget; otherwise they are delivered to the widget as typed,
in order, each exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QWindow
from PySide6.QtWidgets import QApplication, QWidget

from fieldops.ui.scan_field import BURST_GAP_MS, MIN_BURST_KEYS, SCAN_CAPABLE

log = logging.getLogger(__name__)

HOLD_MS = 60  # how long held keys wait for the next one before they are typed
TERMINATORS = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab}
# A scanner presses Shift around each capital letter, as a keyboard does: these keys carry no
# text and must neither end a burst nor be held.
MODIFIER_KEYS = {
    Qt.Key.Key_Shift,
    Qt.Key.Key_Control,
    Qt.Key.Key_Alt,
    Qt.Key.Key_AltGr,
    Qt.Key.Key_Meta,
    Qt.Key.Key_CapsLock,
    Qt.Key.Key_NumLock,
}


@dataclass(frozen=True)
class HeldKey:
    """A key press held back while it may be part of a scan."""

    key: int
    modifiers: Qt.KeyboardModifier
    text: str
    at_ms: int


def is_scan_capable(widget: QWidget | None) -> bool:
    """Whether the widget handles scanner bursts itself (the scan field, serial fields)."""
    return widget is not None and bool(widget.property(SCAN_CAPABLE))


class ScanListener(QObject):
    """Application-wide key filter that turns bursts outside scan fields into scans."""

    # (code, widget that had the focus) when a burst ending in a terminator arrived
    scan_received = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._held: list[HeldKey] = []
        self._target: QWidget | None = None
        self._replaying = False
        self._clock = QElapsedTimer()
        self._clock.start()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(HOLD_MS)
        self._timer.timeout.connect(self._hold_expired)
        self._armed_at = 0

    def install(self, app: QApplication) -> None:
        """Starts listening to every key of the application."""
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._replaying or event.type() != QEvent.Type.KeyPress:
            return False
        if not isinstance(watched, QWindow) or not isinstance(event, QKeyEvent):
            return False
        focus = QApplication.focusWidget()
        if focus is None or is_scan_capable(focus):
            self.release()
            return False
        return self._key(event, focus)

    def _now(self, event: QKeyEvent) -> int:
        stamp = int(event.timestamp())
        return stamp if stamp > 0 else int(self._clock.elapsed())

    def _key(self, event: QKeyEvent, focus: QWidget) -> bool:
        if event.key() in MODIFIER_KEYS:
            return False
        at = self._now(event)
        if self._held and (focus is not self._target or at - self._held[-1].at_ms > BURST_GAP_MS):
            self.release()
        if event.isAutoRepeat() and not self._held:
            # A key a person holds down. Inside a burst it is not: on X11, Qt calls a key
            # released and pressed again in the same millisecond a repeat, so a scanner's
            # doubled character ("00") is flagged as one.
            return False
        if event.key() in TERMINATORS and self._held:
            return self._terminate(event)
        printable = bool(event.text()) and event.text().isprintable()
        commands = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        if not printable or event.modifiers() & commands:
            self.release()
            return False
        self._target = focus
        self._held.append(HeldKey(event.key(), event.modifiers(), event.text(), at))
        self._hold()
        return True

    def _hold(self) -> None:
        self._armed_at = int(self._clock.elapsed())
        self._timer.start()

    def _hold_expired(self) -> None:
        if int(self._clock.elapsed()) - self._armed_at > 2 * HOLD_MS:
            # The window was busy when the hold ran out, so the rest of a burst may still
            # wait to be read: a stalled event loop runs overdue timers before queued keys.
            # One more hold lets those keys arrive; their time stamps then decide.
            self._hold()
            return
        self.release()

    def _terminate(self, event: QKeyEvent) -> bool:
        code = "".join(k.text for k in self._held)
        if len(code) < MIN_BURST_KEYS:
            self.release()
            return False
        target = self._target
        self._held.clear()
        self._timer.stop()
        log.debug("scan burst outside a scan field: %r", code)
        self.scan_received.emit(code, target)
        return True

    def release(self) -> None:
        """Types the held keys into the widget they were meant for, in order."""
        self._timer.stop()
        held, target = self._held, self._target
        self._held, self._target = [], None
        if not held or target is None:
            return
        self._replaying = True
        try:
            for key in held:
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(
                        target, QKeyEvent(kind, key.key, key.modifiers, key.text)
                    )
        finally:
            self._replaying = False
