"""The three-way merge of a catalogue re-import, and the baselines it merges against.

A baseline is what the last import of a record wrote (the file's values for it). For each
field, or group of fields that only make sense together:

- the file equals the baseline: the catalogue did not change it, so the record's value stays
  (a change made in the field since the last import wins);
- the record equals the baseline: only the catalogue changed it, so the file's value is taken;
- both changed, differently: the file wins, because the administrator runs the import on
  purpose and a later import of the same file must not flip the value back; the record's value
  is set aside in a conflict, reported by the import and kept with the baseline.

A record without a baseline (imported before baselines were kept, or made on a device) has
no record of what the file last said. Then a field that has not changed since the record was
made counts as the file's, an empty side gives way to the other, and two different values are
a conflict: the file wins over a provisional asset (a stand-in made for an unknown label, which
the catalogue now describes), the record wins otherwise (its change was most likely made in
the field, since an import of the same export would have left the two equal).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from fieldops.protocol import ImportConflict
from fieldops.server.db import bulk_insert, one_of
from fieldops.server.records import RecordState, chunks, dumps
from fieldops.server.schema import ImportBaseline

BASELINES: Table = ImportBaseline.__table__  # type: ignore[assignment]

GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "asset": (("site_code", "location_id", "rack_u", "rack_face"),),
}
"""Fields merged as one value: an asset's place is taken whole from one side or the other."""

ALWAYS_FILE = frozenset({"provisional"})
"""Fields the file always sets: an asset the catalogue names is no longer provisional."""


class Take(Enum):
    """What the merge does with one field or group."""

    SAME = "same"
    FILE = "file"
    KEEP = "keep"
    CONFLICT_FILE = "conflict-file"
    CONFLICT_RECORD = "conflict-record"


@dataclass
class Baseline:
    """What the last import wrote to one record, and the conflicts set aside on it so far."""

    fields: dict[str, Any]
    conflicts: dict[str, Any]
    stored: bool = True


def _empty(values: tuple[Any, ...]) -> bool:
    return all(value is None or value == "" for value in values)


def decide(
    file: tuple[Any, ...],
    record: tuple[Any, ...],
    base: tuple[Any, ...] | None,
    *,
    untouched: bool,
    provisional: bool,
) -> Take:
    """The merge of one field or group: file value, record value, last imported value."""
    if file == record:
        return Take.SAME
    if base is not None:
        if file == base:
            return Take.KEEP
        if record == base:
            return Take.FILE
        return Take.CONFLICT_FILE
    differ = [n for n, (a, b) in enumerate(zip(file, record, strict=True)) if a != b]
    if _empty(tuple(record[n] for n in differ)):
        return Take.FILE
    if _empty(tuple(file[n] for n in differ)):
        return Take.KEEP
    if untouched and not provisional:
        return Take.FILE
    return Take.CONFLICT_FILE if provisional else Take.CONFLICT_RECORD


@dataclass
class Merged:
    """The record's fields after the merge, with what was kept and what conflicted."""

    fields: dict[str, Any]
    kept: int = 0
    conflicts: list[tuple[str, Any, Any, str]] = field(default_factory=list)
    """(field, file value, record value, "file" or "record")."""


def _groups(entity: str, names: Iterable[str]) -> list[tuple[str, ...]]:
    """The fields of a kind, in their merge groups (single fields in groups of one)."""
    grouped = GROUPS.get(entity, ())
    inside = {name for group in grouped for name in group}
    names = list(names)
    present = [group for group in grouped if all(n in names for n in group)]
    return present + [(n,) for n in names if n not in inside and n not in ALWAYS_FILE]


def merge(
    entity: str, file: dict[str, Any], current: RecordState, baseline: Baseline | None
) -> Merged:
    """The three-way merge of a file's values into a record (see the module's docstring)."""
    if all(current.fields.get(name) == value for name, value in file.items()):
        return Merged(current.fields)  # the usual re-import: nothing differs, nothing to weigh
    result = Merged({**current.fields, **{n: file[n] for n in ALWAYS_FILE if n in file}})
    provisional = bool(current.fields.get("provisional"))
    base_fields = baseline.fields if baseline else {}
    for group in _groups(entity, file):
        theirs = tuple(file[n] for n in group)
        ours = tuple(current.fields.get(n) for n in group)
        base = (
            tuple(base_fields[n] for n in group) if all(n in base_fields for n in group) else None
        )
        untouched = all(current.field_version(n) == 1 for n in group)
        take = decide(theirs, ours, base, untouched=untouched, provisional=provisional)
        if take in (Take.FILE, Take.CONFLICT_FILE):
            result.fields.update(zip(group, theirs, strict=True))
        if take in (Take.KEEP, Take.CONFLICT_RECORD):
            result.kept += sum(a != b for a, b in zip(theirs, ours, strict=True))
        if take in (Take.CONFLICT_FILE, Take.CONFLICT_RECORD):
            kept = "file" if take is Take.CONFLICT_FILE else "record"
            result.conflicts += [
                (n, a, b, kept) for n, a, b in zip(group, theirs, ours, strict=True) if a != b
            ]
    return result


def conflict_entries(
    merged: Merged, line: int, entity: str, record_id: str, key: str
) -> list[ImportConflict]:
    """The conflicts of one record as the import's report gives them."""
    return [
        ImportConflict(
            line=line,
            entity=entity,
            record_id=record_id,
            key=key,
            field=name,
            file_value=theirs,
            record_value=ours,
            kept=kept,  # type: ignore[arg-type]
        )
        for name, theirs, ours, kept in merged.conflicts
    ]


@dataclass
class Baselines:
    """The baselines one import reads, and the ones it writes when it ends."""

    session: Session
    now: datetime
    found: dict[str, Baseline] = field(default_factory=dict)
    _asked: set[str] = field(default_factory=set)
    _written: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)

    def load(self, record_ids: Iterable[str]) -> None:
        """Reads the baselines of these records."""
        wanted = sorted({i for i in record_ids if i not in self._asked})
        self._asked.update(wanted)
        for part in chunks(wanted):
            query = select(BASELINES.c.record_id, BASELINES.c.fields, BASELINES.c.conflicts)
            rows = self.session.execute(
                query.where(one_of(self.session, BASELINES.c.record_id, part))
            )
            for record_id, fields, conflicts in rows:
                self.found[record_id] = Baseline(json.loads(fields), json.loads(conflicts))

    def records_by_key(self, entity: str, keys: Iterable[str]) -> dict[str, str]:
        """The records the last import wrote under these natural keys, by key."""
        found: dict[str, str] = {}
        for part in chunks(sorted(set(keys))):
            query = select(BASELINES.c.natural_key, BASELINES.c.record_id).where(
                BASELINES.c.entity == entity, one_of(self.session, BASELINES.c.natural_key, part)
            )
            found.update({key: record_id for key, record_id in self.session.execute(query)})
        return found

    def get(self, record_id: str) -> Baseline | None:
        """The baseline of a loaded record, if it has one."""
        if record_id not in self._asked:
            self.load([record_id])
        return self.found.get(record_id)

    def write(
        self,
        state: RecordState,
        key: str,
        values: dict[str, Any],
        merged: Merged | None = None,
    ) -> None:
        """Remembers what this import said for a record, with any conflicts set aside on it."""
        # A record the import has just made has no baseline worth reading (one left by a purged
        # record with the same id is replaced when written), so it costs no query.
        old = None if state.new else self.get(state.id)
        conflicts = dict(old.conflicts) if old else {}
        for name, theirs, ours, kept in merged.conflicts if merged else ():
            conflicts[name] = {
                "file": theirs,
                "record": ours,
                "kept": kept,
                "at": self.now.isoformat(),
            }
        if old and old.fields == values and old.conflicts == conflicts:
            return
        self.found[state.id] = Baseline(values, conflicts, stored=old.stored if old else False)
        self._written[state.id] = (state.entity, key, values)

    def flush(self) -> None:
        """Writes the baselines this import changed."""
        new_rows: list[dict[str, Any]] = []
        old_rows: list[dict[str, Any]] = []
        for record_id, (entity, key, values) in self._written.items():
            baseline = self.found[record_id]
            row = {
                "record_id": record_id,
                "entity": entity,
                "natural_key": key,
                "fields": dumps(values),
                "conflicts": dumps(baseline.conflicts),
                "imported_at": self.now,
            }
            (old_rows if baseline.stored else new_rows).append(row)
            baseline.stored = True
        for part in chunks([row["record_id"] for row in new_rows]):
            self.session.execute(
                delete(BASELINES).where(one_of(self.session, BASELINES.c.record_id, part))
            )
        bulk_insert(self.session, BASELINES, new_rows)
        if old_rows:
            self.session.execute(
                _UPDATE, [{f"b_{k}": v for k, v in row.items()} for row in old_rows]
            )
        self._written.clear()


_UPDATE = (
    update(BASELINES)
    .where(BASELINES.c.record_id == bindparam("b_record_id"))
    .values(
        entity=bindparam("b_entity"),
        natural_key=bindparam("b_natural_key"),
        fields=bindparam("b_fields"),
        conflicts=bindparam("b_conflicts"),
        imported_at=bindparam("b_imported_at"),
    )
)
