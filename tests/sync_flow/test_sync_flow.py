"""Devices and the real server on loopback: nothing lost, nothing duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldops.domain.incidents import Category, Level
from fieldops.server.db import in_transaction
from fieldops.server.meta import new_epoch
from fieldops.services.incidents import IncidentDraft
from fieldops.services.workspace import Workspace
from fieldops.sync import local
from fieldops.sync.errors import SignInRequired
from fieldops.sync.transport import SyncClient
from tests.sync.central import USERS

TAG = "IT-000001"  # at HQ-DC1, tom's site


def log_incident(ws: Workspace, title: str, photos: list[Path] | None = None) -> str:
    asset = ws.lookup.lookup(TAG).card
    return ws.incidents.record(
        IncidentDraft(
            title=title,
            category=Category.HARDWARE,
            impact=Level.HIGH,
            urgency=Level.MEDIUM,
            asset_id=asset.id,
            photos=photos or [],
        )
    )


def server_incidents(central, title: str) -> list[dict]:
    with SyncClient(central.url) as client:
        client.set_token(client.login("ada", USERS["ada"][2]).token)
        found, cursor = [], 0
        while True:
            page = client.pull(cursor, 1000)
            found += [
                c.fields
                for c in page.changes
                if c.entity == "incident" and c.fields["title"] == title
            ]
            cursor = page.next_cursor
            if not page.has_more:
                return found


def test_incident_with_photos_goes_up_and_gets_its_number(
    device, central, photos_dir: Path
) -> None:
    ws = device("laptop")
    photos = [photos_dir / "asset-label-exif-rotated.jpg", photos_dir / "water-damage-with-gps.jpg"]
    incident_id = log_incident(ws, "PSU1 dead", photos)
    report = ws.sync.sync()
    assert (report.photos_sent, report.changes_sent, report.rejected) == (2, 3, 0)
    status = ws.sync.status()
    assert (status.changes, status.photos, status.last_error) == (0, 0, "")
    number = ws.incidents.get(incident_id).summary.number
    assert number is not None and number.startswith("INC-")
    [on_server] = server_incidents(central, "PSU1 dead")
    assert on_server["number"] == number and on_server["asset_id"] == ws.lookup.lookup(TAG).card.id
    again = ws.sync.sync()
    assert (again.photos_sent, again.changes_sent) == (0, 0)


def test_two_devices_converge_and_a_double_edit_comes_back_as_a_conflict(device) -> None:
    a, b = device("a"), device("b")
    incident_id = log_incident(a, "Fan noise")
    a.sync.sync()
    assert b.sync.sync().pulled > 0
    assert b.incidents.get(incident_id).summary.title == "Fan noise"

    a.incidents.update(incident_id, {"title": "Fan noise, rack R02", "status": "in-progress"})
    b.incidents.update(incident_id, {"title": "Loud fan", "description": "Bearing worn"})
    a.sync.sync()
    report = b.sync.sync()
    assert report.conflicts == 1
    [conflict] = b.review.conflicts()
    assert (conflict.field, conflict.mine, conflict.theirs) == (
        "title",
        "Loud fan",
        "Fan noise, rack R02",
    )
    detail = b.incidents.get(incident_id)
    assert detail.summary.status == "in-progress" and detail.description == "Bearing worn"

    b.review.keep_mine(conflict.id)
    b.sync.sync()
    a.sync.sync()
    for ws in (a, b):
        d = ws.incidents.get(incident_id)
        assert (d.summary.title, d.summary.status, d.description) == (
            "Loud fan",
            "in-progress",
            "Bearing worn",
        )


def test_outside_ones_sites_is_rejected_visibly_and_does_not_block(device) -> None:
    ws = device("laptop")
    leeds = ws.lookup.lookup("IT-000217").card  # BR-LEEDS: not tom's site
    ws.incidents.record(
        IncidentDraft(
            title="Not mine", category=Category.HARDWARE, impact=Level.LOW,
            urgency=Level.LOW, asset_id=leeds.id,
        )
    )  # fmt: skip
    log_incident(ws, "Mine")
    report = ws.sync.sync()
    assert report.rejected == 1 and report.changes_sent == 1
    [rejected] = ws.review.rejected()
    assert rejected.reason and "Not mine" in rejected.label


def test_revoked_sign_in_keeps_the_queue(device, central) -> None:
    ws = device("laptop")
    log_incident(ws, "Queued while signed out")
    with SyncClient(central.url) as admin:
        admin.set_token(admin.login("ada", USERS["ada"][2]).token)
        admin.revoke_tokens("tom")
    with pytest.raises(SignInRequired):
        ws.sync.sync()
    assert ws.sync.status().changes == 1
    ws.sync.login(central.url, "tom", USERS["tom"][2])
    assert ws.sync.sync().changes_sent == 1


def test_restored_server_new_epoch_resends_unsent_changes(device, central) -> None:
    ws = device("laptop")
    log_incident(ws, "Before the restore")
    ws.sync.sync()
    in_transaction(central.services.factory, new_epoch)
    log_incident(ws, "After the restore")
    report = ws.sync.sync()
    assert report.started_afresh
    assert ws.sync.status().changes == 0
    assert len(server_incidents(central, "After the restore")) == 1
    assert len(server_incidents(central, "Before the restore")) == 1


def test_cursor_the_server_does_not_know_means_a_full_pull(device) -> None:
    ws = device("laptop")
    first = ws.sync.sync().pulled  # all of tom's site: its assets, rooms and racks
    ws.db.write(lambda s: setattr(local.state(s), "cursor", 10**9))
    log_incident(ws, "Kept through the resync")
    report = ws.sync.sync()
    assert report.pulled >= first > 500 and report.changes_sent == 1
    with ws.db.read() as s:
        assert local.state(s).cursor < 10**9
        assert s.scalar(select(func.count()).select_from(local.Outbox)) == 0


@pytest.mark.parametrize("size", [1, 10, 1000, 8191, 70_000])
def test_photo_files_of_any_size_arrive_whole(central, tmp_path: Path, size: int) -> None:
    import hashlib

    data = bytes((i * 7) % 251 for i in range(size))
    sha = hashlib.sha256(data).hexdigest()
    source = tmp_path / "blob"
    source.write_bytes(data)
    with SyncClient(central.url) as client:
        client.set_token(client.login("tom", USERS["tom"][2]).token)
        assert client.upload_blob(sha, source).complete
        held = client.blob_status(sha)
    assert held.complete and held.offset == size


def test_the_token_never_lands_in_a_file(device, photos_dir: Path) -> None:
    ws = device("laptop")
    _server, token = ws.sync.token()
    assert len(token) > 16
    for n in range(3):
        log_incident(ws, f"day of work {n}", [photos_dir / "water-damage-with-gps.jpg"])
        ws.sync.sync()
    ws.sync.status()
    ws.db.close()  # flush the WAL into the database file before reading it
    secrets = [token.encode(), token.encode("utf-16-le"), USERS["tom"][2].encode()]
    for path in ws.data_dir.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secrets), f"a secret is in {path.name}"


def test_a_change_the_restored_server_holds_differently_is_set_aside(device, central) -> None:
    from fieldops.store.models import Outbox
    from fieldops.store.outbox import enqueue

    ws = device("laptop")
    incident_id = log_incident(ws, "Answer lost before a restore")
    with ws.db.read() as s:
        sent = s.scalars(select(Outbox)).one()
        copy = {k: getattr(sent, k) for k in ("mutation_id", "entity", "entity_id", "op")}
        fields = dict(sent.fields)
    ws.sync.sync()

    def lost_answer(session) -> None:  # as if the answer had never arrived
        row = enqueue(session, copy["entity"], copy["entity_id"], copy["op"], fields)
        row.mutation_id = copy["mutation_id"]

    ws.db.write(lost_answer)
    in_transaction(central.services.factory, new_epoch)
    log_incident(ws, "Made after the restore")
    report = ws.sync.sync()
    assert report.started_afresh and report.rejected == 1
    [aside] = ws.review.rejected()
    assert aside.entity_id == incident_id and aside.code == "mutation_changed"
    assert len(server_incidents(central, "Made after the restore")) == 1


def test_a_provisional_asset_registered_offline_syncs(device, central, photos_dir: Path) -> None:
    from fieldops.services.assets import ProvisionalAsset

    ws = device("laptop")
    room = next(c for c in ws.locations() if c.label == "HQ-DC1 / Server Room B3")
    asset_id = ws.assets.register_provisional(
        ProvisionalAsset(
            asset_tag="IT-NEW-0001", location_id=room.id, serial="5CG9999NEW",
            model="ProLiant DL380", label_photo=photos_dir / "asset-label-exif-rotated.jpg",
        )
    )  # fmt: skip
    found = ws.lookup.lookup("it-new-0001")
    assert found.card is not None and found.card.provisional and found.card.id == asset_id
    log_incident_on = ws.incidents.record(
        IncidentDraft(
            title="New box, no label in the catalogue", category=Category.HARDWARE,
            impact=Level.LOW, urgency=Level.LOW, asset_id=asset_id,
        )
    )  # fmt: skip
    report = ws.sync.sync()
    assert (report.rejected, report.changes_sent, report.photos_sent) == (0, 3, 1)
    other = device("desk")
    other.sync.sync()
    pulled = other.lookup.lookup("5CG9999NEW")
    assert pulled.card is not None and pulled.card.asset_tag == "IT-NEW-0001"
    assert pulled.card.provisional
    assert other.incidents.get(log_incident_on).summary.asset_tag == "IT-NEW-0001"
