"""Masking phone numbers inside free text: what a viewer sees of bodies, provider error texts and reasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.redact import looks_like_phone, redact_phones


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "The 'To' number +15005550001 is not a valid phone number.",
            "The 'To' number +1500*****01 is not a valid phone number.",
        ),
        ("Dear Ann, your number is 0712345678.", "Dear Ann, your number is 07******78."),
        ("Call 0712 345 678 now", "Call 07******78 now"),
        ("Call +254 712 345 678 now", "Call +2547******78 now"),
        ("Call +254-712-345-678", "Call +2547******78"),
        ("Call +1 (500) 555-0001!", "Call +1500*****01!"),
        ("to 254712345678 or 00254712345678", "to 25********78 or 00**********78"),
        ("nine digits 712345678", "nine digits ***"),
        ("To:+254712345678,", "To:+2547******78,"),
    ],
)
def test_numbers_in_text_are_masked(text: str, shown: str) -> None:
    assert redact_phones(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Dear Ann, KES 1,200,000.00 is due on 01 Dec 2026 for loan 000123.",
        "Unreachable destination handset",
        "Error 30003, attempt 2 of 4",
        "12345678 is a client id",
        "",
    ],
)
def test_text_without_numbers_is_left_alone(text: str) -> None:
    assert redact_phones(text) == text
    assert not looks_like_phone(text)


def test_none_stays_none() -> None:
    assert redact_phones(None) is None


@pytest.mark.parametrize(
    ("term", "phone"),
    [("0712345678", True), ("0712 345 678", True), ("+2547123", True), ("254712345678", True),
     ("+2547", False), ("071234", False), ("1042", False), ("loan", False)],
)
def test_what_looks_like_a_phone(term: str, phone: bool) -> None:
    assert looks_like_phone(term) is phone


_SEPARATORS = ["", " ", "-", ".", "/"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=9, max_size=15),
    st.lists(st.sampled_from(_SEPARATORS), min_size=15, max_size=15),
    st.booleans(),
    st.sampled_from(["", "Dear Ann ", "x:", "("]),
    st.sampled_from(["", " thanks", ".", ")"]),
)
def test_no_run_of_the_hidden_digits_survives(
    digits: str, gaps: list[str], plus: bool, before: str, after: str
) -> None:
    written = ("+" if plus else "") + "".join(d + g for d, g in zip(digits, gaps, strict=False)).rstrip(" -./")
    shown = redact_phones(before + written + after)
    assert shown is not None
    visible = "".join(c for c in shown if c.isdigit())
    assert len(visible) <= 6  # at most "+2547" and the last two, as for any number shown masked
    assert digits[2:-2] not in visible
