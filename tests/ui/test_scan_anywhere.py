"""Scans wherever the focus is, each character once, and typing left alone (C07, C06, C09)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QGroupBox, QLineEdit, QTabWidget, QVBoxLayout

from fieldops.ui.incident_dialog import IncidentDialog
from fieldops.ui.main_window import MainWindow

CODE = "MX-HT7030Z2200004519"


_clock = [10_000_000]


def send_key(window, key: int, text: str, gap_ms: int) -> None:
    """One key through the window handle, stamped as the operating system stamps it."""
    _clock[0] += gap_ms
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text)
        event.setTimestamp(_clock[0])
        QApplication.sendEvent(window.windowHandle(), event)


def burst(window, text: str, gap_ms: int = 2) -> None:
    """A wedge scanner's burst: characters 2 ms apart by their time stamps, then Enter.

    The stamps, not the test's own pace, decide: a window busy for a moment between two keys
    of a real scan still sees them 2 ms apart.
    """
    for char in text:
        send_key(window, ord(char.upper()), char, gap_ms)
    send_key(window, int(Qt.Key.Key_Return), "\r", gap_ms)


def test_scan_with_focus_in_the_incident_table_shows_the_asset(qtbot, window: MainWindow) -> None:
    window.tabs.setCurrentIndex(1)
    window.incident_list.table.setFocus()
    qtbot.waitUntil(lambda: window.incident_list.table.hasFocus())
    seen: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: seen.append(code))
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        burst(window, "IT-000217")
    assert seen == ["IT-000217"]
    assert shown.args[0].card.asset_tag == "IT-000217"
    assert window.tabs.currentIndex() == 0 and window.scan_field.text() == "IT-000217"


def test_nested_field_gets_each_character_once(qtbot, window: MainWindow) -> None:
    # A line edit inside a group box inside a tab, as in C07: the burst is captured once.
    tabs = QTabWidget()
    box = QGroupBox("nested")
    field = QLineEdit()
    QVBoxLayout(box).addWidget(field)
    tabs.addTab(box, "tab")
    window.tabs.addTab(tabs, "extra")
    window.tabs.setCurrentWidget(tabs)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    seen: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: seen.append(code))
    for count in range(1, 21):
        window.tabs.setCurrentWidget(tabs)  # a scan shows the asset tab: come back each time
        field.setFocus()
        qtbot.waitUntil(field.hasFocus)
        with qtbot.waitSignal(window.lookup_shown, timeout=5000) as shown:
            burst(window, CODE)
        assert len(seen) == count and shown.args[0].code == CODE
    assert seen == [CODE] * 20
    assert field.text() == "", "a scan is never typed into a free-text field"


def test_slow_typing_is_kept_exactly(qtbot, window: MainWindow) -> None:
    window.scan_field.setText("IT-000217")
    window.look_up("IT-000217")
    qtbot.waitUntil(lambda: window.card.card is not None, timeout=10_000)
    window.new_incident()
    dialog = window._dialogs[-1]
    assert isinstance(dialog, IncidentDialog)
    dialog.title.setFocus()
    qtbot.waitUntil(dialog.title.hasFocus)
    seen: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: seen.append(code))
    typed = ""
    for char in "Pa*ss-01 fan":
        send_key(dialog, ord(char.upper()), char, 90)  # a person: 90 ms between keys
        typed += char
        qtbot.waitUntil(lambda t=typed: dialog.title.text() == t, timeout=5000)
    assert seen == []


def test_scan_into_a_form_is_not_typed_there(qtbot, window: MainWindow) -> None:
    window.scan_field.setText("IT-000217")
    window.look_up("IT-000217")
    qtbot.waitUntil(lambda: window.card.card is not None, timeout=10_000)
    window.new_incident()
    dialog = window._dialogs[-1]
    dialog.description.setFocus()
    qtbot.waitUntil(dialog.description.hasFocus)
    burst(dialog, "5CG5678NEW")
    qtbot.waitUntil(lambda: "5CG5678NEW" in dialog.problem.text(), timeout=5000)
    assert dialog.description.toPlainText() == ""
    assert QApplication.focusWidget() is dialog.description


def test_keys_in_the_scan_field_are_left_to_it(qtbot, window: MainWindow) -> None:
    seen: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: seen.append(code))
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000):
        burst(window, "003271")
    assert seen == []  # the scan field handled it
    assert window.card.card.asset_tag == "003271"


def test_scans_survive_a_busy_window(qtbot, window: MainWindow) -> None:
    """C06: 200 scans, the GUI thread blocked for 300 ms in the middle of every fifth one."""
    import time

    window.tabs.setCurrentIndex(1)
    seen: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: seen.append(code))
    code = "1234ABCDE12345678"
    for n in range(200):
        window.tabs.setCurrentIndex(1)
        window.incident_list.table.setFocus()
        qtbot.waitUntil(window.incident_list.table.hasFocus)
        for index, char in enumerate(code):
            if n % 5 == 0 and index == 8:
                busy_until = time.perf_counter() + 0.3  # the window is busy: keys queue up
                while time.perf_counter() < busy_until:
                    pass
            send_key(window, ord(char), char, 2)
        with qtbot.waitSignal(window.lookup_shown, timeout=5000):
            send_key(window, int(Qt.Key.Key_Return), "\r", 2)
    assert seen == [code] * 200


def test_a_long_url_arrives_whole_and_typing_afterwards_is_plain(qtbot, window) -> None:
    """C06: a 120-character QR URL in one burst; no Shift state is left behind."""
    url = "https://assets.example.invalid/a/IT-004217?sn=5CG1234OLD&site=HQ-03&ts=20250203T101500Z"
    window.tabs.setCurrentIndex(1)
    window.incident_list.table.setFocus()
    qtbot.waitUntil(window.incident_list.table.hasFocus)
    seen: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: seen.append(code))
    with qtbot.waitSignal(window.lookup_shown, timeout=5000):
        for char in url:
            send_key(window, ord(char.upper()), char, 1)
        send_key(window, int(Qt.Key.Key_Return), "\r", 1)
    assert seen == [url]
    window.new_incident()
    dialog = window._dialogs[-1]
    qtbot.waitUntil(dialog.title.hasFocus)
    for char in "psu dead":
        send_key(dialog, ord(char.upper()), char, 150)  # a person's pace
    qtbot.waitUntil(lambda: dialog.title.text() == "psu dead", timeout=3000)
