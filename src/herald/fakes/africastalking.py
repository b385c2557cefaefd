"""A fake Africa's Talking on 127.0.0.1: bulk sends, the user-data (balance) endpoint, pushed delivery reports, faults.

    python -m herald.fakes.africastalking --port 8084 --latency 0.05 --delivered-after 1 \\
        --callback-url 'http://127.0.0.1:8080/webhooks/africastalking?secret=...'

It speaks AT's wire format: `POST /version1/messaging` with a form (`username`, comma-separated
`to`, `message`, optional `from`, `bulkSMSMode`, `enqueue`) and the `apiKey` header, answered 201
with `SMSMessageData.Recipients[]` (`statusCode`, `status`, `number`, `cost`, `messageId`);
`GET /version1/user?username=` answers `UserData.balance`. AT's callback URL is set in its
dashboard, not per request: here it is the fake's `callback_url`, where delivery reports are
posted as forms (`id`, `status`, `phoneNumber`, `networkCode`, `retryCount`, `failureReason`),
retried until answered 2xx. Every accepted message is counted per (number, text) in `sent`, so a
test can say that each went out once and none twice.
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
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^\+[1-9][0-9]{6,14}$")
PRICE = "0.8000"  # per segment, in the account's currency
CURRENCY = "KES"


class Injection(StrEnum):
    """What the next send request(s) meet instead of a normal answer."""

    SERVER_ERROR = "500, nothing sent"
    THROTTLED = "429, nothing sent"
    TIMEOUT = "no answer for `hang` seconds, nothing sent"
    DISCONNECT = "connection closed without an answer, nothing sent"
    MALFORMED = "a 201 that is an HTML page, nothing sent"
    BAD_CREDENTIALS = "401 as if the API key were wrong"
    INVALID_NUMBER = "every recipient 403 InvalidPhoneNumber"
    BLACKLISTED = "every recipient 406 UserInBlacklist"
    INSUFFICIENT_BALANCE = "every recipient 405 InsufficientBalance"
    GATEWAY_ERROR = "every recipient 501 GatewayError"
    LOST_ANSWER = "messages sent, then no answer for `hang` seconds"


_REFUSALS = {
    Injection.INVALID_NUMBER: (403, "InvalidPhoneNumber"),
    Injection.BLACKLISTED: (406, "UserInBlacklist"),
    Injection.INSUFFICIENT_BALANCE: (405, "InsufficientBalance"),
    Injection.GATEWAY_ERROR: (501, "GatewayError"),
}


@dataclass
class FakeMessage:
    message_id: str
    number: str
    text: str
    sender: str
    status: str = "Sent"
    failure_reason: str = ""


def segments(text: str) -> int:
    """A rough count for the fake's cost (GSM-7 lengths; the fake need not be exact)."""
    single, part = (160, 153) if all(ord(c) < 128 for c in text) else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


class FakeAfricasTalking:
    """State and HTTP handlers of one fake Africa's Talking application (one username and API key)."""

    def __init__(
        self,
        username: str = "sandbox",
        api_key: str = "test-key",
        *,
        latency: float = 0.0,
        sent_after: float | None = None,
        delivered_after: float | None = None,
        callback_url: str | None = None,
        push_retry: float = 0.5,
        hang: float = 2.0,
        push_concurrency: int = 16,
    ) -> None:
        self.username = username
        self.api_key = api_key
        self.latency = latency
        self.sent_after = sent_after
        self.delivered_after = delivered_after  # None: messages stay Sent until settle()
        self.callback_url = callback_url
        self.push_retry = push_retry
        self.hang = hang
        self.push_concurrency = push_concurrency
        self.messages: dict[str, FakeMessage] = {}
        self.sent: Counter[tuple[str, str]] = Counter()  # (number, text) -> times accepted
        self.requests: Counter[str] = Counter()
        self.forms: deque[dict[str, str]] = deque(maxlen=50)  # the latest send forms, for tests
        self.headers: deque[dict[str, str]] = deque(maxlen=50)  # and their headers
        # (method, path, query, headers) of the latest calls of any kind
        self.calls: deque[tuple[str, str, dict[str, str], dict[str, str]]] = deque(maxlen=50)
        self.pushed = 0  # reports herald answered 2xx
        self.refuse: dict[str, tuple[int, str]] = {}  # number -> (statusCode, status) it always gets
        self._faults: deque[Injection] = deque()
        self._push: deque[dict[str, str]] = deque()
        self._push_ready = asyncio.Event()
        self._schedule: deque[tuple[float, str, str]] = deque()
        self._schedule_ready = asyncio.Event()
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    # --- levers for tests -------------------------------------------------------------------------

    def inject(self, injection: Injection, times: int = 1) -> None:
        self._faults.extend([injection] * times)

    def settle(self, message_id: str, status: str, failure_reason: str = "") -> None:
        """Move a message to `status` (one of AT's report statuses) and push its report."""
        message = self.messages[message_id]
        message.status, message.failure_reason = status, failure_reason
        self._push.append(self.report(message))
        self._push_ready.set()

    def report(self, message: FakeMessage, retry_count: int = 0) -> dict[str, str]:
        """The form AT posts to the delivery-report callback for this message."""
        form = {
            "id": message.message_id,
            "status": message.status,
            "phoneNumber": message.number,
            "networkCode": "63902",  # Safaricom
            "retryCount": str(retry_count),
        }
        if message.failure_reason:
            form["failureReason"] = message.failure_reason
        return form

    def pending_reports(self) -> int:
        return len(self._push)

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/version1/messaging", self._send)
        app.router.add_get("/version1/user", self._user)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10), connector=aiohttp.TCPConnector(limit=self.push_concurrency)
        )
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

    async def _guard(self, request: web.Request, fault: Injection | None) -> web.StreamResponse | None:
        """Latency, authentication and a whole-request fault; a response ends the request."""
        self.requests[request.path] += 1
        self.calls.append((request.method, request.path, dict(request.query), dict(request.headers)))
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault is Injection.BAD_CREDENTIALS or request.headers.get("apiKey") != self.api_key:
            return web.Response(status=401, text="The supplied authentication is invalid")
        if fault is Injection.SERVER_ERROR:
            return web.Response(status=500, text="Internal Server Error")
        if fault is Injection.THROTTLED:
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "1"})
        if fault is Injection.TIMEOUT:
            await asyncio.sleep(self.hang)
            return web.Response(status=500, text="Internal Server Error")
        if fault is Injection.DISCONNECT:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if fault is Injection.MALFORMED:
            return web.Response(status=201, text="<html><body>Bad Gateway</body></html>", content_type="text/html")
        return None

    async def _send(self, request: web.Request) -> web.StreamResponse:
        fault = self._faults.popleft() if self._faults else None
        refused = await self._guard(request, fault)
        if refused is not None:
            return refused
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.forms.append(form)
        self.headers.append(dict(request.headers))
        if form.get("username") != self.username:
            return web.Response(status=401, text="The supplied authentication is invalid")
        text, numbers = form.get("message", ""), [n.strip() for n in form.get("to", "").split(",") if n.strip()]
        if not text or not numbers:
            return web.Response(status=400, text="Request is missing required form field 'to' or 'message'")
        refusal = _REFUSALS.get(fault) if fault is not None else None
        recipients = [self._recipient(number, text, form.get("from", ""), refusal) for number in numbers]
        accepted = sum(1 for r in recipients if r["statusCode"] in (100, 101, 102))
        total = sum(float(r["cost"].split()[1]) for r in recipients if " " in r["cost"])
        summary = f"Sent to {accepted}/{len(recipients)} Total Cost: {CURRENCY} {total:.4f}"
        if fault is Injection.LOST_ANSWER:
            await asyncio.sleep(self.hang)  # sent, and the answer never comes before the client gives up
            return web.Response(status=504, text="Gateway Timeout")
        return _json({"SMSMessageData": {"Message": summary, "Recipients": recipients}}, status=201)

    def _recipient(self, number: str, text: str, sender: str, refusal: tuple[int, str] | None) -> dict[str, Any]:
        if refusal is None and not _NUMBER.match(number):
            refusal = (403, "InvalidPhoneNumber")
        refusal = refusal or self.refuse.get(number)
        if refusal is not None:
            return {"statusCode": refusal[0], "number": number, "status": refusal[1], "cost": "0", "messageId": "None"}
        message_id = f"ATXid_{next(self._ids):08d}{int(time.time() * 1000) % 10**6:06d}"
        self.messages[message_id] = FakeMessage(message_id, number, text, sender)
        self.sent[(number, text)] += 1
        now = time.monotonic()
        if self.sent_after is not None:
            self._schedule.append((now + self.sent_after, message_id, "Submitted"))
        if self.delivered_after is not None:
            self._schedule.append((now + self.delivered_after, message_id, "Success"))
        if self._schedule:
            self._schedule_ready.set()
        cost = f"{CURRENCY} {float(PRICE) * segments(text):.4f}"
        return {"statusCode": 101, "number": number, "status": "Success", "cost": cost, "messageId": message_id}

    async def _user(self, request: web.Request) -> web.StreamResponse:
        refused = await self._guard(request, None)
        if refused is not None:
            return refused
        if request.query.get("username") != self.username:
            return web.Response(status=401, text="The supplied authentication is invalid")
        return _json({"UserData": {"balance": f"{CURRENCY} 1785.5000"}})

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
            if message is not None and message.status in ("Sent", "Submitted", "Buffered"):
                self.settle(message_id, status)

    async def _pusher(self) -> None:
        """POST waiting reports to the callback URL, one form each, several at a time."""
        while True:
            if not self._push:
                self._push_ready.clear()
                await self._push_ready.wait()
                continue
            if self.callback_url is None:
                self._push.clear()  # AT without a callback URL: reports are lost, as on a real account
                continue
            batch = [self._push.popleft() for _ in range(min(len(self._push), self.push_concurrency * 4))]
            results = await asyncio.gather(*(self._post(form) for form in batch))
            if not all(results):
                await asyncio.sleep(self.push_retry)  # AT retries later; a test cannot wait long

    async def _post(self, form: dict[str, str]) -> bool:
        assert self._session is not None and self.callback_url is not None
        try:
            async with self._session.post(self.callback_url, data=form) as response:
                await response.read()
                ok = 200 <= response.status < 300
        except (aiohttp.ClientError, OSError, TimeoutError):
            ok = False
        if ok:
            self.pushed += 1
        else:
            retried = dict(form, retryCount=str(int(form.get("retryCount", "0")) + 1))
            self._push.append(retried)
        return ok


def _json(data: object, status: int = 200) -> web.Response:
    """JSON as AT sends it: `Content-Type: application/json` with no charset (the SDK parses only that)."""
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json")


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeAfricasTalking(
        args.username,
        args.api_key,
        latency=args.latency,
        sent_after=args.sent_after,
        delivered_after=args.delivered_after,
        callback_url=args.callback_url,
    )
    url = await fake.start(args.host, args.port)
    print(f"fake Africa's Talking listening on {url} (username {args.username})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Africa's Talking SMS API on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8084)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--username", default="sandbox")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--sent-after", type=float, default=None, help="seconds until a Submitted report")
    parser.add_argument("--delivered-after", type=float, default=None, help="seconds until a Success report")
    parser.add_argument("--callback-url", default=None, help="where delivery reports are posted")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
