"""Small template helpers every dashboard uses: money, sortable headers, CARC meanings, state badges."""
from decimal import Decimal

from django import template
from django.utils.html import format_html

from claims.carc import CARC_MEANING
from core.money import fmt

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.50 (a blank for None)."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    text = f"{abs(value):,.2f}"
    return f"-${text}" if value < 0 else f"${text}"


@register.filter
def plain_money(value) -> str:
    return fmt(Decimal(value)) if value not in (None, "") else ""


@register.filter
def carc_meaning(code: str) -> str:
    return CARC_MEANING.get(str(code), "")


@register.simple_tag
def sort_header(page, column: str, label: str):
    """A column header that sorts the list by `column` (and reverses on a second click), with aria-sort."""
    current = page.sort.lstrip("-")
    if current == column:
        direction = "descending" if page.sort.startswith("-") else "ascending"
        arrow = " ↓" if direction == "descending" else " ↑"
    else:
        direction, arrow = "none", ""
    return format_html('<th scope="col" aria-sort="{}"><a href="{}">{}{}</a></th>', direction,
                       page.sort_url(column), label, arrow)


@register.inclusion_tag("portal/_state.html")
def state_badge(state: str):
    return {"state": state, "label": str(state).replace("_", " ")}
