"""What the login throttle (django-axes, config/settings/base.py) records of an attempt."""


def axes_username(request, credentials) -> str | None:
    """The username axes records, cut to its column (varchar 255). Django's login form passes a username
    of any length to authenticate(), and a longer one made PostgreSQL refuse axes' row: a server error."""
    data = credentials or getattr(request, "data", None) or getattr(request, "POST", {})
    username = data.get("username")
    return username[:255] if isinstance(username, str) else username
