"""The local SQLite database: connection settings, the serial write lane, sessions."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from fieldops.domain.errors import FieldOpsError

log = logging.getLogger(__name__)

T = TypeVar("T")

DB_FILE = "fieldops.sqlite"
BUSY_TIMEOUT_MS = 15_000


class StoreError(FieldOpsError):
    """The local database could not do what was asked."""

    code = "store"


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Transactions are begun explicitly (see _on_begin), so the driver must not begin its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _on_begin(connection: Any) -> None:
    # A write transaction takes the write lock at once (BEGIN IMMEDIATE), so it never fails
    # half-way with "database is locked" when a read turns into a write.
    immediate = connection.get_execution_options().get("fieldops_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(path: Path) -> Engine:
    """An engine on the SQLite file at `path` with FieldOps' connection settings."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


class Database:
    """The local database; every write goes through one serial lane."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine = make_engine(path)
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(fieldops_write=True), expire_on_commit=False
        )
        self._write_lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it changes is saved (it is closed, never committed).

        Objects read stay usable after the block, with what they had loaded.
        """
        with self._reads() as session:
            yield session

    def write(self, work: Callable[[Session], T]) -> T:
        """Runs `work` in one write transaction: all of it is saved, or none of it."""
        with self._write_lock, self._writes() as session:
            try:
                result = work(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return result

    def close(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()
