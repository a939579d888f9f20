"""The scan field: where a keyboard-wedge scanner's burst lands and is looked up.

An Asian input method between the scanner and the field turns a scanner's keys into kana or
hanzi (`it-004217` arrives as `いt-004217`, case C08). Scan fields ask for no input method and
Latin input only; where the platform's input method composes anyway, the composition shows as
pre-edit text or as non-ASCII committed text in a `QInputMethodEvent`. Such a value is never
looked up: the person is told to switch to direct input.
"""

from __future__ import annotations

import itertools
import logging
import time

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QInputMethodEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

from fieldops.domain.scan_errors import MisreadError, MisreadReason
from fieldops.domain.scan_text import check_input_method

log = logging.getLogger(__name__)

TERMINATORS = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab, Qt.Key.Key_Backtab}
SCAN_CAPABLE = "fieldops_scan_capable"
# A scanner's keys (and the input-method events they cause) come a few ms apart; a person's
# 80 ms or more. The scan field, serial fields and the window-wide listener all judge by these.
BURST_GAP_MS = 35
MIN_BURST_KEYS = 4
LATIN_HINTS = (
    Qt.InputMethodHint.ImhLatinOnly
    | Qt.InputMethodHint.ImhPreferLatin
    | Qt.InputMethodHint.ImhNoPredictiveText
    | Qt.InputMethodHint.ImhNoAutoUppercase
)
_WARNING_STYLE = "border: 2px solid #c62828;"


def ime_warning() -> str:
    """The sentence shown when an input method composes a scan."""
    return QCoreApplication.translate(
        "ScanField", "Input method active: switch to direct (English) input to scan."
    )


def make_scan_capable(field: QWidget) -> None:
    """Latin input only, no input method, no prediction: a scanner's keys arrive as typed.

    The field is also marked so the window-wide scan listener leaves its keys to it.
    """
    field.setProperty(SCAN_CAPABLE, True)
    field.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
    field.setInputMethodHints(LATIN_HINTS)


def is_composition(event: QInputMethodEvent) -> bool:
    """Whether an input-method event shows the input method composing, not plain Latin."""
    return bool(event.preeditString()) or not event.commitString().isascii()


def composed_text(text: str) -> bool:
    """Whether text holds characters only an input method types (kana, hanzi, hangul)."""
    try:
        check_input_method(text, text)
    except MisreadError as error:
        return error.reason is MisreadReason.INPUT_METHOD
    return False


class ScanField(QLineEdit):
    """A line edit that treats Enter and Tab as the end of a scan and keeps the focus."""

    # (text) the code as typed, when Enter or Tab ends it
    code_entered = Signal(str)
    # (sentence) when an input method composed what arrived; nothing is looked up
    input_method_active = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_scan_capable(self)
        self._composed = False
        self._warning = ""
        self._key_times: list[int] = []
        self._last_was_burst = False
        self.textChanged.connect(lambda text: text or self._key_times.clear())
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        self.setFont(font)
        self.setClearButtonEnabled(True)
        self.setPlaceholderText(self.tr("Scan a label or type a tag or serial, then Enter"))
        self.setAccessibleName(self.tr("Scan field"))

    @property
    def last_was_burst(self) -> bool:
        """Whether the last code entered came as a scanner's burst (not typed or pasted)."""
        return self._last_was_burst

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.text() and event.text().isprintable():
            stamp = int(event.timestamp())
            self._key_times.append(stamp if stamp > 0 else int(time.monotonic() * 1000))
        elif event.matches(QKeySequence.StandardKey.Paste):
            self._key_times.append(-1_000_000)  # pasted text is never a burst
        super().keyPressEvent(event)

    def _came_as_burst(self) -> bool:
        times = self._key_times
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return len(times) >= MIN_BURST_KEYS and all(0 <= g <= BURST_GAP_MS for g in gaps)

    @property
    def warning(self) -> str:
        """The input-method warning shown next to the field, or an empty string."""
        return self._warning

    def event(self, event: QEvent) -> bool:
        # Tab is taken here, before Qt's focus navigation sees it: a scanner that ends codes
        # with Tab must not move the focus away from the scan field.
        is_press = event.type() == QEvent.Type.KeyPress
        if is_press and isinstance(event, QKeyEvent) and event.key() in TERMINATORS:
            self._finish()
            event.accept()
            return True
        return super().event(event)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        if is_composition(event):
            log.info("input method composition in the scan field")
            self._warn()
        super().inputMethodEvent(event)

    def _warn(self) -> None:
        self._composed = True
        self._warning = ime_warning()
        self.setToolTip(self._warning)
        self.setStyleSheet(_WARNING_STYLE)
        self.input_method_active.emit(ime_warning())

    def _finish(self) -> None:
        text = self.text()
        self._last_was_burst = self._came_as_burst()
        self._key_times = []
        if self._composed or composed_text(text):
            self._warn()
            self._composed = False  # the next scan is judged on its own
            self.selectAll()
            return
        self._warning = ""
        self.setStyleSheet("")
        self.setToolTip("")
        if text.strip():
            self.code_entered.emit(text)
        self.selectAll()


class InputMethodWatch(QObject):
    """Application-wide watch for input methods composing a scanner's keys.

    In a scan-capable widget any composition counts. Elsewhere a person may well write in
    their own script, so only compositions arriving at scanner pace count.
    """

    # (widget) where a composition arrived that looks like a scan
    input_method_active = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last_ms: int | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.InputMethod or not isinstance(event, QInputMethodEvent):
            return False
        if not isinstance(watched, QWidget) or not is_composition(event):
            return False
        now = int(self._clock.elapsed())
        quick = self._last_ms is not None and now - self._last_ms <= BURST_GAP_MS
        self._last_ms = now
        if bool(watched.property(SCAN_CAPABLE)) or quick:
            self.input_method_active.emit(watched)
        return False
