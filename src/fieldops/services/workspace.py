"""An open data directory: the entry point to every use case, for the window and the CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldops.services.assets import AssetService
from fieldops.services.catalogue import CatalogueService
from fieldops.services.datadir import DataDir
from fieldops.services.incidents import IncidentService
from fieldops.services.lookup import LookupService
from fieldops.services.replacements import ReplacementService
from fieldops.services.scanner_setup import ScannerSetup
from fieldops.services.sync_review import SyncReview
from fieldops.services.sync_service import SyncService
from fieldops.store import migrate
from fieldops.store.blobs import BlobStore
from fieldops.store.database import Database
from fieldops.store.models import Asset, Incident, Location, Site, SyncState
from fieldops.store.outbox import pending_count

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counts:
    """How much the local database holds."""

    assets: int
    incidents: int
    pending_changes: int


@dataclass(frozen=True)
class LocationChoice:
    """A location a person can log an incident against."""

    id: str
    label: str


class Workspace:
    """The local database and files of one data directory, migrated and ready."""

    def __init__(self, data_dir: DataDir) -> None:
        data_dir.create()
        self.data_dir = data_dir
        self.db = Database(data_dir.database)
        migrate.upgrade(self.db.engine, data_dir.database, data_dir.backups)
        self.db.write(_ensure_sync_state)
        blobs = BlobStore(data_dir.blobs)
        thumbnails = BlobStore(data_dir.thumbnails)
        # The scanner profile learnt in Settings > Scanner corrects every keyboard scan.
        self.scanner = ScannerSetup(data_dir)
        self.lookup = LookupService(self.db, self.scanner)
        self.incidents = IncidentService(self.db, blobs, thumbnails)
        self.catalogue = CatalogueService(self.db)
        self.assets = AssetService(self.db, self.incidents)
        self.replacements = ReplacementService(self.db, self.scanner)
        self.review = SyncReview(self.db)
        self.sync = SyncService(self.db, blobs)
        log.info("workspace open")

    def counts(self) -> Counts:
        """How many assets, incidents and queued changes there are."""
        with self.db.read() as session:
            assets = session.scalar(select(func.count()).select_from(Asset)) or 0
            incidents = session.scalar(select(func.count()).select_from(Incident)) or 0
            return Counts(int(assets), int(incidents), pending_count(session))

    def locations(self) -> list[LocationChoice]:
        """Every site, room and rack, labelled by path, for choosing where an incident is."""
        with self.db.read() as session:
            rows = session.scalars(select(Location)).all()
            by_id = {loc.id: loc for loc in rows}
            choices: list[LocationChoice] = []
            for loc in rows:
                names: list[str] = []
                current: Location | None = loc
                while current is not None:
                    names.insert(0, current.name)
                    current = by_id.get(current.parent_id) if current.parent_id else None
                choices.append(LocationChoice(loc.id, " / ".join([loc.site_code, *names])))
            sites = session.scalars(select(Site.code)).all()
        return sorted(choices, key=lambda c: c.label) if sites else []

    def close(self) -> None:
        """Releases the database."""
        self.db.close()


def _ensure_sync_state(session: Session) -> None:
    if session.get(SyncState, 1) is None:
        session.add(SyncState(id=1))
