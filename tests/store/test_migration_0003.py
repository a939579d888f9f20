"""Upgrading a data directory made before attached codes and label prints (revision 0003)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from fieldops.domain.identifiers import new_id
from fieldops.services.asset_codes import attach_code
from fieldops.services.label_prints import record_label_prints
from fieldops.services.lookup import LookupService
from fieldops.store import migrate
from fieldops.store.database import Database

ASSET = new_id()


def _made_at_0002(path: Path) -> Database:
    """A database as the previous version left it, with an asset, its codes and a queued change."""
    db = Database(path)
    with db.engine.begin() as connection:
        config = migrate._config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("INSERT INTO sites (code, name, version) VALUES ('HQ-DC1', 'Head office', 1)")
        raw.execute(
            "INSERT INTO assets (id, asset_tag, tag_key, serial, name, manufacturer, model, "
            "model_number, category, status, site_code, notes, provisional, version, updated_at) "
            "VALUES (?, '0042', '0042', 'SN9', '', '', '', '', '', '', 'HQ-DC1', '', 0, 3, "
            "'2026-12-01 10:00:00.000000')",
            (ASSET,),
        )
        raw.execute(
            "INSERT INTO asset_codes (asset_id, kind, code) VALUES (?, 'tag', '0042'), "
            "(?, 'serial', 'SN9')",
            (ASSET, ASSET),
        )
        raw.execute(
            "INSERT INTO sync_state (id, client_id, server_url, cursor, epoch, seq_base, "
            "username, last_error) VALUES (1, ?, 'https://fieldops.example', 5731, 'e1', 0, "
            "'tom', '')",
            (new_id(),),
        )
        raw.execute(
            "INSERT INTO outbox (mutation_id, entity, entity_id, op, fields, created_at, state, "
            "attempts, last_error, reject_code) VALUES (?, 'asset', ?, 'update', "
            "'{\"name\": \"x\"}', '2026-12-01 10:00:00.000000', 'pending', 0, '', '')",
            (new_id(), ASSET),
        )
    raw.close()
    return db


def test_a_database_from_before_0003_keeps_its_data_and_pulls_again(tmp_path: Path) -> None:
    path = tmp_path / "fieldops.sqlite"
    db = _made_at_0002(path)
    assert migrate.current_revision(db.engine) == "0002"

    migrate.upgrade(db.engine, path, tmp_path / "backups")

    assert migrate.current_revision(db.engine) == migrate.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"asset_code_events", "label_prints", "waiting_changes"} <= tables
    assert len(list((tmp_path / "backups").glob("fieldops-*-before-*.sqlite"))) == 1
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT asset_tag, version FROM assets").all() == [("0042", 3)]
        assert conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar() == 1
        # Kinds the previous version skipped come with one pull from the start.
        assert conn.exec_driver_sql("SELECT cursor, epoch FROM sync_state").one() == (0, "e1")

    lookup = LookupService(db)
    assert lookup.lookup("0042").found and lookup.lookup("sn9").found
    attach_code(db, ASSET, "00042-B", "typed", "")
    assert record_label_prints(db, [ASSET], "datamatrix", False, "zpl-203dpi-2x1in", "zpl") == 1
    found = lookup.lookup("00042-b")
    assert found.card is not None and found.card.id == ASSET and found.matched_kind == "label"
    db.close()


def test_downgrade_to_0002_and_up_again(tmp_path: Path) -> None:
    path = tmp_path / "fieldops.sqlite"
    db = _made_at_0002(path)
    migrate.upgrade(db.engine, path, tmp_path / "backups")
    with db.engine.begin() as connection:
        config = migrate._config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert "label_prints" not in inspect(db.engine).get_table_names()
    migrate.upgrade(db.engine, path, tmp_path / "backups")
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    db.close()


def test_the_new_tables_match_the_models(tmp_path: Path) -> None:
    from fieldops.store.models import Base

    db = Database(tmp_path / "fieldops.sqlite")
    migrate.upgrade(db.engine, db.path, tmp_path / "backups")
    inspector = inspect(db.engine)
    for name in ("asset_code_events", "label_prints", "waiting_changes"):
        table = Base.metadata.tables[name]
        columns = {c["name"]: c["nullable"] for c in inspector.get_columns(name)}
        assert columns == {c.name: c.nullable for c in table.columns}, name
        indexes = {tuple(i["column_names"]) for i in inspector.get_indexes(name)}
        assert indexes == {tuple(c.name for c in i.columns) for i in table.indexes}, name
        keys = {(f["referred_table"], f["options"].get("ondelete")) for f in
                inspector.get_foreign_keys(name)}  # fmt: skip
        assert keys == {(f.column.table.name, f.ondelete) for f in table.foreign_keys}, name
    db.close()
