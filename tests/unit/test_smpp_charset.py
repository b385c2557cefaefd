"""SMPP text on the wire: GSM-7 decoding, a link alphabet's coding choice, each data_coding read, data_sm, payloads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.segments import Alphabet, Encoding, count_segments, gsm7_decode, gsm7_encode
from herald.errors import ConfigurationError
from herald.providers import smpp_charset as c
from herald.providers import smpp_pdu as p
from herald.providers.config import SmppSettings, load_providers

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"


def test_gsm7_decoding_inverts_encoding_for_every_character_of_both_tables() -> None:
    text = GSM7_BASIC + GSM7_EXTENSION
    assert gsm7_decode(gsm7_encode(text)) == text


def test_gsm7_septets_that_latin1_reads_wrongly_decode_to_their_gsm7_characters() -> None:
    assert gsm7_decode(b"\x00\x01\x1b\x65\x02\x11") == "@£€$_"


def test_gsm7_decoding_of_an_unknown_escape_a_double_escape_and_a_non_septet_never_raises() -> None:
    assert gsm7_decode(b"\x1b\x41") == "A"  # an escape the extension table lacks: the basic character
    assert gsm7_decode(b"\x1b\x1bx") == " x"
    assert gsm7_decode(b"a\xffb") == "a\ufffdb"


@pytest.mark.parametrize(
    ("alphabet", "octets", "text"),
    [
        (Alphabet.GSM7, b"\x00 \x01", "@ £"),
        (Alphabet.LATIN1, b"@ \xa3", "@ £"),
        (Alphabet.ASCII, b"STOP", "STOP"),
        (Alphabet.ASCII, b"caf\xe9", "caf\ufffd"),
    ],
)
def test_data_coding_0_is_read_with_the_link_alphabet(alphabet: Alphabet, octets: bytes, text: str) -> None:
    assert c.decode(octets, p.DC_DEFAULT, alphabet) == text
    assert c.decode(octets, 0xF1, alphabet) == text  # a GSM message class in the default alphabet: the same


@pytest.mark.parametrize(
    ("coding", "octets", "text"),
    [
        (p.DC_IA5, b"STOP @", "STOP @"),
        (p.DC_LATIN1, "café £".encode("latin-1"), "café £"),
        (p.DC_UCS2, "Стоп 😀".encode("utf-16-be"), "Стоп 😀"),
        (0xF4, b"\xa3", "£"),  # GSM message class 0, 8-bit data
    ],
)
def test_other_codings_are_read_as_what_they_say_whatever_the_link(coding: int, octets: bytes, text: str) -> None:
    for alphabet in Alphabet:
        assert c.decode(octets, coding, alphabet) == text


def test_the_user_data_header_is_left_out_of_the_text() -> None:
    sm = p.ShortMessage("254712000009", "MFI", p.udh_concat(7, 2, 1) + b"ST\x00P", esm_class=p.ESM_UDHI)
    assert c.text_of(sm, Alphabet.GSM7) == "ST@P"


@pytest.mark.parametrize(
    ("alphabet", "text", "coding", "octets"),
    [
        (Alphabet.GSM7, "@£€", p.DC_DEFAULT, b"\x00\x01\x1b\x65"),
        (Alphabet.LATIN1, "@£é{", p.DC_DEFAULT, "@£é{".encode("latin-1")),
        (Alphabet.LATIN1, "€1", p.DC_UCS2, "€1".encode("utf-16-be")),  # € is GSM-7 but not Latin-1
        (Alphabet.LATIN1, "Δ", p.DC_UCS2, "Δ".encode("utf-16-be")),
        (Alphabet.ASCII, "@ [x]", p.DC_DEFAULT, b"@ [x]"),
        (Alphabet.ASCII, "£1", p.DC_UCS2, "£1".encode("utf-16-be")),
        (Alphabet.GSM7, "`", p.DC_UCS2, b"\x00`"),  # no alphabet helps a character GSM-7 lacks
        (Alphabet.LATIN1, "`", p.DC_UCS2, b"\x00`"),
    ],
)
def test_a_link_sends_data_coding_0_in_its_alphabet_and_ucs2_for_what_it_lacks(
    alphabet: Alphabet, text: str, coding: int, octets: bytes
) -> None:
    assert c.outgoing(text, alphabet) == (coding, [octets])


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(Alphabet)),
    st.text(alphabet=st.sampled_from(list(GSM7_BASIC + GSM7_EXTENSION + "`çж😀")), max_size=400),
)
def test_what_is_sent_is_what_is_counted_on_every_alphabet(alphabet: Alphabet, text: str) -> None:
    coding, parts = c.outgoing(text, alphabet)
    info = count_segments(text, alphabet)
    assert len(parts) == info.segments
    assert coding == (p.DC_UCS2 if info.encoding is Encoding.UCS2 else p.DC_DEFAULT)
    assert "".join(c.decode(part, coding, alphabet) for part in parts) == text


def test_the_default_alphabet_is_gsm7_and_a_wrong_one_is_a_clear_configuration_error() -> None:
    link = {"kind": "smpp", "name": "op", "host": "h", "system_id": "s", "password": "x", "source_addr": "MFI"}
    [default] = load_providers(None, json.dumps([link]))
    assert isinstance(default, SmppSettings) and default.default_alphabet == "gsm7"
    with pytest.raises(ConfigurationError, match=r"default_alphabet.*'gsm7', 'latin1' or 'ascii'"):
        load_providers(None, json.dumps([link | {"default_alphabet": "utf8"}]))


def test_a_data_sm_round_trips_with_its_text_in_message_payload_and_addresses_longer_than_deliver_sm_allows() -> None:
    sm = p.ShortMessage("2" * 64, "MFI", b"STOP", source_addr_ton=1, source_addr_npi=1, data_coding=p.DC_LATIN1)
    pdu = p.Pdu(p.DATA_SM, 0, 1, p.data_sm_body(sm))
    decoded = p.decode_data_sm(pdu.body)
    assert decoded.short_message == b"" and decoded.tlvs == {p.TLV_MESSAGE_PAYLOAD: b"STOP"}
    received = p.received(pdu)
    assert (received.source_addr, received.source_addr_ton, received.data_coding) == ("2" * 64, 1, p.DC_LATIN1)
    assert received.short_message == b"STOP"


def test_a_deliver_sm_with_sm_length_0_reads_its_text_from_message_payload() -> None:
    long_text = b"x" * 400  # message_payload may exceed the 254 octets of short_message
    sm = p.ShortMessage("254712000009", "MFI", b"", tlvs={p.TLV_MESSAGE_PAYLOAD: long_text})
    assert p.received(p.Pdu(p.DELIVER_SM, 0, 1, sm.encode())).short_message == long_text
    both = p.ShortMessage("254712000009", "MFI", b"STOP", tlvs={p.TLV_MESSAGE_PAYLOAD: b"other"})
    assert p.received(p.Pdu(p.DELIVER_SM, 0, 1, both.encode())).short_message == b"STOP"


def test_a_data_sm_receipt_without_text_keeps_its_tlvs() -> None:
    tlvs = {p.TLV_RECEIPTED_MESSAGE_ID: p.cstr("5a0001"), p.TLV_MESSAGE_STATE: bytes([2])}
    sm = p.ShortMessage("254712000001", "MFI", b"", esm_class=p.ESM_RECEIPT, tlvs=tlvs)
    received = p.received(p.Pdu(p.DATA_SM, 0, 1, p.data_sm_body(sm)))
    assert received.esm_class == p.ESM_RECEIPT and received.short_message == b"" and received.tlvs == tlvs


def test_only_deliver_sm_and_data_sm_carry_a_message() -> None:
    with pytest.raises(p.PduError):
        p.received(p.Pdu(p.SUBMIT_SM, 0, 1, p.ShortMessage("1", "2", b"x").encode()))
    with pytest.raises(p.PduError):
        p.received(p.Pdu(p.DATA_SM, 0, 1, b"\x00\x01"))  # cut short inside the mandatory fields


@pytest.mark.parametrize(
    ("text", "alphabet", "encoding", "units", "segments"),
    [
        ("€" * 80, Alphabet.GSM7, Encoding.GSM7, 160, 1),
        ("€" * 80, Alphabet.LATIN1, Encoding.UCS2, 80, 2),
        ("£" * 160, Alphabet.LATIN1, Encoding.GSM7, 160, 1),
        ("£" * 160, Alphabet.ASCII, Encoding.UCS2, 160, 3),
        ("{}" * 80, Alphabet.ASCII, Encoding.GSM7, 320, 3),  # ASCII octets, still two septets each on the air
    ],
)
def test_segments_are_counted_for_the_link_alphabet(
    text: str, alphabet: Alphabet, encoding: Encoding, units: int, segments: int
) -> None:
    info = count_segments(text, alphabet)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
