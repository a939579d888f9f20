"""Database engines and transactions, on SQLite or PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Engine,
    String,
    Table,
    any_,
    create_engine,
    event,
    insert,
    literal,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from fieldops.server.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

READ_ONLY = "fieldops_read_only"
"""Execution option: on SQLite, take no write lock when the transaction begins."""

MAX_ATTEMPTS = 5


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database, set up for many short transactions."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings.database_url)
    return create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        pool_timeout=60,
    )


def _sqlite_engine(url: str) -> Engine:
    """An SQLite engine: WAL, foreign keys, a busy timeout, and a write lock at BEGIN."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # The driver's own transaction handling is turned off so BEGIN below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock at BEGIN, so two never deadlock upgrading a read lock.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def read_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reading only (on SQLite they take no write lock)."""
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def one_of(session: Session, column: ColumnElement[str], values: list[str]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one statement for any count."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(String)))
    return column.in_(values)


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Inserts many rows in the session's transaction; with COPY on PostgreSQL."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = [column.name for column in table.columns]
    raw: Any = connection.connection.dbapi_connection  # psycopg's own connection, for COPY
    import psycopg

    quoted = ", ".join(f'"{name}"' for name in names)
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row.get(name) for name in names])
    except psycopg.Error as error:
        # Raised as SQLAlchemy would, so a key taken meanwhile retries like any other write.
        raise DBAPIError.instance(statement, None, error, psycopg.Error) from error


def is_retryable(error: DBAPIError) -> bool:
    """Whether a failed transaction may simply be run again: deadlock, serialisation, race."""
    if isinstance(error, IntegrityError):
        return True  # a unique key taken by a transaction that committed meanwhile
    code = getattr(error.orig, "sqlstate", None)
    if code in {"40001", "40P01"}:
        return True
    return isinstance(error, OperationalError) and "locked" in str(error.orig).lower()


def in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Runs `work` in one transaction, again from the start when the database asks for it."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        session = factory()
        try:
            with session.begin():
                return work(session)
        except DBAPIError as error:
            if attempt == MAX_ATTEMPTS or not is_retryable(error):
                raise
            log.info("transaction retried (attempt %d): %s", attempt, type(error.orig).__name__)
        finally:
            session.close()
    raise AssertionError("unreachable")
