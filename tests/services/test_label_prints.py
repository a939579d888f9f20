"""Labels printed: recorded in one transaction, queued once per asset, read back for the card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.identifiers import new_id
from fieldops.protocol.entities import LabelPrintFields
from fieldops.protocol.messages import Change, ChangeOp, PullResponse
from fieldops.services.label_prints import (
    LabelPrintView,
    last_label_print,
    layout_name,
    record_label_prints,
)
from fieldops.services.workspace import Workspace
from fieldops.store.models import LabelPrint, Outbox
from fieldops.sync import local


def asset_id(ws: Workspace, tag: str) -> str:
    card = ws.lookup.lookup(tag).card
    assert card is not None
    return card.id


def outbox(ws: Workspace) -> list[Outbox]:
    with ws.db.read() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.seq)))


def test_prints_are_recorded_and_queued_once_per_asset(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    first, second = asset_id(ws, "IT-000001"), asset_id(ws, "IT-000002")
    count = record_label_prints(ws.db, [first, second, first], "qr", True, "avery-l7651", "pdf")
    assert count == 2
    queued = outbox(ws)
    assert [(r.entity, r.op) for r in queued] == [("label_print", "create")] * 2
    sent = [LabelPrintFields.model_validate(r.fields) for r in queued]  # as the server checks
    assert [s.asset_id for s in sent] == [first, second]
    assert {(s.symbology, s.digital_link, s.layout, s.output) for s in sent} == {
        ("qr", True, "avery-l7651", "pdf")
    }
    with ws.db.read() as s:
        latest = last_label_print(s, first)
    assert latest is not None and latest.id == queued[0].entity_id
    assert latest.printed_at.tzinfo is not None


def test_an_unknown_asset_saves_nothing(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    known = asset_id(ws, "IT-000001")
    with pytest.raises(NotFoundError, match="1 of the assets are not on this device"):
        record_label_prints(ws.db, [known, new_id()], "code128", False, "avery-l7651", "pdf")
    assert outbox(ws) == []
    with ws.db.read() as s:
        assert last_label_print(s, known) is None


@pytest.mark.parametrize(
    ("symbology", "layout", "output", "message"),
    [
        ("ean13", "avery-l7651", "pdf", "printed as code128, qr, datamatrix"),
        ("qr", "avery-l7651", "png", "printed to pdf, zpl"),
        ("qr", "  ", "pdf", "Choose a label layout"),
        ("qr", "x" * 65, "zpl", "Choose a label layout"),
        ("qr", "avery\nl7651", "pdf", "Choose a label layout"),
    ],
)
def test_bad_choices_are_refused(
    demo_workspace: Workspace, symbology: str, layout: str, output: str, message: str
) -> None:
    ws = demo_workspace
    with pytest.raises(ValidationError, match=message):
        record_label_prints(ws.db, [asset_id(ws, "IT-000001")], symbology, False, layout, output)
    assert outbox(ws) == []


def test_no_assets_is_nothing_to_record(demo_workspace: Workspace) -> None:
    assert record_label_prints(demo_workspace.db, [], "qr", False, "avery-l7651", "pdf") == 0
    assert outbox(demo_workspace) == []


def test_the_card_line_names_the_latest_print(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    target = asset_id(ws, "IT-000001")
    record_label_prints(ws.db, [target], "code128", False, "zpl-203dpi-2x1in", "zpl")
    record_label_prints(ws.db, [target], "qr", True, "avery-l7651", "pdf")
    with ws.db.read() as s:
        latest = last_label_print(s, target)
    assert latest is not None and (latest.symbology, latest.output) == ("qr", "pdf")
    day = latest.printed_at.astimezone().date().isoformat()
    assert latest.describe() == f"Label printed {day} (QR, Avery L7651)"


def test_layout_names_read_as_words() -> None:
    assert layout_name("avery-l7651") == "Avery L7651"
    assert layout_name("zpl-203dpi-2x1in") == "ZPL 203dpi 2x1in"
    assert layout_name("letter-5160") == "Letter 5160"
    view = LabelPrintView(
        id="x", asset_id="y", symbology="datamatrix", digital_link=False, layout="a4-3x8",
        output="pdf", printed_at=datetime(2026, 12, 4, 12, tzinfo=UTC), printed_by="tom",
    )  # fmt: skip
    assert view.describe().endswith("(DataMatrix, A4 3x8)")


def test_pulled_prints_fill_the_table_and_the_newest_wins(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    target = asset_id(ws, "IT-000001")
    when = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def change(hours: int, layout: str) -> Change:
        return Change(
            cursor=hours, entity="label_print", entity_id=new_id(), op=ChangeOp.UPSERT,
            version=1,
            fields={
                "asset_id": target, "symbology": "datamatrix", "digital_link": False,
                "layout": layout, "output": "zpl",
                "printed_at": (when + timedelta(hours=hours)).isoformat(), "printed_by": "tia",
            },
        )  # fmt: skip

    response = PullResponse(
        changes=[change(2, "zpl-203dpi-2x1in"), change(1, "zpl-300dpi-2x1in")],
        next_cursor=2, has_more=False, epoch="e1", protocol_version=1,
    )  # fmt: skip
    ws.db.write(lambda s: local.apply_page(s, response))
    with ws.db.read() as s:
        assert len(s.scalars(select(LabelPrint).where(LabelPrint.asset_id == target)).all()) == 2
        latest = last_label_print(s, target)
    assert latest is not None
    assert (latest.layout, latest.printed_by) == ("zpl-203dpi-2x1in", "tia")
    assert latest.printed_at == when + timedelta(hours=2)
