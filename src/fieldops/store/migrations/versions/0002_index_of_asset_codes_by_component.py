"""index of asset codes by component

A part's serial is replaced, and its codes cascade-deleted, by the part's id: without an index
each of those scans the whole codes table (millions of rows with a large catalogue). Partial,
since only parts' codes have a component id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("asset_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_asset_codes_component_id",
            ["component_id"],
            unique=False,
            sqlite_where=sa.text("component_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("asset_codes", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_asset_codes_component_id", sqlite_where=sa.text("component_id IS NOT NULL")
        )
