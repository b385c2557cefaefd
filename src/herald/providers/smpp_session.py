"""One SMPP connection on asyncio: sequence numbers, a window of outstanding requests, keep-alive and incoming requests.

Used by both ends: the adapter's bind (an ESME) and the fake SMSC's sessions. Responses are matched
to requests by sequence number; a request the peer makes (deliver_sm, enquire_link, unbind) is
handled in its own task so a slow handler never stalls the reading of responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from herald.providers import smpp_pdu as p

log = logging.getLogger(__name__)

Handler = Callable[[p.Pdu], Awaitable[tuple[int, bytes] | None]]
"""Answers one incoming request: (command_status, response body), or None for a command it does not know."""


class LinkDown(Exception):
    """The connection is gone (closed, reset or a malformed stream); outstanding requests have no answer."""


class NotSent(LinkDown):
    """The connection was gone before the request was written: the peer never saw it."""


class NoAnswer(Exception):
    """Raised by a handler to leave a request unanswered (the fake SMSC's timeouts and drops)."""


class Session:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        handler: Handler | None = None,
        window: int = 64,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._window = asyncio.Semaphore(window)
        self._pending: dict[int, asyncio.Future[p.Pdu]] = {}
        self._sequence = 0
        self._closed = asyncio.Event()
        self._reason = "closed"
        self._tasks: set[asyncio.Task[None]] = set()
        self.enquire_links_received = 0
        self._reader_task = asyncio.create_task(self._read_loop())

    @property
    def is_open(self) -> bool:
        return not self._closed.is_set()

    def next_sequence(self) -> int:
        # Sequence numbers run 1..0x7FFFFFFF and wrap (the spec reserves the top half).
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        return self._sequence

    async def request(self, command_id: int, body: bytes = b"", *, timeout: float, windowed: bool = True) -> p.Pdu:
        """Send a request and wait for its response (or generic_nack); TimeoutError or LinkDown otherwise."""
        if windowed:
            async with self._window:
                return await self._request(command_id, body, timeout)
        return await self._request(command_id, body, timeout)

    async def _request(self, command_id: int, body: bytes, timeout: float) -> p.Pdu:
        if not self.is_open:  # e.g. it dropped while this request waited for a window slot
            raise NotSent(self._reason)
        sequence = self.next_sequence()
        future: asyncio.Future[p.Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        try:
            await self.write(p.Pdu(command_id, 0, sequence, body))
            return await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(sequence, None)

    async def write(self, pdu: p.Pdu) -> None:
        if not self.is_open:
            raise NotSent(self._reason)
        try:
            self._writer.write(pdu.encode())
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._shut(f"write failed: {exc}")
            raise LinkDown(self._reason) from None

    async def write_raw(self, data: bytes) -> None:
        """Bytes that need not be a PDU (the fake SMSC's garbage injection)."""
        self._writer.write(data)
        await self._writer.drain()

    def keepalive(self, interval: float, timeout: float) -> None:
        """enquire_link every `interval` seconds; an unanswered one closes the session (the peer is gone)."""
        self._spawn(self._keepalive(interval, timeout))

    async def _keepalive(self, interval: float, timeout: float) -> None:
        while self.is_open:
            await asyncio.sleep(interval)
            try:
                await self.request(p.ENQUIRE_LINK, timeout=timeout, windowed=False)
            except (TimeoutError, LinkDown):
                self._shut("enquire_link unanswered")
                return

    async def wait_closed(self) -> str:
        await self._closed.wait()
        return self._reason

    async def close(self) -> None:
        self._shut("closed")
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        self._reader_task.cancel()
        for task in list(self._tasks):
            task.cancel()

    def abandon(self) -> None:
        """Drop the socket without awaiting anything: its event loop may already be gone."""
        with contextlib.suppress(Exception):
            self._shut("abandoned")

    def _shut(self, reason: str) -> None:
        if self._closed.is_set():
            return
        self._reason = reason
        self._closed.set()
        with contextlib.suppress(Exception):
            self._writer.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LinkDown(reason))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_loop(self) -> None:
        try:
            while True:
                header = await self._reader.readexactly(p.HEADER.size)
                length, command_id, status, sequence = p.parse_header(header)
                body = await self._reader.readexactly(length - p.HEADER.size)
                self._dispatch(p.Pdu(command_id, status, sequence, body))
        except asyncio.IncompleteReadError:
            self._shut("connection closed by the peer")
        except p.PduError as exc:
            self._shut(f"malformed PDU: {exc}")
        except (ConnectionError, OSError) as exc:
            self._shut(f"connection lost: {exc}")
        except asyncio.CancelledError:
            self._shut("closed")
            raise

    def _dispatch(self, pdu: p.Pdu) -> None:
        if pdu.command_id & p.RESPONSE:
            future = self._pending.get(pdu.sequence)
            if future is not None and not future.done():
                future.set_result(pdu)
            elif pdu.command_id == p.GENERIC_NACK:
                log.warning("SMPP peer sent generic_nack 0x%X for sequence %d", pdu.status, pdu.sequence)
            return
        self._spawn(self._answer(pdu))

    async def _answer(self, pdu: p.Pdu) -> None:
        if pdu.command_id == p.ENQUIRE_LINK:
            self.enquire_links_received += 1
            status, body = p.ESME_ROK, b""
        elif pdu.command_id == p.UNBIND:
            with contextlib.suppress(LinkDown):
                await self.write(p.Pdu(p.resp(p.UNBIND), p.ESME_ROK, pdu.sequence))
            self._shut("unbound by the peer")
            return
        else:
            try:
                answer = await self._handler(pdu) if self._handler is not None else None
            except NoAnswer:
                return
            except p.PduError:
                await self._nack(pdu, p.ESME_RINVCMDLEN)
                return
            if answer is None:
                await self._nack(pdu, p.ESME_RINVCMDID)
                return
            status, body = answer
        with contextlib.suppress(LinkDown):
            await self.write(p.Pdu(p.resp(pdu.command_id), status, pdu.sequence, body))

    async def _nack(self, pdu: p.Pdu, status: int) -> None:
        with contextlib.suppress(LinkDown):
            await self.write(p.Pdu(p.GENERIC_NACK, status, pdu.sequence))
