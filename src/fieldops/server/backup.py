"""Backups the server can restore on either database: its tables as JSON lines, and blobs.

A restore gives the server a new epoch, so every client knows to push again what the backup
may have lost.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select, text
from sqlalchemy.orm import Session

from fieldops.domain.errors import FieldOpsError
from fieldops.domain.times import utcnow
from fieldops.server import migrate
from fieldops.server.blobs import BlobStore
from fieldops.server.meta import new_epoch
from fieldops.server.schema import Base, UtcDateTime

log = logging.getLogger(__name__)

FORMAT = 1
BATCH = 5000
_TABLES = [table for table in Base.metadata.sorted_tables]


class BackupError(FieldOpsError):
    """A backup file that cannot be restored here."""

    code = "backup_unusable"


def _encode(table: Table, row: Any) -> str:
    """One row as a JSON line."""
    values = {}
    for column in table.columns:
        value = getattr(row, column.name)
        values[column.name] = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps(values, ensure_ascii=False)


def _decode(table: Table, line: str) -> dict[str, Any]:
    """One JSON line back into column values."""
    values: dict[str, Any] = json.loads(line)
    for column in table.columns:
        value = values.get(column.name)
        if isinstance(column.type, UtcDateTime) and isinstance(value, str):
            values[column.name] = datetime.fromisoformat(value)
    return values


def _rows(connection: Any, table: Table) -> Iterator[str]:
    """Every row of a table as JSON lines, read in a stream."""
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    for row in result:
        yield _encode(table, row) + "\n"


def _add_text(archive: tarfile.TarFile, name: str, lines: Iterator[str]) -> int:
    """Adds a member made of text lines; returns how many there were."""
    count = 0
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as buffer:
        for line in lines:
            buffer.write(line.encode("utf-8"))
            count += 1
        info = tarfile.TarInfo(name)
        info.size = buffer.tell()
        info.mtime = int(utcnow().timestamp())
        buffer.seek(0)
        archive.addfile(info, buffer)
    return count


def write_backup(engine: Engine, blobs: BlobStore | None, target: Path) -> dict[str, int]:
    """Writes every table (and the blobs, when given) to a .tar.gz; returns rows per table."""
    counts: dict[str, int] = {}
    partial = target.with_name(target.name + ".partial")
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with (
        engine.connect().execution_options(**options) as connection,
        connection.begin(),
        tarfile.open(partial, "w:gz") as archive,
    ):
        for table in _TABLES:
            counts[table.name] = _add_text(
                archive, f"tables/{table.name}.jsonl", _rows(connection, table)
            )
        manifest = {
            "format": FORMAT,
            "revision": migrate.head_revision(),
            "created_at": utcnow().isoformat(),
            "tables": counts,
        }
        _add_text(archive, "manifest.json", iter([json.dumps(manifest)]))
        if blobs is not None:
            for path in sorted(blobs.root.glob("??/*")):
                archive.add(path, arcname=f"blobs/{path.parent.name}/{path.name}")
    partial.replace(target)
    log.info("backup written to %s", target.name)
    return counts


def restore_backup(engine: Engine, blobs: BlobStore, source: Path) -> dict[str, int]:
    """Loads a backup into an empty database and gives the server a new epoch."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        if session.execute(select(func.count()).select_from(_table("users"))).scalar():
            raise BackupError("Restore needs an empty database: this one already has users.")
    counts: dict[str, int] = {}
    with tarfile.open(source, "r:gz") as archive:
        manifest = _manifest(archive)
        with engine.begin() as connection:
            for table in _TABLES:
                connection.execute(table.delete())
                member = archive.extractfile(f"tables/{table.name}.jsonl")
                if member is None:
                    raise BackupError(f"The backup has no {table.name} table.")
                counts[table.name] = _load(connection, table, member)
            _reset_sequences(connection)
        _restore_blobs(archive, blobs)
    with Session(engine) as session, session.begin():
        epoch = new_epoch(session)
    log.info("restored backup of %s; new epoch %s", manifest.get("created_at"), epoch)
    return counts


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    """The backup's description; refuses formats and schemas this server cannot load."""
    try:
        member = archive.extractfile("manifest.json")
    except KeyError:
        member = None
    if member is None:
        raise BackupError("This file is not a FieldOps server backup (it has no manifest).")
    manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT or manifest.get("revision") != migrate.head_revision():
        raise BackupError(
            f"The backup is of schema {manifest.get('revision')}; this server restores "
            f"{migrate.head_revision()}. Restore it with the server version that made it."
        )
    return manifest


def _load(connection: Any, table: Table, member: io.BufferedReader | Any) -> int:
    """Inserts a table's rows in batches; returns how many."""
    batch: list[dict[str, Any]] = []
    count = 0
    for raw in member:
        batch.append(_decode(table, raw.decode("utf-8")))
        if len(batch) >= BATCH:
            connection.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
        count += len(batch)
    return count


def _reset_sequences(connection: Any) -> None:
    """On PostgreSQL, moves id sequences past the restored rows."""
    if connection.dialect.name != "postgresql":
        return
    for name in ("users", "tokens"):
        connection.execute(
            text(
                # Table names come from the schema, never from input.
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


def _restore_blobs(archive: tarfile.TarFile, blobs: BlobStore) -> None:
    """Puts back the blobs of the backup, by their names only."""
    for member in archive.getmembers():
        parts = member.name.split("/")
        if len(parts) != 3 or parts[0] != "blobs" or not member.isfile():
            continue
        target = blobs.path(parts[2])  # checks the name is a SHA-256, never a path
        source = archive.extractfile(member)
        if source is None or target.exists():
            continue
        target.parent.mkdir(exist_ok=True)
        with open(target, "wb") as out:
            while block := source.read(1 << 20):
                out.write(block)
