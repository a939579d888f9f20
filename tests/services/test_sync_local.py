"""The database side of sync, fed with the protocol's own answer models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from fieldops.domain.identifiers import new_id
from fieldops.domain.incidents import Category, Level
from fieldops.protocol.messages import (
    Change,
    ChangeOp,
    MutationResult,
    Outcome,
    PullResponse,
    PushResponse,
)
from fieldops.services.incidents import IncidentDraft
from fieldops.services.workspace import Workspace
from fieldops.store.models import Conflict, Incident, Outbox
from fieldops.store.outbox import enqueue
from fieldops.sync import local

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def record_incident(ws: Workspace, title: str = "PSU1 dead") -> str:
    asset = ws.lookup.lookup("IT-000217").card
    return ws.incidents.record(
        IncidentDraft(
            title=title,
            category=Category.HARDWARE,
            impact=Level.HIGH,
            urgency=Level.HIGH,
            asset_id=asset.id,
        )
    )


def rows(ws: Workspace) -> list[Outbox]:
    with ws.db.read() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.seq)))


def answer(row: Outbox, outcome: Outcome, **extra) -> MutationResult:
    return MutationResult(
        mutation_id=row.mutation_id,
        seq=row.seq,
        entity=row.entity,
        entity_id=row.entity_id,
        outcome=outcome,
        **extra,
    )


def push_response(results: list[MutationResult]) -> PushResponse:
    return PushResponse(
        results=results,
        last_seq=max(r.seq for r in results),
        epoch="e1",
        protocol_version=1,
        server_time=NOW,
    )


def test_wire_sequence_starts_at_one_and_follows_the_base(demo_workspace: Workspace) -> None:
    record_incident(demo_workspace)
    record_incident(demo_workspace, "second")
    queued = rows(demo_workspace)
    assert [local.to_mutation(r, 0).seq for r in queued] == [1, 2]
    after_restore = [r for r in queued if r.seq > 1]
    assert [local.to_mutation(r, 1).seq for r in after_restore] == [1]


def test_applied_answer_removes_the_row_and_records_number_and_version(
    demo_workspace: Workspace,
) -> None:
    incident_id = record_incident(demo_workspace)
    row = rows(demo_workspace)[0]
    response = push_response([answer(row, Outcome.APPLIED, version=1, number="INC-000007")])
    tally = demo_workspace.db.write(lambda s: local.apply_push(s, response, 0))
    assert tally.applied == 1 and tally.numbers == {incident_id: "INC-000007"}
    assert rows(demo_workspace) == []
    with demo_workspace.db.read() as s:
        incident = s.get(Incident, incident_id)
        assert (incident.number, incident.version) == ("INC-000007", 1)
        assert local.state(s).clock_offset_s is not None


def test_rejected_answer_is_kept_visible_and_can_be_resent_or_discarded(
    demo_workspace: Workspace,
) -> None:
    record_incident(demo_workspace, "first")
    record_incident(demo_workspace, "second")
    first, second = rows(demo_workspace)
    response = push_response(
        [
            answer(first, Outcome.REJECTED, code="outside_sites", reason="Not your site."),
            answer(second, Outcome.APPLIED, version=1),
        ]
    )
    demo_workspace.db.write(lambda s: local.apply_push(s, response, 0))
    review = demo_workspace.review
    rejected = review.rejected()
    assert [(r.reason, r.code) for r in rejected] == [("Not your site.", "outside_sites")]
    assert review.counts().rejected == 1 and review.counts().changes == 0

    review.resend(rejected[0].seq, {"title": "first, fixed"})
    queued = rows(demo_workspace)
    assert [(r.state, r.fields["title"]) for r in queued] == [("pending", "first, fixed")]
    assert queued[0].mutation_id != first.mutation_id
    assert queued[0].seq > second.seq

    queued[0].state = "rejected"
    demo_workspace.db.write(lambda s: setattr(s.get(Outbox, queued[0].seq), "state", "rejected"))
    review.discard(queued[0].seq)
    assert rows(demo_workspace) == []


def test_conflict_keeps_the_servers_value_until_the_person_decides(
    demo_workspace: Workspace,
) -> None:
    incident_id = record_incident(demo_workspace, "mine")
    row = rows(demo_workspace)[0]
    response = push_response(
        [
            answer(
                row,
                Outcome.CONFLICT,
                version=3,
                conflicts=["title"],
                server_values={"title": "theirs", "description": "from the desk"},
            )
        ]
    )
    tally = demo_workspace.db.write(lambda s: local.apply_push(s, response, 0))
    assert tally.conflicts == 1
    with demo_workspace.db.read() as s:
        incident = s.get(Incident, incident_id)
        assert (incident.title, incident.description, incident.version) == (
            "theirs",
            "from the desk",
            3,
        )
    review = demo_workspace.review
    [conflict] = review.conflicts()
    assert (conflict.field, conflict.mine, conflict.theirs) == ("title", "mine", "theirs")

    review.keep_mine(conflict.id)
    [again] = rows(demo_workspace)
    assert (again.op, again.fields, again.base_version) == ("update", {"title": "mine"}, 3)
    assert review.conflicts() == []
    with demo_workspace.db.read() as s:
        assert s.get(Incident, incident_id).title == "mine"
        assert s.scalars(select(Conflict)).one().resolved


def test_pulled_page_upserts_applies_cursor_and_keeps_pending_edits(
    demo_workspace: Workspace,
) -> None:
    incident_id = record_incident(demo_workspace, "first title")
    created = rows(demo_workspace)[0]
    demo_workspace.db.write(
        lambda s: local.apply_push(s, push_response([answer(created, Outcome.APPLIED)]), 0)
    )
    demo_workspace.db.write(
        lambda s: enqueue(s, "incident", incident_id, "update", {"title": "my title"}, 1)
    )
    asset = demo_workspace.lookup.lookup("IT-000217").card
    new_asset = new_id()
    page = PullResponse(
        changes=[
            Change(
                cursor=5,
                entity="incident",
                entity_id=incident_id,
                op=ChangeOp.UPSERT,
                version=2,
                fields={"title": "desk title", "status": "in-progress", "number": "INC-000001"},
            ),
            Change(
                cursor=6,
                entity="asset",
                entity_id=new_asset,
                op=ChangeOp.UPSERT,
                version=1,
                fields={"asset_tag": "IT-900001", "serial": "SN-NEW-1", "site_code": "BR-LEEDS"},
            ),
            Change(
                cursor=7,
                entity="asset",
                entity_id=asset.id,
                op=ChangeOp.DELETE,
                version=9,
                fields={},
            ),
        ],
        next_cursor=7,
        has_more=False,
        epoch="e1",
        protocol_version=1,
    )
    assert demo_workspace.db.write(lambda s: local.apply_page(s, page)) == 3
    with demo_workspace.db.read() as s:
        incident = s.get(Incident, incident_id)
        # The server's status is taken; the title edited here and not yet sent stays mine.
        assert (incident.title, incident.status, incident.number) == (
            "my title",
            "in-progress",
            "INC-000001",
        )
        assert local.state(s).cursor == 7 and local.state(s).epoch == "e1"
    assert demo_workspace.lookup.lookup("sn-new-1").card.asset_tag == "IT-900001"
    assert not demo_workspace.lookup.lookup("IT-000217").found  # deleted on the server


def test_starting_afresh_renumbers_unsent_changes_from_one(demo_workspace: Workspace) -> None:
    record_incident(demo_workspace, "sent")
    sent = rows(demo_workspace)[0]
    demo_workspace.db.write(
        lambda s: local.apply_push(s, push_response([answer(sent, Outcome.APPLIED)]), 0)
    )
    record_incident(demo_workspace, "unsent")
    with demo_workspace.db.read() as s:
        old_client = local.state(s).client_id
    demo_workspace.db.write(lambda s: local.start_afresh(s, "e2"))
    with demo_workspace.db.read() as s:
        st = local.state(s)
        assert st.client_id != old_client and st.cursor == 0 and st.epoch == "e2"
        pending = local.pending_rows(s, 10)
        assert [local.to_mutation(r, st.seq_base).seq for r in pending] == [1]
