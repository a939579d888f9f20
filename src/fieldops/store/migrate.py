"""Brings the local database to the current schema at start, with a backup taken first."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from fieldops.domain.times import utcnow
from fieldops.store.database import StoreError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this build knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None for an empty one."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def backup(db_path: Path, backups: Path, label: str) -> Path:
    """A consistent copy of the database through SQLite's backup API."""
    backups.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = backups / f"fieldops-{stamp}-{label}.sqlite"
    source = sqlite3.connect(db_path)
    try:
        dest = sqlite3.connect(target)
        with dest:
            source.backup(dest)
        dest.close()
    finally:
        source.close()
    return target


def _half_done(engine: Engine) -> bool:
    # Alembic's batch mode copies a table to _alembic_tmp_<name>; one left over means a
    # migration was killed before it finished.
    return any(name.startswith("_alembic_tmp_") for name in inspect(engine).get_table_names())


def _restore(backup_file: Path, db_path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup_file, db_path)


def _latest_backup(backups: Path) -> Path | None:
    files = sorted(backups.glob("fieldops-*-before-*.sqlite"))
    return files[-1] if files else None


def upgrade(engine: Engine, db_path: Path, backups: Path) -> None:
    """Migrates the database to the head revision; on failure the backup is put back."""
    if db_path.exists() and _half_done(engine):
        previous = _latest_backup(backups)
        if previous is None:
            raise StoreError(
                "The database was left half-upgraded and no backup was found. "
                "Contact support before using FieldOps on this computer."
            )
        log.warning("half-finished migration found; restoring %s", previous.name)
        engine.dispose()
        _restore(previous, db_path)

    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    taken = None
    if current is not None:
        taken = backup(db_path, backups, f"before-{head}")
        log.info("database at %s, upgrading to %s; backup %s", current, head, taken.name)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        log.exception("migration to %s failed", head)
        if taken is not None:
            engine.dispose()
            _restore(taken, db_path)
        raise StoreError(
            "The database could not be upgraded; it was put back as it was. "
            "Details are in the log file."
        ) from exc
