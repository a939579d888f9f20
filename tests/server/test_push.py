"""Push: exactly once per mutation, replays, gaps, changed bodies, and each kind's rules."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from fieldops.domain.identifiers import new_id
from fieldops.protocol import PushResponse
from fieldops.server.schema import AppliedMutation, Client, Record
from tests.server.conftest import RunningServer
from tests.server.helpers import Device, asset, incident, note, only


def _count(server: RunningServer, entity: str) -> int:
    with server.services.factory() as session:
        query = select(func.count()).select_from(Record).where(Record.entity == entity)
        return int(session.execute(query).scalar_one())


def _last_seq(server: RunningServer, device: Device) -> int:
    with server.services.factory() as session:
        row = session.get(Client, device.client_id)
        return row.last_seq if row else 0


def test_push_answers_each_mutation_and_numbers_incidents(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    first, second = device.create("incident", incident()), device.create("incident", incident())
    answer = tom.push(device, [first, second])
    assert answer.status_code == 200
    body = PushResponse.model_validate(answer.json())
    assert body.last_seq == 2
    assert [r.outcome for r in body.results] == ["applied", "applied"]
    assert [r.version for r in body.results] == [1, 1]
    numbers = [r.number for r in body.results]
    assert numbers[0] is not None and numbers[1] is not None
    assert numbers[0].startswith("INC-") and len(numbers[0]) == 10
    assert int(numbers[1][4:]) == int(numbers[0][4:]) + 1
    assert body.results[0].entity_id == first["entity_id"]  # the client's UUID stays the identity


def test_lost_answer_then_retry_does_not_duplicate(server: RunningServer) -> None:
    """C22: the server committed, the answer was lost, the client sends the same batch again."""
    tom = server.api("tom")
    device = Device()
    created = device.create("incident", incident(title="Rack R02 door bent"))
    notes = [device.create("note", note(created["entity_id"])) for _ in range(2)]
    batch = [created, *notes]
    first = tom.push(device, batch).json()
    again = tom.push(device, batch).json()

    assert [r["replayed"] for r in again["results"]] == [True, True, True]
    strip = [{k: v for k, v in r.items() if k != "replayed"} for r in again["results"]]
    assert strip == [{k: v for k, v in r.items() if k != "replayed"} for r in first["results"]]
    assert again["results"][0]["number"] == first["results"][0]["number"]
    assert _count(server, "incident") == 1
    assert _count(server, "note") == 2
    assert again["last_seq"] == 3


def test_replay_mixed_with_new_mutations(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    old = [device.create("incident", incident()) for _ in range(2)]
    tom.push_ok(device, *old)
    new = device.create("incident", incident())
    results = tom.push_ok(device, *old, new)
    assert [r["replayed"] for r in results] == [True, True, False]
    assert _count(server, "incident") == 3


def test_gap_is_refused_and_nothing_applied(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    tom.push_ok(device, device.create("incident", incident()))
    device.seq += 1  # seq 2 is lost on the device side
    late = [device.create("incident", incident()), device.create("incident", incident())]
    answer = tom.push(device, late)
    assert answer.status_code == 409
    error = answer.json()
    assert error["code"] == "sequence_gap"
    assert error["expected_seq"] == 2
    assert error["message"]
    assert _count(server, "incident") == 1
    assert _last_seq(server, device) == 1


def test_same_key_with_changed_body_is_409(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    created = device.create("incident", incident(title="First words"))
    tom.push_ok(device, created)
    changed = {**created, "fields": {**created["fields"], "title": "Other words"}}
    answer = tom.push(device, [changed])
    assert answer.status_code == 409
    assert answer.json()["code"] == "mutation_changed"
    assert answer.json()["mutation_id"] == created["mutation_id"]


def test_sequence_reused_by_another_mutation_is_409(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    tom.push_ok(device, device.create("incident", incident()))
    device.seq = 0
    answer = tom.push(device, [device.create("incident", incident())])
    assert answer.status_code == 409
    assert answer.json()["code"] == "sequence_reused"
    assert answer.json()["last_seq"] == 1


def test_batch_out_of_order_or_repeated_is_invalid(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    a, b = device.create("incident", incident()), device.create("incident", incident())
    assert tom.push(device, [b, a]).status_code == 422
    assert tom.push(device, [a, a]).json()["code"] == "invalid_request"


def test_rejection_does_not_block_the_ones_after_it(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    bad = device.create("incident", incident(title=""))
    unknown = device.create("gizmo", {"x": 1})
    good = device.create("incident", incident())
    results = tom.push_ok(device, bad, unknown, good)
    assert [r["outcome"] for r in results] == ["rejected", "rejected", "applied"]
    assert results[0]["code"] == "invalid_fields" and "title" in results[0]["reason"]
    assert results[1]["code"] == "unknown_entity"
    assert _last_seq(server, device) == 3
    with server.services.factory() as session:
        stored = session.scalars(select(AppliedMutation).order_by(AppliedMutation.seq)).all()
        assert [m.seq for m in stored] == [1, 2, 3]
        assert json.loads(stored[0].result)["outcome"] == "rejected"


def test_technician_cannot_write_other_sites_or_the_catalogue(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    results = tom.push_ok(
        device,
        device.create("incident", incident(site="BR-LEEDS")),
        device.create("site", {"code": "HQ-DC1", "name": "Head office"}),
        device.create("location", {"site_code": "HQ-DC1", "kind": "room", "name": "B2"}),
    )
    assert [r["code"] for r in results] == ["outside_sites", "forbidden", "forbidden"]


def test_records_outside_ones_sites_look_absent(server: RunningServer) -> None:
    tia, tom = server.api("tia"), server.api("tom")
    theirs = Device()
    created = theirs.create("incident", incident(site="BR-LEEDS"))
    tia.push_ok(theirs, created)
    device = Device()
    outside = device.update("incident", created["entity_id"], 1, title="Mine now")
    missing = device.update("incident", new_id(), 1, title="Nobody's")
    results = tom.push_ok(device, outside, missing)
    assert [r["code"] for r in results] == ["not_visible", "not_visible"]
    assert results[0]["reason"] == results[1]["reason"]
    again = device.create("incident", incident(), entity_id=created["entity_id"])
    assert only(tom.push_ok(device, again))["code"] == "not_visible"


def test_provisional_asset_and_duplicate_tags(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    results = tom.push_ok(
        device,
        device.create("asset", asset("IT-009999", provisional=True)),
        device.create("asset", asset("it-009999")),
        device.create("asset", asset("0042")),
        device.create("asset", asset("42")),
    )
    assert [r["outcome"] for r in results] == ["applied", "rejected", "applied", "applied"]
    assert results[1]["code"] == "duplicate_value"


def test_tag_freed_by_delete_and_renamed(server: RunningServer) -> None:
    tom, ada = server.api("tom"), server.api("ada")
    device = Device()
    first = device.create("asset", asset("IT-1", provisional=True))
    tom.push_ok(device, first)
    rename = device.update("asset", first["entity_id"], 1, asset_tag="IT-2")
    assert only(tom.push_ok(device, rename))["outcome"] == "applied"
    reuse = device.create("asset", asset("IT-1"))
    assert only(tom.push_ok(device, reuse))["outcome"] == "applied"
    admin_device = Device()
    removed = admin_device.delete("asset", reuse["entity_id"])
    assert only(ada.push_ok(admin_device, removed))["outcome"] == "applied"
    again = device.create("asset", asset("IT-1"))
    assert only(tom.push_ok(device, again))["outcome"] == "applied"


def test_delete_permissions(server: RunningServer) -> None:
    tom, lee = server.api("tom"), server.api("lee")
    device = Device()
    fixed = device.create("asset", asset("IT-7"))
    temp = device.create("asset", asset("IT-8", provisional=True))
    case = device.create("incident", incident())
    tom.push_ok(device, fixed, temp, case)
    results = tom.push_ok(
        device,
        device.delete("asset", fixed["entity_id"]),
        device.delete("asset", temp["entity_id"]),
        device.delete("incident", case["entity_id"]),
    )
    assert [r["outcome"] for r in results] == ["rejected", "applied", "rejected"]
    assert results[0]["code"] == results[2]["code"] == "forbidden"
    lead_device = Device()
    done = lee.push_ok(lead_device, lead_device.delete("incident", case["entity_id"]))
    assert only(done)["outcome"] == "applied" and only(done)["version"] == 2
    twice = lee.push_ok(lead_device, lead_device.delete("incident", case["entity_id"]))
    assert only(twice)["outcome"] == "applied"
    update = device.update("incident", case["entity_id"], 1, title="Too late")
    assert only(tom.push_ok(device, update))["code"] == "deleted"


def test_append_only_records_and_references(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    case = device.create("incident", incident())
    first = device.create("note", note(case["entity_id"]))
    orphan = device.create("note", note(new_id()))
    bare = device.create("note", {"body": "no parent", "created_at": first["fields"]["created_at"]})
    edit = device.update("note", first["entity_id"], 1, body="changed")
    results = tom.push_ok(device, case, first, orphan, bare, edit)
    outcomes = [(r["outcome"], r["code"]) for r in results]
    assert outcomes == [
        ("applied", None),
        ("applied", None),
        ("rejected", "missing_reference"),
        ("rejected", "invalid_fields"),
        ("rejected", "append_only"),
    ]


def test_replacement_needs_a_visible_asset(server: RunningServer) -> None:
    tom, tia = server.api("tom"), server.api("tia")
    device = Device()
    mine = device.create("asset", asset("IT-5"))
    tom.push_ok(device, mine)
    fields: dict[str, Any] = {
        "asset_id": mine["entity_id"],
        "old_serial": "5CG1234OLD",
        "new_serial": "5CG5678NEW",
        "old_part_fate": "returned-to-vendor",
        "created_at": "2026-12-04T10:15:00+00:00",
    }
    assert only(tom.push_ok(device, device.create("replacement", fields)))["outcome"] == "applied"
    other = Device()
    refused = only(tia.push_ok(other, other.create("replacement", fields)))
    assert refused["code"] == "missing_reference"


def test_incident_rules(server: RunningServer) -> None:
    tom, lee = server.api("tom"), server.api("lee")
    device = Device()
    no_subtype = device.create("incident", incident(subtype=None))
    wrong_subtype = device.create("incident", incident(category="software"))
    sneaky = device.create("incident", incident(number="INC-999999", priority="P4"))
    results = tom.push_ok(device, no_subtype, wrong_subtype, sneaky)
    assert [r["code"] for r in results[:2]] == ["invalid_fields", "invalid_fields"]
    assert results[2]["number"] != "INC-999999"
    case_id = sneaky["entity_id"]
    resolve = device.update("incident", case_id, 1, status="resolved")
    assert only(tom.push_ok(device, resolve))["outcome"] == "applied"
    close = device.update("incident", case_id, 2, status="closed")
    assert only(tom.push_ok(device, close))["code"] == "forbidden"
    lead = Device()
    closed = only(lee.push_ok(lead, lead.update("incident", case_id, 2, status="closed")))
    assert closed["outcome"] == "applied"
    reopen = only(lee.push_ok(lead, lead.update("incident", case_id, 3, status="in-progress")))
    assert reopen["code"] == "bad_transition"
    changes, _ = lee.pull_all()
    stored = next(c for c in changes if c["entity_id"] == case_id)["fields"]
    assert stored["priority"] == "P2"  # high impact, medium urgency: derived, not sent
    assert stored["status"] == "closed"


def test_bad_base_version_is_rejected(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    case = device.create("incident", incident())
    tom.push_ok(device, case)
    ahead = device.update("incident", case["entity_id"], 5, title="From the future")
    none = device.update("incident", case["entity_id"], 0, title="From nowhere")
    none["base_version"] = None
    codes = [r["code"] for r in tom.push_ok(device, ahead, none)]
    assert codes == ["bad_base_version", "bad_base_version"]


def test_asset_moving_site_takes_its_records_along(server: RunningServer) -> None:
    tom, lee, tia = server.api("tom"), server.api("lee"), server.api("tia")
    device = Device()
    box = device.create("asset", asset("IT-33"))
    part = device.create("component", {"asset_id": box["entity_id"], "kind": "psu", "slot": "1"})
    tom.push_ok(device, box, part)
    lead = Device()
    moved = lee.push_ok(lead, lead.update("asset", box["entity_id"], 1, site_code="BR-LEEDS"))
    assert only(moved)["outcome"] == "applied"
    seen = {c["entity_id"] for c in tia.pull_all()[0]}
    assert {box["entity_id"], part["entity_id"]} <= seen


def test_create_of_an_existing_record_is_rejected_not_duplicated(server: RunningServer) -> None:
    """A batch of new sequence numbers is first applied trusting its ids are new: the keys
    catch one that is not, and the batch is applied again with every record looked up."""
    tom = server.api("tom")
    device = Device()
    first = device.create("incident", incident())
    tom.push_ok(device, first)
    again = device.create("incident", incident(), entity_id=first["entity_id"])
    other = device.create("incident", incident())
    results = tom.push_ok(device, again, other)
    assert [r["code"] for r in results] == ["already_exists", None]
    assert _count(server, "incident") == 2


def test_old_mutation_with_a_new_sequence_is_409(server: RunningServer) -> None:
    tom = server.api("tom")
    device = Device()
    created = device.create("incident", incident())
    tom.push_ok(device, created)
    moved = {**created, "seq": device.seq + 1}
    answer = tom.push(device, [moved])
    assert answer.status_code == 409 and answer.json()["code"] == "mutation_changed"
    assert _count(server, "incident") == 1
