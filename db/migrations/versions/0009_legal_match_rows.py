"""legal match rows: an imported court's or bailiff's registry and the lawyer's review queue

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_match_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("amount_claimed", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("case_number", sa.String(length=100), nullable=False),
        sa.Column("court", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("candidates", sa.Text(), nullable=False),
        sa.Column("discrepancies", sa.Text(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["legal_cases.id"],
            name=op.f("fk_legal_match_rows_case_id_legal_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_legal_match_rows_debtor_id_debtors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_legal_match_rows_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_match_rows")),
    )
    with op.batch_alter_table("legal_match_rows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_legal_match_rows_org_batch", ["organisation_id", "batch", "row"], unique=False
        )
        batch_op.create_index(
            "ix_legal_match_rows_org_outcome", ["organisation_id", "outcome", "decided_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("legal_match_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_match_rows_org_outcome")
        batch_op.drop_index("ix_legal_match_rows_org_batch")

    op.drop_table("legal_match_rows")
