"""Normalising the free-text mobile numbers Fineract holds (`m_client.mobile_no`) to E.164, and masking them.

Validity is always phonenumbers' verdict. What this module adds:

- Fineract's field is free text, so a number is tried as written for the default region, then, if
  that is not valid, as an international number without its "+" ("254712345678" with region UG)
  or with "00" as the international prefix ("00256 772 123456" where the region's own prefix is
  "000", as in Kenya).
- A valid number that cannot receive SMS (a fixed line, toll-free, premium rate ...) is rejected
  as NOT_MOBILE. phonenumbers reports FIXED_LINE_OR_MOBILE where a country's plans overlap (the US,
  Canada, China ...); those are accepted.
- Speed: `phonenumbers.parse` costs about 12 µs and `number_type` another 5, which a campaign over
  a million clients cannot afford. For the formats that dominate Fineract data (+CC..., national
  0..., CC... without "+", separators already stripped) a fast path takes the country code and
  national number straight from the digits, only where phonenumbers' own parsing provably gives
  the same result (no IDD, no national-prefix regex, no leading zero). It then types the number
  with `_Ranges`: number_type's own algorithm over the library's metadata, its patterns compiled
  once and those a number's length rules out dropped once, so no PhoneNumber object is built.
  Anything else, and anything the fast path finds invalid, goes through `phonenumbers.parse` and
  `phonenumbers.number_type`. The tests hold both to plain phonenumbers on tens of thousands of
  numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberDesc, PhoneNumberType

from herald.errors import ConfigurationError


class PhoneProblem(StrEnum):
    """Why a client's number cannot be messaged; the value is the reason shown to users."""

    MISSING = "no mobile number"
    UNPARSEABLE = "not a phone number"
    INVALID = "not a valid number"
    NOT_MOBILE = "not a mobile number"


@dataclass(frozen=True)
class PhoneNumber:
    """A number a message can be sent to, in E.164 ("+254712345678")."""

    e164: str


@dataclass(frozen=True)
class PhoneRejection:
    """A number that cannot be messaged; `raw_masked` is safe to log and show."""

    raw_masked: str
    problem: PhoneProblem


# Types that can receive SMS. PERSONAL_NUMBER and VOIP ranges commonly forward to a handset;
# PAGER, UAN, VOICEMAIL, TOLL_FREE, PREMIUM_RATE, SHARED_COST and FIXED_LINE do not.
_SMS_CAPABLE = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.VOIP,
    }
)

# What people type around digits; anything else (letters, "x123" extensions, "tel:") is refused
# rather than interpreted, because phonenumbers would read "1-800-FLOWERS" as digits.
_ACCEPTABLE = re.compile(r"\+?[0-9 \t\-./()\u00a0]+", re.ASCII)
_SEPARATORS = str.maketrans("", "", " \t-./()\u00a0")
_MAX_NSN_LENGTH = 17  # phonenumbers' own limit

# (country code, national significant number, phonenumbers.number_type of the two)
_Fast = tuple[int, str, int]


@dataclass(frozen=True)
class _Region:
    country_code: int
    country_code_str: str
    idd: re.Pattern[str] | None
    national_prefix: str | None  # only when it is a plain digit string without transform
    max_length: int


@lru_cache(maxsize=512)
def _region(region: str) -> _Region:
    metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
    if metadata is None or metadata.country_code is None or metadata.general_desc is None:
        raise ConfigurationError(
            f"Unknown default phone region {region!r}.",
            hint="Set it to the ISO 3166 two-letter code of the institution's country, e.g. KE.",
        )
    prefix = metadata.national_prefix_for_parsing
    plain_prefix = (
        prefix
        if prefix and prefix.isdigit() and prefix.isascii() and not metadata.national_prefix_transform_rule
        else None
    )
    idd = metadata.international_prefix
    return _Region(
        country_code=metadata.country_code,
        country_code_str=str(metadata.country_code),
        idd=re.compile(idd) if idd else None,
        national_prefix=plain_prefix,
        max_length=max(metadata.general_desc.possible_length or (_MAX_NSN_LENGTH,)),
    )


# number_type's order: the first of these ranges a number falls in is its type, before fixed line
# and mobile are looked at.
_TYPES_BEFORE_FIXED_LINE = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


@dataclass(frozen=True)
class _Checks:
    """The patterns number_type would try on a national number of one length, in its order."""

    general: re.Pattern[str] | None  # None: no number of this length is valid
    before_fixed_line: tuple[tuple[re.Pattern[str], int], ...]
    fixed_line: re.Pattern[str] | None
    mobile: re.Pattern[str] | None
    same_mobile_and_fixed_line: bool


def _pattern_for(desc: PhoneNumberDesc | None, length: int) -> re.Pattern[str] | None:
    """desc's pattern when a number of `length` can match it, as `_is_number_matching_desc` decides."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return _compiled(desc.national_number_pattern)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class _Ranges:
    """One region's number types, decided as `phonenumbers.number_type` does with patterns compiled once.

    number_type looks each pattern up in a cache and tries every type in turn; here the patterns a
    number of a given length cannot match are dropped once, so a mobile number costs a few
    `fullmatch` calls.
    """

    def __init__(self, metadata: PhoneMetadata) -> None:
        self._metadata = metadata
        self._by_length: dict[int, _Checks] = {}

    def number_type(self, nsn: str) -> int:
        checks = self._by_length.get(len(nsn)) or self._checks(len(nsn))
        if checks.general is None or checks.general.fullmatch(nsn) is None:
            return PhoneNumberType.UNKNOWN
        for pattern, kind in checks.before_fixed_line:
            if pattern.fullmatch(nsn) is not None:
                return kind
        mobile = checks.mobile is not None and checks.mobile.fullmatch(nsn) is not None
        if checks.fixed_line is not None and checks.fixed_line.fullmatch(nsn) is not None:
            if checks.same_mobile_and_fixed_line or mobile:
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not checks.same_mobile_and_fixed_line and mobile:
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN

    def _checks(self, length: int) -> _Checks:
        metadata = self._metadata
        before = tuple(
            (pattern, kind)
            for name, kind in _TYPES_BEFORE_FIXED_LINE
            if (pattern := _pattern_for(getattr(metadata, name), length)) is not None
        )
        checks = _Checks(
            general=_pattern_for(metadata.general_desc, length),
            before_fixed_line=before,
            fixed_line=_pattern_for(metadata.fixed_line, length),
            mobile=_pattern_for(metadata.mobile, length),
            same_mobile_and_fixed_line=bool(metadata.same_mobile_and_fixed_line_pattern),
        )
        self._by_length[length] = checks
        return checks


@dataclass(frozen=True)
class _Country:
    """What the fast path needs of a calling code: parse()'s national-prefix check, and number types."""

    national_prefix_for_parsing: re.Pattern[str] | None
    # The regions sharing the calling code, in the library's order, with their leading digits.
    regions: tuple[tuple[re.Pattern[str] | None, _Ranges], ...]
    single_region: bool

    def number_type(self, nsn: str) -> int:
        """`phonenumbers.number_type` of +code nsn, nsn without leading zero, as region_code_for_number picks."""
        if self.single_region:
            return self.regions[0][1].number_type(nsn) if self.regions else PhoneNumberType.UNKNOWN
        for leading_digits, ranges in self.regions:
            if leading_digits is not None:
                if leading_digits.match(nsn):
                    return ranges.number_type(nsn)
                continue
            kind = ranges.number_type(nsn)
            if kind != PhoneNumberType.UNKNOWN:
                return kind
        return PhoneNumberType.UNKNOWN


@lru_cache(maxsize=512)
def _country(country_code: int) -> _Country | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    regions = []
    for code in codes:
        if len(codes) == 1:
            found = PhoneMetadata.metadata_for_region_or_calling_code(country_code, code)
        else:
            found = PhoneMetadata.metadata_for_region(code.upper(), None)
        if found is not None:
            leading = _compiled(found.leading_digits) if found.leading_digits is not None else None
            regions.append((leading, _Ranges(found)))
    return _Country(
        national_prefix_for_parsing=re.compile(prefix) if prefix else None,
        regions=tuple(regions),
        single_region=len(codes) == 1,
    )


def _international(digits: str) -> _Fast | None:
    """What phonenumbers would parse from "+" + digits, when that is plain to see."""
    if not digits or digits[0] == "0":
        return None
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _with_country(code, digits[size:])
    return None


def _with_country(code: int, nsn: str) -> _Fast | None:
    country = _country(code)
    if country is None or not 2 <= len(nsn) <= _MAX_NSN_LENGTH or nsn[0] == "0":
        return None
    prefix = country.national_prefix_for_parsing
    if prefix is not None and prefix.match(nsn):
        return None  # parse() might strip or transform a national prefix: let it decide
    return code, nsn, country.number_type(nsn)


def _national(digits: str, region: _Region) -> _Fast | None:
    """What phonenumbers would parse from national `digits` in `region`, when plain to see."""
    if region.idd is None or region.idd.match(digits):
        return None
    if digits.startswith(region.country_code_str):
        # parse() takes a leading country code off when the whole is too long to be national.
        if len(digits) > region.max_length:
            return _with_country(region.country_code, digits[len(region.country_code_str) :])
        return None
    prefix = region.national_prefix
    if prefix is None or not digits.startswith(prefix):
        return None
    return _with_country(region.country_code, digits[len(prefix) :])


def _fast(text: str, region: _Region) -> _Fast | None:
    """The country code, national significant number and type of a valid number, without parse().

    None means "ask parse()": the spelling is not plain, or the number is not valid as read.
    """
    found = _international(text[1:]) if text[0] == "+" else _national(text, region)
    if found is None or found[2] == PhoneNumberType.UNKNOWN:
        return None
    return found


def _candidates(text: str) -> list[str]:
    if text[0] == "+":
        return [text]
    if text.startswith("00"):
        return [text, "+" + text[2:]]
    if text[0] == "0":
        return [text]
    return [text, "+" + text]


def normalize(raw: str | None, default_region: str) -> PhoneNumber | PhoneRejection:
    """`raw` as E.164 if it is a valid number that can receive SMS, else why not.

    `default_region` (ISO 3166 alpha-2, e.g. "KE") interprets national numbers; an unknown region
    raises ConfigurationError.
    """
    region = _region(default_region)
    stripped = raw.strip() if raw is not None else ""
    if not stripped:
        return PhoneRejection(mask(raw), PhoneProblem.MISSING)
    if _ACCEPTABLE.fullmatch(stripped) is None:
        return PhoneRejection(mask(stripped), PhoneProblem.UNPARSEABLE)
    text = stripped.translate(_SEPARATORS)
    if len(text) < 2:
        return PhoneRejection(mask(stripped), PhoneProblem.INVALID)

    fast = _fast(text, region)
    if fast is not None:
        code, nsn, kind = fast
        if kind in _SMS_CAPABLE:
            return PhoneNumber(f"+{code}{nsn}")
        return PhoneRejection(mask(text), PhoneProblem.NOT_MOBILE)

    for candidate in _candidates(text):
        try:
            number = phonenumbers.parse(candidate, default_region)
        except NumberParseException:
            continue
        kind = phonenumbers.number_type(number)
        if kind == PhoneNumberType.UNKNOWN:
            continue
        if kind in _SMS_CAPABLE:
            return PhoneNumber(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        return PhoneRejection(mask(text), PhoneProblem.NOT_MOBILE)
    return PhoneRejection(mask(text), PhoneProblem.INVALID)


def mask(number: str | None) -> str:
    """`number` fit for logs and non-admins: "+2547******78", "07******78".

    An international number keeps its "+", country code and first digit and its last 2; anything
    else keeps only its first 2 and last 2, so a national 0712345678 hides the same six digits as
    +254712345678 does. Anything of 9 characters or fewer (or None) becomes "***", so a full
    number is never returned.
    """
    if number is None or len(number) <= 9:
        return "***"
    keep = 5 if number.startswith("+") else 2
    return number[:keep] + "*" * (len(number) - keep - 2) + number[-2:]
