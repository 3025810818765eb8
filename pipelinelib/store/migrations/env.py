"""Alembic environment: always driven programmatically by :mod:`pipelinelib.store.sql`.

The store hands over an open connection (``config.attributes["connection"]``) inside a
transaction that already holds the migration lock, so two replicas starting together never
migrate the same database twice.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
