"""Writing changes to the outbox, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldops.store.models import Outbox


def _wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def enqueue(
    session: Session,
    entity: str,
    entity_id: str,
    op: str,
    fields: dict[str, Any],
    base_version: int | None = None,
) -> Outbox:
    """Adds one change to the outbox in the session's transaction; it commits with the change."""
    row = Outbox(
        entity=entity,
        entity_id=entity_id,
        op=op,
        fields={name: _wire(value) for name, value in fields.items()},
        base_version=base_version,
    )
    session.add(row)
    return row


def enqueue_create(session: Session, entity: str, row: Any, names: Sequence[str]) -> Outbox:
    """Queues the creation of a new row, with the named fields as they now stand."""
    return enqueue(session, entity, row.id, "create", {n: getattr(row, n) for n in names})


def pending_count(session: Session) -> int:
    """How many changes wait to be sent."""
    query = select(func.count()).select_from(Outbox).where(Outbox.state == "pending")
    return int(session.scalar(query) or 0)
