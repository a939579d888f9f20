"""attached codes and label prints

Two kinds that now travel: codes a technician attaches to an asset in the field (their
matching form goes in asset_codes as before) and labels printed. Pulled records of any kind
naming a record that has not arrived yet wait in waiting_changes.

A device that pulled before this version skipped these kinds, so its sync position is moved
back to the start once: the next sync pulls everything again (unsent changes are kept) and
brings the codes and prints it skipped.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_code_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("raw", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_asset_code_events_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_code_events")),
    )
    with op.batch_alter_table("asset_code_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_code_events_asset_id"), ["asset_id"], unique=False
        )

    op.create_table(
        "label_prints",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("symbology", sa.String(length=16), nullable=False),
        sa.Column("digital_link", sa.Boolean(), nullable=False),
        sa.Column("layout", sa.String(length=64), nullable=False),
        sa.Column("output", sa.String(length=8), nullable=False),
        sa.Column("printed_at", sa.DateTime(), nullable=False),
        sa.Column("printed_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_label_prints_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_prints")),
    )
    with op.batch_alter_table("label_prints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_label_prints_asset_printed", ["asset_id", "printed_at"], unique=False
        )

    op.create_table(
        "waiting_changes",
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("waits_for", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_waiting_changes")),
    )
    with op.batch_alter_table("waiting_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waiting_changes_waits_for"), ["waits_for"], unique=False
        )

    # Earlier versions skipped these kinds when pulling: pull everything again once.
    op.execute("UPDATE sync_state SET cursor = 0")


def downgrade() -> None:
    with op.batch_alter_table("waiting_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waiting_changes_waits_for"))
    op.drop_table("waiting_changes")
    with op.batch_alter_table("label_prints", schema=None) as batch_op:
        batch_op.drop_index("ix_label_prints_asset_printed")
    op.drop_table("label_prints")
    with op.batch_alter_table("asset_code_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_code_events_asset_id"))
    op.drop_table("asset_code_events")
