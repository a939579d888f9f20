"""Recording part replacements: checks, the part's new serial, and what is queued."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldops.domain.errors import FieldOpsError, NotFoundError
from fieldops.services.replacements import OldPartFate, ReplacementDraft
from fieldops.store.models import Asset, Component, Outbox


def _asset(workspace, tag: str) -> Asset:
    with workspace.db.read() as session:
        return session.scalars(select(Asset).where(Asset.asset_tag == tag)).one()


def _draft(asset_id: str, **changes) -> ReplacementDraft:
    values = dict(
        asset_id=asset_id,
        old_serial="5CG1234OLD",
        new_serial="5CG5678NEW",
        old_part_fate=OldPartFate.SCRAPPED,
    )
    values.update(changes)
    return ReplacementDraft(**values)


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("", "5CG5678NEW", "old serial"),
        ("5CG1234OLD", "  ", "new serial"),
        ("5cg1234old", "5CG1234OLD", "same as the old"),
        ("]E04006381333931", "5CG5678NEW", "product or shipment number"),
        ("]E04006381333932", "5CG5678NEW", "check digit"),
        ("5CG1234OLD", "IT-000217", "own tag"),
        ("5CG1234OLD", "IT-000001", "tag of asset IT-000001"),
        ("5CG1234OLD", "J344WPWW", "serial number of asset IT-000217 itself"),
        ("5CG1234OLD", "AS6915283040", "serial number of asset IT-000001 itself"),
        ("X" * 129, "5CG5678NEW", "longer than 128"),
    ],
)
def test_bad_serials_are_refused_with_a_sentence(demo_workspace, old, new, words) -> None:
    asset = _asset(demo_workspace, "IT-000217")
    with pytest.raises(FieldOpsError) as refused:
        demo_workspace.replacements.record(_draft(asset.id, old_serial=old, new_serial=new))
    assert words in refused.value.message
    with demo_workspace.db.read() as session:
        assert session.scalars(select(Outbox)).all() == []


def test_a_part_of_another_asset_is_refused_and_nothing_is_saved(demo_workspace) -> None:
    asset = _asset(demo_workspace, "IT-000217")
    other = _asset(demo_workspace, "IT-000001")
    with demo_workspace.db.read() as session:
        foreign = session.scalars(select(Component).where(Component.asset_id == other.id)).first()
    with pytest.raises(NotFoundError):
        demo_workspace.replacements.record(_draft(asset.id, component_id=foreign.id))
    with demo_workspace.db.read() as session:
        assert session.get(Component, foreign.id).serial != "5CG5678NEW"
        assert session.scalars(select(Outbox)).all() == []


def test_an_unlisted_part_leaves_the_components_alone(demo_workspace) -> None:
    asset = _asset(demo_workspace, "IT-000217")
    replacement_id = demo_workspace.replacements.record(_draft(asset.id, rma_number=" RMA-1 "))
    history = demo_workspace.replacements.history(asset.id)
    assert [h.id for h in history] == [replacement_id]
    assert history[0].rma_number == "RMA-1" and history[0].part == ""
    with demo_workspace.db.read() as session:
        queued = session.scalars(select(Outbox)).all()
        assert [(o.entity, o.op) for o in queued] == [("replacement", "create")]
        assert queued[0].fields["old_part_fate"] == "scrapped"
        assert queued[0].fields["component_id"] is None


def test_scanned_serials_are_stored_as_later_scans_find_them(demo_workspace) -> None:
    asset = _asset(demo_workspace, "IT-000217")
    gs1 = "(01)09501101530003(21)NEWDISK-1"
    demo_workspace.replacements.record(
        _draft(asset.id, old_serial="]C0BZB7Y47H44DR", new_serial=gs1)
    )
    saved = demo_workspace.replacements.history(asset.id)[0]
    assert (saved.old_serial, saved.new_serial) == ("BZB7Y47H44DR", "NEWDISK-1")
    assert saved.part == "psu PSU1", "the old serial picks the part it names"
    for scan in (gs1, "NEWDISK-1", "]C0NEWDISK-1"):
        assert demo_workspace.lookup.lookup(scan).card.asset_tag == "IT-000217", scan
