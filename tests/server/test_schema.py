"""The server's own schema: migrations match the models, and an old schema refuses to serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from fieldops.server import migrate
from fieldops.server.app import create_app
from fieldops.server.cli import main
from fieldops.server.schema import Base
from tests.server.conftest import light_settings


def test_migrations_build_exactly_the_models(database: str) -> None:
    engine = create_engine(database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def _at_first_revision(path: Path) -> str:
    url = f"sqlite:///{path}"
    config = migrate._config()
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()
    return url


def test_old_schema_refuses_to_serve_and_names_the_command(tmp_path: Path) -> None:
    url = _at_first_revision(tmp_path / "server.db")
    with pytest.raises(migrate.SchemaError) as refused:
        create_app(light_settings(tmp_path, url))
    assert "0001" in refused.value.message and "migrate" in refused.value.message


def test_serve_command_refuses_then_migrate_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _at_first_revision(tmp_path / "server.db")
    assert main(["--data-dir", str(tmp_path), "serve", "--port", "1"]) == 1
    said = capsys.readouterr().err
    assert f"fieldops-server --data-dir {tmp_path} migrate" in said
    assert "Traceback" not in said
    assert main(["--data-dir", str(tmp_path), "migrate"]) == 0
    assert "(was 0001)" in capsys.readouterr().out
    engine = create_engine(f"sqlite:///{tmp_path / 'server.db'}")
    assert migrate.schema_state(engine) is migrate.SchemaState.CURRENT
    engine.dispose()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(migrate.SchemaError, match="newer than this server"):
        migrate.check_ready(engine, "")
    engine.dispose()


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(migrate.SchemaError, match="not a FieldOps server"):
        migrate.check_ready(engine, "")
    engine.dispose()
