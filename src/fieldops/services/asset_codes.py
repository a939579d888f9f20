"""Codes attached to an asset in the field: a relabelled asset, a corrected scan, a second label.

An attached code is saved, made findable by a scan and queued for the server in one
transaction; it travels as an `asset_code` record and is never edited.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.identifiers import code_key, new_id
from fieldops.domain.scan import ScanSource
from fieldops.domain.scanner_profile import ScannerProfile
from fieldops.domain.times import utcnow
from fieldops.i18n import tr
from fieldops.protocol.entities import AssetCodeFields
from fieldops.services.scanned_codes import LABEL_KINDS, scanned_identifier
from fieldops.store.database import Database
from fieldops.store.models import Asset, AssetCode, AssetCodeEvent
from fieldops.store.outbox import enqueue_create
from fieldops.sync.local import add_attached_code, state

log = logging.getLogger(__name__)

MAX_CODE = 128
MAX_RAW = 256
SOURCES: tuple[str, ...] = get_args(AssetCodeFields.model_fields["source"].annotation)
KINDS: tuple[str, ...] = get_args(AssetCodeFields.model_fields["kind"].annotation)
# What travels; created_by is filled by the server with the signed-in user.
WIRE_FIELDS = ("asset_id", "code", "kind", "source", "raw", "created_at")


class CodeAlreadyAttached(ValidationError):
    """The asset already answers to this code; nothing was saved."""

    code = "already_attached"


@dataclass(frozen=True)
class AttachedCode:
    """One code attached to an asset, as its history shows it."""

    id: str
    code: str
    kind: str
    source: str
    raw: str
    created_at: datetime
    created_by: str


def escape_controls(raw: str, limit: int = MAX_RAW) -> str:
    """What a scanner sent, control characters written as \\xNN, cut to `limit` characters.

    A backslash is doubled so the escapes cannot be confused with the text; an escape is
    never cut in half.
    """
    out: list[str] = []
    size = 0
    for char in raw:
        if char == "\\":
            piece = "\\\\"
        elif unicodedata.category(char) == "Cc":
            piece = f"\\x{ord(char):02x}"
        else:
            piece = char
        if size + len(piece) > limit:
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


def check_code(code: str) -> str:
    """The code as printed, without surrounding white space; refuses what no label prints."""
    text = code.strip()
    if not text:
        raise ValidationError(tr("Give the code as it is printed on the label."))
    if len(text) > MAX_CODE:
        raise ValidationError(
            tr("A code has at most {limit} characters; this one has {count}.").format(
                limit=MAX_CODE, count=len(text)
            )
        )
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ValidationError(
            tr(
                "The code holds a control character, so it was probably read with the "
                "scanner's extra characters; scan it again or type it as printed."
            )
        )
    return text


def attach_code(
    db: Database, asset_id: str, code: str, source: str, raw: str, kind: str = "label"
) -> str:
    """Attaches a code to an asset, findable at once and queued; returns the record's id."""
    text = check_code(code)
    if source not in SOURCES:
        raise ValidationError(
            tr("Say how the code was read: {choices}.").format(choices=", ".join(SOURCES))
        )
    if kind not in KINDS:
        raise ValidationError(tr("A code is one of: {choices}.").format(choices=", ".join(KINDS)))
    escaped = escape_controls(raw)
    record_id = db.write(lambda s: _insert(s, asset_id, text, kind, source, escaped))
    log.info("code attached to asset %s (%s, %s)", asset_id, kind, source)
    return record_id


def _insert(session: Session, asset_id: str, code: str, kind: str, source: str, raw: str) -> str:
    asset = session.get(Asset, asset_id)
    if asset is None or asset.status == "deleted":
        raise NotFoundError(tr("That asset is not on this device."))
    key = code_key(code)
    holders = session.scalars(select(AssetCode.asset_id).where(AssetCode.code == key)).all()
    if asset_id in holders:
        raise CodeAlreadyAttached(
            tr("{tag} already answers to {code}.").format(tag=asset.asset_tag, code=code)
        )
    if holders:
        other = session.get(Asset, holders[0])
        raise CodeAlreadyAttached(
            tr(
                "{code} already finds asset {other}, and a label names one asset. Check which "
                "asset the label is on."
            ).format(code=code, other=other.asset_tag if other else holders[0])
        )
    event = AssetCodeEvent(
        id=new_id(), asset_id=asset_id, code=code, kind=kind, source=source, raw=raw,
        created_at=utcnow(), created_by=state(session).username,
    )  # fmt: skip
    session.add(event)
    session.flush()
    add_attached_code(session, asset_id, kind, code)
    enqueue_create(session, "asset_code", event, WIRE_FIELDS)
    return event.id


def attach_scan(
    db: Database,
    asset_id: str,
    raw: str,
    source: str,
    profile: ScannerProfile | None = None,
    *,
    scan_source: ScanSource = ScanSource.KEYBOARD,
) -> str:
    """Attaches what a label says, as later scans will look it up; returns the code attached.

    The text goes through the scan normaliser first (and the scanner profile for keyboard
    text), so a scanner's prefix or a GS1 element string is never stored as the code, and a
    misread or a product number is refused.
    """
    code, _scan = scanned_identifier(raw, LABEL_KINDS, profile, source=scan_source)
    attach_code(db, asset_id, code, source, raw)
    return code


def codes_of(db: Database, asset_id: str) -> list[AttachedCode]:
    """The codes attached to an asset, oldest first."""
    query = (
        select(AssetCodeEvent)
        .where(AssetCodeEvent.asset_id == asset_id)
        .order_by(AssetCodeEvent.created_at, AssetCodeEvent.id)
    )
    with db.read() as session:
        return [_view(e) for e in session.scalars(query)]


def _view(event: AssetCodeEvent) -> AttachedCode:
    return AttachedCode(
        id=event.id, code=event.code, kind=event.kind, source=event.source, raw=event.raw,
        created_at=event.created_at, created_by=event.created_by,
    )  # fmt: skip
