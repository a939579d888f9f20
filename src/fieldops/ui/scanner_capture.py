"""Recording exactly what a scanner types, and drawing the test labels it scans.

The capture area keeps every character a scan sends, the prefix and the terminator (Enter,
Tab, line feed) included, because they are what the scanner profile learns. A scan ends when
the keys stop for a moment, not on Enter. GS (0x1D) reaches Qt as Ctrl+] from many wedge
scanners and as the control character itself from others: both are recorded as GS.
"""

from __future__ import annotations

import logging

import numpy as np
import zxingcpp
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QInputMethodEvent, QKeyEvent, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from fieldops.ui.scan_field import is_composition, make_scan_capable

log = logging.getLogger(__name__)

IDLE_END_MS = 300  # a scanner's keys come a few ms apart; a pause this long ends the scan
MAX_CAPTURE = 2000  # characters; the test label is about 110

_NAMED = {
    "\r": "⏎CR",
    "\n": "↵LF",
    "\t": "⇥TAB",
    "\x1d": "⟨GS⟩",
    "\x1e": "⟨RS⟩",
    "\x04": "⟨EOT⟩",
    "\x1b": "⟨ESC⟩",
}
_ENDING_KEYS = {
    Qt.Key.Key_Return: "\r",
    Qt.Key.Key_Enter: "\r",
    Qt.Key.Key_Tab: "\t",
    Qt.Key.Key_Backtab: "\t",
}


def visible(text: str) -> str:
    """The text with control characters spelt out, so a person can see each one."""
    out = []
    for char in text:
        if char in _NAMED:
            out.append(_NAMED[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"⟨{ord(char):02X}⟩")
        else:
            out.append(char)
    return "".join(out)


def key_text(event: QKeyEvent) -> str:
    """The character a key press stands for, control characters included."""
    key = event.key()
    if key in _ENDING_KEYS:
        return _ENDING_KEYS[Qt.Key(key)]
    text = event.text()
    control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
    if control and (not text or text.isprintable()):
        # Ctrl+@ .. Ctrl+_ are the C0 control characters; wedges type GS as Ctrl+].
        if int(Qt.Key.Key_At) <= key <= int(Qt.Key.Key_Underscore):
            return chr(key - 0x40)
        return ""
    return text


class CaptureArea(QFrame):
    """A box that records a scanner's keys exactly and hands on each scan after a pause."""

    # (text) everything one scan sent, terminator included
    captured = Signal(str)
    # () an input method composed the scanner's keys
    input_method_active = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_scan_capable(self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("capture")
        self.setStyleSheet(
            "#capture { border: 2px dashed #90a4ae; border-radius: 6px; background: #fafafa; }"
            "#capture:focus { border: 2px solid #1565c0; background: #e3f2fd; }"
        )
        self.setMinimumHeight(90)
        self.setAccessibleName(self.tr("Scanner capture area"))
        self._chars: list[str] = []
        self._composed = False
        self._shown = QLabel()
        self._shown.setWordWrap(True)
        self._shown.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.addWidget(self._shown)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(IDLE_END_MS)
        self._timer.timeout.connect(self._end)
        self.show_text("")

    @property
    def pending(self) -> str:
        """What arrived so far in the scan that is still coming in."""
        return "".join(self._chars)

    def show_text(self, text: str) -> None:
        """Shows a scan as it arrived, control characters spelt out."""
        if text:
            self._shown.setText(visible(text))
            self._shown.setStyleSheet("font-family: monospace; color: #212121;")
        else:
            self._shown.setText(self.tr("Click here, then scan the test label."))
            self._shown.setStyleSheet("color: #607d8b;")

    def event(self, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.key() != Qt.Key.Key_Escape:
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # Ctrl+] and the like are characters here, not shortcuts
                return True
            if event.type() == QEvent.Type.KeyPress:
                self._key(event)
                return True
        return super().event(event)

    def _key(self, event: QKeyEvent) -> None:
        char = key_text(event)
        if not char or len(self._chars) >= MAX_CAPTURE:
            return
        self._chars.append(char)
        self._shown.setText(visible(self.pending))
        self._timer.start()

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        # The area asks for no input method; one that composes anyway spoils the scan.
        if is_composition(event):
            self._composed = True
            self.input_method_active.emit()
        if event.commitString():
            self._chars.append(event.commitString())
            self._timer.start()
        event.accept()

    def _end(self) -> None:
        text, composed = self.pending, self._composed
        self._chars, self._composed = [], False
        if composed:
            self.show_text(text)
            return
        if text:
            log.debug("scanner capture: %r", text)
            self.captured.emit(text)


def barcode_pixmap(
    text: str, fmt: zxingcpp.BarcodeFormat, scale: int, *, height: int = 0, gs1: bool = False
) -> QPixmap:
    """A barcode drawn by zxing-cpp, `scale` screen pixels per module, sharp edges."""
    options = {"gs1": True} if gs1 else {}
    barcode = zxingcpp.create_barcode(text, fmt, **options)
    pixels = np.ascontiguousarray(np.array(barcode.to_image(scale=1)), dtype=np.uint8)
    rows, columns = pixels.shape
    image = QImage(pixels.data, columns, rows, columns, QImage.Format.Format_Grayscale8).copy()
    target_height = height or rows * scale
    image = image.scaled(
        columns * scale,
        target_height,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )
    return QPixmap.fromImage(image)
