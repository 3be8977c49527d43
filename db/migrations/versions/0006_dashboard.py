"""dashboard: indexes for the debtor list, the calling panel's rollups (campaign_hours, listen columns of
campaign_debtors, rebuilt from the existing attempts), and the statistics snapshots

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.campaign_figures import rebuild
from db.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_REPLACED = {
    "ix_debtors_org_status": ["organisation_id", "status"],
    "ix_debtors_org_district": ["organisation_id", "district"],
}
_DEBTOR_INDEXES = {
    "ix_debtors_org_status_debt": ["organisation_id", "status", "debt", "id"],
    "ix_debtors_org_district_debt": [
        "organisation_id",
        "district",
        "debt",
        "id",
        "street",
        "house",
        "building",
    ],
    "ix_debtors_org_ownership": ["organisation_id", "ownership"],
    "ix_debtors_org_debt": ["organisation_id", "debt", "id"],
    "ix_debtors_org_name": ["organisation_id", "full_name"],
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
}
_ATTEMPT_INDEXES = {"ix_call_attempts_campaign_state": ["campaign_id", "state"]}


def upgrade() -> None:
    for name in _REPLACED:
        op.drop_index(name, table_name="debtors")
    for name, columns in _DEBTOR_INDEXES.items():
        op.create_index(name, "debtors", columns)
    for name, columns in _ATTEMPT_INDEXES.items():
        op.create_index(name, "call_attempts", columns)
    for name in ("listens", "heard_ms", "heard_full"):
        kind = sa.BigInteger() if name == "heard_ms" else sa.Integer()
        op.add_column("campaign_debtors", sa.Column(name, kind, server_default="0", nullable=False))
    op.create_index("ix_campaign_debtors_listens", "campaign_debtors", ["campaign_id", "heard_ms", "listens"])
    op.create_table(
        "campaign_hours",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("hour", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("listened", sa.Integer(), nullable=False),
        sa.Column("heard_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_hours_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "hour", "outcome", name=op.f("pk_campaign_hours")),
    )
    rebuild(op.get_bind())  # the calls recorded before the rollups existed
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
    op.drop_table("campaign_hours")
    op.drop_index("ix_campaign_debtors_listens", table_name="campaign_debtors")
    with op.batch_alter_table("campaign_debtors") as batch:
        for name in ("listens", "heard_ms", "heard_full"):
            batch.drop_column(name)
    for name in _ATTEMPT_INDEXES:
        op.drop_index(name, table_name="call_attempts")
    for name in _DEBTOR_INDEXES:
        op.drop_index(name, table_name="debtors")
    for name, columns in _REPLACED.items():
        op.create_index(name, "debtors", columns)
