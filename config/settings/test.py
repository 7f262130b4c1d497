from .base import *  # noqa: F401,F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Django's test Client.login() calls authenticate() without a request, which django-axes refuses;
# tests/test_security.py turns axes on (override_settings) and drives the real login view.
AXES_ENABLED = False
