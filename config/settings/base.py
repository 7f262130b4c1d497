"""Settings shared by every environment; everything that varies comes from the environment.

With nothing set the project runs on embedded defaults: SQLite (WAL) and kombu's filesystem
broker, so a fresh machine needs no server. DATABASE_URL and CELERY_BROKER_URL switch it to
PostgreSQL and Redis.
"""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


# The dev and test fallback; config.settings.prod refuses it (and any key it deems weak).
INSECURE_DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or INSECURE_DEV_SECRET_KEY
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]

INSTALLED_APPS = [
    "parties.apps.TpaAdminConfig",  # django.contrib.admin, deny-by-default for party logins
    "django.contrib.auth",
    "axes",  # django-axes: failed-login throttling (its own migrations, its admin pages)
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_fsm_log",
    "django_celery_beat",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "core",
    "parties",
    "plans",
    "claims",
    "funding",
    "interchange",
    "training",
    "portal",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.sessions.SessionRefreshMiddleware",  # the idle expiry slides, a write a minute at most
    # A browser that joined a training session works in its sandbox: before the login is read.
    "training.sandbox.middleware.TrainingSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context.portal_header",  # business date, login and party on every dashboard page
                "training.context.training_banner",  # inside a training session: its code and role switcher
            ],
        },
    },
]


def database_from_env() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        return dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
        # WAL lets the web process read while the worker writes; IMMEDIATE avoids
        # lock-upgrade deadlocks between them.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": database_from_env()}
# Training sessions: the registry and Django's sessions stay in the control database (the default one);
# everything else follows the session's sandbox (training/sandbox/connections.py).
DATABASE_ROUTERS = ["training.sandbox.connections.TrainingRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Logins ---------------------------------------------------------------------------
# Checked wherever a password is chosen through a form (admin, password change, createsuperuser);
# set_password() itself does not validate (seed_demo's "demo" logins rely on that).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes watches every authenticate() call: its backend first refuses a locked-out login
# before ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = True
AXES_FAILURE_LIMIT = 5  # the 5th failure locks; any attempt after it is refused, right password or not
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # this username from this address
AXES_RESET_ON_SUCCESS = True  # a successful login clears the failures counted so far
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # shared by every gunicorn worker
AXES_VERBOSE = False  # no start-up banner on every manage.py command; failures and lockouts are still logged
AXES_USERNAME_CALLABLE = "core.logins.axes_username"  # cut to axes' column: a long one is no server error

# Sessions end: after 30 idle minutes (activity extends them: core.sessions.SessionRefreshMiddleware)
# and when the browser closes (the cookie carries no expiry).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False  # core.sessions.SessionRefreshMiddleware slides the expiry
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "/"

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _queue_dir = VAR_DIR / "celery-broker"
    (_queue_dir / "queue").mkdir(parents=True, exist_ok=True)
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_queue_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),  # broadcast (pidbox) messages; default is ./control
        "store_processed": False,
    }
else:
    # Redis: a message a worker took and never acknowledged (its host died: nothing was left to reject
    # it) goes back to the queue once it is older than the visibility timeout (seconds; 30 minutes unless
    # CELERY_VISIBILITY_TIMEOUT says otherwise), at a worker's next sweep (kombu's restore_visible: when a
    # worker starts, then every 100 s). It must exceed the longest job, or a job still running is
    # delivered again (the tasks tolerate that, but it is wasted work): a million claims adjudicated take
    # about 2 minutes, a payment cycle of 100,000 under 10 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "1800"))}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Default schedule, loaded into django-celery-beat's tables (editable in the admin).
CELERY_BEAT_SCHEDULE = {
    "auto-adjudication": {"task": "claims.tasks.adjudicate_pending_claims", "schedule": 300.0},
}

# django-fsm-log: buffered so the batch adjudication can write its transition rows in one go.
DJANGO_FSM_LOG_STORAGE_METHOD = "claims.fsm_log.BufferedBackend"
DJANGO_FSM_LOG_IGNORED_MODELS = ()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

ADJUDICATION_CHUNK_SIZE = int(os.environ.get("ADJUDICATION_CHUNK_SIZE", "5000"))

# A cache shared by every process (the API's throttles count in it) when CACHE_URL names a Redis; else
# Django's per-process memory cache.
if os.environ.get("CACHE_URL", "").startswith("redis"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}}

# --- REST API (api/) -----------------------------------------------------------------------
# Token (per login, rest_framework.authtoken) or session (the docs page); JSON in, JSON out; keyset pages;
# one error shape (api.errors). The throttles count in the default cache (CACHE_URL above: shared by the
# gunicorn workers in production; without it each process counts on its own).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # first: an anonymous request is a 401, not 403
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.ExactJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.KeysetPagination",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.LoginRateThrottle", "api.throttles.AnonymousRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_RATE_LOGIN", "1200/min"),
        "anon": os.environ.get("API_RATE_ANON", "60/min"),
        "token": os.environ.get("API_RATE_TOKEN", "20/min"),
    },
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,  # money travels as "123.45"
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TPA claims API",
    "DESCRIPTION": "Claims, eligibility, remittances (835), explanations of benefits (FHIR) and sponsors' "
                   "funding records of a self-funded health plan administrator. Errors: "
                   '{"error": {"code", "message", "fields": {field: [messages]}}}.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
}
