"""A fake Twilio Messages API on 127.0.0.1: Twilio's wire format, faults on demand, signed status callbacks."""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import re
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from enum import StrEnum
from typing import Any

import aiohttp
from aiohttp import web

from herald.domain.segments import count_segments
from herald.providers.twilio import API_VERSION, signature

log = logging.getLogger(__name__)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ACCOUNT_PATH = f"/{API_VERSION}/Accounts/{{account}}"

MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To'."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
"""Twilio's documented test numbers, so the fake refuses them the way the real API does."""


class FakeFault(StrEnum):
    """What the next Messages create request(s) will meet instead of a 201."""

    SERVER_ERROR = "500"
    THROTTLED = "429"
    QUEUE_FULL = "21611"
    TIMEOUT = "stall"
    MALFORMED = "malformed 200"
    DISCONNECT = "dropped connection"
    INVALID_NUMBER = "21211"
    UNSUBSCRIBED = "21610"
    BAD_CREDENTIALS = "401"
    LOST_ANSWER = "queued, then the answer is lost"  # the message exists although the client saw a timeout


TRIAL_PREFIX = "Sent from your Twilio trial account - "
"""What Twilio puts in front of every body sent from a trial account."""

SMART_ENCODING = {
    "\u00ab": '"',  # « and », curly double quotes
    "\u00bb": '"',
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",  # curly single quotes, acute and grave accents
    "\u2019": "'",
    "\u00b4": "'",
    "\u02bb": "'",  # modifier letters written as apostrophes (Uzbek o\u02bb, Ukrainian \u02bc)
    "\u02bc": "'",
    "\u02b9": "'",
    "\u02ba": '"',
    "\u2013": "-",  # en and em dash
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",  # no-break, en, em and thin spaces
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
}
"""A part of Twilio's published Smart Encoding list: Unicode look-alikes and the GSM-7 text Twilio stores instead."""


_REFUSALS: dict[FakeFault, tuple[int, int, str]] = {
    FakeFault.SERVER_ERROR: (500, 20500, "Internal Server Error"),
    FakeFault.THROTTLED: (429, 20429, "Too Many Requests"),
    FakeFault.QUEUE_FULL: (400, 21611, "This 'From' number has exceeded the maximum number of queued messages"),
    FakeFault.INVALID_NUMBER: (400, 21211, "The 'To' number is not a valid phone number."),
    FakeFault.UNSUBSCRIBED: (400, 21610, "Attempt to send to unsubscribed recipient"),
    FakeFault.BAD_CREDENTIALS: (401, 20003, "Authenticate"),
}


_ARRIVED = web.RequestKey("arrived", float)


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's classic REST error shape."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(error_body(status, code, message), status=status)


def _rfc2822(at: datetime) -> str:
    return format_datetime(at.astimezone(UTC))


class FakeTwilio:
    """Twilio on a local port: create, fetch, account; faults for the next requests; a message lifecycle.

    `sent_after` / `delivered_after` (seconds, None = never by itself) move each new message to
    `sent` and then to `final_status`; `settle()` moves one message whenever a test wants.
    """

    def __init__(
        self,
        *,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        sent_after: float | None = None,
        delivered_after: float | None = None,
        final_status: str = "delivered",
        push_callbacks: bool = True,
        stall: float = 30.0,
        trial_account: bool = False,
        smart_encoding: bool = False,
        redact_bodies: bool = False,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host, self.port = host, port
        self.latency = latency
        self.sent_after, self.delivered_after, self.final_status = sent_after, delivered_after, final_status
        self.push_callbacks = push_callbacks
        self.stall = stall
        # What Twilio may do to a body (stored and listed that way): a trial account's prefix,
        # Smart Encoding (a Messaging Service's default, or SmartEncoded=true), redaction.
        self.trial_account, self.smart_encoding, self.redact_bodies = trial_account, smart_encoding, redact_bodies
        self.messages: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, form) of every API call
        self.callbacks: list[tuple[str, str, int | str]] = []  # (url, status, HTTP answer or error name)
        self.arrivals: list[tuple[float, str, str]] = []  # (time.time(), To, Body) of every create, as it came
        self.in_flight = 0
        self.peak_in_flight = 0
        self.record_requests = True  # off for benchmarks: 100,000 forms are memory for nothing
        self._faults: list[FakeFault] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._expected_auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def provider(self, **extra: Any) -> dict[str, Any]:
        """herald's provider table for this fake (`extra`: more keys, e.g. a timeout), as HERALD_PROVIDERS holds it."""
        table: dict[str, Any] = {
            "kind": "twilio",
            "name": "twilio",
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "from_number": "+15005550006",  # Twilio's test number that sends
            "base_url": self.url,
        }
        return table | extra

    def inject(self, fault: FakeFault, times: int = 1) -> None:
        """Make the next `times` Messages create requests fail this way."""
        self._faults += [fault] * times

    async def start(self) -> FakeTwilio:
        app = web.Application(middlewares=[self._middleware])
        account = _ACCOUNT_PATH
        app.router.add_post(f"{account}/Messages.json", self._create)
        app.router.add_get(f"{account}/Messages/{{sid}}.json", self._fetch)
        app.router.add_get(f"{account}/Messages.json", self._list)
        app.router.add_get(f"{account}.json", self._account)
        # handler_cancellation: a stalled handler ends when the client gives up, not at shutdown.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=4096)
        await site.start()
        if self.port == 0:
            server: Any = site._server
            self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def __aenter__(self) -> FakeTwilio:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        request[_ARRIVED] = time.time()  # before the latency: when the far side saw the request
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if request.headers.get("Authorization") != self._expected_auth:
                return _error(401, 20003, "Authenticate")
            if request.match_info.get("account") != self.account_sid:
                return _error(404, 20404, f"The requested resource {request.path} was not found")
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _create(self, request: web.Request) -> web.StreamResponse:
        arrived = request.get(_ARRIVED, time.time())
        if request.content_type != "application/x-www-form-urlencoded":
            return _error(415, 415, "Unsupported Media Type: send application/x-www-form-urlencoded")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.arrivals.append((arrived, form.get("To", ""), form.get("Body", "")))
        if self.record_requests:
            self.requests.append((request.method, request.path, form))
        if self._faults and self._faults[0] is FakeFault.LOST_ANSWER:
            self._faults.pop(0)
            message = self._new_message(form)
            self.messages[message["sid"]] = message
            self._schedule(message["sid"])
            await asyncio.sleep(self.stall)
            return _error(504, 20500, "Gateway timeout")
        if self._faults:
            return await self._fault(request, self._faults.pop(0))
        refusal = self._refusal(form)
        if refusal is not None:
            return _error(400, *refusal)
        message = self._new_message(form)
        self.messages[message["sid"]] = message
        self._schedule(message["sid"])
        return web.json_response(self.resource(message), status=201)

    async def _fault(self, request: web.Request, fault: FakeFault) -> web.StreamResponse:
        if fault is FakeFault.TIMEOUT:
            await asyncio.sleep(self.stall)
            return _error(504, 20500, "Gateway timeout")
        if fault is FakeFault.MALFORMED:
            return web.Response(
                status=200, text="<html><body>Service Unavailable</body></html>", content_type="text/html"
            )
        if fault is FakeFault.DISCONNECT:
            assert request.transport is not None
            request.transport.abort()  # the client sees the connection die mid-request
            raise asyncio.CancelledError  # nothing may be written after the abort
        return _error(*_REFUSALS[fault])

    @staticmethod
    def _refusal(form: dict[str, str]) -> tuple[int, str] | None:
        to = form.get("To")
        if not to:
            return 21604, "A 'To' phone number is required."
        if "From" not in form and "MessagingServiceSid" not in form:
            return 21603, "A 'From' phone number is required."
        if not form.get("Body"):
            return 21602, "Message body is required."
        if to in MAGIC_TO:
            return MAGIC_TO[to]
        if not _E164.match(to):
            return 21211, f"The 'To' number {to} is not a valid phone number."
        return None

    def _new_message(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = _rfc2822(datetime.now(UTC))
        service = form.get("MessagingServiceSid")
        account = f"/{API_VERSION}/Accounts/{self.account_sid}"
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "messaging_service_sid": service,
            "status": "accepted" if service else "queued",
            "to": form["To"],
            "from": form.get("From"),
            "body": self._stored_body(form),
            "num_segments": "0" if service else str(count_segments(form["Body"]).segments),
            "num_media": "0",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "api_version": API_VERSION,
            "uri": f"{account}/Messages/{sid}.json",
            "subresource_uris": {"media": f"{account}/Messages/{sid}/Media.json"},
            # Not part of the resource: where this message's callbacks go (popped before answering).
            "_callback": form.get("StatusCallback"),
        }

    def _stored_body(self, form: dict[str, str]) -> str:
        """The body as Twilio keeps and lists it, which need not be the Body herald posted."""
        if self.redact_bodies:
            return ""
        body = form["Body"]
        if self.smart_encoding or form.get("SmartEncoded", "").lower() == "true":
            body = "".join(SMART_ENCODING.get(ch, ch) for ch in body)
        return TRIAL_PREFIX + body if self.trial_account else body

    def _schedule(self, sid: str) -> None:
        loop = asyncio.get_running_loop()
        steps: list[tuple[float, str, int | None]] = []
        if self.sent_after is not None:
            steps.append((self.sent_after, "sent", None))
        if self.delivered_after is not None:
            code = None if self.final_status in ("delivered", "read") else 30003
            steps.append((self.delivered_after, self.final_status, code))
        for delay, status, code in steps:
            self._timers[sid, status] = loop.call_later(delay, self._advance_soon, sid, status, code)

    def _advance_soon(self, sid: str, status: str, code: int | None) -> None:
        self._timers.pop((sid, status), None)
        task = asyncio.get_running_loop().create_task(self.settle(sid, status, code))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self, sid: str, status: str, error_code: int | str | None = None) -> None:
        """Move a message to a Twilio status (as the network would) and push its callback."""
        message = self.messages[sid]
        message["status"] = status
        message["error_code"] = int(error_code) if error_code is not None else None
        message["date_updated"] = _rfc2822(datetime.now(UTC))
        if status == "sent":
            message["date_sent"] = message["date_updated"]
        callback = message["_callback"]
        if self.push_callbacks and callback:
            await self._push(callback, self.callback_params(sid))

    def callback_params(self, sid: str) -> list[tuple[str, str]]:
        """The form of the status callback Twilio would send for the message's current status."""
        m = self.messages[sid]
        params = [
            ("MessageSid", sid),
            ("SmsSid", sid),
            ("MessageStatus", m["status"]),
            ("SmsStatus", m["status"]),
            ("AccountSid", self.account_sid),
            ("From", m["from"] or ""),
            ("To", m["to"]),
            ("ApiVersion", API_VERSION),
        ]
        if m["messaging_service_sid"]:
            params.append(("MessagingServiceSid", m["messaging_service_sid"]))
        if m["error_code"] is not None:
            params.append(("ErrorCode", str(m["error_code"])))
        if m["status"] in ("delivered", "undelivered"):
            params.append(("RawDlrDoneDate", datetime.now(UTC).strftime("%y%m%d%H%M")))
        return params

    def sign(self, url: str, params: list[tuple[str, str]]) -> str:
        return signature(self.auth_token, url, params)

    async def _push(self, url: str, params: list[tuple[str, str]]) -> None:
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        headers = {"X-Twilio-Signature": self.sign(url, params), "User-Agent": "TwilioProxy/1.1"}
        status = dict(params)["MessageStatus"]
        try:
            async with self._client.post(url, data=params, headers=headers) as response:
                self.callbacks.append((url, status, response.status))
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Twilio does not retry a failed callback either; the pull path catches up.
            self.callbacks.append((url, status, type(exc).__name__))

    async def _fetch(self, request: web.Request) -> web.StreamResponse:
        if self.record_requests:
            self.requests.append((request.method, request.path, {}))
        message = self.messages.get(request.match_info["sid"])
        if message is None:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        return web.json_response(self.resource(message))

    async def _list(self, request: web.Request) -> web.StreamResponse:
        """Messages, newest first, filtered by To and From like Twilio's list (one page)."""
        to, sender = request.query.get("To"), request.query.get("From")
        size = min(int(request.query.get("PageSize", "50") or 50), 1000)
        found = [
            self.resource(m)
            for m in reversed(list(self.messages.values()))
            if (to is None or m["to"] == to) and (sender is None or m["from"] == sender)
        ][:size]
        return web.json_response({"messages": found, "page": 0, "page_size": size, "next_page_uri": None})

    @staticmethod
    def resource(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def _account(self, request: web.Request) -> web.StreamResponse:
        now = _rfc2822(datetime.now(UTC))
        return web.json_response(
            {
                "sid": self.account_sid,
                "friendly_name": "herald fake account",
                "status": "active",
                "type": "Full",
                "date_created": now,
                "date_updated": now,
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
            }
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake Twilio Messages API on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--account-sid", default=ACCOUNT_SID)
    parser.add_argument("--auth-token", default=AUTH_TOKEN)
    parser.add_argument("--sent-after", type=float, default=1.0, help="seconds until 'sent' (negative: never)")
    parser.add_argument("--delivered-after", type=float, default=3.0, help="seconds until the final status")
    parser.add_argument("--final-status", default="delivered", choices=["delivered", "undelivered", "failed"])
    parser.add_argument("--no-record", action="store_true", help="keep no log of requests (benchmarks)")
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeTwilio(
            account_sid=args.account_sid,
            auth_token=args.auth_token,
            host=args.host,
            port=args.port,
            latency=args.latency,
            sent_after=args.sent_after if args.sent_after >= 0 else None,
            delivered_after=args.delivered_after if args.delivered_after >= 0 else None,
            final_status=args.final_status,
        )
        fake.record_requests = not args.no_record
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with fake:
            hidden = "*" * len(fake.auth_token)
            print(f"fake Twilio at {fake.url} account {fake.account_sid} (token {hidden})", flush=True)
            await stop.wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
