"""The binds of one SMPP link: `binds` transceiver sessions, each supervised, rebound after a drop, chosen per submit.

Each bind is bound lazily inside the running event loop, kept alive with enquire_link and rebound
after a drop with exponential backoff (a submit that finds every bind down asks them all for an
attempt at once, so backoff only paces a link nobody is using). A submit goes on the open bind with
the fewest submits outstanding, so the window of each (max_in_flight) fills evenly and a bind that
dropped takes nothing until it is back. Receipts may come on any bind: every bind hands incoming
requests to the one handler of the adapter. A submit whose bind drops before its answer is in doubt
(its caller says so); it never moves to another bind by itself, so nothing goes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from herald.errors import ProviderError, ProviderOutcome
from herald.providers import smpp_pdu as p
from herald.providers.config import SmppSettings
from herald.providers.smpp_codes import COMMAND_STATUS
from herald.providers.smpp_session import Handler, LinkDown, Session

log = logging.getLogger(__name__)

ErrorFactory = Callable[..., ProviderError]
"""The adapter's `_error(what, code, outcome, advice=None)`: one wording for every link error."""


class Bind:
    """One transceiver session and the task that keeps it bound."""

    def __init__(self, number: int, settings: SmppSettings, handler: Handler, error: ErrorFactory) -> None:
        self.number, self._settings, self._handler, self._error = number, settings, handler, error
        self._where = f"{settings.host}:{settings.port}"
        self.session: Session | None = None
        self.outstanding = 0  # submits on this bind waiting for their answer
        self.last_error: ProviderError | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._wake = asyncio.Event()
        self._attempted = asyncio.Event()

    @property
    def is_open(self) -> bool:
        return self.session is not None and self.session.is_open

    def start(self) -> None:
        self._closing = False
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.create_task(self._supervise())

    async def attempt(self, timeout: float) -> bool:
        """Ask for a bind attempt now (if down) and wait for its outcome; whether the bind is open."""
        self.start()
        if self.is_open:
            return True
        attempted = self._attempted
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(attempted.wait(), timeout)
        return self.is_open

    async def _supervise(self) -> None:
        initial = min(1.0, self._settings.reconnect_max_delay)
        delay = initial
        # The flag as well as the cancel: asyncio.wait_for in Python 3.11 can swallow a cancel that
        # meets the peer closing the socket, and a bind must not outlive close().
        while not self._closing:
            try:
                session = await self._connect()
            except ProviderError as error:
                self._wake.clear()  # whoever asked during this attempt hears its outcome: no second try at once
                self.last_error = error
                self._signal_attempt()
                log.warning("%s Next bind attempt within %.1fs.", error.message, delay)
                await self._doze(delay)
                delay = min(delay * 2, self._settings.reconnect_max_delay)
                continue
            if self._closing:
                await session.close()
                return
            self.session, self.last_error, delay = session, None, initial
            self._wake.clear()
            self._signal_attempt()
            reason = await session.wait_closed()
            log.warning(
                "SMPP %s: bind %d to %s dropped (%s); rebinding.", self._settings.name, self.number, self._where, reason
            )
            await self._doze(delay)

    def _signal_attempt(self) -> None:
        self._attempted.set()
        self._attempted = asyncio.Event()

    async def _doze(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _connect(self) -> Session:
        s, unreachable = self._settings, ProviderOutcome.UNREACHABLE
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(s.host, s.port), s.timeout)
        except (OSError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise self._error(f"unreachable {self._where} ({reason})", "UNREACHABLE", unreachable) from None
        session = Session(reader, writer, handler=self._handler, window=s.max_in_flight)
        bind = p.Bind(s.system_id, s.password.get_secret_value(), s.system_type)
        try:
            answer = await session.request(p.BIND_TRANSCEIVER, bind.encode(), timeout=s.timeout)
        except (TimeoutError, LinkDown):
            await session.close()
            raise self._error(
                f"no answer to bind_transceiver from {self._where}", "BIND_TIMEOUT", unreachable
            ) from None
        if answer.command_id != p.resp(p.BIND_TRANSCEIVER) or answer.status != p.ESME_ROK:
            await session.close()
            default = (f"0x{answer.status:08X}", "refused", ProviderOutcome.TRANSIENT)
            name, meaning, outcome = COMMAND_STATUS.get(answer.status, default)
            # A wrong password or system_id stays wrong; other refusals (bind failed, already bound) may clear up.
            if outcome is ProviderOutcome.MISCONFIGURED:
                advice: str | None = "check system_id and password with the operator."
            else:
                outcome, advice = unreachable, None  # no usable link yet: nothing was sent
            raise self._error(f"bind refused: {meaning} ({name})", name, outcome, advice=advice)
        session.keepalive(s.enquire_link_interval, s.timeout)
        log.info("SMPP %s: bind %d bound to %s as %s", s.name, self.number, self._where, s.system_id)
        return session

    async def close(self) -> None:
        """Unbind politely and stop rebinding."""
        self._closing = True
        self._wake.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
        session, self.session, self._supervisor = self.session, None, None
        if session is not None and session.is_open:
            with contextlib.suppress(TimeoutError, LinkDown):
                await session.request(p.UNBIND, timeout=min(self._settings.timeout, 2.0), windowed=False)
            await session.close()

    def abandon(self) -> None:
        if self.session is not None:
            self.session.abandon()


class Binds:
    """The link's binds in the current event loop (a new loop, a job's asyncio.run, starts afresh)."""

    def __init__(self, settings: SmppSettings, handler: Handler, error: ErrorFactory) -> None:
        self._settings, self._handler, self._error = settings, handler, error
        self._loop: asyncio.AbstractEventLoop | None = None
        self._binds: list[Bind] = []
        self._turn = 0

    def attach(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        for bind in self._binds:
            bind.abandon()
        self._loop = loop
        self._binds = [Bind(n, self._settings, self._handler, self._error) for n in range(1, self._settings.binds + 1)]

    async def pick(self, prefer: Bind | None = None) -> Bind:
        """An open bind for the next submit (`prefer` while it is open: a long message's parts stay
        together), binding now if every bind is down; raises the last bind error if none would bind."""
        self.attach()
        for bind in self._binds:
            bind.start()
        if prefer is not None and prefer in self._binds and prefer.is_open:
            return prefer
        chosen = self._least_busy()
        if chosen is not None:
            return chosen
        waits = [asyncio.ensure_future(b.attempt(2 * self._settings.timeout + 1)) for b in self._binds]
        try:
            for finished in asyncio.as_completed(waits):
                if await finished:
                    break
        finally:
            for wait in waits:
                wait.cancel()
        chosen = self._least_busy()
        if chosen is not None:
            return chosen
        where = f"{self._settings.host}:{self._settings.port}"
        last = next((b.last_error for b in self._binds if b.last_error is not None), None)
        raise last or self._error(f"the link to {where} is down", "LINK_DOWN", ProviderOutcome.UNREACHABLE)

    def _least_busy(self) -> Bind | None:
        """The open bind with the fewest submits outstanding; ties go round the binds in turn."""
        count = len(self._binds)
        self._turn = (self._turn + 1) % max(count, 1)
        ring = self._binds[self._turn :] + self._binds[: self._turn]
        open_binds = [b for b in ring if b.is_open]
        return min(open_binds, key=lambda b: b.outstanding) if open_binds else None

    def abandon_all(self) -> None:
        """Drop every socket without awaiting (the loop that owns them may be gone)."""
        for bind in self._binds:
            bind.abandon()
        self._loop = None

    async def close(self) -> None:
        if self._loop is not asyncio.get_running_loop():
            self.abandon_all()
            return
        await asyncio.gather(*(b.close() for b in self._binds))
        self._loop = None
