"""The real FieldOps server on loopback for transport tests: uvicorn in a thread, SQLite."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from fieldops.protocol import Role
from fieldops.server import migrate
from fieldops.server.app import create_app
from fieldops.server.db import in_transaction, make_engine
from fieldops.server.services import Services
from fieldops.server.settings import Settings, sqlite_url
from fieldops.server.users import create_user

USERS = {
    "tom": (Role.TECHNICIAN, ["HQ-DC1"], "tom-password-1"),
    "ada": (Role.ADMIN, [], "ada-password-1"),
    "wes": (Role.TECHNICIAN, ["HQ-DC1"], "wes-password-1"),
}
"""tom works at HQ-DC1, ada administers, wes is there to type wrong passwords for."""


def wait_until(condition: object, timeout: float = 10.0, what: str = "it") -> None:
    """Waits for a condition, checking often, and fails after the timeout."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.005)


@dataclass
class Central:
    """A running server: its URL and services."""

    url: str
    services: Services
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.services.engine.dispose()


def start_central(
    data_dir: Path,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    database: str | None = None,
) -> Central:
    """A migrated server (SQLite unless a database URL is given) with the test users."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database = database or sqlite_url(data_dir / "server.db")
    engine = create_engine(database)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        data_dir=data_dir,
        database=database,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        argon2_parallelism=1,
        max_blob_bytes=4 * 1024 * 1024,
    )
    app = create_app(settings, make_engine(settings))
    services: Services = app.state.services
    now = settings.clock()

    def seed(session: Session) -> None:
        for name, (role, sites, password) in USERS.items():
            create_user(session, services.passwords, name, role, sites, password, now)

    in_transaction(services.factory, seed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        log_config=None,
        lifespan="off",
        access_log=False,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="uvicorn to start")
    scheme = "https" if certfile else "http"
    return Central(f"{scheme}://127.0.0.1:{port}", services, server, thread)
