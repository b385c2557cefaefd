"""Reading Fineract's envelopes: what herald accepts, and the reason it gives for all it cannot read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.errors import UndecodableEvent
from herald.events.avro import HEADER, shipped_book
from herald.events.envelope import open_envelope
from herald.events.kinds import KINDS
from tests.fineract_events import EventWriter, instalment_due, repayment

WRITER = EventWriter()
BOOK = shipped_book()


def _open(body: bytes):  # type: ignore[no-untyped-def]
    return open_envelope(body, BOOK, KINDS)


def test_a_repayment_gives_its_transaction_and_loan() -> None:
    envelope = _open(WRITER.event("LoanTransactionMakeRepaymentPostBusinessEvent", repayment(77, 5), tenant="kla"))
    (event,) = envelope.events
    assert envelope.tenant == event.tenant == "kla"
    assert KINDS[event.type].ids(event.payload or {}) == {"loanTransactionId": 77, "loanId": 5}


def test_every_release_herald_ships_is_read() -> None:
    for release in BOOK.releases:
        body = EventWriter(release).event("LoanApprovedBusinessEvent", {"id": 9, "clientId": 3})
        assert KINDS["LoanApprovedBusinessEvent"].ids(_open(body).events[0].payload or {}) == {
            "loanId": 9,
            "clientId": 3,
        }


def test_a_bulk_event_is_unwrapped_and_each_item_has_its_own_key() -> None:
    body = WRITER.bulk(
        [("LoanRepaymentDueBusinessEvent", instalment_due(5, 3)), ("ClientCreateBusinessEvent", {"id": 8})],
        key="cob-1",
    )
    envelope = _open(body)
    assert [(e.type, e.key, e.event_id) for e in envelope.events] == [
        ("LoanRepaymentDueBusinessEvent", "cob-1#1", 1),
        ("ClientCreateBusinessEvent", "cob-1#2", 2),
    ]
    assert KINDS["LoanRepaymentDueBusinessEvent"].ids(envelope.events[0].payload or {}) == {
        "loanId": 5,
        "installmentNumber": 3,
    }


def test_events_nobody_listens_to_are_not_decoded() -> None:
    # A type herald does not know, with a payload no schema of herald's reads: opened, not refused.
    data = b"\xc3\x01" + b"\x00" * 8 + b"whatever"
    body = WRITER.envelope("LoanChargeOffPostBusinessEvent", "Loan", "org.example.Unknown", data)
    (event,) = open_envelope(body, BOOK, KINDS).events
    assert event.payload is None and event.problem is None


def test_a_bad_item_in_a_bulk_spoils_only_itself() -> None:
    good = WRITER.single_object(KINDS["ClientCreateBusinessEvent"].schema, {"id": 8})
    items = [
        {
            "id": 1,
            "type": "ClientCreateBusinessEvent",
            "category": "Client",
            "dataschema": KINDS["ClientCreateBusinessEvent"].schema,
            "data": good[:-1],
        },
        {
            "id": 2,
            "type": "ClientCreateBusinessEvent",
            "category": "Client",
            "dataschema": KINDS["ClientCreateBusinessEvent"].schema,
            "data": good,
        },
    ]
    data = WRITER.single_object("org.apache.fineract.avro.BulkMessagePayloadV1", {"datas": items})
    body = WRITER.envelope("BulkBusinessEvent", "Bulk", "org.apache.fineract.avro.BulkMessagePayloadV1", data)
    first, second = _open(body).events
    assert first.payload is None and first.problem and "does not decode" in first.problem
    assert second.payload == {**second.payload, "id": 8} and second.problem is None  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "starts with nothing"),
        (b'{"type": "LoanApprovedBusinessEvent"}', "not Avro single-object encoding"),
        (b"\xc3\x01" + b"\x01" * 8 + b"\x02", "schema herald does not have (fingerprint 0101010101010101)"),
    ],
)
def test_what_is_not_an_envelope_is_refused_with_the_reason(body: bytes, says: str) -> None:
    with pytest.raises(UndecodableEvent, match=r".*") as refused:
        _open(body)
    assert says in str(refused.value)


def test_a_payload_written_with_another_schema_than_announced_is_refused() -> None:
    data = WRITER.single_object(KINDS["ClientCreateBusinessEvent"].schema, {"id": 8})
    body = WRITER.envelope("LoanApprovedBusinessEvent", "Loan", KINDS["LoanApprovedBusinessEvent"].schema, data)
    (event,) = _open(body).events
    assert event.payload is None
    assert event.problem and "announced as org.apache.fineract.avro.loan.v1.LoanAccountDataV1" in event.problem


def test_truncated_and_padded_envelopes_are_refused() -> None:
    body = WRITER.event("ClientCreateBusinessEvent", {"id": 8, "firstname": "Amina"})
    with pytest.raises(UndecodableEvent, match="does not decode"):
        _open(body[:-3])
    with pytest.raises(UndecodableEvent, match="bytes after its last field"):
        _open(body + b"\x00")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=400))
def test_no_bytes_make_the_decoder_fail_otherwise_than_with_a_reason(noise: bytes, cut: int) -> None:
    real = WRITER.event("LoanTransactionMakeRepaymentPostBusinessEvent", repayment(77, 5))
    for body in (noise, real[:HEADER] + noise, real[: min(cut, len(real))] + noise):
        try:
            envelope = _open(body)
        except UndecodableEvent as e:
            assert str(e)
        else:
            for event in envelope.events:
                assert event.payload is not None or event.problem is not None or event.type not in KINDS
