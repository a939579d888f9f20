"""A real central server on loopback and devices (real data directories) that sync with it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fieldops.services.datadir import DataDir
from fieldops.services.workspace import Workspace
from fieldops.sync.credentials import CredentialStore
from fieldops.sync.transport import SyncClient
from tests.support.postgres import postgres_cluster  # noqa: F401 - fixture
from tests.support.workspaces import copy_data_dir
from tests.sync.central import USERS, Central, start_central
from tests.sync.conftest import central_tls, pki  # noqa: F401 - fixtures

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Central]:
    """A server on SQLite and on PostgreSQL, holding the demo catalogue its admin imported.

    Shared by a module's tests (an import takes seconds); each test uses its own titles.
    """
    database = None
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        database = cluster.create_database(f"sync_{uuid.uuid4().hex[:12]}")
    server = start_central(tmp_path_factory.mktemp("server"), database=database)
    with SyncClient(server.url) as admin:
        admin.set_token(admin.login("ada", USERS["ada"][2]).token)
        for name in ("catalogue-snipeit.csv", "components.csv"):
            summary = admin.import_catalogue((DEMO / name).read_bytes())
            assert not summary.errors, summary.errors[:3]
    yield server
    server.stop()


@pytest.fixture
def device(
    demo_template: Path, tmp_path: Path, central: Central
) -> Iterator[Callable[[str], Workspace]]:
    """Opens a device: a copy of the demo data directory, signed in as tom."""
    opened: list[Workspace] = []

    def _open(name: str, user: str = "tom") -> Workspace:
        data_dir: DataDir = copy_data_dir(demo_template, tmp_path / name)
        workspace = Workspace(data_dir)
        # Kept in memory: the keyring itself is tested in tests/sync and test_keyring_login.
        workspace.sync.credentials = CredentialStore(session_only=True)
        workspace.sync.login(central.url, user, USERS[user][2])
        opened.append(workspace)
        return workspace

    yield _open
    for workspace in opened:
        workspace.close()
