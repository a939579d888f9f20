"""Everything one server process holds: settings, database, and the use cases built on them.

Nothing here is state another worker needs: every worker builds its own from the settings.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fieldops.server.auth import LoginService
from fieldops.server.blobs import BlobStore
from fieldops.server.db import make_engine, read_factory, session_factory
from fieldops.server.meta import read_epoch
from fieldops.server.passwords import Passwords
from fieldops.server.pull import Puller
from fieldops.server.push import Pusher
from fieldops.server.settings import Settings

log = logging.getLogger(__name__)


class EpochCache:
    """The epoch for answer headers, read again every few seconds."""

    def __init__(self, factory: sessionmaker[Session], ttl: float = 2.0) -> None:
        self._factory = factory
        self._ttl = ttl
        self._value = ""
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> str:
        """The epoch as of at most a few seconds ago ('' when the database cannot be read)."""
        with self._lock:
            if time.monotonic() - self._read_at > self._ttl:
                try:
                    with self._factory() as session:
                        self._value = read_epoch(session)
                except Exception:  # the header is a courtesy; the request itself will report
                    log.debug("epoch not readable for the answer header", exc_info=True)
                self._read_at = time.monotonic()
            return self._value


@dataclass
class Services:
    """The parts the API calls."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    passwords: Passwords
    logins: LoginService
    pusher: Pusher
    puller: Puller
    blobs: BlobStore
    epoch: EpochCache

    @classmethod
    def build(cls, settings: Settings, engine: Engine | None = None) -> Services:
        """Builds every part from the settings."""
        engine = engine or make_engine(settings)
        factory = session_factory(engine)
        readers = read_factory(engine)
        passwords = Passwords(settings)
        blobs = BlobStore(settings.blob_dir, settings.max_blob_bytes)
        return cls(
            settings=settings,
            engine=engine,
            factory=factory,
            read_factory=readers,
            passwords=passwords,
            logins=LoginService(settings, factory, passwords),
            pusher=Pusher(factory, blobs.size, settings.clock),
            puller=Puller(readers),
            blobs=blobs,
            epoch=EpochCache(readers),
        )
