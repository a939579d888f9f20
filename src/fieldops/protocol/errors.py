"""Error codes: for whole requests (with their HTTP status) and for single mutations."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ErrorCode(StrEnum):
    """Why a whole request was refused; every error answer is an ErrorBody with one of these."""

    INVALID_REQUEST = "invalid_request"  # 422: the body or a parameter breaks the schema
    UNAUTHENTICATED = "unauthenticated"  # 401: no bearer token
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - 401: unknown or revoked token
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - 401: log in again
    INVALID_CREDENTIALS = "invalid_credentials"  # 401: wrong name or password
    ACCOUNT_DISABLED = "account_disabled"  # 403
    FORBIDDEN = "forbidden"  # 403: the role does not allow this
    NOT_FOUND = "not_found"  # 404: absent, or outside the caller's sites (not told apart)
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # 429: login throttled; see retry_after
    UPGRADE_REQUIRED = "upgrade_required"  # 426: see min_client_version
    SEQUENCE_GAP = "sequence_gap"  # 409: see expected_seq; nothing was applied
    MUTATION_CHANGED = "mutation_changed"  # 409: same mutation_id, different body
    SEQUENCE_REUSED = "sequence_reused"  # 409: a seq already used by another mutation
    RESYNC_REQUIRED = "resync_required"  # 410: the cursor is older than the tombstones kept
    OFFSET_MISMATCH = "offset_mismatch"  # 409: blob upload resumed at the wrong offset
    BLOB_TOO_LARGE = "blob_too_large"  # 413: over the server's blob size limit
    TOO_LARGE = "too_large"  # 413: an imported file over the limit
    HASH_MISMATCH = "hash_mismatch"  # 422: the bytes do not hash to the name; upload dropped
    CONFLICT = "conflict"  # 409: e.g. a user name already taken
    BUSY = "busy"  # 503: the database is busy; retry with backoff
    INTERNAL = "internal_error"  # 500


class RejectCode(StrEnum):
    """Why one mutation was rejected; the ones after it are still applied."""

    UNKNOWN_ENTITY = "unknown_entity"
    INVALID_FIELDS = "invalid_fields"
    NOT_VISIBLE = "not_visible"  # does not exist or is outside the caller's sites
    OUTSIDE_SITES = "outside_sites"  # writes a site the caller is not assigned to
    FORBIDDEN = "forbidden"  # the caller's role may not do this
    APPEND_ONLY = "append_only"
    ALREADY_EXISTS = "already_exists"
    DELETED = "deleted"
    BAD_BASE_VERSION = "bad_base_version"
    DUPLICATE_VALUE = "duplicate_value"  # e.g. an asset tag already registered
    BAD_TRANSITION = "bad_transition"
    MISSING_REFERENCE = "missing_reference"


class ErrorBody(BaseModel):
    """The JSON of every error answer: a code, a sentence, and details some codes carry."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    expected_seq: int | None = None
    last_seq: int | None = None
    mutation_id: str | None = None
    min_client_version: int | None = None
    protocol_version: int | None = None
    retry_after: int | None = None
    offset: int | None = None
