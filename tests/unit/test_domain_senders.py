"""Sender ids as operators accept them: names of up to 11 letters, digits and spaces, or numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.senders import SenderKind, parse_sender
from herald.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "text", "kind"),
    [
        ("MFIBank", "MFIBank", SenderKind.ALPHANUMERIC),
        ("  Kampala Br ", "Kampala Br", SenderKind.ALPHANUMERIC),
        ("Bank2025", "Bank2025", SenderKind.ALPHANUMERIC),
        ("+256 700 000001", "+256700000001", SenderKind.NUMBER),
        ("+254712345678", "+254712345678", SenderKind.NUMBER),
        ("12345", "12345", SenderKind.NUMBER),  # a short code
    ],
)
def test_a_name_or_a_number_is_accepted_as_the_provider_will_receive_it(value: str, text: str, kind: str) -> None:
    sender = parse_sender(value, provider_kind="twilio")
    assert sender is not None and (sender.text, sender.kind) == (text, kind)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_sender_id_means_the_providers_own_sender(value: str | None) -> None:
    assert parse_sender(value) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("MicroFinance Bank", "at most 11"),
        ("MFI-Bank", "'-'"),
        ("Bänk", "'ä'"),
        ("MFI_Bank!", "'!_'"),
        ("+12", "3 to 15"),
        ("+1234567890123456", "3 to 15"),
        ("254712345678", "+254712345678"),  # national or international? written with + it is clear
        ("0772 000 001", "international"),
    ],
)
def test_a_sender_id_handsets_cannot_show_is_refused_saying_why(value: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_sender(value, provider_kind="infobip")
    assert refused.value.field == "senderId"
    assert says in str(refused.value)


def test_smpp_links_take_longer_numbers_than_e164() -> None:
    number = "+" + "1" * 20
    sender = parse_sender(number, provider_kind="smpp")
    assert sender is not None and sender.kind is SenderKind.NUMBER
    with pytest.raises(ValidationError):
        parse_sender(number, provider_kind="twilio")


@given(st.text(max_size=30))
def test_any_text_is_either_a_checked_sender_or_a_clear_refusal(value: str) -> None:
    try:
        sender = parse_sender(value, provider_kind="twilio")
    except ValidationError as refused:
        assert refused.field == "senderId"
        return
    if sender is None:
        assert value.strip() == ""
    elif sender.kind is SenderKind.ALPHANUMERIC:
        assert 1 <= len(sender.text) <= 11 and any(c.isalpha() for c in sender.text)
        assert all(c.isascii() and (c.isalnum() or c == " ") for c in sender.text)
    else:
        assert sender.digits.isdigit() and 3 <= len(sender.digits) <= 15
        assert sender.international or len(sender.digits) <= 8  # longer numbers carry their "+"
