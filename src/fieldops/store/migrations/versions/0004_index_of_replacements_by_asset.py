"""index of replacements by asset

Every asset card lists the asset's replacements, newest first: without an index each card
would read the whole replacements table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replacements", schema=None) as batch_op:
        batch_op.create_index("ix_replacements_asset_created", ["asset_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("replacements", schema=None) as batch_op:
        batch_op.drop_index("ix_replacements_asset_created")
