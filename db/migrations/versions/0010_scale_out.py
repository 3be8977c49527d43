"""scale-out: trunks and their shared pacing, workers and their leases, the server and trunk of each call

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trunks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("server", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("max_channels", sa.Integer(), nullable=True),
        sa.Column("calls_per_second", sa.Float(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("groups", sa.Text(), nullable=False),
        sa.Column("pace_tat", UtcDateTime(), nullable=True),
        sa.Column("configured_by", sa.String(length=100), nullable=False),
        sa.Column("configured_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_trunks")),
    )
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("servers", sa.Text(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
        sa.Column("stopped_at", UtcDateTime(), nullable=True),
        sa.Column("adopted_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("pace_tat", UtcDateTime(), nullable=True))
    with op.batch_alter_table("call_attempts") as batch:
        batch.add_column(sa.Column("server", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("trunk", sa.String(length=64), nullable=False, server_default=""))
        batch.create_index("ix_call_attempts_trunk_state", ["trunk", "state"])
        batch.create_index("ix_call_attempts_worker_state", ["worker", "state"])


def downgrade() -> None:
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_index("ix_call_attempts_worker_state")
        batch.drop_index("ix_call_attempts_trunk_state")
        batch.drop_column("trunk")
        batch.drop_column("server")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("pace_tat")
    op.drop_table("workers")
    op.drop_table("trunks")
