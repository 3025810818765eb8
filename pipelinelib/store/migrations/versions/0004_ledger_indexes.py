"""ledger queries that stay flat as history grows

* ``ix_builds_environment_id``: an environment's deployments newest first is a backward range
  scan (the old (environment, result, id) index made the database sort every deployment).
* ``build_services.is_deployment`` (copied from ``builds.environment IS NOT NULL`` at publish)
  and ``ix_build_services_published``: the builds a promotion brings are a range scan of the
  build jobs' own rows, never of the thousands of deployment rows holding the same build.
* ``ix_build_services_deployed``: the deployments holding a service, newest first.
* ``builds.summary`` and ``builds.service_count``: a page of history reads a few hundred bytes
  per deployment instead of its whole manifest (``summary`` is the manifest without
  ``services``, canonical JSON). Filled here for existing rows.
* ``job_generations``: a counter per job, bumped in the same transaction as a new build or a
  display-name change; the service keys its cache of the choices body by it, so every replica
  sees a write made on any other at its next request.

Revision ID: 0004_ledger_indexes
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004_ledger_indexes"
down_revision = "0003_promotion_control"  # re-chained after issue 14 (merged in issue-17)
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("builds") as batch:
        batch.add_column(sa.Column("summary", sa.Text, nullable=True))
        batch.add_column(sa.Column("service_count", sa.Integer, nullable=True))
    with op.batch_alter_table("build_services") as batch:
        batch.add_column(
            sa.Column("is_deployment", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_index("ix_builds_environment_id", "builds", ["environment", "id"])
    op.create_table(
        "job_generations",
        sa.Column("job", sa.String(255), primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE build_services SET is_deployment = :yes WHERE build_id IN "
            "(SELECT id FROM builds WHERE environment IS NOT NULL)"
        ),
        {"yes": True},
    )
    op.create_index(
        "ix_build_services_published",
        "build_services",
        ["service", "is_deployment", "service_build"],
    )
    op.create_index(
        "ix_build_services_deployed", "build_services", ["service", "is_deployment", "build_id"]
    )
    _fill_summaries(conn)


def _fill_summaries(conn: sa.Connection) -> None:
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, manifest FROM builds WHERE id > :last AND summary IS NULL "
                "ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": _BATCH},
        ).all()
        if not rows:
            return
        updates = []
        for build_id, text in rows:
            data = json.loads(text)
            services = data.pop("services", None) or {}
            updates.append(
                {
                    "id": build_id,
                    "summary": json.dumps(
                        data, sort_keys=True, ensure_ascii=True, separators=(",", ":")
                    ),
                    "count": len(services),
                }
            )
        conn.execute(
            sa.text("UPDATE builds SET summary = :summary, service_count = :count WHERE id = :id"),
            updates,
        )
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_table("job_generations")
    op.drop_index("ix_build_services_deployed", "build_services")
    op.drop_index("ix_build_services_published", "build_services")
    op.drop_index("ix_builds_environment_id", "builds")
    with op.batch_alter_table("build_services") as batch:
        batch.drop_column("is_deployment")
    with op.batch_alter_table("builds") as batch:
        batch.drop_column("service_count")
        batch.drop_column("summary")
