"""One contract, every adapter: send, each error outcome, each report path (mapping tables: test_documented_codes).

Each adapter talks to its local fake over real sockets on 127.0.0.1 (the simulator needs none).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from herald.domain.message import MessageStatus
from herald.errors import ProviderError, ProviderOutcome, WebhookError
from herald.providers.base import OutboundMessage
from tests.contract.harness import Fault, Harness

KINDS = ["simulator", "twilio", "infobip", "africastalking", "smpp"]
FAULTS = {"simulator": {Fault.THROTTLED}} | {
    kind: set(Fault) for kind in ("twilio", "infobip", "africastalking", "smpp")
}
"""What each fake can inject: the simulator only queues up; the real providers' fakes do everything."""
pytestmark = pytest.mark.contract

OUTCOMES: dict[Fault | tuple[str, Fault], ProviderOutcome] = {
    Fault.SERVER_ERROR: ProviderOutcome.TRANSIENT,
    Fault.THROTTLED: ProviderOutcome.THROTTLED,
    Fault.TIMEOUT: ProviderOutcome.OUTCOME_UNKNOWN,  # it may have been taken: ask before sending again
    Fault.DISCONNECT: ProviderOutcome.OUTCOME_UNKNOWN,
    Fault.MALFORMED: ProviderOutcome.OUTCOME_UNKNOWN,
    Fault.INVALID_NUMBER: ProviderOutcome.PERMANENT,
    Fault.UNSUBSCRIBED: ProviderOutcome.OPTED_OUT,
    Fault.BAD_CREDENTIALS: ProviderOutcome.MISCONFIGURED,  # herald's fault, not the message's: held, not failed
    ("simulator", Fault.THROTTLED): ProviderOutcome.TRANSIENT,  # its "queue full" asks for no pause
    # Infobip's only send-time "recipient refuses" is REJECTED_DND, an operator's register, not the
    # client's word to this institution: the message fails, the number stays off herald's opt-out list.
    ("infobip", Fault.UNSUBSCRIBED): ProviderOutcome.PERMANENT,
    # A submit_sm_resp without a message_id: SMPP cannot be asked afterwards, so herald retries it.
    ("smpp", Fault.MALFORMED): ProviderOutcome.TRANSIENT,
}
"""The outcome each injected fault must come back as (per adapter where it differs)."""


@asynccontextmanager
async def harness(kind: str) -> AsyncIterator[Harness]:
    module: Any = importlib.import_module(f"tests.contract.harness_{kind}")
    h: Harness = await module.make()
    try:
        yield h
    finally:
        await h.close()


def run(kind: str, body: Callable[[Harness], Awaitable[None]]) -> None:
    async def main() -> None:
        async with harness(kind) as h:
            await asyncio.wait_for(body(h), timeout=30)

    asyncio.run(main())


def _messages(n: int = 3) -> list[OutboundMessage]:
    return [OutboundMessage(100 + i, f"+25471200000{i}", f"Hello {i}, your loan is due.") for i in range(n)]


@pytest.mark.parametrize("kind", KINDS)
def test_send_answers_one_accepted_result_per_message_in_order(kind: str) -> None:
    async def body(h: Harness) -> None:
        results = await h.provider.send(_messages())
        assert [r.message_id for r in results] == [100, 101, 102]
        assert all(r.accepted for r in results)
        assert len({r.external_id for r in results}) == 3

    run(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_a_delivered_message_is_reported_on_every_path_the_provider_has(kind: str) -> None:
    async def body(h: Harness) -> None:
        [result] = await h.provider.send(_messages(1))
        assert result.external_id is not None
        await h.settle(result.external_id, MessageStatus.DELIVERED)
        if h.capabilities.pull:
            reports = await h.provider.fetch_reports([result.external_id])
            assert [(r.external_id, r.status) for r in reports] == [(result.external_id, MessageStatus.DELIVERED)]
        if h.capabilities.push:
            batch = h.provider.parse_webhook(h.push_request(result.external_id, MessageStatus.DELIVERED))
            assert [(r.external_id, r.status) for r in batch.reports] == [(result.external_id, MessageStatus.DELIVERED)]

    run(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_message_is_reported_with_the_providers_code_and_text(kind: str) -> None:
    async def body(h: Harness) -> None:
        [result] = await h.provider.send(_messages(1))
        assert result.external_id is not None
        await h.settle(result.external_id, MessageStatus.FAILED, "30003")
        reports = []
        if h.capabilities.pull:
            reports += await h.provider.fetch_reports([result.external_id])
        if h.capabilities.push:
            reports += h.provider.parse_webhook(h.push_request(result.external_id, MessageStatus.FAILED)).reports
        assert reports and all(r.status is MessageStatus.FAILED for r in reports)
        assert all(r.error_code and r.error_text for r in reports)

    run(kind, body)


@pytest.mark.parametrize(("kind", "fault"), [(k, f) for k in KINDS for f in sorted(FAULTS[k])])
def test_each_fault_becomes_a_provider_error_of_the_right_class(kind: str, fault: Fault) -> None:
    async def body(h: Harness) -> None:
        h.inject(fault)
        results = await h.provider.send(_messages(2))
        assert len(results) == 2
        errors = [r.error for r in results if r.error is not None]
        assert errors, f"{fault.name} produced no error"
        for error in errors:
            assert isinstance(error, ProviderError)
            assert error.provider == h.provider.name
            expected = OUTCOMES.get((kind, fault)) or OUTCOMES[fault]
            assert error.outcome is expected, (fault, error.code, error.text)
            assert error.message
        after = await h.provider.send(_messages(1))  # the fault was one request: the next one goes through
        assert after[0].accepted

    run(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_each_fake_declares_the_faults_this_suite_injects(kind: str) -> None:
    async def body(h: Harness) -> None:
        assert h.capabilities.faults == FAULTS[kind]

    run(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_forged_and_malformed_pushes_are_refused(kind: str) -> None:
    async def body(h: Harness) -> None:
        if not h.capabilities.push:
            with pytest.raises(WebhookError):
                h.provider.parse_webhook(_any_request())
            return
        [result] = await h.provider.send(_messages(1))
        assert result.external_id is not None
        with pytest.raises(WebhookError) as forged:
            h.provider.parse_webhook(h.push_request(result.external_id, MessageStatus.DELIVERED, forged=True))
        assert forged.value.status in (401, 403)
        with pytest.raises(WebhookError) as malformed:
            h.provider.parse_webhook(h.malformed_push())
        assert malformed.value.status == 400

    run(kind, body)


@pytest.mark.parametrize("kind", ["twilio", "infobip", "africastalking"])
def test_an_inbound_stop_reply_is_parsed(kind: str) -> None:
    async def body(h: Harness) -> None:
        batch = h.provider.parse_webhook(h.inbound_request("+254712000009", "STOP"))
        assert [(m.from_number.lstrip("+"), m.text.strip().upper()) for m in batch.inbound] == [
            ("254712000009", "STOP")
        ]

    run(kind, body)


@pytest.mark.parametrize("kind", KINDS)
def test_check_says_the_provider_is_usable(kind: str) -> None:
    async def body(h: Harness) -> None:
        check = await h.provider.check()
        assert check.ok, check.detail

    run(kind, body)


def _any_request() -> Any:
    from herald.providers.base import WebhookRequest

    return WebhookRequest(url="http://127.0.0.1/webhooks/x", method="POST", headers={}, body=b"{}")
