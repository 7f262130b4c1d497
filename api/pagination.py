"""Keyset pagination, newest first: `?limit=N` (1..MAX_LIMIT) and `?before=<id>` (the `next` link
carries it). A page costs the same at any depth (no OFFSET, no COUNT over a big table), and its ids
are read first, then their rows (the joins run for one page only)."""
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_ID = 2**63 - 1


def whole_number_param(request, name: str, *, low: int, high: int, default=None):
    """A query parameter that must be a whole number from `low` to `high` (the field named otherwise)."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if len(text) > 20 or not text.isdecimal() or not text.isascii():
        raise ValidationError({name: [f"must be a whole number from {low:,} to {high:,}"]})
    value = int(text)
    if not low <= value <= high:
        raise ValidationError({name: [f"must be a whole number from {low:,} to {high:,}"]})
    return value


class KeysetPagination(BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = whole_number_param(request, "limit", low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT)
        before = whole_number_param(request, "before", low=1, high=MAX_ID)
        ids_qs = queryset.order_by("-pk")
        if before is not None:
            ids_qs = ids_qs.filter(pk__lt=before)
        ids = list(ids_qs.values_list("pk", flat=True)[: self.limit + 1])
        self.more = len(ids) > self.limit
        ids = ids[: self.limit]
        rows = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
        self.page = [rows[i] for i in ids if i in rows]
        return self.page

    def next_link(self) -> str | None:
        if not self.more or not self.page:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, "before", self.page[-1].pk)

    def get_paginated_response(self, data):
        return Response({"next": self.next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri",
                         "description": "The next (older) page, or null on the last page."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "limit", "in": "query", "required": False,
             "description": f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
            {"name": "before", "in": "query", "required": False,
             "description": "Only rows with an id below this one (the `next` link sets it).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
        ]
