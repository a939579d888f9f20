"""Single values the server keeps: its epoch and how far tombstones have been purged."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldops.server.schema import Counter, Meta


def read_meta(session: Session, key: str) -> str:
    """One stored value."""
    return session.execute(select(Meta.value).where(Meta.key == key)).scalar_one()


def read_epoch(session: Session) -> str:
    """The server's epoch: a new one after each restore from a backup."""
    return read_meta(session, "epoch")


def new_epoch(session: Session) -> str:
    """Gives the server a new epoch (after a restore), so clients know to re-push."""
    epoch = str(uuid.uuid4())
    session.execute(update(Meta).where(Meta.key == "epoch").values(value=epoch))
    return epoch


def purged_cursor(session: Session) -> int:
    """The highest cursor of a tombstone that has been purged."""
    return int(read_meta(session, "purged_cursor"))


def set_purged_cursor(session: Session, cursor: int) -> None:
    """Records how far tombstones have been purged."""
    session.execute(update(Meta).where(Meta.key == "purged_cursor").values(value=str(cursor)))


def current_cursor(session: Session) -> int:
    """The last cursor handed out."""
    query = select(Counter.value).where(Counter.name == "cursor")
    return int(session.execute(query).scalar_one())
