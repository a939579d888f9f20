"""Importing a catalogue file into the local database: all rows in one transaction.

A device's import fills its local copy of the catalogue so it can work offline; the catalogue's
authority is the central server (whose administrators import with `fieldops-server
import-assets`). Imported rows therefore go into no outbox: identifiers derived from the asset
tag make the same asset line up with the server's copy of it.

A file is read as a stream and written in chunks with plain bulk statements, so a catalogue of
a million rows takes seconds and its memory does not grow with the file. Rows already in the
database are looked up a chunk at a time by their unique keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute, Session

from fieldops.domain.catalogue import (
    AssetRow,
    CatalogueFormat,
    CatalogueItem,
    ComponentRow,
    ParseResult,
    RowError,
    decode_lines,
    parse_catalogue,
    stream_catalogue,
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
from fieldops.store.models import Asset, Component, Location, Site

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
# At most this many progress reports per import (the bar moves in half-percent steps): each
# report is work for the GUI thread, and a million rows at one report per 250 would be 4,000.
PROGRESS_STEPS = 200
# Rows written per bulk statement, and looked up per query (well under SQLite's 32,766 bound
# parameters).
CHUNK = 2000
# The import's connection keeps this much of the file's pages in memory (KiB): the indexes
# of a million assets are written in random order, and rereading their pages costs time. In
# the window (about 200 MiB before an import) 96 MiB took a million components to 515 MiB at
# peak; 48 MiB keeps it near 450 MiB for about 5 s more, and a first catalogue load (whose
# codes are indexed at the end) takes no longer.
IMPORT_CACHE_KIB = 48 * 1024
READ_BLOCK = 1 << 20
# From this many rows, a first import builds the codes table's indexes once at the end.
BULK_ROWS = 20_000


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


def _unreadable(path: Path, exc: OSError) -> ValidationError:
    if isinstance(exc, FileNotFoundError):
        return ValidationError(tr("There is no file at {path}.").format(path=path))
    return ValidationError(
        tr("The file {path} cannot be read: {reason}.").format(path=path, reason=exc.strerror)
    )


def read_catalogue(path: Path, fmt: CatalogueFormat | None = None) -> ParseResult:
    """Reads and parses a catalogue file; a missing or unreadable file is a plain error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return parse_catalogue(data, fmt)


@contextmanager
def _opened(path: Path) -> Iterator[IO[bytes]]:
    """The file open for reading; a missing or unreadable file is a plain error."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise _unreadable(path, exc) from None
    with handle:
        yield handle


def _read_blocks(path: Path, handle: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes in blocks; a read that fails half-way is a plain error."""
    try:
        while block := handle.read(READ_BLOCK):
            yield block
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _count_lines(handle: IO[bytes]) -> int:
    """About how many lines the file has (for progress), read in blocks; the file is rewound.

    Line ends are LF, CR LF or, from some spreadsheets, CR alone: whichever is more common.
    """
    feeds = returns = 0
    last = b"\n"
    while block := handle.read(READ_BLOCK):
        feeds += block.count(b"\n")
        returns += block.count(b"\r")
        last = block[-1:]
    handle.seek(0)
    return max(feeds, returns) + (last not in (b"\n", b"\r"))


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
        with _opened(path) as handle:
            try:
                expected = max(_count_lines(handle) - 1, 0)  # less the header line
            except OSError as exc:
                raise _unreadable(path, exc) from None

            def work(session: Session) -> ImportReport:
                stream = stream_catalogue(decode_lines(_read_blocks(path, handle)), fmt)
                run = _Run(session, stream.format, skip_bad_rows, progress, cancelled)
                return run.apply(stream.items, expected)

            return self._finish(self._db.write(work))

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
        rows: list[CatalogueItem] = [*parsed.errors, *parsed.assets, *parsed.components]

        def work(session: Session) -> ImportReport:
            run = _Run(session, parsed.format, skip_bad_rows, progress, cancelled)
            return run.apply(rows, len(rows) - len(parsed.errors))

        return self._finish(self._db.write(work))

    @staticmethod
    def _finish(report: ImportReport) -> ImportReport:
        log.info(
            "imported %s catalogue: %d created, %d updated, %d unchanged, %d skipped",
            report.format,
            report.created,
            report.updated,
            report.unchanged,
            len(report.skipped),
        )
        return report


class _Run:
    """One import inside its write transaction: reads items, writes them a chunk at a time."""

    def __init__(
        self,
        session: Session,
        fmt: CatalogueFormat,
        skip_bad_rows: bool,
        progress: Progress | None,
        cancelled: Cancelled | None,
    ) -> None:
        self.report = ImportReport(format=fmt)
        self.writer = _Writer(session.connection(), self.report)
        self.skip_bad_rows = skip_bad_rows
        self.progress = progress
        self.cancelled = cancelled
        self._report_every = PROGRESS_EVERY
        self._next_report = 0

    def apply(self, items: Iterable[CatalogueItem], expected: int) -> ImportReport:
        """Writes every good row; raises ImportRefused (and so saves nothing) on bad ones."""
        errors: list[RowError] = []
        chunk: list[AssetRow | ComponentRow] = []
        good = 0
        self._report_every = max(PROGRESS_EVERY, expected // PROGRESS_STEPS)
        # The indexes are built after the page cache is back to its usual size: SQLite sizes
        # the sort that builds them by the cache, and both at once would double the memory.
        with self.writer.indexes_built_after(self._first_load(expected)), self.writer.large_cache():
            for item in items:
                if isinstance(item, RowError):
                    errors.append(item)
                    continue
                if good % PROGRESS_EVERY == 0:
                    self._tick(good, max(expected, good))
                good += 1
                if errors and not self.skip_bad_rows:
                    continue  # nothing will be saved: read on only to name every bad line
                chunk.append(item)
                if len(chunk) == CHUNK:
                    self._write(chunk)
                    chunk = []
            if errors and not self.skip_bad_rows:
                raise ImportRefused(errors, good + len(errors))
            self._write(chunk)
        missing = self.writer.missing
        if missing and not self.skip_bad_rows:
            raise ImportRefused(missing, good + len(errors))
        self.report.skipped = errors + missing
        if self.progress:
            self.progress(good, good)
        return self.report

    def _first_load(self, expected: int) -> bool:
        """Whether this is a large first asset import, into a database with no assets yet."""
        if self.report.format is CatalogueFormat.COMPONENTS or expected < BULK_ROWS:
            return False
        return self.writer.connection.scalar(select(Asset.id).limit(1)) is None

    def _write(self, chunk: list[AssetRow | ComponentRow]) -> None:
        if self.report.format is CatalogueFormat.COMPONENTS:
            parts = [row for row in chunk if isinstance(row, ComponentRow)]
            # Once a part names an unknown asset nothing is saved: only look for more of them.
            self.writer.components(
                parts, check_only=bool(self.writer.missing) and not self.skip_bad_rows
            )
        else:
            self.writer.assets([row for row in chunk if isinstance(row, AssetRow)])

    def _tick(self, done: int, total: int) -> None:
        if self.cancelled and self.cancelled():
            raise ImportCancelled(tr("The import was stopped; nothing was imported."))
        if self.progress and done >= self._next_report:
            self._next_report = done + self._report_every
            self.progress(done, total)


def _stored(column: InstrumentedAttribute[Any], connection: Connection, value: Any) -> Any:
    """A value in the form SQLAlchemy stores it in this column (times become text)."""
    dialect = connection.dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


# The bulk statements, written out: plain driver SQL run with executemany is several times
# faster per row than ORM objects or Core inserts. Their columns cover every column of the
# tables (tests/services/test_catalogue_scale.py checks that against the models).
INSERT_ASSET = (
    "INSERT INTO assets (id, asset_tag, tag_key, serial, name, manufacturer, model, "
    "model_number, category, status, site_code, location_id, rack_u, rack_face, notes, "
    "provisional, version, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_ASSET = (
    "UPDATE assets SET serial = ?, name = ?, manufacturer = ?, model = ?, model_number = ?, "
    "category = ?, status = ?, site_code = ?, location_id = ?, rack_u = ?, rack_face = ?, "
    "notes = ?, updated_at = ? WHERE id = ?"
)
INSERT_CODE = "INSERT INTO asset_codes (asset_id, component_id, kind, code) VALUES (?, ?, ?, ?)"
DELETE_ASSET_CODES = "DELETE FROM asset_codes WHERE asset_id = ? AND kind IN ('tag', 'serial')"
DELETE_PART_CODES = "DELETE FROM asset_codes WHERE component_id = ?"
INSERT_SITE = "INSERT INTO sites (code, name, version) VALUES (?, ?, 0)"
INSERT_LOCATION = (
    "INSERT INTO locations (id, site_code, parent_id, kind, name, version) "
    "VALUES (?, ?, ?, ?, ?, 0)"
)
INSERT_PART = (
    "INSERT INTO components (id, asset_id, kind, slot, model, serial, version) "
    "VALUES (?, ?, ?, ?, ?, ?, 0)"
)
UPDATE_PART = "UPDATE components SET kind = ?, slot = ?, model = ?, serial = ? WHERE id = ?"
_ASSET_COLUMNS = [getattr(Asset, name) for name in ("id", "asset_tag", *ASSET_FIELDS)]
_PART_COLUMNS = [getattr(Component, name) for name in ("id", *COMPONENT_FIELDS)]

Place = tuple[str, str | None, str | None]
Code = tuple[str, str | None, str, str]


class _Writer:
    """Bulk statements on the write transaction's connection; no ORM objects per row."""

    def __init__(self, connection: Connection, report: ImportReport) -> None:
        self.connection = connection
        self.report = report
        self.missing: list[RowError] = []
        self.sites: set[str] = set(connection.scalars(select(Site.code)))
        self.location_ids: set[str] = set(connection.scalars(select(Location.id)))
        self.places: dict[Place, str | None] = {}
        self.new_sites: list[tuple[str, str]] = []
        self.new_locations: list[tuple[str, str, str | None, str, str]] = []

    @contextmanager
    def large_cache(self) -> Iterator[None]:
        """A larger page cache on this connection while the import runs, then the old one."""
        before = int(self.connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
        self.connection.exec_driver_sql(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB:d}")
        try:
            yield
        finally:
            self.connection.exec_driver_sql(f"PRAGMA cache_size = {before:d}")

    @contextmanager
    def indexes_built_after(self, first_load: bool) -> Iterator[None]:
        """On a first load, the codes table's indexes are dropped and built again at the end.

        With no assets yet, no code is updated or deleted during the import, so nothing needs
        the indexes meanwhile; building one by sorting is several times faster than keeping
        it up to date row by row. If the import fails the transaction, and so the indexes, are
        rolled back.
        """
        if not first_load:
            yield
            return
        indexes = self.connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = 'asset_codes' AND sql IS NOT NULL"
        ).all()
        quote = self.connection.dialect.identifier_preparer.quote
        for name, _ in indexes:
            self.connection.exec_driver_sql(f"DROP INDEX {quote(name)}")
        yield
        for _, create in indexes:
            self.connection.exec_driver_sql(create)

    def _many(self, sql: str, rows: list[Any]) -> None:
        if rows:
            self.connection.exec_driver_sql(sql, rows)

    def place(self, site: str, room: str | None, rack: str | None) -> str | None:
        """The id of the asset's room or rack, with the site and locations made if new."""
        key = (site, room, rack)
        if key in self.places:
            return self.places[key]
        if site not in self.sites:
            self.sites.add(site)
            self.new_sites.append((site, site))
        parent: str | None = None
        path: list[str] = []
        for kind, name in (("room", room), ("rack", rack)):
            if not name:
                continue
            path.append(name)
            loc_id = catalogue_location_id(site, *path)
            if loc_id not in self.location_ids:
                self.location_ids.add(loc_id)
                self.new_locations.append((loc_id, site, parent, kind, name))
            parent = loc_id
        self.places[key] = parent
        return parent

    def _flush_places(self) -> None:
        # Sites, then locations parents first, are written before the assets that refer to them.
        self._many(INSERT_SITE, self.new_sites)
        self._many(INSERT_LOCATION, self.new_locations)
        self.new_sites, self.new_locations = [], []

    def assets(self, rows: list[AssetRow]) -> None:
        """Creates, updates or leaves each asset of one chunk, with its tag and serial codes."""
        if not rows:
            return
        keys = [code_key(row.asset_tag) for row in rows]
        query = select(Asset.tag_key, *_ASSET_COLUMNS).where(Asset.tag_key.in_(keys))
        existing = {found[0]: tuple(found[1:]) for found in self.connection.execute(query)}
        now = _stored(Asset.updated_at, self.connection, utcnow())
        created: list[tuple[Any, ...]] = []
        changed: list[tuple[Any, ...]] = []
        codes: list[Code] = []
        for row, key in zip(rows, keys, strict=True):
            values = (
                row.serial, row.name, row.manufacturer, row.model, row.model_number,
                row.category, row.status, row.site_code,
                self.place(row.site_code, row.room, row.rack),
                row.rack_u, row.rack_face, row.notes,
            )  # fmt: skip
            old = existing.get(key)
            if old is None:
                asset_id = catalogue_asset_id(row.asset_tag)
                created.append((asset_id, row.asset_tag, key, *values, False, 0, now))
                _asset_codes(codes, asset_id, key, row.serial)
            elif tuple(old[2:]) == values:
                self.report.unchanged += 1
            else:
                changed.append((*values, now, old[0]))
                _asset_codes(codes, old[0], code_key(old[1]), row.serial)
        self._flush_places()
        self._many(INSERT_ASSET, created)
        self._many(UPDATE_ASSET, changed)
        self._many(DELETE_ASSET_CODES, [(update[-1],) for update in changed])
        self._many(INSERT_CODE, codes)
        self.report.created += len(created)
        self.report.updated += len(changed)

    def components(self, rows: list[ComponentRow], check_only: bool = False) -> None:
        """Creates, updates or leaves each part of one chunk; parts of unknown assets are noted."""
        if not rows:
            return
        tags = list(dict.fromkeys(code_key(row.asset_tag) for row in rows))
        query = select(Asset.tag_key, Asset.id).where(Asset.tag_key.in_(tags))
        asset_ids = {key: asset_id for key, asset_id in self.connection.execute(query)}
        found: list[tuple[str, str, ComponentRow]] = []
        for row in rows:
            asset_id = asset_ids.get(code_key(row.asset_tag))
            if asset_id is None:
                self.missing.append(
                    RowError(
                        row.line,
                        f"no asset with tag '{row.asset_tag}'; import the asset catalogue first",
                    )
                )
                continue
            part_id = catalogue_component_id(
                row.asset_tag, row.kind, row.slot, "" if row.slot else row.serial
            )
            found.append((part_id, asset_id, row))
        if check_only or (self.missing and not found):
            return
        query = select(*_PART_COLUMNS).where(Component.id.in_([p for p, _, _ in found]))
        existing = {part[0]: tuple(part[1:]) for part in self.connection.execute(query)}
        created: list[tuple[Any, ...]] = []
        changed: list[tuple[Any, ...]] = []
        codes: list[Code] = []
        for part_id, asset_id, row in found:
            values = (row.kind, row.slot, row.model, row.serial)
            old = existing.get(part_id)
            if old is None:
                created.append((part_id, asset_id, *values))
            elif tuple(old) == values:
                self.report.unchanged += 1
                continue
            else:
                changed.append((*values, part_id))
            if row.serial.strip():
                codes.append((asset_id, part_id, "component_serial", code_key(row.serial)))
        self._many(INSERT_PART, created)
        self._many(UPDATE_PART, changed)
        self._many(DELETE_PART_CODES, [(update[-1],) for update in changed])
        self._many(INSERT_CODE, codes)
        self.report.created += len(created)
        self.report.updated += len(changed)


def _asset_codes(codes: list[Code], asset_id: str, tag_key: str, serial: str) -> None:
    codes.append((asset_id, None, "tag", tag_key))
    if serial.strip():
        codes.append((asset_id, None, "serial", code_key(serial)))
