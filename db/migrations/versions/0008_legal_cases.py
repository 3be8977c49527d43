"""legal cases, their stage history and documents: the lawyer's module

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("stage_on", sa.Date(), nullable=False),
        sa.Column("court", sa.String(length=300), nullable=False),
        sa.Column("case_number", sa.String(length=100), nullable=False),
        sa.Column("amount_claimed", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("penalty_claimed", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_legal_cases_debtor_id_debtors"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_legal_cases_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_cases")),
    )
    with op.batch_alter_table("legal_cases", schema=None) as batch_op:
        batch_op.create_index("ix_legal_cases_debtor", ["debtor_id"], unique=False)
        batch_op.create_index("ix_legal_cases_org_stage", ["organisation_id", "stage"], unique=False)

    op.create_table(
        "legal_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["legal_cases.id"],
            name=op.f("fk_legal_documents_case_id_legal_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_documents")),
    )
    with op.batch_alter_table("legal_documents", schema=None) as batch_op:
        batch_op.create_index("ix_legal_documents_case", ["case_id"], unique=False)

    op.create_table(
        "legal_stage_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("previous_stage", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("stage_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["legal_cases.id"],
            name=op.f("fk_legal_stage_history_case_id_legal_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_stage_history")),
    )
    with op.batch_alter_table("legal_stage_history", schema=None) as batch_op:
        batch_op.create_index("ix_legal_stage_history_case", ["case_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("legal_stage_history", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_stage_history_case")

    op.drop_table("legal_stage_history")
    with op.batch_alter_table("legal_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_documents_case")

    op.drop_table("legal_documents")
    with op.batch_alter_table("legal_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_cases_org_stage")
        batch_op.drop_index("ix_legal_cases_debtor")

    op.drop_table("legal_cases")
