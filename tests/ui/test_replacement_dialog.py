"""The part replacement form in the real window: scans land where they are expected (C09)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from fieldops.domain.identifiers import code_key
from fieldops.store.models import AssetCode, Component, Outbox, Replacement
from fieldops.ui import serial_field
from fieldops.ui.main_window import MainWindow
from fieldops.ui.replacement_dialog import ReplacementDialog

OLD, NEW = "5CG1234OLD", "5CG5678NEW"
SUFFIXES = {
    "cr": [(Qt.Key.Key_Return, "\r")],
    "tab": [(Qt.Key.Key_Tab, "\t")],
    "crlf": [(Qt.Key.Key_Return, "\r"), (Qt.Key.Key_Return, "\n")],
    "none": [],
}


class Clock:
    """The serial fields' clock, moved by the tests: gaps between keys are input, not waits."""

    now_ms = 1_000_000

    def advance(self, ms: int) -> None:
        self.now_ms += ms


CLOCK = Clock()


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch) -> Clock:
    monkeypatch.setattr(serial_field, "_clock_ms", lambda: CLOCK.now_ms)
    return CLOCK


def _key(target, key: int, text: str, gap_ms: int = 2) -> None:
    """One key, `gap_ms` after the one before (2 ms: a scanner's pace)."""
    CLOCK.advance(gap_ms)
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(target, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text))


def scan(dialog: ReplacementDialog, code: str, suffix: str) -> None:
    """A wedge burst through the dialog's window, as the operating system delivers it."""
    handle = dialog.windowHandle()
    for char in code:
        _key(handle, ord(char.upper()), char)
    for key, text in SUFFIXES[suffix]:
        _key(handle, int(key), text)


@pytest.fixture
def window(open_window, demo_data_dir) -> MainWindow:
    return open_window(demo_data_dir)


def open_form(qtbot, window: MainWindow, tag: str = "IT-000217") -> ReplacementDialog:
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000):
        window.look_up(tag)
    window.new_replacement()
    dialog = window._dialogs[-1]
    assert isinstance(dialog, ReplacementDialog)
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(dialog.old_serial.hasFocus)
    return dialog


@pytest.mark.parametrize("suffix", list(SUFFIXES))
def test_old_goes_to_old_and_new_to_new_whatever_the_suffix(
    qtbot, window: MainWindow, suffix: str
) -> None:
    dialog = open_form(qtbot, window)
    scan(dialog, OLD, suffix)
    qtbot.waitUntil(dialog.new_serial.hasFocus, timeout=2000)
    CLOCK.advance(400)  # the technician reaches for the new part
    scan(dialog, NEW, suffix)
    qtbot.waitUntil(dialog.rma.hasFocus, timeout=2000)
    assert dialog.old_serial.text() == OLD
    assert dialog.new_serial.text() == NEW
    assert dialog.rma.text() == ""
    assert dialog.isVisible(), "a scan's terminator never submits the form"
    assert dialog.save_button.isEnabled()
    with window.workspace.db.read() as session:
        assert session.scalars(select(Replacement)).all() == []


def test_enter_in_an_empty_field_neither_moves_nor_submits(qtbot, window: MainWindow) -> None:
    dialog = open_form(qtbot, window)
    _key(dialog.windowHandle(), int(Qt.Key.Key_Return), "\r", gap_ms=150)
    assert dialog.old_serial.hasFocus() and dialog.isVisible()


def test_slow_typing_is_not_hurried_on(qtbot, window: MainWindow) -> None:
    dialog = open_form(qtbot, window)
    for char in OLD:
        _key(dialog.windowHandle(), ord(char), char, gap_ms=150)  # a person's pace
    assert not dialog.old_serial._idle.isActive(), "no burst, so no idle end is pending"
    assert dialog.old_serial.hasFocus() and dialog.old_serial.text() == OLD


def test_save_only_when_both_valid_and_different(qtbot, window: MainWindow) -> None:
    dialog = open_form(qtbot, window)
    assert not dialog.save_button.isEnabled()
    dialog.old_serial.setText(OLD)
    assert not dialog.save_button.isEnabled()
    dialog.new_serial.setText(OLD.lower())
    assert not dialog.save_button.isEnabled()
    assert "same as the old" in dialog.problem.text()
    dialog.new_serial.setText("IT-000217")
    assert not dialog.save_button.isEnabled()
    assert "own tag" in dialog.problem.text()
    dialog.new_serial.setText(NEW)
    assert dialog.save_button.isEnabled() and dialog.problem.text() == ""


def test_scan_while_writing_notes_is_offered_not_typed(qtbot, window: MainWindow) -> None:
    dialog = open_form(qtbot, window)
    scan(dialog, OLD, "cr")
    qtbot.waitUntil(dialog.new_serial.hasFocus, timeout=2000)
    dialog.notes.setFocus()
    qtbot.waitUntil(dialog.notes.hasFocus)
    # Through the window-wide listener: key time stamps 2 ms apart, as a scanner sends them.
    handle = dialog.windowHandle()
    stamp = 50_000_000
    for key, text in [(ord(c.upper()), c) for c in NEW] + [(int(Qt.Key.Key_Return), "\r")]:
        stamp += 2
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text)
            event.setTimestamp(stamp)
            QApplication.sendEvent(handle, event)
    qtbot.waitUntil(dialog.offer.isVisible, timeout=2000)
    assert NEW in dialog.offer_text.text()
    assert dialog.notes.toPlainText() == "", "the scan is not typed into the notes"
    assert dialog.new_serial.text() == ""
    dialog.use_new.click()
    assert dialog.new_serial.text() == NEW and not dialog.offer.isVisible()


def test_saving_records_the_swap_and_the_part_takes_the_new_serial(
    qtbot, window: MainWindow
) -> None:
    dialog = open_form(qtbot, window)
    psu = next(c for c in window.card.card.components if c.slot == "PSU1")
    scan(dialog, psu.serial, "cr")
    qtbot.waitUntil(dialog.new_serial.hasFocus, timeout=2000)
    assert dialog.part.currentData() == psu.id, "the old serial picks the part it names"
    scan(dialog, NEW, "cr")
    qtbot.waitUntil(dialog.rma.hasFocus, timeout=2000)
    scan(dialog, "RMA-778812", "cr")
    qtbot.waitUntil(dialog.fate.hasFocus, timeout=2000)
    with qtbot.waitSignal(dialog.replacement_saved, timeout=10_000):
        dialog.save()
    with window.workspace.db.read() as session:
        saved = session.scalars(select(Replacement)).one()
        assert (saved.old_serial, saved.new_serial, saved.rma_number) == (
            psu.serial,
            NEW,
            "RMA-778812",
        )
        assert saved.component_id == psu.id and saved.old_part_fate == "returned-to-vendor"
        assert session.get(Component, psu.id).serial == NEW
        codes = session.scalars(
            select(AssetCode.code).where(AssetCode.component_id == psu.id)
        ).all()
        assert codes == [code_key(NEW)]
        queued = [(o.entity, o.op) for o in session.scalars(select(Outbox).order_by(Outbox.seq))]
        assert queued == [("component", "update"), ("replacement", "create")]
    # The new serial now finds the asset; the old one no longer does.
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        window.look_up(NEW)
    assert shown.args[0].card.asset_tag == "IT-000217"
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        window.look_up(psu.serial)
    assert shown.args[0].card is None


def test_no_asset_shown_says_scan_first(qtbot, window: MainWindow) -> None:
    window.new_replacement()
    assert not window._dialogs
    assert "Scan the asset first" in window.status.currentMessage()


def test_scanner_prefixes_and_gs1_strings_are_stored_as_the_serial(
    qtbot, window: MainWindow
) -> None:
    dialog = open_form(qtbot, window)
    psu = next(c for c in window.card.card.components if c.slot == "PSU1")
    scan(dialog, "]C0" + psu.serial, "cr")
    qtbot.waitUntil(dialog.new_serial.hasFocus, timeout=2000)
    assert dialog.old_serial.text() == psu.serial and dialog.part.currentData() == psu.id
    scan(dialog, "]E04006381333931", "cr")  # an EAN: a product number, not a serial
    assert dialog.new_serial.hasFocus(), "a refused scan keeps the focus for the rescan"
    assert "product or shipment number" in dialog.problem.text()
    assert not dialog.save_button.isEnabled()
    scan(dialog, "\x5dd20109501101530003" + "21NEWDISK-1", "cr")  # GS1 DataMatrix with AIM
    qtbot.waitUntil(dialog.rma.hasFocus, timeout=2000)
    assert dialog.new_serial.text() == "NEWDISK-1" and dialog.save_button.isEnabled()


def test_a_scan_while_old_is_empty_is_offered_as_the_old_serial(qtbot, window) -> None:
    dialog = open_form(qtbot, window)
    dialog.notes.setFocus()
    dialog.scan_received("]C0" + OLD)
    assert "old serial" in dialog.offer_text.text() and OLD in dialog.offer_text.text()
    assert dialog.use_old.hasFocus() or not dialog.isActiveWindow()
    dialog.use_old.click()
    assert dialog.old_serial.text() == OLD
