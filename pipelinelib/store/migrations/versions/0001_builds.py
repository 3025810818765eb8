"""builds and the services each build produced or deployed

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "builds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("environment", sa.String(63), nullable=True),
        sa.Column("source_job", sa.String(255), nullable=True),
        sa.Column("source_number", sa.Integer, nullable=True),
        # The choice subject (first line of the display name, control characters removed, at
        # most 120 characters), computed once at publish so choices are a plain index scan.
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job", "number", name="uq_builds_job_number"),
    )
    # "Newest N successful builds of a job" is a range scan of this index, newest first.
    op.create_index(
        "ix_builds_job_result_number", "builds", ["job", "result", sa.text("number DESC")]
    )
    # The environments ledger: newest deployment per environment, and its history.
    op.create_index("ix_builds_environment_result_id", "builds", ["environment", "result", "id"])
    op.create_table(
        "build_services",
        sa.Column(
            "build_id",
            sa.Integer,
            sa.ForeignKey("builds.id", ondelete="CASCADE", name="fk_build_services_build"),
            primary_key=True,
        ),
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("service_build", sa.Integer, nullable=False),
        sa.Column("image", sa.String(512), nullable=True),
        sa.Column("digest", sa.String(300), nullable=True),
        sa.Column("commit", sa.String(64), nullable=True),
    )
    op.create_index(
        "ix_build_services_service_build", "build_services", ["service", "service_build"]
    )


def downgrade() -> None:
    op.drop_table("build_services")
    op.drop_table("builds")
