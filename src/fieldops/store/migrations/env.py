"""Alembic environment for the local database; run through fieldops.store.migrate only."""

from __future__ import annotations

from alembic import context

from fieldops.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot alter columns in place; batch mode copies the table
)
with context.begin_transaction():
    context.run_migrations()
