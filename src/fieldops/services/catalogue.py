"""Importing a catalogue file into the local database: all rows in one transaction.

A device's import fills its local copy of the catalogue so it can work offline; the catalogue's
authority is the central server (whose administrators import with `fieldops-server
import-assets`). Imported rows therefore go into no outbox: identifiers derived from the asset
tag make the same asset line up with the server's copy of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldops.domain.catalogue import (
    AssetRow,
    CatalogueFormat,
    ComponentRow,
    ParseResult,
    RowError,
    parse_catalogue,
)
from fieldops.domain.errors import FieldOpsError, ValidationError
from fieldops.domain.identifiers import (
    catalogue_asset_id,
    catalogue_component_id,
    catalogue_location_id,
    code_key,
)
from fieldops.domain.times import utcnow
from fieldops.i18n import tr
from fieldops.store.database import Database
from fieldops.store.models import Asset, AssetCode, Component, Location, Site

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
ASSET_FIELDS = [
    "serial",
    "name",
    "manufacturer",
    "model",
    "model_number",
    "category",
    "status",
    "site_code",
    "location_id",
    "rack_u",
    "rack_face",
    "notes",
]
COMPONENT_FIELDS = ("kind", "slot", "model", "serial")
PROGRESS_EVERY = 250


class ImportRefused(ValidationError):
    """The file has bad rows and the person did not choose to skip them: nothing was imported."""

    code = "import_refused"

    def __init__(self, errors: list[RowError], rows_read: int) -> None:
        self.errors = errors
        shown = "\n".join(f"  line {e.line}: {e.reason}" for e in errors[:10])
        more = len(errors) - 10
        tail = ("\n  " + tr("... and {n} more").format(n=more)) if more > 0 else ""
        super().__init__(
            tr(
                "{bad} of {total} rows cannot be imported, so nothing was imported. Fix them, "
                "or choose to skip them:"
            ).format(bad=len(errors), total=rows_read)
            + "\n"
            + shown
            + tail
        )


class ImportCancelled(FieldOpsError):
    """The person stopped the import; nothing was imported."""

    code = "import_cancelled"


@dataclass
class ImportReport:
    """What an import did."""

    format: CatalogueFormat
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RowError] = field(default_factory=list)

    @property
    def taken(self) -> int:
        """Rows that are now in the database."""
        return self.created + self.updated + self.unchanged


def read_catalogue(path: Path, fmt: CatalogueFormat | None = None) -> ParseResult:
    """Reads and parses a catalogue file; a missing or unreadable file is a plain error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(tr("There is no file at {path}.").format(path=path)) from None
    except OSError as exc:
        raise ValidationError(
            tr("The file {path} cannot be read: {reason}.").format(path=path, reason=exc.strerror)
        ) from None
    return parse_catalogue(data, fmt)


class _Applier:
    """Writes parsed rows into one open write transaction."""

    def __init__(self, session: Session, report: ImportReport) -> None:
        self.session = session
        self.report = report
        self.sites: set[str] = set(session.scalars(select(Site.code)))
        self.locations: dict[str, Location] = {
            loc.id: loc for loc in session.scalars(select(Location))
        }

    def site(self, code: str) -> None:
        if code not in self.sites:
            self.session.add(Site(code=code, name=code))
            # Locations refer to themselves, so the unit of work orders their rows one by one
            # and may not put a new site first: flush it now.
            self.session.flush()
            self.sites.add(code)

    def location(self, site: str, room: str | None, rack: str | None) -> str | None:
        parent: Location | None = None
        path: list[str] = []
        for kind, name in (("room", room), ("rack", rack)):
            if not name:
                continue
            path.append(name)
            loc_id = catalogue_location_id(site, *path)
            location = self.locations.get(loc_id)
            if location is None:
                location = Location(id=loc_id, site_code=site, parent=parent, kind=kind, name=name)
                self.session.add(location)
                self.locations[loc_id] = location
            parent = location
        return parent.id if parent else None

    def asset(self, row: AssetRow, existing: Asset | None) -> None:
        self.site(row.site_code)
        values: dict[str, Any] = {
            "serial": row.serial,
            "name": row.name,
            "manufacturer": row.manufacturer,
            "model": row.model,
            "model_number": row.model_number,
            "category": row.category,
            "status": row.status,
            "site_code": row.site_code,
            "location_id": self.location(row.site_code, row.room, row.rack),
            "rack_u": row.rack_u,
            "rack_face": row.rack_face,
            "notes": row.notes,
        }
        if existing is None:
            asset = Asset(
                id=catalogue_asset_id(row.asset_tag),
                asset_tag=row.asset_tag,
                tag_key=code_key(row.asset_tag),
                **values,
            )
            self.session.add(asset)
            self.report.created += 1
            self._codes(asset.id, row.asset_tag, row.serial)
            return
        if all(getattr(existing, k) == v for k, v in values.items()):
            self.report.unchanged += 1
            return
        for name, value in values.items():
            setattr(existing, name, value)
        existing.updated_at = utcnow()
        self.report.updated += 1
        self.session.execute(
            delete(AssetCode).where(
                AssetCode.asset_id == existing.id, AssetCode.kind.in_(("tag", "serial"))
            )
        )
        self._codes(existing.id, existing.asset_tag, row.serial)

    def _codes(self, asset_id: str, tag: str, serial: str) -> None:
        self.session.add(AssetCode(asset_id=asset_id, kind="tag", code=code_key(tag)))
        if serial.strip():
            self.session.add(AssetCode(asset_id=asset_id, kind="serial", code=code_key(serial)))

    def component(self, row: ComponentRow, asset_id: str, existing: Component | None) -> None:
        values = {"kind": row.kind, "slot": row.slot, "model": row.model, "serial": row.serial}
        if existing is None:
            comp_id = catalogue_component_id(
                row.asset_tag, row.kind, row.slot, "" if row.slot else row.serial
            )
            self.session.add(Component(id=comp_id, asset_id=asset_id, **values))
            self._component_code(asset_id, comp_id, row.serial)
            self.report.created += 1
            return
        if all(getattr(existing, k) == v for k, v in values.items()):
            self.report.unchanged += 1
            return
        for name, value in values.items():
            setattr(existing, name, value)
        self.session.execute(delete(AssetCode).where(AssetCode.component_id == existing.id))
        self._component_code(asset_id, existing.id, row.serial)
        self.report.updated += 1

    def _component_code(self, asset_id: str, comp_id: str, serial: str) -> None:
        if serial.strip():
            self.session.add(
                AssetCode(
                    asset_id=asset_id,
                    component_id=comp_id,
                    kind="component_serial",
                    code=code_key(serial),
                )
            )


class CatalogueService:
    """Imports Snipe-IT, NetBox, FieldOps and components CSV files."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def import_file(
        self,
        path: Path,
        fmt: CatalogueFormat | None = None,
        *,
        skip_bad_rows: bool = False,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> ImportReport:
        """Imports one file in one transaction; re-importing updates by asset tag."""
        parsed = read_catalogue(path, fmt)
        return self.import_parsed(
            parsed, skip_bad_rows=skip_bad_rows, progress=progress, cancelled=cancelled
        )

    def import_parsed(
        self,
        parsed: ParseResult,
        *,
        skip_bad_rows: bool = False,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> ImportReport:
        """Applies parsed rows; refuses the whole file on a bad row unless told to skip them."""
        if parsed.errors and not skip_bad_rows:
            raise ImportRefused(parsed.errors, parsed.rows_read)

        def work(session: Session) -> ImportReport:
            report = ImportReport(format=parsed.format, skipped=list(parsed.errors))
            applier = _Applier(session, report)
            if parsed.format is CatalogueFormat.COMPONENTS:
                self._components(session, applier, parsed, skip_bad_rows, progress, cancelled)
            else:
                self._assets(session, applier, parsed, progress, cancelled)
            return report

        report = self._db.write(work)
        log.info(
            "imported %s catalogue: %d created, %d updated, %d unchanged, %d skipped",
            report.format,
            report.created,
            report.updated,
            report.unchanged,
            len(report.skipped),
        )
        return report

    def _assets(
        self,
        session: Session,
        applier: _Applier,
        parsed: ParseResult,
        progress: Progress | None,
        cancelled: Cancelled | None,
    ) -> None:
        existing = {a.tag_key: a for a in session.scalars(select(Asset))}
        total = len(parsed.assets)
        for index, row in enumerate(parsed.assets):
            applier.asset(row, existing.get(code_key(row.asset_tag)))
            _tick(index, total, progress, cancelled, session)
        _done(total, progress)

    def _components(
        self,
        session: Session,
        applier: _Applier,
        parsed: ParseResult,
        skip_bad_rows: bool,
        progress: Progress | None,
        cancelled: Cancelled | None,
    ) -> None:
        assets = {
            key: asset_id for key, asset_id in session.execute(select(Asset.tag_key, Asset.id))
        }
        missing = [
            RowError(r.line, f"no asset with tag '{r.asset_tag}'; import the asset catalogue first")
            for r in parsed.components
            if code_key(r.asset_tag) not in assets
        ]
        if missing and not skip_bad_rows:
            raise ImportRefused(parsed.errors + missing, parsed.rows_read)
        applier.report.skipped.extend(missing)
        existing = {c.id: c for c in session.scalars(select(Component))}
        total = len(parsed.components)
        for index, row in enumerate(parsed.components):
            asset_id = assets.get(code_key(row.asset_tag))
            if asset_id is not None:
                comp_id = catalogue_component_id(
                    row.asset_tag, row.kind, row.slot, "" if row.slot else row.serial
                )
                applier.component(row, asset_id, existing.get(comp_id))
            _tick(index, total, progress, cancelled, session)
        _done(total, progress)


def _tick(
    index: int,
    total: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
    session: Session,
) -> None:
    if index % PROGRESS_EVERY:
        return
    if cancelled and cancelled():
        raise ImportCancelled(tr("The import was stopped; nothing was imported."))
    session.flush()
    if progress:
        progress(index, total)


def _done(total: int, progress: Progress | None) -> None:
    if progress:
        progress(total, total)
