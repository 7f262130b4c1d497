"""Sandbox databases on both backends: PostgreSQL clones a template database (`CREATE DATABASE … TEMPLATE`),
SQLite copies a file with the sqlite3 backup API (`VACUUM INTO` fails on the CHECK constraints that call
Django's SQL functions).

Names derive from the configured default database's name, so two installations (or a test run) on one
server never share a sandbox.
"""
import os
import re
import sqlite3
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from .connections import alias_for, alias_forget

PG_NAME_MAX = 63


def _control_settings() -> dict:
    return connections.settings[DEFAULT_DB_ALIAS]


def backend_is_sqlite() -> bool:
    return _control_settings()["ENGINE"].endswith("sqlite3")


def sqlite_folder() -> Path:
    """Beside the control database's file; for an in-memory control database (the test suite's), in VAR_DIR
    under this process's id."""
    base = str(_control_settings()["NAME"])
    if base == ":memory:" or "mode=memory" in base:
        return Path(settings.VAR_DIR) / f"training-{os.getpid()}"
    path = Path(base)
    return path.parent / f"{path.stem}-training"


def database_name(*, kind: str, key: str) -> str:
    """The database (PostgreSQL) or file path (SQLite) of a template (`kind` "tpl", "base") or a
    session's generation (`kind` "s")."""
    base = str(_control_settings()["NAME"])
    if backend_is_sqlite():
        folder = sqlite_folder()
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / f"{kind}_{key}.sqlite3")
    stem = re.sub(r"[^a-z0-9_]", "_", base.lower())
    name = f"{stem}_{kind}_{key}"
    if len(name) > PG_NAME_MAX:  # PostgreSQL cuts identifiers at 63 bytes: keep the distinct end
        name = f"{stem[: PG_NAME_MAX - len(kind) - len(key) - 2]}_{kind}_{key}"
    return name


def _admin_connection():
    """A connection of its own to the maintenance database, outside any transaction (CREATE/DROP DATABASE
    may not run in one)."""
    import psycopg

    s = _control_settings()
    conninfo = {"dbname": "postgres", "host": s.get("HOST") or None, "port": s.get("PORT") or None,
                "user": s.get("USER") or None, "password": s.get("PASSWORD") or None}
    return psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True)


def _pg_admin(sql: str, params=None) -> None:
    with _admin_connection() as conn:
        conn.execute(sql, params)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def database_exists(*, name: str) -> bool:
    if backend_is_sqlite():
        return Path(name).exists()
    with _admin_connection() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def database_create_empty(*, name: str) -> None:
    if backend_is_sqlite():
        Path(name).unlink(missing_ok=True)
        sqlite3.connect(name).close()
        return
    _pg_admin(f"CREATE DATABASE {_quote(name)}")


def database_clone(*, source: str, target: str) -> None:
    """`target` becomes a copy of `source`; nobody may be connected to `source` (PostgreSQL refuses)."""
    alias_forget(alias=alias_for(source))  # this thread's connection to it, if any, must not block the copy
    if backend_is_sqlite():
        Path(target).unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    _pg_admin(f"CREATE DATABASE {_quote(target)} TEMPLATE {_quote(source)}")


def database_drop(*, name: str) -> None:
    alias_forget(alias=alias_for(name))
    if backend_is_sqlite():
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        return
    _pg_admin(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")


def databases_drop_all() -> list[str]:
    """Every sandbox and template database of this installation (the test suite's clean-up)."""
    if backend_is_sqlite():
        folder = sqlite_folder()
        names = sorted(str(p) for p in folder.glob("*.sqlite3")) if folder.exists() else []
        for name in names:
            database_drop(name=name)
        return names
    stem = re.sub(r"[^a-z0-9_]", "_", str(_control_settings()["NAME"]).lower())
    with _admin_connection() as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                            [stem.replace("_", r"\_") + r"\_%"]).fetchall()]
    for name in names:
        database_drop(name=name)
    return names
