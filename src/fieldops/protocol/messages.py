"""Requests and answers of the sync API, as pydantic models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
)

from fieldops.protocol.values import ShortText, SiteCode, UtcTime, Uuid, no_nul
from fieldops.protocol.version import MAX_PUSH_MUTATIONS

EntityName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
USER_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
UserName = Annotated[str, StringConstraints(pattern=USER_NAME_PATTERN)]
NewPassword = Annotated[
    str, StringConstraints(min_length=10, max_length=1024), AfterValidator(no_nul)
]


class Message(BaseModel):
    """Base of the wire messages: unknown fields are ignored, so newer peers can add some."""

    model_config = ConfigDict(extra="ignore")


class Op(StrEnum):
    """What a mutation does to its record."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ChangeOp(StrEnum):
    """What a pulled change does: the record as it is now, or its tombstone."""

    UPSERT = "upsert"
    DELETE = "delete"


class Outcome(StrEnum):
    """What the server did with one mutation."""

    APPLIED = "applied"
    """Taken as sent: the record had not changed since the base version."""
    MERGED = "merged"
    """Taken, merged with other changes made since the base version; see server_values."""
    CONFLICT = "conflict"
    """Some fields were changed on both sides: the server kept its values for `conflicts`."""
    REJECTED = "rejected"
    """Not taken, for good: see code and reason. The mutations after it were still handled."""


class Role(StrEnum):
    """What a user may do."""

    TECHNICIAN = "technician"
    LEAD = "lead"
    ADMIN = "admin"


class Mutation(Message):
    """One outbox row: a change to one record, with its idempotency key and sequence."""

    mutation_id: Uuid
    seq: int = Field(ge=1)
    entity: EntityName
    entity_id: Uuid
    op: Op
    fields: dict[str, JsonValue] = Field(default_factory=dict)
    base_version: int | None = Field(default=None, ge=0)
    client_time: UtcTime | None = None

    @field_validator("fields")
    @classmethod
    def _sorted(cls, fields: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """Fields in name order, so the same change always reads (and hashes) the same."""
        return dict(sorted(fields.items()))


class PushRequest(Message):
    """A batch of mutations from one client, in sequence order."""

    client_id: Uuid
    protocol_version: int = Field(ge=1)
    mutations: list[Mutation] = Field(min_length=1, max_length=MAX_PUSH_MUTATIONS)


class MutationResult(Message):
    """The server's answer for one mutation."""

    mutation_id: str
    seq: int
    entity: str
    entity_id: str
    outcome: Outcome
    version: int | None = None
    """The record's version after this mutation (None when rejected before it existed)."""
    number: str | None = None
    """For incidents: the number the server gave it, such as INC-000123."""
    conflicts: list[str] = Field(default_factory=list)
    """On conflict: the fields where the server kept its own value."""
    server_values: dict[str, JsonValue] | None = None
    """On merged or conflict: the record's fields as the server now holds them."""
    code: str | None = None
    """On rejected: a RejectCode."""
    reason: str | None = None
    """On rejected: one sentence for the person who made the change."""
    replayed: bool = False
    """True when this mutation had been handled before and this is the stored answer."""


class PushResponse(Message):
    """The answers for a push, in order, and how far the server has got with this client."""

    results: list[MutationResult]
    last_seq: int
    """The highest sequence the server has handled for this client."""
    missing_blobs: list[str] = Field(default_factory=list)
    """When not empty, handling stopped at last_seq + 1: upload these blobs, then push again."""
    epoch: str
    protocol_version: int
    server_time: UtcTime


class Change(Message):
    """One record as the server holds it now (or its tombstone), at a cursor."""

    cursor: int
    entity: str
    entity_id: str
    op: ChangeOp
    version: int
    fields: dict[str, JsonValue]


class PullResponse(Message):
    """One page of changes after a cursor."""

    changes: list[Change]
    next_cursor: int
    """Ask for changes after this next time (and store it with the page)."""
    has_more: bool
    epoch: str
    protocol_version: int


class LoginRequest(Message):
    """A name and password, exchanged for a bearer token."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(no_nul)]
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=1024), AfterValidator(no_nul)
    ]
    device: Annotated[str, StringConstraints(max_length=100), AfterValidator(no_nul)] = ""


class UserInfo(Message):
    """A user as the API shows it (never with a password or token)."""

    name: str
    role: Role
    sites: list[str]
    disabled: bool = False


class LoginResponse(Message):
    """A bearer token for the Authorization header, and who it belongs to."""

    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: UtcTime
    user: UserInfo
    epoch: str
    protocol_version: int


class ServerInfo(Message):
    """What any client may ask before logging in."""

    protocol_version: int
    min_client_version: int
    epoch: str
    server_time: UtcTime


class BlobStatus(Message):
    """How much of a blob the server holds."""

    sha256: str
    offset: int
    """Bytes held so far; equals size once complete."""
    complete: bool


class UserCreate(Message):
    """A new user, made by an administrator."""

    name: UserName
    role: Role
    sites: list[SiteCode] = Field(default_factory=list, max_length=500)
    password: NewPassword


class UserUpdate(Message):
    """Changes to a user; fields left out stay as they are."""

    role: Role | None = None
    sites: list[SiteCode] | None = Field(default=None, max_length=500)
    disabled: bool | None = None
    password: NewPassword | None = None


class SiteInfo(Message):
    """A site and how many live assets it has."""

    code: str
    name: str
    assets: int


class SiteUpdate(Message):
    """A site's name, set by an administrator."""

    name: ShortText


class ImportLineError(Message):
    """One refused line of an imported file."""

    line: int
    reason: str


class ImportConflict(Message):
    """A field the file and the field both changed since the last import, and which was kept."""

    line: int
    entity: str
    record_id: str
    key: str
    field: str
    file_value: str | int | bool | None = None
    record_value: str | int | bool | None = None
    kept: Literal["file", "record"]
    """Whose value the record holds now; the other one is set aside here."""


class ImportSummary(Message):
    """What an import of a catalogue file did."""

    format: str
    created: int
    updated: int
    unchanged: int
    errors: list[ImportLineError] = Field(default_factory=list)
    kept: int = 0
    """Fields whose value changed since the last import and was kept over the file's."""
    conflicts: list[ImportConflict] = Field(default_factory=list)


class RevokeResult(Message):
    """How many tokens were revoked."""

    revoked: int


class ClientInfo(Message):
    """A device that has pushed, and how far the server has got with it."""

    client_id: str
    user: str | None
    last_seq: int
    last_push_at: UtcTime
