"""Comparing a report with a scenario's `expect` (or a checklist step's `done_when`): every key it
gives must be in the report with an equal value; mappings key by key, lists whole and in order,
money to the cent."""
import datetime
import json
import re
from decimal import Decimal

from core.money import to_money

_MONEY_TEXT = re.compile(r"-?\d+\.\d{2}")


def _equal(expected, actual) -> bool:
    """A money figure of the report ("90.00") equals any spelling of the same amount, to the cent;
    anything else (states, reason codes, dates, keys) must be the same value."""
    if isinstance(actual, str) and _MONEY_TEXT.fullmatch(actual):
        try:
            return to_money(expected, allow_float=True) == Decimal(actual)
        except ValueError:
            return False  # not an amount of dollars and cents
    if isinstance(expected, datetime.date):
        expected = expected.isoformat()
    elif isinstance(expected, int) and not isinstance(expected, bool) and isinstance(actual, str):
        expected = str(expected)  # reason_codes: [3, 45] written without quotes
    return expected == actual


def expectations_compare(*, expected, actual, path: str = "") -> list[str]:
    """Mismatches as 'path: expected X, got Y'. Mappings by key; lists whole, in order."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {json.dumps(actual)}"]
        out = []
        for k, v in expected.items():
            sub = f"{path}.{k}" if path else str(k)
            if k not in actual:
                out.append(f"{sub}: expected {_show(v)}, got nothing")
            else:
                out.extend(expectations_compare(expected=v, actual=actual[k], path=sub))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected) or any(
            expectations_compare(expected=e, actual=a) for e, a in zip(expected, actual)
        ):
            return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
        return []
    if not _equal(expected, actual):
        return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _show(value) -> str:
    if isinstance(value, (datetime.date, Decimal)):
        return str(value)
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


