"""The Labels dialog in a real window: Ctrl+P on the shown asset saves a PDF that decodes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from fieldops.labels.content import Symbology
from fieldops.labels.layouts import layout_named
from fieldops.ui.labels_dialog import LabelsDialog
from tests.labels.support import crop, decode_one, open_pdf, page_image


def _dialog() -> LabelsDialog:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, LabelsDialog)]
    found += [w for top in QApplication.topLevelWidgets() for w in top.findChildren(LabelsDialog)]
    assert found, "the Labels dialog did not open"
    return found[-1]


def test_print_labels_for_the_shown_asset(
    open_window, demo_data_dir, qtbot, tmp_path: Path
) -> None:
    window = open_window(demo_data_dir)
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000):
        window.look_up("IT-000004")
    one, _many = window.labels_actions
    assert one.shortcut().toString() == "Ctrl+P"
    one.trigger()
    dialog = _dialog()
    qtbot.waitUntil(lambda: len(dialog.assets) == 1, timeout=10_000)
    dialog.symbology.setCurrentIndex(dialog.symbology.findData(Symbology.QR))
    dialog.digital_link.setChecked(True)
    qtbot.waitUntil(lambda: not dialog.preview.pixmap().isNull(), timeout=5_000)
    dialog.grab().save("/tmp/labels-dialog.png")
    dialog.file.setText(str(tmp_path / "one.pdf"))
    with qtbot.waitSignal(dialog.labels_saved, timeout=20_000):
        dialog.save()
    page = page_image(open_pdf(tmp_path / "one.pdf"), 0)
    code = decode_one(crop(page, layout_named("L7160").slot(0)), "QRCode")
    assert code.text == "https://id.gs1.org/8004/IT-000004"
    assert window.workspace.lookup.lookup(code.scan_text).card.asset_tag == "IT-000004"


def test_a_tag_that_cannot_print_shows_a_sentence(open_window, demo_data_dir, qtbot) -> None:
    window = open_window(demo_data_dir)
    window.labels_actions[1].trigger()
    dialog = _dialog()
    qtbot.waitUntil(lambda: dialog.place.count() > 0, timeout=10_000)
    dialog.save()
    assert "Choose the file" in dialog.error.text()
