"""Looking an asset up by anything printed on its label, and reading its card."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import Session

from fieldops.domain.identifiers import code_key
from fieldops.domain.scan import CandidateKind, ScanSource, normalise_scan
from fieldops.domain.scan_errors import ScanError
from fieldops.domain.scanner_profile import ScannerProfile
from fieldops.services.label_prints import LabelPrintView
from fieldops.services.replacements import ReplacementSummary
from fieldops.services.scanned_codes import LABEL_KINDS
from fieldops.services.scanner_setup import ScannerSetup
from fieldops.store.database import Database
from fieldops.store.models import Incident, Location, Site

log = logging.getLogger(__name__)

# Which identifier wins when one code matches several: a tag is what labels print.
# "label": a code a technician attached to an asset in the field (a relabelled asset, or a
# label that reads differently from the catalogue); it travels as an asset_code change.
KIND_ORDER = {
    "tag": 0,
    "serial": 1,
    "component_serial": 2,
    "gs1_serial": 3,
    "mac": 4,
    "label": 5,
}
KIND_LABELS = {
    "tag": "asset tag",
    "serial": "serial",
    "component_serial": "component serial",
    "gs1_serial": "GS1 serial",
    "mac": "MAC address",
    "label": "attached label",
}
ALL_KINDS = tuple(KIND_ORDER)
# Which stored identifiers each kind of candidate may match. A product number (GTIN), a
# shipment (SSCC) or another system's record number names no single asset: never matched.
CANDIDATE_KINDS: dict[CandidateKind, tuple[str, ...]] = {
    CandidateKind.ANY: ALL_KINDS,
    CandidateKind.ASSET_TAG: ("tag", "label"),
    CandidateKind.SERIAL: ("serial", "component_serial", "label"),
    CandidateKind.GS1_SERIAL: ("serial", "component_serial", "gs1_serial", "label"),
    CandidateKind.GS1_ASSET_ID: ("tag", "gs1_serial", "label"),
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
    replacements: list[ReplacementSummary] = field(default_factory=list)
    attached_codes: list[str] = field(default_factory=list)
    """Codes attached to the asset in the field, as printed on their labels."""
    last_label: LabelPrintView | None = None


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
    other_tags: tuple[str, ...] = ()
    """The tags of the other assets that answer to the same code, in tag order."""
    attachable: bool = False
    """Whether the code names one thing, so it may be attached to an asset when none matched."""
    source: ScanSource = ScanSource.KEYBOARD
    """Where the text came from: a keyboard (scanner, typing) or a decoded picture."""

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


# The lookup's statements, as plain driver SQL on one pooled connection: a scan is answered
# in a few small indexed queries, with none of the ORM's per-query overhead (the ORM version
# took about fifty times as long as a bare indexed query).
CODES_SQL = "SELECT asset_id, kind FROM asset_codes WHERE code = ?"
# The asset, its location and that location's parent (a rack and its room), and the site the
# place is most likely in, in one statement; deeper locations and another site follow if need be.
ASSET_SQL = (
    "SELECT a.id, a.asset_tag, a.serial, a.name, a.manufacturer, a.model, a.model_number, "
    "a.category, a.status, a.provisional, a.site_code, a.location_id, a.rack_u, a.rack_face, "
    "l.kind, l.name, l.site_code, l.parent_id, p.kind, p.name, p.site_code, p.parent_id, "
    "s.code, s.name "
    "FROM assets AS a "
    "LEFT JOIN locations AS l ON l.id = a.location_id "
    "LEFT JOIN locations AS p ON p.id = l.parent_id "
    "LEFT JOIN sites AS s ON s.code = "
    "coalesce(nullif(a.site_code, ''), nullif(l.site_code, ''), nullif(p.site_code, '')) "
    "WHERE a.id = ?"
)
LOCATION_SQL = "SELECT kind, name, site_code, parent_id FROM locations WHERE id = ?"
SITE_SQL = "SELECT name FROM sites WHERE code = ?"
COMPONENTS_SQL = (
    "SELECT id, kind, slot, model, serial FROM components WHERE asset_id = ? ORDER BY slot"
)
INCIDENTS_SQL = (
    "SELECT id, number, title, category, subtype, priority, status, occurred_at, site_code, "
    "(SELECT count(*) FROM photos WHERE photos.incident_id = incidents.id) "
    "FROM incidents WHERE asset_id = ? ORDER BY occurred_at DESC"
)
REPLACEMENTS_SQL = (
    "SELECT r.id, r.created_at, r.old_serial, r.new_serial, r.rma_number, r.old_part_fate, "
    "trim(coalesce(c.kind, '') || ' ' || coalesce(c.slot, '')), r.notes, r.incident_id "
    "FROM replacements AS r LEFT JOIN components AS c ON c.id = r.component_id "
    "WHERE r.asset_id = ? ORDER BY r.created_at DESC LIMIT 200"
)
ATTACHED_SQL = (
    "SELECT code FROM asset_code_events WHERE asset_id = ? GROUP BY code ORDER BY min(created_at)"
)
LABEL_SQL = (
    "SELECT id, symbology, digital_link, layout, output, printed_at, printed_by "
    "FROM label_prints WHERE asset_id = ? ORDER BY printed_at DESC, id DESC LIMIT 1"
)
# Deeper than any site's tree (site, building, room, row, rack); stops a loop in bad data.
MAX_LOCATION_DEPTH = 32


class LookupService:
    """Finds assets by tag, serial or component serial, case-insensitively."""

    def __init__(self, db: Database, scanner: ScannerSetup | None = None) -> None:
        self._db = db
        # The stored scanner profile, read at each lookup: Settings may change it at any time.
        self._scanner = scanner
        dialect = db.engine.dialect
        # Stored times are read back the way the ORM reads them: aware UTC.
        self._read_time = Incident.occurred_at.type.dialect_impl(dialect).result_processor(
            dialect, None
        )

    @contextmanager
    def _cursor(self) -> Iterator[DBAPICursor]:
        """A cursor on a pooled connection, inside one read transaction (one snapshot)."""
        connection = self._db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("BEGIN")
            try:
                yield cursor
            finally:
                cursor.execute("ROLLBACK")
                cursor.close()
        finally:
            connection.close()  # back to the pool

    def lookup(
        self,
        raw: str,
        profile: ScannerProfile | None = None,
        *,
        source: ScanSource = ScanSource.KEYBOARD,
    ) -> LookupResult:
        """Looks up what a scanner or a person typed, through the one scan normaliser.

        Without `profile` the stored scanner profile corrects keyboard input; text decoded
        from a picture (`source=ScanSource.IMAGE`) is never put through a keyboard profile.
        Leading zeros are kept as data; letters match in any case. A scan that is itself bad
        (a wrong check digit, a cut-off burst) comes back as a misread, never as "not found".
        """
        log.debug("lookup raw=%r", raw)
        if profile is None and self._scanner is not None:
            profile = self._scanner.profile
        try:
            scan = normalise_scan(raw, profile, source=source)
        except ScanError as bad:
            log.info("misread scan: %s", bad.message)
            return LookupResult(
                raw=raw, code=clean_scan(raw), card=None, misread=bad.message, source=source
            )
        symbology = scan.symbology.name if scan.symbology else None
        # What the profile corrected travels with the answer, so the card can say so.
        notes = scan.corrections + ((scan.rule,) if scan.rule else ()) + scan.warnings
        with self._cursor() as cursor:
            for candidate in scan.candidates:
                kinds = CANDIDATE_KINDS.get(candidate.kind)
                if kinds is None:
                    continue
                found = cursor.execute(CODES_SQL, (code_key(candidate.code),)).fetchall()
                rows = [(asset_id, kind) for asset_id, kind in found if kind in kinds]
                if not rows:
                    continue
                rows.sort(key=lambda r: KIND_ORDER.get(r[1], 99))
                asset_ids = list(dict.fromkeys(asset_id for asset_id, _ in rows))
                others: tuple[str, ...] = ()
                if len(asset_ids) > 1:
                    # Several assets answer: the best kind of match first, then by tag, so
                    # every device shows the same one, and the card names the others.
                    tags = self._tags(cursor, asset_ids)
                    best = {a: KIND_ORDER.get(k, 99) for a, k in reversed(rows)}
                    asset_ids.sort(key=lambda a: (best[a], tags.get(a, "")))
                    others = tuple(tags.get(a, a) for a in asset_ids[1:])
                matched = "gs1_serial" if candidate.kind is CandidateKind.GS1_SERIAL else rows[0][1]
                return LookupResult(
                    raw=raw,
                    code=candidate.code,
                    card=self._card(cursor, asset_ids[0]),
                    matched_kind=matched,
                    other_matches=len(asset_ids) - 1,
                    symbology=symbology,
                    warnings=notes,
                    other_tags=others,
                    source=source,
                )
        attachable = any(c.kind in LABEL_KINDS for c in scan.candidates)
        return LookupResult(
            raw=raw,
            code=scan.code,
            card=None,
            symbology=symbology,
            warnings=notes,
            attachable=attachable,
            source=source,
        )

    @staticmethod
    def _tags(cursor: DBAPICursor, asset_ids: list[str]) -> dict[str, str]:
        marks = ", ".join("?" for _ in asset_ids)
        query = f"SELECT id, asset_tag FROM assets WHERE id IN ({marks})"  # noqa: S608 - marks only
        return {row[0]: row[1] for row in cursor.execute(query, asset_ids)}

    def card(self, asset_id: str) -> AssetCard | None:
        """The card of one asset by its id."""
        with self._cursor() as cursor:
            return self._card(cursor, asset_id)

    def _card(self, cursor: DBAPICursor, asset_id: str) -> AssetCard | None:
        asset = cursor.execute(ASSET_SQL, (asset_id,)).fetchone()
        if asset is None:
            return None
        (ident, tag, serial, name, maker, model, number, category, status, provisional) = asset[:10]
        site_code, location_id, rack_u, rack_face = asset[10:14]
        place = self._place(cursor, asset[14:], site_code)
        return AssetCard(
            id=ident,
            asset_tag=tag,
            serial=serial,
            name=name,
            manufacturer=maker,
            model=model,
            model_number=number,
            category=category,
            status=status,
            provisional=bool(provisional),
            place=Place(*place, rack_u, rack_face),
            location_id=location_id,
            components=[
                ComponentView(*part) for part in cursor.execute(COMPONENTS_SQL, (asset_id,))
            ],
            incidents=[
                self._incident(row, tag) for row in cursor.execute(INCIDENTS_SQL, (asset_id,))
            ],
            replacements=[
                ReplacementSummary(r[0], self._time(r[1]), *r[2:])
                for r in cursor.execute(REPLACEMENTS_SQL, (asset_id,))
            ],
            attached_codes=[row[0] for row in cursor.execute(ATTACHED_SQL, (asset_id,))],
            last_label=self._label(cursor, asset_id),
        )

    def _time(self, stored: Any) -> Any:
        """A stored time read back as the ORM reads it: aware UTC."""
        return self._read_time(stored) if self._read_time else stored

    def _label(self, cursor: DBAPICursor, asset_id: str) -> LabelPrintView | None:
        row = cursor.execute(LABEL_SQL, (asset_id,)).fetchone()
        if row is None:
            return None
        ident, symbology, digital_link, layout, output, printed_at, printed_by = row
        return LabelPrintView(
            ident, asset_id, symbology, bool(digital_link), layout, output,
            self._time(printed_at), printed_by,
        )  # fmt: skip

    @staticmethod
    def _place(
        cursor: DBAPICursor, joined: tuple[Any, ...], site_code: str | None
    ) -> tuple[str | None, str, str, str]:
        """What `place_of` answers (site code and name, room, rack), walking up the locations.

        `joined` holds the asset's location and its parent, each as (kind, name, site code,
        parent id) or NULLs, then the code and name of the site the statement guessed.
        """
        location = joined[0:4] if joined[0] is not None else None
        ahead = {joined[3]: joined[4:8]} if joined[4] is not None else {}
        room = rack = ""
        for _ in range(MAX_LOCATION_DEPTH):
            if location is None:
                break
            kind, name, in_site, parent = location
            if kind == "rack" and not rack:
                rack = name
            elif kind in ("room", "building") and not room:
                room = name
            site_code = site_code or in_site
            if not parent:
                location = None
            elif parent in ahead:
                location = ahead.pop(parent)
            else:
                location = cursor.execute(LOCATION_SQL, (parent,)).fetchone()
        if not site_code:
            return site_code, "", room, rack
        if site_code == joined[8]:
            return site_code, joined[9], room, rack
        site = cursor.execute(SITE_SQL, (site_code,)).fetchone()
        return site_code, site[0] if site else "", room, rack

    def _incident(self, row: tuple[Any, ...], asset_tag: str) -> IncidentSummary:
        ident, number, title, category, subtype, priority, status, occurred, site, photos = row
        return IncidentSummary(
            id=ident,
            number=number,
            title=title,
            category=category,
            subtype=subtype,
            priority=priority,
            status=status,
            occurred_at=self._time(occurred),
            asset_tag=asset_tag,
            site_code=site,
            photo_count=photos,
        )
