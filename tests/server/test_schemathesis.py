"""Schemathesis over the server's OpenAPI description: generated requests never get a 5xx.

Bounded for CI: a few examples per operation, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from fieldops.protocol import Paths
from tests.server.conftest import BACKENDS, TEMPLATE, light_settings
from tests.server.helpers import FakeClock, ThreadServer

MAX_EXAMPLES = int(os.environ.get("FIELDOPS_FUZZ_EXAMPLES", "12"))  # more for a long local run
ADMIN = "fuzz-admin-7d1c"  # a name the generated data will not hit


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """One server for the whole run, with an administrator whose token the requests carry."""
    import shutil

    from fieldops.protocol import Role
    from fieldops.server.app import create_app
    from fieldops.server.db import in_transaction, make_engine
    from fieldops.server.settings import sqlite_url
    from fieldops.server.users import create_user

    root = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), root / "server.db")
        url = sqlite_url(root / "server.db")
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        request.getfixturevalue("pg_template")
        url = cluster.create_database("fuzz", template=TEMPLATE)
    config = light_settings(root / "data", url, FakeClock())
    app = create_app(config, make_engine(config))
    services = app.state.services
    in_transaction(
        services.factory,
        lambda s: create_user(
            s, services.passwords, ADMIN, Role.ADMIN, ["HQ-DC1"], "fuzz-password-1", config.clock()
        ),
    )
    running = ThreadServer(app).start()
    from tests.server.helpers import Api

    token = Api(running.url).login(ADMIN, "fuzz-password-1").json()["token"]
    try:
        yield {"url": running.url, "token": token}
    finally:
        running.stop()
        services.engine.dispose()


def _fuzz(operation: Any, mode: GenerationMode, url: str, token: str) -> None:
    """Sends generated requests for one operation; any 5xx fails."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error],
            timeout=30,
        )

    try:
        run()
    except Unsatisfiable:
        # An operation with no inputs has no invalid variant to generate.
        assert mode is GenerationMode.NEGATIVE, operation.label


def test_no_generated_request_gets_a_server_error(fuzzed_server: dict[str, Any]) -> None:
    # Schemathesis' pytest plugin (from_fixture/parametrize) fails on this pytest version
    # (it sets a node attribute pytest no longer has), so its Python API drives Hypothesis.
    url, token = fuzzed_server["url"], fuzzed_server["token"]
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:
        if operation.path == Paths.LOGOUT:
            continue  # logging out would end the token every other request carries
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, url, token)
