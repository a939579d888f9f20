"""Index records by kind and site; drop the index on when mutations were applied.

Site listings and catalogue imports look records up by kind and site. The applied-at index
cost every push a write and served only the daily purge, which can scan instead.

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
    """Adds the one index and drops the other."""
    op.create_index("ix_records_entity_site", "records", ["entity", "site_code"])
    op.drop_index("ix_applied_mutations_applied_at", table_name="applied_mutations")


def downgrade() -> None:
    """Puts the indexes back as they were."""
    op.create_index("ix_applied_mutations_applied_at", "applied_mutations", ["applied_at"])
    op.drop_index("ix_records_entity_site", table_name="records")
