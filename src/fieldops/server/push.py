"""Push: a batch of one client's mutations applied in one transaction, exactly once each.

The client's row is locked first, so two workers handling pushes from the same client take
turns; the last sequence applied is stored in the same transaction as the changes.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from fieldops.protocol import (
    ENTITY_KINDS,
    MIN_CLIENT_VERSION,
    PROTOCOL_VERSION,
    ErrorCode,
    Mutation,
    MutationResult,
    Op,
    PushRequest,
    PushResponse,
)
from fieldops.server.appliers import APPLIERS
from fieldops.server.apply import ApplyContext, MutationApplier
from fieldops.server.auth import Principal
from fieldops.server.db import bulk_insert, in_transaction, one_of
from fieldops.server.errors import ApiError
from fieldops.server.meta import read_epoch
from fieldops.server.records import WorkSet, chunks, dumps
from fieldops.server.schema import AppliedMutation, Client

log = logging.getLogger(__name__)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

CLIENTS: Table = Client.__table__  # type: ignore[assignment]
APPLIED: Table = AppliedMutation.__table__  # type: ignore[assignment]


def body_hash(mutation: Mutation) -> str:
    """A digest of everything the mutation says, to tell a replay from a changed body."""
    # Mutation keeps its fields in name order, so a rebuilt identical change hashes the same.
    return hashlib.sha256(mutation.model_dump_json().encode("utf-8")).hexdigest()


def upgrade_required(version: int) -> ApiError:
    """The answer to a client older than the server still accepts."""
    return ApiError(
        426,
        ErrorCode.UPGRADE_REQUIRED,
        f"This FieldOps is too old for the server (protocol {version}); install an update "
        f"that speaks protocol {MIN_CLIENT_VERSION} or newer.",
        min_client_version=MIN_CLIENT_VERSION,
        protocol_version=PROTOCOL_VERSION,
    )


@dataclass(frozen=True)
class PushAnswer:
    """A push's answer, with each result already in its JSON form (as stored for replays)."""

    results: list[str]
    last_seq: int
    missing_blobs: list[str]
    epoch: str
    server_time: datetime

    def to_json(self) -> str:
        """The JSON text of the PushResponse."""
        head = PushResponse(
            results=[],
            last_seq=self.last_seq,
            missing_blobs=self.missing_blobs,
            epoch=self.epoch,
            protocol_version=PROTOCOL_VERSION,
            server_time=self.server_time,
        ).model_dump_json()
        rest = head.removeprefix('{"results":[],')
        return '{"results":[' + ",".join(self.results) + "]," + rest

    def model(self) -> PushResponse:
        """The answer as a PushResponse."""
        return PushResponse.model_validate_json(self.to_json())


@dataclass(frozen=True)
class Pusher:
    """Handles push requests against one database and blob store."""

    factory: sessionmaker[Session]
    blob_size: Callable[[str], int | None]
    clock: Callable[[], datetime]

    def push(self, principal: Principal, request: PushRequest) -> PushAnswer:
        """Applies the batch and answers for each mutation in it."""
        if request.protocol_version < MIN_CLIENT_VERSION:
            raise upgrade_required(request.protocol_version)
        _check_batch(request.mutations)
        hashes = [body_hash(m) for m in request.mutations]
        attempts = itertools.count()
        return in_transaction(
            self.factory,
            lambda s: self._push(s, principal, request, hashes, careful=next(attempts) > 0),
        )

    def _push(
        self,
        session: Session,
        principal: Principal,
        request: PushRequest,
        hashes: list[str],
        careful: bool,
    ) -> PushAnswer:
        # The first attempt trusts that a batch of new sequence numbers holds no replay and
        # creates no record that exists: the primary keys refuse it if that is wrong, and the
        # transaction runs again, carefully, looking everything up.
        now = self.clock()
        last_seq = _lock_client(session, request.client_id, principal.user_id, now)
        optimistic = not careful and request.mutations[0].seq > last_seq
        ids = [m.mutation_id for m in request.mutations]
        stored = {} if optimistic else _stored_results(session, ids)
        results: list[str] = []
        fresh: list[tuple[Mutation, str]] = []
        for mutation, digest in zip(request.mutations, hashes, strict=True):
            previous = stored.get(mutation.mutation_id)
            if previous is not None:
                results.append(_replayed(mutation, digest, previous))
                continue
            expected = last_seq + 1 + len(fresh)
            _check_seq(mutation, expected, last_seq)
            fresh.append((mutation, digest))

        fresh, missing = self._hold_back_missing_blobs(fresh)
        if fresh:
            results.extend(
                self._apply(session, principal, request.client_id, fresh, now, optimistic)
            )
            last_seq = fresh[-1][0].seq
            session.execute(
                update(CLIENTS)
                .where(CLIENTS.c.client_id == request.client_id)
                .values(last_seq=last_seq, user_id=principal.user_id, updated_at=now)
            )
        log.info(
            "push from client %s by %s: %d mutations, %d new, last seq %d",
            request.client_id,
            principal.name,
            len(request.mutations),
            len(fresh),
            last_seq,
        )
        return PushAnswer(results, last_seq, missing, read_epoch(session), now)

    def _hold_back_missing_blobs(
        self, fresh: list[tuple[Mutation, str]]
    ) -> tuple[list[tuple[Mutation, str]], list[str]]:
        """Stops before the first mutation whose blob is not here; lists every missing one."""
        missing: list[str] = []
        stop: int | None = None
        for index, (mutation, _) in enumerate(fresh):
            sha = _blob_of(mutation)
            if sha is not None and self.blob_size(sha) is None:
                stop = index if stop is None else stop
                if sha not in missing:
                    missing.append(sha)
        return (fresh if stop is None else fresh[:stop]), missing

    def _apply(
        self,
        session: Session,
        principal: Principal,
        client_id: str,
        fresh: list[tuple[Mutation, str]],
        now: datetime,
        optimistic: bool,
    ) -> list[str]:
        work = WorkSet(session, now)
        mutations = [m for m, _ in fresh]
        if optimistic:
            work.assume_absent(m.entity_id for m in mutations if m.op is Op.CREATE)
        work.load(_ids_named(mutations, targets_of_creates=not optimistic))
        _load_unique_values(work, [m for m, _ in fresh])
        ctx = ApplyContext(principal, work, session, now, self.blob_size)
        ctx.expected_numbers = sum(m.entity == "incident" and m.op is Op.CREATE for m, _ in fresh)
        applier = MutationApplier(ctx, APPLIERS)
        results = [dumps(applier.apply(mutation)) for mutation, _ in fresh]
        work.flush()
        rows = [
            {
                "mutation_id": mutation.mutation_id,
                "client_id": client_id,
                "seq": mutation.seq,
                "body_hash": digest,
                "result": result,
                "applied_at": now,
            }
            for (mutation, digest), result in zip(fresh, results, strict=True)
        ]
        bulk_insert(session, APPLIED, rows)
        return results


def _check_batch(mutations: list[Mutation]) -> None:
    """A batch names each mutation once, in rising sequence order."""
    ids = [m.mutation_id for m in mutations]
    if len(set(ids)) != len(ids):
        raise ApiError(422, ErrorCode.INVALID_REQUEST, "A mutation appears twice in the batch.")
    seqs = [m.seq for m in mutations]
    if any(b <= a for a, b in itertools.pairwise(seqs)):
        raise ApiError(
            422, ErrorCode.INVALID_REQUEST, "The mutations of a batch must be in rising seq order."
        )


def _check_seq(mutation: Mutation, expected: int, last_seq: int) -> None:
    """A new mutation carries the next sequence number: no gap, no number used twice."""
    if mutation.seq == expected:
        return
    if mutation.seq <= last_seq:
        raise ApiError(
            409,
            ErrorCode.SEQUENCE_REUSED,
            f"Sequence {mutation.seq} was already used by another change from this device.",
            expected_seq=expected,
            last_seq=last_seq,
            mutation_id=mutation.mutation_id,
        )
    raise ApiError(
        409,
        ErrorCode.SEQUENCE_GAP,
        f"The server expected change {expected} next but got {mutation.seq}; nothing was "
        f"applied. Send from {expected} on.",
        expected_seq=expected,
        last_seq=last_seq,
        mutation_id=mutation.mutation_id,
    )


def _replayed(mutation: Mutation, digest: str, previous: AppliedMutation) -> str:
    """The stored answer for a mutation handled before; a changed body is refused."""
    if previous.body_hash != digest:
        raise ApiError(
            409,
            ErrorCode.MUTATION_CHANGED,
            "A change was sent again with the same id but different content; nothing was applied.",
            mutation_id=mutation.mutation_id,
        )
    result = MutationResult.model_validate_json(previous.result)
    return result.model_copy(update={"replayed": True}).model_dump_json()


def _lock_client(session: Session, client_id: str, user_id: int, now: datetime) -> int:
    """The client's last applied sequence, with its row locked until commit."""
    dialect = session.get_bind().dialect.name
    values = {"client_id": client_id, "last_seq": 0, "user_id": user_id, "updated_at": now}
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(CLIENTS).values(values)
    # An upsert that changes nothing still locks the row, in one round trip.
    upsert = statement.on_conflict_do_update(
        index_elements=[CLIENTS.c.client_id], set_={"client_id": statement.excluded.client_id}
    ).returning(CLIENTS.c.last_seq)
    return int(session.execute(upsert).scalar_one())


def _stored_results(session: Session, ids: list[str]) -> dict[str, AppliedMutation]:
    """Mutations of this batch the server has handled before."""
    found: dict[str, AppliedMutation] = {}
    for part in chunks(ids):
        query = select(AppliedMutation).where(one_of(session, APPLIED.c.mutation_id, part))
        found.update((row.mutation_id, row) for row in session.scalars(query))
    return found


def _blob_of(mutation: Mutation) -> str | None:
    """The blob a create names, when its kind has one."""
    kind = ENTITY_KINDS.get(mutation.entity)
    if mutation.op is not Op.CREATE or kind is None or kind.blob_field is None:
        return None
    value = mutation.fields.get(kind.blob_field)
    return value if isinstance(value, str) and len(value) == 64 else None


def _ids_named(mutations: Iterable[Mutation], targets_of_creates: bool = True) -> list[str]:
    """Every record id the mutations touch or refer to, to load in one go."""
    ids: list[str] = []
    for mutation in mutations:
        if targets_of_creates or mutation.op is not Op.CREATE:
            ids.append(mutation.entity_id)
        kind = ENTITY_KINDS.get(mutation.entity)
        if kind is None:
            continue
        for name in (*kind.references, *kind.parents):
            value = mutation.fields.get(name)
            if isinstance(value, str) and _UUID.match(value):
                ids.append(value)
    return ids


def _load_unique_values(work: WorkSet, mutations: list[Mutation]) -> None:
    """Reads the owners of every unique value the mutations set, in one go per field."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for mutation in mutations:
        kind = ENTITY_KINDS.get(mutation.entity)
        for name in kind.unique if kind else ():
            value = mutation.fields.get(name)
            # Values the fields check will refuse anyway are not looked up (NUL breaks SQL).
            if isinstance(value, str) and "\x00" not in value and len(value) <= 255:
                wanted.setdefault((mutation.entity, name), []).append(value)
    for (entity, name), values in wanted.items():
        work.load_unique(entity, name, values)
