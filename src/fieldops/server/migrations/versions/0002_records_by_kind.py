"""Index records by kind and site, for site listings and catalogue imports.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds the index."""
    op.create_index("ix_records_entity_site", "records", ["entity", "site_code"])


def downgrade() -> None:
    """Drops the index."""
    op.drop_index("ix_records_entity_site", table_name="records")
