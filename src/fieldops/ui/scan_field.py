"""The scan field: where a keyboard-wedge scanner's burst lands and is looked up."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

TERMINATORS = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab, Qt.Key.Key_Backtab}


def make_scan_capable(field: QLineEdit) -> None:
    """Latin input only, no input method, no prediction: a scanner's keys arrive as typed.

    The field is also marked so the window-wide scan listener leaves its keys to it.
    """
    field.setProperty("fieldops_scan_capable", True)
    field.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
    field.setInputMethodHints(
        Qt.InputMethodHint.ImhLatinOnly
        | Qt.InputMethodHint.ImhPreferLatin
        | Qt.InputMethodHint.ImhNoPredictiveText
        | Qt.InputMethodHint.ImhNoAutoUppercase
    )


class ScanField(QLineEdit):
    """A line edit that treats Enter and Tab as the end of a scan and keeps the focus."""

    # (text) the code as typed, when Enter or Tab ends it
    code_entered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_scan_capable(self)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        self.setFont(font)
        self.setClearButtonEnabled(True)
        self.setPlaceholderText(self.tr("Scan a label or type a tag or serial, then Enter"))
        self.setAccessibleName(self.tr("Scan field"))

    def event(self, event: QEvent) -> bool:
        # Tab is taken here, before Qt's focus navigation sees it: a scanner that ends codes
        # with Tab must not move the focus away from the scan field.
        is_key = event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
        if is_key and event.key() in TERMINATORS:
            self._finish()
            event.accept()
            return True
        return super().event(event)

    def _finish(self) -> None:
        text = self.text()
        if text.strip():
            self.code_entered.emit(text)
        self.selectAll()
