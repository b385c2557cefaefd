"""The SMPP 3.4 adapter: one transceiver bind kept alive, submit_sm asking for receipts, receipts to herald's sink.

The link is bound lazily inside the running event loop, kept alive with enquire_link and rebound
after a drop with exponential backoff (a send() that finds the link down asks for an attempt at
once, so backoff only paces a link nobody is using). Up to max_in_flight submit_sm wait for their
answer at once. A long text goes as UDH-concatenated parts; the first part's message_id is the
external id and the receipts of all parts combine as smpp_receipts describes. Receipts are pushed on
the bind; `fetch_reports` asks with query_sm where the SMSC supports it. Mobile-originated
messages (a client's STOP) go to herald's inbound sink, like the replies Twilio and Infobip push.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime

from herald.domain.message import MessageStatus
from herald.domain.phones import mask
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.domain.segments import Encoding, gsm7_encode, split_parts
from herald.errors import ProviderError, ProviderOutcome, WebhookError
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
from herald.providers.smpp_codes import ADVICE, COMMAND_STATUS, REBIND
from herald.providers.smpp_receipts import Correlator, Receipt, combine, is_receipt, parse_receipt
from herald.providers.smpp_session import LinkDown, Session

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
        self._now = now
        self._sink = report_sink
        self._where = f"{settings.host}:{settings.port}"
        self._correlator = Correlator()
        self._reference = random.randrange(256)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: Session | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._last_error: ProviderError | None = None
        self._inflight: set[asyncio.Future[None]] = set()
        self._wake = asyncio.Event()
        self._attempted = asyncio.Event()
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
            # Parts go one after another so they reach the SMSC in order; messages run concurrently.
            part_ids = [await self._submit(body) for body in bodies]
            self._correlator.register(part_ids)
            if message.sender is not None:
                for part in part_ids:
                    self._sources[part] = self._source(message)
                while len(self._sources) > SOURCES_KEPT:
                    self._sources.popitem(last=False)
            return SendResult(message.message_id, external_id=part_ids[0])
        except ProviderError as error:
            log.info("SMPP %s: submit to %s failed: %s", self.name, mask(message.to), error.code)
            return SendResult(message.message_id, error=error)
        finally:
            self._inflight.discard(done)
            done.set_result(None)

    def _short_messages(self, message: OutboundMessage) -> list[bytes]:
        encoding, parts = split_parts(message.body)
        if not parts or len(parts) > 255:
            raise self._error(f"a message of {len(parts)} parts cannot be sent over SMPP", "INVALID_BODY", _PERMANENT)
        if encoding is Encoding.GSM7:
            coding, payloads = p.DC_DEFAULT, [gsm7_encode(part) for part in parts]
        else:
            coding, payloads = p.DC_UCS2, [part.encode("utf-16-be") for part in parts]
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

    async def _submit(self, body: bytes) -> str:
        session = await self._bound()
        await self._pace()
        try:
            answer = await session.request(p.SUBMIT_SM, body, timeout=self.settings.timeout)
        except TimeoutError:
            raise self._error("no submit_sm_resp before the timeout", "TIMEOUT", _UNKNOWN) from None
        except LinkDown as exc:
            raise self._error(f"the link dropped before the answer ({exc})", "LINK_DOWN", _UNKNOWN) from None
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

    # -- the bind --------------------------------------------------------------------------------

    def _attach(self) -> None:
        """Bind state belongs to one event loop; a new loop (a job's asyncio.run) starts afresh."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._session is not None:
            self._session.abandon()
        self._loop, self._session, self._supervisor, self._last_error = loop, None, None, None
        self._inflight = set()
        self._wake = asyncio.Event()
        self._attempted = asyncio.Event()

    async def _bound(self) -> Session:
        """The bound session, asking the supervisor for an immediate attempt if the link is down."""
        self._attach()
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.create_task(self._supervise())
        if self._session is not None and self._session.is_open:
            return self._session
        attempt = self._attempted
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(attempt.wait(), 2 * self.settings.timeout + 1)
        if self._session is not None and self._session.is_open:
            return self._session
        raise self._last_error or self._error(f"the link to {self._where} is down", "LINK_DOWN", _UNREACHABLE)

    async def _supervise(self) -> None:
        initial = min(1.0, self.settings.reconnect_max_delay)
        delay = initial
        while True:
            self._wake.clear()
            try:
                session = await self._connect()
            except ProviderError as error:
                self._last_error = error
                self._signal_attempt()
                log.warning("%s Next bind attempt within %.1fs.", error.message, delay)
                await self._doze(delay)
                delay = min(delay * 2, self.settings.reconnect_max_delay)
                continue
            self._session, self._last_error, delay = session, None, initial
            self._signal_attempt()
            reason = await session.wait_closed()
            log.warning("SMPP %s: link to %s dropped (%s); rebinding.", self.name, self._where, reason)
            await self._doze(delay)

    def _signal_attempt(self) -> None:
        self._attempted.set()
        self._attempted = asyncio.Event()

    async def _doze(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _connect(self) -> Session:
        s = self.settings
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(s.host, s.port), s.timeout)
        except (OSError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise self._error(f"unreachable {self._where} ({reason})", "UNREACHABLE", _UNREACHABLE) from None
        session = Session(reader, writer, handler=self._on_request, window=s.max_in_flight)
        bind = p.Bind(s.system_id, s.password.get_secret_value(), s.system_type)
        try:
            answer = await session.request(p.BIND_TRANSCEIVER, bind.encode(), timeout=s.timeout)
        except (TimeoutError, LinkDown):
            await session.close()
            raise self._error(
                f"no answer to bind_transceiver from {self._where}", "BIND_TIMEOUT", _UNREACHABLE
            ) from None
        if answer.command_id != p.resp(p.BIND_TRANSCEIVER) or answer.status != p.ESME_ROK:
            await session.close()
            name, meaning, outcome = COMMAND_STATUS.get(answer.status, (f"0x{answer.status:08X}", "refused", _RETRY))
            # A wrong password or system_id stays wrong; other refusals (bind failed, already bound) may clear up.
            if outcome is ProviderOutcome.MISCONFIGURED:
                advice: str | None = "check system_id and password with the operator."
            else:
                outcome, advice = _UNREACHABLE, None  # no usable link yet: nothing was sent
            raise self._error(f"bind refused: {meaning} ({name})", name, outcome, advice=advice)
        session.keepalive(s.enquire_link_interval, s.timeout)
        log.info("SMPP %s: bound to %s as %s", self.name, self._where, s.system_id)
        return session

    # -- receipts and replies ----------------------------------------------------------------------

    async def _on_mobile_originated(self, sm: p.ShortMessage) -> tuple[int, bytes]:
        """A client's reply (a STOP): handed to herald's inbound sink, acknowledged once stored."""
        if self._inbound is None:
            return p.ESME_ROK, p.message_id_body("")
        # UCS-2 as sent; otherwise GSM-7 unpacked, whose letters and digits are ASCII's (enough for STOP).
        coding = "utf-16-be" if sm.data_coding == p.DC_UCS2 else "latin-1"
        text = sm.short_message.decode(coding, errors="replace")
        number = "+" + sm.source_addr.lstrip("+") if sm.source_addr_ton == 1 else sm.source_addr
        try:
            await self._inbound(self.name, [InboundMessage(number, text, self._now())])
        except Exception:  # not stored: the SMSC delivers it again
            log.exception("SMPP %s: a reply from %s could not be stored", self.name, mask(number))
            return 0x64, b""  # ESME_RX_T_APPN: temporary error, try again later
        return p.ESME_ROK, p.message_id_body("")

    async def _on_request(self, pdu: p.Pdu) -> tuple[int, bytes] | None:
        if pdu.command_id != p.DELIVER_SM:
            return None
        sm = p.ShortMessage.decode(pdu.body)
        if not is_receipt(sm):
            return await self._on_mobile_originated(sm)
        receipt = parse_receipt(sm)
        if receipt is None:
            log.warning("SMPP %s: a receipt without a message id was ignored", self.name)
            return p.ESME_ROK, p.message_id_body("")
        if not self._correlator.knows(receipt.message_id) and self._inflight:
            # Receipts can overtake their submit_sm_resp: a later part's id is only known once its
            # submit is answered, so wait (boundedly) for the submits in flight now.
            await asyncio.wait(set(self._inflight), timeout=self.settings.timeout)
        report = self._correlator.report(receipt, self._now())
        if report is not None:
            try:
                await self._sink(self.name, [report])
            except Exception:
                log.exception("SMPP %s: storing a receipt failed; asking the SMSC to redeliver it", self.name)
                return p.ESME_RX_T_APPN, b""
        return p.ESME_ROK, p.message_id_body("")

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """query_sm for each message's parts; an SMSC that refuses query_sm gives no reports (they are pushed)."""
        try:
            session = await self._bound()
        except ProviderError as error:
            log.warning("SMPP %s: no reports pulled: %s", self.name, error.message)
            return []
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

    async def _pull(self, session: Session, external_id: str) -> DeliveryReport | None:
        receipts = [await self._query(session, part) for part in self._correlator.parts_of(external_id)]
        if any(r is None for r in receipts):
            return None
        known = [r for r in receipts if r is not None]
        status = combine([r.status for r in known])
        if status is None:
            return None
        if status is not MessageStatus.FAILED:
            return DeliveryReport(external_id, status, self._now())
        failed = next(r for r in known if r.status is MessageStatus.FAILED)
        code, text = failed.error_fields()
        return DeliveryReport(external_id, status, self._now(), code, text, transient=failed.transient)

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
            await self._bound()
        except ProviderError as error:
            return ProviderCheck(False, error.text or error.message)
        return ProviderCheck(True, f"bound as transceiver to {self._where} as {self.settings.system_id}")

    async def close(self) -> None:
        """Unbind and close; a later send binds again."""
        if self._loop is not asyncio.get_running_loop():
            if self._session is not None:
                self._session.abandon()
            self._loop = None
            return
        if self._supervisor is not None:
            self._supervisor.cancel()
        session, self._session, self._supervisor = self._session, None, None
        if session is not None and session.is_open:
            with contextlib.suppress(TimeoutError, LinkDown):
                await session.request(p.UNBIND, timeout=min(self.settings.timeout, 2.0), windowed=False)
            await session.close()
        self._loop = None
