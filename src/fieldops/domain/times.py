"""Aware UTC times: stored as UTC, shown in local time."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as an aware UTC time."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive time is refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: give a time zone")
    return value.astimezone(UTC)


def parse_iso(text: str) -> datetime:
    """Reads an ISO 8601 time; one with no zone is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
