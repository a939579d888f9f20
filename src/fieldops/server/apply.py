"""Applying one mutation to the records: create, field-merged update, or tombstone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy.orm import Session

from fieldops.protocol import (
    EntityKind,
    Mutation,
    Op,
    Outcome,
    Ownership,
    RejectCode,
    Role,
    dump_fields,
)
from fieldops.server.auth import Principal
from fieldops.server.records import RecordState, WorkSet, allocate

log = logging.getLogger(__name__)


class Rejection(Exception):
    """Ends one mutation as rejected, with a code and a sentence."""

    def __init__(self, code: RejectCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class ApplyContext:
    """What appliers may use: the caller, the records, the clock, counters and blobs."""

    principal: Principal
    work: WorkSet
    session: Session
    now: datetime
    blob_size: Callable[[str], int | None]
    expected_numbers: int = 1
    """How many incident numbers this transaction may need: taken in one block when first asked."""
    _numbers: list[int] = field(default_factory=list)

    def next_incident_number(self) -> str:
        """The next incident number, such as INC-000123 (a rejected batch may leave a gap)."""
        if not self._numbers:
            count = max(1, self.expected_numbers)
            first = allocate(self.session, "incident", count)
            self._numbers = list(range(first + count - 1, first - 1, -1))
            self.expected_numbers = 1
        return f"INC-{self._numbers.pop():06d}"


Result = dict[str, Any]
"""A MutationResult as the dict it is stored and sent as (built for speed, checked by tests)."""


Prepare = Callable[[ApplyContext, dict[str, Any], RecordState | None], None]
MayDelete = Callable[[Principal, RecordState], bool]


def _no_checks(_ctx: ApplyContext, _values: dict[str, Any], _current: RecordState | None) -> None:
    """Kinds with no rules beyond their fields."""


def lead_or_above(principal: Principal, _record: RecordState) -> bool:
    """Deletes by leads and administrators only."""
    return principal.at_least(Role.LEAD)


@dataclass(frozen=True)
class Applier:
    """How the server applies one kind: its extra rules and who may delete."""

    kind: EntityKind
    prepare: Prepare = _no_checks
    """Checks the record's values after a change and fills the server's own fields."""
    may_delete: MayDelete = lead_or_above


def validated(kind: EntityKind, values: dict[str, Any]) -> dict[str, Any]:
    """The values checked against the kind's fields, in their stored form."""
    try:
        return dump_fields(kind.fields.model_validate(values))
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "fields"
        raise Rejection(RejectCode.INVALID_FIELDS, f"{where}: {first['msg']}.") from None


class MutationApplier:
    """Applies mutations for one caller inside one transaction."""

    def __init__(self, ctx: ApplyContext, appliers: dict[str, Applier]) -> None:
        self.ctx = ctx
        self.appliers = appliers

    def apply(self, mutation: Mutation) -> Result:
        """The result of one mutation; a rejection leaves the records as they were."""
        try:
            return self._apply(mutation)
        except Rejection as rejection:
            log.info(
                "mutation %s on %s %s rejected: %s",
                mutation.mutation_id,
                mutation.entity,
                mutation.entity_id,
                rejection.code,
            )
            return _result(mutation, Outcome.REJECTED, code=rejection.code, reason=rejection.reason)

    def _apply(self, mutation: Mutation) -> Result:
        applier = self.appliers.get(mutation.entity)
        if applier is None:
            raise Rejection(
                RejectCode.UNKNOWN_ENTITY, f"This server does not know '{mutation.entity}' records."
            )
        current = self.ctx.work.get(mutation.entity_id)
        if current is not None and current.entity != mutation.entity:
            raise _not_visible()
        if mutation.op is Op.CREATE:
            return self._create(applier, mutation, current)
        if current is None or not self.ctx.principal.covers(current.site_code):
            raise _not_visible()
        if mutation.op is Op.UPDATE:
            return self._update(applier, mutation, current)
        return self._delete(applier, mutation, current)

    def _check_catalogue(self, kind: EntityKind) -> None:
        """Catalogue records are written by administrators only."""
        if kind.ownership is Ownership.CATALOGUE and self.ctx.principal.role is not Role.ADMIN:
            raise Rejection(RejectCode.FORBIDDEN, "Only an administrator changes the catalogue.")

    def _create(self, applier: Applier, mutation: Mutation, current: RecordState | None) -> Result:
        kind = applier.kind
        if current is not None:
            if not self.ctx.principal.covers(current.site_code):
                raise _not_visible()
            if current.deleted:
                raise Rejection(RejectCode.DELETED, "This record was deleted on the server.")
            raise Rejection(RejectCode.ALREADY_EXISTS, "A record with this id already exists.")
        self._check_catalogue(kind)
        values = validated(kind, _client_fields(kind, mutation.fields))
        site, parent = self._site_of(kind, values)
        self._check_references(kind, values)
        self._check_unique(kind, values, mutation.entity_id)
        applier.prepare(self.ctx, values, None)
        state = RecordState(
            id=mutation.entity_id,
            entity=kind.name,
            version=1,
            site_code=site,
            parent_id=parent,
            blob=values.get(kind.blob_field) if kind.blob_field else None,
            deleted=False,
            fields=values,
            field_versions={},
            created_at=self.ctx.now,
            created_by=self.ctx.principal.user_id,
        )
        self.ctx.work.create(state)
        self._claim_unique(kind, state, {})
        return _result(mutation, Outcome.APPLIED, version=1, number=values.get("number"))

    def _update(self, applier: Applier, mutation: Mutation, current: RecordState) -> Result:
        kind = applier.kind
        if current.deleted:
            raise Rejection(RejectCode.DELETED, "This record was deleted on the server.")
        if kind.append_only:
            raise Rejection(RejectCode.APPEND_ONLY, f"A {kind.name} cannot be changed once made.")
        self._check_catalogue(kind)
        base = mutation.base_version
        if base == 0:
            # The device changed its own copy before it ever heard from the server: a record
            # it created itself (whose create is the server's version 1) or one from its own
            # import of the same catalogue (the server's version 1 came from that file).
            base = 1
        if base is None or not 1 <= base <= current.version:
            raise Rejection(
                RejectCode.BAD_BASE_VERSION,
                f"The change is based on version {base}, but the server has {current.version}.",
            )
        changes = _client_fields(kind, mutation.fields)
        unknown = sorted(set(changes) - set(kind.field_names))
        if unknown:
            raise Rejection(RejectCode.INVALID_FIELDS, f"Unknown fields: {', '.join(unknown)}.")
        wanted = validated(kind, {**current.fields, **changes})
        conflicts = sorted(
            name
            for name in changes
            if current.field_version(name) > base and wanted[name] != current.fields.get(name)
        )
        merged = {**current.fields, **{n: wanted[n] for n in changes if n not in conflicts}}
        merged = validated(kind, merged)
        site, parent = self._site_of(kind, merged)
        self._check_references(kind, merged, only=set(changes))
        self._check_unique(kind, merged, current.id)
        applier.prepare(self.ctx, merged, current)
        changed = sorted(n for n in merged if merged[n] != current.fields.get(n))
        before = dict(current.fields)
        if changed:
            if site != current.site_code:
                self._move_children(current, site)
            current.version += 1
            current.fields = merged
            current.site_code, current.parent_id = site, parent
            current.field_versions.update({name: current.version for name in changed})
            self.ctx.work.touch(current)
            self._claim_unique(kind, current, before)
        outcome = Outcome.CONFLICT if conflicts else Outcome.MERGED
        if not conflicts and base == current.version - (1 if changed else 0):
            outcome = Outcome.APPLIED
        return _result(
            mutation,
            outcome,
            version=current.version,
            number=current.fields.get("number"),
            conflicts=conflicts,
            server_values=None if outcome is Outcome.APPLIED else dict(current.fields),
        )

    def _move_children(self, record: RecordState, site: str | None) -> None:
        """Records scoped through this one follow it to its new site."""
        for child in self.ctx.work.children(record.id):
            if child.site_code != site:
                child.site_code = site
                self.ctx.work.touch(child)

    def _delete(self, applier: Applier, mutation: Mutation, current: RecordState) -> Result:
        if current.deleted:
            return _result(mutation, Outcome.APPLIED, version=current.version)
        if not applier.may_delete(self.ctx.principal, current):
            raise Rejection(RejectCode.FORBIDDEN, f"Your role may not delete a {current.entity}.")
        for name in applier.kind.unique:
            if isinstance(value := current.fields.get(name), str):
                self.ctx.work.release_unique(current.entity, name, value)
        current.version += 1
        current.deleted = True
        current.deleted_at = self.ctx.now
        current.fields = {}
        self.ctx.work.touch(current)
        return _result(mutation, Outcome.APPLIED, version=current.version)

    def _site_of(self, kind: EntityKind, values: dict[str, Any]) -> tuple[str | None, str | None]:
        """The record's site and scoping parent; refuses sites the caller does not cover."""
        if kind.site_field is not None:
            site = values[kind.site_field]
            if not self.ctx.principal.covers(site):
                raise Rejection(RejectCode.OUTSIDE_SITES, f"You are not assigned to site {site}.")
            return site, None
        for name in kind.parents:
            parent_id = values.get(name)
            if parent_id is None:
                continue
            parent = self.ctx.work.get(parent_id)
            if parent is None or parent.deleted or not self.ctx.principal.covers(parent.site_code):
                raise _missing(name)
            return parent.site_code, parent.id
        wanted = " or ".join(kind.parents)
        raise Rejection(RejectCode.INVALID_FIELDS, f"A {kind.name} needs {wanted}.")

    def _check_references(
        self, kind: EntityKind, values: dict[str, Any], only: set[str] | None = None
    ) -> None:
        """Every record referred to exists, is of the right kind and is visible."""
        for name, target in kind.references.items():
            record_id = values.get(name)
            if record_id is None or (only is not None and name not in only):
                continue
            record = self.ctx.work.get(record_id)
            if (
                record is None
                or record.entity != target
                or record.deleted
                or not self.ctx.principal.covers(record.site_code)
            ):
                raise _missing(name)

    def _check_unique(self, kind: EntityKind, values: dict[str, Any], record_id: str) -> None:
        """Refuses a unique value another live record holds."""
        for name in kind.unique:
            value = values.get(name)
            if not isinstance(value, str):
                continue
            owner = self.ctx.work.unique_owner(kind.name, name, value)
            if owner is not None and owner != record_id:
                if self._shares(kind, name, values, owner):
                    continue
                label = name.replace("_", " ")
                raise Rejection(
                    RejectCode.DUPLICATE_VALUE, f"The {label} '{value}' is already registered."
                )

    def _shares(self, kind: EntityKind, name: str, values: dict[str, Any], owner: str) -> bool:
        """Whether the value's holder is a record this one may share it with."""
        by = kind.unique_shared_by.get(name)
        held = self.ctx.work.get(owner) if by else None
        return held is not None and by is not None and held.fields.get(by) == values.get(by)

    def _claim_unique(self, kind: EntityKind, state: RecordState, before: dict[str, Any]) -> None:
        """Moves unique values from the old to the new field values."""
        for name in kind.unique:
            old, new = before.get(name), state.fields.get(name)
            if old == new and before:
                continue
            if name in kind.unique_shared_by and isinstance(new, str):
                owner = self.ctx.work.unique_owner(kind.name, name, new)
                if owner is not None and owner != state.id:
                    continue  # shared with its first holder, which keeps it
            if isinstance(old, str):
                self.ctx.work.release_unique(kind.name, name, old)
            if isinstance(new, str):
                self.ctx.work.claim_unique(kind.name, name, new, state.id)


def _client_fields(kind: EntityKind, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields a client may set: the server's own ones are dropped."""
    return {name: value for name, value in fields.items() if name not in kind.server_fields}


def _not_visible() -> Rejection:
    """The same answer for absent records and records outside the caller's sites."""
    return Rejection(
        RejectCode.NOT_VISIBLE, "The record does not exist here or is outside your sites."
    )


def _missing(name: str) -> Rejection:
    """A referenced record that is absent, deleted, of another kind, or not visible."""
    return Rejection(
        RejectCode.MISSING_REFERENCE,
        f"The record named by {name} does not exist here or is outside your sites.",
    )


def _result(mutation: Mutation, outcome: Outcome, **extra: Any) -> Result:
    """A result naming the mutation, with every field of MutationResult in its order."""
    result: Result = {
        "mutation_id": mutation.mutation_id,
        "seq": mutation.seq,
        "entity": mutation.entity,
        "entity_id": mutation.entity_id,
        "outcome": outcome.value,
        "version": None,
        "number": None,
        "conflicts": [],
        "server_values": None,
        "code": None,
        "reason": None,
        "replayed": False,
    }
    result.update(extra)
    return result
