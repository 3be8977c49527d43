"""Initial schema: organisations, debtors, phones, call attempts.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "debtors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("debt", sa.Numeric(14, 2), nullable=False),
        sa.Column("months_overdue", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("organisation_id", "account", name="uq_debtors_org_account"),
    )
    op.create_table(
        "phones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("debtor_id", sa.Integer(), sa.ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("e164", sa.String(20), nullable=True),
        sa.Column("raw", sa.String(100), nullable=False),
        sa.Column("callable", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
    )
    op.create_index("ix_phones_debtor", "phones", ["debtor_id"])
    op.create_table(
        "call_attempts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("debtor_id", sa.Integer(), sa.ForeignKey("debtors.id"), nullable=False),
        sa.Column("phone_id", sa.Integer(), sa.ForeignKey("phones.id"), nullable=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("dial_string", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("originate_reason", sa.Integer(), nullable=True),
        sa.Column("dial_status", sa.String(20), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("digits", sa.String(50), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_call_attempts_debtor", "call_attempts", ["debtor_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_call_attempts_debtor", table_name="call_attempts")
    op.drop_table("call_attempts")
    op.drop_index("ix_phones_debtor", table_name="phones")
    op.drop_table("phones")
    op.drop_table("debtors")
    op.drop_table("organisations")
