"""Set-wise writes for the hot paths (batch adjudication, payment cycles).

On PostgreSQL: rows go in with COPY, and many rows are updated with one
`UPDATE … FROM unnest(…)` statement. Elsewhere (SQLite, the embedded default) the same calls fall
back to executemany. Callers stay inside a transaction; these functions do not commit.
"""
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _columns(model, fields: Sequence[str]) -> list[str]:
    # get_field resolves attnames too ("claim_id").
    return [model._meta.get_field(f).column for f in fields]


def _db_base_type(field, conn=None) -> str:
    """The column's type without its size or modifiers ("varchar(10)" -> "varchar"), for array casts."""
    return re.sub(r"\(.*\)", "", field.db_type(conn or connection)).split()[0]


def _base_type(model, field_name: str) -> str:
    field = model._meta.get_field(field_name)
    if field.is_relation:
        field = field.target_field
    return _db_base_type(field)


# Text encodings built here rather than by the driver's per-value Python dumpers: str() of an int,
# Decimal, date or bool is C code (PostgreSQL reads "True" as a boolean), and one string per column
# or per block of rows is one parameter to send. Each column gets its encoder once, from its field.
def _copy_str(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _array_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(values: Iterable) -> str:
    """A PostgreSQL array literal ("{1,2,3}") of ints, dates, decimals or text; None is NULL."""
    return "{" + ",".join(
        "NULL" if v is None else _array_str(v) if isinstance(v, str) else str(v) for v in values
    ) + "}"


def _nullable(encode, null: str):
    def encode_or_null(value) -> str:
        return null if value is None else encode(value)
    return encode_or_null


_TEXT_TYPES = ("CharField", "TextField", "SlugField", "EmailField")


def _encoders(model, fields: Sequence[str], *, array: bool) -> list:
    out = []
    for name in fields:
        field = model._meta.get_field(name)
        text = field.get_internal_type() in _TEXT_TYPES
        encode = (_array_str if array else _copy_str) if text else str
        if field.null or (field.is_relation and field.null):
            encode = _nullable(encode, "NULL" if array else "\\N")
        out.append(encode)
    return out


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """A set-wise write, encoded ahead of sending: `write_prepared` only ships it.

    Encoding is CPU work and sending is I/O; a pipelined caller (batch adjudication) encodes in the
    thread that computed the rows, so the rows' Python objects die there and then, and its writer
    thread holds nothing but text.
    """

    how: str  # "copy": params is the COPY text; "execute": one statement; "executemany": rows
    sql: str
    params: object
    rows: int


def insert_prepare(model, fields: Sequence[str], rows: Iterable[Sequence]) -> PreparedWrite:
    """An insert of rows (tuples in `fields` order), without returning ids."""
    table = model._meta.db_table
    col_sql = ", ".join(f'"{c}"' for c in _columns(model, fields))
    if _is_postgres():
        encoders = _encoders(model, fields, array=False)
        lines = ["\t".join([encode(v) for encode, v in zip(encoders, row)]) for row in rows]
        text = "\n".join(lines) + "\n" if lines else ""
        return PreparedWrite("copy", f'COPY "{table}" ({col_sql}) FROM STDIN', text, len(lines))
    rows = [tuple(r) for r in rows]
    placeholders = ", ".join(["%s"] * len(fields))
    return PreparedWrite("executemany", f'INSERT INTO "{table}" ({col_sql}) VALUES ({placeholders})', rows, len(rows))


def update_prepare(model, key: str, fields: Sequence[str], rows: Sequence[Sequence]) -> PreparedWrite:
    """Set `fields` on the rows whose `key` column equals each row's first value.

    `rows` are tuples: (key, value for fields[0], value for fields[1], ...).
    """
    table = model._meta.db_table
    key_col = _columns(model, [key])[0]
    cols = _columns(model, fields)
    if not rows:
        return PreparedWrite("executemany", "", [], 0)
    if _is_postgres():
        types = [_base_type(model, key)] + [_base_type(model, f) for f in fields]
        aliases = ["k"] + [f"v{i}" for i in range(len(fields))]
        unnest = ", ".join(f"%s::{t}[]" for t in types)
        sets = ", ".join(f'"{c}" = u.v{i}' for i, c in enumerate(cols))
        sql = (f'UPDATE "{table}" AS t SET {sets} FROM unnest({unnest}) AS u({", ".join(aliases)}) '
               f'WHERE t."{key_col}" = u.k')
        encoders = _encoders(model, [key, *fields], array=True)
        params = ["{" + ",".join(map(encode, col)) + "}" for encode, col in zip(encoders, zip(*rows))]
        return PreparedWrite("execute", sql, params, len(rows))
    sets = ", ".join(f'"{c}" = %s' for c in cols)
    return PreparedWrite("executemany", f'UPDATE "{table}" SET {sets} WHERE "{key_col}" = %s',
                         [tuple(r[1:]) + (r[0],) for r in rows], len(rows))


def upsert_prepare(model, *, conflict: Sequence[str], fields: Sequence[str], update: Sequence[str],
                   rows: Sequence[Sequence]) -> PreparedWrite:
    """Insert rows, or on a clash of `conflict` (a unique constraint's columns) set `update` from them."""
    if not rows:
        return PreparedWrite("executemany", "", [], 0)
    table = model._meta.db_table
    col_sql = ", ".join(f'"{c}"' for c in _columns(model, fields))
    conflict_sql = ", ".join(f'"{c}"' for c in _columns(model, conflict))
    set_sql = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in _columns(model, update))
    on_conflict = f"ON CONFLICT ({conflict_sql}) DO UPDATE SET {set_sql}"
    if _is_postgres():
        types = [_base_type(model, f) for f in fields]
        encoders = _encoders(model, fields, array=True)
        unnest = ", ".join(f"%s::{t}[]" for t in types)
        return PreparedWrite(
            "execute", f'INSERT INTO "{table}" ({col_sql}) SELECT * FROM unnest({unnest}) {on_conflict}',
            ["{" + ",".join(map(encode, col)) + "}" for encode, col in zip(encoders, zip(*rows))], len(rows),
        )
    placeholders = ", ".join(["%s"] * len(fields))
    return PreparedWrite("executemany", f'INSERT INTO "{table}" ({col_sql}) VALUES ({placeholders}) {on_conflict}',
                         [tuple(r) for r in rows], len(rows))


def write_prepared(write: PreparedWrite) -> int:
    """Send a prepared write on this thread's connection, in the caller's transaction.

    Returns the rows written (for an update on PostgreSQL: the rows the statement matched)."""
    if not write.rows:
        return 0
    with connection.cursor() as cursor:
        if write.how == "copy":
            with cursor.cursor.copy(write.sql) as copy:
                copy.write(write.params)
            return write.rows
        if write.how == "execute":
            cursor.execute(write.sql, write.params)
            return cursor.rowcount
        cursor.executemany(write.sql, write.params)
        return write.rows


def bulk_insert(model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert rows (tuples in `fields` order) without returning ids."""
    return write_prepared(insert_prepare(model, fields, rows))


def bulk_update(model, key: str, fields: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Set `fields` on the rows whose `key` column equals each row's first value (see `update_prepare`)."""
    return write_prepared(update_prepare(model, key, fields, rows))


class AnyLookup(Lookup):
    """`field__any=[...]`: one array parameter (`= ANY(%s)`) on PostgreSQL instead of thousands of
    `IN (%s, …)` placeholders, which cost more to build and parse than the query costs to run."""

    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        # A collection of values; a string is refused, not read as its characters ("abc" is not
        # ["a", "b", "c"]), and so is a single value.
        if isinstance(self.rhs, (str, bytes, bytearray)) or not isinstance(self.rhs, Iterable):
            raise ValueError(f"__any takes a list of values, not a {type(self.rhs).__name__}")
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs
        if connection.vendor == "postgresql":
            # One text array literal, cast: the driver's per-element array dumping costs more here.
            return f"{lhs} = ANY(%s::{_db_base_type(self.lhs.output_field, connection)}[])", [*lhs_params, array_literal(values)]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyLookup)
ForeignObject.register_lookup(AnyLookup)


def bulk_upsert(model, *, conflict: Sequence[str], fields: Sequence[str], update: Sequence[str],
                rows: Sequence[Sequence]) -> int:
    """Insert rows, or on a clash of `conflict` set `update` from them (see `upsert_prepare`)."""
    write = upsert_prepare(model, conflict=conflict, fields=fields, update=update, rows=rows)
    write_prepared(write)
    return write.rows


def ids_reserve(model, count: int) -> list[int]:
    """`count` fresh ids from the model's id sequence (PostgreSQL), in one query."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [model._meta.db_table, model._meta.pk.column, count])
        return [row[0] for row in cursor.fetchall()]


def objects_insert(model, objs: Sequence) -> None:
    """Insert unsaved model instances, each given its id: on PostgreSQL the ids are reserved from the
    sequence in one query and the rows go in with COPY; elsewhere `bulk_create` (which returns ids).
    No signals, as `bulk_create`; every concrete field is written as the instance holds it."""
    if not objs:
        return
    if not _is_postgres():
        model.objects.bulk_create(objs, batch_size=2000)
        return
    for obj, pk in zip(objs, ids_reserve(model, len(objs)), strict=True):
        obj.pk = pk
    names = [f.attname for f in model._meta.concrete_fields]
    write_prepared(insert_prepare(model, names, ([getattr(obj, n) for n in names] for obj in objs)))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
