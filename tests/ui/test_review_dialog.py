"""The review of what sync handed back: conflicts side by side, refused changes to fix."""

from __future__ import annotations

from sqlalchemy import select

from fieldops.protocol.messages import Outcome
from fieldops.store.models import Outbox
from fieldops.sync import local
from fieldops.ui.review_dialog import ChangeEditor, ReviewDialog
from tests.services.test_sync_local import answer, push_response, record_incident


def _queued(workspace) -> list[Outbox]:
    with workspace.db.read() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.seq)))


def test_conflicts_and_rejections_are_shown_and_decided(qtbot, window) -> None:
    ws = window.workspace
    record_incident(ws, "mine")
    record_incident(ws, "refused")
    first, second = _queued(ws)
    response = push_response(
        [
            answer(first, Outcome.CONFLICT, version=2, conflicts=["title"],
                   server_values={"title": "theirs"}),
            answer(second, Outcome.REJECTED, code="outside_sites", reason="Not your site."),
        ]
    )  # fmt: skip
    ws.db.write(lambda s: local.apply_push(s, response, 0))

    dialog = ReviewDialog(ws, window.lanes, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.conflicts.rowCount() == 1 and dialog.rejected.rowCount() == 1)
    cells = [dialog.conflicts.item(0, c).text() for c in range(4)]
    assert cells[1:] == ["title", "mine", "theirs"]
    assert dialog.rejected.item(0, 2).text() == "Not your site."

    with qtbot.waitSignal(dialog.decided, timeout=10_000):
        dialog.keep_mine_button.click()
    again = _queued(ws)[-1]
    assert again.fields == {"title": "mine"} and again.base_version == 2
    qtbot.waitUntil(lambda: dialog.conflicts.rowCount() == 0)

    editor = ChangeEditor(dialog.rejected_rows[0], dialog)
    qtbot.addWidget(editor)
    editor.editors["title"].setText("refused, fixed")
    assert editor.changed() == {"title": "refused, fixed"}
    with qtbot.waitSignal(dialog.decided, timeout=10_000):
        dialog.discard_button.click()
    qtbot.waitUntil(lambda: dialog.rejected.rowCount() == 0)
    assert all(r.state == "pending" for r in _queued(ws))
