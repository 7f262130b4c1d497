"""Logins and deployment security: the password policy, failed-login throttling (django-axes), sessions
that end, and the production settings (refuse a missing or weak key; HTTPS, HSTS, secure cookies;
`check --deploy` clean).

config.settings.test turns axes off (Django's Client.login() authenticates without a request, which
axes refuses); the throttle tests turn it back on and drive the real admin login view. The production
settings are loaded in a fresh interpreter each time: importing them here would replace this process's
settings, and without a key they must not import at all.
"""

import datetime
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
LOGIN_URL = "/admin/login/"
GOOD_PASSWORD = "Quarterly-remit-7-ledger"
IP_A, IP_B = "198.51.100.7", "198.51.100.8"  # documentation addresses: only ever REMOTE_ADDR values here


# === The password policy ========================================================================


def test_the_four_validators_are_configured_with_a_minimum_of_12():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    minimum = next(v for v in settings.AUTH_PASSWORD_VALIDATORS if v["NAME"].endswith("MinimumLengthValidator"))
    assert minimum["OPTIONS"] == {"min_length": 12}


def _refusals(password: str, user=None) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user=user)
    return {error.code for error in caught.value.error_list}


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Tr7!kq-Zp2x", "password_too_short"),  # 11 characters
        ("481516234200", "password_entirely_numeric"),  # 12 digits, not in the common list
        ("password1234", "password_too_common"),
        ("1q2w3e4r5t6y", "password_too_common"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, code):
    assert code in _refusals(password)


def test_eleven_characters_fail_and_twelve_pass_the_length_rule():
    assert "password_too_short" in _refusals("Tr7!kq-Zp2x")
    assert validate_password("Tr7!kq-Zp2xW") is None


@pytest.mark.django_db
def test_a_password_like_the_username_or_email_is_refused():
    user = get_user_model()(username="margaret.hollis", email="margaret.hollis@northwind.example")
    assert _refusals("margaret.hollis!", user=user) == {"password_too_similar"}
    assert validate_password(GOOD_PASSWORD, user=user) is None


@pytest.mark.django_db
def test_the_admin_password_change_shows_the_policy_and_keeps_the_old_password():
    user = _staff("hollis")
    client = Client()
    client.force_login(user)
    form = {"old_password": GOOD_PASSWORD, "new_password1": "123456789012", "new_password2": "123456789012"}
    response = client.post("/admin/password_change/", form)
    assert response.status_code == 200  # the form again, with its errors: not a server error
    errors = response.context["form"].errors["new_password2"]
    assert "This password is entirely numeric." in errors
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    stronger = "Deductible-met-in-March-42"
    response = client.post("/admin/password_change/", {**form, "new_password1": stronger, "new_password2": stronger})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(stronger)


# === Failed-login throttling (django-axes) =======================================================


def _staff(username: str = "examiner-sec"):
    return get_user_model().objects.create_user(username=username, password=GOOD_PASSWORD, is_staff=True)


def _attempt(client: Client, username: str, password: str, ip: str = IP_A):
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def _logged_in_as(client: Client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


def _age_attempts(minutes: int) -> None:
    """Time passes for the failures axes counted: their last attempt is `minutes` in the past."""
    assert AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=minutes)) >= 1


def test_axes_is_wired_as_its_docs_require():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert "django.contrib.auth.backends.ModelBackend" in settings.AUTHENTICATION_BACKENDS
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    apps = settings.INSTALLED_APPS
    assert apps.index("axes") > apps.index("django.contrib.auth")
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_five_failures_lock_the_login_until_the_cool_off_has_passed():
    user = _staff()
    client = Client()
    for n in range(1, 5):
        response = _attempt(client, user.username, f"wrong-{n}")
        assert response.status_code == 200, n  # the login form again, with its error
        assert "Please enter the correct username and password" in response.content.decode(), n
    assert AccessAttempt.objects.get().failures_since_start == 4

    fifth = _attempt(client, user.username, "wrong-5")
    assert fifth.status_code == 429
    assert "Account locked: too many login attempts" in fifth.content.decode()

    sixth = _attempt(client, user.username, GOOD_PASSWORD)  # the right password, refused all the same
    assert sixth.status_code == 429
    assert not _logged_in_as(client, user)
    assert client.get("/admin/").status_code == 302  # still sent to the login page

    _age_attempts(14)  # inside the 15 minutes: still locked
    assert _attempt(client, user.username, GOOD_PASSWORD).status_code == 429
    assert not _logged_in_as(client, user)
    # ... and an attempt during the lock starts the 15 minutes again.
    assert timezone.now() - AccessAttempt.objects.get().attempt_time < datetime.timedelta(minutes=1)

    _age_attempts(16)  # the cool-off has passed
    response = _attempt(client, user.username, GOOD_PASSWORD)
    assert response.status_code == 302 and response.url == "/admin/"
    assert _logged_in_as(client, user)
    assert client.get("/admin/").status_code == 200
    assert AccessAttempt.objects.count() == 0  # the success reset the count


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_an_administrator_reset_lifts_the_lock_at_once():
    user = _staff()
    client = Client()
    for n in range(5):
        _attempt(client, user.username, f"wrong-{n}")
    assert _attempt(client, user.username, GOOD_PASSWORD).status_code == 429
    assert axes_reset(username=user.username) == 1  # what `manage.py axes_reset_username` does
    assert _attempt(client, user.username, GOOD_PASSWORD).status_code == 302
    assert _logged_in_as(client, user)


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_a_successful_login_resets_the_failure_count():
    user = _staff()
    for n in range(4):
        assert _attempt(Client(), user.username, f"wrong-{n}").status_code == 200
    assert _attempt(Client(), user.username, GOOD_PASSWORD).status_code == 302
    # Four more failures: eight in all, but only four since the success, so not locked.
    for n in range(4):
        assert _attempt(Client(), user.username, f"again-{n}").status_code == 200
    client = Client()
    assert _attempt(client, user.username, GOOD_PASSWORD).status_code == 302
    assert _logged_in_as(client, user)


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_the_lock_is_for_this_username_from_this_address():
    locked, other = _staff("locked-user"), _staff("other-user")
    for n in range(5):
        _attempt(Client(), locked.username, f"wrong-{n}", ip=IP_A)
    assert _attempt(Client(), locked.username, GOOD_PASSWORD, ip=IP_A).status_code == 429
    elsewhere = Client()
    assert _attempt(elsewhere, locked.username, GOOD_PASSWORD, ip=IP_B).status_code == 302
    assert _logged_in_as(elsewhere, locked)
    colleague = Client()
    assert _attempt(colleague, other.username, GOOD_PASSWORD, ip=IP_A).status_code == 302
    assert _logged_in_as(colleague, other)


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_odd_login_posts_get_the_form_not_a_server_error():
    user = _staff()
    client = Client()
    assert client.post(LOGIN_URL, {}, REMOTE_ADDR=IP_A).status_code == 200
    # Django's login form takes a username of any length; axes records it cut to its column (255), which
    # PostgreSQL would otherwise refuse (SQLite does not check lengths, hence the second assertion).
    assert client.post(LOGIN_URL, {"username": "x" * 5000, "password": "y"}, REMOTE_ADDR=IP_A).status_code == 200
    assert AccessAttempt.objects.get().username == "x" * 255
    assert client.post(LOGIN_URL, {"username": user.username}, REMOTE_ADDR=IP_A).status_code == 200
    assert not _logged_in_as(client, user)


# === Sessions that end ============================================================================


def test_sessions_end_after_30_idle_minutes_and_with_the_browser():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    # The expiry slides with activity, written at most once a minute (not on every request).
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    middleware = settings.MIDDLEWARE
    assert middleware.index("core.sessions.SessionRefreshMiddleware") == \
        middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1


class _Clock:
    """timezone.now() moved forward by `minutes`, for the session store's expiry checks."""

    def __init__(self):
        self.minutes = 0
        self._real_now = timezone.now

    def __call__(self):
        return self._real_now() + datetime.timedelta(minutes=self.minutes)


@pytest.fixture
def later():
    clock = _Clock()
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


def _admin_status(client: Client) -> int:
    return client.get("/admin/").status_code  # 200 logged in, 302 to the login page otherwise


@pytest.mark.django_db
def test_a_session_idle_longer_than_the_age_is_logged_out(later):
    client = Client()
    client.force_login(_staff())
    later.minutes = 2  # a request over a minute after the login saves the session, and sends its cookie
    response = client.get("/admin/")
    assert response.status_code == 200
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert (cookie["max-age"], cookie["expires"]) == ("", "")  # a browser-session cookie
    session = Session.objects.get()
    remaining = session.expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < remaining <= datetime.timedelta(minutes=30)

    later.minutes = 29
    assert _admin_status(client) == 200
    later.minutes = 29 + 31  # 31 idle minutes after that request
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(LOGIN_URL)


@pytest.mark.django_db
def test_activity_keeps_the_session_alive(later):
    client = Client()
    client.force_login(_staff())
    assert _admin_status(client) == 200
    for minutes in (20, 45, 70, 95):  # 25 minutes apart: never idle for 30
        later.minutes = minutes
        assert _admin_status(client) == 200, minutes
    later.minutes = 95 + 30 + 1
    assert _admin_status(client) == 302


@pytest.mark.django_db
def test_requests_within_a_minute_write_the_session_once(later):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert _admin_status(client) == 200
        return sum(1 for q in queries.captured_queries
                   if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT")))

    client = Client()
    client.force_login(_staff())
    assert session_writes() == 0  # the login saved the session with its expiry
    later.minutes = 0.9
    assert session_writes() == 0  # under a minute later: nothing to write
    before = Session.objects.get().expire_date
    later.minutes = 2
    assert session_writes() == 1
    moved = Session.objects.get().expire_date - before  # two minutes, and the test's own milliseconds
    assert datetime.timedelta(minutes=2) <= moved < datetime.timedelta(minutes=2, seconds=5)


# === Production settings, each in a fresh interpreter =============================================


def _prod(tmp_path, args: list[str], **env) -> subprocess.CompletedProcess:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),  # SQLite there; nothing here opens the database
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_ALLOWED_HOSTS": "claims.example.com",
    }
    clean.update(env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def _new_key() -> str:
    return secrets.token_urlsafe(64)


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (None, "DJANGO_SECRET_KEY is not set"),
        ("", "DJANGO_SECRET_KEY is not set"),
        ("dev-only-insecure-key-change-me", "DJANGO_SECRET_KEY is the insecure development key"),
        ("django-insecure-" + "k" * 40 + "abcdefghij", "DJANGO_SECRET_KEY is the insecure development key"),
        ("collectstatic-only", "DJANGO_SECRET_KEY is too weak (18 characters"),
        ("x" * 49, "DJANGO_SECRET_KEY is too weak (49 characters"),
        ("abab" * 20, "DJANGO_SECRET_KEY is too weak (80 characters, 2 distinct)"),
    ],
)
def test_prod_refuses_to_start_without_a_real_secret_key(tmp_path, key, says):
    env = {} if key is None else {"DJANGO_SECRET_KEY": key}
    done = _prod(tmp_path, ["manage.py", "check"], **env)
    assert done.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in done.stderr
    assert says in done.stderr, done.stderr[-2000:]
    assert "secrets.token_urlsafe" in done.stderr  # it says how to make one


def test_prod_passes_check_deploy_with_a_generated_key(tmp_path):
    done = _prod(
        tmp_path,
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SECRET_KEY=_new_key(),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",  # parsed, never connected to
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "System check identified no issues (0 silenced)." in done.stdout


_SHOW = """
import json, django
from django.conf import settings
django.setup()
names = ["DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_CONTENT_TYPE_NOSNIFF",
         "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "CSRF_TRUSTED_ORIGINS", "MIDDLEWARE", "STORAGES",
         "AUTHENTICATION_BACKENDS", "AXES_ENABLED", "SESSION_COOKIE_AGE"]
print(json.dumps({n: getattr(settings, n) for n in names}))
"""


def _prod_settings(tmp_path, **env) -> dict:
    done = _prod(tmp_path, ["-c", _SHOW], **{"DJANGO_SECRET_KEY": _new_key(), **env})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_prod_settings_are_the_secure_ones_by_default(tmp_path):
    got = _prod_settings(tmp_path, DJANGO_CSRF_TRUSTED_ORIGINS="https://claims.example.com, https://tpa.example.com")
    assert got["DEBUG"] is False
    assert got["SESSION_COOKIE_SECURE"] is True and got["CSRF_COOKIE_SECURE"] is True
    assert got["SECURE_HSTS_SECONDS"] == 31_536_000
    assert got["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and got["SECURE_HSTS_PRELOAD"] is True
    assert got["SECURE_SSL_REDIRECT"] is True
    assert got["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert got["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert got["X_FRAME_OPTIONS"] == "DENY"
    assert got["SECURE_REFERRER_POLICY"] == "same-origin"
    assert got["CSRF_TRUSTED_ORIGINS"] == ["https://claims.example.com", "https://tpa.example.com"]
    # What prod.py already did stays: WhiteNoise right after SecurityMiddleware, its manifest storage.
    assert got["MIDDLEWARE"][:2] == ["django.middleware.security.SecurityMiddleware", "whitenoise.middleware.WhiteNoiseMiddleware"]
    assert got["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"
    assert got["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert got["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert got["AXES_ENABLED"] is True
    assert got["SESSION_COOKIE_AGE"] == 1800


def test_prod_switches_turn_off_only_what_they_name(tmp_path):
    got = _prod_settings(tmp_path, DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_HSTS_SECONDS="3600")
    assert got["SECURE_SSL_REDIRECT"] is False
    assert got["SECURE_HSTS_SECONDS"] == 3600
    assert got["SESSION_COOKIE_SECURE"] is True and got["CSRF_COOKIE_SECURE"] is True
    assert got["CSRF_TRUSTED_ORIGINS"] == []


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": "claims.example.com"}, "DJANGO_CSRF_TRUSTED_ORIGINS: 'claims.example.com' needs its scheme"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "a year"}, "DJANGO_SECURE_HSTS_SECONDS must be a whole number of seconds"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "-1"}, "DJANGO_SECURE_HSTS_SECONDS must be a whole number of seconds"),
    ],
)
def test_prod_refuses_a_malformed_setting_with_its_name(tmp_path, env, says):
    done = _prod(tmp_path, ["manage.py", "check"], DJANGO_SECRET_KEY=_new_key(), **env)
    assert done.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in done.stderr
    assert says in done.stderr, done.stderr[-2000:]


_REQUESTS = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="claims.example.com")
plain = client.get("/admin/login/")
proxied = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
csrf = proxied.cookies.get("csrftoken")
print(json.dumps({
    "plain": [plain.status_code, plain.headers.get("Location")],
    "proxied": proxied.status_code,
    "hsts": proxied.headers.get("Strict-Transport-Security"),
    "nosniff": proxied.headers.get("X-Content-Type-Options"),
    "frame": proxied.headers.get("X-Frame-Options"),
    "referrer": proxied.headers.get("Referrer-Policy"),
    "csrf_cookie_secure": bool(csrf and csrf["secure"]),
}))
"""


def test_prod_redirects_plain_http_and_serves_https_from_the_proxy_with_hsts(tmp_path):
    # The production settings but for the static manifest, which only the image build's collectstatic writes.
    (tmp_path / "prod_without_manifest.py").write_text(
        "from config.settings.prod import *\n"
        'STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    done = _prod(
        tmp_path,
        ["-c", _REQUESTS],
        DJANGO_SECRET_KEY=_new_key(),
        DJANGO_SETTINGS_MODULE="prod_without_manifest",
        PYTHONPATH=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["plain"] == [301, "https://claims.example.com/admin/login/"]
    assert got["proxied"] == 200  # X-Forwarded-Proto: https from the proxy counts as HTTPS: no redirect loop
    assert got["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert got["nosniff"] == "nosniff"
    assert got["frame"] == "DENY"
    assert got["referrer"] == "same-origin"
    assert got["csrf_cookie_secure"] is True
