"""What the real X11 key path showed, replayed in process so it runs without an X server (C07).

Typing through the X server differs from plain key events in three ways the listener must
take: Shift is pressed and released around every capital letter; Qt flags a key released and
pressed again in the same millisecond (a doubled character like "00") as a key repeat; and a
window stalled in the middle of a burst runs its overdue hold timer before the keys that
queued up meanwhile.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from fieldops.services.datadir import DataDir
from fieldops.ui.main_window import MainWindow

SERIAL = "MX-HT7030Z2200004519"
SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier


class XKeys:
    """Key events through the window handle, ordered and stamped as the X server sends them."""

    def __init__(self, window: MainWindow) -> None:
        self.handle = window.windowHandle()
        self.clock = 50_000_000
        self.last_key: int | None = None

    def send(self, kind: QEvent.Type, key: int, mods: Qt.KeyboardModifier, text: str, gap: int):
        """One event, `gap` ms after the previous one."""
        self.clock += gap
        # Qt on X11 calls a press of the key just released, in the same millisecond, a repeat.
        repeat = kind == QEvent.Type.KeyPress and key == self.last_key and gap == 0
        event = QKeyEvent(kind, key, mods, text, repeat)
        event.setTimestamp(self.clock)
        QApplication.sendEvent(self.handle, event)
        if kind == QEvent.Type.KeyRelease:
            self.last_key = key

    def type(self, text: str, gap: int = 0) -> None:
        """Characters as xdotool types them with no delay: Shift around each capital."""
        press, release = QEvent.Type.KeyPress, QEvent.Type.KeyRelease
        for char in text:
            key = ord(char.upper())
            if char.isupper():
                self.send(press, int(Qt.Key.Key_Shift), SHIFT, "", gap)
                self.send(press, key, SHIFT, char, 0)
                self.send(release, int(Qt.Key.Key_Shift), NONE, "", 0)
                self.send(release, key, NONE, char.lower(), 0)
            else:
                self.send(press, key, NONE, char, gap)
                self.send(release, key, NONE, char, 0)

    def enter(self) -> None:
        """The terminator a scanner sends."""
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            self.send(kind, int(Qt.Key.Key_Return), NONE, "\r", 1)


@pytest.fixture
def field(qtbot, open_window, demo_data_dir: DataDir) -> tuple[MainWindow, QLineEdit]:
    """The main window with the focus in a plain text field on a tab of its own."""
    window = open_window(demo_data_dir)
    text = QLineEdit()
    window.tabs.addTab(text, "notes")
    window.tabs.setCurrentWidget(text)
    text.setFocus()
    qtbot.waitUntil(text.hasFocus)
    return window, text


def scans_of(window: MainWindow) -> list[str]:
    """Collects every scan the window-wide listener hands on."""
    seen: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: seen.append(code))
    return seen


def test_shift_around_capitals_keeps_the_burst_whole(qtbot, field) -> None:
    window, text = field
    seen = scans_of(window)
    keys = XKeys(window)
    keys.type("MX-HT7030Z")
    keys.enter()
    qtbot.waitUntil(lambda: seen == ["MX-HT7030Z"], timeout=3000)
    assert text.text() == ""


def test_doubled_characters_flagged_as_repeats_stay_in_the_burst(qtbot, field) -> None:
    window, text = field
    seen = scans_of(window)
    keys = XKeys(window)
    keys.type("0011220000")
    keys.enter()
    qtbot.waitUntil(lambda: seen == ["0011220000"], timeout=3000)
    assert text.text() == ""


def test_a_whole_serial_as_xdotool_types_it_is_one_scan(qtbot, field) -> None:
    window, text = field
    seen = scans_of(window)
    keys = XKeys(window)
    keys.type(SERIAL)
    keys.enter()
    qtbot.waitUntil(lambda: seen == [SERIAL], timeout=3000)
    assert text.text() == ""


def test_a_hold_running_out_while_the_window_was_busy_waits_for_the_queued_keys(
    qtbot, field
) -> None:
    window, text = field
    seen = scans_of(window)
    keys = XKeys(window)
    keys.type(SERIAL[:9])
    busy_until = time.perf_counter() + 0.3  # the GUI thread is busy; the rest queues up
    while time.perf_counter() < busy_until:
        pass
    QApplication.processEvents()  # the overdue hold timer runs before the queued keys
    keys.type(SERIAL[9:])
    keys.enter()
    qtbot.waitUntil(lambda: seen == [SERIAL], timeout=3000)
    assert text.text() == ""


def test_a_key_held_down_by_a_person_still_types(qtbot, field) -> None:
    window, text = field
    seen = scans_of(window)
    keys = XKeys(window)
    keys.send(QEvent.Type.KeyPress, ord("A"), NONE, "a", 0)
    qtbot.waitUntil(lambda: text.text() == "a", timeout=3000)
    keys.send(QEvent.Type.KeyRelease, ord("A"), NONE, "a", 500)
    for _ in range(5):  # the keyboard repeats 30 times a second after half a second
        keys.send(QEvent.Type.KeyPress, ord("A"), NONE, "a", 0)
        keys.send(QEvent.Type.KeyRelease, ord("A"), NONE, "a", 33)
    qtbot.waitUntil(lambda: text.text() == "aaaaaa", timeout=3000)
    assert seen == []


def test_shift_typed_by_a_person_leaves_the_text_as_typed(qtbot, field) -> None:
    window, text = field
    seen = scans_of(window)
    keys = XKeys(window)
    for char in "Psu":
        keys.type(char, gap=150)
    qtbot.waitUntil(lambda: text.text() == "Psu", timeout=3000)
    assert seen == []
