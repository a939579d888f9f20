"""Value types used across the wire schema: identifiers, times, hashes, site codes."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, PlainSerializer, StringConstraints

SHA256_PATTERN = r"^[0-9a-f]{64}$"
SITE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"


_CANONICAL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def canonical_uuid(text: str) -> str:
    """A UUID in its lower-case hyphenated form; anything else is refused."""
    if _CANONICAL.match(text):
        return text  # already canonical: the common case, checked without parsing
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        raise ValueError("not a UUID") from None


def no_nul(text: str) -> str:
    """Text without NUL characters, which no field has a use for (and PostgreSQL refuses)."""
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    return text


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC."""
    return value.astimezone(UTC)


UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN, to_lower=True)]
"""A record, mutation or client identifier (UUIDv7 made on the device, or by the server), in
the hyphenated form; kept in lower case."""

UtcTime = Annotated[
    AwareDatetime,
    AfterValidator(to_utc),
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
]
"""An ISO 8601 time with a zone; kept and sent as UTC with a +00:00 offset."""

Sha256 = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
"""A blob's SHA-256 in lower-case hex."""

SiteCode = Annotated[str, StringConstraints(pattern=SITE_CODE_PATTERN)]
"""A site code such as HQ-DC1."""

ShortText = Annotated[str, StringConstraints(max_length=255), AfterValidator(no_nul)]
LongText = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(no_nul)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(no_nul)]
RequiredText = Annotated[
    str, StringConstraints(min_length=1, max_length=255), AfterValidator(no_nul)
]
RackUnit = Annotated[int, Field(ge=1, le=100)]
