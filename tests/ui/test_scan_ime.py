"""C08: an input method composing a scanner's keys is noticed, named, and never looked up.

A real Japanese or Chinese input method cannot run on this offscreen platform, so the tests
send the events one would: `QInputMethodEvent`s with pre-edit text or a non-ASCII commit,
through `QApplication.sendEvent` to the focused widget, exactly where Qt delivers them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QInputMethodEvent, QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from fieldops.services.datadir import DataDir
from fieldops.services.scanner_setup import ScannerSetup
from fieldops.ui.lanes import Lanes
from fieldops.ui.main_window import MainWindow
from fieldops.ui.scan_field import (
    LATIN_HINTS,
    InputMethodWatch,
    ScanField,
    composed_text,
    make_scan_capable,
)
from fieldops.ui.settings_dialog import SettingsDialog

WARNING = "Input method active: switch to direct (English) input to scan."


def preedit(widget: QWidget, text: str) -> None:
    """The input method showing `text` as still being composed."""
    QApplication.sendEvent(widget, QInputMethodEvent(text, []))


def commit(widget: QWidget, text: str) -> None:
    """The input method handing over finished text."""
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def press_enter(widget: QWidget) -> None:
    QTest.keyClick(widget, Qt.Key.Key_Return)


@pytest.fixture
def window(open_window, demo_data_dir: DataDir) -> MainWindow:
    shown = open_window(demo_data_dir)
    return shown


def _input_method_settings(widget: QWidget) -> tuple[bool, Qt.InputMethodHint]:
    return widget.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled), widget.inputMethodHints()


def test_scan_fields_ask_for_no_input_method_and_latin_only(window: MainWindow) -> None:
    enabled, hints = _input_method_settings(window.scan_field)
    assert enabled is False
    assert hints & Qt.InputMethodHint.ImhLatinOnly
    assert hints & Qt.InputMethodHint.ImhPreferLatin
    assert hints & Qt.InputMethodHint.ImhNoPredictiveText
    field = QLineEdit()
    make_scan_capable(field)
    assert _input_method_settings(field) == (False, LATIN_HINTS)


def test_settings_capture_and_try_field_ask_for_no_input_method(qtbot, tmp_path: Path) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    dialog = SettingsDialog(ScannerSetup(tmp_path), Lanes(host))
    qtbot.addWidget(dialog)
    for widget in (dialog.scanner_page.capture, dialog.scanner_page.try_field):
        enabled, hints = _input_method_settings(widget)
        assert enabled is False and hints & Qt.InputMethodHint.ImhLatinOnly


def test_preedit_in_the_scan_field_warns_and_looks_nothing_up(qtbot, window) -> None:
    field = window.scan_field
    entered: list[str] = []
    field.code_entered.connect(entered.append)
    field.setFocus()
    QTest.keyClicks(field, "t-004217")
    preedit(field, "い")  # Hiragana mode: the `i` is being composed
    assert window.status.currentMessage() == WARNING
    assert field.warning == WARNING
    commit(field, "い")
    field.home(False)
    press_enter(field)
    assert entered == [], "a composed value is never looked up"
    assert window.status.currentMessage() == WARNING


def test_committed_kana_is_refused_as_a_misread(qtbot, window) -> None:
    field = window.scan_field
    entered: list[str] = []
    field.code_entered.connect(entered.append)
    field.setFocus()
    commit(field, "いt-004217")
    assert field.text() == "いt-004217"
    press_enter(field)
    assert entered == [] and field.warning == WARNING
    # The next scan, in direct input, is judged on its own and looked up.
    field.clear()
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        QTest.keyClicks(field, "IT-000217")
        press_enter(field)
    assert entered == ["IT-000217"] and shown.args[0].card is not None
    assert field.warning == ""


def test_an_ascii_commit_is_no_composition(qtbot, window) -> None:
    # Some input methods in direct mode still hand keys over as committed ASCII.
    field = window.scan_field
    field.setFocus()
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        commit(field, "IT-000217")
        press_enter(field)
    assert shown.args[0].card is not None and shown.args[0].card.asset_tag == "IT-000217"


def test_a_composed_burst_outside_the_scan_field_is_refused(qtbot, window) -> None:
    # The window-wide listener's path: a burst that an input method already turned into kana.
    window.tabs.setCurrentIndex(1)
    window.incident_list.table.setFocus()
    qtbot.waitUntil(window.incident_list.table.hasFocus)
    stamp = 70_000_000
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        for char in "いt-004217\r":
            stamp += 2
            key = int(Qt.Key.Key_Return) if char == "\r" else ord(char.upper())
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
                event.setTimestamp(stamp)
                QApplication.sendEvent(window.windowHandle(), event)
    result = shown.args[0]
    assert result.card is None and result.misread is not None
    assert "input method" in result.misread.lower()
    assert window.status.currentMessage() == WARNING


def test_watch_warns_for_compositions_at_scanner_pace_only(qtbot) -> None:
    watch = InputMethodWatch()
    app = QApplication.instance()
    app.installEventFilter(watch)
    try:
        notes = QLineEdit()  # a free-text field: a person may write Japanese here
        qtbot.addWidget(notes)
        seen: list[object] = []
        watch.input_method_active.connect(seen.append)
        preedit(notes, "に")
        assert seen == [], "one composition on its own is a person typing"
        for kana in ("ほ", "ん"):  # straight after: a burst, as a scanner types
            preedit(notes, kana)
        assert seen and seen[0] is notes
        capable = QLineEdit()
        make_scan_capable(capable)
        qtbot.addWidget(capable)
        seen.clear()
        watch._last_ms = None  # a fresh start: no burst in progress
        preedit(capable, "い")
        assert seen == [capable], "in a scan-capable field any composition counts"
        seen.clear()
        commit(capable, "IT")  # ASCII arriving through the input method is fine
        assert seen == []
    finally:
        app.removeEventFilter(watch)


def test_the_settings_capture_refuses_a_composed_scan(qtbot, tmp_path: Path) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    dialog = SettingsDialog(ScannerSetup(tmp_path), Lanes(host))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    area = dialog.scanner_page.capture
    captured: list[str] = []
    area.captured.connect(captured.append)
    area.setFocus()
    preedit(area, "い")
    commit(area, "い")
    QTest.keyClicks(area, "t-004217")
    QTest.keyClick(area, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not area.pending, timeout=3000)  # the idle gap ended the scan
    assert captured == []
    assert dialog.scanner_page.problem.text() == WARNING
    assert dialog.scanner_page.candidate is None


def test_composed_text_is_told_from_other_non_ascii() -> None:
    assert composed_text("いt-004217") and composed_text("IT-00４２17") is False
    assert composed_text("ITß000217") is False  # a layout mangling, not an input method
    assert composed_text("资产-1")


def test_a_plain_scan_field_has_no_warning() -> None:
    assert ScanField().warning == ""
