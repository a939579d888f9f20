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


# Catalogue rows (sites' assets, their locations and components) come from CSV exports that
# both the server and a device may import. Their identifiers are derived from the natural key,
# so the same asset imported in two places has the same id and incidents logged against it on
# a device line up on the server. Records made by a person on a device use uuid7().
_CATALOGUE_NS = uuid.UUID("6f1c2a43-8d7e-4b1a-9c55-3e0f7d2b9a10")


def catalogue_asset_id(asset_tag: str) -> str:
    """The identifier of the catalogue asset with this tag."""
    return str(uuid.uuid5(_CATALOGUE_NS, "asset:" + code_key(asset_tag)))


def catalogue_location_id(site_code: str, *path: str) -> str:
    """The identifier of a location, from its site and the names from the top down."""
    key = "/".join(code_key(p) for p in (site_code, *path))
    return str(uuid.uuid5(_CATALOGUE_NS, "location:" + key))


def catalogue_component_id(asset_tag: str, kind: str, slot: str, serial: str) -> str:
    """The identifier of a component, from its asset, kind, slot and serial."""
    key = "/".join(code_key(p) for p in (asset_tag, kind, slot, serial))
    return str(uuid.uuid5(_CATALOGUE_NS, "component:" + key))
