"""display names set after publish (Jenkins' build display name); the manifest stays immutable

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "display_names",
        sa.Column(
            "build_id",
            sa.Integer,
            sa.ForeignKey("builds.id", ondelete="CASCADE", name="fk_display_names_build"),
            primary_key=True,
        ),
        # JSON string (ensure_ascii): any text, NUL included, in any database.
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("display_names")
