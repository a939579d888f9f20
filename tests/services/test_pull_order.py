"""Pulled records that name a record arriving later wait for it, whatever their kind."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from fieldops.domain.identifiers import new_id
from fieldops.protocol.messages import Change, ChangeOp, PullResponse
from fieldops.services.workspace import Workspace
from fieldops.store.models import (
    Asset,
    AssetCode,
    Component,
    Incident,
    Location,
    Note,
    Photo,
    Replacement,
    Site,
    WaitingChange,
)
from fieldops.store.outbox import enqueue
from fieldops.sync import local

WHEN = "2026-12-04T10:00:00+00:00"
_cursor = iter(range(1000, 100_000))


def upsert(entity: str, entity_id: str, version: int = 1, **fields: Any) -> Change:
    return Change(
        cursor=next(_cursor), entity=entity, entity_id=entity_id, op=ChangeOp.UPSERT,
        version=version, fields=fields,
    )  # fmt: skip


def tombstone(entity: str, entity_id: str, version: int = 2) -> Change:
    return Change(
        cursor=next(_cursor), entity=entity, entity_id=entity_id, op=ChangeOp.DELETE,
        version=version, fields={},
    )  # fmt: skip


def asset(entity_id: str, tag: str, version: int = 1, **extra: Any) -> Change:
    return upsert(
        "asset", entity_id, version, asset_tag=tag, serial="", site_code="HQ-DC1", **extra
    )


def component(entity_id: str, asset_id: str, serial: str, version: int = 1) -> Change:
    return upsert("component", entity_id, version, asset_id=asset_id, kind="psu", serial=serial)


def incident(entity_id: str, asset_id: str | None, title: str = "PSU dead") -> Change:
    return upsert(
        "incident", entity_id, 1, asset_id=asset_id, site_code="HQ-DC1", category="hardware",
        impact="high", urgency="high", priority="P1", status="new", title=title,
        occurred_at=WHEN, reported_at=WHEN,
    )  # fmt: skip


def note(entity_id: str, incident_id: str | None, asset_id: str | None = None) -> Change:
    return upsert(
        "note", entity_id, 1, incident_id=incident_id, asset_id=asset_id, body="seen",
        author="tom", created_at=WHEN,
    )  # fmt: skip


def location(entity_id: str, name: str, parent_id: str | None, site: str = "HQ-DC1") -> Change:
    return upsert("location", entity_id, 1, site_code=site, parent_id=parent_id, kind="room",
                  name=name)  # fmt: skip


def apply(ws: Workspace, *changes: Change, has_more: bool = True) -> None:
    last = max((c.cursor for c in changes), default=next(_cursor))
    page = PullResponse(
        changes=list(changes), next_cursor=last, has_more=has_more, epoch="e1", protocol_version=1
    )
    ws.db.write(lambda s: local.apply_page(s, page))


def waiting(ws: Workspace) -> int:
    with ws.db.read() as s:
        return local.counts(s)["waiting"]


def get(ws: Workspace, model: type, entity_id: str) -> Any:
    with ws.db.read() as s:
        row = s.get(model, entity_id)
        if row is not None:
            s.expunge(row)
        return row


def test_every_kind_with_references_waits_and_only_those() -> None:
    refs = local.REFERENCES
    assert refs["site"] == {}
    assert refs["component"] == {"asset_id": "asset"}
    assert refs["location"] == {"parent_id": "location", "site_code": "site"}
    assert refs["replacement"] == {
        "asset_id": "asset", "incident_id": "incident", "component_id": "component"
    }  # fmt: skip
    assert set(refs["photo"]) == {"incident_id", "asset_id"}


def test_a_component_before_its_asset_waits_then_its_serial_looks_up(
    demo_workspace: Workspace,
) -> None:
    ws, target, part = demo_workspace, new_id(), new_id()
    apply(ws, component(part, target, "PSU-0042"))
    assert waiting(ws) == 1 and get(ws, Component, part) is None
    with ws.db.read() as s:
        assert local.state(s).cursor > 0  # the page's cursor moved even though nothing applied
    apply(ws, asset(target, "IT-LATE-1"))
    assert waiting(ws) == 0
    found = ws.lookup.lookup("PSU-0042")
    assert found.card is not None and found.card.id == target


def test_a_record_whose_parent_comes_later_in_the_same_page_is_applied(
    demo_workspace: Workspace,
) -> None:
    ws, target, case = demo_workspace, new_id(), new_id()
    apply(ws, incident(case, target), asset(target, "IT-LATE-2"))
    assert waiting(ws) == 0 and get(ws, Incident, case).asset_id == target


def test_a_chain_photo_incident_asset_across_three_pages(demo_workspace: Workspace) -> None:
    ws, target, case, shot = demo_workspace, new_id(), new_id(), new_id()
    photo = upsert("photo", shot, 1, incident_id=case, sha256="a" * 64, size=10,
                   mime="image/jpeg", width=4, height=3, created_at=WHEN)  # fmt: skip
    apply(ws, photo)
    apply(ws, incident(case, target))
    assert waiting(ws) == 2
    apply(ws, asset(target, "IT-LATE-3"))
    assert waiting(ws) == 0
    assert get(ws, Photo, shot).incident_id == case
    assert get(ws, Incident, case).asset_id == target


def test_a_record_naming_two_missing_records_waits_for_both(demo_workspace: Workspace) -> None:
    ws, target, case, text = demo_workspace, new_id(), new_id(), new_id()
    apply(ws, note(text, case, target))
    apply(ws, upsert("incident", case, **{**incident(case, None).fields}))
    assert waiting(ws) == 1 and get(ws, Note, text) is None  # still waits, now for the asset
    with ws.db.read() as s:
        assert s.get(WaitingChange, text).waits_for == target  # type: ignore[union-attr]
    apply(ws, asset(target, "IT-LATE-4"))
    assert waiting(ws) == 0
    assert (get(ws, Note, text).incident_id, get(ws, Note, text).asset_id) == (case, target)


def test_a_replacement_before_its_component_and_asset(demo_workspace: Workspace) -> None:
    ws, target, part, swap = demo_workspace, new_id(), new_id(), new_id()
    apply(ws, upsert("replacement", swap, 1, asset_id=target, component_id=part,
                     old_serial="A", new_serial="B", old_part_fate="scrapped",
                     created_at=WHEN))  # fmt: skip
    apply(ws, component(part, target, "B"))
    apply(ws, asset(target, "IT-LATE-5"))
    assert waiting(ws) == 0 and get(ws, Replacement, swap).component_id == part


def test_a_child_location_before_its_parent_and_a_location_before_its_site(
    demo_workspace: Workspace,
) -> None:
    ws, room, hall, far = demo_workspace, new_id(), new_id(), new_id()
    apply(ws, location(room, "B9", hall))
    apply(ws, location(far, "Hall", None, site="NEW-SITE"))
    assert waiting(ws) == 2
    apply(ws, location(hall, "Hall 9", None))
    apply(ws, upsert("site", new_id(), 1, code="NEW-SITE", name="New site"))
    assert waiting(ws) == 0
    assert get(ws, Location, room).parent_id == hall
    assert get(ws, Location, far).site_code == "NEW-SITE" and get(ws, Site, "NEW-SITE")


def test_a_newer_version_replaces_the_waiting_one(demo_workspace: Workspace) -> None:
    ws, target, part = demo_workspace, new_id(), new_id()
    apply(ws, component(part, target, "OLD-1", version=1))
    apply(ws, component(part, target, "NEW-1", version=2))
    assert waiting(ws) == 1
    apply(ws, asset(target, "IT-LATE-6"))
    row = get(ws, Component, part)
    assert (row.serial, row.version) == ("NEW-1", 2)
    assert not ws.lookup.lookup("OLD-1").found and ws.lookup.lookup("NEW-1").found


def test_a_waiting_version_is_never_applied_over_a_newer_one(demo_workspace: Workspace) -> None:
    """The older version waits; its asset comes; the newer version comes in the same page."""
    ws, target, part = demo_workspace, new_id(), new_id()
    apply(ws, component(part, target, "V1", 1), asset(target, "IT-LATE-7"),
          component(part, target, "V2", 2))  # fmt: skip
    assert (get(ws, Component, part).serial, waiting(ws)) == ("V2", 0)


def test_a_delete_of_a_waiting_record_removes_it(demo_workspace: Workspace) -> None:
    ws, target, part = demo_workspace, new_id(), new_id()
    apply(ws, component(part, target, "GONE-9"))
    apply(ws, tombstone("component", part))
    apply(ws, asset(target, "IT-LATE-8"))
    assert waiting(ws) == 0 and get(ws, Component, part) is None


def test_what_waited_for_a_deleted_asset_stays_as_on_a_device_that_had_it(
    demo_workspace: Workspace,
) -> None:
    """The server keeps an asset's parts and incidents when it is deleted; so does a device."""
    ws, target, part, case = demo_workspace, new_id(), new_id(), new_id()
    apply(ws, component(part, target, "ORPHAN-1"), incident(case, target))
    apply(ws, tombstone("asset", target, version=3))
    assert waiting(ws) == 0
    stand_in = get(ws, Asset, target)
    assert stand_in.status == "deleted" and stand_in.version == 3
    assert get(ws, Component, part).asset_id == target
    assert get(ws, Incident, case).asset_id == target
    assert not ws.lookup.lookup("ORPHAN-1").found  # a deleted asset cannot be scanned
    with ws.db.read() as s:
        assert not s.scalar(select(func.count()).where(AssetCode.asset_id == target))


def test_what_waited_for_a_deleted_incident_is_kept_without_the_link(
    demo_workspace: Workspace,
) -> None:
    ws, case, text = demo_workspace, new_id(), new_id()
    apply(ws, note(text, case))
    apply(ws, tombstone("incident", case))
    assert waiting(ws) == 0 and get(ws, Note, text).incident_id is None


def test_deleting_a_location_others_point_at_clears_their_link(demo_workspace: Workspace) -> None:
    ws, hall, room, target = demo_workspace, new_id(), new_id(), new_id()
    apply(ws, location(hall, "Hall", None), location(room, "Room", hall),
          asset(target, "IT-LATE-9", location_id=room))  # fmt: skip
    apply(ws, tombstone("location", room))
    assert get(ws, Location, room) is None and get(ws, Asset, target).location_id is None
    apply(ws, tombstone("location", hall))
    assert get(ws, Location, hall) is None


def test_pending_local_edits_lay_over_a_released_record(demo_workspace: Workspace) -> None:
    ws, room = demo_workspace, new_id()
    card = ws.lookup.lookup("IT-000001").card
    assert card is not None
    ws.db.write(lambda s: enqueue(s, "asset", card.id, "update", {"notes": "mine"}, 1))
    apply(ws, asset(card.id, "IT-000001", version=7, notes="theirs", location_id=room))
    assert waiting(ws) == 1
    apply(ws, location(room, "R9", None))
    row = get(ws, Asset, card.id)
    assert (row.notes, row.location_id, row.version) == ("mine", room, 7)


def test_a_record_that_waits_for_ever_is_kept_and_named_once_per_sync(
    demo_workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    ws, elsewhere, text = demo_workspace, new_id(), new_id()
    caplog.set_level(logging.WARNING, logger="fieldops.sync.local")
    apply(ws, note(text, None, elsewhere), has_more=True)
    assert not [r for r in caplog.records if text in r.getMessage()]  # not at every page
    apply(ws, has_more=False)
    named = [r.getMessage() for r in caplog.records if text in r.getMessage()]
    assert named == [f"note {text} waits for asset {elsewhere}"]
    apply(ws, has_more=False)  # the next sync names it again
    assert len([r for r in caplog.records if text in r.getMessage()]) == 2
    assert waiting(ws) == 1


def test_a_failed_page_leaves_nothing_waiting_from_it(demo_workspace: Workspace) -> None:
    """A page and what it parked are one transaction: a crash keeps neither."""
    ws, target = demo_workspace, new_id()
    with ws.db.read() as s:
        before = local.state(s).cursor
    bad = upsert("component", new_id(), 1, asset_id=target, kind="psu", serial="X")

    def boom(session: Any) -> None:
        local.apply_page(
            session,
            PullResponse(
                changes=[bad], next_cursor=bad.cursor, has_more=True, epoch="e1", protocol_version=1
            ),
        )
        raise RuntimeError("power cut")  # fmt: skip

    with pytest.raises(RuntimeError):
        ws.db.write(boom)
    with ws.db.read() as s:
        assert local.state(s).cursor == before and local.counts(s)["waiting"] == 0


def test_a_pulled_photo_without_its_size_is_kept_with_the_size_unknown(
    demo_workspace: Workspace,
) -> None:
    # The wire allows a photo whose size the taking device could not read; the page must not
    # fail on the local table's required columns.
    ws, case, shot = demo_workspace, new_id(), new_id()
    apply(ws, incident(case, None))
    apply(ws, upsert("photo", shot, 1, incident_id=case, sha256="b" * 64, size=10,
                     mime="image/heic", width=None, height=None, created_at=WHEN))  # fmt: skip
    stored = get(ws, Photo, shot)
    assert (stored.width, stored.height) == (0, 0)
