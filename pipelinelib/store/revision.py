"""The schema revision this code expects, importable without SQLAlchemy or Alembic.

The newest Alembic revision in ``migrations/versions``: an up-to-date store is recognised by one
plain query (``SELECT version_num FROM alembic_version``) and opened without the migration
machinery. tests/integration/store/test_sql.py checks it against the scripts, so a new migration
without this line fails the suite.
"""

from __future__ import annotations

SCHEMA_HEAD = "0005_insight"
