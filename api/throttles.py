"""Request rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]): per login, per anonymous address, and
for the token endpoint. The rates are read when a request is checked (DRF's classes read them once,
at import), so a settings change applies. The counts live in the default cache (settings CACHES)."""
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class _LiveRates:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class LoginRateThrottle(_LiveRates, UserRateThrottle):
    """Per login (an anonymous request: per address)."""


class AnonymousRateThrottle(_LiveRates, AnonRateThrottle):
    """Per address, for requests without a login."""


class TokenRateThrottle(_LiveRates, ScopedRateThrottle):
    """The token endpoint (`throttle_scope = "token"`), per address: password guessing is also axes' concern."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
