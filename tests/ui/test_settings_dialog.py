"""Settings > Scanner: scans of the test labels learnt exactly, the profile stored and used."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from fieldops.domain.keyboard_layouts import LAYOUT_NAMES, Layout, type_through
from fieldops.domain.scanner_profile import TEST_LABEL_GS1, TEST_LABEL_TEXT, ScannerProfile
from fieldops.services.datadir import DataDir
from fieldops.services.scanner_setup import ScannerSetup, profile_path, save_profile
from fieldops.ui.lanes import Lanes
from fieldops.ui.main_window import MainWindow
from fieldops.ui.scan_listener import is_scan_capable
from fieldops.ui.scanner_capture import CaptureArea, key_text
from fieldops.ui.settings_dialog import SettingsDialog, open_settings

GERMAN = ScannerProfile(suffix="\r", aim=False, layout=Layout.DE)
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture
def dialog(qtbot, tmp_path: Path) -> SettingsDialog:
    """The Settings dialog on its own, on an empty data directory."""
    host = QWidget()
    qtbot.addWidget(host)
    lanes = Lanes(host)
    shown = SettingsDialog(ScannerSetup(tmp_path), lanes)
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    yield shown
    lanes.wait(5000)


def type_scan(area: QWidget, text: str) -> None:
    """Types what a wedge scanner sends, key by key: GS as Ctrl+], LF as Ctrl+J."""
    control = Qt.KeyboardModifier.ControlModifier
    for char in text:
        if char == "\x1d":
            QTest.keyClick(area, Qt.Key.Key_BracketRight, control)
        elif char == "\n":
            QTest.keyClick(area, Qt.Key.Key_J, control)
        elif char == "\r":
            QTest.keyClick(area, Qt.Key.Key_Return)
        elif char == "\t":
            QTest.keyClick(area, Qt.Key.Key_Tab)
        elif char.isascii():
            QTest.keyClicks(area, char)
        else:
            send_char(area, char)


def send_char(widget: QWidget, char: str) -> None:
    """A key whose character QTest cannot type (QTest.keyClicks takes ASCII only)."""
    upper = char.upper()
    key = ord(upper) if len(upper) == 1 else ord(char)
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char))


def type_text(widget: QWidget, text: str) -> None:
    """Types text into a field, key by key, as a person or a scanner would."""
    for char in text:
        if char.isascii():
            QTest.keyClicks(widget, char)
        else:
            send_char(widget, char)


def capture(qtbot, dialog: SettingsDialog, text: str) -> str:
    """Scans `text` into the capture area and returns what the area recorded."""
    area = dialog.scanner_page.capture
    area.setFocus()
    with qtbot.waitSignal(area.captured, timeout=5000) as got:
        type_scan(area, text)
    return got.args[0]


def test_a_us_scanner_with_enter(qtbot, dialog: SettingsDialog) -> None:
    dialog.grab().save(str(_shot("settings-scanner-before.png")))
    recorded = capture(qtbot, dialog, TEST_LABEL_TEXT + "\r")
    assert recorded == TEST_LABEL_TEXT + "\r", "every character, the terminator too"
    profile = dialog.scanner_page.candidate
    assert profile is not None and profile.layout is Layout.US
    assert (profile.prefix, profile.suffix, profile.aim) == ("", "\r", False)
    assert profile.caps_lock_inverted is False
    shown = dialog.scanner_page.result.text()
    assert "Enter" in shown and "US scanner on US layout" in shown
    assert dialog.scanner_page.save_button.isEnabled()


@pytest.mark.parametrize("layout", [Layout.UK, Layout.DE, Layout.FR, Layout.IT])
def test_a_us_scanner_on_another_layout(qtbot, dialog: SettingsDialog, layout: Layout) -> None:
    typed = type_through(TEST_LABEL_TEXT, layout) + "\r"
    assert capture(qtbot, dialog, typed) == typed
    profile = dialog.scanner_page.candidate
    assert profile is not None and profile.layout is layout and profile.suffix == "\r"
    expected = f"US scanner on {LAYOUT_NAMES[layout]} layout (corrected)"
    assert expected in dialog.scanner_page.result.text()


def test_caps_lock_inversion(qtbot, dialog: SettingsDialog) -> None:
    capture(qtbot, dialog, type_through(TEST_LABEL_TEXT, Layout.US, caps_lock=True) + "\r")
    profile = dialog.scanner_page.candidate
    assert profile is not None and profile.caps_lock_inverted and profile.layout is Layout.US
    assert "inverts letter case" in dialog.scanner_page.result.text()


def test_prefix_aim_and_cr_lf(qtbot, dialog: SettingsDialog) -> None:
    sent = "*" + "]Q1" + TEST_LABEL_TEXT + "\r\n"
    assert capture(qtbot, dialog, sent) == sent
    profile = dialog.scanner_page.candidate
    assert profile is not None
    assert (profile.prefix, profile.suffix, profile.aim) == ("*", "\r\n", True)
    shown = dialog.scanner_page.result.text()
    assert "Enter + line feed" in shown and "sent" in shown


def test_gs_sent_as_ctrl_bracket_is_learnt(qtbot, dialog: SettingsDialog) -> None:
    capture(qtbot, dialog, "]Q1" + TEST_LABEL_TEXT + "\r")
    recorded = capture(qtbot, dialog, "]d2" + TEST_LABEL_GS1 + "\r")
    assert "\x1d" in recorded and recorded == "]d2" + TEST_LABEL_GS1 + "\r"
    profile = dialog.scanner_page.candidate
    assert profile is not None and profile.gs_transmitted is True
    assert profile.gs_substitute is None
    assert "Both labels read" in dialog.scanner_page.step.text()
    dialog.grab().save(str(_shot("settings-scanner-after.png")))


def test_a_gs_substitute_is_learnt(qtbot, dialog: SettingsDialog) -> None:
    capture(qtbot, dialog, TEST_LABEL_TEXT + "\r")
    capture(qtbot, dialog, TEST_LABEL_GS1.replace("\x1d", "~") + "\r")
    profile = dialog.scanner_page.candidate
    assert profile is not None and profile.gs_substitute == "~"
    assert "sent as “~”" in dialog.scanner_page.result.text()


def test_a_tab_suffix_stays_in_the_capture_area(qtbot, dialog: SettingsDialog) -> None:
    assert capture(qtbot, dialog, TEST_LABEL_TEXT + "\t").endswith("\t")
    assert dialog.scanner_page.capture.hasFocus()
    assert dialog.scanner_page.candidate is not None
    assert dialog.scanner_page.candidate.suffix == "\t"


def test_ctrl_bracket_is_gs_and_plain_keys_are_their_text() -> None:
    control = Qt.KeyboardModifier.ControlModifier
    gs = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_BracketRight, control, "")
    assert key_text(gs) == "\x1d"
    as_sent = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_BracketRight, control, "\x1d")
    assert key_text(as_sent) == "\x1d"
    plain = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, "ä")
    assert key_text(plain) == "ä"
    shift = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier)
    assert key_text(shift) == ""


@pytest.mark.parametrize(
    ("sent", "sentence"),
    [
        ("IT-000217\r", "This scan is not the test label. Scan the test label shown on this page."),
        (
            TEST_LABEL_TEXT[: len(TEST_LABEL_TEXT) // 2] + "\r",
            "Only part of the test label arrived",
        ),
        (
            type_through(TEST_LABEL_TEXT[30:], Layout.FR) + "\r",
            "Only part of the test label arrived",
        ),
        (TEST_LABEL_TEXT[:40] + TEST_LABEL_TEXT[44:] + "\r", "some characters were lost"),
        ("]d2" + TEST_LABEL_GS1 + "\r", "That was the GS1 label: scan test label 1"),
    ],
)
def test_a_wrong_scan_says_what_to_do(qtbot, dialog: SettingsDialog, sent, sentence) -> None:
    capture(qtbot, dialog, sent)
    page = dialog.scanner_page
    assert page.problem.isVisibleTo(dialog) and sentence in page.problem.text()
    assert page.candidate is None and not page.save_button.isEnabled()


def test_save_stores_and_forget_removes(qtbot, dialog: SettingsDialog, tmp_path: Path) -> None:
    page = dialog.scanner_page
    capture(qtbot, dialog, type_through(TEST_LABEL_TEXT, Layout.DE) + "\r")
    with qtbot.waitSignal(page.profile_stored, timeout=5000) as stored:
        page.save_button.click()
    assert stored.args[0] is not None and stored.args[0].layout is Layout.DE
    assert ScannerSetup(tmp_path).profile == stored.args[0]
    assert "Stored profile" in page.result.text() and page.forget_button.isEnabled()
    with qtbot.waitSignal(page.profile_stored, timeout=5000) as forgotten:
        page.forget_button.click()
    assert forgotten.args[0] is None and not profile_path(tmp_path).exists()
    assert "No profile stored" in page.result.text()


def test_try_a_scan_reads_through_the_detected_profile(qtbot, dialog: SettingsDialog) -> None:
    page = dialog.scanner_page
    page.try_field.setFocus()
    type_text(page.try_field, "ITß000217")
    QTest.keyClick(page.try_field, Qt.Key.Key_Return)
    assert "German" in page.try_result.text()  # no profile yet: the layout warning
    capture(qtbot, dialog, type_through(TEST_LABEL_TEXT, Layout.DE) + "\r")
    page.try_field.setFocus()
    page.try_field.clear()
    type_text(page.try_field, "ITß000217")
    QTest.keyClick(page.try_field, Qt.Key.Key_Return)
    assert page.try_result.text() == (
        "Reads as: IT-000217  (US scanner on German layout corrected)"
    )


# -- in the real window --------------------------------------------------------------------


def _settings_action(window: MainWindow):
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == "Edit":
            for action in top.menu().actions():
                if action.text().replace("&", "").startswith("Settings"):
                    return action
    raise AssertionError("no Edit > Settings")


def _burst_through_window(dialog: QWidget, text: str) -> None:
    """A 2 ms burst delivered the way the platform delivers keys: to the window handle."""
    stamp = 50_000_000
    for char in text:
        stamp += 2
        key = int(Qt.Key.Key_Return) if char == "\r" else ord(char.upper())
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
            event.setTimestamp(stamp)
            QApplication.sendEvent(dialog.windowHandle(), event)


def test_settings_in_the_edit_menu_and_the_listener_leaves_the_capture_alone(
    qtbot, open_window, demo_data_dir: DataDir
) -> None:
    window = open_window(demo_data_dir)
    action = _settings_action(window)
    assert action.shortcut().toString() == "Ctrl+," and action.isEnabled()
    action.trigger()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    area = dialog.scanner_page.capture
    qtbot.waitUntil(area.hasFocus)
    assert is_scan_capable(area) and is_scan_capable(dialog.scanner_page.try_field)
    bursts: list[str] = []
    window.scans.scan_received.connect(lambda code, _w: bursts.append(code))
    sent = "]Q1" + TEST_LABEL_TEXT + "\r"
    with qtbot.waitSignal(area.captured, timeout=5000) as got:
        _burst_through_window(dialog, sent)
    assert got.args[0] == sent and bursts == []
    assert dialog.scanner_page.candidate is not None
    dialog.close()


def _learn_and_save(qtbot, window: MainWindow, typed_label: str) -> None:
    dialog = open_settings(window)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    capture(qtbot, dialog, typed_label)
    with qtbot.waitSignal(dialog.scanner_page.profile_stored, timeout=5000):
        dialog.scanner_page.save_button.click()
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_a_saved_profile_corrects_later_scans_in_the_window(
    qtbot, open_window, demo_data_dir: DataDir
) -> None:
    window = open_window(demo_data_dir)
    _learn_and_save(qtbot, window, type_through(TEST_LABEL_TEXT, Layout.DE) + "\r")
    assert window.workspace is not None and window.workspace.scanner.profile is not None
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        type_text(window.scan_field, type_through("IT-000217", Layout.DE))
        QTest.keyClick(window.scan_field, Qt.Key.Key_Return)
    result = shown.args[0]
    assert result.card is not None and result.card.asset_tag == "IT-000217"
    assert window.card.card is not None and window.card.card.asset_tag == "IT-000217"
    assert "layout corrected" in window.status.currentMessage()


def test_without_a_profile_the_same_scan_warns_and_finds_nothing(
    qtbot, open_window, demo_data_dir: DataDir
) -> None:
    window = open_window(demo_data_dir)
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        type_text(window.scan_field, type_through("IT-000217", Layout.DE))
        QTest.keyClick(window.scan_field, Qt.Key.Key_Return)
    result = shown.args[0]
    assert result.card is None and result.misread is not None
    assert "German" in result.misread and "Settings > Scanner" in result.misread
    assert window.card.card is None


def test_a_damaged_profile_is_shown_not_fatal(qtbot, open_window, demo_data_dir) -> None:
    profile_path(demo_data_dir).write_text("{damaged")
    window = open_window(demo_data_dir)
    assert "Settings > Scanner" in window.status.currentMessage()
    dialog = open_settings(window)
    assert dialog is not None
    assert "damaged" in dialog.scanner_page.problem.text()
    dialog.close()


def test_stored_profile_is_shown_when_settings_open(qtbot, open_window, demo_data_dir) -> None:
    save_profile(demo_data_dir, GERMAN)
    window = open_window(demo_data_dir)
    dialog = open_settings(window)
    assert dialog is not None
    assert "Stored profile" in dialog.scanner_page.result.text()
    assert "German layout" in dialog.scanner_page.result.text()
    dialog.close()


def _shot(name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name


def test_capture_area_is_scan_capable() -> None:
    area = CaptureArea()
    assert is_scan_capable(area)
    assert not area.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)


def test_the_labels_on_screen_read_back_as_the_test_labels(dialog: SettingsDialog) -> None:
    import zxingcpp

    page = dialog.scanner_page
    for label, wanted in (
        (page.qr_label, TEST_LABEL_TEXT),
        (page.code128_label, TEST_LABEL_TEXT),
        (page.gs1_label, "(01)09501101530003(21)FOTEST7(10)LOT1"),
    ):
        found = zxingcpp.read_barcodes(label.pixmap().toImage())
        assert [code.text for code in found] == [wanted]
    gs1 = zxingcpp.read_barcodes(page.gs1_label.pixmap().toImage())[0]
    assert gs1.symbology_identifier == "]d2"  # a GS1 DataMatrix, not a plain one
