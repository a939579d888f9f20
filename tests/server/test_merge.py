"""Field-level merge against the base version, and conflicts that keep the server's value."""

from __future__ import annotations

from tests.server.conftest import RunningServer
from tests.server.helpers import Device, incident, only


def _setup(server: RunningServer) -> tuple[str, Device, Device]:
    """An incident at version 2: created by tom's laptop, then retitled by lee."""
    tom, lee = server.api("tom"), server.api("lee")
    laptop, desk = Device(), Device()
    case = laptop.create("incident", incident(title="Fan noise", description="Loud"))
    tom.push_ok(laptop, case)
    done = lee.push_ok(desk, desk.update("incident", case["entity_id"], 1, title="Fan failed"))
    assert only(done)["outcome"] == "applied" and only(done)["version"] == 2
    return case["entity_id"], laptop, desk


def test_other_field_changed_on_base_merges(server: RunningServer) -> None:
    case_id, laptop, _ = _setup(server)
    tom = server.api("tom")
    result = only(tom.push_ok(laptop, laptop.update("incident", case_id, 1, description="Dead")))
    assert result["outcome"] == "merged"
    assert result["version"] == 3
    assert result["conflicts"] == []
    assert result["server_values"]["title"] == "Fan failed"
    assert result["server_values"]["description"] == "Dead"


def test_same_field_changed_on_both_sides_is_a_conflict(server: RunningServer) -> None:
    case_id, laptop, _ = _setup(server)
    tom = server.api("tom")
    update = laptop.update("incident", case_id, 1, title="Fan rattles", description="Dead")
    result = only(tom.push_ok(laptop, update))
    assert result["outcome"] == "conflict"
    assert result["conflicts"] == ["title"]
    assert result["server_values"]["title"] == "Fan failed"  # the server keeps its value
    assert result["server_values"]["description"] == "Dead"  # the other field still merges
    assert result["version"] == 3


def test_same_change_on_both_sides_is_no_conflict(server: RunningServer) -> None:
    case_id, laptop, _ = _setup(server)
    tom = server.api("tom")
    result = only(tom.push_ok(laptop, laptop.update("incident", case_id, 1, title="Fan failed")))
    assert result["outcome"] == "merged"
    assert result["conflicts"] == []
    assert result["version"] == 2  # nothing changed, so no new version


def test_up_to_date_base_applies(server: RunningServer) -> None:
    case_id, laptop, _ = _setup(server)
    tom = server.api("tom")
    result = only(tom.push_ok(laptop, laptop.update("incident", case_id, 2, title="PSU fan")))
    assert result["outcome"] == "applied"
    assert result["server_values"] is None
    assert result["version"] == 3


def test_conflict_only_on_fields_changed_after_the_base(server: RunningServer) -> None:
    case_id, laptop, desk = _setup(server)
    tom, lee = server.api("tom"), server.api("lee")
    lee.push_ok(desk, desk.update("incident", case_id, 2, impact="low"))  # version 3
    stale = laptop.update("incident", case_id, 2, title="Mine", impact="medium")
    result = only(tom.push_ok(laptop, stale))
    assert result["conflicts"] == ["impact"]  # title changed at 2, which the device had seen
    assert result["server_values"]["title"] == "Mine"
    assert result["server_values"]["impact"] == "low"
    assert result["server_values"]["priority"] == "P4"  # low impact, medium urgency


def test_merged_status_follows_the_workflow(server: RunningServer) -> None:
    case_id, laptop, desk = _setup(server)
    tom, lee = server.api("tom"), server.api("lee")
    lee.push_ok(desk, desk.update("incident", case_id, 2, status="on-hold"))
    result = only(tom.push_ok(laptop, laptop.update("incident", case_id, 1, status="resolved")))
    assert result["outcome"] == "conflict" and result["conflicts"] == ["status"]
    assert result["server_values"]["status"] == "on-hold"


def test_invalid_value_in_a_merge_rejects_the_whole_mutation(server: RunningServer) -> None:
    case_id, laptop, _ = _setup(server)
    tom = server.api("tom")
    update = laptop.update("incident", case_id, 2, description="ok", impact="enormous")
    result = only(tom.push_ok(laptop, update))
    assert result["outcome"] == "rejected" and result["code"] == "invalid_fields"
    assert "impact" in result["reason"]
    unknown = only(tom.push_ok(laptop, laptop.update("incident", case_id, 2, colour="red")))
    assert unknown["code"] == "invalid_fields" and "colour" in unknown["reason"]
