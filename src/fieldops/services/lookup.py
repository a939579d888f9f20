"""Looking an asset up by anything printed on its label, and reading its card."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldops.domain.identifiers import code_key
from fieldops.domain.scan import CandidateKind, normalise_scan
from fieldops.domain.scan_errors import ScanError
from fieldops.domain.scanner_profile import ScannerProfile
from fieldops.store.database import Database
from fieldops.store.models import Asset, AssetCode, Incident, Location, Site

log = logging.getLogger(__name__)

# Which identifier wins when one code matches several: a tag is what labels print.
KIND_ORDER = {"tag": 0, "serial": 1, "component_serial": 2, "gs1_serial": 3, "mac": 4}
KIND_LABELS = {
    "tag": "asset tag",
    "serial": "serial",
    "component_serial": "component serial",
    "gs1_serial": "GS1 serial",
    "mac": "MAC address",
}
ALL_KINDS = tuple(KIND_ORDER)
# Which stored identifiers each kind of candidate may match. A product number (GTIN), a
# shipment (SSCC) or another system's record number names no single asset: never matched.
CANDIDATE_KINDS: dict[CandidateKind, tuple[str, ...]] = {
    CandidateKind.ANY: ALL_KINDS,
    CandidateKind.ASSET_TAG: ("tag",),
    CandidateKind.SERIAL: ("serial", "component_serial"),
    CandidateKind.GS1_SERIAL: ("serial", "component_serial", "gs1_serial"),
    CandidateKind.GS1_ASSET_ID: ("tag", "gs1_serial"),
}
_CONTROL = re.compile(r"[\x00-\x1c\x1e-\x1f\x7f]")


def clean_scan(raw: str) -> str:
    """What was read, without surrounding white space and control characters (GS is kept)."""
    return _CONTROL.sub("", raw).strip()


@dataclass(frozen=True)
class ComponentView:
    """A part inside the asset, as the card shows it."""

    id: str
    kind: str
    slot: str
    model: str
    serial: str


@dataclass(frozen=True)
class IncidentSummary:
    """One line of an incident list."""

    id: str
    number: str | None
    title: str
    category: str
    subtype: str | None
    priority: str
    status: str
    occurred_at: datetime
    asset_tag: str | None
    site_code: str | None
    photo_count: int = 0


@dataclass(frozen=True)
class Place:
    """Where something is: site, room, rack and rack unit."""

    site_code: str | None = None
    site_name: str = ""
    room: str = ""
    rack: str = ""
    rack_u: int | None = None
    rack_face: str | None = None

    def describe(self) -> str:
        """A one-line form such as `HQ-DC1 / Server Room B3 / R02 / U34 front`."""
        parts = [p for p in (self.site_code or "", self.room, self.rack) if p]
        if self.rack_u is not None:
            parts.append(f"U{self.rack_u}" + (f" {self.rack_face}" if self.rack_face else ""))
        return " / ".join(parts)


@dataclass(frozen=True)
class AssetCard:
    """Everything the asset card shows."""

    id: str
    asset_tag: str
    serial: str
    name: str
    manufacturer: str
    model: str
    model_number: str
    category: str
    status: str
    provisional: bool
    place: Place
    location_id: str | None
    components: list[ComponentView] = field(default_factory=list)
    incidents: list[IncidentSummary] = field(default_factory=list)


@dataclass(frozen=True)
class LookupResult:
    """The answer to a scan: what was read, what it was matched as, and the asset if any."""

    raw: str
    code: str
    card: AssetCard | None
    matched_kind: str | None = None
    other_matches: int = 0
    misread: str | None = None
    """Set when the scan itself is bad (wrong check digit, cut short): rescan, not "not found"."""
    symbology: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """Whether an asset matched."""
        return self.card is not None


def place_of(session: Session, location_id: str | None, site_code: str | None) -> Place:
    """Resolves a location to its site, room and rack names."""
    room = rack = ""
    current = session.get(Location, location_id) if location_id else None
    while current is not None:
        if current.kind == "rack" and not rack:
            rack = current.name
        elif current.kind in ("room", "building") and not room:
            room = current.name
        site_code = site_code or current.site_code
        current = current.parent
    site = session.get(Site, site_code) if site_code else None
    return Place(site_code=site_code, site_name=site.name if site else "", room=room, rack=rack)


def summarise(session: Session, incident: Incident) -> IncidentSummary:
    """The list line of one incident."""
    tag = incident.asset.asset_tag if incident.asset else None
    return IncidentSummary(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        category=incident.category,
        subtype=incident.subtype,
        priority=incident.priority,
        status=incident.status,
        occurred_at=incident.occurred_at,
        asset_tag=tag,
        site_code=incident.site_code,
        photo_count=len(incident.photos),
    )


class LookupService:
    """Finds assets by tag, serial or component serial, case-insensitively."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def lookup(self, raw: str, profile: ScannerProfile | None = None) -> LookupResult:
        """Looks up what a scanner or a person typed, through the one scan normaliser.

        Leading zeros are kept as data; letters match in any case. A scan that is itself bad
        (a wrong check digit, a cut-off burst) comes back as a misread, never as "not found".
        """
        log.debug("lookup raw=%r", raw)
        try:
            scan = normalise_scan(raw, profile)
        except ScanError as bad:
            log.info("misread scan: %s", bad.message)
            return LookupResult(raw=raw, code=clean_scan(raw), card=None, misread=bad.message)
        symbology = scan.symbology.name if scan.symbology else None
        base = {"raw": raw, "symbology": symbology, "warnings": scan.warnings}
        with self._db.read() as session:
            for candidate in scan.candidates:
                kinds = CANDIDATE_KINDS.get(candidate.kind)
                if kinds is None:
                    continue
                rows = session.execute(
                    select(AssetCode.asset_id, AssetCode.kind).where(
                        AssetCode.code == code_key(candidate.code), AssetCode.kind.in_(kinds)
                    )
                ).all()
                if not rows:
                    continue
                rows.sort(key=lambda r: KIND_ORDER.get(r.kind, 99))
                asset_ids = list(dict.fromkeys(r.asset_id for r in rows))
                card = self._card(session, asset_ids[0])
                matched = (
                    "gs1_serial" if candidate.kind is CandidateKind.GS1_SERIAL else rows[0].kind
                )
                return LookupResult(
                    **base,  # type: ignore[arg-type]
                    code=candidate.code,
                    card=card,
                    matched_kind=matched,
                    other_matches=len(asset_ids) - 1,
                )
        return LookupResult(**base, code=scan.code, card=None)  # type: ignore[arg-type]

    def card(self, asset_id: str) -> AssetCard | None:
        """The card of one asset by its id."""
        with self._db.read() as session:
            return self._card(session, asset_id)

    def _card(self, session: Session, asset_id: str) -> AssetCard | None:
        asset = session.get(Asset, asset_id)
        if asset is None:
            return None
        place = place_of(session, asset.location_id, asset.site_code)
        place = Place(
            site_code=place.site_code,
            site_name=place.site_name,
            room=place.room,
            rack=place.rack,
            rack_u=asset.rack_u,
            rack_face=asset.rack_face,
        )
        incidents = session.scalars(
            select(Incident)
            .where(Incident.asset_id == asset_id)
            .order_by(Incident.occurred_at.desc())
        ).all()
        return AssetCard(
            id=asset.id,
            asset_tag=asset.asset_tag,
            serial=asset.serial,
            name=asset.name,
            manufacturer=asset.manufacturer,
            model=asset.model,
            model_number=asset.model_number,
            category=asset.category,
            status=asset.status,
            provisional=asset.provisional,
            place=place,
            location_id=asset.location_id,
            components=[
                ComponentView(c.id, c.kind, c.slot, c.model, c.serial) for c in asset.components
            ],
            incidents=[summarise(session, i) for i in incidents],
        )
