"""receipt_id = "auto" on a link whose hex message ids have no letters: a receipt id can name two messages.

The fake SMSC answers submit_sm_resp in hex from 0x10 and names messages in decimal in its receipts,
so the receipt "16" is 0x10 in decimal, while "16" is also another message's own hex id. Until the
link's form is known herald must not pick one: it asks the SMSC to deliver that receipt again, and
the redelivered receipt lands on its own message. Counted where the reports land (the adapter's sink).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.fakes.smsc import FakeSmsc
from herald.providers import smpp_pdu as p
from herald.providers.base import OutboundMessage
from herald.providers.smpp import SmppProvider
from tests.contract.harness_smpp import settings


async def _wait(reports: list[DeliveryReport], n: int) -> None:
    async with asyncio.timeout(5):
        while len(reports) < n:
            await asyncio.sleep(0.01)


def test_an_ambiguous_receipt_is_asked_for_again_and_lands_on_its_own_message_once_the_form_shows() -> None:
    async def main() -> None:
        fake = await FakeSmsc(resp_ids="hex", receipt_ids="decimal", first_id=0x10).start()
        reports: list[DeliveryReport] = []

        async def sink(provider: str, found: Sequence[DeliveryReport]) -> None:
            reports.extend(found)

        provider = SmppProvider(
            settings(port=fake.port, receipt_id="auto"), now=lambda: datetime.now(UTC), report_sink=sink
        )
        try:
            results = await provider.send([OutboundMessage(n, "+254712000001", f"hello {n}") for n in range(11)])
            ids = sorted((r.external_id or "" for r in results), key=lambda i: int(i, 16))
            assert ids == ["10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "1a"]
            await fake.settle("10")  # its receipt says "16": 0x10 in decimal, or the message "16" itself
            assert fake.receipt_answers == [p.ESME_RX_T_APPN]  # not decided: the SMSC delivers it again
            assert reports == []  # and the message "16" was not told it was delivered
            await fake.settle("1a")  # "26": only 0x1a in decimal, so the link's form shows
            await _wait(reports, 1)
            await fake.settle("10")  # the SMSC's redelivery
            await _wait(reports, 2)
            assert [(r.external_id, r.status) for r in reports] == [
                ("1a", MessageStatus.DELIVERED),
                ("10", MessageStatus.DELIVERED),
            ]
        finally:
            await provider.close()
            await fake.close()

    asyncio.run(main())
