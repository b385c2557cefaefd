"""Contract harness for the SMPP adapter: the real adapter bound to the fake SMSC over TCP on 127.0.0.1.

Receipts arrive on the bind and go to the report sink, which this harness collects in `reports`;
the contract's report tests use the pull path (query_sm), and tests/integration/test_smpp_adapter.py
covers the pushed receipts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.fakes.smsc import FakeSmsc, SmscFault
from herald.providers.base import WebhookRequest
from herald.providers.config import SmppSettings
from herald.providers.smpp import SmppProvider, build
from herald.providers.smpp_codes import COMMAND_STATUS, REBIND
from herald.providers.smpp_receipts import MESSAGE_STATES
from tests.contract.harness import Capabilities, Fault

FAULTS = {
    Fault.THROTTLED: SmscFault.THROTTLED,
    Fault.SERVER_ERROR: SmscFault.SYSTEM_ERROR,
    Fault.TIMEOUT: SmscFault.NO_ANSWER,
    Fault.DISCONNECT: SmscFault.DROP,
    Fault.MALFORMED: SmscFault.GENERIC_NACK,
    Fault.INVALID_NUMBER: SmscFault.INVALID_DESTINATION,
    Fault.UNSUBSCRIBED: SmscFault.BARRED,
}
"""Contract faults as the fake SMSC injects them; BAD_CREDENTIALS is a refused bind."""

STATS = {MessageStatus.DELIVERED: "DELIVRD", MessageStatus.FAILED: "UNDELIV", MessageStatus.SENT: "ENROUTE"}


def settings(**overrides: object) -> SmppSettings:
    values: dict[str, object] = {
        "name": "smpp-test",
        "host": "127.0.0.1",
        "system_id": "herald",
        "password": "secret",
        "source_addr": "HERALD",
        "timeout": 1.0,
        "enquire_link_interval": 30.0,
        "reconnect_max_delay": 2.0,
    }
    return SmppSettings.model_validate(values | overrides)


class SmppHarness:
    capabilities = Capabilities(pull=True, push=False, faults=frozenset(Fault))

    def __init__(self, smsc: FakeSmsc, **overrides: object) -> None:
        self.smsc = smsc
        self.reports: list[DeliveryReport] = []
        self.arrived = asyncio.Event()
        self.provider: SmppProvider = build(
            settings(**({"port": smsc.port} | overrides)),
            now=lambda: datetime.now(UTC),
            public_url=None,
            report_sink=self._sink,
        )

    async def _sink(self, provider: str, reports: Sequence[DeliveryReport]) -> None:
        assert provider == self.provider.name
        self.reports.extend(reports)
        self.arrived.set()

    async def wait_reports(self, n: int, timeout: float = 5.0) -> list[DeliveryReport]:
        """The first `n` reports the sink received, waiting for them to arrive."""
        async with asyncio.timeout(timeout):
            while len(self.reports) < n:
                self.arrived.clear()
                await self.arrived.wait()
        return self.reports[:n]

    def inject(self, fault: Fault, times: int = 1) -> None:
        if fault is Fault.BAD_CREDENTIALS:
            self.smsc.refuse_binds(times)
            self.smsc.drop_all()  # the adapter must bind again to meet the refusal
            return
        self.smsc.inject(FAULTS[fault], times)

    async def settle(self, external_id: str, status: MessageStatus, error_code: str | None = None) -> None:
        await self.smsc.settle(external_id, STATS[status], error_code or "000")

    def push_request(self, external_id: str, status: MessageStatus, *, forged: bool = False) -> WebhookRequest:
        raise NotImplementedError("SMPP receipts arrive on the bind, not through a webhook")

    def malformed_push(self) -> WebhookRequest:
        raise NotImplementedError

    def inbound_request(self, from_number: str, text: str) -> WebhookRequest:
        raise NotImplementedError

    def code_tables(self) -> dict[str, dict[str, object]]:
        return {
            "command_status": {f"0x{code:02X}": (name, outcome) for code, (name, _, outcome) in COMMAND_STATUS.items()},
            "rebind": {f"0x{code:02X}": COMMAND_STATUS[code][0] for code in sorted(REBIND)},
            "message_state": {str(state): (stat, status) for state, (stat, status, _) in MESSAGE_STATES.items()},
        }

    async def close(self) -> None:
        await self.provider.close()
        await self.smsc.close()


async def make(**overrides: object) -> SmppHarness:
    smsc = await FakeSmsc().start()
    return SmppHarness(smsc, **overrides)
