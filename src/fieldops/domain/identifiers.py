"""Record identifiers and the matching key of asset codes."""

from __future__ import annotations

import os
import time
import unicodedata
import uuid


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7) made on this device."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 64) & 0x0FFF) << 64  # 12 random bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # 62 random bits
    return uuid.UUID(int=value)


def new_id() -> str:
    """A new record identifier as text."""
    return str(uuid7())


def code_key(text: str) -> str:
    """The form an identifier is matched by: trimmed, Unicode-folded, upper case.

    Leading zeros are data and stay: `012345` and `12345` are different keys.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    return folded.upper()
