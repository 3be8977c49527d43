"""call attempts: the IVR's full listen report (milliseconds, completion, repeats, how the call ended)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heard_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("message_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("completed", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("repeats", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("ended_by", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE call_attempts SET heard_ms = CAST(ROUND(heard_seconds * 1000) AS INTEGER), "
        "message_ms = CAST(ROUND(message_seconds * 1000) AS INTEGER), "
        "completed = CASE WHEN heard_seconds IS NULL THEN NULL ELSE outcome = 'heard_full' END "
        "WHERE heard_seconds IS NOT NULL OR message_seconds IS NOT NULL"
    )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_column("message_seconds")
        batch_op.drop_column("heard_seconds")


def downgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heard_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("message_seconds", sa.Float(), nullable=True))
    op.execute(
        "UPDATE call_attempts SET heard_seconds = heard_ms / 1000.0, message_seconds = message_ms / 1000.0"
    )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_column("segments")
        batch_op.drop_column("ended_by")
        batch_op.drop_column("repeats")
        batch_op.drop_column("completed")
        batch_op.drop_column("message_ms")
        batch_op.drop_column("heard_ms")
