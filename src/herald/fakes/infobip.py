"""A fake Infobip on 127.0.0.1: v3 and legacy v2 sends, pulled and pushed reports, balance, injected faults.

    python -m herald.fakes.infobip --port 8082 --latency 0.05 --delivered-after 1

Reports of messages sent with a notify URL are pushed there (up to `push_batch` per POST, retried
until answered 200); the others wait for GET /sms/3/reports (or /sms/1/reports for v2 sends),
which hands each out once, whichever API key's caller asks: one queue per account, whatever the
sender. GET /sms/3/logs answers by messageId (or bulkId) with the log of every message, final or
not, in the shape of Infobip's `SmsLog`. Assumption, not in the reference: a pushed report is not
also pullable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
from collections import Counter, deque
from enum import StrEnum
from typing import Any

import aiohttp
from aiohttp import web

from herald.fakes.infobip_wire import FakeMessage, error_envelope, report, sms_log, status_object, timestamp

log = logging.getLogger(__name__)

_DESTINATION = re.compile(r"^[1-9][0-9]{6,14}$")


class Injection(StrEnum):
    """What the next send request(s) meet instead of a normal answer."""

    SERVER_ERROR = "500 with Infobip's error envelope"
    THROTTLED = "429 with Infobip's error envelope"
    TIMEOUT = "no answer for `hang` seconds"
    DISCONNECT = "connection closed without an answer"
    MALFORMED = "a 200 that is an HTML page"
    INVALID_DESTINATION = "every destination REJECTED_DESTINATION"
    BLOCKED_RECIPIENT = "every destination REJECTED_DND"
    SYSTEM_ERROR = "every destination REJECTED_SYSTEM_ERROR"
    BAD_CREDENTIALS = "401 as if the API key were wrong"
    LOST_ANSWER = "messages accepted, then no answer for `hang` seconds"
    LOST_REPORTS = "a report pull hands its batch out, then no answer for `hang` seconds (inject_pull)"


_REJECTIONS = {
    Injection.INVALID_DESTINATION: "REJECTED_DESTINATION",
    Injection.BLOCKED_RECIPIENT: "REJECTED_DND",
    Injection.SYSTEM_ERROR: "REJECTED_SYSTEM_ERROR",
}


class FakeInfobip:
    """State and HTTP handlers of one fake Infobip account."""

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        latency: float = 0.0,
        sent_after: float | None = None,
        delivered_after: float | None = None,
        push_batch: int = 100,
        push_retry: float = 0.5,
        hang: float = 2.0,
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.sent_after = sent_after  # intermediate PENDING_ENROUTE reports, if asked for
        self.delivered_after = delivered_after  # None: messages stay pending until settle()
        self.push_batch = push_batch
        self.push_retry = push_retry
        self.hang = hang
        self.messages: dict[str, FakeMessage] = {}
        self.requests: Counter[str] = Counter()
        self.bodies: deque[dict[str, Any]] = deque(maxlen=50)  # the latest send bodies, for tests
        self.pushed: list[int] = []  # results per push POST herald answered 200
        self._faults: deque[Injection] = deque()
        self._pull_faults: deque[Injection] = deque()
        self._pull: dict[str, deque[dict[str, Any]]] = {"v3": deque(), "v2": deque()}
        self._push: dict[str, list[dict[str, Any]]] = {}
        self._push_ready = asyncio.Event()
        self._schedule: deque[tuple[float, str, str]] = deque()  # (due, message id, status): due times only grow
        self._schedule_ready = asyncio.Event()
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    # --- levers for tests -------------------------------------------------------------------------

    def inject(self, injection: Injection, times: int = 1) -> None:
        self._faults.extend([injection] * times)

    def inject_pull(self, injection: Injection = Injection.LOST_REPORTS, times: int = 1) -> None:
        """What the next report pull(s) meet: LOST_REPORTS takes the reports off the queue and never answers."""
        self._pull_faults.extend([injection] * times)

    def settle(self, message_id: str, status: str, error: int = 0) -> None:
        """Move a message to `status` (a name from infobip_wire.STATUSES) and emit its report."""
        message = self.messages[message_id]
        message.status, message.error = status, error
        body = report(message)
        if message.notify_url:
            self._push.setdefault(message.notify_url, []).append(body)
            self._push_ready.set()
        else:
            self._pull[message.api].append(body)

    def pending_reports(self) -> int:
        return sum(len(q) for q in self._pull.values()) + sum(len(v) for v in self._push.values())

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/sms/3/messages", self._send_v3)
        app.router.add_post("/sms/2/text/advanced", self._send_v2)
        app.router.add_get("/sms/3/reports", self._reports_v3)
        app.router.add_get("/sms/1/reports", self._reports_v1)
        app.router.add_get("/sms/3/logs", self._logs)
        app.router.add_get("/account/1/balance", self._balance)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{host}:{bound[1]}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._tasks = [asyncio.create_task(self._pusher()), asyncio.create_task(self._progress())]
        return self.url

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- HTTP -------------------------------------------------------------------------------------

    async def _guard(
        self, request: web.Request, legacy: bool, fault: Injection | None = None
    ) -> web.StreamResponse | None:
        """Latency, authentication and an injected fault; a response ends the request."""
        self.requests[request.path] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault is Injection.BAD_CREDENTIALS or request.headers.get("Authorization") != f"App {self.api_key}":
            return web.json_response(error_envelope(401, legacy), status=401)
        if fault is Injection.SERVER_ERROR:
            return web.json_response(error_envelope(500, legacy), status=500)
        if fault is Injection.THROTTLED:
            return web.json_response(error_envelope(429, legacy), status=429)
        if fault is Injection.TIMEOUT:
            await asyncio.sleep(self.hang)
            return web.json_response(error_envelope(500, legacy), status=500)
        if fault is Injection.DISCONNECT:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if fault is Injection.MALFORMED:
            return web.Response(text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        return None

    async def _send_v3(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "v3")

    async def _send_v2(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "v2")

    async def _send(self, request: web.Request, api: str) -> web.StreamResponse:
        legacy = api == "v2"
        fault = self._faults.popleft() if self._faults else None
        refused = await self._guard(request, legacy, fault)
        if refused is not None:
            return refused
        rejection = _REJECTIONS.get(fault) if fault is not None else None
        try:
            body = json.loads(await request.read())
            entries = body["messages"]
            assert isinstance(entries, list) and entries
        except (ValueError, KeyError, TypeError, AssertionError):
            return web.json_response(error_envelope(400, legacy, "`messages` is required"), status=400)
        self.bodies.append(body)
        bulk_id = str(body.get("bulkId") or body.get("options", {}).get("schedule", {}).get("bulkId") or "")
        bulk_id = bulk_id or f"bulk-{next(self._ids)}"
        sent_at = timestamp()
        answers = []
        for entry in entries:
            try:
                text, sender, notify = self._entry(entry, api)
                destinations = list(entry["destinations"])
            except (KeyError, TypeError, ValueError):
                return web.json_response(error_envelope(400, legacy, "invalid message"), status=400)
            for destination in destinations:
                to = str(destination.get("to", ""))
                message_id = str(destination.get("messageId") or f"ib-{next(self._ids)}")
                status = rejection or self._verdict(to, message_id)
                if status == "PENDING_ACCEPTED":
                    self._accept(FakeMessage(message_id, bulk_id, to, sender, text, api, notify, sent_at))
                answers.append(
                    {"messageId": message_id, "status": status_object(status), ("to" if legacy else "destination"): to}
                )
        if fault is Injection.LOST_ANSWER:
            await asyncio.sleep(self.hang)  # then Infobip's gateway gives up on the answer, as a client sees it
            return web.json_response(error_envelope(504, legacy), status=504)
        return web.json_response({"bulkId": bulk_id, "messages": answers})

    @staticmethod
    def _entry(entry: dict[str, Any], api: str) -> tuple[str, str, str | None]:
        """(text, sender, notify URL) of one `messages[]` entry in either API's shape."""
        if api == "v2":
            return str(entry["text"]), str(entry.get("from", "")), entry.get("notifyUrl")
        delivery = (entry.get("webhooks") or {}).get("delivery") or {}
        return str(entry["content"]["text"]), str(entry.get("sender", "")), delivery.get("url")

    def _verdict(self, to: str, message_id: str) -> str:
        if not _DESTINATION.match(to):
            return "REJECTED_DESTINATION"
        if message_id in self.messages:
            return "REJECTED_DUPLICATE_MESSAGE_ID"
        return "PENDING_ACCEPTED"

    def _accept(self, message: FakeMessage) -> None:
        self.messages[message.message_id] = message
        now = time.monotonic()
        if self.sent_after is not None:
            self._schedule.append((now + self.sent_after, message.message_id, "PENDING_ENROUTE"))
        if self.delivered_after is not None:
            self._schedule.append((now + self.delivered_after, message.message_id, "DELIVERED_TO_HANDSET"))
        self._schedule_ready.set()

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        """GET /sms/3/logs: `messageId` and `bulkId` (repeatable), `generalStatus`, `limit` (at most 1000)."""
        refused = await self._guard(request, False, None)
        if refused is not None:
            return refused
        try:
            limit = min(max(int(request.query.get("limit", "50")), 1), 1000)
        except ValueError:
            return web.json_response(error_envelope(400, False, "limit must be a number"), status=400)
        ids, bulks = request.query.getall("messageId", []), set(request.query.getall("bulkId", []))
        group = request.query.get("generalStatus")
        chosen = [self.messages[i] for i in ids if i in self.messages] if ids else list(self.messages.values())
        chosen = [m for m in chosen if (not bulks or m.bulk_id in bulks)]
        chosen = [m for m in chosen if group is None or status_object(m.status)["groupName"] == group]
        return web.json_response({"results": [sms_log(m) for m in chosen[:limit]]})

    async def _reports_v3(self, request: web.Request) -> web.StreamResponse:
        return await self._reports(request, "v3")

    async def _reports_v1(self, request: web.Request) -> web.StreamResponse:
        return await self._reports(request, "v2")

    async def _reports(self, request: web.Request, api: str) -> web.StreamResponse:
        refused = await self._guard(request, api == "v2", None)
        if refused is not None:
            return refused
        try:
            limit = min(max(int(request.query.get("limit", "50")), 1), 1000)
        except ValueError:
            return web.json_response(error_envelope(400, api == "v2", "limit must be a number"), status=400)
        queue = self._pull[api]
        results = [queue.popleft() for _ in range(min(limit, len(queue)))]
        if self._pull_faults and self._pull_faults.popleft() is Injection.LOST_REPORTS:
            await asyncio.sleep(self.hang)  # handed out: Infobip will not give these again
            return web.json_response(error_envelope(500, api == "v2"), status=500)
        return web.json_response({"results": results})

    async def _balance(self, request: web.Request) -> web.StreamResponse:
        refused = await self._guard(request, False, None)
        return refused or web.json_response({"balance": 47.79, "currency": "EUR"})

    # --- background work --------------------------------------------------------------------------

    async def _progress(self) -> None:
        """Walk accepted messages through their configured lifecycle, in acceptance order."""
        while True:
            if not self._schedule:
                self._schedule_ready.clear()
                await self._schedule_ready.wait()
                continue
            due, message_id, status = self._schedule[0]
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(min(wait, 0.05))
                continue
            self._schedule.popleft()
            message = self.messages.get(message_id)
            if message is not None and message.status in ("PENDING_ACCEPTED", "PENDING_ENROUTE"):
                self.settle(message_id, status)

    async def _pusher(self) -> None:
        """POST waiting reports to their notify URLs, several results per call, concurrently per URL."""
        while True:
            if not self._push:
                self._push_ready.clear()
                await self._push_ready.wait()
            batches: list[tuple[str, list[dict[str, Any]]]] = []
            for url, waiting in self._push.items():
                batches += [(url, waiting[i : i + self.push_batch]) for i in range(0, len(waiting), self.push_batch)]
            self._push.clear()
            failed = await asyncio.gather(*(self._post(url, results) for url, results in batches))
            if any(failed):
                await asyncio.sleep(self.push_retry)  # Infobip waits minutes; a test cannot

    async def _post(self, url: str, results: list[dict[str, Any]]) -> bool:
        """True when the batch must be pushed again."""
        assert self._session is not None
        try:
            async with self._session.post(url, json={"results": results}) as response:
                await response.read()
                ok = response.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            ok = False
        if ok:
            self.pushed.append(len(results))
            return False
        self._push.setdefault(url, []).extend(results)
        return True


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeInfobip(
        args.api_key,
        latency=args.latency,
        delivered_after=args.delivered_after,
        push_batch=args.push_batch,
    )
    url = await fake.start(args.host, args.port)
    print(f"fake Infobip listening on {url} (API key {'*' * len(args.api_key)})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Infobip SMS API on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--delivered-after", type=float, default=None, help="seconds until DELIVERED_TO_HANDSET")
    parser.add_argument("--push-batch", type=int, default=100, help="results per pushed report batch")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
