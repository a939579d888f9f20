"""The Labels dialog while saving: Cancel and Esc stop the render; nothing is chosen for you."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select

from fieldops.store.models import LabelPrint
from fieldops.ui.labels_dialog import LabelsDialog
from tests.labels.test_dialog import _dialog


def _prints(window) -> int:
    with window.workspace.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(LabelPrint)) or 0)


def _biggest_place(dialog: LabelsDialog, qtbot) -> int:
    """Chooses the place with the most assets; returns how many labels it makes."""
    qtbot.waitUntil(lambda: dialog.place.count() > 1, timeout=10_000)
    best, size = 1, 0
    for index in range(1, dialog.place.count()):
        found = len(dialog.service.for_location(str(dialog.place.itemData(index))))
        if found > size:
            best, size = index, found
    dialog.place.setCurrentIndex(best)
    qtbot.waitUntil(lambda: len(dialog.assets) == size, timeout=10_000)
    return size


def test_ctrl_p_with_no_asset_shown_chooses_no_place(open_window, demo_data_dir, qtbot) -> None:
    window = open_window(demo_data_dir)
    window.labels_actions[0].trigger()  # Ctrl+P, no asset on the card
    dialog = _dialog()
    qtbot.waitUntil(lambda: dialog.place.count() > 1, timeout=10_000)
    assert dialog.a_place.isChecked() and not dialog.this_asset.isEnabled()
    assert dialog.place.currentData() is None and dialog.assets == []
    assert not dialog.save_button.isEnabled()
    assert "scan an asset first" in dialog.count.text()
    dialog.place.setCurrentIndex(1)
    qtbot.waitUntil(lambda: bool(dialog.assets), timeout=10_000)
    assert dialog.save_button.isEnabled()


def test_esc_during_a_big_save_cancels_it(open_window, demo_data_dir, qtbot, tmp_path) -> None:
    window = open_window(demo_data_dir)
    window.labels_actions[1].trigger()
    dialog = _dialog()
    size = _biggest_place(dialog, qtbot)
    assert size > 100
    before = _prints(window)
    target = tmp_path / "room.pdf"
    dialog.file.setText(str(target))
    saved: list[object] = []
    dialog.labels_saved.connect(lambda *a: saved.append(a))
    dialog.save()
    buttons = dialog.buttons.buttons()
    cancel = next(b for b in buttons if b is not dialog.save_button)
    assert cancel.isEnabled() and not dialog.save_button.isEnabled()
    # Esc before the GUI thread has seen the render end: however far the worker got, the
    # outcome is the same (stopped, or its finished file removed), so the test cannot race.
    with qtbot.waitSignal(dialog.finished, timeout=20_000):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible()  # kept open until the render has stopped
        assert "Stopping" in dialog.error.text()
    window.lanes.wait(10_000)
    assert saved == [] and _prints(window) == before
    assert list(tmp_path.glob("*room.pdf*")) == []  # neither the file nor a partial one


def test_a_typed_name_of_an_existing_file_asks_first(
    open_window, demo_data_dir, qtbot, tmp_path: Path
) -> None:
    window = open_window(demo_data_dir)
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000):
        window.look_up("IT-000004")
    window.labels_actions[0].trigger()
    dialog = _dialog()
    qtbot.waitUntil(lambda: len(dialog.assets) == 1, timeout=10_000)
    target = tmp_path / "kept.pdf"
    target.write_bytes(b"keep me")
    dialog.file.setText(str(target))
    dialog.save()
    assert dialog.replace_box is not None
    dialog.replace_box.button(QMessageBox.StandardButton.No).click()
    assert target.read_bytes() == b"keep me" and dialog.isVisible()
    dialog.save()
    with qtbot.waitSignal(dialog.labels_saved, timeout=20_000):
        dialog.replace_box.button(QMessageBox.StandardButton.Yes).click()
    assert target.read_bytes().startswith(b"%PDF")
