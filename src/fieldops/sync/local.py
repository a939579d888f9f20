"""The database side of sync: outbox rows out, push answers and pulled pages in.

Every function here runs inside one write transaction the caller owns, so a page and its
cursor, or a push answer and the removal of the rows it acknowledges, are saved together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fieldops.domain.identifiers import code_key, new_id
from fieldops.domain.times import parse_iso, utcnow
from fieldops.protocol.messages import (
    Change,
    ChangeOp,
    Mutation,
    MutationResult,
    Op,
    Outcome,
    PullResponse,
    PushResponse,
)
from fieldops.store.models import (
    Asset,
    AssetCode,
    AssetCodeEvent,
    Base,
    BlobUpload,
    Component,
    Conflict,
    Incident,
    LabelPrint,
    Location,
    Note,
    Outbox,
    Photo,
    Replacement,
    Site,
    SyncState,
    WaitingChange,
)

log = logging.getLogger(__name__)

PENDING, REJECTED = "pending", "rejected"

# Local table of each entity kind; sites are keyed by their code, the rest by id.
MODELS: dict[str, type[Base]] = {
    "site": Site,
    "location": Location,
    "asset": Asset,
    "component": Component,
    "incident": Incident,
    "note": Note,
    "photo": Photo,
    "replacement": Replacement,
    "asset_code": AssetCodeEvent,
    "label_print": LabelPrint,
}
VERSIONED = {"site", "location", "asset", "component", "incident"}
TIME_FIELDS = {"occurred_at", "reported_at", "created_at", "printed_at"}
# Kinds whose pulled records wait for their asset when it has not arrived yet.
ASSET_CHILDREN = {"asset_code", "label_print"}


def state(session: Session) -> SyncState:
    """This device's sync state row (made when the workspace opens)."""
    row = session.get(SyncState, 1)
    if row is None:
        row = SyncState(id=1)
        session.add(row)
        session.flush()
    return row


def pending_rows(session: Session, limit: int) -> list[Outbox]:
    """The oldest pending outbox rows, in sequence order."""
    query = select(Outbox).where(Outbox.state == PENDING).order_by(Outbox.seq).limit(limit)
    return list(session.scalars(query))


def to_mutation(row: Outbox, seq_base: int) -> Mutation:
    """One outbox row as the wire carries it."""
    return Mutation(
        mutation_id=row.mutation_id,
        seq=row.seq - seq_base,
        entity=row.entity,
        entity_id=row.entity_id,
        op=Op(row.op),
        fields=row.fields,
        base_version=row.base_version,
        client_time=row.created_at,
    )


@dataclass
class PushTally:
    """What one push answer did locally."""

    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    numbers: dict[str, str] = field(default_factory=dict)


def apply_push(session: Session, response: PushResponse, seq_base: int) -> PushTally:
    """Removes acknowledged rows and records versions, conflicts and rejections."""
    tally = PushTally()
    for result in response.results:
        row = session.scalar(select(Outbox).where(Outbox.mutation_id == result.mutation_id))
        if row is None:
            continue  # acknowledged earlier (a replayed answer)
        _record_result(session, row, result, tally)
    _note_clock(session, response.server_time)
    session.flush()
    return tally


def _record_result(session: Session, row: Outbox, result: MutationResult, tally: PushTally) -> None:
    if result.outcome is Outcome.REJECTED:
        row.state = REJECTED
        row.reject_code = result.code or ""
        row.last_error = result.reason or "The server refused this change."
        tally.rejected += 1
        log.warning("change %s to %s %s rejected: %s", row.seq, row.entity, row.entity_id,
                    row.reject_code)  # fmt: skip
        return
    record = find_record(session, row.entity, row.entity_id)
    if record is not None and row.entity in VERSIONED and result.version is not None:
        record.version = result.version
    if isinstance(record, Incident) and result.number:
        record.number = result.number
        tally.numbers[row.entity_id] = result.number
    if result.outcome is Outcome.CONFLICT:
        _record_conflicts(session, row, result)
        tally.conflicts += 1
    if result.server_values and record is not None:
        skip = set() if result.outcome is Outcome.CONFLICT else set(row.fields)
        assign_fields(session, row.entity, record, result.server_values, skip=skip)
    session.delete(row)
    tally.applied += 1


def set_aside(session: Session, mutation_id: str, reason: str) -> None:
    """Marks one queued change as refused by the server, so the changes after it can go."""
    row = session.scalar(select(Outbox).where(Outbox.mutation_id == mutation_id))
    if row is None:
        raise LookupError(f"no queued change {mutation_id}")
    row.state = REJECTED
    row.reject_code = "mutation_changed"
    row.last_error = reason


def _record_conflicts(session: Session, row: Outbox, result: MutationResult) -> None:
    theirs = result.server_values or {}
    for name in result.conflicts:
        session.add(
            Conflict(
                entity=row.entity,
                entity_id=row.entity_id,
                field=name,
                mine={"value": row.fields.get(name)},
                theirs={"value": theirs.get(name)},
            )
        )


def _note_clock(session: Session, server_time: datetime) -> None:
    state(session).clock_offset_s = (server_time - utcnow()).total_seconds()


def find_record(session: Session, entity: str, entity_id: str) -> Any:
    """The local row of a record, or None."""
    model = MODELS.get(entity)
    if model is None:
        return None
    return session.get(model, entity_id)


def wire_value(name: str, value: Any) -> Any:
    """A field's value as the local table keeps it (times parsed)."""
    if name in TIME_FIELDS and isinstance(value, str):
        return parse_iso(value)
    return value


def assign_fields(
    session: Session,
    entity: str,
    record: Any,
    fields: dict[str, Any],
    skip: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Sets a record's fields from wire values and keeps its lookup codes in step."""
    for name, value in fields.items():
        if name in skip or not hasattr(record, name) or name in ("id",):
            continue
        setattr(record, name, wire_value(name, value))
    if isinstance(record, Asset):
        record.tag_key = code_key(record.asset_tag)
        _asset_codes(session, record)
    elif isinstance(record, Component):
        _component_code(session, record)
    elif isinstance(record, AssetCodeEvent):
        add_attached_code(session, record.asset_id, record.kind, record.code)


def add_attached_code(session: Session, asset_id: str, kind: str, code: str) -> None:
    """Makes a code attached in the field findable by a scan: one codes row per asset and code."""
    key = code_key(code)
    held = session.scalar(
        select(AssetCode.id).where(
            AssetCode.code == key, AssetCode.asset_id == asset_id, AssetCode.kind == kind
        )
    )
    if held is None:
        session.add(AssetCode(asset_id=asset_id, kind=kind, code=key))


def _drop_attached_code(session: Session, event: AssetCodeEvent) -> None:
    """Removes an attached code from lookups unless another record still attaches it."""
    key = code_key(event.code)
    others = session.scalars(
        select(AssetCodeEvent.code).where(
            AssetCodeEvent.asset_id == event.asset_id,
            AssetCodeEvent.kind == event.kind,
            AssetCodeEvent.id != event.id,
        )
    )
    if any(code_key(code) == key for code in others):
        return
    session.execute(
        delete(AssetCode).where(
            AssetCode.asset_id == event.asset_id,
            AssetCode.kind == event.kind,
            AssetCode.code == key,
        )
    )


def _asset_codes(session: Session, asset: Asset) -> None:
    session.execute(
        delete(AssetCode).where(
            AssetCode.asset_id == asset.id, AssetCode.kind.in_(("tag", "serial"))
        )
    )
    session.add(AssetCode(asset_id=asset.id, kind="tag", code=code_key(asset.asset_tag)))
    if asset.serial.strip():
        session.add(AssetCode(asset_id=asset.id, kind="serial", code=code_key(asset.serial)))


def _component_code(session: Session, component: Component) -> None:
    session.execute(delete(AssetCode).where(AssetCode.component_id == component.id))
    if component.serial.strip():
        session.add(
            AssetCode(
                asset_id=component.asset_id,
                component_id=component.id,
                kind="component_serial",
                code=code_key(component.serial),
            )
        )


def apply_page(session: Session, page: PullResponse) -> int:
    """Applies one pulled page and stores its cursor; pending local edits stay on top."""
    # Within a page a record may arrive before the location it points at; foreign keys are
    # checked when the page's transaction commits.
    session.connection().exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    pending = _pending_fields(session)
    for change in page.changes:
        _apply_change(session, change, pending.get((change.entity, change.entity_id)))
    _release_waiting(session)
    row = state(session)
    row.cursor = page.next_cursor
    row.epoch = page.epoch
    session.flush()
    return len(page.changes)


def _pending_fields(session: Session) -> dict[tuple[str, str], dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in session.scalars(select(Outbox).where(Outbox.state == PENDING).order_by(Outbox.seq)):
        merged.setdefault((row.entity, row.entity_id), {}).update(row.fields)
    return merged


def _apply_change(session: Session, change: Change, mine: dict[str, Any] | None) -> None:
    model = MODELS.get(change.entity)
    if model is None:
        log.info("pulled a %s change this version does not keep; skipped", change.entity)
        return
    if change.op is ChangeOp.DELETE:
        _delete(session, change)
        return
    if change.entity == "site":
        _upsert_site(session, change)
        return
    if change.entity in ASSET_CHILDREN and _asset_missing(session, change):
        return
    record = session.get(model, change.entity_id)
    if record is None:
        record = model(id=change.entity_id)
        if isinstance(record, Asset):
            record.tag_key = code_key(str(change.fields.get("asset_tag", "")))
        session.add(record)
    assign_fields(session, change.entity, record, dict(change.fields))
    if change.entity in VERSIONED:
        record.version = change.version  # type: ignore[attr-defined]
    if mine:
        # What this device changed and has not sent yet stays visible here until it is sent.
        assign_fields(session, change.entity, record, mine)
    session.flush()


def _asset_missing(session: Session, change: Change) -> bool:
    """Parks a code or print whose asset is not here yet (it may be on a later page)."""
    asset_id = str(change.fields.get("asset_id", ""))
    if session.get(Asset, asset_id) is not None:
        return False
    waiting = session.get(WaitingChange, change.entity_id) or WaitingChange(
        entity_id=change.entity_id
    )
    waiting.entity, waiting.waits_for = change.entity, asset_id
    waiting.version, waiting.fields = change.version, dict(change.fields)
    session.add(waiting)
    session.flush()
    return True


def _release_waiting(session: Session) -> None:
    """Applies the parked records whose asset has arrived."""
    ready = session.scalars(
        select(WaitingChange).where(WaitingChange.waits_for.in_(select(Asset.id)))
    ).all()
    for waiting in ready:
        change = Change(
            cursor=0,
            entity=waiting.entity,
            entity_id=waiting.entity_id,
            op=ChangeOp.UPSERT,
            version=waiting.version,
            fields=waiting.fields,
        )
        session.delete(waiting)
        session.flush()
        _apply_change(session, change, None)


def _upsert_site(session: Session, change: Change) -> None:
    code = str(change.fields.get("code", ""))
    site = session.get(Site, code) or Site(code=code)
    site.name = str(change.fields.get("name", "")) or code
    site.version = change.version
    session.add(site)
    session.flush()


def _delete(session: Session, change: Change) -> None:
    session.execute(delete(WaitingChange).where(WaitingChange.entity_id == change.entity_id))
    record = find_record(session, change.entity, change.entity_id)
    if record is None:
        if change.entity == "asset":
            session.execute(
                delete(WaitingChange).where(WaitingChange.waits_for == change.entity_id)
            )
        return
    if isinstance(record, Asset):
        # Incidents, codes and prints keep pointing at a deleted asset; it can no longer be
        # scanned.
        session.execute(delete(AssetCode).where(AssetCode.asset_id == record.id))
        record.status = "deleted"
        return
    if isinstance(record, Component):
        session.execute(delete(AssetCode).where(AssetCode.component_id == record.id))
    if isinstance(record, AssetCodeEvent):
        _drop_attached_code(session, record)
    session.delete(record)


def start_afresh(session: Session, epoch: str) -> None:
    """After the server was restored (new epoch) or lost this device's sequence.

    Unsent changes are kept and will be sent under a new client id whose sequence starts at 1;
    the whole catalogue is pulled again from the beginning.
    """
    row = state(session)
    first = session.scalar(select(func.min(Outbox.seq)).where(Outbox.state == PENDING))
    row.client_id = new_id()
    row.seq_base = (first - 1) if first is not None else _last_seq(session)
    row.cursor = 0
    row.epoch = epoch
    # Everything is pulled again, so what waited for an asset will come again too.
    session.execute(delete(WaitingChange))
    log.warning("server epoch changed: starting afresh as a new client; unsent changes kept")


def _last_seq(session: Session) -> int:
    # The next outbox row gets a seq above every one used so far (the table is AUTOINCREMENT).
    value = session.scalar(select(func.max(Outbox.seq)))
    seq = (
        session.connection()
        .exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
        .scalar()
    )
    return int(max(value or 0, seq or 0))


def pending_blobs(session: Session, limit: int = 1000) -> list[BlobUpload]:
    """Photo files not yet confirmed by the server."""
    query = select(BlobUpload).where(BlobUpload.state == PENDING).limit(limit)
    return list(session.scalars(query))


def mark_blob_done(session: Session, sha256: str) -> None:
    """The server holds the whole blob."""
    row = session.get(BlobUpload, sha256)
    if row is not None:
        row.state = "done"


def counts(session: Session) -> dict[str, int]:
    """Queued changes and photos, rejections, open conflicts, and pulled records waiting."""

    def n(query: Any) -> int:
        return int(session.scalar(query) or 0)

    return {
        "changes": n(select(func.count()).select_from(Outbox).where(Outbox.state == PENDING)),
        "rejected": n(select(func.count()).select_from(Outbox).where(Outbox.state == REJECTED)),
        "photos": n(
            select(func.count()).select_from(BlobUpload).where(BlobUpload.state == PENDING)
        ),
        "conflicts": n(
            select(func.count()).select_from(Conflict).where(Conflict.resolved.is_(False))
        ),
        "waiting": n(select(func.count()).select_from(WaitingChange)),
    }
