"""Bringing the server's schema up to date, and checking it before serving."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from fieldops.domain.errors import FieldOpsError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaState(StrEnum):
    """How a database's schema compares with this server's."""

    EMPTY = "empty"
    CURRENT = "current"
    OUTDATED = "outdated"
    NEWER = "newer"


class SchemaError(FieldOpsError):
    """The database's schema does not match this server."""

    code = "schema_mismatch"


def _config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped with the server."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this server knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise AssertionError("the server ships no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has no schema yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_state(engine: Engine) -> SchemaState:
    """Whether the database is empty, current, behind or ahead of this server."""
    current = current_revision(engine)
    if current is None:
        tables = set(inspect(engine).get_table_names())
        if tables:
            raise SchemaError(
                "The database holds tables that are not a FieldOps server's. Give the server "
                "an empty database of its own."
            )
        return SchemaState.EMPTY
    if current == head_revision():
        return SchemaState.CURRENT
    known = {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}
    return SchemaState.OUTDATED if current in known else SchemaState.NEWER


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Applies every migration not yet applied; returns the revisions before and after."""
    before = current_revision(engine)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    after = head_revision()
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "nothing", after)
    return before, after


def check_ready(engine: Engine, migrate_hint: str) -> None:
    """Refuses to go on unless the schema is this server's; an empty database is set up."""
    state = schema_state(engine)
    if state is SchemaState.EMPTY:
        upgrade(engine)
    elif state is SchemaState.OUTDATED:
        raise SchemaError(
            f"The database schema is at revision {current_revision(engine)} but this server "
            f"needs {head_revision()}. Back it up, then run: {migrate_hint}"
        )
    elif state is SchemaState.NEWER:
        raise SchemaError(
            f"The database schema (revision {current_revision(engine)}) is newer than this "
            "server. Install the FieldOps server version that wrote it."
        )
