"""The octets of SMPP text: the data_coding and octets a text is sent as on a link, and the text an SMSC's octets mean.

data_coding 0 is "the SMSC default alphabet": GSM 03.38 for most SMSCs, sent unpacked (one septet
per octet, ESC before an extension character; the SMSC packs), but some read it as Latin-1 or
IA5/ASCII, hence the link's `default_alphabet` (domain/segments.Alphabet). herald sends data_coding 0
when the text is GSM-7 and the link's alphabet has every character too, else UCS-2 (data_coding 8);
it reads data_coding 0 with the link's alphabet and the other codings as what they say.
Shared by the adapter and the fake SMSC, so a fake configured with another alphabet shows a mismatch.
"""

from __future__ import annotations

from herald.domain.segments import Alphabet, Encoding, gsm7_decode, gsm7_encode, split_parts
from herald.providers import smpp_pdu as p

# data_coding values whose octets are a plain character set Python knows (providers.md 3.3).
_CODECS = {
    p.DC_IA5: "ascii",
    0x02: "latin-1",  # 8-bit binary: no text to speak of; shown octet for octet
    p.DC_LATIN1: "latin-1",
    0x04: "latin-1",  # 8-bit binary, as 0x02
    0x06: "iso8859-5",  # Cyrillic
    0x07: "iso8859-8",  # Latin/Hebrew
    p.DC_UCS2: "utf-16-be",
}


def default_octets(text: str, alphabet: Alphabet) -> bytes:
    """`text` in the link's data_coding 0 alphabet; ValueError (a UnicodeError) for a character it lacks."""
    if alphabet is Alphabet.GSM7:
        return gsm7_encode(text)
    return text.encode("latin-1" if alphabet is Alphabet.LATIN1 else "ascii")


def default_text(octets: bytes, alphabet: Alphabet) -> str:
    """The text of data_coding 0 octets on a link reading them as `alphabet`; nothing undecodable raises."""
    if alphabet is Alphabet.GSM7:
        return gsm7_decode(octets)
    return octets.decode("latin-1" if alphabet is Alphabet.LATIN1 else "ascii", errors="replace")


def outgoing(text: str, alphabet: Alphabet) -> tuple[int, list[bytes]]:
    """(data_coding, each concatenation part's octets without its UDH) for `text` on a link with `alphabet`.

    The split is domain/segments.split_parts's with the same alphabet, so what is sent is what
    count_segments(text, alphabet) counts.
    """
    encoding, parts = split_parts(text, alphabet)
    if encoding is Encoding.UCS2:
        return p.DC_UCS2, [part.encode("utf-16-be") for part in parts]
    return p.DC_DEFAULT, [default_octets(part, alphabet) for part in parts]


def decode(octets: bytes, data_coding: int, alphabet: Alphabet) -> str:
    """The text of a message's octets (UDH already removed) as its data_coding says."""
    if data_coding == p.DC_DEFAULT:
        return default_text(octets, alphabet)
    if data_coding & 0xF0 == 0xF0:
        # GSM message-class coding (TS 23.038 group 1111): bit 2 clear is the default alphabet, set 8-bit data.
        return default_text(octets, alphabet) if not data_coding & 0x04 else octets.decode("latin-1")
    return octets.decode(_CODECS.get(data_coding, "latin-1"), errors="replace")


def text_of(sm: p.ShortMessage, alphabet: Alphabet) -> str:
    """The text of a delivered or submitted message, its user data header (if esm_class says so) left out."""
    octets = sm.short_message
    if sm.esm_class & p.ESM_UDHI and octets:
        octets = octets[1 + octets[0] :]  # the first octet is the header's length
    return decode(octets, sm.data_coding, alphabet)
