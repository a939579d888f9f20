"""Recording incidents: rules, photos by SHA-256, outbox rows in the same transaction."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldops.domain.errors import FieldOpsError, ValidationError
from fieldops.domain.incidents import Category, Level, PhysicalSubtype
from fieldops.services.incidents import IncidentDraft
from fieldops.services.workspace import Workspace
from fieldops.store.models import BlobUpload, Incident, Outbox, Photo


def draft(ws: Workspace, **changes) -> IncidentDraft:
    asset = ws.lookup.lookup("IT-000217").card
    values = dict(
        title="PSU1 dead",
        category=Category.HARDWARE,
        impact=Level.HIGH,
        urgency=Level.MEDIUM,
        asset_id=asset.id,
    )
    values.update(changes)
    return IncidentDraft(**values)


def outbox(ws: Workspace) -> list[Outbox]:
    with ws.db.read() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.seq)))


def test_incident_with_photos_is_stored_and_queued(
    demo_workspace: Workspace, photos_dir: Path
) -> None:
    photos = [photos_dir / "asset-label-exif-rotated.jpg", photos_dir / "server-front.heic"]
    incident_id = demo_workspace.incidents.record(
        draft(
            demo_workspace,
            category=Category.PHYSICAL,
            subtype=PhysicalSubtype.IMPACT,
            photos=photos,
            occurred_at=datetime(2026, 12, 4, 9, 30, tzinfo=UTC),
        )
    )
    detail = demo_workspace.incidents.get(incident_id)
    assert detail.summary.priority == "P2"
    assert detail.summary.site_code == "BR-LEEDS"
    assert detail.place.rack == "R08"
    assert detail.summary.occurred_at == datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    for view, source in zip(detail.photos, photos, strict=True):
        assert view.original is not None and view.original.read_bytes() == source.read_bytes()
        assert view.sha256 == hashlib.sha256(view.copy.read_bytes()).hexdigest()
        assert view.thumbnail is not None and view.thumbnail.stat().st_size > 1000
    # The travelling copy of the HEIC is a JPEG; the rotated label's copy is turned upright.
    assert [p.mime for p in detail.photos] == ["image/jpeg", "image/jpeg"]
    assert (detail.photos[0].width, detail.photos[0].height) == (1600, 1200)

    rows = outbox(demo_workspace)
    assert [(r.entity, r.op) for r in rows] == [
        ("incident", "create"),
        ("photo", "create"),
        ("photo", "create"),
    ]
    assert rows[0].entity_id == incident_id
    assert rows[0].fields["title"] == "PSU1 dead" and rows[0].fields["priority"] == "P2"
    assert rows[1].fields["incident_id"] == incident_id
    assert len({r.mutation_id for r in rows}) == 3


def test_the_same_photo_twice_is_stored_once(demo_workspace: Workspace, photos_dir: Path) -> None:
    photo = photos_dir / "water-damage-with-gps.jpg"
    demo_workspace.incidents.record(draft(demo_workspace, photos=[photo]))
    demo_workspace.incidents.record(draft(demo_workspace, photos=[photo]))
    files = [p for p in demo_workspace.data_dir.blobs.rglob("*") if p.is_file()]
    assert len(files) == 2  # the original and its travelling copy, once each
    with demo_workspace.db.read() as s:
        assert len(s.scalars(select(BlobUpload)).all()) == 1


def test_the_travelling_copy_has_no_gps(demo_workspace: Workspace, photos_dir: Path) -> None:
    import shutil
    import subprocess

    incident_id = demo_workspace.incidents.record(
        draft(demo_workspace, photos=[photos_dir / "water-damage-with-gps.jpg"])
    )
    view = demo_workspace.incidents.get(incident_id).photos[0]
    assert shutil.which("exiftool"), "exiftool is installed by tools/system-deps.sh"
    tags = subprocess.run(
        ["exiftool", "-s", "-a", "-G", str(view.copy), str(view.thumbnail)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "GPS" not in tags
    original = subprocess.run(
        ["exiftool", "-s", "-GPSLatitude", str(view.original)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "GPSLatitude" in original  # the original on the device is untouched


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "too long"),
        ({"category": Category.PHYSICAL}, "subtype"),
        ({"subtype": PhysicalSubtype.FIRE}, "Only physical"),
        ({"asset_id": None}, "which asset or location"),
    ],
)
def test_bad_drafts_are_refused_and_nothing_is_saved(
    demo_workspace: Workspace, changes: dict, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        demo_workspace.incidents.record(draft(demo_workspace, **changes))
    assert outbox(demo_workspace) == []


def test_unreadable_photo_refuses_the_incident_and_keeps_nothing(
    demo_workspace: Workspace, tmp_path: Path
) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"%PDF-1.7 not a picture")
    with pytest.raises(FieldOpsError):
        demo_workspace.incidents.record(draft(demo_workspace, photos=[fake]))
    with demo_workspace.db.read() as s:
        assert s.scalars(select(Incident)).all() == []
        assert s.scalars(select(Photo)).all() == []
    assert outbox(demo_workspace) == []


def test_list_filters_and_show_by_prefix(demo_workspace: Workspace) -> None:
    a = demo_workspace.incidents.record(draft(demo_workspace, title="A"))
    demo_workspace.incidents.record(
        draft(demo_workspace, title="B", impact=Level.LOW, urgency=Level.LOW)
    )
    assert [i.title for i in demo_workspace.incidents.list(priority="P4")] == ["B"]
    assert len(demo_workspace.incidents.list(status="new")) == 2
    assert demo_workspace.incidents.get(a[:24]).summary.title == "A"
    with pytest.raises(FieldOpsError, match="first 6"):
        demo_workspace.incidents.get("01")


def test_card_lists_the_assets_incidents(demo_workspace: Workspace) -> None:
    demo_workspace.incidents.record(draft(demo_workspace, title="Fan noise"))
    card = demo_workspace.lookup.lookup("it-000217").card
    assert [i.title for i in card.incidents] == ["Fan noise"]
