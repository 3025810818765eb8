"""insight facts kept as deployments are recorded (issue 17)

* ``deployment_facts``: one row per deployment: environment, time, UTC day, kind, the outcome
  the metrics judge (SUCCESS, FAILURE, ROLLED_BACK) and ``flips``: whether that outcome turns its
  environment from running well to failing or back (time to restore reads only those rows). A
  later rollback changes the outcome of the deployment it replaced, and both rows' ``flips``, in
  the transaction that records the rollback.
* ``service_changes``: one row per (deployment, service) that changed the service's build in its
  environment or was the first deployment of that build there that did not fail, with the
  build's commit time: what lead time and the per-service metrics read.

Both are filled here for the deployments already recorded, by replaying them in the order they
were recorded with :mod:`pipelinelib.store.facts` (the rules the live path applies one
deployment at a time).

Revision ID: 0005_insight
Revises: 0004_ledger_indexes
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_insight"
down_revision = "0004_ledger_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_facts",
        sa.Column("build_id", sa.Integer, sa.ForeignKey("builds.id"), primary_key=True),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("flips", sa.Boolean, nullable=False),
    )
    # covers the window's GROUP BY in its own order (no row lookups, no sort)
    op.create_index(
        "ix_deployment_facts_day",
        "deployment_facts",
        ["day", "environment", "kind", "outcome", "at"],
    )
    op.create_index(
        "ix_deployment_facts_flips", "deployment_facts", ["flips", "environment", "at", "build_id"]
    )
    op.create_index(
        "ix_deployment_facts_environment", "deployment_facts", ["environment", "at", "build_id"]
    )
    op.create_index(
        "ix_deployment_facts_running", "deployment_facts", ["environment", "outcome", "at"]
    )
    op.create_table(
        "service_changes",
        sa.Column("build_id", sa.Integer, sa.ForeignKey("builds.id"), primary_key=True),
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_build", sa.Integer, nullable=False),
        sa.Column("changed", sa.Boolean, nullable=False),
        sa.Column("first_running", sa.Boolean, nullable=False),
        sa.Column("commit_time", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_service_changes_at", "service_changes", ["at", "build_id"])
    op.create_index(
        "ix_service_changes_current",
        "service_changes",
        ["environment", "service", "changed", "at"],
    )
    op.create_index(
        "ix_service_changes_build", "service_changes", ["environment", "service", "service_build"]
    )
    from pipelinelib.store import facts

    facts.replay(op.get_bind())


def downgrade() -> None:
    op.drop_table("service_changes")
    op.drop_table("deployment_facts")
