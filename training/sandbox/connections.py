"""`default` follows the training session.

A context variable names the active sandbox's alias. The project's connection handler is switched (in
`TrainingConfig.ready`) to a subclass that resolves `default` to that alias, and `control` to the real
default database (the registry of sessions, Django's sessions, the trainers' logins). With no sandbox
active, `control` is the very same connection object as `default`, so one transaction covers both.

The domain code needs no `using=`: every ORM query, `atomic()`, raw cursor and on-commit hook asks for
`default` and gets the session's database.
"""
import contextlib
import contextvars
import copy

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import ConnectionHandler

CONTROL = "control"
SANDBOX_PREFIX = "training_"

_active: contextvars.ContextVar[str | None] = contextvars.ContextVar("training_sandbox_alias", default=None)
# `<session id>:<generation>` of the active sandbox: what a Celery message published from it carries.
_header: contextvars.ContextVar[str | None] = contextvars.ContextVar("training_sandbox_header", default=None)


class SandboxConnectionHandler(ConnectionHandler):
    def __getitem__(self, alias):
        if alias == DEFAULT_DB_ALIAS:
            alias = _active.get() or DEFAULT_DB_ALIAS
        elif alias == CONTROL:
            alias = DEFAULT_DB_ALIAS
        return super().__getitem__(alias)

    def __iter__(self):
        """The configured databases only: a sandbox's connection is opened and closed by the block that
        activates it (`sandbox_active`), never by a sweep over every alias (and the test runner's guard,
        which walks the aliases, leaves sandboxes be)."""
        return (alias for alias in self.settings if not alias.startswith(SANDBOX_PREFIX))


def handler_install() -> None:
    """Switch the project's one connection handler to the sandbox-aware class (same object, same state:
    every module that imported `connections` keeps working)."""
    if not isinstance(connections, SandboxConnectionHandler):
        connections.__class__ = SandboxConnectionHandler


def active_alias() -> str | None:
    return _active.get()


def alias_for(database_name: str) -> str:
    return SANDBOX_PREFIX + database_name.rsplit("/", 1)[-1].replace(".", "_").replace("-", "_")


def alias_register(*, database_name: str) -> str:
    """A connection alias for a sandbox database: the configured default's settings (OPTIONS, TIME_ZONE and
    the rest filled at start-up) with another NAME; never kept open between requests or tasks."""
    alias = alias_for(database_name)
    if alias not in connections.settings:
        entry = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
        entry["NAME"] = database_name
        entry["CONN_MAX_AGE"] = 0
        entry["TEST"] = {**entry.get("TEST", {}), "NAME": database_name}
        connections.settings[alias] = entry
    return alias


def alias_forget(*, alias: str) -> None:
    """Close this thread's connection to the alias and drop the alias (its database is going away)."""
    alias_close(alias=alias)
    connections.settings.pop(alias, None)


def alias_close(*, alias: str) -> None:
    if hasattr(connections._connections, alias):
        getattr(connections._connections, alias).close()


def active_header() -> str | None:
    return _header.get()


@contextlib.contextmanager
def sandbox_active(alias: str | None, *, header: str | None = None, close: bool = True):
    """Within the block `default` is the sandbox `alias` (None: the control database). The sandbox's
    connection of this thread is closed when the block ends (connections grow with threads: never keep one),
    unless `close` is False (a streamed response, between two of its chunks)."""
    token, header_token = _active.set(alias), _header.set(header)
    try:
        yield
    finally:
        _active.reset(token)
        _header.reset(header_token)
        if alias is not None and close:
            alias_close(alias=alias)


@contextlib.contextmanager
def control_active():
    """Within the block `default` is the control database again (the registry's state changes and their log)."""
    token, header_token = _active.set(None), _header.set(None)
    try:
        yield
    finally:
        _active.reset(token)
        _header.reset(header_token)


def _concrete(alias: str | None) -> str | None:
    if alias in (None, DEFAULT_DB_ALIAS):
        return _active.get() or DEFAULT_DB_ALIAS
    if alias == CONTROL:
        return DEFAULT_DB_ALIAS
    return alias


class TrainingRouter:
    """The registry and Django's sessions always live in the control database; content types are cached by
    the concrete database (the manager's cache is keyed by alias, and `default` changes meaning)."""

    CONTROL_MODELS = {"sessions.session", "training.trainingsession", "training.scenariotemplate"}

    def db_for_read(self, model, **hints):
        label = model._meta.label_lower
        if label in self.CONTROL_MODELS:
            return CONTROL
        if label == "contenttypes.contenttype":
            return _active.get() or DEFAULT_DB_ALIAS
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        """Rows of the same concrete database may be related, whatever alias loaded them."""
        if _concrete(obj1._state.db) == _concrete(obj2._state.db):
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return None
