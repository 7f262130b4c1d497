"""Money is Decimal with two places, rounded half-up (DOMAIN.md), never float."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value) -> Decimal:
    """Parse a number or string with at most two decimals into a Decimal to the cent.

    Floats are refused: they cannot say what cent they mean.
    """
    if isinstance(value, float):
        raise ValueError("money must not be a float")
    if isinstance(value, bool):
        raise ValueError("not an amount")
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise ValueError(f"not an amount: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    if d.as_tuple().exponent < -2 and d != d.quantize(CENT):
        raise ValueError(f"more than two decimals: {value!r}")
    return d.quantize(CENT)


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    return f"{value:,.2f}"
