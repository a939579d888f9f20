"""What sync handed back to the person: conflicts to decide and rejected changes to fix."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError
from fieldops.i18n import tr
from fieldops.store.database import Database
from fieldops.store.models import Conflict, Outbox
from fieldops.store.outbox import enqueue
from fieldops.sync import local

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConflictView:
    """One field changed here and on the server."""

    id: int
    entity: str
    entity_id: str
    label: str
    field: str
    mine: Any
    theirs: Any
    created_at: datetime


@dataclass(frozen=True)
class RejectedView:
    """One change the server refused, with its reason."""

    seq: int
    entity: str
    entity_id: str
    label: str
    op: str
    fields: dict[str, Any]
    code: str
    reason: str


@dataclass(frozen=True)
class SyncCounts:
    """What waits to be sent and what waits for the person."""

    changes: int
    photos: int
    conflicts: int
    rejected: int


def _label(session: Session, entity: str, entity_id: str) -> str:
    record = local.find_record(session, entity, entity_id)
    for name in ("number", "title", "asset_tag", "name", "body"):
        value = getattr(record, name, None) if record is not None else None
        if value:
            return f"{entity} {value}"
    return f"{entity} {entity_id[:8]}"


class SyncReview:
    """Lists conflicts and rejections and carries out the person's choices."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def counts(self) -> SyncCounts:
        """How many changes and photos wait, and how many need a decision."""
        with self._db.read() as session:
            n = local.counts(session)
        return SyncCounts(n["changes"], n["photos"], n["conflicts"], n["rejected"])

    def conflicts(self) -> list[ConflictView]:
        """Open conflicts, oldest first."""
        with self._db.read() as session:
            rows = session.scalars(
                select(Conflict).where(Conflict.resolved.is_(False)).order_by(Conflict.id)
            ).all()
            return [
                ConflictView(
                    c.id,
                    c.entity,
                    c.entity_id,
                    _label(session, c.entity, c.entity_id),
                    c.field,
                    c.mine.get("value"),
                    c.theirs.get("value"),
                    c.created_at,
                )
                for c in rows
            ]

    def keep_mine(self, conflict_id: int) -> None:
        """Sends this device's value again, as a new change on top of the server's version."""

        def work(session: Session) -> None:
            conflict = self._open_conflict(session, conflict_id)
            record = local.find_record(session, conflict.entity, conflict.entity_id)
            value = conflict.mine.get("value")
            if record is not None and hasattr(record, conflict.field):
                setattr(record, conflict.field, local.wire_value(conflict.field, value))
            version = getattr(record, "version", None)
            enqueue(session, conflict.entity, conflict.entity_id, "update",
                    {conflict.field: value}, version)  # fmt: skip
            conflict.resolved = True

        self._db.write(work)
        log.info("conflict %d resolved: this device's value sent again", conflict_id)

    def take_theirs(self, conflict_id: int) -> None:
        """Keeps the server's value (already shown here) and closes the conflict."""

        def work(session: Session) -> None:
            self._open_conflict(session, conflict_id).resolved = True

        self._db.write(work)
        log.info("conflict %d resolved: the server's value kept", conflict_id)

    def _open_conflict(self, session: Session, conflict_id: int) -> Conflict:
        conflict = session.get(Conflict, conflict_id)
        if conflict is None or conflict.resolved:
            raise NotFoundError(tr("That conflict was already decided."))
        return conflict

    def rejected(self) -> list[RejectedView]:
        """Changes the server refused, in the order they were made."""
        with self._db.read() as session:
            rows = session.scalars(
                select(Outbox).where(Outbox.state == local.REJECTED).order_by(Outbox.seq)
            ).all()
            return [
                RejectedView(
                    r.seq,
                    r.entity,
                    r.entity_id,
                    _label(session, r.entity, r.entity_id),
                    r.op,
                    dict(r.fields),
                    r.reject_code,
                    r.last_error,
                )
                for r in rows
            ]

    def resend(self, seq: int, fields: dict[str, Any] | None = None) -> None:
        """Queues a refused change again, as it was or with corrected fields."""

        def work(session: Session) -> None:
            row = self._rejected_row(session, seq)
            corrected = {**row.fields, **(fields or {})}
            record = local.find_record(session, row.entity, row.entity_id)
            if record is not None and fields:
                local.assign_fields(session, row.entity, record, fields)
            enqueue(session, row.entity, row.entity_id, row.op, corrected, row.base_version)
            session.delete(row)

        self._db.write(work)
        log.info("rejected change %d queued again", seq)

    def discard(self, seq: int) -> None:
        """Gives up a refused change; the record stays on this device as it is.

        A refused attached code is the exception: giving it up takes it off the asset here
        too, since a label names one asset and the server said it names another.
        """

        def work(session: Session) -> None:
            row = self._rejected_row(session, seq)
            if row.entity == "asset_code" and row.op == "create":
                local.forget_attached_code(session, row.entity_id)
            session.delete(row)

        self._db.write(work)
        log.info("rejected change %d discarded", seq)

    def _rejected_row(self, session: Session, seq: int) -> Outbox:
        row = session.get(Outbox, seq)
        if row is None or row.state != local.REJECTED:
            raise NotFoundError(tr("That change is no longer waiting for a decision."))
        return row
