"""The SMPP 3.4 adapter: `binds` transceiver sessions kept alive, submit_sm asking for receipts, receipts to the sink.

The binds (smpp_binds.py) are bound lazily inside the running event loop, kept alive with
enquire_link and rebound after a drop; submits spread over the open ones, up to max_in_flight
waiting for their answer on each. A long text goes as UDH-concatenated parts; the first part's
message_id is the external id and every part's id goes back in the SendResult, so herald stores
them and combines the parts' receipts (domain/multipart.py) even after a restart. Receipts are
pushed on any bind, each under its part's id turned into the form submit_sm_resp used
(smpp_ids.py, the `receipt_id` setting); `fetch_reports` asks with query_sm where the SMSC supports
it. Mobile-originated messages (a client's STOP) go to herald's inbound sink, like the replies
Twilio and Infobip push.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime

from herald.domain.phones import mask
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.domain.segments import Alphabet
from herald.errors import ProviderError, ProviderOutcome, WebhookError
from herald.providers import smpp_charset
from herald.providers import smpp_pdu as p
from herald.providers.base import (
    InboundSink,
    OutboundMessage,
    ProviderCheck,
    ReportSink,
    SendResult,
    WebhookBatch,
    WebhookRequest,
)
from herald.providers.config import SmppSettings
from herald.providers.smpp_binds import Bind, Binds
from herald.providers.smpp_codes import ADVICE, COMMAND_STATUS, REBIND
from herald.providers.smpp_ids import ReceiptIds
from herald.providers.smpp_receipts import Receipt, is_receipt, parse_receipt, receipt_report
from herald.providers.smpp_session import LinkDown, NotSent, Session

log = logging.getLogger(__name__)


_RETRY, _PERMANENT, _THROTTLED = ProviderOutcome.TRANSIENT, ProviderOutcome.PERMANENT, ProviderOutcome.THROTTLED
_UNKNOWN, _UNREACHABLE = ProviderOutcome.OUTCOME_UNKNOWN, ProviderOutcome.UNREACHABLE

THROTTLE_PAUSE = 0.5
"""Seconds every submit on the link waits after a throttled or queue-full answer."""

TON_INTERNATIONAL, TON_ALPHANUMERIC, TON_ABBREVIATED = 1, 5, 6  # SMPP 3.4 type of number
NPI_UNKNOWN, NPI_E164 = 0, 1  # numbering plan indicator
SOURCES_KEPT = 100_000


def build(
    settings: SmppSettings,
    *,
    now: Callable[[], datetime],
    public_url: str | None,
    report_sink: ReportSink,
    inbound_sink: InboundSink | None = None,
) -> SmppProvider:
    return SmppProvider(settings, now=now, report_sink=report_sink, inbound_sink=inbound_sink)


class SmppProvider:
    kind = "smpp"
    max_batch = 100
    pushes_reports = True  # receipts come on the bind
    asks_one_by_one = True  # query_sm

    def __init__(
        self,
        settings: SmppSettings,
        *,
        now: Callable[[], datetime],
        report_sink: ReportSink,
        inbound_sink: InboundSink | None = None,
    ) -> None:
        self.name = settings.name
        self._inbound = inbound_sink
        self.settings = settings
        self._alphabet = Alphabet(settings.default_alphabet)
        self._now = now
        self._sink = report_sink
        self._where = f"{settings.host}:{settings.port}"
        self._ids = ReceiptIds(settings.receipt_id, link=settings.name)
        self._reference = random.randrange(256)
        self._binds = Binds(settings, self._on_request, self._error)
        self._inflight: set[asyncio.Future[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_slot = 0.0
        # query_sm must name the source address a message was submitted under: kept for messages
        # sent under a campaign's sender id (the link's own address needs no entry), newest 100,000.
        self._sources: OrderedDict[str, tuple[str, int, int]] = OrderedDict()

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        return list(await asyncio.gather(*(self._send_one(m) for m in messages)))

    async def _send_one(self, message: OutboundMessage) -> SendResult:
        try:
            bodies = self._short_messages(message)
        except ProviderError as error:
            return SendResult(message.message_id, error=error)
        self._attach()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight.add(done)
        try:
            # Parts go one after another (on one bind while it stays up) so they reach the SMSC in
            # order; messages run concurrently, spread over the binds.
            part_ids: list[str] = []
            bind: Bind | None = None
            for body in bodies:
                bind = await self._binds.pick(prefer=bind)
                part_ids.append(await self._submit(bind, body))
            if message.sender is not None:
                for part in part_ids:
                    self._sources[part] = self._source(message)
                while len(self._sources) > SOURCES_KEPT:
                    self._sources.popitem(last=False)
            # Every part's id goes back: herald keeps them with the message, so receipts of the
            # other parts find it after a restart too (domain/multipart.py combines them).
            parts = tuple(part_ids) if len(part_ids) > 1 else ()
            return SendResult(message.message_id, external_id=part_ids[0], part_ids=parts)
        except ProviderError as error:
            log.info("SMPP %s: submit to %s failed: %s", self.name, mask(message.to), error.code)
            return SendResult(message.message_id, error=error)
        finally:
            self._inflight.discard(done)
            done.set_result(None)

    def _short_messages(self, message: OutboundMessage) -> list[bytes]:
        coding, payloads = smpp_charset.outgoing(message.body, self._alphabet)
        if not payloads or len(payloads) > 255:
            raise self._error(
                f"a message of {len(payloads)} parts cannot be sent over SMPP", "INVALID_BODY", _PERMANENT
            )
        esm_class = 0
        if len(payloads) > 1:
            self._reference = (self._reference + 1) % 256
            esm_class = p.ESM_UDHI
            payloads = [p.udh_concat(self._reference, len(payloads), i) + b for i, b in enumerate(payloads, 1)]
        s = self.settings
        source_addr, source_ton, source_npi = self._source(message)
        return [
            p.ShortMessage(
                source_addr=source_addr,
                source_addr_ton=source_ton,
                source_addr_npi=source_npi,
                destination_addr=message.to.lstrip("+"),
                dest_addr_ton=s.dest_addr_ton,
                dest_addr_npi=s.dest_addr_npi,
                esm_class=esm_class,
                registered_delivery=p.REGISTERED_DELIVERY_FINAL,
                data_coding=coding,
                short_message=payload,
            ).encode()
            for payload in payloads
        ]

    async def _submit(self, bind: Bind, body: bytes) -> str:
        await self._pace()
        session = bind.session
        if session is None or not session.is_open:
            raise self._error("the bind dropped before the submit", "LINK_DOWN", _UNREACHABLE)
        bind.outstanding += 1
        try:
            answer = await session.request(p.SUBMIT_SM, body, timeout=self.settings.timeout)
        except TimeoutError:
            raise self._error("no submit_sm_resp before the timeout", "TIMEOUT", _UNKNOWN) from None
        except NotSent:  # the bind dropped while it waited for the window: never written, not at the SMSC
            raise self._error("the bind dropped before the submit", "LINK_DOWN", _UNREACHABLE) from None
        except LinkDown as exc:
            raise self._error(f"the link dropped before the answer ({exc})", "LINK_DOWN", _UNKNOWN) from None
        finally:
            bind.outstanding -= 1
        if answer.command_id == p.GENERIC_NACK:
            raise self._error(
                f"the SMSC could not read the submit (generic_nack 0x{answer.status:X})", "GENERIC_NACK", _RETRY
            )
        if answer.status != p.ESME_ROK:
            raise self._status_error(answer.status, session)
        try:
            message_id = p.decode_message_id(answer.body)
        except p.PduError:
            message_id = ""
        if answer.command_id != p.resp(p.SUBMIT_SM) or not message_id:
            raise self._error("the SMSC's answer carries no message_id", "MALFORMED", _RETRY)
        self._ids.submitted(message_id)
        return message_id

    async def _pace(self) -> None:
        """Space submits 1/rate_limit seconds apart, and hold them all briefly after the SMSC throttled."""
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next_slot)
        if self.settings.rate_limit is not None:
            self._next_slot = slot + 1 / self.settings.rate_limit
        if slot > now:
            await asyncio.sleep(slot - now)

    def _status_error(self, status: int, session: Session) -> ProviderError:
        name, meaning, outcome = COMMAND_STATUS.get(status, (f"0x{status:08X}", "SMSC-specific error", _RETRY))
        if status in REBIND:
            session.abandon()  # the SMSC no longer sees us bound: drop the socket, the supervisor rebinds
        if outcome is _THROTTLED:
            # The rest of the batch would meet the same answer: give the SMSC a moment first.
            self._next_slot = max(self._next_slot, asyncio.get_running_loop().time() + THROTTLE_PAUSE)
        return self._error(meaning, name, outcome)

    def _error(self, what: str, code: str, outcome: ProviderOutcome, *, advice: str | None = None) -> ProviderError:
        then = advice or ADVICE[outcome]
        return ProviderError(
            f"SMPP link {self.name!r}: {what}; {then}", provider=self.name, outcome=outcome, code=code, text=what
        )

    # -- receipts and replies ----------------------------------------------------------------------

    async def _on_mobile_originated(self, sm: p.ShortMessage) -> tuple[int, bytes]:
        """A client's reply (a STOP): handed to herald's inbound sink, acknowledged once stored."""
        if self._inbound is None:
            return p.ESME_ROK, p.message_id_body("")
        text = smpp_charset.text_of(sm, self._alphabet)
        number = "+" + sm.source_addr.lstrip("+") if sm.source_addr_ton == 1 else sm.source_addr
        try:
            await self._inbound(self.name, [InboundMessage(number, text, self._now())])
        except Exception:  # not stored: the SMSC delivers it again
            log.exception("SMPP %s: a reply from %s could not be stored", self.name, mask(number))
            return 0x64, b""  # ESME_RX_T_APPN: temporary error, try again later
        return p.ESME_ROK, p.message_id_body("")

    async def _on_request(self, pdu: p.Pdu) -> tuple[int, bytes] | None:
        # An SMSC may deliver replies and receipts as deliver_sm or data_sm, the text in short_message
        # or message_payload; both are answered alike (data_sm_resp carries an empty message_id too).
        if pdu.command_id not in (p.DELIVER_SM, p.DATA_SM):
            return None
        sm = p.received(pdu)
        if not is_receipt(sm):
            return await self._on_mobile_originated(sm)
        receipt = parse_receipt(sm)
        if receipt is None:
            log.warning("SMPP %s: a receipt without a message id was ignored", self.name)
            return p.ESME_ROK, p.message_id_body("")
        if not self._ids.knows(receipt.message_id) and self._inflight:
            # Receipts can overtake their submit_sm_resp: an id is only known once its submit is
            # answered, so wait (boundedly) for the submits in flight now ("auto" must see it).
            await asyncio.wait(set(self._inflight), timeout=self.settings.timeout)
        # Each part's receipt goes on under its own submit id; herald's store combines a long message's parts.
        submit_id = self._ids.resolve(receipt.message_id)
        if submit_id is None:  # "auto" cannot yet tell which of two messages it names: hear it again later
            log.info("SMPP %s: a receipt naming two messages in different id forms, redelivery asked", self.name)
            return p.ESME_RX_T_APPN, b""
        report = receipt_report(receipt, submit_id, self._now())
        if report is not None:
            try:
                await self._sink(self.name, [report])
            except Exception:
                log.exception("SMPP %s: storing a receipt failed; asking the SMSC to redeliver it", self.name)
                return p.ESME_RX_T_APPN, b""
        return p.ESME_ROK, p.message_id_body("")

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """query_sm for each id (herald asks for every part of a long message, and combines the answers);
        an SMSC that refuses query_sm gives no reports (they are pushed); ProviderError when no bind is up."""
        # No bind up: ProviderError, so the report job does not count these messages as asked about.
        bind = await self._binds.pick()
        session = bind.session
        assert session is not None
        found = await asyncio.gather(*(self._pull(session, ext) for ext in external_ids))
        return [r for r in found if r is not None]

    def _source(self, message: OutboundMessage) -> tuple[str, int, int]:
        """source_addr, its TON and NPI: a campaign's sender id (TON 5 for a name, TON 1 / NPI 1 for an
        international number, TON 6 for a short code), else the link's own configured address."""
        sender = message.sender
        if sender is None:
            return self.settings.source_addr, self.settings.source_addr_ton, self.settings.source_addr_npi
        if sender.startswith("+"):  # domain/senders.py writes every number but a short code this way
            return sender[1:], TON_INTERNATIONAL, NPI_E164
        if sender.isdigit():
            return sender, TON_ABBREVIATED, NPI_UNKNOWN  # a short code
        return sender, TON_ALPHANUMERIC, NPI_UNKNOWN

    async def _pull(self, session: Session, message_id: str) -> DeliveryReport | None:
        receipt = await self._query(session, message_id)
        return None if receipt is None else receipt_report(receipt, message_id, self._now())

    async def _query(self, session: Session, message_id: str) -> Receipt | None:
        s = self.settings
        known = self._sources.get(message_id)
        # The address it was submitted under; after a restart that is forgotten for a campaign's sender id,
        # so a refusal under the link's own address is asked again with a NULL source ("not known", SMPP 3.4).
        sources = [known] if known else [(s.source_addr, s.source_addr_ton, s.source_addr_npi), ("", 0, 0)]
        for source in sources:
            try:
                answer = await session.request(p.QUERY_SM, p.query_sm_body(message_id, *source), timeout=s.timeout)
                if answer.command_id != p.resp(p.QUERY_SM) or answer.status != p.ESME_ROK:
                    continue
                result = p.QueryResult.decode(answer.body)
            except (TimeoutError, LinkDown, p.PduError):
                return None
            return Receipt(message_id, result.message_state, str(result.error_code) if result.error_code else None)
        return None

    # -- the rest of the protocol ----------------------------------------------------------------

    def parse_webhook(self, request: WebhookRequest) -> WebhookBatch:
        raise WebhookError("SMPP has no webhooks: its receipts arrive on the bind.", status=404)

    async def check(self) -> ProviderCheck:
        try:
            await self._binds.pick()
        except ProviderError as error:
            return ProviderCheck(False, error.text or error.message)
        binds = f" ({self.settings.binds} binds)" if self.settings.binds > 1 else ""
        return ProviderCheck(True, f"bound as transceiver to {self._where} as {self.settings.system_id}{binds}")

    def _attach(self) -> None:
        """Bind state belongs to one event loop; a new loop (a job's asyncio.run) starts afresh."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._inflight = loop, set()
        self._binds.attach()

    async def close(self) -> None:
        """Unbind and close every bind; a later send binds again."""
        await self._binds.close()
        self._loop = None
