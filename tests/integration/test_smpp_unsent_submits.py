"""A bind that drops while submits wait for its window: those never written are known not to be at the SMSC.

Only the submit on the wire when the bind dropped may have reached the SMSC (in doubt); the ones still
waiting for a window slot were never written, so they are plainly unreachable: a fallback provider may
take them at once and they never end "outcome unknown". Counted at the fake SMSC.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from herald.errors import ProviderOutcome
from herald.fakes.smsc import FakeSmsc, SmscFault
from herald.providers.base import OutboundMessage
from herald.providers.smpp import SmppProvider
from tests.contract.harness_smpp import settings


def test_submits_waiting_for_the_window_when_the_bind_drops_are_unreachable_not_in_doubt() -> None:
    async def main() -> None:
        fake = await FakeSmsc().start()

        async def sink(provider: str, found: object) -> None:
            return None

        provider = SmppProvider(
            settings(port=fake.port, max_in_flight=1, timeout=5.0), now=lambda: datetime.now(UTC), report_sink=sink
        )
        try:
            [warm] = await provider.send([OutboundMessage(1, "+254712000001", "bind")])
            assert warm.accepted
            fake.inject(SmscFault.NO_ANSWER)  # the next submit is taken and never answered
            sending = asyncio.ensure_future(
                provider.send([OutboundMessage(n, "+254712000001", f"hello {n}") for n in (2, 3, 4)])
            )
            async with asyncio.timeout(5):
                while len(fake.submitted) < 2:  # the first of them is on the wire, the others wait
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            fake.drop_all()
            results = await sending
            assert len(fake.submitted) == 2  # only one of the three reached the SMSC
            outcomes = sorted(str(r.error.outcome) for r in results if r.error is not None)
            assert len(outcomes) == 3
            assert outcomes.count(str(ProviderOutcome.OUTCOME_UNKNOWN)) == 1  # the one on the wire
            assert outcomes.count(str(ProviderOutcome.UNREACHABLE)) == 2  # never written
        finally:
            await provider.close()
            await fake.close()

    asyncio.run(main())
