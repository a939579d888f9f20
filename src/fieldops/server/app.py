"""The FastAPI application of the FieldOps server."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy import Engine

from fieldops.protocol import PROTOCOL_VERSION
from fieldops.server import migrate
from fieldops.server.services import Services
from fieldops.server.settings import Settings
from fieldops.server.web import ProtocolMiddleware, install_error_handlers

log = logging.getLogger(__name__)

MIGRATE_HINT = "fieldops-server --data-dir DIR --db URL migrate"


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The application for these settings; refuses a database on another schema."""
    from fieldops.server import routes_admin, routes_auth, routes_blobs, routes_sync

    services = Services.build(settings, engine)
    migrate.check_ready(services.engine, MIGRATE_HINT)
    app = FastAPI(
        title="FieldOps server",
        version=f"protocol {PROTOCOL_VERSION}",
        description=(
            "Sync API of FieldOps: push outbox mutations, pull changes after a cursor, "
            "upload photos by SHA-256, and administer users, sites and the catalogue. "
            "Errors are JSON with a code and a sentence."
        ),
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.services = services
    install_error_handlers(app)
    for module in (routes_auth, routes_sync, routes_blobs, routes_admin):
        app.include_router(module.router)
    app.add_middleware(ProtocolMiddleware, epoch=services.epoch.get)
    return app


def app_from_env() -> FastAPI:
    """The application from FIELDOPS_SERVER_* variables: what each worker process runs."""
    return create_app(Settings.from_env())
