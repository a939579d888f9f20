"""Codes attached and labels printed on one device reach another through the real server."""

from __future__ import annotations

from sqlalchemy import select

from fieldops.services.asset_codes import attach_code, codes_of
from fieldops.services.label_prints import last_label_print, record_label_prints
from fieldops.services.workspace import Workspace
from fieldops.store.models import AssetCode
from fieldops.sync import local

TAG = "IT-000001"  # at HQ-DC1, tom's site
LEEDS = "IT-000217"  # at BR-LEEDS, not tom's


def asset_id(ws: Workspace, tag: str) -> str:
    card = ws.lookup.lookup(tag).card
    assert card is not None
    return card.id


def test_a_code_attached_on_one_device_is_found_on_another(device) -> None:
    a, b = device("a"), device("b")
    b.sync.sync()  # b has pulled before a's changes exist
    target = asset_id(a, TAG)
    attach_code(a.db, target, "0099001", "scan", "]C00099001\r")
    assert record_label_prints(a.db, [target], "qr", True, "avery-l7651", "pdf") == 1
    report = a.sync.sync()
    assert (report.changes_sent, report.rejected) == (2, 0)
    assert a.sync.status().changes == 0

    assert b.sync.sync().pulled >= 2
    found = b.lookup.lookup("0099001")
    assert found.card is not None and found.card.id == target
    assert found.matched_kind == "label" and found.other_matches == 0
    assert not b.lookup.lookup("99001").found  # leading zeros are data
    [attached] = codes_of(b.db, target)
    assert (attached.code, attached.source, attached.created_by) == ("0099001", "scan", "tom")
    assert attached.raw == "]C00099001\\x0d"
    with b.db.read() as s:
        printed = last_label_print(s, target)
    assert printed is not None and printed.printed_by == "tom"
    assert printed.describe().endswith("(QR, Avery L7651)")


def test_the_same_code_from_two_devices_is_one_code_and_syncs_quietly(device) -> None:
    a, b = device("a"), device("b")
    target = asset_id(a, "IT-000004")  # the server is shared by the module: an asset of its own
    attach_code(a.db, target, "TWICE-1", "typed", "")
    attach_code(b.db, target, "twice-1", "scan", "twice-1")
    assert a.sync.sync().rejected == 0
    assert b.sync.sync().rejected == 0
    a.sync.sync()
    for ws in (a, b):
        assert len(codes_of(ws.db, target)) == 2  # both records are kept
        with ws.db.read() as s:
            rows = s.scalars(
                select(AssetCode.code).where(
                    AssetCode.asset_id == target, AssetCode.kind == "label"
                )
            ).all()
        assert rows == ["TWICE-1"]  # but they fill one codes row
        assert ws.lookup.lookup("Twice-1").card.id == target  # type: ignore[union-attr]


def test_a_code_outside_ones_sites_is_rejected_and_the_rest_goes(device) -> None:
    ws = device("laptop")
    leeds = asset_id(ws, LEEDS)
    attach_code(ws.db, leeds, "LEEDS-X", "typed", "")
    record_label_prints(ws.db, [asset_id(ws, TAG)], "code128", False, "zpl-203dpi-2x1in", "zpl")
    report = ws.sync.sync()
    assert (report.rejected, report.changes_sent) == (1, 1)
    [rejected] = ws.review.rejected()
    assert rejected.reason
    with ws.db.read() as s:
        assert local.counts(s)["waiting"] == 0


def test_one_code_attached_to_two_assets_on_two_devices_is_refused_the_second_time(
    device,
) -> None:
    a, b = device("a"), device("b")
    first, second = asset_id(a, "IT-000052"), asset_id(b, "IT-000055")
    attach_code(a.db, first, "SHARED-2", "typed", "")
    attach_code(b.db, second, "SHARED-2", "typed", "")
    assert a.sync.sync().rejected == 0
    assert b.sync.sync().rejected == 1
    [refused] = b.review.rejected()
    assert refused.entity == "asset_code" and "already registered" in refused.reason
    a.sync.sync()
    assert a.lookup.lookup("SHARED-2").other_tags == ()
    # Device b still has its own (refused) attachment: the card names both, never one silently.
    b.sync.sync()
    assert b.lookup.lookup("SHARED-2").other_tags != ()
    # Giving the refused change up takes the code off b's asset: one holder, as on the server.
    b.review.discard(refused.seq)
    answer = b.lookup.lookup("SHARED-2")
    assert answer.card.id == first and answer.other_tags == ()  # type: ignore[union-attr]
    assert codes_of(b.db, second) == []


def test_a_replacement_on_a_device_that_imported_the_catalogue_itself_syncs(device) -> None:
    """The device's parts are its own import (version 0): the first change to one is accepted."""
    from fieldops.services.replacements import OldPartFate, ReplacementDraft

    a, b = device("a"), device("b")
    card = a.lookup.lookup("IT-000001").card
    part = next(c for c in card.components if c.slot == "Battery module 2")
    a.replacements.record(
        ReplacementDraft(
            asset_id=card.id,
            old_serial=part.serial,
            new_serial="NEWPART-0006",
            old_part_fate=OldPartFate.SPARE,
        )
    )
    report = a.sync.sync()
    assert report.rejected == 0 and a.review.rejected() == []
    assert a.lookup.lookup("NEWPART-0006").card.asset_tag == "IT-000001"  # type: ignore[union-attr]
    b.sync.sync()
    assert b.lookup.lookup("NEWPART-0006").card.asset_tag == "IT-000001"  # type: ignore[union-attr]
    assert not b.lookup.lookup(part.serial).found


def test_an_incident_changed_before_its_first_sync_arrives_changed(device) -> None:
    from fieldops.domain.incidents import Category, Level
    from fieldops.services.incidents import IncidentDraft

    a, b = device("a"), device("b")
    card = a.lookup.lookup("IT-000006").card
    incident_id = a.incidents.record(
        IncidentDraft(
            title="PSU fan loud",
            category=Category.HARDWARE,
            impact=Level.LOW,
            urgency=Level.LOW,
            asset_id=card.id,  # type: ignore[union-attr]
        )
    )
    a.incidents.update(incident_id, {"status": "in-progress"})
    assert a.sync.sync().rejected == 0
    b.sync.sync()
    assert b.incidents.get(incident_id).summary.status == "in-progress"
