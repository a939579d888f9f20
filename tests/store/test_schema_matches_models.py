"""The migrations build exactly the schema the models declare, for every table."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fieldops.store import migrate
from fieldops.store.database import Database
from fieldops.store.models import Base


def test_migrated_schema_has_no_difference_from_the_models(tmp_path: Path) -> None:
    db = Database(tmp_path / "fieldops.sqlite")
    migrate.upgrade(db.engine, db.path, tmp_path / "backups")
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.close()
    assert differences == []
