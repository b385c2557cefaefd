"""Normalising the free-text mobile numbers Fineract holds (`m_client.mobile_no`) to E.164, and masking them.

Validity is always phonenumbers' verdict. What this module adds:

- Fineract's field is free text, so a number is tried as written for the default region, then, if
  that is not valid, as an international number without its "+" ("254712345678" with region UG)
  or with "00" as the international prefix ("00256 772 123456" where the region's own prefix is
  "000", as in Kenya).
- A valid number that cannot receive SMS (a fixed line, toll-free, premium rate ...) is rejected
  as NOT_MOBILE. phonenumbers reports FIXED_LINE_OR_MOBILE where a country's plans overlap (the US,
  Canada, China ...); those are accepted.
- Speed: `phonenumbers.parse` costs about 12 µs and validation another 5. For the formats that
  dominate Fineract data (+CC..., national 0..., CC... without "+") a fast path builds the number
  directly, only where phonenumbers' own parsing provably gives the same result (no IDD, no
  national-prefix regex, no leading zero), then validates it with `phonenumbers.number_type`.
  Anything else, and anything the fast path finds invalid, goes through `phonenumbers.parse`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberType

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


@dataclass(frozen=True)
class _Region:
    country_code: int
    country_code_str: str
    idd: re.Pattern[str] | None
    national_prefix: str | None  # only when it is a plain digit string without transform
    max_length: int


@dataclass(frozen=True)
class _Country:
    national_prefix_for_parsing: re.Pattern[str] | None


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


@lru_cache(maxsize=512)
def _country(country_code: int) -> _Country | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    return _Country(national_prefix_for_parsing=re.compile(prefix) if prefix else None)


def _international(digits: str) -> phonenumbers.PhoneNumber | None:
    """The number phonenumbers would parse from "+" + digits, when that is plain to see."""
    if not digits or digits[0] == "0":
        return None
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _with_country(code, digits[size:])
    return None


def _with_country(code: int, nsn: str) -> phonenumbers.PhoneNumber | None:
    country = _country(code)
    if country is None or not 2 <= len(nsn) <= _MAX_NSN_LENGTH or nsn[0] == "0":
        return None
    prefix = country.national_prefix_for_parsing
    if prefix is not None and prefix.match(nsn):
        return None  # parse() might strip or transform a national prefix: let it decide
    return phonenumbers.PhoneNumber(country_code=code, national_number=int(nsn))


def _national(digits: str, region: _Region) -> phonenumbers.PhoneNumber | None:
    """The number phonenumbers would parse from national `digits` in `region`, when plain to see."""
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


def _fast(text: str, region: _Region) -> tuple[phonenumbers.PhoneNumber, int] | None:
    """A valid number and its type, built without parse(); None means "ask parse()"."""
    number = _international(text[1:]) if text[0] == "+" else _national(text, region)
    if number is None:
        return None
    kind: int = phonenumbers.number_type(number)
    return None if kind == PhoneNumberType.UNKNOWN else (number, kind)


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
        number, kind = fast
        if kind in _SMS_CAPABLE:
            return PhoneNumber(f"+{number.country_code}{number.national_number}")
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
    """`number` fit for logs: the first 5 and last 2 characters kept ("+2547******78").

    Anything of 9 characters or fewer (or None) becomes "***", so at least two characters are
    always hidden and a full number is never returned.
    """
    if number is None or len(number) <= 9:
        return "***"
    return number[:5] + "*" * (len(number) - 7) + number[-2:]
