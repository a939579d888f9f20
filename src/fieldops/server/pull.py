"""Pull: the records changed after a cursor, for the caller's sites, page by page.

Pages are written straight from the stored JSON text: a million-record catalogue goes out
without decoding and re-encoding every record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from fieldops.protocol import PROTOCOL_VERSION, ErrorCode
from fieldops.server.auth import Principal
from fieldops.server.db import in_transaction
from fieldops.server.errors import ApiError
from fieldops.server.meta import (
    current_cursor,
    purged_cursor,
    read_epoch,
    set_purged_cursor,
)
from fieldops.server.records import RECORDS, dumps
from fieldops.server.schema import AppliedMutation

log = logging.getLogger(__name__)


def resync_required(reason: str) -> ApiError:
    """The answer to a cursor the server can no longer continue from."""
    return ApiError(410, ErrorCode.RESYNC_REQUIRED, reason)


@dataclass(frozen=True)
class Puller:
    """Answers pull requests from one database."""

    read_factory: sessionmaker[Session]

    def page(self, principal: Principal, cursor: int, limit: int) -> str:
        """One page of changes after `cursor`, as the JSON text of a PullResponse."""
        with self.read_factory.begin() as session:
            epoch = read_epoch(session)
            _check_cursor(session, cursor)
            query = (
                select(
                    RECORDS.c.cursor,
                    RECORDS.c.entity,
                    RECORDS.c.id,
                    RECORDS.c.deleted,
                    RECORDS.c.version,
                    RECORDS.c.fields,
                )
                .where(RECORDS.c.cursor > cursor)
                .order_by(RECORDS.c.cursor)
                .limit(limit + 1)
            )
            if not principal.sees_all_sites:
                query = query.where(RECORDS.c.site_code.in_(sorted(principal.sites)))
            rows = session.execute(query).all()
        has_more = len(rows) > limit
        rows = rows[:limit]
        changes = ",".join(
            f'{{"cursor":{r.cursor},"entity":"{r.entity}","entity_id":"{r.id}",'
            f'"op":"{"delete" if r.deleted else "upsert"}","version":{r.version},'
            f'"fields":{"{}" if r.deleted else r.fields}}}'
            for r in rows
        )
        next_cursor = rows[-1].cursor if rows else cursor
        return (
            f'{{"changes":[{changes}],"next_cursor":{next_cursor},'
            f'"has_more":{"true" if has_more else "false"},"epoch":{dumps(epoch)},'
            f'"protocol_version":{PROTOCOL_VERSION}}}'
        )


def _check_cursor(session: Session, cursor: int) -> None:
    """Refuses cursors older than the purged tombstones, or from another database."""
    if cursor == 0:
        return
    if cursor < purged_cursor(session):
        raise resync_required(
            "This device has been away longer than the server keeps deleted records. "
            "It needs a full resync (its unsent changes are kept)."
        )
    if cursor > current_cursor(session):
        raise resync_required(
            "This device's sync position is ahead of the server, which was probably restored "
            "from a backup. It needs a full resync (its unsent changes are kept)."
        )


def purge(
    factory: sessionmaker[Session], retention: timedelta, clock: Callable[[], datetime]
) -> int:
    """Removes tombstones and stored answers older than the retention; returns how many."""

    def work(session: Session) -> int:
        horizon = clock() - retention
        old = RECORDS.c.deleted.is_(True) & (RECORDS.c.deleted_at < horizon)
        highest = session.execute(select(func.max(RECORDS.c.cursor)).where(old)).scalar()
        if highest is None:
            return 0
        removed = session.execute(delete(RECORDS).where(old)).rowcount  # type: ignore[attr-defined]
        session.execute(delete(AppliedMutation).where(AppliedMutation.applied_at < horizon))
        set_purged_cursor(session, max(int(highest), purged_cursor(session)))
        return int(removed)

    removed = in_transaction(factory, work)
    if removed:
        log.info("purged %d tombstones older than %s", removed, retention)
    return removed
