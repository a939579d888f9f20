"""The local database: migrations, round trips, aware UTC times, all-or-nothing writes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from fieldops.domain.identifiers import new_id
from fieldops.store import migrate
from fieldops.store.database import Database, StoreError
from fieldops.store.models import (
    Asset,
    AssetCode,
    Base,
    Component,
    Incident,
    Location,
    Note,
    Outbox,
    Photo,
    Replacement,
    Site,
    SyncState,
)
from fieldops.store.outbox import enqueue, pending_count


def open_db(path: Path) -> Database:
    db = Database(path / "fieldops.sqlite")
    migrate.upgrade(db.engine, db.path, path / "backups")
    return db


def test_migration_from_empty_creates_every_table(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    assert not list((tmp_path / "backups").glob("*")) if (tmp_path / "backups").exists() else True


def test_connection_settings(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_migration_is_idempotent_and_backs_up_before_upgrading(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    db.write(lambda s: s.add(Site(code="HQ-DC1", name="Head office")))
    migrate.upgrade(db.engine, db.path, tmp_path / "backups")  # at head: nothing to do
    assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").iterdir())

    # Pretend the database is one revision behind: the upgrade takes a backup first.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'base-test'"))
    with pytest.raises(StoreError, match="put back as it was"):
        migrate.upgrade(db.engine, db.path, tmp_path / "backups")
    backups = list((tmp_path / "backups").glob("fieldops-*-before-*.sqlite"))
    assert len(backups) == 1
    copy = sqlite3.connect(backups[0])
    assert copy.execute("SELECT code FROM sites").fetchall() == [("HQ-DC1",)]
    copy.close()


def test_half_finished_migration_is_restored_from_backup(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    db.write(lambda s: s.add(Site(code="BR-MUC", name="Munich")))
    backup = migrate.backup(db.path, tmp_path / "backups", "before-0001")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM sites"))
        conn.execute(text("CREATE TABLE _alembic_tmp_assets (id TEXT)"))
    db.close()
    db = Database(db.path)
    migrate.upgrade(db.engine, db.path, tmp_path / "backups")
    assert backup.exists()
    with db.read() as session:
        assert session.scalars(select(Site.code)).all() == ["BR-MUC"]
    assert "_alembic_tmp_assets" not in inspect(db.engine).get_table_names()


def _every_entity(session) -> dict[str, str]:
    when = datetime(2026, 12, 4, 10, 15, tzinfo=UTC)
    site = Site(code="HQ-DC1", name="Head office")
    session.add(site)
    session.flush()  # the locations' self-reference makes the unit of work order rows itself
    room = Location(id=new_id(), site_code="HQ-DC1", kind="room", name="Server Room B3")
    rack = Location(id=new_id(), site_code="HQ-DC1", kind="rack", name="R02", parent=room)
    asset = Asset(
        id=new_id(), asset_tag="000122521", tag_key="000122521", serial="SN1",
        site_code="HQ-DC1", location=rack, rack_u=34, rack_face="front", updated_at=when,
    )  # fmt: skip
    comp = Component(id=new_id(), asset=asset, kind="psu", slot="PSU1", serial="PS-1")
    incident = Incident(
        id=new_id(), asset=asset, site_code="HQ-DC1", category="physical", subtype="flood",
        impact="high", urgency="high", priority="P1", title="Water under rack",
        occurred_at=when, reported_at=when, updated_at=when,
    )  # fmt: skip
    session.add_all([site, room, rack, asset, comp, incident])
    session.flush()
    session.add_all(
        [
            AssetCode(asset_id=asset.id, kind="tag", code="000122521"),
            Note(id=new_id(), incident_id=incident.id, body="Mopped", created_at=when),
            Photo(
                id=new_id(),
                incident_id=incident.id,
                sha256="a" * 64,
                size=10,
                mime="image/jpeg",
                width=4,
                height=3,
                created_at=when,
            ),
            Replacement(
                id=new_id(),
                asset_id=asset.id,
                incident_id=incident.id,
                old_serial="5CG1234OLD",
                new_serial="5CG5678NEW",
                rma_number="RMA-1",
                old_part_fate="returned-to-vendor",
                created_at=when,
            ),
            SyncState(id=1, server_url="https://sync.example.invalid", cursor=7, epoch="e1"),
        ]
    )
    enqueue(session, "incident", incident.id, "create", {"title": incident.title, "at": when})
    return {"asset": asset.id, "incident": incident.id}


def test_round_trip_of_every_entity(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    ids = db.write(_every_entity)
    db.close()

    db = open_db(tmp_path)
    with db.read() as session:
        asset = session.get(Asset, ids["asset"])
        assert asset is not None and asset.asset_tag == "000122521"
        assert asset.location is not None and asset.location.name == "R02"
        assert asset.location.parent is not None and asset.location.parent.name == "Server Room B3"
        assert [c.serial for c in asset.components] == ["PS-1"]
        incident = session.get(Incident, ids["incident"])
        assert incident is not None and incident.subtype == "flood"
        assert [p.sha256 for p in incident.photos] == ["a" * 64]
        assert session.scalars(select(Note.body)).all() == ["Mopped"]
        replacement = session.scalars(select(Replacement)).one()
        assert (replacement.old_serial, replacement.new_serial) == ("5CG1234OLD", "5CG5678NEW")
        state = session.get(SyncState, 1)
        assert state is not None and state.cursor == 7
        outbox = session.scalars(select(Outbox)).one()
        assert outbox.fields == {"title": "Water under rack", "at": "2026-12-04T10:15:00+00:00"}
        assert session.scalars(select(AssetCode.code)).all() == ["000122521"]


def test_times_come_back_aware_utc(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    ids = db.write(_every_entity)
    paris = timezone(timedelta(hours=1))

    def move(session) -> None:
        incident = session.get(Incident, ids["incident"])
        incident.occurred_at = datetime(2026, 12, 4, 12, 0, tzinfo=paris)

    db.write(move)
    with db.read() as session:
        incident = session.get(Incident, ids["incident"])
        assert incident.occurred_at.tzinfo is UTC
        assert incident.occurred_at == datetime(2026, 12, 4, 11, 0, tzinfo=UTC)
        assert incident.reported_at.utcoffset() == timedelta(0)


def test_naive_times_are_refused(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    ids = db.write(_every_entity)

    def naive(session) -> None:
        session.get(Incident, ids["incident"]).occurred_at = datetime(2026, 1, 1)

    with pytest.raises(Exception, match="naive"):
        db.write(naive)


def test_failed_save_leaves_neither_the_change_nor_its_outbox_row(tmp_path: Path) -> None:
    db = open_db(tmp_path)

    def half(session) -> None:
        incident = Incident(
            id=new_id(), category="hardware", impact="low", urgency="low", priority="P4",
            title="Fan noise",
        )  # fmt: skip
        session.add(incident)
        session.flush()
        enqueue(session, "incident", incident.id, "create", {"title": "Fan noise"})
        session.flush()
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        db.write(half)
    with db.read() as session:
        assert session.scalars(select(Incident)).all() == []
        assert pending_count(session) == 0


def test_write_lane_serialises_threads(tmp_path: Path) -> None:
    import threading

    db = open_db(tmp_path)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(40):
                db.write(lambda s, i=i: enqueue(s, "note", f"{n}-{i}", "create", {}))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read() as session:
        seqs = session.scalars(select(Outbox.seq).order_by(Outbox.seq)).all()
    assert seqs == list(range(1, 161))


def test_outbox_sequence_is_never_reused(tmp_path: Path) -> None:
    from sqlalchemy import delete

    db = open_db(tmp_path)
    db.write(lambda s: [enqueue(s, "note", str(i), "create", {}) for i in range(3)])
    db.write(lambda s: s.execute(delete(Outbox)))  # all acknowledged by the server
    db.close()
    db = open_db(tmp_path)
    row = db.write(lambda s: enqueue(s, "note", "next", "create", {}))
    assert row.seq == 4
