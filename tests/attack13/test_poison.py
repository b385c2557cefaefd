"""Poison on the events queue: whatever a message holds, it is acted on or kept aside with the reason.

Each attack is a batch handed to the consumer the worker builds, with a good event behind the bad
ones: that one must still reach the simulator (counted by the send job), the bad ones must be in
the dead-letter table, and nothing may raise (a raise refuses the batch, which the broker then
delivers again for ever). Where PostgreSQL is stricter than SQLite (NUL, column lengths) the
attack runs on both.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from stomp.utils import Frame

from herald.app import Herald
from herald.events.avro import HEADER, MARKER, expand, fingerprint_of
from herald.events.kinds import KINDS
from herald.events.stomp import _delivery
from herald.server import create_app
from herald.services import auth, send
from herald.services.auth import SESSION_COOKIE, Role
from herald.store import external_events as event_store
from herald.store.tables import dead_letters, external_events
from herald.worker import sender_for
from tests.attack13.bodies import BULK, WRITER, activated, bulk, delivery, envelope, item, varint
from tests.attack13.conftest import welcome
from tests.fineract_builder import FineractBuilder
from tests.fineract_events import repayment


def _sent(herald: Herald) -> int:
    return int(send.run(sender_for(herald))["accepted"])


def _letters(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(dead_letters).order_by(dead_letters.c.id)))


def _clients(fineract: FineractBuilder, count: int) -> list[int]:
    return [fineract.client(f"Client{n}", f"+2547120001{n:02d}") for n in range(count)]


def test_nul_characters_are_kept_aside_and_the_event_behind_them_is_sent(
    herald: Herald, fineract: FineractBuilder
) -> None:
    welcome(herald)
    amina, baraka = _clients(fineract, 2)
    schema = KINDS["ClientActivateBusinessEvent"].schema
    batch = [
        activated(amina, tenantId="def\x00ault"),
        activated(amina, idempotencyKey="key\x00with-nul"),
        activated(amina, type="ClientActivateBusinessEvent", category="Cli\x00ent"),
        bulk([item(1, amina, dataschema=schema + "\x00"), item(2, None)]),
        activated(baraka),
    ]
    done = herald.event_consumer().handle([delivery(b) for b in batch])
    assert (done.parked, _sent(herald)) == (5, 1)
    kept = _letters(herald)
    assert len(kept) == 4
    for letter in kept:
        assert "\x00" not in f"{letter.ref}{letter.tenant}{letter.type}{letter.reason}"
    assert "control character U+0000" in kept[0].reason


def test_over_long_keys_tenants_types_and_schemas_are_kept_aside_and_the_batch_goes_on(
    herald: Herald, fineract: FineractBuilder
) -> None:
    welcome(herald)
    amina, baraka = _clients(fineract, 2)
    batch = [
        activated(amina, idempotencyKey="k" * 121),  # external_events.event_key holds 120
        activated(amina, idempotencyKey="k" * 115),  # fits alone, not with "#<item id>" in a bulk
        activated(amina, tenantId="t" * 5000),
        envelope("X" * 5000, tenantId="nairobi"),
        activated(amina, dataschema="org." + "x" * 100_000),
        activated(baraka),
    ]
    done = herald.event_consumer().handle([delivery(b) for b in batch])
    assert (done.parked, _sent(herald)) == (5, 1)
    kept = _letters(herald)
    assert all("characters long" in letter.reason for letter in kept)
    assert all(len(letter.reason) < 300 for letter in kept)


@pytest.mark.parametrize(
    "stamp",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59.999999999",  # past year 9999 in Nairobi
        "9999-12-31T23:59:59-05:00",  # past year 9999 in UTC
        "2090-01-01T00:00:00",  # decades ahead of the clock
        "0001-01-01T00:00:00",  # before Fineract existed
    ],
)
def test_created_at_at_the_ends_of_time_counts_as_not_known_and_the_event_is_sent(
    herald: Herald, fineract: FineractBuilder, stamp: str
) -> None:
    welcome(herald)
    amina, baraka = _clients(fineract, 2)
    odd = activated(amina, createdAt=stamp, businessDate="9999-12-31")
    done = herald.event_consumer().handle([delivery(odd), delivery(activated(baraka))])
    assert (done.created, done.parked, _sent(herald)) == (2, 0, 2)
    with herald.store.connect() as conn:
        stored = {r.created_at for r in conn.execute(select(external_events))}
    assert None in stored and len(stored) == 2  # the odd one's time is not known, the good one's is


def test_phone_numbers_never_reach_the_log(
    sqlite_herald: Herald, fineract: FineractBuilder, caplog: pytest.LogCaptureFixture
) -> None:
    herald = sqlite_herald
    welcome(herald)
    (amina,) = _clients(fineract, 1)
    batch = [
        activated(amina, tenantId="+254 712 345 678"),
        envelope("ClientActivateBusinessEvent", {}, idempotencyKey="+254712345678"),  # no client id
        bulk([item(1, None), item(2, None)], idempotencyKey="0712345678"),
        activated(amina, dataschema="org.example.0712345678"),
    ]
    with caplog.at_level(logging.INFO):
        done = herald.event_consumer().handle([delivery(b) for b in batch])
    assert done.parked == 5
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "kept aside" in logged
    assert "12345678" not in logged, logged
    with herald.store.connect() as conn:  # masking hides part of a key, so each line names its letter's id
        letters = event_store.dead_ids(conn, limit=10)
    assert len(letters) == 4 and all(f"dead letter {n} (" in logged for n in letters), logged


def test_a_message_longer_than_the_limit_is_kept_aside_unread(sqlite_herald: Herald, fineract: FineractBuilder) -> None:
    herald = sqlite_herald
    welcome(herald)
    amina, baraka = _clients(fineract, 2)
    huge = activated(amina, data=WRITER.single_object(KINDS["ClientActivateBusinessEvent"].schema, {
        "id": amina, "displayName": "A" * (1024 * 1024),
    }))  # fmt: skip
    done = herald.event_consumer().handle([delivery(huge), delivery(activated(baraka))])
    assert (done.parked, _sent(herald)) == (1, 1)
    (letter,) = _letters(herald)
    assert "HERALD_EVENTS_MAX_BYTES (1,048,576)" in letter.reason and bytes(letter.body) == huge


def _with_raw_amount(payload: dict[str, Any], amount: bytes) -> bytes:
    """A repayment whose `amount` holds `amount` as its decimal's bytes (the schema's fingerprint is Fineract's)."""
    name = KINDS["LoanTransactionMakeRepaymentPostBusinessEvent"].schema
    raw = expand(name, WRITER.raw, {"type": "bytes"})
    schema = avro.schema.parse(json.dumps(raw))
    out = io.BytesIO()
    fields = {f.name: payload.get(f.name) for f in schema.fields}  # type: ignore[attr-defined]
    avro.io.DatumWriter(schema).write({**fields, "amount": amount}, avro.io.BinaryEncoder(out))
    return MARKER + fingerprint_of(expand(name, WRITER.raw)) + out.getvalue()


def test_declared_length_bombs_fail_fast_into_the_dead_letters(
    sqlite_herald: Herald, fineract: FineractBuilder
) -> None:
    herald = sqlite_herald
    welcome(herald)
    (amina,) = _clients(fineract, 1)
    real = activated(amina)
    bombs = [
        real[:HEADER] + varint(1) + varint(2**62) + b"abc",  # a source of 4 EiB
        bulk([item(1, amina)])[:-40] + varint(2**40),  # more bulk items than bytes
        envelope(
            "LoanTransactionMakeRepaymentPostBusinessEvent",
            data=_with_raw_amount(repayment(7, 5), b"\x7f" * 300_000),  # an amount of 720,000 digits
        ),
    ]
    started = time.monotonic()
    done = herald.event_consumer().handle([delivery(b) for b in [*bombs, real]])
    assert time.monotonic() - started < 3
    assert (done.parked, _sent(herald)) == (2, 1)  # the amount is never read: the repayment is acted on


def test_a_bulk_with_many_bad_items_keeps_one_letter_and_its_good_items_are_sent(
    herald: Herald, fineract: FineractBuilder
) -> None:
    welcome(herald)
    clients = _clients(fineract, 3)
    items = [item(n, client) for n, client in enumerate(clients, start=1)]
    items += [item(n, None) for n in range(4, 1004)]
    body = bulk(items, idempotencyKey="cob-7")
    consumer = herald.event_consumer()
    done = consumer.handle([delivery(body)])
    assert (done.created, done.parked, _sent(herald)) == (3, 1000, 3)
    (letter,) = _letters(herald)  # the body once, not a thousand times
    assert letter.ref == "cob-7" and letter.reason.startswith("1,000 of its events were kept aside: item 4:")
    assert consumer.handle([delivery(body)]).duplicates == 3


def test_a_bulk_of_more_events_than_herald_takes_is_kept_aside_whole(sqlite_herald: Herald) -> None:
    items = [{**item(n, None), "category": "", "dataschema": ""} for n in range(10_001)]
    done = sqlite_herald.event_consumer().handle([delivery(bulk(items))])
    assert done.parked == 1
    (letter,) = _letters(sqlite_herald)
    assert "holds 10,001 events" in letter.reason


def test_what_is_no_envelope_is_kept_aside_and_the_event_behind_it_is_sent(
    sqlite_herald: Herald, fineract: FineractBuilder
) -> None:
    herald = sqlite_herald
    welcome(herald)
    amina, baraka = _clients(fineract, 2)
    real = activated(amina)
    batch = [
        b"",
        b'{"type": "ClientActivateBusinessEvent", "id": 1}',  # a text frame: JSON, not Avro
        b"\xc3\x02" + real[2:],  # wrong marker
        b"\xc3\x01" + b"\xee" * 8 + real[HEADER:],  # unknown fingerprint
        real[:-5],  # truncated
        real + b"\x00",  # padded
        activated(amina, tenantId="kampala"),  # not one of herald's tenants
        envelope(BULK, data=b"\xc3\x01" + b"\x00" * 8, type="BulkBusinessEvent"),  # a bulk that is not one
        activated(baraka),
    ]
    done = herald.event_consumer().handle([delivery(b) for b in batch])
    assert (done.parked, _sent(herald)) == (8, 1)
    assert len(_letters(herald)) == 8


def test_the_same_event_twice_in_one_batch_and_unicode_everywhere_is_sent_once(
    herald: Herald, fineract: FineractBuilder
) -> None:
    welcome(herald)
    (amina,) = _clients(fineract, 1)
    body = activated(
        amina,
        idempotencyKey="ключ-🔑-مفتاح-鍵",
        source="источник-🛰",
        createdAt="２０２６-11-20T03:59:00",  # full-width digits: not a time
        businessDate="٢٠٢٦-١١-٢٠",
    )
    unknown = activated(amina, tenantId="Кампала-🏦")
    consumer = herald.event_consumer()
    done = consumer.handle([delivery(body), delivery(body), delivery(unknown)])
    assert (done.created, done.duplicates, done.parked) == (1, 1, 1)
    assert consumer.handle([delivery(body)]).duplicates == 1
    assert _sent(herald) == 1
    (letter,) = _letters(herald)
    assert letter.tenant == "Кампала-🏦"


def test_a_text_stomp_frame_becomes_bytes_not_a_failed_batch() -> None:
    frame = Frame("MESSAGE", {"message-id": "ID:text-1", "ack": "1"}, '{"type": "text"}')
    assert _delivery(frame).body == b'{"type": "text"}'


def test_the_admin_page_and_the_api_show_every_poisoned_letter(herald: Herald, fineract: FineractBuilder) -> None:
    welcome(herald)
    (amina,) = _clients(fineract, 1)
    batch = [
        activated(amina, tenantId="t" * 5000),
        activated(amina, tenantId="def\x00ault"),
        activated(amina, tenantId="Кампала-🏦 <script>"),
        bulk([item(1, None), item(2, None)], idempotencyKey="k" * 100),
        b"\x00" * 64,
    ]
    herald.event_consumer().handle([delivery(b) for b in batch])
    auth.create_user("root", Role.ADMIN, "a-long-pass-phrase-1", store=herald.store, clock=herald.clock)
    token = auth.issue_token("root", "attack13", store=herald.store, clock=herald.clock).token
    session = auth.login("root", "a-long-pass-phrase-1", store=herald.store, clock=herald.clock)
    with TestClient(create_app(herald), raise_server_exceptions=False) as client:
        api = client.get("/api/v1/events/dead-letters", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 200 and api.json()["total"] == 5
        client.cookies.set(SESSION_COOKIE, session)
        page = client.get("/events")
        assert page.status_code == 200 and "Traceback" not in page.text
        assert "&lt;script&gt;" in page.text


@pytest.mark.parametrize(
    "args",
    [
        ["dead-letters", "--offset", "99999999999999999999"],
        ["retry", "99999999999999999999"],
        ["discard", "99999999999999999999", "--reason", "x", "--yes"],
    ],
)
def test_the_command_line_refuses_ids_too_large_without_a_traceback(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "HERALD_HOME": str(tmp_path), "HERALD_COREBANK_URL": f"sqlite:///{tmp_path / 'cb.sqlite'}"}
    done = subprocess.run([sys.executable, "-m", "herald", "events", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr, done.stderr[-500:]
