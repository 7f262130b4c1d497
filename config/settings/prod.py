"""Production: behind a TLS-terminating proxy, on PostgreSQL and Redis.

It refuses to start (ImproperlyConfigured) without a real DJANGO_SECRET_KEY, and its defaults are the
secure ones: secure cookies, HSTS, the HTTPS redirect. `manage.py check --deploy` is clean with it.
Switches, for a deployment that knows why (documented in the README):
  DJANGO_SECURE_SSL_REDIRECT=false   the proxy already redirects http to https
  DJANGO_SECURE_COOKIES=false        plain-http trial run only (cookies then travel in clear)
  DJANGO_SECURE_HSTS_SECONDS=N       HSTS max-age (default one year; 0 turns HSTS off)
  DJANGO_CSRF_TRUSTED_ORIGINS        comma-separated origins (https://claims.example.com) for a proxy that
                                     rewrites the Host header
"""
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import INSECURE_DEV_SECRET_KEY, MIDDLEWARE, env_bool

# --- The secret key ---------------------------------------------------------------------
_SECRET_KEY_MIN_LENGTH = 50  # what `check --deploy` (security.W009) asks for
_GENERATE = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"


def secret_key_from_env() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if not key:
        raise ImproperlyConfigured(f"DJANGO_SECRET_KEY is not set; production needs its own secret key ({_GENERATE}).")
    if key == INSECURE_DEV_SECRET_KEY or key.startswith("django-insecure-"):
        raise ImproperlyConfigured(f"DJANGO_SECRET_KEY is the insecure development key; {_GENERATE}.")
    if len(key) < _SECRET_KEY_MIN_LENGTH or len(set(key)) < 5:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is too weak ({len(key)} characters, {len(set(key))} distinct); it needs at least "
            f"{_SECRET_KEY_MIN_LENGTH} characters and 5 distinct ones; {_GENERATE}."
        )
    return key


SECRET_KEY = secret_key_from_env()
DEBUG = False

# --- HTTPS behind the proxy ---------------------------------------------------------------
# The proxy terminates TLS and must set X-Forwarded-Proto (and strip any the client sent).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
_hsts = os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(365 * 24 * 3600)).strip()
if not _hsts.isdigit():
    raise ImproperlyConfigured(f"DJANGO_SECURE_HSTS_SECONDS must be a whole number of seconds (0 or more), not {_hsts!r}.")
SECURE_HSTS_SECONDS = int(_hsts)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"DJANGO_CSRF_TRUSTED_ORIGINS: {_origin!r} needs its scheme, e.g. https://claims.example.com."
        )

# --- Static files -------------------------------------------------------------------------
# Static files served by gunicorn itself (collectstatic runs in the image build).
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
