"""Remember what each catalogue import wrote, so a re-import keeps changes made in the field.

No rows are made here: a record imported before this revision has no baseline, and the import
treats a field that has not changed since the record was made as what the file last said.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fieldops.server.schema import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds the table of import baselines."""
    op.create_table(
        "import_baselines",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("natural_key", sa.String(255), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("conflicts", sa.Text, nullable=False),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_import_baselines_natural_key", "import_baselines", ["natural_key"])


def downgrade() -> None:
    """Drops the table of import baselines."""
    op.drop_index("ix_import_baselines_natural_key", table_name="import_baselines")
    op.drop_table("import_baselines")
