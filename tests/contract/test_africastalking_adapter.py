"""What only Africa's Talking's adapter does: batching identical texts, costs, the credentials check, callback forms."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from herald.domain.message import MessageStatus
from herald.errors import WebhookError
from herald.providers.base import OutboundMessage
from tests.contract import harness_africastalking
from tests.contract.harness_africastalking import AfricasTalkingHarness

pytestmark = pytest.mark.contract


def run(body: Callable[[AfricasTalkingHarness], Awaitable[None]], **options: object) -> None:
    async def main() -> None:
        h = await harness_africastalking.make(**options)  # type: ignore[arg-type]
        try:
            await asyncio.wait_for(body(h), timeout=30)
        finally:
            await h.close()

    asyncio.run(main())


def test_identical_texts_go_in_batches_and_each_text_in_its_own_request() -> None:
    async def body(h: AfricasTalkingHarness) -> None:
        same = [OutboundMessage(i, f"+2547120001{i:02d}", "Same text") for i in range(5)]
        other = [OutboundMessage(10, "+254712000200", "Another text")]
        again = [OutboundMessage(11, "+254712000104", "Same text")]  # a number already in the open batch
        results = await h.provider.send(same + other + again)
        assert [r.message_id for r in results] == [0, 1, 2, 3, 4, 10, 11] and all(r.accepted for r in results)
        # batch_size 2: three requests for the five, one for the other text, one for the repeated number
        assert h.fake.requests["/version1/messaging"] == 5
        assert sorted(len(f["to"].split(",")) for f in h.fake.forms) == [1, 1, 1, 2, 2]
        assert {(r.cost, r.cost_currency) for r in results} == {(Decimal("0.8000"), "KES")}

    run(body, batch_size=2)


def test_one_refused_recipient_fails_alone() -> None:
    async def body(h: AfricasTalkingHarness) -> None:
        h.fake.refuse["+254712000301"] = (405, "InsufficientBalance")
        results = await h.provider.send([OutboundMessage(i, f"+25471200030{i}", "Hi") for i in range(3)])
        assert [r.accepted for r in results] == [True, False, True]
        error = results[1].error
        assert error is not None and error.code == "405" and error.outcome.name == "MISCONFIGURED"
        assert "+254712000301" not in error.message  # a number is never in an error

    run(body)


def test_a_bad_key_is_a_clear_check_failure_without_the_key() -> None:
    async def body(h: AfricasTalkingHarness) -> None:
        h.fake.api_key = "another-key"
        check = await h.provider.check()
        assert not check.ok and "api_key" in check.detail and "refused the credentials" in check.detail
        assert harness_africastalking.API_KEY not in check.detail

    run(body)


def test_an_unreachable_provider_is_a_clear_check_failure() -> None:
    async def body(h: AfricasTalkingHarness) -> None:
        await h.fake.stop()
        check = await h.provider.check()
        assert not check.ok and "unreachable" in check.detail

    run(body)


def test_reports_failures_and_opt_outs_are_read_from_their_forms() -> None:
    async def body(h: AfricasTalkingHarness) -> None:
        form = {"id": "ATXid_1", "status": "Failed", "failureReason": "UserInBlackList", "phoneNumber": "+254712000001"}
        [report] = h.provider.parse_webhook(h.call(form, harness_africastalking.SECRET)).reports
        assert report.status is MessageStatus.FAILED and report.opted_out and not report.transient
        absent = {"id": "ATXid_2", "status": "AbsentSubscriber", "networkCode": "63902", "retryCount": "3"}
        [report] = h.provider.parse_webhook(h.call(absent, harness_africastalking.SECRET)).reports
        assert report.transient and report.error_code == "AbsentSubscriber" and "63902" in (report.error_text or "")
        buffered = h.call({"id": "ATXid_3", "status": "Buffered"}, harness_africastalking.SECRET)
        [report] = h.provider.parse_webhook(buffered).reports
        assert report.status is MessageStatus.SENT
        batch = h.provider.parse_webhook(h.optout_request("+254712000009"))
        assert batch.optouts == ["+254712000009"] and not batch.reports
        with pytest.raises(WebhookError) as missing:
            h.provider.parse_webhook(h.call({"id": "ATXid_1", "status": "Success"}, None))
        assert missing.value.status == 403

    run(body)
