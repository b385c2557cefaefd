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
    assert rejection.raw_masked == "02******67"


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
        ("0712345678", "07******78"),
        ("254712345678", "25********78"),
        ("+12125550100", "+1212*****00"),
        ("123456789", "***"),
        ("12", "***"),
        ("", "***"),
        (None, "***"),
    ],
)
def test_mask_keeps_the_country_code_or_two_digits_and_the_last_two_or_hides_everything(
    raw: str | None, masked: str
) -> None:
    assert mask(raw) == masked


def test_a_national_number_hides_as_many_digits_as_its_e164_form() -> None:
    assert mask("0712345678").count("*") == mask("+254712345678").count("*") == 6


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
            code, nsn, kind = fast
            parsed = phonenumbers.parse(text, region)
            assert phonenumbers.PhoneNumber(country_code=code, national_number=int(nsn)) == parsed, (region, text)
            assert nsn == phonenumbers.national_significant_number(parsed)
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


# The test regions above, regions sharing a calling code (+1, +7, +44, +262), national prefixes
# other than "0" (US "1", RU "8", MX/AR with transform rules) and more of Africa.
_WIDE_REGIONS = [
    *_REGIONS,
    *["CA", "JM", "RU", "KZ", "GG", "JE", "IM", "RE", "YT", "DE", "FR", "CN", "AU", "ZA", "EG", "MW"],
    *["ET", "CD", "SN", "CI", "CM", "BI", "SS", "SO", "MZ", "ZW", "BW", "NA", "ID", "PK", "BD", "VN"],
]
_SMS_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.VOIP,
}


def _examples(region: str) -> list[phonenumbers.PhoneNumber]:
    """An example number of every type `region` has: mobile, fixed, toll-free, premium, VoIP ..."""
    found = (phonenumbers.example_number_for_type(region, kind) for kind in range(11))
    return [number for number in found if number is not None]


def _mutations(rng: random.Random, nsn: str, count: int) -> list[str]:
    """`nsn` with digits changed, added and taken away: valid neighbours, wrong types, wrong lengths."""
    out = [nsn]
    for _ in range(count):
        digits = list(nsn)
        for _ in range(rng.randint(0, 3)):
            digits[rng.randrange(len(digits))] = rng.choice("0123456789")
        if rng.random() < 0.25:
            digits.insert(rng.randrange(len(digits) + 1), rng.choice("0123456789"))
        if rng.random() < 0.25 and len(digits) > 3:
            del digits[rng.randrange(len(digits))]
        out.append("".join(digits))
    return out


def _written(rng: random.Random, region: str, cc: str, nsn: str) -> list[str]:
    """`nsn` the ways Fineract users type it: international, national, with and without separators."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    prefix = (metadata.national_prefix if metadata is not None else None) or "0"
    cut = rng.randint(1, max(1, len(nsn) - 1))
    head, tail = nsn[:cut], nsn[cut:]
    return [
        f"+{cc}{nsn}",
        f"+{cc} {head} {tail}",
        f"{prefix}{nsn}",
        f"{prefix}{head} {tail}",
        f"({prefix}{head}) {tail}",
        f"{prefix}{head}-{tail}",
        f"{prefix}{head}.{tail}",
        nsn,
        f"{cc}{nsn}",
        f"{cc}-{head}-{tail}",
        f"00{cc} {nsn}",
        f"+{cc} (0) {nsn}",
        f"+{cc}0{nsn}",
        f"0{cc}{nsn}",
    ]


_TYPED_SEPARATORS = str.maketrans("", "", " -.()")


def _plain_phonenumbers(text: str, region: str) -> PhoneNumber | PhoneRejection:
    """What normalize answers using nothing but phonenumbers: parse, validate, type, format."""
    digits = text.translate(_TYPED_SEPARATORS)
    if len(digits) < 2:
        return PhoneRejection(mask(text), PhoneProblem.INVALID)
    candidates = [digits]
    if digits.startswith("00"):
        candidates.append("+" + digits[2:])
    elif digits[0] not in "+0":
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        if phonenumbers.number_type(number) in _SMS_TYPES:
            return PhoneNumber(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        return PhoneRejection(mask(digits), PhoneProblem.NOT_MOBILE)
    return PhoneRejection(mask(digits), PhoneProblem.INVALID)


def test_normalize_answers_exactly_what_plain_phonenumbers_answers() -> None:
    rng = random.Random(20261125)
    checked = fast = 0
    outcomes: set[str] = set()
    for region in _WIDE_REGIONS:
        compiled = phones._region(region)
        for example in _examples(region):
            cc, nsn = str(example.country_code), phonenumbers.national_significant_number(example)
            for mutated in _mutations(rng, nsn, 12):
                for text in _written(rng, region, cc, mutated):
                    expected = _plain_phonenumbers(text, region)
                    assert normalize(text, region) == expected, (region, text)
                    fast += phones._fast(text.translate(_TYPED_SEPARATORS), compiled) is not None
                    outcomes.add("ACCEPTED" if isinstance(expected, PhoneNumber) else expected.problem.name)
                    checked += 1
    assert checked > 40_000
    assert fast > 10_000  # the comparison covers the fast path, not only the fallback
    assert outcomes == {"ACCEPTED", "INVALID", "NOT_MOBILE"}


def test_number_types_match_phonenumbers_in_every_region_and_non_geographic_code() -> None:
    rng = random.Random(11)
    numbers = [example for region in sorted(phonenumbers.SUPPORTED_REGIONS) for example in _examples(region)]
    numbers += [
        example
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
        if (example := phonenumbers.example_number_for_non_geo_entity(code)) is not None
    ]
    checked = 0
    for example in numbers:
        country = phones._country(example.country_code)
        assert country is not None
        for nsn in _mutations(rng, phonenumbers.national_significant_number(example), 20):
            if nsn[0] == "0":
                continue  # the fast path never builds these: parse() records the leading zero
            number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(nsn))
            assert country.number_type(nsn) == phonenumbers.number_type(number), (example.country_code, nsn)
            checked += 1
    assert checked > 20_000
