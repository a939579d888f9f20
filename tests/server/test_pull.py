"""Pull: one monotonic cursor, pages, site scoping, tombstones, retention, epoch, versions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fieldops.protocol import (
    EPOCH_HEADER,
    MIN_CLIENT_VERSION,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    Paths,
    PullResponse,
)
from fieldops.server.backup import restore_backup, write_backup
from fieldops.server.pull import purge
from fieldops.server.services import Services
from tests.server.conftest import RunningServer, light_settings
from tests.server.helpers import Device, asset, incident, only


def test_pages_follow_one_rising_cursor(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    tom.push_ok(device, *[device.create("incident", incident()) for _ in range(7)])
    first = PullResponse.model_validate(tom.pull(0, limit=3).json())
    assert len(first.changes) == 3 and first.has_more
    assert first.protocol_version == PROTOCOL_VERSION
    changes, cursor = tom.pull_all(0, limit=3)
    cursors = [c["cursor"] for c in changes]
    assert cursors == sorted(cursors) and len(set(cursors)) == 7
    assert cursor == cursors[-1]
    assert all(c["op"] == "upsert" and c["version"] == 1 for c in changes)
    nothing = tom.pull(cursor).json()
    assert nothing["changes"] == [] and nothing["next_cursor"] == cursor and not nothing["has_more"]


def test_an_edited_record_comes_again_at_a_higher_cursor(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    case = device.create("incident", incident())
    tom.push_ok(device, case, device.create("incident", incident()))
    _, cursor = tom.pull_all()
    tom.push_ok(device, device.update("incident", case["entity_id"], 1, title="Second look"))
    changes, _ = tom.pull_all(cursor)
    assert [(c["entity_id"], c["version"]) for c in changes] == [(case["entity_id"], 2)]
    assert changes[0]["fields"]["title"] == "Second look"
    assert changes[0]["cursor"] > cursor


def test_pull_is_scoped_to_the_callers_sites(server: RunningServer) -> None:
    tom, tia, lee = server.api("tom"), server.api("tia"), server.api("lee")
    here, there = Device(), Device()
    mine = here.create("incident", incident())
    tom.push_ok(here, mine)
    theirs = there.create("incident", incident(site="BR-LEEDS"))
    tia.push_ok(there, theirs)
    assert {c["entity_id"] for c in tom.pull_all()[0]} == {mine["entity_id"]}
    assert {c["entity_id"] for c in tia.pull_all()[0]} == {theirs["entity_id"]}
    assert {c["entity_id"] for c in lee.pull_all()[0]} == {mine["entity_id"], theirs["entity_id"]}


def test_catalogue_travels_through_the_same_pull(server: RunningServer, demo_dir: Path) -> None:
    ada, tom = server.api("ada"), server.api("tom")
    for name in ("catalogue-snipeit.csv", "components.csv"):
        data = (demo_dir / name).read_bytes()
        answer = ada.post(Paths.CATALOGUE_IMPORT, data=data, headers={"Content-Type": "text/csv"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["errors"] == []
    changes, _ = tom.pull_all(limit=5000)
    kinds = {c["entity"] for c in changes}
    assert kinds == {"site", "location", "asset", "component"}
    assets = [c for c in changes if c["entity"] == "asset"]
    assert assets and all(c["fields"]["site_code"] == "HQ-DC1" for c in assets)
    sites = [c["fields"]["code"] for c in changes if c["entity"] == "site"]
    assert sites == ["HQ-DC1"]
    first = next(c for c in assets if c["fields"]["asset_tag"] == "IT-000001")
    rack = next(c for c in changes if c["entity_id"] == first["fields"]["location_id"])
    assert (rack["fields"]["kind"], rack["fields"]["name"]) == ("rack", "R02")
    assert (first["fields"]["rack_u"], first["fields"]["rack_face"]) == (34, "front")


def test_deletes_arrive_as_tombstones(server: RunningServer) -> None:
    tom, lee = server.api("tom"), server.api("lee")
    device, desk = Device(), Device()
    case = device.create("incident", incident())
    tom.push_ok(device, case)
    _, cursor = tom.pull_all()
    lee.push_ok(desk, desk.delete("incident", case["entity_id"]))
    changes, _ = tom.pull_all(cursor)
    assert changes == [
        {
            "cursor": changes[0]["cursor"],
            "entity": "incident",
            "entity_id": case["entity_id"],
            "op": "delete",
            "version": 2,
            "fields": {},
        }
    ]


def test_cursor_older_than_retention_needs_full_resync(server: RunningServer) -> None:
    tom, lee = server.api("tom"), server.api("lee")
    device, desk = Device(), Device()
    old, kept = device.create("incident", incident()), device.create("incident", incident())
    tom.push_ok(device, old, kept)
    _, stale_cursor = tom.pull_all()
    lee.push_ok(desk, desk.delete("incident", old["entity_id"]))
    _, fresh_cursor = tom.pull_all()
    svc = server.services
    assert purge(svc.factory, svc.settings.tombstone_retention, server.clock) == 0
    server.clock.advance(svc.settings.tombstone_retention + timedelta(days=1))
    assert purge(svc.factory, svc.settings.tombstone_retention, server.clock) == 1

    tom = server.api("tom")  # the old sign-in expired meanwhile
    gone = tom.pull(stale_cursor)
    assert gone.status_code == 410
    assert gone.json()["code"] == "resync_required"
    assert tom.pull(fresh_cursor).status_code == 200
    full, _ = tom.pull_all(0)
    assert [c["entity_id"] for c in full] == [kept["entity_id"]]


def test_cursor_from_the_future_needs_full_resync(server: RunningServer) -> None:
    answer = server.api("tom").pull(10**9)
    assert answer.status_code == 410 and answer.json()["code"] == "resync_required"


def test_every_answer_carries_epoch_and_protocol(server: RunningServer) -> None:
    tom = server.api("tom")
    info = tom.get(Paths.INFO).json()
    assert info["protocol_version"] == PROTOCOL_VERSION
    assert info["min_client_version"] == MIN_CLIENT_VERSION
    epoch = info["epoch"]
    for answer in (tom.pull(), tom.get(Paths.ME), tom.get("/api/v1/nowhere"), tom.pull(-1)):
        assert answer.headers[EPOCH_HEADER] == epoch
        assert answer.headers[PROTOCOL_HEADER] == str(PROTOCOL_VERSION)
    assert tom.pull().json()["epoch"] == epoch
    pushed = tom.push(Device(), [Device().create("incident", incident())]).json()
    assert pushed["epoch"] == epoch and pushed["protocol_version"] == PROTOCOL_VERSION


def test_client_below_minimum_version_gets_426(server: RunningServer) -> None:
    tom = server.api("tom")
    old = tom.get(Paths.PULL, headers={PROTOCOL_HEADER: str(MIN_CLIENT_VERSION - 1)})
    assert old.status_code == 426
    assert old.json()["code"] == "upgrade_required"
    assert old.json()["min_client_version"] == MIN_CLIENT_VERSION
    device = Device()
    body = {"client_id": device.client_id, "protocol_version": MIN_CLIENT_VERSION - 1}
    body["mutations"] = [device.create("incident", incident())]
    if MIN_CLIENT_VERSION - 1 >= 1:  # a protocol 0 is refused by the schema itself
        assert tom.post(Paths.PUSH, json=body).status_code == 426
    assert tom.get(Paths.ME, headers={PROTOCOL_HEADER: "one"}).status_code == 422


def test_restore_gives_a_new_epoch(server: RunningServer, tmp_path: Path) -> None:
    tom = server.api("tom")
    device = Device()
    case = device.create("incident", incident())
    number = only(tom.push_ok(device, case))["number"]
    epoch = tom.get(Paths.INFO).json()["epoch"]
    backup = tmp_path / "backup.tar.gz"
    write_backup(server.services.engine, server.services.blobs, backup)

    restored = Services.build(light_settings(tmp_path / "restored", ""))
    counts = restore_backup(restored.engine, restored.blobs, backup)
    assert counts["records"] == 1 and counts["users"] == 4
    with restored.read_factory() as session:
        from fieldops.server.meta import read_epoch

        assert read_epoch(session) != epoch
    changes = restored.puller.page(_lead(restored), 0, 10)
    assert case["entity_id"] in changes and number in changes
    restored.engine.dispose()


def _lead(services: Services):  # type: ignore[no-untyped-def]
    from fieldops.protocol import Role
    from fieldops.server.auth import Principal

    return Principal(0, "restorer", Role.LEAD, frozenset())


def test_bad_pull_parameters_are_422(server: RunningServer) -> None:
    tom = server.api("tom")
    for params in ({"cursor": -1}, {"limit": 0}, {"limit": 999999}, {"cursor": "x"}):
        answer = tom.get(Paths.PULL, params=params)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"


def test_tag_with_leading_zeros_stays_text(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    tom.push_ok(device, device.create("asset", asset("003271", serial="000123")))
    fields = tom.pull_all()[0][0]["fields"]
    assert fields["asset_tag"] == "003271" and fields["serial"] == "000123"
    bad = device.create("asset", asset("x"))
    bad["fields"]["asset_tag"] = 3271
    assert only(tom.push_ok(device, bad))["code"] == "invalid_fields"
