"""dashboard: indexes for the debtor list and the calling panel, and the statistics snapshots

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_DEBTOR_INDEXES = {
    "ix_debtors_org_debt": ["organisation_id", "debt"],
    "ix_debtors_org_months": ["organisation_id", "months_overdue"],
    "ix_debtors_org_name": ["organisation_id", "full_name"],
    "ix_debtors_org_address": ["organisation_id", "address"],
    "ix_debtors_org_filter": [
        "organisation_id",
        "months_overdue",
        "debt",
        "status",
        "district",
        "ownership",
        "debt_as_of",
        "area_m2",
    ],
    "ix_debtors_org_building": ["organisation_id", "district", "street", "house", "building"],
}
_ATTEMPT_INDEXES = {
    "ix_call_attempts_campaign_figures": ["campaign_id", "state", "outcome", "answered_at"],
    "ix_call_attempts_campaign_debtor": ["campaign_id", "debtor_id", "heard_ms", "outcome"],
}


def upgrade() -> None:
    for name, columns in _DEBTOR_INDEXES.items():
        op.create_index(name, "debtors", columns)
    for name, columns in _ATTEMPT_INDEXES.items():
        op.create_index(name, "call_attempts", columns)
    op.create_table(
        "statistics_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_statistics_snapshots_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_snapshots")),
    )
    op.create_index(
        "ix_statistics_snapshots_org_at", "statistics_snapshots", ["organisation_id", "computed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_statistics_snapshots_org_at", table_name="statistics_snapshots")
    op.drop_table("statistics_snapshots")
    for name in _ATTEMPT_INDEXES:
        op.drop_index(name, table_name="call_attempts")
    for name in _DEBTOR_INDEXES:
        op.drop_index(name, table_name="debtors")
