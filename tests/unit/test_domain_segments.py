"""GSM-7 / UCS-2 segment counting and splitting, checked against the reference test vectors."""

from __future__ import annotations

import itertools
import random

import pytest

from herald.domain.segments import Encoding, SegmentInfo, count_segments, gsm7_encode, split_parts

GSM7, UCS2 = Encoding.GSM7, Encoding.UCS2
EMOJI = "\U0001f600"

# providers.md 4.5, every row.
REFERENCE_VECTORS = [
    ("a" * 160, GSM7, 160, 1),
    ("a" * 161, GSM7, 161, 2),
    ("a" * 306, GSM7, 306, 2),
    ("a" * 307, GSM7, 307, 3),
    ("€", GSM7, 2, 1),
    ("€" * 80, GSM7, 160, 1),
    ("€" * 81, GSM7, 162, 2),
    ("a" * 152 + "€" + "a" * 152, GSM7, 306, 3),
    ("a" * 153 + "€", GSM7, 155, 1),
    ("ж" * 70, UCS2, 70, 1),
    ("ж" * 71, UCS2, 71, 2),
    (EMOJI * 35, UCS2, 70, 1),
    (EMOJI * 36, UCS2, 72, 2),
    ("ж" * 66 + EMOJI + "ж" * 66, UCS2, 134, 3),
    ("ç", UCS2, 1, 1),
    ("`", UCS2, 1, 1),
    ("\u2019", UCS2, 1, 1),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), REFERENCE_VECTORS)
def test_reference_vector_counts_encoding_units_and_segments(
    text: str, encoding: Encoding, units: int, segments: int
) -> None:
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
    assert info.characters == len(text)


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), REFERENCE_VECTORS)
def test_reference_vector_splits_into_the_counted_number_of_parts(
    text: str, encoding: Encoding, units: int, segments: int
) -> None:
    got_encoding, parts = split_parts(text)
    assert got_encoding == encoding
    assert len(parts) == segments
    assert "".join(parts) == text


def test_every_basic_table_character_is_gsm7_costing_one_septet() -> None:
    basic = (
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    assert len(basic) == 127
    for ch in basic:
        assert count_segments(ch) == SegmentInfo(GSM7, 1, 1, 1), repr(ch)


def test_every_extension_character_is_gsm7_costing_two_septets() -> None:
    for ch in "\f^{}\\[~]|€":
        assert count_segments(ch) == SegmentInfo(GSM7, 2, 1, 1), repr(ch)


@pytest.mark.parametrize(
    "ch",
    [
        *["`", "ç", "\t", "\x1b", "\u00a0", "$\u0301"],  # backtick, small ç, tab, ESC, nbsp, combining
        *["\u2018", "\u2019", "\u201c", "\u201d", "–", "—", "…"],  # typographic punctuation
        *["Α", "á", "ê", "ã"],  # Greek capital alpha, accents outside the table
    ],
)
def test_a_single_non_gsm_character_forces_ucs2_for_the_whole_message(ch: str) -> None:
    info = count_segments("Hello " + ch + " world")
    assert info.encoding is UCS2


def test_section_sign_is_gsm7_and_backtick_is_not() -> None:
    assert count_segments("§").encoding is GSM7
    assert gsm7_encode("§") == b"\x5f"
    assert count_segments("`").encoding is UCS2
    with pytest.raises(ValueError, match="U\\+0060"):
        gsm7_encode("`")


def test_empty_text_costs_no_sms_and_has_no_parts() -> None:
    assert count_segments("") == SegmentInfo(GSM7, 0, 0, 0)
    assert split_parts("") == (GSM7, [])


def test_accented_gsm_text_beyond_160_splits_at_153_septets() -> None:
    text = "é" * 200
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments) == (GSM7, 200, 2)
    assert [len(p) for p in split_parts(text)[1]] == [153, 47]


def test_gsm7_part_ending_on_an_extension_character_holds_152_septets() -> None:
    _, parts = split_parts("a" * 152 + "€" + "a" * 152)
    assert [len(gsm7_encode(p)) for p in parts] == [152, 153, 1]
    assert parts[1].startswith("€")


def test_ucs2_part_never_cuts_a_surrogate_pair() -> None:
    _, parts = split_parts("ж" * 66 + EMOJI + "ж" * 66)
    assert parts[0] == "ж" * 66
    assert parts[1].startswith(EMOJI)
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [66, 67, 1]


def test_ucs2_long_text_splits_at_67_units() -> None:
    _, parts = split_parts("ж" * 140)
    assert [len(p) for p in parts] == [67, 67, 6]


def test_gsm7_encode_gives_unpacked_septets_with_escape_before_extension_characters() -> None:
    assert gsm7_encode("@A£") == b"\x00\x41\x01"
    assert gsm7_encode("€") == b"\x1b\x65"
    assert gsm7_encode("{}[]") == b"\x1b\x28\x1b\x29\x1b\x3c\x1b\x3e"
    assert gsm7_encode("^\\~|\f") == b"\x1b\x14\x1b\x2f\x1b\x3d\x1b\x40\x1b\x0a"
    assert gsm7_encode("_Δ¤¡¿à\n\r") == b"\x11\x10\x24\x40\x60\x7f\x0a\x0d"
    assert gsm7_encode("") == b""


def test_gsm7_encode_refuses_non_gsm_text_naming_the_character_and_position() -> None:
    with pytest.raises(ValueError, match="position 3"):
        gsm7_encode("abcж")
    with pytest.raises(ValueError):
        gsm7_encode(EMOJI)
    with pytest.raises(ValueError):
        gsm7_encode("\x1b")


def test_gsm7_encode_length_equals_counted_septets() -> None:
    text = "Pay €100 [ref {42}] before 12/05 ~ thanks|ok^\\"
    assert len(gsm7_encode(text)) == count_segments(text).units


_ALPHABET = (
    ["a", "b", "Z", "0", " ", ".", ",", "\n"] * 6
    + list("€[]{}^~|\\\f")
    + list("éèÇÅßÑüà§¤¡¿ΔΩ")
    + ["ж", "ç", "`", "á", "\u2019", "—"]
    + ["\U0001f600", "\U0001f44d", "\U0001f1f0\U0001f1ea"]
)


def _units(part: str, encoding: Encoding) -> int:
    if encoding is GSM7:
        return len(gsm7_encode(part))
    return len(part.encode("utf-16-le")) // 2


def _random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        length = rng.choice([rng.randint(0, 20), rng.randint(60, 180), rng.randint(140, 500)])
        gsm_only = rng.random() < 0.5
        pool = [c for c in _ALPHABET if len(c) == 1 and c in "€[]{}^~|\\\féèÇÅßÑüà§¤¡¿ΔΩ"] + _ALPHABET[:48]
        texts.append("".join(rng.choice(pool if gsm_only else _ALPHABET) for _ in range(length)))
    return texts


@pytest.mark.parametrize("seed", range(5))
def test_count_and_split_agree_on_random_mixed_texts(seed: int) -> None:
    for text in _random_texts(seed, 400):
        info = count_segments(text)
        encoding, parts = split_parts(text)
        assert encoding == info.encoding
        assert info.segments == len(parts), text
        assert "".join(parts) == text
        assert sum(_units(p, encoding) for p in parts) == info.units
        if len(parts) == 1:
            assert info.units <= (160 if encoding is GSM7 else 70)
        else:
            capacity = 153 if encoding is GSM7 else 67
            assert all(0 < _units(p, encoding) <= capacity for p in parts)
            # Greedy: a part is only closed early when the next character would not fit.
            for part, following in itertools.pairwise(parts):
                assert _units(part, encoding) + _units(following[0], encoding) > capacity
