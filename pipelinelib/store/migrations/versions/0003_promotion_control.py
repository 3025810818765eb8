"""promotion control: environment locks, approval requests and approvals (issue 14)

Revision ID: 0003_promotion_control
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_promotion_control"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per environment: the primary key makes "one holder" a database fact. Taking a
    # lock is one INSERT ... ON CONFLICT DO UPDATE ... WHERE expired-or-same-holder.
    op.create_table(
        "locks",
        sa.Column("environment", sa.String(63), primary_key=True),
        sa.Column("holder", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("job", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("requested_via", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "environment", "job", "number", name="uq_approval_requests_environment_job_number"
        ),
    )
    op.create_table(
        "approvals",
        sa.Column(
            "request_id",
            sa.Integer,
            sa.ForeignKey("approval_requests.id", ondelete="CASCADE", name="fk_approvals_request"),
            primary_key=True,
        ),
        sa.Column("approver", sa.String(255), primary_key=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("approvals")
    op.drop_table("approval_requests")
    op.drop_table("locks")
