"""SMSC message ids in two forms: the id a receipt names turned back into the id submit_sm_resp gave.

Many SMSCs answer submit_sm_resp with a hexadecimal id and name the message in its receipt (the
`id:` field and/or the receipted_message_id TLV) in decimal, or the reverse. herald records the
submit's id exactly as given (query_sm must name it so), so a receipt's id is turned into that
form before it leaves the adapter, per the link's `receipt_id` setting:

    same            the receipt uses the submit's form (case and leading zeros may differ)
    hex_to_decimal  submit_sm_resp in hex, receipts in decimal
    decimal_to_hex  submit_sm_resp in decimal, receipts in hex
    auto            a receipt id that matches no recent submit is tried in the other form; the
                    first such match fixes the link's form for the life of the adapter (as do
                    SAME_EVIDENCE receipts naming a submit as written and nothing in another form)

A decimal string is also a valid hex string, so "auto" never guesses: it converts only when the
converted id is one this adapter submitted, and once it has learnt the link's form it applies it
to every receipt, also when the id happens to equal another message's id in the other form. Until
then a receipt id that names one recent submit as written and another read in the other base
("16" for the submit "16", or for the hex submit "10") is not decided at all: `resolve` gives
None, and the adapter asks the SMSC to deliver that receipt again later.
Recent ids are remembered exactly (case, leading zeros); an id older than that memory (or from
before a restart) is written in the case and width the recent submits use. Ids of any length are
numbers here (Python integers), so ids longer than 64 bits convert too; an id that is not a
number in the expected base is passed on unchanged.
"""

from __future__ import annotations

import logging
import string
from collections import OrderedDict
from typing import Literal

log = logging.getLogger(__name__)

ReceiptIdForm = Literal["same", "hex_to_decimal", "decimal_to_hex", "auto"]

_HEX = frozenset(string.hexdigits)
SAME_EVIDENCE = 3  # receipts naming a submit as written, none in another form, before "auto" settles on "same"
_Key = tuple[int, int]  # (base the id was read in, its value)


def _value(text: str, base: int) -> int | None:
    if not text or (base == 10 and not text.isdigit()) or (base == 16 and not set(text) <= _HEX):
        return None
    return int(text, base)


class ReceiptIds:
    """Remembers recent submit ids and maps a receipt's id onto one of them (see the module docstring)."""

    def __init__(self, form: ReceiptIdForm, *, link: str = "", limit: int = 100_000) -> None:
        self.form: ReceiptIdForm = form
        self._learnt: ReceiptIdForm | None = None if form == "auto" else form
        self._link, self._limit = link, limit
        self._exact: OrderedDict[str, tuple[_Key, ...]] = OrderedDict()
        self._by_value: dict[_Key, str] = {}
        self._upper = False
        self._width: int | None = None
        self._same_seen = 0

    @property
    def learnt(self) -> ReceiptIdForm | None:
        """The form in use: the configured one, or what "auto" has found (None: not yet)."""
        return self._learnt

    def submitted(self, message_id: str) -> None:
        """A submit_sm_resp's id: remembered, and its case and width noted for ids beyond memory."""
        if message_id in self._exact:
            return
        keys = tuple((base, v) for base in (10, 16) if (v := _value(message_id, base)) is not None)
        self._exact[message_id] = keys
        for key in keys:
            self._by_value[key] = message_id
        letters = [c for c in message_id if c.isalpha()]
        if letters:
            self._upper = letters[-1].isupper()
        self._width = len(message_id) if len(message_id) > 1 and message_id.startswith("0") else self._width
        while len(self._exact) > self._limit:  # oldest first
            _, old = self._exact.popitem(last=False)
            for key in old:
                self._by_value.pop(key, None)

    def knows(self, receipt_id: str) -> bool:
        """Whether the id names a remembered submit in some form (else its submit may still be in flight)."""
        rid = receipt_id.strip()
        return rid in self._exact or any(
            self._match(rid, form) for form in ("same", "hex_to_decimal", "decimal_to_hex")
        )

    def resolve(self, receipt_id: str) -> str | None:
        """The submit's id this receipt id stands for; None while "auto" cannot tell which of two it names."""
        rid = receipt_id.strip()
        if self._learnt is not None:
            return self._match(rid, self._learnt) or self._format(rid, self._learnt)
        # "auto", form not yet known: only a remembered submit decides.
        forms: tuple[ReceiptIdForm, ...] = ("hex_to_decimal", "decimal_to_hex")
        converted = [(form, found) for form in forms if (found := self._match(rid, form)) is not None and found != rid]
        own = rid if rid in self._exact else self._match(rid, "same")
        if converted and own is not None:
            return None  # one submit as written, another in the other base: either guess may be wrong
        if converted:
            form, found = converted[0]
            self._learn(form)
            return found
        if own is None:
            return rid
        if rid in self._exact:
            self._same_seen += 1
            if self._same_seen >= SAME_EVIDENCE:
                self._learn("same")
        return own

    def _learn(self, form: ReceiptIdForm) -> None:
        self._learnt = form
        how = {
            "hex_to_decimal": "in decimal, submits answer in hex",
            "decimal_to_hex": "in hex, submits answer in decimal",
        }.get(form, "as submits answer")
        log.info("SMPP %s: receipts name messages %s; set receipt_id = %r to make it explicit", self._link, how, form)

    def _match(self, rid: str, form: ReceiptIdForm) -> str | None:
        """A remembered submit id that `rid` names under `form`."""
        if rid in self._exact and form == "same":
            return rid
        if form == "same":
            for base in (16, 10):
                value = _value(rid, base)
                if value is not None and (found := self._by_value.get((base, value))) is not None:
                    return found
            return None
        receipt_base, submit_base = (10, 16) if form == "hex_to_decimal" else (16, 10)
        value = _value(rid, receipt_base)
        return None if value is None else self._by_value.get((submit_base, value))

    def _format(self, rid: str, form: ReceiptIdForm) -> str:
        """`rid` written the way this link's submits are, for an id beyond memory."""
        if form == "same":
            return rid
        receipt_base = 10 if form == "hex_to_decimal" else 16
        value = _value(rid, receipt_base)
        if value is None:
            return rid  # not a number in the receipt's form: the SMSC is not doing what the setting says
        text = format(value, "X" if self._upper else "x") if form == "hex_to_decimal" else str(value)
        return text.zfill(self._width) if self._width else text
