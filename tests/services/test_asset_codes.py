"""Codes attached to an asset in the field: checked, findable at once, queued, pulled back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.identifiers import new_id
from fieldops.protocol.entities import AssetCodeFields
from fieldops.protocol.messages import Change, ChangeOp, MutationResult, Outcome, PullResponse
from fieldops.services.asset_codes import (
    CodeAlreadyAttached,
    attach_code,
    codes_of,
    escape_controls,
)
from fieldops.services.workspace import Workspace
from fieldops.store.models import Asset, AssetCode, AssetCodeEvent, LabelPrint, Outbox
from fieldops.sync import local
from tests.services.test_sync_local import push_response

TAG = "IT-000001"
OTHER = "IT-000002"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def asset_id(ws: Workspace, tag: str = TAG) -> str:
    card = ws.lookup.lookup(tag).card
    assert card is not None
    return card.id


def outbox(ws: Workspace) -> list[Outbox]:
    with ws.db.read() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.seq)))


def label_codes(ws: Workspace, target: str) -> list[str]:
    with ws.db.read() as s:
        query = select(AssetCode.code).where(
            AssetCode.asset_id == target, AssetCode.kind == "label"
        )
        return list(s.scalars(query))


def page(*changes: Change, cursor: int = 10) -> PullResponse:
    return PullResponse(
        changes=list(changes), next_cursor=cursor, has_more=False, epoch="e1", protocol_version=1
    )


def code_change(target: str, code: str, entity_id: str | None = None, **extra: Any) -> Change:
    fields = {
        "asset_id": target,
        "code": code,
        "kind": "label",
        "source": "typed",
        "raw": code,
        "created_at": NOW.isoformat(),
        "created_by": "tia",
        **extra,
    }
    return Change(
        cursor=1,
        entity="asset_code",
        entity_id=entity_id or new_id(),
        op=ChangeOp.UPSERT,
        version=1,
        fields=fields,
    )


def tombstone(entity: str, entity_id: str) -> Change:
    return Change(
        cursor=2, entity=entity, entity_id=entity_id, op=ChangeOp.DELETE, version=2, fields={}
    )


def test_an_attached_code_is_found_at_once_and_queued(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    target = asset_id(ws)
    record_id = attach_code(ws.db, target, " 0012345 ", "scan", "]C00012345\r")
    found = ws.lookup.lookup("0012345")
    assert found.card is not None and found.card.id == target
    assert (found.matched_kind, found.other_matches) == ("label", 0)
    assert not ws.lookup.lookup("12345").found  # leading zeros are data
    assert ws.lookup.lookup("]C00012345\r").found  # the scanner's own spelling too

    [row] = outbox(ws)
    assert (row.entity, row.entity_id, row.op) == ("asset_code", record_id, "create")
    sent = AssetCodeFields.model_validate(row.fields)  # what the server will check
    assert (sent.asset_id, sent.code, sent.kind, sent.source) == (
        target,
        "0012345",
        "label",
        "scan",
    )
    assert sent.raw == "]C00012345\\x0d"
    [attached] = codes_of(ws.db, target)
    assert (attached.id, attached.code, attached.raw) == (record_id, "0012345", sent.raw)
    assert attached.created_at.tzinfo is not None


def test_a_code_the_asset_already_answers_to_is_refused(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    target = asset_id(ws)
    with pytest.raises(CodeAlreadyAttached, match=f"^{TAG} already answers to it-000001.$"):
        attach_code(ws.db, target, "it-000001", "typed", "")  # its own tag, in another case
    attach_code(ws.db, target, "0012345", "typed", "")
    with pytest.raises(CodeAlreadyAttached, match=f"{TAG} already answers to 0012345"):
        attach_code(ws.db, target, "0012345", "scan", "0012345")
    assert len(outbox(ws)) == 1 and len(codes_of(ws.db, target)) == 1


@pytest.mark.parametrize(
    ("code", "source", "message"),
    [
        ("", "scan", "Give the code"),
        ("   ", "scan", "Give the code"),
        ("A" * 129, "scan", "at most 128 characters; this one has 129"),
        ("00\x1d12", "scan", "control character"),
        ("0012", "guessed", "how the code was read"),
    ],
)
def test_bad_codes_are_refused_and_nothing_is_saved(
    demo_workspace: Workspace, code: str, source: str, message: str
) -> None:
    ws = demo_workspace
    with pytest.raises(ValidationError, match=message):
        attach_code(ws.db, asset_id(ws), code, source, "")
    assert outbox(ws) == [] and codes_of(ws.db, asset_id(ws)) == []


def test_an_unknown_asset_is_refused(demo_workspace: Workspace) -> None:
    with pytest.raises(NotFoundError, match="not on this device"):
        attach_code(demo_workspace.db, new_id(), "0012345", "typed", "")
    assert outbox(demo_workspace) == []


def test_a_code_that_finds_another_asset_is_refused(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    first, second = asset_id(ws), asset_id(ws, OTHER)
    attach_code(ws.db, first, "SHARED-1", "typed", "")
    with pytest.raises(CodeAlreadyAttached, match="a label names one asset"):
        attach_code(ws.db, second, "shared-1", "typed", "")
    with pytest.raises(CodeAlreadyAttached, match="already finds asset"):
        attach_code(ws.db, second, TAG, "typed", "")  # the first asset's own tag
    found = ws.lookup.lookup("SHARED-1")
    assert found.card.id == first and found.other_matches == 0


def test_raw_scans_are_escaped_and_capped_without_cutting_an_escape() -> None:
    assert escape_controls("]C1\x1d01\\x\r\n\x04") == "]C1\\x1d01\\\\x\\x0d\\x0a\\x04"
    assert escape_controls("é€") == "é€"
    capped = escape_controls("A" * 254 + "\x1d")
    assert capped == "A" * 254  # the four-character escape does not fit: left out whole
    assert len(escape_controls("\r" * 100)) == 256
    AssetCodeFields.model_validate(
        {"asset_id": new_id(), "code": "X", "source": "scan", "created_at": NOW.isoformat(),
         "raw": escape_controls("\x00" * 300)}
    )  # fmt: skip


def test_pulled_codes_fill_one_codes_row_and_a_tombstone_removes_it_last(
    demo_workspace: Workspace,
) -> None:
    ws = demo_workspace
    target = asset_id(ws)
    first, second = new_id(), new_id()
    ws.db.write(
        lambda s: local.apply_page(
            s, page(code_change(target, "LBL-9", first), code_change(target, "lbl-9", second))
        )
    )
    assert label_codes(ws, target) == ["LBL-9"]
    assert {c.id for c in codes_of(ws.db, target)} == {first, second}
    assert ws.lookup.lookup("lbl-9").card.id == target  # type: ignore[union-attr]

    ws.db.write(lambda s: local.apply_page(s, page(tombstone("asset_code", first), cursor=11)))
    assert label_codes(ws, target) == ["LBL-9"]  # the other record still attaches it
    ws.db.write(lambda s: local.apply_page(s, page(tombstone("asset_code", second), cursor=12)))
    assert label_codes(ws, target) == [] and not ws.lookup.lookup("LBL-9").found


def test_a_code_pulled_before_its_asset_waits_for_it(demo_workspace: Workspace) -> None:
    """The server sends records in the order they last changed: an asset edited after a code was
    attached comes after the code, perhaps on a later page."""
    ws = demo_workspace
    new_asset = new_id()
    code = code_change(new_asset, "EARLY-1")
    ws.db.write(lambda s: local.apply_page(s, page(code, cursor=20)))
    with ws.db.read() as s:
        assert local.counts(s)["waiting"] == 1
        assert local.state(s).cursor == 20
    assert not ws.lookup.lookup("EARLY-1").found

    asset = Change(
        cursor=21, entity="asset", entity_id=new_asset, op=ChangeOp.UPSERT, version=3,
        fields={"asset_tag": "IT-LATE", "serial": "", "site_code": "HQ-DC1"},
    )  # fmt: skip
    ws.db.write(lambda s: local.apply_page(s, page(asset, cursor=21)))
    assert ws.lookup.lookup("EARLY-1").card.id == new_asset  # type: ignore[union-attr]
    with ws.db.read() as s:
        assert local.counts(s)["waiting"] == 0


def test_a_waiting_code_of_a_deleted_asset_is_dropped(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    gone = new_id()
    ws.db.write(lambda s: local.apply_page(s, page(code_change(gone, "GONE-1"))))
    ws.db.write(lambda s: local.apply_page(s, page(tombstone("asset", gone), cursor=11)))
    with ws.db.read() as s:
        assert local.counts(s)["waiting"] == 0


def test_starting_afresh_forgets_what_waited(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    ws.db.write(lambda s: local.apply_page(s, page(code_change(new_id(), "AGAIN-1"))))
    ws.db.write(lambda s: local.start_afresh(s, "e2"))
    with ws.db.read() as s:
        assert local.counts(s)["waiting"] == 0 and local.state(s).cursor == 0


def test_an_unknown_kind_in_a_pull_page_is_skipped_and_the_rest_applied(
    demo_workspace: Workspace,
) -> None:
    """A later server may send kinds this version does not know: skip them, keep going."""
    ws = demo_workspace
    target = asset_id(ws)
    strange = Change(
        cursor=1, entity="rack_diagram", entity_id=new_id(), op=ChangeOp.UPSERT, version=1,
        fields={"asset_id": target, "svg": "<svg/>"},
    )  # fmt: skip
    gone = Change(
        cursor=2, entity="rack_diagram", entity_id=new_id(), op=ChangeOp.DELETE, version=2,
        fields={},
    )  # fmt: skip
    applied = ws.db.write(
        lambda s: local.apply_page(s, page(strange, gone, code_change(target, "AFTER-1"), cursor=3))
    )
    assert applied == 3
    assert ws.lookup.lookup("AFTER-1").found
    with ws.db.read() as s:
        assert local.state(s).cursor == 3


def test_an_asset_deleted_on_the_server_no_longer_answers_to_its_codes(
    demo_workspace: Workspace,
) -> None:
    ws = demo_workspace
    target = asset_id(ws)
    attach_code(ws.db, target, "DEL-1", "typed", "")
    ws.db.write(lambda s: local.apply_page(s, page(tombstone("asset", target))))
    assert not ws.lookup.lookup("DEL-1").found
    assert len(codes_of(ws.db, target)) == 1  # the history stays with the (deleted) asset
    with pytest.raises(NotFoundError):
        attach_code(ws.db, target, "DEL-2", "typed", "")


def test_removing_an_asset_row_removes_its_codes_and_prints(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    doomed = new_id()

    def add(s: Any) -> None:
        s.add(Asset(id=doomed, asset_tag="IT-DOOMED", tag_key="IT-DOOMED"))

    ws.db.write(add)
    attach_code(ws.db, doomed, "DOOMED-1", "typed", "")
    from fieldops.services.label_prints import record_label_prints

    record_label_prints(ws.db, [doomed], "qr", False, "avery-l7651", "pdf")
    ws.db.write(lambda s: s.execute(delete(Asset).where(Asset.id == doomed)))
    with ws.db.read() as s:
        for model in (AssetCodeEvent, LabelPrint, AssetCode):
            query = select(func.count()).select_from(model).where(model.asset_id == doomed)
            assert s.scalar(query) == 0, model.__name__


def test_an_applied_answer_removes_the_queued_code(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    attach_code(ws.db, asset_id(ws), "ACK-1", "typed", "")
    [row] = outbox(ws)
    result = MutationResult(
        mutation_id=row.mutation_id, seq=row.seq, entity=row.entity, entity_id=row.entity_id,
        outcome=Outcome.APPLIED, version=1,
    )  # fmt: skip
    tally = ws.db.write(lambda s: local.apply_push(s, push_response([result]), 0))
    assert (tally.applied, tally.rejected) == (1, 0)
    assert outbox(ws) == [] and ws.lookup.lookup("ACK-1").found
