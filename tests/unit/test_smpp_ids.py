"""Receipt ids turned back into submit_sm_resp's form: both directions, "auto", and the traps (a decimal
string is valid hex, leading zeros, letter case, ids longer than 64 bits, ids older than the memory)."""

from __future__ import annotations

import json

import pytest

from herald.errors import ConfigurationError
from herald.providers.config import SmppSettings, load_providers
from herald.providers.smpp_ids import ReceiptIds


def test_same_finds_the_submit_whatever_the_case_or_leading_zeros() -> None:
    ids = ReceiptIds("same")
    ids.submitted("005A0F")
    assert ids.resolve("005A0F") == "005A0F"
    assert ids.resolve("5a0f") == "005A0F"
    assert ids.resolve(" 005A0F ") == "005A0F"
    assert ids.resolve("unknown-id") == "unknown-id"


def test_hex_submits_and_decimal_receipts() -> None:
    ids = ReceiptIds("hex_to_decimal")
    ids.submitted("5a0001")
    assert ids.resolve(str(0x5A0001)) == "5a0001"
    # Beyond the memory (or from before a restart): written as this link's submits are, lower case.
    assert ids.resolve(str(0x5A00FF)) == "5a00ff"
    assert ids.resolve("not-a-number") == "not-a-number"


def test_upper_case_and_zero_padded_hex_ids_beyond_the_memory_keep_their_shape() -> None:
    ids = ReceiptIds("hex_to_decimal", limit=1)
    ids.submitted("00A1B2C3")
    ids.submitted("00A1B2C4")  # the first one falls out of the memory
    assert ids.resolve(str(0xA1B2C3)) == "00A1B2C3"
    assert ids.resolve(str(0xA1B2C4)) == "00A1B2C4"


def test_decimal_submits_and_hex_receipts() -> None:
    ids = ReceiptIds("decimal_to_hex")
    ids.submitted("1234567")
    assert ids.resolve(format(1234567, "x")) == "1234567"
    assert ids.resolve(format(1234567, "X")) == "1234567"
    assert ids.resolve("ff") == "255"


def test_ids_longer_than_64_bits_convert_exactly() -> None:
    big = 2**80 + 12345
    ids = ReceiptIds("hex_to_decimal")
    ids.submitted(format(big, "x"))
    assert ids.resolve(str(big)) == format(big, "x")
    back = ReceiptIds("decimal_to_hex")
    assert back.resolve(format(big, "x")) == str(big)


def test_auto_converts_only_to_an_id_it_submitted_and_then_keeps_that_form() -> None:
    ids = ReceiptIds("auto")
    assert ids.learnt is None
    ids.submitted("5a0001")
    ids.submitted("5898242")  # hex too, without letters: the same number read in decimal is another message's
    assert ids.resolve("123") == "123"  # matches nothing in any form: passed on unchanged, nothing learnt
    assert ids.learnt is None
    assert ids.resolve(str(0x5A0001)) == "5a0001"
    assert ids.learnt == "hex_to_decimal"
    # "5898242" now means 0x5A0002 in decimal, even though a submit had that very string.
    assert ids.resolve("5898242") == "5a0002"


def test_auto_learns_the_reverse_direction_too() -> None:
    ids = ReceiptIds("auto")
    ids.submitted("1000")
    assert ids.resolve("3e8") == "1000"
    assert ids.learnt == "decimal_to_hex"
    assert ids.resolve("3E9") == "1001"  # beyond the memory, written in decimal


def test_auto_with_receipts_in_the_submits_own_form_needs_no_conversion() -> None:
    ids = ReceiptIds("auto")
    ids.submitted("5a0001")
    ids.submitted("100")
    assert ids.resolve("5a0001") == "5a0001"
    assert ids.resolve("100") == "100"  # an exact match wins over reading it in another form
    assert ids.learnt is None


def test_knows_says_whether_a_receipt_can_be_matched_yet() -> None:
    ids = ReceiptIds("auto")
    assert not ids.knows("5898241")
    ids.submitted("5a0001")
    assert ids.knows("5898241") and ids.knows("5A0001")


def test_a_link_configured_with_an_unknown_id_form_or_no_bind_is_refused_with_the_choices() -> None:
    link = {"kind": "smpp", "name": "op", "host": "h", "system_id": "s", "password": "p", "source_addr": "MFI"}
    [ok] = load_providers(None, json.dumps([link | {"binds": 3, "receipt_id": "auto"}]))
    assert isinstance(ok, SmppSettings) and (ok.binds, ok.receipt_id) == (3, "auto")
    with pytest.raises(ConfigurationError, match=r"receipt_id: Input should be 'same', 'hex_to_decimal'"):
        load_providers(None, json.dumps([link | {"receipt_id": "hex"}]))
    with pytest.raises(ConfigurationError, match=r"binds: Input should be greater than or equal to 1"):
        load_providers(None, json.dumps([link | {"binds": 0}]))


def test_auto_decides_no_receipt_id_that_names_two_submits_until_the_form_is_known() -> None:
    """Hex submits without letters: "16" is the submit "16" (0x16) as written, or 0x10 in decimal."""
    ids = ReceiptIds("auto")
    for submit in ("10", "16", "1a"):
        ids.submitted(submit)
    assert ids.resolve("16") is None  # either answer may be the wrong message
    assert ids.learnt is None
    assert ids.resolve("26") == "1a"  # 0x1a in decimal, nothing as written: the link's form shows
    assert ids.learnt == "hex_to_decimal"
    assert ids.resolve("16") == "10"  # now decided: the receipt asked again lands on its own message


def test_auto_settles_on_the_submits_own_form_after_receipts_that_name_only_it() -> None:
    ids = ReceiptIds("auto")
    for submit in ("10", "16", "27", "28", "29"):  # a decimal SMSC whose receipts repeat its ids
        ids.submitted(submit)
    assert ids.resolve("16") is None  # "16" as written, or decimal 16 = hex "10"
    for rid in ("27", "28", "29"):  # as written only (0x27 = 39, 0x28 = 40, 0x29 = 41: no such submits)
        assert ids.resolve(rid) == rid
    assert ids.learnt == "same"
    assert ids.resolve("16") == "16"
