"""``store export`` / ``store import``: the whole SQL store as JSON Lines, streamed.

The format is table-driven: every table of :data:`pipelinelib.store.sql.metadata` is written in
dependency order (parents before children), so a table a later revision adds travels without a
change here. Lines (UTF-8, one JSON object each, ASCII-escaped)::

    {"format": "pipelinelib-store", "version": 1, "revision": "0002", "tables": ["builds", ...]}
    {"table": "builds", "row": {"id": 1, "job": "service1-build", ...}}
    ...
    {"end": true, "rows": 1234}

* Primary keys (surrogate ids included) are kept: the ledger orders deployments by id, so the
  imported store answers every query (status, history, choices) exactly as the exported one.
* Values: JSON scalars; ``DateTime`` as ISO 8601 with its UTC offset (SQLite's naive times are
  UTC by construction); ``Date`` as ISO; ``LargeBinary`` as base64.
* The ``end`` line is the proof that nothing was cut: an import without it (or whose row count
  differs) rolls back and changes nothing.

Import runs in one transaction. A row whose primary key exists with the same values is skipped
(so re-importing the same export is a no-op); any other clash (same key with other values, or a
unique key such as job #number taken by another row) is a :class:`ConflictError` and nothing is
imported. Import into an empty store is the SQLite -> PostgreSQL move (docs/operations.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import IO, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pipelinelib.errors import ConflictError, InvalidInputError
from pipelinelib.store import ManifestStore
from pipelinelib.store.sql import MIGRATIONS, SqlStore, _translate, metadata

FORMAT = "pipelinelib-store"
VERSION = 1
BATCH = 500


@attrs.frozen
class TransferResult:
    """Rows per table: written by an export, or inserted/skipped (identical) by an import."""

    revision: str | None
    rows: dict[str, int]
    skipped: dict[str, int] = attrs.field(factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _tables() -> list[sa.Table]:
    return list(metadata.sorted_tables)


def _encode(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, sa.DateTime) and isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(column.type, sa.Date) and isinstance(value, date):
        return value.isoformat()
    if isinstance(column.type, sa.LargeBinary):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, sa.DateTime):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(column.type, sa.Date):
        return date.fromisoformat(value)
    if isinstance(column.type, sa.LargeBinary):
        return base64.b64decode(value)
    return value


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n"


def iter_export(store: SqlStore) -> Iterator[str]:
    """The export's lines, read in one snapshot (one read transaction) and streamed per row."""
    tables = _tables()
    revision = store.revision()
    yield _line(
        {
            "format": FORMAT,
            "version": VERSION,
            "revision": revision,
            "tables": [t.name for t in tables],
        }
    )
    total = 0
    options: dict[str, Any] = {"pipelinelib_snapshot": True}
    if store.dialect == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"  # one snapshot across the tables
    with (
        _translate("export the store"),
        store.engine.connect().execution_options(**options) as conn,
        conn.begin(),  # SQLite: a deferred BEGIN reads one WAL snapshot and blocks no writer
    ):
        for table in tables:
            columns = list(table.columns)
            order = list(table.primary_key.columns) or columns
            result = conn.execution_options(yield_per=BATCH).execute(
                sa.select(table).order_by(*order)
            )
            for row in result:
                values = {c.name: _encode(c, row._mapping[c]) for c in columns}
                total += 1
                yield _line({"table": table.name, "row": values})
    yield _line({"end": True, "rows": total})


def _sql(store: ManifestStore) -> SqlStore:
    """The SQL store behind ``store``; InvalidInputError for a store reached over HTTP."""
    if not isinstance(store, SqlStore):
        raise InvalidInputError(
            "store export/import works on a local SQL store (--db), not through a server"
        )
    return store


def export_store(store: ManifestStore, out: IO[str]) -> TransferResult:
    """Write the export to ``out`` (a text stream); the rows written per table.

    Raises InvalidInputError when ``store`` is not a local SQL store.
    """
    store = _sql(store)
    counts: dict[str, int] = {t.name: 0 for t in _tables()}
    revision: str | None = None
    for text in iter_export(store):
        if text.startswith('{"table":'):
            counts[json.loads(text)["table"]] += 1
        elif text.startswith('{"format":'):
            revision = json.loads(text)["revision"]
        out.write(text)
    out.flush()
    return TransferResult(revision, counts)


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}


def _parse(lineno: int, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"line {lineno}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"line {lineno}: expected a JSON object")
    return data


def _read_header(lineno: int, text: str) -> dict[str, Any]:
    header = _parse(lineno, text)
    if header.get("format") != FORMAT:
        raise InvalidInputError("not a pipelinelib store export (no header line)")
    if header.get("version") != VERSION:
        raise InvalidInputError(
            f"export format version {header.get('version')!r} is not supported "
            f"(this pipelinelib reads version {VERSION})"
        )
    revision = header.get("revision")
    if revision is not None and revision not in _known_revisions():
        raise InvalidInputError(
            f"the export comes from schema revision {revision!r}, newer than this pipelinelib "
            "knows: upgrade pipelinelib before importing"
        )
    return header


def import_store(
    store: ManifestStore,
    lines: Iterable[str],
    *,
    progress: Callable[[str, int], None] | None = None,
) -> TransferResult:
    """Import an export into ``store`` in one transaction; see the module docstring for rules.

    Raises InvalidInputError (not an export, truncated, unknown table or column, newer schema)
    and ConflictError (a record differs from one already stored); nothing is written then.
    InvalidInputError too when ``store`` is not a local SQL store.
    """
    store = _sql(store)
    tables = {t.name: t for t in _tables()}
    inserted: dict[str, int] = {name: 0 for name in tables}
    skipped: dict[str, int] = {name: 0 for name in tables}
    header: dict[str, Any] | None = None
    seen = 0
    ended = False
    pending: dict[str, list[dict[str, Any]]] = {}

    def flush(conn: sa.Connection, name: str) -> None:
        rows = pending.pop(name, [])
        if not rows:
            return
        table = tables[name]
        new = _without_identical(conn, table, rows)
        skipped[name] += len(rows) - len(new)
        if new:
            try:
                with conn.begin_nested():
                    conn.execute(table.insert(), new)
            except IntegrityError as exc:
                raise ConflictError(
                    f"the store already holds a record that conflicts with table {name!r} of "
                    f"the export ({type(exc.orig).__name__}); nothing was imported",
                    table=name,
                ) from exc
            inserted[name] += len(new)
        if progress is not None:
            progress(name, inserted[name] + skipped[name])

    with _translate("import the store"), store._write() as conn:
        current: str | None = None
        for lineno, raw in enumerate(lines, 1):
            text = raw.strip()
            if not text:
                continue
            if header is None:
                header = _read_header(lineno, text)
                continue
            if ended:
                raise InvalidInputError(f"line {lineno}: data after the end line")
            data = _parse(lineno, text)
            if data.get("end") is True:
                if data.get("rows") != seen:
                    raise InvalidInputError(
                        f"the export is incomplete: its end line counts {data.get('rows')} rows, "
                        f"the file holds {seen}"
                    )
                ended = True
                continue
            name, row = data.get("table"), data.get("row")
            if not isinstance(name, str) or not isinstance(row, dict):
                raise InvalidInputError(f"line {lineno}: expected {{'table': ..., 'row': {{...}}}}")
            table = tables.get(name)
            if table is None:
                raise InvalidInputError(
                    f"line {lineno}: unknown table {name!r} (known: {', '.join(tables)})"
                )
            unknown = set(row) - set(table.columns.keys())
            if unknown:
                raise InvalidInputError(
                    f"line {lineno}: table {name!r} has no column {', '.join(sorted(unknown))}"
                )
            if current is not None and name != current:
                flush(conn, current)
            current = name
            try:
                decoded = {key: _decode(table.columns[key], value) for key, value in row.items()}
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(
                    f"line {lineno}: bad value in table {name!r}: {exc}"
                ) from exc
            pending.setdefault(name, []).append(decoded)
            seen += 1
            if len(pending[name]) >= BATCH:
                flush(conn, name)
        if header is None:
            raise InvalidInputError("the export is empty (no header line)")
        if not ended:
            raise InvalidInputError(
                "the export is incomplete (no end line): it was cut short; nothing was imported"
            )
        for name in list(pending):
            flush(conn, name)
        if store.dialect == "postgresql":
            _reset_sequences(conn)
    return TransferResult(header.get("revision"), inserted, skipped)


def _without_identical(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rows whose primary key is not stored yet; identical stored rows are dropped, others conflict."""
    keys = list(table.primary_key.columns)
    if not keys:
        return rows
    if len(keys) == 1:
        key = keys[0]
        wanted = [r.get(key.name) for r in rows]
        stored = conn.execute(sa.select(table).where(key.in_(wanted))).mappings().all()
    else:
        condition = sa.or_(*(sa.and_(*(k == r.get(k.name) for k in keys)) for r in rows))
        stored = conn.execute(sa.select(table).where(condition)).mappings().all()
    if not stored:
        return rows
    by_key = {tuple(_encode(k, s[k.name]) for k in keys): s for s in stored}
    new = []
    for row in rows:
        existing = by_key.get(tuple(_encode(k, row.get(k.name)) for k in keys))
        if existing is None:
            new.append(row)
            continue
        differs = [
            c.name
            for c in table.columns
            if c.name in row and _encode(c, existing[c.name]) != _encode(c, row[c.name])
        ]
        if differs:
            ident = ", ".join(f"{k.name}={row.get(k.name)!r}" for k in keys)
            raise ConflictError(
                f"table {table.name!r} already holds a different record with {ident} "
                f"(differs in {', '.join(differs)}); nothing was imported",
                table=table.name,
            )
    return new


def _reset_sequences(conn: sa.Connection) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move each past the largest id."""
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and isinstance(column.type, sa.Integer)
            ):
                if len(table.primary_key.columns) != 1:
                    continue
                sequence = sa.func.pg_get_serial_sequence(table.name, column.name)
                following = sa.select(sa.func.coalesce(sa.func.max(column), 0) + 1)
                conn.execute(
                    sa.select(sa.func.setval(sequence, following.scalar_subquery(), False)).where(
                        sequence.is_not(None)
                    )
                )
