"""Server fixtures: one fresh database per test on SQLite and on PostgreSQL, a real uvicorn."""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from fieldops.protocol import Role
from fieldops.server import migrate
from fieldops.server.app import create_app
from fieldops.server.db import in_transaction, make_engine
from fieldops.server.services import Services
from fieldops.server.settings import Settings, sqlite_url
from fieldops.server.users import create_user
from tests.server.helpers import PASSWORDS, Api, FakeClock, ThreadServer
from tests.support.postgres import PostgresCluster, postgres_cluster  # noqa: F401 - fixture

BACKENDS = ["sqlite", "postgresql"]
TEMPLATE = "fieldops_template"
_numbers = itertools.count(1)

USERS = {
    "ada": (Role.ADMIN, []),
    "lee": (Role.LEAD, []),
    "tom": (Role.TECHNICIAN, ["HQ-DC1"]),
    "tia": (Role.TECHNICIAN, ["BR-LEEDS"]),
}


def light_settings(data_dir: Path, database: str, clock: FakeClock | None = None) -> Settings:
    """Settings for tests: Argon2 made cheap, so logins take milliseconds, not tenths."""
    settings = Settings(
        data_dir=data_dir,
        database=database,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        argon2_parallelism=1,
        pool_size=5,
        max_overflow=10,
    )
    return settings.with_changes(clock=clock) if clock else settings


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "server.db"
    engine = create_engine(sqlite_url(path))
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(postgres_cluster: PostgresCluster) -> str:  # noqa: F811
    """A PostgreSQL database migrated once, used as the template of each test's database."""
    url = postgres_cluster.create_database(TEMPLATE)
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return TEMPLATE


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, empty database URL of each backend."""
    if request.param == "sqlite":
        target = tmp_path / "server.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return sqlite_url(target)
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    template = request.getfixturevalue("pg_template")
    return cluster.create_database(f"test_{next(_numbers)}", template=template)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, database: str, clock: FakeClock) -> Settings:
    return light_settings(tmp_path / "data", database, clock)


@dataclass
class RunningServer:
    """A server on loopback with its services, clock and seeded users."""

    url: str
    services: Services
    settings: Settings
    clock: FakeClock

    def api(self, user: str | None = None) -> Api:
        """A client, logged in as one of the seeded users when named."""
        anonymous = Api(self.url)
        return anonymous.logged_in(user) if user else anonymous


def seed_users(services: Services) -> None:
    """Adds the four test users."""
    now = services.settings.clock()

    def work(session: Session) -> None:
        for name, (role, sites) in USERS.items():
            create_user(session, services.passwords, name, role, sites, PASSWORDS[name], now)

    in_transaction(services.factory, work)


@contextlib.contextmanager
def serving(settings: Settings, clock: FakeClock) -> Iterator[RunningServer]:
    """A real server on loopback for these settings, with ada, lee, tom and tia."""
    app = create_app(settings, make_engine(settings))
    services: Services = app.state.services
    seed_users(services)
    running = ThreadServer(app).start()
    try:
        yield RunningServer(running.url, services, settings, clock)
    finally:
        running.stop()
        services.engine.dispose()


@pytest.fixture
def server(settings: Settings, clock: FakeClock) -> Iterator[RunningServer]:
    """A real server for the test's database."""
    with serving(settings, clock) as running:
        yield running
