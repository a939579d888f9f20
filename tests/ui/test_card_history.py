"""The card's history: codes attached in the field, replacements and labels printed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import select

from fieldops.services.label_prints import record_label_prints
from fieldops.services.replacements import OldPartFate, ReplacementDraft
from fieldops.store.models import Outbox
from fieldops.ui.attach_dialog import AttachCodeDialog
from fieldops.ui.main_window import MainWindow


@pytest.fixture
def window(open_window, demo_data_dir) -> MainWindow:
    return open_window(demo_data_dir)


def show(qtbot, window: MainWindow, code: str):
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        window.look_up(code)
    return shown.args[0]


def test_an_unknown_label_attached_to_a_known_asset_finds_it(qtbot, window: MainWindow) -> None:
    assert show(qtbot, window, "BOX-LBL-7781").card is None
    assert window.card._attach.isVisible()
    window.card._attach.click()
    dialog = window._dialogs[-1]
    assert isinstance(dialog, AttachCodeDialog) and dialog.code == "BOX-LBL-7781"
    qtbot.waitExposed(dialog)
    QTest.keyClicks(dialog.asset_field, "J344WPWW")  # the asset's serial, typed
    QTest.keyClick(dialog.asset_field, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.attach_button.isEnabled, timeout=10_000)
    assert "IT-000217" in dialog.found.text()
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        dialog.attach_button.click()
    result = shown.args[0]
    assert result.card.asset_tag == "IT-000217" and result.matched_kind == "label"
    assert window.card._fields["also"].text() == "BOX-LBL-7781"
    assert "attached label" in window.card._matched.text()
    with window.workspace.db.read() as session:
        queued = session.scalars(select(Outbox).where(Outbox.entity == "asset_code")).one()
        assert queued.fields["code"] == "BOX-LBL-7781" and queued.fields["source"] == "scan"


def test_an_asset_that_matches_nothing_either_cannot_be_attached(qtbot, window) -> None:
    window.attach_code(show(qtbot, window, "BOX-LBL-7781"))
    dialog = window._dialogs[-1]
    dialog.find("NO-SUCH-ASSET-1")
    qtbot.waitUntil(lambda: "either" in dialog.found.text(), timeout=10_000)
    assert not dialog.attach_button.isEnabled()


def test_replacements_and_labels_printed_show_on_the_card(qtbot, window: MainWindow) -> None:
    card = show(qtbot, window, "IT-000217").card
    assert window.card._fields["label"].text() == "none printed"
    psu = next(c for c in card.components if c.slot == "PSU2")
    window.workspace.replacements.record(
        ReplacementDraft(
            asset_id=card.id,
            component_id=psu.id,
            old_serial=psu.serial,
            new_serial="5CG5678NEW",
            rma_number="RMA-42",
            old_part_fate=OldPartFate.RETURNED,
        )
    )
    record_label_prints(window.workspace.db, [card.id], "qr", False, "avery-l7651", "pdf")
    show(qtbot, window, "IT-000217")
    table = window.card._replacements
    assert table.rowCount() == 1
    row = [table.item(0, column).text() for column in range(table.columnCount())]
    assert row[1:] == [
        "psu PSU2",
        psu.serial,
        "5CG5678NEW",
        "RMA-42",
        "Returned to the vendor (RMA)",
    ]
    assert window.card._history.tabText(1) == "Replacements (1)"
    assert window.card._fields["label"].text().startswith("Label printed ")
    assert "Avery L7651" in window.card._fields["label"].text()


def test_a_scanned_label_is_attached_as_later_scans_read_it(qtbot, window: MainWindow) -> None:
    """A GS1 serial or a scanner's AIM prefix is never stored as part of the code."""
    gs1 = "(01)09501101530003(21)PSUX-77"
    window.attach_code(show(qtbot, window, gs1))
    dialog = window._dialogs[-1]
    dialog.find("IT-000217")
    qtbot.waitUntil(dialog.attach_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000):
        dialog.attach_button.click()
    for again in (gs1, "PSUX-77", "]C0PSUX-77"):
        assert show(qtbot, window, again).card.asset_tag == "IT-000217", again


def test_a_product_number_offers_no_attach(qtbot, window: MainWindow) -> None:
    assert show(qtbot, window, "]E04006381333931").card is None
    assert not window.card._attach.isVisible()
    assert window.card._register.isVisible()


def test_a_code_of_another_asset_is_refused_and_two_holders_are_named(
    qtbot, window: MainWindow
) -> None:
    from fieldops.services.asset_codes import CodeAlreadyAttached, attach_code

    db = window.workspace.db
    one = show(qtbot, window, "IT-000001").card
    two = show(qtbot, window, "IT-000002").card
    attach_code(db, one.id, "SHARED-2", "typed", "SHARED-2")
    with pytest.raises(CodeAlreadyAttached, match="already finds asset IT-000001"):
        attach_code(db, two.id, "SHARED-2", "typed", "SHARED-2")
    # A second holder can still arrive from the server (attached on another device first).
    from fieldops.sync.local import add_attached_code

    db.write(lambda s: add_attached_code(s, two.id, "label", "SHARED-2"))
    result = show(qtbot, window, "SHARED-2")
    assert result.card.asset_tag == "IT-000001" and result.other_tags == ("IT-000002",)
    assert "also names" in window.card._matched.text()
    with qtbot.waitSignal(window.lookup_shown, timeout=10_000) as shown:
        window.card._matched.linkActivated.emit("IT-000002")
    assert shown.args[0].card.asset_tag == "IT-000002"
