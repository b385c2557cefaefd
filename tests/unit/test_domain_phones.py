"""Normalising Fineract's free-text mobile numbers to E.164, and masking them for logs."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from herald.domain import phones
from herald.domain.phones import PhoneNumber, PhoneProblem, PhoneRejection, mask, normalize
from herald.errors import ConfigurationError


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+254 712 345 678", "KE", "+254712345678"),
        ("+254712345678", "KE", "+254712345678"),
        ("0712345678", "KE", "+254712345678"),
        ("712345678", "KE", "+254712345678"),
        ("254712345678", "KE", "+254712345678"),
        ("254712345678", "UG", "+254712345678"),
        ("00256 772 123456", "KE", "+256772123456"),
        ("00256772123456", "UG", "+256772123456"),
        ("0712-345-678", "KE", "+254712345678"),
        ("0712.345.678", "KE", "+254712345678"),
        ("(0712) 345 678", "KE", "+254712345678"),
        ("  0712 345678\t", "KE", "+254712345678"),
        ("0712\u00a0345\u00a0678", "KE", "+254712345678"),
        ("+254 (0) 712 345 678", "KE", "+254712345678"),
        ("0772123456", "UG", "+256772123456"),
        ("0754 123 456", "TZ", "+255754123456"),
        ("08031234567", "NG", "+2348031234567"),
        ("07911 123456", "GB", "+447911123456"),
        ("+1 (212) 555-0100", "KE", "+12125550100"),
        ("2125550100", "US", "+12125550100"),
        ("011 15 2345 6789", "AR", "+5491123456789"),
        ("+39 333 123 4567", "IT", "+393331234567"),
        # Starts with Italy's 39 yet is a national mobile; read as +39 89466905 it would be a VoIP number.
        ("3989466905", "IT", "+393989466905"),
    ],
)
def test_fineract_free_text_numbers_normalise_to_e164(raw: str, region: str, e164: str) -> None:
    assert normalize(raw, region) == PhoneNumber(e164)


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_empty_or_blank_number_is_missing(raw: str | None) -> None:
    assert normalize(raw, "KE") == PhoneRejection("***", PhoneProblem.MISSING)


@pytest.mark.parametrize(
    "raw", ["abc", "n/a", "1-800-FLOWERS", "+254712345678 ext 12", "tel:+254712345678", "+", "++254712345678"]
)
def test_letters_and_garbage_are_unparseable(raw: str) -> None:
    rejection = normalize(raw, "KE")
    assert isinstance(rejection, PhoneRejection)
    assert rejection.problem is PhoneProblem.UNPARSEABLE


@pytest.mark.parametrize(
    "raw", ["0", "12", "0712345", "07123456789", "+254 712 345 6789", "0254712345678", "+999 1234567"]
)
def test_wrong_lengths_and_unknown_country_codes_are_invalid(raw: str) -> None:
    rejection = normalize(raw, "KE")
    assert isinstance(rejection, PhoneRejection)
    assert rejection.problem is PhoneProblem.INVALID


@pytest.mark.parametrize(
    ("raw", "region"), [("0201234567", "KE"), ("+254 20 1234567", "UG"), ("+39 06 1234 5678", "IT")]
)
def test_valid_fixed_lines_are_refused_as_not_mobile(raw: str, region: str) -> None:
    rejection = normalize(raw, region)
    assert isinstance(rejection, PhoneRejection)
    assert rejection.problem is PhoneProblem.NOT_MOBILE


def test_fixed_line_or_mobile_numbers_are_accepted() -> None:
    number = phonenumbers.parse("+12125550100")
    assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE
    assert normalize("+12125550100", "KE") == PhoneNumber("+12125550100")


def test_rejections_never_carry_the_full_number() -> None:
    rejection = normalize("0201234567", "KE")
    assert isinstance(rejection, PhoneRejection)
    assert "0201234567" not in rejection.raw_masked
    assert rejection.raw_masked == "02012***67"


def test_problem_values_are_the_user_facing_reasons() -> None:
    assert PhoneProblem.MISSING.value == "no mobile number"
    assert PhoneProblem.UNPARSEABLE.value == "not a phone number"
    assert PhoneProblem.INVALID.value == "not a valid number"
    assert str(PhoneProblem.NOT_MOBILE) == "not a mobile number"


def test_unknown_default_region_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="XX"):
        normalize("0712345678", "XX")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+254712345678", "+2547******78"),
        ("0712345678", "07123***78"),
        ("+12125550100", "+1212*****00"),
        ("123456789", "***"),
        ("12", "***"),
        ("", "***"),
        (None, "***"),
    ],
)
def test_mask_keeps_first_five_and_last_two_characters_or_hides_everything(
    raw: str | None, masked: str
) -> None:
    assert mask(raw) == masked


def test_mask_never_returns_the_input_unchanged() -> None:
    for length in range(0, 20):
        raw = "9" * length
        assert mask(raw) != raw or length == 0
        assert mask(raw).count("*") >= min(length, 3) or mask(raw) == "***"


_REGIONS = ["KE", "UG", "TZ", "NG", "RW", "ZM", "GH", "GB", "US", "IN", "BR", "AR", "MX", "IT", "PH", "KH"]


def _spellings(rng: random.Random, region: str) -> list[str]:
    """Mobile, fixed and mutated numbers of `region`, written in every way the fast path handles."""
    out = []
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        cc, nsn = str(example.country_code), phonenumbers.national_significant_number(example)
        for _ in range(25):
            digits = list(nsn)
            for _ in range(rng.randint(0, 3)):
                digits[rng.randrange(len(digits))] = rng.choice("0123456789")
            if rng.random() < 0.2:
                digits.insert(rng.randrange(len(digits)), rng.choice("0123456789"))
            if rng.random() < 0.2 and len(digits) > 3:
                del digits[rng.randrange(len(digits))]
            mutated = "".join(digits)
            out += ["+" + cc + mutated, "0" + mutated, mutated, cc + mutated, "+" + cc + "0" + mutated]
    return out


def test_fast_path_builds_exactly_what_phonenumbers_parse_builds() -> None:
    rng = random.Random(20240501)
    checked = 0
    for region in _REGIONS:
        compiled = phones._region(region)
        for text in _spellings(rng, region):
            fast = phones._fast(text, compiled)
            if fast is None:
                continue
            number, kind = fast
            parsed = phonenumbers.parse(text, region)
            assert number == parsed, (region, text)
            assert phonenumbers.is_valid_number(parsed)
            assert kind == phonenumbers.number_type(parsed)
            checked += 1
    assert checked > 500  # the fast path really is taken for the common spellings


def test_accepted_numbers_are_always_valid_mobile_capable_e164() -> None:
    rng = random.Random(7)
    for region in _REGIONS:
        for text in _spellings(rng, region):
            result = normalize(text, region)
            if isinstance(result, PhoneNumber):
                parsed = phonenumbers.parse(result.e164)
                assert phonenumbers.is_valid_number(parsed), (region, text)
                assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == result.e164
                assert phonenumbers.number_type(parsed) not in {
                    phonenumbers.PhoneNumberType.FIXED_LINE,
                    phonenumbers.PhoneNumberType.TOLL_FREE,
                    phonenumbers.PhoneNumberType.PREMIUM_RATE,
                }
