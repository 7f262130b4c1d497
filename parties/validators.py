"""Identifier checks: NPI (Luhn over 80840 + first 9 digits), EIN, TIN, member ID check character."""
import re
import secrets

from django.core.exceptions import ValidationError

# Crockford-style alphabet: no I, L, O, U, so an ID read off a card over the phone is unambiguous.
MEMBER_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MEMBER_ID_BODY_LENGTH = 9


def luhn_check_digit(digits: str) -> int:
    """The Luhn digit that makes `digits` + digit valid."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, starting with the rightmost payload digit
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def npi_is_valid(npi: str) -> bool:
    if not isinstance(npi, str) or not re.fullmatch(r"[0-9]{10}", npi):
        return False
    return luhn_check_digit("80840" + npi[:9]) == int(npi[9])


def validate_npi(value: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{10}", value or ""):
        raise ValidationError("An NPI is 10 digits.", code="npi_format")
    if not npi_is_valid(value):
        raise ValidationError("This NPI fails its check digit.", code="npi_check_digit")


def npi_with_check_digit(first_nine: str) -> str:
    return first_nine + str(luhn_check_digit("80840" + first_nine))


# IRS campus prefixes that are never issued.
_INVALID_EIN_PREFIXES = {"00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "96", "97"}


def validate_ein(value: str) -> None:
    if not re.fullmatch(r"[0-9]{2}-[0-9]{7}", value or ""):
        raise ValidationError("An EIN is written NN-NNNNNNN.", code="ein_format")
    if value[:2] in _INVALID_EIN_PREFIXES:
        raise ValidationError(f"EIN prefix {value[:2]} is not issued by the IRS.", code="ein_prefix")


def validate_tin(value: str) -> None:
    if not re.fullmatch(r"[0-9]{2}-[0-9]{7}|[0-9]{9}", value or ""):
        raise ValidationError("A TIN is 9 digits (NN-NNNNNNN).", code="tin_format")


def member_id_check_char(body: str) -> str:
    """Luhn mod N over the member-ID alphabet: catches any single wrong character and most swaps."""
    n = len(MEMBER_ID_ALPHABET)
    factor = 2
    total = 0
    for ch in reversed(body):
        addend = factor * MEMBER_ID_ALPHABET.index(ch)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return MEMBER_ID_ALPHABET[(n - total % n) % n]


def member_id_generate() -> str:
    body = "".join(secrets.choice(MEMBER_ID_ALPHABET) for _ in range(MEMBER_ID_BODY_LENGTH))
    return body + member_id_check_char(body)


def member_id_is_valid(value: str) -> bool:
    if not isinstance(value, str) or len(value) != MEMBER_ID_BODY_LENGTH + 1:
        return False
    if any(ch not in MEMBER_ID_ALPHABET for ch in value):
        return False
    return member_id_check_char(value[:-1]) == value[-1]


def validate_member_id(value: str) -> None:
    if not member_id_is_valid(value):
        raise ValidationError("Not a valid member ID (wrong length, character or check character).", code="member_id")
