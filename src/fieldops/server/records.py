"""The records one transaction reads and changes, written back in bulk when it ends.

Cursors are handed out only at the very end, from one counter row whose lock is held until
commit; so on PostgreSQL transactions take cursors in the order they commit, and a pull never
skips a change that commits late with a lower cursor.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from fieldops.domain.identifiers import code_key
from fieldops.server.db import bulk_insert, one_of
from fieldops.server.schema import Counter, Record, UniqueKey

CHUNK = 900  # ids per IN list: below SQLite's default limit of bound parameters

RECORDS: Table = Record.__table__  # type: ignore[assignment]
UNIQUE: Table = UniqueKey.__table__  # type: ignore[assignment]


@dataclass
class RecordState:
    """One record in memory while a transaction works on it."""

    id: str
    entity: str
    version: int
    site_code: str | None
    parent_id: str | None
    blob: str | None
    deleted: bool
    fields: dict[str, Any]
    field_versions: dict[str, int]
    created_at: datetime
    created_by: int | None = None
    deleted_at: datetime | None = None
    new: bool = False
    dirty: bool = False

    def field_version(self, name: str) -> int:
        """The version at which a field last changed (1 when it has not since creation)."""
        return self.field_versions.get(name, 1)


def chunks(items: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    """The items in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


COUNTERS: Table = Counter.__table__  # type: ignore[assignment]

_ALLOCATE = (
    update(COUNTERS)
    .where(COUNTERS.c.name == bindparam("counter"))
    .values(value=COUNTERS.c.value + bindparam("count"))
    .returning(COUNTERS.c.value)
)


def allocate(session: Session, counter: str, count: int) -> int:
    """Takes `count` values from a counter; returns the first. Locks the counter to commit."""
    top = session.execute(_ALLOCATE, {"counter": counter, "count": count}).scalar_one()
    return int(top) - count + 1


@dataclass
class WorkSet:
    """Records and unique keys loaded by one transaction, and the changes it makes to them."""

    session: Session
    now: datetime
    records: dict[str, RecordState] = field(default_factory=dict)
    _absent: set[str] = field(default_factory=set)
    _touched: dict[str, None] = field(default_factory=dict)
    _unique: dict[tuple[str, str, str], str | None] = field(default_factory=dict)
    _unique_added: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _unique_removed: set[tuple[str, str, str]] = field(default_factory=set)

    def load(self, ids: Iterable[str], *, lock: bool = True) -> None:
        """Reads the records with these ids (locking them on PostgreSQL) into memory."""
        wanted = sorted({i for i in ids if i not in self.records and i not in self._absent})
        for part in chunks(wanted):
            query = select(RECORDS).where(one_of(self.session, RECORDS.c.id, part))
            query = query.order_by(RECORDS.c.id)
            if lock:
                query = query.with_for_update()
            for row in self.session.execute(query):
                self.records[row.id] = _state(row)
            self._absent.update(i for i in part if i not in self.records)

    def assume_absent(self, ids: Iterable[str]) -> None:
        """Takes these ids as not in the database without asking (the primary key checks)."""
        self._absent.update(i for i in ids if i not in self.records)

    def get(self, record_id: str) -> RecordState | None:
        """A loaded record, or None when it does not exist."""
        if record_id not in self.records and record_id not in self._absent:
            self.load([record_id], lock=False)
        return self.records.get(record_id)

    def children(self, parent_id: str) -> list[RecordState]:
        """The live records whose site comes from this one (locked, loaded into memory)."""
        query = (
            select(RECORDS.c.id)
            .where(RECORDS.c.parent_id == parent_id, RECORDS.c.deleted.is_(False))
            .order_by(RECORDS.c.id)
        )
        ids = list(self.session.scalars(query))
        self.load(ids)
        loaded = (self.records[i] for i in ids if i in self.records)
        pending = (s for s in self.records.values() if s.new and s.parent_id == parent_id)
        return list({s.id: s for s in (*loaded, *pending)}.values())

    def create(self, state: RecordState) -> RecordState:
        """Adds a new record."""
        state.new = True
        self.records[state.id] = state
        self._absent.discard(state.id)
        self.touch(state)
        return state

    def touch(self, state: RecordState) -> None:
        """Marks a record changed, so it gets a new cursor at the end."""
        state.dirty = True
        self._touched.pop(state.id, None)
        self._touched[state.id] = None

    def load_unique(self, entity: str, name: str, values: Iterable[str]) -> None:
        """Reads which records hold these unique values."""
        keys = sorted({code_key(v) for v in values} - {k for (_, _, k) in self._unique})
        for part in chunks(keys):
            rows = self.session.execute(
                select(UNIQUE.c.key, UNIQUE.c.record_id).where(
                    UNIQUE.c.entity == entity,
                    UNIQUE.c.field == name,
                    one_of(self.session, UNIQUE.c.key, part),
                )
            )
            found = {row[0]: row[1] for row in rows}
            for key in part:
                self._unique[(entity, name, key)] = found.get(key)

    def unique_owner(self, entity: str, name: str, value: str) -> str | None:
        """The record holding a unique value, if any."""
        key = (entity, name, code_key(value))
        if key not in self._unique:
            self.load_unique(entity, name, [value])
        return self._unique[key]

    def claim_unique(self, entity: str, name: str, value: str, record_id: str) -> None:
        """Gives a unique value to a record."""
        key = (entity, name, code_key(value))
        self._unique[key] = record_id
        self._unique_removed.discard(key)
        self._unique_added[key] = record_id

    def release_unique(self, entity: str, name: str, value: str) -> None:
        """Frees a unique value."""
        key = (entity, name, code_key(value))
        self._unique[key] = None
        if self._unique_added.pop(key, None) is None:
            self._unique_removed.add(key)

    def flush(self) -> None:
        """Writes every change: new cursors, new and changed rows, unique keys."""
        touched = [self.records[i] for i in self._touched]
        if self._unique_removed:
            self.session.execute(
                delete(UNIQUE).where(
                    or_(
                        *(
                            and_(UNIQUE.c.entity == e, UNIQUE.c.field == f, UNIQUE.c.key == k)
                            for (e, f, k) in self._unique_removed
                        )
                    )
                )
            )
        if self._unique_added:
            self.session.execute(
                insert(UNIQUE),
                [
                    {"entity": e, "field": f, "key": k, "record_id": r}
                    for (e, f, k), r in self._unique_added.items()
                ],
            )
        if touched:
            first = allocate(self.session, "cursor", len(touched))
            rows = [_row(state, first + n, self.now) for n, state in enumerate(touched)]
            new_rows = [row for row, state in zip(rows, touched, strict=True) if state.new]
            old_rows = [row for row, state in zip(rows, touched, strict=True) if not state.new]
            bulk_insert(self.session, RECORDS, new_rows)
            if old_rows:
                self.session.execute(_UPDATE, [_update_params(row) for row in old_rows])
        for state in touched:
            state.new = state.dirty = False
        self._touched.clear()
        self._unique_added.clear()
        self._unique_removed.clear()


_UPDATE = (
    update(RECORDS)
    .where(RECORDS.c.id == bindparam("b_id"))
    .values(
        version=bindparam("b_version"),
        cursor=bindparam("b_cursor"),
        site_code=bindparam("b_site_code"),
        parent_id=bindparam("b_parent_id"),
        blob=bindparam("b_blob"),
        deleted=bindparam("b_deleted"),
        fields=bindparam("b_fields"),
        field_versions=bindparam("b_field_versions"),
        updated_at=bindparam("b_updated_at"),
        deleted_at=bindparam("b_deleted_at"),
    )
)


_UPDATED = (
    "id",
    "version",
    "cursor",
    "site_code",
    "parent_id",
    "blob",
    "deleted",
    "fields",
    "field_versions",
    "updated_at",
    "deleted_at",
)


def _state(row: Any) -> RecordState:
    """A record read from the database."""
    return RecordState(
        id=row.id,
        entity=row.entity,
        version=row.version,
        site_code=row.site_code,
        parent_id=row.parent_id,
        blob=row.blob,
        deleted=row.deleted,
        fields=json.loads(row.fields),
        field_versions=json.loads(row.field_versions),
        created_at=row.created_at,
        created_by=row.created_by,
        deleted_at=row.deleted_at,
    )


def dumps(value: Any) -> str:
    """Compact JSON text, as stored and sent."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _row(state: RecordState, cursor: int, now: datetime) -> dict[str, Any]:
    """The database row of a record."""
    return {
        "id": state.id,
        "entity": state.entity,
        "version": state.version,
        "cursor": cursor,
        "site_code": state.site_code,
        "parent_id": state.parent_id,
        "blob": state.blob,
        "deleted": state.deleted,
        "fields": dumps(state.fields),
        "field_versions": dumps(state.field_versions) if state.field_versions else "{}",
        "created_at": state.created_at,
        "updated_at": now,
        "deleted_at": state.deleted_at,
        "created_by": state.created_by,
    }


def _update_params(row: dict[str, Any]) -> dict[str, Any]:
    """The bound parameters of the bulk update for one row."""
    return {f"b_{name}": row[name] for name in _UPDATED}
