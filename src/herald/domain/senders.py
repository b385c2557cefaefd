"""Sender ids: the name or number a campaign's messages come from, and what each kind of provider accepts.

An institution sends under an alphanumeric sender id per branch or product ("MFIBank",
"Kampala Br"): handsets show it instead of a number and nobody can reply to it. Operators and
providers agree on the rules that matter: at most 11 characters of A-Z, a-z, 0-9 and space with
at least one letter (a name of digits only would read as a number), or an international number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from herald.errors import ValidationError

ALPHANUMERIC_MAX = 11  # GSM 03.40 caps an alphanumeric originator at 11 characters
SHORT_CODE_MAX = 8  # digits without "+": a short code; anything longer is a number, written international
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9 ]+")
_NUMBER = re.compile(r"\+?[0-9]+")
# E.164 has 15 digits; SMPP allows 20 octets
_NUMBER_MAX = {"twilio": 15, "infobip": 15, "africastalking": 15, "smpp": 20, "simulator": 15}


class SenderKind(StrEnum):
    ALPHANUMERIC = "alphanumeric"
    NUMBER = "number"


@dataclass(frozen=True)
class SenderId:
    text: str  # as the provider receives it: a name, a short code, or "+" and an international number's digits
    kind: SenderKind

    @property
    def international(self) -> bool:
        return self.text.startswith("+")

    @property
    def digits(self) -> str:
        return self.text.lstrip("+")


def parse_sender(value: str | None, *, provider_kind: str = "simulator") -> SenderId | None:
    """The sender id `value` names, checked for `provider_kind`; None when empty (the provider's own sender)."""
    text = (value or "").strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text.replace(" ", "")):
        number = text.replace(" ", "")
        if not number.startswith("+") and len(number) > SHORT_CODE_MAX:
            # 0772... or 2547... could be national or international; providers want E.164 (and SMPP its TON).
            raise ValidationError(
                f"Sender id {text!r} is a number without its country code sign; write it as an international "
                f"number such as +{number.lstrip('0')} (a short code has at most {SHORT_CODE_MAX} digits).",
                field="senderId",
            )
        limit = _NUMBER_MAX.get(provider_kind, 15)
        if not 3 <= len(number.lstrip("+")) <= limit:
            raise ValidationError(
                f"Sender id {text!r} is a number of {len(number.lstrip('+'))} digits; {provider_kind} takes 3 to "
                f"{limit} (an international number such as +256700000001).",
                field="senderId",
            )
        return SenderId(number, SenderKind.NUMBER)
    if len(text) > ALPHANUMERIC_MAX:
        raise ValidationError(
            f"Sender id {text!r} has {len(text)} characters; an alphanumeric sender id has at most "
            f"{ALPHANUMERIC_MAX}, such as 'MFIBank'.",
            field="senderId",
        )
    if not _ALPHANUMERIC.fullmatch(text):
        wrong = "".join(sorted({c for c in text if not _ALPHANUMERIC.fullmatch(c)}))
        raise ValidationError(
            f"Sender id {text!r} has characters handsets do not show ({wrong!r}); use A-Z, a-z, 0-9 and spaces.",
            field="senderId",
        )
    return SenderId(text, SenderKind.ALPHANUMERIC)
