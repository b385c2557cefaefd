"""A fake SMSC on 127.0.0.1: transceiver binds, submit_sm answered with message ids, receipts pushed, faults on demand.

It speaks SMPP 3.4 over real TCP with herald's own codec, so the adapter's socket, window,
keep-alive and reconnect code all run in tests, the demo and benchmarks. Receipts (deliver_sm,
esm_class 0x04, text plus TLVs) go out after `receipt_after` seconds or on `settle()`, optionally
before the submit_sm_resp, as real SMSCs sometimes do. `query_sm` answers each message's state.
Receipts and replies (`reply()`) travel in any of the shapes real SMSCs use (`Carrier`), and the
fake reads data_coding 0 with its own `alphabet`, so a link configured differently shows in `text`.
Like real SMSCs it can answer submit_sm_resp in one form and name the message in its receipts in
another (`resp_ids` hex, HEX or decimal; `receipt_ids` same, hex or decimal), and push a receipt on
another bind than the one its submit came on (`receipt_bind="other"`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import signal
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from herald.domain.segments import Alphabet
from herald.providers import smpp_charset
from herald.providers import smpp_pdu as p
from herald.providers.smpp_receipts import MESSAGE_STATES, STAT_STATES
from herald.providers.smpp_session import LinkDown, NoAnswer, Session

log = logging.getLogger(__name__)


class SmscFault(StrEnum):
    """What the next submit_sm(s) meet instead of an ESME_ROK answer."""

    THROTTLED = "ESME_RTHROTTLED"
    QUEUE_FULL = "ESME_RMSGQFUL"
    SYSTEM_ERROR = "ESME_RSYSERR"
    INVALID_DESTINATION = "ESME_RINVDSTADR"
    BARRED = "VENDOR_RBARRED"
    NO_ANSWER = "no submit_sm_resp"
    DROP = "connection dropped"
    GENERIC_NACK = "generic_nack"
    GARBAGE = "bytes that are not a PDU"


_STATUS = {
    SmscFault.THROTTLED: p.ESME_RTHROTTLED,
    SmscFault.QUEUE_FULL: p.ESME_RMSGQFUL,
    SmscFault.SYSTEM_ERROR: p.ESME_RSYSERR,
    SmscFault.INVALID_DESTINATION: p.ESME_RINVDSTADR,
    SmscFault.BARRED: p.VENDOR_RBARRED,
}


class Carrier(StrEnum):
    """How a receipt or a reply reaches the ESME: the shapes SMPP 3.4 allows and SMSCs use."""

    SHORT_MESSAGE = "short_message"  # deliver_sm, the text in short_message
    MESSAGE_PAYLOAD = "message_payload"  # deliver_sm with sm_length 0, the text in the message_payload TLV
    DATA_SM = "data_sm"  # data_sm, the text (if any) in message_payload


@dataclass
class Submitted:
    """One submit_sm the fake accepted (or refused: then `message_id` is empty); `text` as the fake read it."""

    message_id: str
    sm: p.ShortMessage
    session: Session
    at: datetime
    state: int = 1  # ENROUTE until a receipt says otherwise
    err: str = "000"
    done: datetime | None = None
    text: str = ""


class FakeSmsc:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        system_id: str = "herald",
        password: str = "secret",
        receipt_after: float | None = None,
        receipt_stat: str = "DELIVRD",
        receipt_before_resp: bool = False,
        date_digits: int = 10,
        receipt_tlvs: bool = True,
        receipt_carrier: Carrier = Carrier.SHORT_MESSAGE,
        alphabet: Alphabet = Alphabet.GSM7,
        latency: float = 0.0,
        resp_ids: Literal["hex", "HEX", "decimal"] = "hex",
        receipt_ids: Literal["same", "hex", "decimal"] = "same",
        receipt_bind: Literal["same", "other"] = "same",
        first_id: int = 0x5A0001,
    ) -> None:
        self.host, self._port = host, port
        self.system_id, self.password = system_id, password
        self.receipt_after = receipt_after
        self.receipt_stat = receipt_stat
        self.receipt_before_resp = receipt_before_resp
        self.date_digits = date_digits
        self.receipt_tlvs = receipt_tlvs  # with Carrier.DATA_SM: TLVs and no text at all, else text only
        self.receipt_carrier = receipt_carrier
        self.alphabet = alphabet
        self.latency = latency
        self.resp_ids, self.receipt_ids, self.receipt_bind = resp_ids, receipt_ids, receipt_bind
        self.outstanding = self.max_outstanding = 0  # submits being answered at once (the ESME's window)
        self.arrivals: list[float] = []  # time.time() of every submit_sm as it came, before the latency
        self.submitted: list[Submitted] = []
        self.by_id: dict[str, Submitted] = {}
        self.sessions: list[Session] = []
        self.binds = 0
        self.closed_reasons: list[str] = []
        self.answers: list[p.Pdu] = []  # the ESME's answers to deliver() and reply(), in order
        self._faults: list[SmscFault] = []
        self._bind_refusals: list[int] = []
        self.receipt_answers: list[int] = []  # the command_status of the ESME's answer to each receipt pushed
        self._ids = itertools.count(first_id)  # small numbers make hex ids without letters, valid in decimal too
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        return self._port

    @property
    def enquire_links(self) -> int:
        return sum(s.enquire_links_received for s in self.sessions)

    async def start(self) -> FakeSmsc:
        self._server = await asyncio.start_server(self._connected, self.host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in self.sessions:
            await session.close()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    def inject(self, fault: SmscFault, times: int = 1) -> None:
        self._faults += [fault] * times

    def refuse_binds(self, times: int = 1, status: int = p.ESME_RINVPASWD) -> None:
        self._bind_refusals += [status] * times

    def drop_all(self) -> None:
        """Close every connection at once, as a network failure would."""
        for session in self.sessions:
            session.abandon()

    async def settle(self, message_id: str, stat: str = "DELIVRD", err: str = "000") -> None:
        """The message's final (or intermediate) state, pushed as a receipt on a bound session."""
        submitted = self.by_id[message_id]
        submitted.state, submitted.err, submitted.done = STAT_STATES[stat], err, datetime.now(UTC)
        await self._push_receipt(submitted)

    async def deliver(self, sm: p.ShortMessage, carrier: Carrier = Carrier.SHORT_MESSAGE) -> int:
        """Push any message (a mobile-originated one) on the first open session; the status of its answer
        (a generic_nack's too: an ESME that cannot read the command answers ESME_RINVCMDID)."""
        session = next(s for s in self.sessions if s.is_open)
        command, body = _carried(sm, carrier)
        answer = await session.request(command, body, timeout=5, windowed=False)
        self.answers.append(answer)
        return answer.status

    async def reply(
        self,
        number: str,
        text: str,
        *,
        carrier: Carrier = Carrier.SHORT_MESSAGE,
        data_coding: int = p.DC_DEFAULT,
        to: str = "MFI",
    ) -> int:
        """A client's reply from `number` (international, no '+'), encoded as `data_coding` says
        (0: the fake's own alphabet); the status of the ESME's answer."""
        if data_coding == p.DC_DEFAULT:
            octets = smpp_charset.default_octets(text, self.alphabet)
        else:
            octets = text.encode({p.DC_IA5: "ascii", p.DC_LATIN1: "latin-1", p.DC_UCS2: "utf-16-be"}[data_coding])
        sm = p.ShortMessage(
            source_addr=number,
            source_addr_ton=1,
            source_addr_npi=1,
            destination_addr=to,
            data_coding=data_coding,
            short_message=octets,
        )
        return await self.deliver(sm, carrier)

    # -- sessions ----------------------------------------------------------------------------------

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        bound = asyncio.Event()
        session: Session

        async def handle(pdu: p.Pdu) -> tuple[int, bytes] | None:
            if pdu.command_id == p.BIND_TRANSCEIVER:
                return self._bind(p.Bind.decode(pdu.body), bound)
            if not bound.is_set():
                return p.ESME_RINVBNDSTS, b""
            if pdu.command_id == p.SUBMIT_SM:
                self.arrivals.append(time.time())
                self.outstanding += 1
                self.max_outstanding = max(self.max_outstanding, self.outstanding)
                try:
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    return await self._submit(session, pdu)
                finally:
                    self.outstanding -= 1
            if pdu.command_id == p.QUERY_SM:
                return self._query(*p.decode_query_sm(pdu.body))
            return None

        session = Session(reader, writer, handler=handle, window=1024)
        self.sessions.append(session)
        self.closed_reasons.append(await session.wait_closed())

    def _bind(self, bind: p.Bind, bound: asyncio.Event) -> tuple[int, bytes]:
        if self._bind_refusals:
            return self._bind_refusals.pop(0), b""
        if bind.system_id != self.system_id:
            return p.ESME_RINVSYSID, b""
        if bind.password != self.password:
            return p.ESME_RINVPASWD, b""
        self.binds += 1
        bound.set()
        return p.ESME_ROK, p.cstr("fake-smsc")

    async def _submit(self, session: Session, pdu: p.Pdu) -> tuple[int, bytes]:
        sm = p.ShortMessage.decode(pdu.body)
        fault = self._faults.pop(0) if self._faults else None
        now = datetime.now(UTC)
        text = smpp_charset.text_of(sm, self.alphabet)
        if fault is not None:
            self.submitted.append(Submitted("", sm, session, now, text=text))
            if fault in _STATUS:
                return _STATUS[fault], b""
            if fault is SmscFault.DROP:
                session.abandon()
            elif fault is SmscFault.GARBAGE:
                await session.write_raw(b"\x00\x00\x00\x05not an SMPP PDU")  # a full header, impossible length
            elif fault is SmscFault.GENERIC_NACK:
                await session.write(p.Pdu(p.GENERIC_NACK, p.ESME_RINVCMDID, pdu.sequence))
            raise NoAnswer
        number = next(self._ids)
        message_id = (
            str(number) if self.resp_ids == "decimal" else format(number, "X" if self.resp_ids == "HEX" else "x")
        )
        submitted = Submitted(message_id, sm, session, now, text=text)
        self.submitted.append(submitted)
        self.by_id[message_id] = submitted
        if self.receipt_before_resp:
            submitted.state, submitted.done = STAT_STATES[self.receipt_stat], now
            self._spawn(self._push_receipt(submitted))
            await asyncio.sleep(0)  # let the receipt reach the socket before the answer
        elif self.receipt_after is not None:
            self._spawn(self._settle_later(message_id, self.receipt_after))
        return p.ESME_ROK, p.message_id_body(message_id)

    async def _settle_later(self, message_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.by_id[message_id].done is None:
            await self.settle(message_id, self.receipt_stat)

    def _query(self, message_id: str, source_addr: str) -> tuple[int, bytes]:
        submitted = self.by_id.get(message_id)
        # An SMSC finds a message by its id and the address it was submitted from (NULL: any).
        if submitted is None or source_addr not in ("", submitted.sm.source_addr):
            return p.ESME_RQUERYFAIL, b""
        final_date = _smpp_time(submitted.done) if submitted.done else ""
        error = int(submitted.err) % 256 if submitted.err.isdigit() else 0
        return p.ESME_ROK, p.QueryResult(message_id, final_date, submitted.state, error).encode()

    # -- receipts ----------------------------------------------------------------------------------

    def receipt_id(self, submitted: Submitted) -> str:
        """The id a receipt names the message by: the submit_sm_resp's, or the same number in another form."""
        if self.receipt_ids == "same":
            return submitted.message_id
        number = int(submitted.message_id, 10 if self.resp_ids == "decimal" else 16)
        return str(number) if self.receipt_ids == "decimal" else format(number, "x")

    def receipt(self, submitted: Submitted) -> p.ShortMessage:
        receipt_id = self.receipt_id(submitted)
        stat = MESSAGE_STATES[submitted.state][0]
        date_format = "%y%m%d%H%M%S" if self.date_digits == 12 else "%y%m%d%H%M"
        done = submitted.done or submitted.at
        preview = submitted.text[:20] if submitted.sm.data_coding == p.DC_DEFAULT else ""
        text = (
            f"id:{receipt_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:{submitted.at.strftime(date_format)} done date:{done.strftime(date_format)} "
            f"stat:{stat} err:{submitted.err} text:{preview}"
        )
        tlvs: dict[int, bytes] = {}
        with_text = not (self.receipt_carrier is Carrier.DATA_SM and self.receipt_tlvs)
        if self.receipt_tlvs:
            tlvs[p.TLV_RECEIPTED_MESSAGE_ID] = p.cstr(receipt_id)
            tlvs[p.TLV_MESSAGE_STATE] = bytes([submitted.state])
            if submitted.err.isdigit() and int(submitted.err):
                tlvs[p.TLV_NETWORK_ERROR_CODE] = bytes([3]) + (int(submitted.err) % 65536).to_bytes(2, "big")
        return p.ShortMessage(
            source_addr=submitted.sm.destination_addr,
            source_addr_ton=submitted.sm.dest_addr_ton,
            source_addr_npi=submitted.sm.dest_addr_npi,
            destination_addr=submitted.sm.source_addr,
            esm_class=p.ESM_RECEIPT,
            short_message=self._octets(text)[:254] if with_text else b"",
            tlvs=tlvs,
        )

    def _octets(self, text: str) -> bytes:
        """`text` in the fake's alphabet, '?' for a character it lacks (a receipt echoing another coding)."""
        out = bytearray()
        for ch in text:
            try:
                out += smpp_charset.default_octets(ch, self.alphabet)
            except ValueError:
                out += smpp_charset.default_octets("?", self.alphabet)
        return bytes(out)

    async def _push_receipt(self, submitted: Submitted) -> None:
        session = submitted.session
        if self.receipt_bind == "other":  # any other bound session, as SMSCs spreading receipts over binds do
            session = next((s for s in self.sessions if s.is_open and s is not submitted.session), session)
        if not session.is_open:
            session = next((s for s in self.sessions if s.is_open), session)
        command, body = _carried(self.receipt(submitted), self.receipt_carrier)
        with contextlib.suppress(LinkDown, TimeoutError):
            answer = await session.request(command, body, timeout=10, windowed=False)
            self.receipt_answers.append(answer.status)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _carried(sm: p.ShortMessage, carrier: Carrier) -> tuple[int, bytes]:
    """The command and body that carry `sm` the way `carrier` says."""
    if carrier is Carrier.DATA_SM:
        return p.DATA_SM, p.data_sm_body(sm)
    if carrier is Carrier.MESSAGE_PAYLOAD:
        tlvs = {p.TLV_MESSAGE_PAYLOAD: sm.short_message} | sm.tlvs
        return p.DELIVER_SM, replace(sm, short_message=b"", tlvs=tlvs).encode()
    return p.DELIVER_SM, sm.encode()


def _smpp_time(at: datetime) -> str:
    """SMPP absolute time `YYMMDDhhmmsstnnp` in UTC."""
    return at.strftime("%y%m%d%H%M%S") + "000+"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake SMPP 3.4 SMSC on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--system-id", default="herald")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--receipt-after", type=float, default=2.0, help="seconds until the receipt (negative: never)")
    parser.add_argument("--receipt-stat", default="DELIVRD", choices=sorted(STAT_STATES))
    parser.add_argument("--receipt-before-resp", action="store_true", help="push the receipt before submit_sm_resp")
    parser.add_argument("--date-digits", type=int, default=10, choices=[10, 12])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each submit_sm_resp")
    parser.add_argument(
        "--alphabet", default="gsm7", choices=[a.value for a in Alphabet], help="how data_coding 0 is read and written"
    )
    parser.add_argument("--receipt-carrier", default="short_message", choices=[c.value for c in Carrier])
    parser.add_argument("--resp-ids", default="hex", choices=["hex", "HEX", "decimal"], help="submit_sm_resp id form")
    parser.add_argument("--receipt-ids", default="same", choices=["same", "hex", "decimal"], help="receipt id form")
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeSmsc(
            host=args.host,
            port=args.port,
            system_id=args.system_id,
            password=args.password,
            receipt_after=args.receipt_after if args.receipt_after >= 0 else None,
            receipt_stat=args.receipt_stat,
            receipt_before_resp=args.receipt_before_resp,
            date_digits=args.date_digits,
            receipt_carrier=Carrier(args.receipt_carrier),
            alphabet=Alphabet(args.alphabet),
            latency=args.latency,
            resp_ids=args.resp_ids,
            receipt_ids=args.receipt_ids,
        )
        await fake.start()
        print(f"fake SMSC listening on {args.host}:{fake.port} (system_id {args.system_id})", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await fake.close()

    logging.basicConfig(level=logging.INFO)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
