"""campaigns: definitions, the per-debtor work queue, campaign attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("selected_at", UtcDateTime(), nullable=True),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_campaigns_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("organisation_id", "name", name="uq_campaigns_org_name"),
    )
    op.create_table(
        "campaign_debtors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("streak_outcome", sa.String(length=30), nullable=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=30), nullable=True),
        sa.Column("last_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_debtors_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_campaign_debtors_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_campaign_debtors_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_debtors")),
        sa.UniqueConstraint("campaign_id", "debtor_id", name="uq_campaign_debtors_campaign_debtor"),
    )
    with op.batch_alter_table("campaign_debtors", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_debtors_debtor", ["debtor_id"], unique=False)
        batch_op.create_index(
            "ix_campaign_debtors_due", ["campaign_id", "state", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("campaign_debtor_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("heard_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("message_seconds", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("counts_as_contact", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_call_attempts_campaign", ["campaign_id", "started_at"], unique=False)
        batch_op.create_index("ix_call_attempts_state", ["state"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_call_attempts_campaign_id_campaigns"),
            "campaigns",
            ["campaign_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_call_attempts_campaign_debtor_id_campaign_debtors"),
            "campaign_debtors",
            ["campaign_debtor_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_call_attempts_campaign_debtor_id_campaign_debtors"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_call_attempts_campaign_id_campaigns"), type_="foreignkey")
        batch_op.drop_index("ix_call_attempts_state")
        batch_op.drop_index("ix_call_attempts_campaign")
        batch_op.drop_column("counts_as_contact")
        batch_op.drop_column("message_seconds")
        batch_op.drop_column("heard_seconds")
        batch_op.drop_column("worker")
        batch_op.drop_column("campaign_debtor_id")
        batch_op.drop_column("campaign_id")

    with op.batch_alter_table("campaign_debtors", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_debtors_due")
        batch_op.drop_index("ix_campaign_debtors_debtor")

    op.drop_table("campaign_debtors")
    op.drop_table("campaigns")
