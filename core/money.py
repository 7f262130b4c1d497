"""Money is Decimal with two places, rounded half-up (DOMAIN.md), never float."""
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .text import shown

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


# Every money column is max_digits=14, decimal_places=2: an amount must stay under a trillion.
MONEY_LIMIT = Decimal("1000000000000")
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")  # 1,234,567.89: commas only between groups of three


def to_money(value, *, allow_float: bool = False) -> Decimal:
    """Parse a number or string with at most two decimals into a Decimal to the cent; ValueError otherwise.

    The one money parser (forms, services, scenario files). Floats are refused: they cannot say what
    cent they mean; a file format whose numbers arrive as floats (YAML) passes `allow_float`, and the
    float is read as its shortest spelling (0.1 -> "0.1"). "1,234.50" is read; "1,50" is not.
    """
    if isinstance(value, str) and len(value) > 40 or isinstance(value, int) and value.bit_length() > 128:
        raise ValueError(f"not an amount: {shown(value)}")  # no amount needs more (and a huge int has no repr)
    if isinstance(value, float) and allow_float:
        value = repr(value)
    if isinstance(value, float):
        raise ValueError("money must not be a float")
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValueError(f"not an amount: {shown(value)}")
    text = str(value).strip()
    if "," in text:
        if not _GROUPED.fullmatch(text):
            raise ValueError(f"not an amount (commas only between groups of three digits): {shown(value)}")
        text = text.replace(",", "")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {shown(value)}") from None
    if not d.is_finite():
        raise ValueError(f"not an amount: {shown(value)}")
    if abs(d) >= MONEY_LIMIT:
        raise ValueError(f"too large: amounts stay under {MONEY_LIMIT:,}")
    if d.as_tuple().exponent < -2 and d != d.quantize(CENT):
        raise ValueError(f"more than two decimals: {shown(value)}")
    return d.quantize(CENT)


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """1,234.50. Amounts are almost always at two places and under a million: str() and a comma are
    the fast path (adjudication traces call this a dozen times a line); anything else is formatted."""
    s = str(value)
    if s[-3:-2] == ".":
        n = len(s)
        if n <= 6:
            return s
        if n <= 9 and s[0] != "-":
            return s[:-6] + "," + s[-6:]
    return f"{value:,.2f}"
