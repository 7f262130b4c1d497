"""The deployment files agree with the code: compose services, commands, settings from the environment.

No Docker engine runs here, so docker-compose.yml is checked as data, and every module a command names
is resolved the way gunicorn and celery resolve it.
"""

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.utils.imports import symbol_by_name

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
ENV_KEYS = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SECURE_COOKIES",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _argv(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else command.split()


def test_compose_has_the_services_with_healthchecks(compose):
    services = compose["services"]
    assert set(services) >= {"postgres", "redis", *APP_SERVICES}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_postgres_runs_with_the_settings_the_benchmarks_were_measured_with(compose):
    command = compose["services"]["postgres"]["command"]
    settings = dict(c.split("=", 1) for c in command[1:] if c != "-c")
    assert command[0] == "postgres"
    assert settings == {"shared_buffers": "4GB", "max_wal_size": "16GB", "checkpoint_timeout": "15min",
                        "wal_compression": "on"}
    readme = (ROOT / "README.md").read_text()
    for name, value in settings.items():
        assert f"{name} = {value}" in readme, f"README does not give {name} = {value}"


def test_app_services_wait_for_healthy_postgres_redis_and_migrations(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert _argv(services["migrate"])[-3:] == ["manage.py", "migrate", "--noinput"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"


def test_app_services_share_one_environment_anchor(compose):
    shared = compose["x-app-env"]
    assert set(shared) == ENV_KEYS
    assert shared["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    assert shared["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in shared["DATABASE_URL"]
    assert shared["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert shared["CACHE_URL"].startswith("redis://redis:6379/") and shared["CACHE_URL"] != shared["CELERY_BROKER_URL"]
    for name in (*APP_SERVICES, "migrate"):
        assert compose["services"][name]["environment"] == shared, name
    # One anchor in the file, not copies that could drift apart.
    text = (ROOT / "docker-compose.yml").read_text()
    assert text.count("DJANGO_SETTINGS_MODULE:") == 1


def test_the_secret_key_comes_from_the_environment_with_no_fallback(compose):
    # `${VAR:?message}`: compose refuses to start when DJANGO_SECRET_KEY is unset or empty.
    key = compose["x-app-env"]["DJANGO_SECRET_KEY"]
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]*DJANGO_SECRET_KEY[^}]*\}", key), key
    # No other line gives the key a value (a `${...:-default}` would be an insecure fallback).
    lines = [line for line in (ROOT / "docker-compose.yml").read_text().splitlines() if not line.lstrip().startswith("#")]
    assert [line for line in lines if re.search(r"DJANGO_SECRET_KEY(?::?-|=)", line)] == []
    assert len([line for line in lines if re.match(r"\s*-?\s*DJANGO_SECRET_KEY\s*[:=]", line)]) == 1


def test_the_security_switches_default_to_the_secure_side(compose):
    shared = compose["x-app-env"]
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES"):
        assert shared[name] == f"${{{name}:-true}}", name


def test_exactly_one_beat_with_the_database_scheduler(compose):
    beats = [name for name, svc in compose["services"].items() if "command" in svc and "beat" in _argv(svc)]
    assert beats == ["beat"]
    beat = compose["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    argv = _argv(beat)
    scheduler = argv[argv.index("--scheduler") + 1]
    assert scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert symbol_by_name(scheduler).__name__ == "DatabaseScheduler"


def test_web_command_names_an_existing_wsgi_application(compose):
    argv = _argv(compose["services"]["web"])
    assert argv[0] == "gunicorn"
    module_name, _, attr = argv[1].partition(":")
    assert module_name == "config.wsgi"
    application = getattr(importlib.import_module(module_name), attr or "application")
    assert callable(application)
    assert "0.0.0.0:8000" in argv


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_commands_name_the_project_app(compose, service):
    argv = _argv(compose["services"][service])
    assert argv[:2] == ["celery", "-A"]
    app = find_app(argv[2])  # what `celery -A config` loads
    assert isinstance(app, Celery)
    assert app.main == "tpa"
    assert app.conf.task_acks_late is True


def test_dockerfile_installs_runtime_requirements_and_collects_static():
    text = (ROOT / "Dockerfile").read_text()
    assert text.splitlines()[0] == "FROM python:3.11-slim"
    assert "pip install -r requirements.txt" in text
    assert "collectstatic --noinput" in text


def test_dockerfile_collects_static_with_a_key_the_production_settings_accept():
    """The build runs collectstatic on the production settings, which refuse a weak key: the key it
    uses must pass them (the image build would fail otherwise; no Docker engine here to try it)."""
    text = (ROOT / "Dockerfile").read_text()
    key = re.search(r'DJANGO_SECRET_KEY="\$\((.+?)\)"[^\n]*\n[^\n]*collectstatic', text)
    assert key, "collectstatic's DJANGO_SECRET_KEY is not generated"
    generated = subprocess.run(["sh", "-c", key.group(1).replace("python ", f"{sys.executable} ", 1)],
                               capture_output=True, text=True, check=True).stdout.strip()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.prod", "DJANGO_SECRET_KEY": generated}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_collectstatic_succeeds_on_the_production_storage(tmp_path):
    """The image's collectstatic, with whitenoise's manifest storage: every static file a template names is
    collected and hashed, and a vendored file that points at a file not shipped (a source map) fails it."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.prod", "DJANGO_SECRET_KEY": "tPa-" + "".join(chr(65 + (i * 7) % 26) + str(i % 10) for i in range(30)),
           "VAR_DIR": str(tmp_path / "var")}
    code = ("import django; django.setup(); from django.conf import settings; "
            f"settings.STATIC_ROOT = {str(tmp_path / 'static')!r}; "
            "from django.core.management import call_command; call_command('collectstatic', interactive=False, verbosity=0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    for name in ("portal/portal.css", "portal/portal.js", "portal/vendor/htmx-2.0.11.min.js",
                 "portal/vendor/chart-4.6.1.umd.min.js"):
        assert name in manifest, name


def test_requirements_are_all_pinned():
    runtime = (ROOT / "requirements.txt").read_text().splitlines()
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in dev
    names = []
    for line in runtime + dev:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-r "):
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[a-z,]+\])?==[0-9][A-Za-z0-9.]*", line), line
        names.append(re.split(r"[\[=]", line)[0].lower().replace("_", "-"))
    assert "django-fsm" not in names  # the archived package; we use django-fsm-2
    assert {"django", "django-fsm-2", "celery", "psycopg", "gunicorn", "pytest", "playwright"} <= set(names)


def test_makefile_has_the_documented_targets():
    text = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", text, flags=re.M))
    assert {"setup", "migrate", "demo", "test", "lint", "bench-adjudication", "bench-payments"} <= targets


def _settings_in_subprocess(tmp_path, **env) -> dict:
    """Load config.settings.dev in a fresh interpreter with only the given environment."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "VAR_DIR": str(tmp_path / "var")}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.dev")
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({'db': settings.DATABASES['default'], 'broker': settings.CELERY_BROKER_URL, "
        "'transport': settings.CELERY_BROKER_TRANSPORT_OPTIONS, 'cache': settings.CACHES['default']}, default=str))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_settings_default_to_sqlite_and_filesystem_broker(tmp_path):
    got = _settings_in_subprocess(tmp_path)
    assert got["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert got["db"]["NAME"] == str(tmp_path / "var" / "db.sqlite3")
    assert "journal_mode=WAL" in got["db"]["OPTIONS"]["init_command"]
    assert got["broker"] == "filesystem://"
    assert got["transport"]["data_folder_in"] == str(tmp_path / "var" / "celery-broker" / "queue")
    assert (tmp_path / "var" / "celery-broker" / "queue").is_dir()
    assert got["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_settings_take_postgres_and_redis_from_the_environment(tmp_path):
    got = _settings_in_subprocess(
        tmp_path,
        DATABASE_URL="postgres://tpa:secret@db.example:5433/tpa_prod",
        CELERY_BROKER_URL="redis://cache.example:6379/4",
        CACHE_URL="redis://cache.example:6379/5",
    )
    assert got["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (got["db"]["NAME"], got["db"]["HOST"], got["db"]["PORT"], got["db"]["USER"]) == (
        "tpa_prod",
        "db.example",
        5433,
        "tpa",
    )
    assert got["broker"] == "redis://cache.example:6379/4"
    assert got["cache"] == {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache.example:6379/5"}
    assert "data_folder_in" not in got["transport"]
    assert not (tmp_path / "var" / "celery-broker").exists()
