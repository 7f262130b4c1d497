"""The API's one error shape, produced in one place (REST_FRAMEWORK["EXCEPTION_HANDLER"]).

    {"error": {"code": "invalid", "message": "lines[0].billed: a billed amount is required",
               "fields": {"lines[0].billed": ["a billed amount is required"]}}}

`fields` names the field each message concerns (empty when none does). The domain's refusals keep
their meaning (`core.errors`): DomainError 400, NotFound 404 (also another party's object), Forbidden
403 (an action the role may not take), Conflict 409; DRF's own: not authenticated 401, throttled 429
(with Retry-After), unparseable body 400, unsupported media type 415, method not allowed 405.
"""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import Conflict, DomainError, Forbidden, NotFound

DOMAIN_CODES = ((NotFound, "not_found"), (Forbidden, "forbidden"), (Conflict, "conflict"), (DomainError, "invalid"))
NON_FIELD = "__all__"


class IdempotencyKeyReused(exceptions.APIException):
    """The same Idempotency-Key came with a different body: refused, nothing written."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used with a different request body."


class LockedOut(exceptions.APIException):
    """Too many failed logins (django-axes): refused whatever the password, until the cool-off ends."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"
    default_detail = "Too many failed login attempts: this login is locked for a while."


def error_body(*, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _text(value) -> str:
    return str(value)


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"lines[0].code": ["..."]}: the paths the domain's own errors use."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", NON_FIELD) and not prefix else str(key)
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            for k, v in _flatten(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(v, (dict, list)) for v in detail):
            out.setdefault(prefix, []).extend(_text(v) for v in detail)
        else:
            for i, value in enumerate(detail):
                for k, v in _flatten(value, f"{prefix}[{i}]").items():
                    out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix, []).append(_text(detail))
    return out


def _message(fields: dict[str, list[str]], fallback: str) -> str:
    parts = [f"{name}: {' '.join(msgs)}" if name else " ".join(msgs) for name, msgs in fields.items()]
    return "; ".join(parts) or fallback


def _domain_response(exc: DomainError) -> Response:
    code = next(c for cls, c in DOMAIN_CODES if isinstance(exc, cls))
    try:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    except AttributeError:  # raised with a message, not a dict
        fields = {NON_FIELD: [str(m) for m in exc.messages]}
    message = exc.text() if hasattr(exc, "error_dict") else "; ".join(exc.messages)
    named = {k: v for k, v in fields.items() if k != NON_FIELD}
    return Response(error_body(code=code, message=message, fields=named), status=exc.http_status)


def api_exception_handler(exc, context):
    """Every error an API view raises, as the one shape; None (a server error) only for a bug."""
    if isinstance(exc, DomainError):
        set_rollback()
        return _domain_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):  # e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = exceptions.ParseError(str(exc)[:200] or "The request is malformed.")
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        named = {k: v for k, v in fields.items() if k}
        body = error_body(code="invalid", message=_message(fields, "Invalid input."), fields=named)
    else:
        detail = exc.detail
        code = detail.code if hasattr(detail, "code") else exc.default_code
        body = error_body(code=str(code), message=str(detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
