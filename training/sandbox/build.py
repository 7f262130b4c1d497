"""Templates: a database migrated once per code version (the base), and per scenario a copy of the base with
the scenario played into it, its role logins and its `SandboxWorld` row. Sessions are clones of a template.

Built in-process on a runtime alias (no process may stay connected to a template: PostgreSQL refuses to
clone a database in use, so every connection to it is closed before anyone clones it).
"""
import hashlib
import time
import uuid
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import transaction
from django.db.migrations.loader import MigrationLoader

from parties.models import PartyLink, Tpa
from parties.services import tpa_create, user_link_party

from ..demo import DEMO_PASSWORD, staff_permissions
from ..models import SandboxWorld
from ..scenarios import Scenario, scenario_load, scenario_play
from .connections import alias_forget, alias_register, sandbox_active
from .databases import (
    backend_is_sqlite,
    database_clone,
    database_create_empty,
    database_drop,
    database_exists,
    database_name,
)

# What playing a scenario depends on: the migrations (the schema) and the code of the floors it runs.
CODE_APPS = ("core", "parties", "plans", "claims", "funding", "training/scenarios")
R = PartyLink.Role


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the migration graph's leaves and of the domain code: a change to either builds new templates."""
    digest = hashlib.sha256()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app, name in sorted(loader.graph.leaf_nodes()):
        digest.update(f"{app}.{name};".encode())
    base = Path(settings.BASE_DIR)
    for app in CODE_APPS:
        for path in sorted((base / app).rglob("*.py")):
            if "migrations" not in path.parts:
                digest.update(path.relative_to(base).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def migrations_version() -> str:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return hashlib.sha256(";".join(f"{a}.{n}" for a, n in sorted(loader.graph.leaf_nodes())).encode()).hexdigest()


def template_key(*, scenario_text: str) -> str:
    return hashlib.sha256(f"{code_version()}\n{scenario_text}".encode()).hexdigest()


def _base_database(progress) -> str:
    """The migrated, empty database of this code's migrations, made once (a temporary name, then renamed or
    moved into place, so a half-migrated base is never cloned)."""
    name = database_name(kind="base", key=migrations_version()[:16])
    if database_exists(name=name):
        return name
    progress("migrating a fresh database")
    scratch = database_name(kind="tmp", key=uuid.uuid4().hex[:12])
    database_create_empty(name=scratch)
    alias = alias_register(database_name=scratch)
    try:
        with sandbox_active(alias):
            call_command("migrate", database=alias, interactive=False, verbosity=0)
    except BaseException:
        database_drop(name=scratch)
        raise
    alias_forget(alias=alias)
    if database_exists(name=name):  # another build made it meanwhile
        database_drop(name=scratch)
        return name
    _database_rename(source=scratch, target=name)
    return name


def _database_rename(*, source: str, target: str) -> None:
    if backend_is_sqlite():
        Path(source).replace(target)
        return
    from .databases import _pg_admin, _quote

    _pg_admin(f"ALTER DATABASE {_quote(source)} RENAME TO {_quote(target)}")


def template_database_build(*, key: str, scenario_text: str, database: str, progress=lambda text: None) -> float:
    """Make `database`: the base cloned, the scenario played into it, its logins made. Returns the seconds taken."""
    started = time.monotonic()
    sc = scenario_load(text=scenario_text)
    if _template_complete(database=database, scenario_text=scenario_text):
        progress("found built")  # by an earlier registry (its name is the hash of the file and the code)
        return time.monotonic() - started
    base = _base_database(progress)
    progress("copying the migrated database")
    if database_exists(name=database):
        database_drop(name=database)
    database_clone(source=base, target=database)
    alias = alias_register(database_name=database)
    try:
        progress("playing the scenario")
        with sandbox_active(alias), transaction.atomic():
            world = scenario_play(sc=sc)
            progress("making the role logins")
            logins = _logins_make(sc=sc, world=world)
            SandboxWorld.objects.create(
                pk=1, scenario_name=sc.name, scenario_text=scenario_text, logins=logins,
                keys={kind: {k: row.pk for k, row in getattr(world, kind).items()}
                      for kind in ("carriers", "employers", "plans", "members", "providers", "claims")},
            )
    except BaseException:
        database_drop(name=database)
        raise
    alias_forget(alias=alias)
    return time.monotonic() - started


def _template_complete(*, database: str, scenario_text: str) -> bool:
    """The database exists and holds the scenario's world row (written in the transaction that played it)."""
    if not database_exists(name=database):
        return False
    alias = alias_register(database_name=database)
    try:
        with sandbox_active(alias):
            return SandboxWorld.objects.filter(pk=1, scenario_text=scenario_text).exists()
    except Exception:  # noqa: BLE001 - half made (no tables yet): build it again
        return False
    finally:
        alias_forget(alias=alias)


def _logins_make(*, sc: Scenario, world) -> list[dict]:
    """A login per role and party of the scenario, password DEMO_PASSWORD (hashed once: the same hash for all)."""
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)
    tpa = Tpa.objects.first() or tpa_create(name="Training TPA")
    wanted = [("examiner", R.CLAIMS_EXAMINER, tpa, "Claims examiner"), ("supervisor", R.SUPERVISOR, tpa, "Supervisor")]
    for kind, role, word in (("providers", R.PROVIDER_STAFF, "provider"), ("employers", R.EMPLOYER_ADMIN, "employer"),
                             ("carriers", R.CARRIER_ANALYST, "carrier"), ("members", R.MEMBER, "member")):
        for key, party in getattr(world, kind).items():
            wanted.append((f"{word}:{key}", role, party, f"{word.capitalize()} — {party.name}"))
    logins = []
    for username, role, party, label in wanted:
        staff = role in (R.CLAIMS_EXAMINER, R.SUPERVISOR)
        user = User.objects.create(username=username, password=password, is_staff=staff,
                                   first_name=label.split(" — ")[-1][:150])
        user_link_party(user=user, role=role, party=party)
        if staff:
            user.user_permissions.add(*staff_permissions(supervisor=role == R.SUPERVISOR))
        logins.append({"role": username, "username": username, "label": label})
    return logins
