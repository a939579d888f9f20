"""The database side of sync: outbox rows out, push answers and pulled pages in.

Every function here runs inside one write transaction the caller owns, so a page and its
cursor, or a push answer and the removal of the rows it acknowledges, are saved together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal_column, select, update
from sqlalchemy.orm import Session

from fieldops.domain.identifiers import code_key, new_id
from fieldops.domain.times import parse_iso, utcnow
from fieldops.protocol.entities import ENTITY_KINDS
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
LOGGED_WAITING = 20  # waiting records named one by one in the log at the end of a sync


def _references() -> dict[str, dict[str, str]]:
    """Each kind's fields naming another record, and that record's kind.

    Taken from the protocol's table of kinds; the field naming a record's site counts too,
    since the local tables refer to sites by code.
    """
    table: dict[str, dict[str, str]] = {}
    for name, kind in ENTITY_KINDS.items():
        fields = dict(kind.references)
        if kind.site_field is not None and name != "site":
            fields[kind.site_field] = "site"
        table[name] = {ref: target for ref, target in fields.items() if target in MODELS}
    return {name: fields for name, fields in table.items() if name in MODELS}


# A pulled record waits while a record it names is neither here nor earlier in its page.
REFERENCES = _references()


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


# Fields the wire may leave empty but a local column needs, and what stands for "not known".
UNKNOWN_AS = {"width": 0, "height": 0}


def wire_value(name: str, value: Any) -> Any:
    """A field's value as the local table keeps it (times parsed, unknown sizes as 0)."""
    if name in TIME_FIELDS and isinstance(value, str):
        return parse_iso(value)
    if value is None and name in UNKNOWN_AS:
        return UNKNOWN_AS[name]
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
        component_code(session, record)
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


def forget_attached_code(session: Session, event_id: str) -> None:
    """Undoes a code attached on this device (its change was refused and given up)."""
    event = session.get(AssetCodeEvent, event_id)
    if event is not None:
        _drop_attached_code(session, event)
        session.delete(event)


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


def component_code(session: Session, component: Component) -> None:
    """Makes a part's codes row match its serial (none when it has no serial)."""
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
    # Foreign keys are checked when the page's transaction commits; records whose referenced
    # record is not here yet wait instead (see _place), so the commit finds every one.
    session.connection().exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    pending = _pending_fields(session)
    for change in page.changes:
        _apply_change(session, change, pending)
    row = state(session)
    row.cursor = page.next_cursor
    row.epoch = page.epoch
    session.flush()
    if not page.has_more:
        _log_waiting(session)
    return len(page.changes)


Pending = dict[tuple[str, str], dict[str, Any]]


def _pending_fields(session: Session) -> Pending:
    merged: Pending = {}
    for row in session.scalars(select(Outbox).where(Outbox.state == PENDING).order_by(Outbox.seq)):
        merged.setdefault((row.entity, row.entity_id), {}).update(row.fields)
    return merged


def _apply_change(session: Session, change: Change, pending: Pending) -> None:
    if change.entity not in MODELS:
        log.info("pulled a %s change this version does not keep; skipped", change.entity)
        return
    if change.op is ChangeOp.DELETE:
        _delete(session, change, pending)
        return
    _place(session, change, pending)


def _place(session: Session, change: Change, pending: Pending) -> None:
    """Applies an upsert, or parks it until every record it refers to is here."""
    missing = missing_reference(session, change.entity, change.fields)
    if missing is not None:
        _park(session, change, missing)
        return
    # An older version that waited is superseded: applying it later would go back in time.
    session.execute(delete(WaitingChange).where(WaitingChange.entity_id == change.entity_id))
    _upsert(session, change, pending.get((change.entity, change.entity_id)))
    _release(session, _key(change), pending)


def missing_reference(session: Session, entity: str, fields: dict[str, Any]) -> str | None:
    """The id (a code for a site) of the first record these fields name that is not here."""
    for name, kind in REFERENCES.get(entity, {}).items():
        value = fields.get(name)
        if value is None or value == "":
            continue
        if session.get(MODELS[kind], str(value)) is None:
            return str(value)
    return None


def _key(change: Change) -> str:
    """What records referring to this one hold: its id, or its code for a site."""
    return str(change.fields.get("code", "")) if change.entity == "site" else change.entity_id


def _park(session: Session, change: Change, waits_for: str) -> None:
    # A newer version of a waiting record takes its place at the back of the queue.
    session.execute(delete(WaitingChange).where(WaitingChange.entity_id == change.entity_id))
    session.add(
        WaitingChange(
            entity_id=change.entity_id,
            entity=change.entity,
            waits_for=waits_for,
            version=change.version,
            fields=dict(change.fields),
        )
    )
    session.flush()


def _waiting(session: Session, waits_for: str | None = None) -> list[WaitingChange]:
    """Waiting records in the order they arrived (SQLite's rowid grows with each insert)."""
    query = select(WaitingChange).order_by(literal_column("waiting_changes.rowid"))
    if waits_for is not None:
        query = query.where(WaitingChange.waits_for == waits_for)
    return list(session.scalars(query))


def _as_change(waiting: WaitingChange, fields: dict[str, Any] | None = None) -> Change:
    return Change(
        cursor=0,
        entity=waiting.entity,
        entity_id=waiting.entity_id,
        op=ChangeOp.UPSERT,
        version=waiting.version,
        fields=waiting.fields if fields is None else fields,
    )


def _release(session: Session, key: str, pending: Pending) -> None:
    """Applies, in arrival order, what waited for this record and then what waited for those."""
    arrived = [key]
    while arrived:
        for waiting in _waiting(session, arrived.pop(0)):
            change = _as_change(waiting)
            missing = missing_reference(session, change.entity, change.fields)
            if missing is not None:
                waiting.waits_for = missing  # it waits for a second record, keeping its place
                continue
            session.delete(waiting)
            session.flush()
            _upsert(session, change, pending.get((change.entity, change.entity_id)))
            arrived.append(_key(change))


def _upsert(session: Session, change: Change, mine: dict[str, Any] | None) -> None:
    if change.entity == "site":
        _upsert_site(session, change)
        return
    model = MODELS[change.entity]
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


def _upsert_site(session: Session, change: Change) -> None:
    code = str(change.fields.get("code", ""))
    site = session.get(Site, code) or Site(code=code)
    site.name = str(change.fields.get("name", "")) or code
    site.version = change.version
    session.add(site)
    session.flush()


def _delete(session: Session, change: Change, pending: Pending) -> None:
    session.execute(delete(WaitingChange).where(WaitingChange.entity_id == change.entity_id))
    record = find_record(session, change.entity, change.entity_id)
    if record is None:
        _orphans(session, change, pending)
        return
    if isinstance(record, Asset):
        _retire_asset(session, record)
        return
    if isinstance(record, Component):
        session.execute(delete(AssetCode).where(AssetCode.component_id == record.id))
    if isinstance(record, AssetCodeEvent):
        _drop_attached_code(session, record)
    _unlink(session, change.entity, change.entity_id)
    session.delete(record)


def _retire_asset(session: Session, asset: Asset) -> None:
    # The server keeps the incidents, parts, codes and prints of a deleted asset and they keep
    # pointing at it; it can no longer be scanned.
    session.execute(delete(AssetCode).where(AssetCode.asset_id == asset.id))
    asset.status = "deleted"


def _unlink(session: Session, entity: str, record_id: str) -> None:
    """Clears the references local records hold to a record about to be removed.

    The server keeps such records and their reference to the deleted one; here the reference
    cannot stay, or the page's foreign keys would fail.
    """
    for kind, fields in REFERENCES.items():
        model = MODELS[kind]
        for name, target in fields.items():
            column = model.__table__.c[name]
            if target == entity and column.nullable:
                session.execute(update(model).where(column == record_id).values({name: None}))


def _orphans(session: Session, change: Change, pending: Pending) -> None:
    """Places what waited for a record whose delete came before the record itself."""
    if not session.scalar(
        select(func.count())
        .select_from(WaitingChange)
        .where(WaitingChange.waits_for == change.entity_id)
    ):
        return
    if change.entity == "asset":
        # As on a device that had the asset: it stays, marked deleted, with what points at it.
        stand_in = Asset(
            id=change.entity_id,
            asset_tag="",
            tag_key=f"deleted {change.entity_id}",
            status="deleted",
            version=change.version,
        )
        session.add(stand_in)
        session.flush()
        _release(session, change.entity_id, pending)
        _retire_asset(session, stand_in)
        return
    for waiting in _waiting(session, change.entity_id):
        fields = dict(waiting.fields)
        for name, target in REFERENCES[waiting.entity].items():
            if target == change.entity and fields.get(name) == change.entity_id:
                fields[name] = None
        change_now = _as_change(waiting, fields)
        session.delete(waiting)
        session.flush()
        _place(session, change_now, pending)


def _log_waiting(session: Session) -> None:
    """Names the pulled records still waiting, once per sync, so a wedge is visible."""
    waiting = _waiting(session)
    if not waiting:
        return
    log.warning(
        "%d pulled records wait for a record this device has not received "
        "(outside its sites, or not sent yet); they are kept",
        len(waiting),
    )
    for row in waiting[:LOGGED_WAITING]:
        kinds = [
            kind for name, kind in REFERENCES.get(row.entity, {}).items()
            if str(row.fields.get(name)) == row.waits_for
        ]  # fmt: skip
        log.warning(
            "%s %s waits for %s %s",
            row.entity, row.entity_id, kinds[0] if kinds else "record", row.waits_for,
        )  # fmt: skip
    if len(waiting) > LOGGED_WAITING:
        log.warning("and %d more waiting records", len(waiting) - LOGGED_WAITING)


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
