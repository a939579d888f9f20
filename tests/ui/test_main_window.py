"""The main job end to end in the real window: scan, see the asset, log an incident, find it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from fieldops.services.lookup import LookupResult
from fieldops.ui.incident_dialog import IncidentDialog
from fieldops.ui.main_window import MainWindow
from tests.ui.conftest import answer_next_message_box


def scan(qtbot, window: MainWindow, code: str, terminator=Qt.Key.Key_Return) -> LookupResult:
    """Types the code into whatever has focus 1 ms apart, as a wedge scanner does."""
    target = QApplication.focusWidget() or window.scan_field
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as blocker:
        QTest.keyClicks(target, code, Qt.KeyboardModifier.NoModifier, 1)
        QTest.keyClick(target, terminator)
    return blocker.args[0]


def test_scan_field_has_focus_when_the_window_opens(window: MainWindow) -> None:
    assert window.scan_field.hasFocus()


def test_fast_scan_shows_the_asset_card(qtbot, window: MainWindow) -> None:
    result = scan(qtbot, window, "IT-000217")
    assert result.found and result.card.asset_tag == "IT-000217"
    card = window.card
    assert card.card is not None and card.card.asset_tag == "IT-000217"
    assert card._fields["serial"].text() == "J344WPWW"
    assert card._fields["site"].text() == "BR-LEEDS"
    assert card._fields["room"].text() == "Comms Closet 4F"
    assert card._fields["rack"].text() == "R08"
    assert card._fields["u"].text() == "U11 front"
    assert card._components.rowCount() == 16
    assert window.scan_field.hasFocus(), "the terminator must not move the focus"
    assert window.tabs.currentIndex() == 0


def test_tab_terminator_keeps_focus_and_lowercase_matches(qtbot, window: MainWindow) -> None:
    result = scan(qtbot, window, "it-000217", Qt.Key.Key_Tab)
    assert result.found
    assert QApplication.focusWidget() is window.scan_field


def test_next_scan_replaces_the_previous_one(qtbot, window: MainWindow) -> None:
    scan(qtbot, window, "IT-000217")
    result = scan(qtbot, window, "003271")
    assert result.card.asset_tag == "003271"
    assert window.scan_field.text() == "003271"


def test_not_found_shows_exactly_what_was_read(qtbot, window: MainWindow) -> None:
    result = scan(qtbot, window, "3271")  # the tag is 003271: leading zeros are data
    assert not result.found
    assert window.card.card is None
    assert "3271" in window.card._message.text()
    assert "No asset matches" in window.card._message.text()


def _open_dialog(window: MainWindow) -> IncidentDialog:
    window.new_incident()
    dialog = window._dialogs[-1]
    assert isinstance(dialog, IncidentDialog)
    return dialog


def _drop_files(strip, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = strip.viewport().rect().center()
    pos = QPointF(point)
    enter = QDragEnterEvent(
        point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(strip.viewport(), enter)
    drop = QDropEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(strip.viewport(), drop)


def test_incident_with_two_photos_is_saved_listed_and_kept(
    qtbot, open_window, window: MainWindow, photos_dir: Path
) -> None:
    scan(qtbot, window, "IT-000217")
    dialog = _open_dialog(window)
    dialog.category.setCurrentIndex(dialog.category.findData("physical"))
    dialog.subtype.setCurrentIndex(dialog.subtype.findData("flood"))
    dialog.impact.setCurrentIndex(dialog.impact.findData("high"))
    dialog.urgency.setCurrentIndex(dialog.urgency.findData("high"))
    assert dialog.priority.text() == "P1"
    QTest.keyClicks(dialog.title, "Water dripping onto rack R08")
    dialog.add_photos([photos_dir / "asset-label-exif-rotated.jpg"])
    qtbot.waitUntil(lambda: dialog.photos.count() == 1, timeout=20_000)
    _drop_files(dialog.photos, [photos_dir / "water-damage-with-gps.jpg"])
    qtbot.waitUntil(lambda: dialog.photos.count() == 2, timeout=20_000)
    rotated = next(p for p in dialog.prepared.values() if "rotated" in p.original_name)
    # Stored 1200 x 1600 with Orientation 6: shown (and recorded) turned, 1600 x 1200.
    assert (rotated.width, rotated.height) == (1600, 1200)

    with qtbot.waitSignal(window.incident_saved, timeout=10_000) as saved:
        QTest.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    incident_id = saved.args[0]
    qtbot.waitUntil(
        lambda: "Water dripping onto rack R08 (Physical)" in window.card.incident_rows()
    )

    with qtbot.waitSignal(window.incidents_shown, timeout=10_000):
        window.tabs.setCurrentIndex(1)
    assert "Water dripping onto rack R08" in window.incident_list.titles()
    detail = window.workspace.incidents.get(incident_id)
    assert len(detail.photos) == 2 and all(p.thumbnail for p in detail.photos)

    window.close()
    again = open_window(window.data_dir)
    result = scan(qtbot, again, "IT-000217")
    assert [i.title for i in result.card.incidents] == ["Water dripping onto rack R08"]


def test_a_file_that_is_not_a_picture_is_refused_clearly(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    scan(qtbot, window, "IT-000217")
    dialog = _open_dialog(window)
    fake = tmp_path / "damage.jpg"
    fake.write_text("this is a text file, not a photo")
    dialog.add_photos([fake])
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=10_000)
    assert "damage.jpg" in dialog.problem.text()
    assert "Traceback" not in dialog.problem.text()
    assert dialog.photos.count() == 0


def test_save_without_title_keeps_the_form(qtbot, window: MainWindow) -> None:
    scan(qtbot, window, "IT-000217")
    dialog = _open_dialog(window)
    QTest.keyClicks(dialog.description, "Smoke from PSU1")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=10_000)
    assert "title" in dialog.problem.text().lower()
    assert dialog.isVisible()
    assert dialog.description.toPlainText() == "Smoke from PSU1"
    assert window.workspace.counts().incidents == 0


def test_escape_asks_before_discarding_typed_text(qtbot, window: MainWindow) -> None:
    scan(qtbot, window, "IT-000217")
    dialog = _open_dialog(window)
    QTest.keyClicks(dialog.title, "Half typed")
    seen = answer_next_message_box(qtbot, "Cancel")
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert seen and dialog.isVisible()
    assert dialog.title.text() == "Half typed"
    answer_next_message_box(qtbot, "Discard")
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_empty_form_closes_on_escape_without_asking(qtbot, window: MainWindow) -> None:
    scan(qtbot, window, "IT-000217")
    dialog = _open_dialog(window)
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    qtbot.waitUntil(lambda: window.scan_field.hasFocus())


def test_incident_on_a_location_when_there_is_no_asset(qtbot, window: MainWindow) -> None:
    scan(qtbot, window, "NOT-A-TAG")
    dialog = _open_dialog(window)
    assert dialog.location is not None
    qtbot.waitUntil(lambda: dialog.location.count() > 0, timeout=10_000)
    dialog.location.setCurrentText("HQ-DC1 / Server Room B3")
    dialog.category.setCurrentIndex(dialog.category.findData("physical"))
    dialog.subtype.setCurrentIndex(dialog.subtype.findData("temperature"))
    QTest.keyClicks(dialog.title, "Room at 35 °C, CRAC alarm")
    with qtbot.waitSignal(window.incident_saved, timeout=10_000) as saved:
        dialog.save()
    detail = window.workspace.incidents.get(saved.args[0])
    assert detail.summary.asset_tag is None
    assert detail.place.room == "Server Room B3"
    assert detail.summary.site_code == "HQ-DC1"


def test_scan_from_a_photo_looks_the_label_up(qtbot, window: MainWindow, photos_dir: Path) -> None:
    with qtbot.waitSignal(window.lookup_shown, timeout=20_000) as shown:
        window.scan_photo(photos_dir / "asset-label-exif-rotated.jpg")
    assert shown.args[0].card.asset_tag == "IT-000217"
    assert window.scan_field.text() == "IT-000217"


def test_scan_from_a_photo_without_a_code_says_so(
    qtbot, window: MainWindow, photos_dir: Path
) -> None:
    window.scan_photo(photos_dir / "water-damage-with-gps.jpg")
    qtbot.waitUntil(lambda: "move closer" in window.status.currentMessage(), timeout=20_000)


def test_unknown_label_is_registered_as_provisional(qtbot, window: MainWindow) -> None:
    from fieldops.ui.provisional_dialog import ProvisionalAssetDialog

    scan(qtbot, window, "IT-NEW-0042")
    assert window.card._register.isVisible()
    window.card._register.click()
    dialog = window._dialogs[-1]
    assert isinstance(dialog, ProvisionalAssetDialog) and dialog.tag.text() == "IT-NEW-0042"
    qtbot.waitUntil(lambda: dialog.location.count() > 0, timeout=10_000)
    dialog.location.setCurrentText("HQ-DC1 / Server Room B3")
    dialog.serial.setText("5CG0042NEW")
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        dialog.save()
    card = shown.args[0].card
    assert card is not None and card.provisional and card.place.room == "Server Room B3"
    assert "provisional" in window.card._title.text()
    assert window.workspace.sync.status().changes == 1


def _photo_of_codes(path: Path, codes: list[tuple[str, str]]) -> Path:
    """A white picture with the given (text, zxing format) codes side by side."""
    import zxingcpp
    from PIL import Image

    symbols = []
    for text, fmt in codes:
        barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt))
        symbols.append(Image.fromarray(barcode.to_image(scale=6)).convert("L"))
    canvas = Image.new("L", (sum(s.width + 120 for s in symbols) + 120, 700), 255)
    x = 120
    for image in symbols:
        canvas.paste(image, (x, 120))
        x += image.width + 120
    canvas.save(path, "PNG")
    return path


def test_a_photo_of_a_tag_and_a_serial_of_one_asset_is_one_match(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    photo = _photo_of_codes(
        tmp_path / "tag-and-serial.png", [("IT-000217", "QRCode"), ("J344WPWW", "Code128")]
    )
    with qtbot.waitSignal(window.lookup_shown, timeout=20_000) as shown:
        window.scan_photo(photo)
    assert shown.args[0].card.asset_tag == "IT-000217"
    assert shown.args[0].matched_kind == "tag", "the tag's match is the one shown"


def test_a_photo_of_two_assets_asks_which(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QInputDialog

    photo = _photo_of_codes(
        tmp_path / "two-assets.png", [("IT-000217", "QRCode"), ("IT-000001", "QRCode")]
    )
    offered: list[list[str]] = []

    # QInputDialog.getItem runs a modal loop no test can answer; record the choices instead.
    def pick(_parent, _title, _label, items, *_args):
        offered.append(list(items))
        return next(i for i in items if "IT-000001" in i), True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(pick))
    with qtbot.waitSignal(window.lookup_shown, timeout=20_000) as shown:
        window.scan_photo(photo)
    assert len(offered) == 1 and len(offered[0]) == 2
    assert shown.args[0].card.asset_tag == "IT-000001"


def test_a_scan_is_answered_while_a_save_waits_for_the_write_lock(
    qtbot, window: MainWindow
) -> None:
    """A long write (a large import holds the lock for half a minute) never delays a scan."""
    import threading

    release = threading.Event()
    holding = threading.Event()

    def hold(session) -> None:
        holding.set()
        release.wait(20)

    import_like = threading.Thread(target=lambda: window.workspace.db.write(hold))
    import_like.start()
    try:
        assert holding.wait(5)
        # A save queued behind the lock in the write lane...
        window.lanes.db.submit(lambda job: window.workspace.db.write(lambda s: None))
        # ...and the scan still answers.
        with qtbot.waitSignal(window.lookup_shown, timeout=3000) as shown:
            window.look_up("IT-000217")
        assert shown.args[0].card.asset_tag == "IT-000217"
        assert window.lanes.db.busy(), "the save is still waiting"
    finally:
        release.set()
        import_like.join(10)
    qtbot.waitUntil(lambda: not window.lanes.db.busy(), timeout=10_000)


def test_with_a_german_scanner_profile_typed_codes_are_taken_as_typed(
    qtbot, window: MainWindow
) -> None:
    """The profile corrects a scanner's bursts; a person's typing is never 'corrected'."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    from fieldops.domain.keyboard_layouts import Layout
    from fieldops.domain.scanner_profile import ScannerProfile

    window.workspace.scanner.save(ScannerProfile(layout=Layout.DE))
    window.focus_scan()
    stamp = 20_000_000

    def key(code: int, text: str) -> None:
        nonlocal stamp
        stamp += 150  # a person's pace, by the time stamps the system gives the keys
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, code, Qt.KeyboardModifier.NoModifier, text)
            event.setTimestamp(stamp)
            QApplication.sendEvent(window.scan_field, event)

    for char in "IT-000001":
        key(ord(char.upper()), char)
    assert not window.scan_field._came_as_burst()
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        key(int(Qt.Key.Key_Return), "\r")
    assert shown.args[0].card is not None and shown.args[0].card.asset_tag == "IT-000001"
    assert shown.args[0].warnings == ()


def test_after_a_photo_the_code_is_selected_so_the_next_scan_replaces_it(
    qtbot, window: MainWindow, photos_dir: Path
) -> None:
    with qtbot.waitSignal(window.lookup_shown, timeout=20_000):
        window.scan_photo(photos_dir / "asset-label-exif-rotated.jpg")
    assert window.scan_field.selectedText() == "IT-000217" and window.scan_field.hasFocus()
    assert not window.status.currentMessage().startswith("Reading codes")
