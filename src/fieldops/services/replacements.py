"""Logging a part replacement: old serial out, new serial in, the RMA and the old part's fate."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.errors import NotFoundError, ValidationError
from fieldops.domain.identifiers import code_key, new_id
from fieldops.domain.scan import ScanSource
from fieldops.domain.times import utcnow
from fieldops.i18n import tr
from fieldops.services.scanned_codes import scanned_serial
from fieldops.services.scanner_setup import ScannerSetup
from fieldops.store.database import Database
from fieldops.store.models import Asset, AssetCode, Component, Incident, Replacement
from fieldops.store.outbox import enqueue, enqueue_create
from fieldops.sync.local import component_code

log = logging.getLogger(__name__)

REPLACEMENT_FIELDS = (
    *("asset_id", "incident_id", "component_id", "old_serial", "new_serial"),
    *("rma_number", "old_part_fate", "notes", "created_at"),
)
MAX_SERIAL = 128
MAX_RMA = 64


class OldPartFate(StrEnum):
    """What became of the part that came out."""

    RETURNED = "returned-to-vendor"
    SCRAPPED = "scrapped"
    SPARE = "kept-as-spare"
    REPAIR = "sent-for-repair"
    OTHER = "other"


@dataclass(frozen=True)
class ComponentChoice:
    """A part of the asset the technician can say was replaced."""

    id: str
    kind: str
    slot: str
    model: str
    serial: str


@dataclass(frozen=True)
class ReplacementDraft:
    """What the technician filled in."""

    asset_id: str
    old_serial: str
    new_serial: str
    old_part_fate: OldPartFate
    component_id: str | None = None
    incident_id: str | None = None
    rma_number: str = ""
    notes: str = ""


@dataclass(frozen=True)
class ReplacementSummary:
    """One replacement as the asset's history shows it."""

    id: str
    created_at: datetime
    old_serial: str
    new_serial: str
    rma_number: str
    old_part_fate: str
    part: str
    notes: str = ""
    incident_id: str | None = None


def serial_problem(text: str, label: str) -> str | None:
    """Why a serial cannot be saved, in one sentence, or None when it can."""
    value = text.strip()
    if not value:
        return tr("Scan or type the {label}.").format(label=label)
    if len(value) > MAX_SERIAL:
        return tr("The {label} is longer than {n} characters; scan it again.").format(
            label=label, n=MAX_SERIAL
        )
    if not value.isprintable():
        return tr("The {label} holds characters a label cannot; scan it again.").format(label=label)
    return None


def draft_problem(old_serial: str, new_serial: str) -> str | None:
    """Why a pair of serials cannot be saved, or None when both are valid and differ."""
    problem = serial_problem(old_serial, tr("old serial")) or serial_problem(
        new_serial, tr("new serial")
    )
    if problem:
        return problem
    if code_key(old_serial.strip()) == code_key(new_serial.strip()):
        return tr("The new serial is the same as the old one; scan the new part's label.")
    return None


class ReplacementService:
    """Records replacements in one transaction with the part's new serial, both queued."""

    def __init__(self, db: Database, scanner: ScannerSetup | None = None) -> None:
        self._db = db
        self._scanner = scanner

    def components(self, asset_id: str) -> list[ComponentChoice]:
        """The asset's parts, by kind and slot."""
        query = (
            select(Component)
            .where(Component.asset_id == asset_id)
            .order_by(Component.kind, Component.slot, Component.serial)
        )
        with self._db.read() as session:
            return [
                ComponentChoice(c.id, c.kind, c.slot, c.model, c.serial)
                for c in session.scalars(query)
            ]

    def clean_serial(self, raw: str, *, scanned: bool = False) -> str:
        """A serial as scanned or typed, through the scan normaliser.

        An AIM prefix, Code 39 asterisks or a GS1 element string is never stored as part of a
        serial; a misread or a product number is refused with a sentence. Only a scanner's
        burst (`scanned`) goes through the scanner profile.
        """
        if not scanned:
            return scanned_serial(raw, source=ScanSource.TYPED)
        profile = self._scanner.profile if self._scanner else None
        return scanned_serial(raw, profile, source=ScanSource.KEYBOARD)

    def record(self, draft: ReplacementDraft) -> str:
        """Saves the replacement and returns its id; the part, if named, gets the new serial.

        The serials are taken as typed (a form has already cleaned what its scanner sent).
        """
        clean = replace(
            draft,
            old_serial=self.clean_serial(draft.old_serial),
            new_serial=self.clean_serial(draft.new_serial),
        )
        problem = draft_problem(clean.old_serial, clean.new_serial)
        if problem:
            raise ValidationError(problem)
        if len(clean.rma_number.strip()) > MAX_RMA:
            raise ValidationError(
                tr("The RMA number is longer than {n} characters.").format(n=MAX_RMA)
            )
        replacement_id = self._db.write(lambda session: self._insert(session, clean))
        log.info("replacement %s recorded on asset %s", replacement_id, draft.asset_id)
        return replacement_id

    def _insert(self, session: Session, draft: ReplacementDraft) -> str:
        asset = session.get(Asset, draft.asset_id)
        if asset is None:
            raise NotFoundError(tr("The asset is no longer in the local catalogue."))
        _check_not_a_tag(session, asset, draft.old_serial)
        _check_not_a_tag(session, asset, draft.new_serial)
        _check_not_an_asset_serial(session, draft.new_serial)
        if draft.component_id is None:
            draft = replace(draft, component_id=_part_with_serial(session, asset, draft.old_serial))
        if draft.incident_id is not None:
            incident = session.get(Incident, draft.incident_id)
            if incident is None or incident.asset_id != draft.asset_id:
                raise NotFoundError(tr("Choose an incident of this asset, or none."))
        row = Replacement(
            id=new_id(),
            asset_id=draft.asset_id,
            incident_id=draft.incident_id,
            component_id=draft.component_id,
            old_serial=draft.old_serial.strip(),
            new_serial=draft.new_serial.strip(),
            rma_number=draft.rma_number.strip(),
            old_part_fate=OldPartFate(draft.old_part_fate).value,
            notes=draft.notes.strip(),
            created_at=utcnow(),
        )
        session.add(row)
        if draft.component_id is not None:
            self._swap_serial(session, draft.asset_id, draft.component_id, row.new_serial)
        session.flush()
        enqueue_create(session, "replacement", row, REPLACEMENT_FIELDS)
        return row.id

    def _swap_serial(self, session: Session, asset_id: str, component_id: str, serial: str) -> None:
        """The part now carries the new serial, and scans of it find the asset."""
        component = session.get(Component, component_id)
        if component is None or component.asset_id != asset_id:
            raise NotFoundError(tr("Choose a part of this asset, or 'Other part'."))
        component.serial = serial
        component_code(session, component)
        enqueue(session, "component", component.id, "update", {"serial": serial}, component.version)

    def history(self, asset_id: str) -> list[ReplacementSummary]:
        """The asset's replacements, newest first."""
        query = (
            select(Replacement, Component)
            .outerjoin(Component, Component.id == Replacement.component_id)
            .where(Replacement.asset_id == asset_id)
            .order_by(Replacement.created_at.desc())
        )
        with self._db.read() as session:
            return [
                ReplacementSummary(
                    r.id,
                    r.created_at,
                    r.old_serial,
                    r.new_serial,
                    r.rma_number,
                    r.old_part_fate,
                    " ".join(p for p in (c.kind, c.slot) if p) if c is not None else "",
                    r.notes,
                    r.incident_id,
                )
                for r, c in session.execute(query)
            ]


def _check_not_a_tag(session: Session, asset: Asset, serial: str) -> None:
    """A serial that is an asset's tag is the wrong label scanned."""
    key = code_key(serial)
    if key == asset.tag_key:
        raise ValidationError(
            tr("{code} is the asset's own tag; scan the serial label on the part.").format(
                code=serial
            )
        )
    other = session.scalar(select(Asset.asset_tag).where(Asset.tag_key == key))
    if other is not None:
        raise ValidationError(
            tr("{code} is the tag of asset {tag}; scan the serial label on the part.").format(
                code=serial, tag=other
            )
        )


def _part_with_serial(session: Session, asset: Asset, serial: str) -> str | None:
    """The asset's part whose recorded serial is this one, if exactly one is."""
    key = code_key(serial)
    ids = [c.id for c in asset.components if c.serial and code_key(c.serial) == key]
    return ids[0] if len(ids) == 1 else None


def _check_not_an_asset_serial(session: Session, serial: str) -> None:
    """A new part's serial that is an asset's own serial is the wrong label scanned."""
    key = code_key(serial)
    owner = session.scalar(
        select(Asset.asset_tag)
        .join(AssetCode, AssetCode.asset_id == Asset.id)
        .where(AssetCode.kind == "serial", AssetCode.code == key)
        .limit(1)
    )
    if owner is not None:
        raise ValidationError(
            tr(
                "{code} is the serial number of asset {tag} itself; scan the serial label on "
                "the new part."
            ).format(code=serial, tag=owner)
        )
