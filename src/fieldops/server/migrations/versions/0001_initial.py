"""The first schema: users, tokens, throttling, records, unique keys, clients, mutations.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from fieldops.server.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates every table and seeds the epoch and the counters."""
    meta = op.create_table(
        "server_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "user_sites",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("site_code", sa.String(32), primary_key=True),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("device", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("first_failure_at", UtcDateTime(), nullable=False),
        sa.Column("blocked_until", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False, unique=True),
        sa.Column("site_code", sa.String(32), nullable=True),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("blob", sa.String(64), nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("field_versions", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
        sa.Column("created_by", sa.Integer, nullable=True),
    )
    op.create_index("ix_records_parent_id", "records", ["parent_id"])
    op.create_index("ix_records_blob", "records", ["blob"])
    op.create_index("ix_records_deleted_at", "records", ["deleted_at"])
    op.create_index("ix_records_site_cursor", "records", ["site_code", "cursor"])
    op.create_table(
        "unique_keys",
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("field", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_unique_keys_record_id", "unique_keys", ["record_id"])
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(36), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "applied_mutations",
        sa.Column("mutation_id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_applied_mutations_applied_at", "applied_mutations", ["applied_at"])
    op.create_index("ux_applied_client_seq", "applied_mutations", ["client_id", "seq"], unique=True)
    op.bulk_insert(
        meta, [{"key": "epoch", "value": str(uuid.uuid4())}, {"key": "purged_cursor", "value": "0"}]
    )
    op.bulk_insert(counters, [{"name": "cursor", "value": 0}, {"name": "incident", "value": 0}])


def downgrade() -> None:
    """Drops every table."""
    for table in (
        "applied_mutations",
        "clients",
        "unique_keys",
        "records",
        "login_throttle",
        "tokens",
        "user_sites",
        "users",
        "counters",
        "server_meta",
    ):
        op.drop_table(table)
