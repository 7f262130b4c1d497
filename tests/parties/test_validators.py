"""Identifier checks: NPI (Luhn over 80840 + 9 digits), member ID check character, EIN, TIN."""
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from parties.validators import (
    MEMBER_ID_ALPHABET,
    MEMBER_ID_BODY_LENGTH,
    luhn_check_digit,
    member_id_check_char,
    member_id_generate,
    member_id_is_valid,
    npi_is_valid,
    npi_with_check_digit,
    validate_ein,
    validate_member_id,
    validate_npi,
    validate_tin,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
member_body = st.text(alphabet=MEMBER_ID_ALPHABET, min_size=MEMBER_ID_BODY_LENGTH, max_size=MEMBER_ID_BODY_LENGTH)


# --- NPI ---------------------------------------------------------------------------------

@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126", "1467560003"])
def test_known_valid_npis(npi):
    assert npi_is_valid(npi)
    validate_npi(npi)  # does not raise


@pytest.mark.parametrize("npi", ["1234567890", "1234567894", "1245319590", "1003000127"])
def test_known_npis_with_a_wrong_check_digit_fail(npi):
    assert not npi_is_valid(npi)
    with pytest.raises(ValidationError) as exc:
        validate_npi(npi)
    assert exc.value.code == "npi_check_digit"


@pytest.mark.parametrize("npi", ["", "123456789", "12345678930", "12345678a3", " 234567893", None, 1234567893])
def test_malformed_npis_fail_on_format(npi):
    assert not npi_is_valid(npi)
    with pytest.raises(ValidationError) as exc:
        validate_npi(npi)
    assert exc.value.code == "npi_format"


def test_luhn_check_digit_of_the_cms_example():
    # CMS's worked example: 80840 + 123456789 -> check digit 3.
    assert luhn_check_digit("80840123456789") == 3
    assert npi_with_check_digit("123456789") == "1234567893"


@given(nine_digits)
def test_npi_with_check_digit_always_validates(body):
    npi = npi_with_check_digit(body)
    assert len(npi) == 10 and npi[:9] == body
    assert npi_is_valid(npi)


@given(nine_digits, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_fails(body, position, delta):
    npi = npi_with_check_digit(body)
    changed = npi[:position] + str((int(npi[position]) + delta) % 10) + npi[position + 1:]
    assert changed != npi
    assert not npi_is_valid(changed)


# --- Member ID ---------------------------------------------------------------------------

def test_generated_member_ids_are_valid_and_unambiguous():
    for _ in range(200):
        member_id = member_id_generate()
        assert len(member_id) == MEMBER_ID_BODY_LENGTH + 1
        assert member_id_is_valid(member_id)
        assert not set(member_id) & set("ILOU")


@given(member_body)
def test_member_id_check_char_makes_a_valid_id(body):
    assert member_id_is_valid(body + member_id_check_char(body))


@given(member_body, st.integers(min_value=0, max_value=MEMBER_ID_BODY_LENGTH),
       st.integers(min_value=1, max_value=len(MEMBER_ID_ALPHABET) - 1))
def test_any_single_character_substitution_is_detected(body, position, shift):
    member_id = body + member_id_check_char(body)
    old = MEMBER_ID_ALPHABET.index(member_id[position])
    wrong = MEMBER_ID_ALPHABET[(old + shift) % len(MEMBER_ID_ALPHABET)]
    changed = member_id[:position] + wrong + member_id[position + 1:]
    assert changed != member_id
    assert not member_id_is_valid(changed)


@pytest.mark.parametrize("value", ["", "ABC", "0123456789A", "ABCDEFGHIL", "abcdefghjk", None])
def test_malformed_member_ids_fail(value):
    assert not member_id_is_valid(value)
    with pytest.raises(ValidationError):
        validate_member_id(value)


# --- EIN and TIN -------------------------------------------------------------------------

@pytest.mark.parametrize("ein", ["41-7283956", "12-3456789", "98-0000001", "20-0000000"])
def test_valid_eins(ein):
    validate_ein(ein)


@pytest.mark.parametrize("ein", ["417283956", "41-728395", "41 7283956", "4a-7283956", "", "41-72839567"])
def test_eins_in_the_wrong_format_fail(ein):
    with pytest.raises(ValidationError) as exc:
        validate_ein(ein)
    assert exc.value.code == "ein_format"


@pytest.mark.parametrize("prefix", ["00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78",
                                    "79", "89", "96", "97"])
def test_eins_with_a_prefix_the_irs_never_issues_fail(prefix):
    with pytest.raises(ValidationError) as exc:
        validate_ein(f"{prefix}-1234567")
    assert exc.value.code == "ein_prefix"


@pytest.mark.parametrize("tin", ["12-3456789", "123456789"])
def test_valid_tins(tin):
    validate_tin(tin)


@pytest.mark.parametrize("tin", ["12-345678", "1234567890", "12_3456789", "ab-cdefghi", ""])
def test_invalid_tins(tin):
    with pytest.raises(ValidationError) as exc:
        validate_tin(tin)
    assert exc.value.code == "tin_format"
