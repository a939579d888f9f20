"""A catalogue re-import merges against the last import: changes made in the field stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from fieldops.domain.identifiers import catalogue_asset_id
from fieldops.protocol import Paths
from fieldops.server.import_merge import Take, decide
from fieldops.server.pull import purge
from tests.server.conftest import RunningServer
from tests.server.helpers import Api, Device, only

HEADER = (
    "asset_tag,serial,name,manufacturer,model,model_number,category,status,site_code,"
    "room,rack,rack_u,rack_face,notes\n"
)
ASSETS = (
    HEADER
    + "IT-1,SRV-1,web-01,Dell,R650,,server,deployed,HQ-DC1,Room 1,R01,10,front,\n"
    + "IT-2,SRV-2,db-01,Dell,R750,,server,deployed,HQ-DC1,Room 2,R05,20,rear,racked\n"
)
PARTS = (
    "asset_tag,kind,slot,model,serial\n"
    "IT-1,psu,PSU1,Delta 800W,OLD-1\n"
    "IT-1,psu,PSU2,Delta 800W,OLD-2\n"
)


def _import(ada: Api, data: str) -> dict[str, Any]:
    answer = ada.post(
        Paths.CATALOGUE_IMPORT, data=data.encode(), headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    summary: dict[str, Any] = answer.json()
    assert summary["errors"] == []
    return summary


def _records(api: Api, entity: str) -> dict[str, dict[str, Any]]:
    """The latest pulled state of every record of a kind, by id."""
    changes, _ = api.pull_all()
    return {c["entity_id"]: c for c in changes if c["entity"] == entity}


def _by(records: dict[str, dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [r for r in records.values() if all(r["fields"].get(k) == v for k, v in match.items())]
    assert len(found) == 1, found
    return found[0]


def _catalogue(server: RunningServer) -> tuple[Api, Api]:
    ada, tom = server.api("ada"), server.api("tom")
    assert _import(ada, ASSETS)["created"] == 2
    assert _import(ada, PARTS)["created"] == 2
    return ada, tom


def _replace_psu(tom: Api, device: Device) -> dict[str, Any]:
    """Tom swaps PSU1 of IT-1 for NEW-1, as the client records it: a replacement and an update."""
    psu = _by(_records(tom, "component"), slot="PSU1")
    replacement = {
        "asset_id": psu["fields"]["asset_id"],
        "component_id": psu["entity_id"],
        "old_serial": "OLD-1",
        "new_serial": "NEW-1",
        "old_part_fate": "returned-to-vendor",
        "created_at": datetime.now(UTC).isoformat(),
    }
    results = tom.push_ok(
        device,
        device.create("replacement", replacement),
        device.update("component", psu["entity_id"], psu["version"], serial="NEW-1"),
    )
    assert [r["outcome"] for r in results] == ["applied", "applied"]
    return psu


def test_replacement_then_same_file_again_keeps_the_new_serial(server: RunningServer) -> None:
    ada, tom = _catalogue(server)
    device = Device()
    psu = _replace_psu(tom, device)
    _, cursor = tom.pull_all()
    summary = _import(ada, PARTS)
    assert (summary["updated"], summary["unchanged"], summary["kept"]) == (0, 2, 1)
    assert summary["conflicts"] == []
    changes, _ = tom.pull_all(cursor)
    assert changes == []  # nothing for the device that would put OLD-1 back
    assert _records(tom, "component")[psu["entity_id"]]["fields"]["serial"] == "NEW-1"
    again = _import(ada, PARTS)
    assert (again["updated"], again["kept"], again["conflicts"]) == (0, 1, [])


def test_a_file_that_changes_a_serial_wins(server: RunningServer) -> None:
    ada, tom = _catalogue(server)
    _replace_psu(tom, Device())
    changed = PARTS.replace("OLD-2", "CAT-2")
    summary = _import(ada, changed)
    assert (summary["updated"], summary["kept"], summary["conflicts"]) == (1, 1, [])
    parts = _records(tom, "component")
    assert _by(parts, slot="PSU2")["fields"]["serial"] == "CAT-2"
    assert _by(parts, slot="PSU1")["fields"]["serial"] == "NEW-1"


def test_both_changed_the_file_wins_and_the_field_value_is_reported(
    server: RunningServer,
) -> None:
    ada, tom = _catalogue(server)
    psu = _replace_psu(tom, Device())
    summary = _import(ada, PARTS.replace("OLD-1", "CAT-1"))
    assert summary["updated"] == 1 and summary["kept"] == 0
    assert summary["conflicts"] == [
        {
            "line": 2,
            "entity": "component",
            "record_id": psu["entity_id"],
            "key": "IT-1/PSU/PSU1",
            "field": "serial",
            "file_value": "CAT-1",
            "record_value": "NEW-1",
            "kept": "file",
        }
    ]
    assert _records(tom, "component")[psu["entity_id"]]["fields"]["serial"] == "CAT-1"
    again = _import(ada, PARTS.replace("OLD-1", "CAT-1"))
    assert (again["updated"], again["conflicts"]) == (0, [])
    engine = create_engine(server.settings.database)
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT conflicts FROM import_baselines WHERE record_id = :id"),
            {"id": psu["entity_id"]},
        ).scalar_one()
    engine.dispose()
    assert '"record":"NEW-1"' in kept and '"kept":"file"' in kept


def test_asset_edited_in_the_field_then_same_file_again(server: RunningServer) -> None:
    ada, tom = _catalogue(server)
    device = Device()
    assets = _records(tom, "asset")
    web, db = _by(assets, asset_tag="IT-1"), _by(assets, asset_tag="IT-2")
    moved = {
        "location_id": db["fields"]["location_id"],
        "rack_u": 30,
        "rack_face": "rear",
        "status": "broken",
        "notes": "PSU1 smells burnt",
    }
    result = only(tom.push_ok(device, device.update("asset", web["entity_id"], 1, **moved)))
    assert result["outcome"] == "applied"
    _, cursor = tom.pull_all()
    summary = _import(ada, ASSETS)
    assert (summary["updated"], summary["kept"], summary["conflicts"]) == (0, 5, [])
    assert tom.pull_all(cursor)[0] == []
    renamed = _import(ada, ASSETS.replace("web-01", "web-01-old"))
    assert (renamed["updated"], renamed["kept"]) == (1, 5)
    fields = _records(tom, "asset")[web["entity_id"]]["fields"]
    assert fields["name"] == "web-01-old"  # the catalogue's change is taken
    assert {k: fields[k] for k in moved} == moved  # the field's changes stay


def test_a_file_moving_an_asset_takes_its_whole_place(server: RunningServer) -> None:
    ada, _ = _catalogue(server)
    lee = server.api("lee")
    moved = ASSETS.replace("HQ-DC1,Room 1,R01,10,front", "BR-LEEDS,Hall,R09,4,rear")
    assert _import(ada, moved)["updated"] == 1
    web = _by(_records(lee, "asset"), asset_tag="IT-1")
    assert (web["fields"]["site_code"], web["fields"]["rack_u"]) == ("BR-LEEDS", 4)
    tia = server.api("tia")
    parts = _records(tia, "component")  # the parts followed their asset to its new site
    assert {p["fields"]["slot"] for p in parts.values()} == {"PSU1", "PSU2"}
    assert all(p["fields"]["asset_id"] == web["entity_id"] for p in parts.values())


def test_provisional_asset_then_an_import_naming_its_tag(server: RunningServer) -> None:
    ada, tom = server.api("ada"), server.api("tom")
    device = Device()
    found = {
        "asset_tag": "it-3",
        "site_code": "HQ-DC1",
        "name": "unknown grey box",
        "notes": "found in the corridor",
        "provisional": True,
    }
    made = device.create("asset", found)
    assert only(tom.push_ok(device, made))["outcome"] == "applied"
    assert made["entity_id"] != catalogue_asset_id("IT-3")  # a device's own id, not the tag's
    row = "IT-3,SRV-3,mail-01,HPE,DL360,,server,deployed,HQ-DC1,Room 1,R01,12,front,\n"
    summary = _import(ada, HEADER + row)
    assert (summary["created"], summary["updated"]) == (0, 1)
    assert [(c["field"], c["kept"]) for c in summary["conflicts"]] == [
        ("asset_tag", "file"),
        ("name", "file"),
    ]
    assets = _records(tom, "asset")
    assert list(assets) == [made["entity_id"]]  # merged into the device's record, not doubled
    fields = assets[made["entity_id"]]["fields"]
    assert (fields["asset_tag"], fields["name"], fields["serial"]) == ("IT-3", "mail-01", "SRV-3")
    assert fields["notes"] == "found in the corridor" and fields["provisional"] is False
    parts = _import(ada, "asset_tag,kind,slot,model,serial\nIT-3,fan,Fan 1,Nidec,F-1\n")
    assert parts["created"] == 1
    fan = next(iter(_records(tom, "component").values()))
    assert fan["fields"]["asset_id"] == made["entity_id"]
    assert _import(ada, HEADER + row)["unchanged"] == 1


def test_record_imported_before_baselines_keeps_its_field_change(server: RunningServer) -> None:
    ada, tom = _catalogue(server)
    psu = _replace_psu(tom, Device())
    engine = create_engine(server.settings.database)
    with engine.begin() as connection:  # as on a server upgraded from before baselines
        connection.execute(text("DELETE FROM import_baselines"))
    engine.dispose()
    summary = _import(ada, PARTS)
    assert (summary["updated"], summary["kept"]) == (0, 1)
    assert [(c["record_value"], c["kept"]) for c in summary["conflicts"]] == [("NEW-1", "record")]
    assert _records(tom, "component")[psu["entity_id"]]["fields"]["serial"] == "NEW-1"
    again = _import(ada, PARTS)
    assert (again["updated"], again["kept"], again["conflicts"]) == (0, 1, [])


def test_tag_changed_in_the_field_still_finds_its_asset(server: RunningServer) -> None:
    ada, tom = _catalogue(server)
    web = _by(_records(tom, "asset"), asset_tag="IT-1")
    device = Device()
    relabel = device.update("asset", web["entity_id"], 1, asset_tag="IT-1A")
    assert only(tom.push_ok(device, relabel))["outcome"] == "applied"
    summary = _import(ada, ASSETS)
    assert (summary["created"], summary["updated"], summary["kept"]) == (0, 0, 1)
    assets = _records(tom, "asset")
    assert len(assets) == 2 and assets[web["entity_id"]]["fields"]["asset_tag"] == "IT-1A"


@pytest.mark.parametrize(
    ("file", "record", "base", "untouched", "provisional", "take"),
    [
        ("a", "a", "b", False, False, Take.SAME),
        ("a", "b", "a", False, False, Take.KEEP),
        ("c", "a", "a", False, False, Take.FILE),
        ("c", "b", "a", False, False, Take.CONFLICT_FILE),
        ("c", "", None, False, False, Take.FILE),
        ("", "b", None, False, False, Take.KEEP),
        ("c", "b", None, True, False, Take.FILE),
        ("c", "b", None, False, False, Take.CONFLICT_RECORD),
        ("c", "b", None, True, True, Take.CONFLICT_FILE),
    ],
)
def test_merge_rules(
    file: str, record: str, base: str | None, untouched: bool, provisional: bool, take: Take
) -> None:
    wrapped = (base,) if base is not None else None
    assert decide((file,), (record,), wrapped, untouched=untouched, provisional=provisional) is take


def test_asset_deleted_and_purged_then_imported_again(server: RunningServer) -> None:
    ada, tom = _catalogue(server)
    web = _by(_records(tom, "asset"), asset_tag="IT-1")
    desk = Device()
    assert only(ada.push_ok(desk, desk.delete("asset", web["entity_id"])))["outcome"] == "applied"
    server.clock.advance(timedelta(days=1))
    assert purge(server.services.factory, timedelta(hours=1), server.clock) == 1
    summary = _import(ada, ASSETS)  # the tag's id is free again; its old baseline is replaced
    assert (summary["created"], summary["unchanged"]) == (1, 1)
    again = _by(_records(tom, "asset"), asset_tag="IT-1")
    assert again["entity_id"] == web["entity_id"] and again["fields"]["name"] == "web-01"
    assert _import(ada, ASSETS)["unchanged"] == 2
