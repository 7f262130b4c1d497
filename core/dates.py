"""The one date parser: a business date is a `date` or text written YYYY-MM-DD, nothing else."""
import datetime
import re

from .text import shown

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_parse(value) -> datetime.date:
    """`value` as a date; ValueError naming what it got otherwise.

    A datetime is refused (its time of day would be dropped silently), and so are the other spellings
    `date.fromisoformat` takes (20260101, 2026-W02-6): a date is written one way everywhere.
    """
    if isinstance(value, datetime.datetime):
        raise ValueError(f"not a date (YYYY-MM-DD): {shown(value)}")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return datetime.date.fromisoformat(text)
            except ValueError:
                pass
    raise ValueError(f"not a date (YYYY-MM-DD): {shown(value)}")
