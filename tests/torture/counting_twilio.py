"""A Twilio Messages API that counts: it logs every message it accepts and every request, with faults on demand.

Standalone on purpose (aiohttp and the standard library, nothing of herald), and run as its own
process so a kill -9 of herald never touches it: the torture tests count what a real provider
would have charged for, at the far side of herald's send path.

It answers the four calls herald's Twilio adapter makes, in Twilio's wire format:

- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (form: To, From, Body, StatusCallback; basic auth)
- ``GET  .../Messages.json?To=&From=&PageSize=``: the in-doubt lookup, answered truthfully from the
  log, newest first, ``date_created`` in RFC 2822
- ``GET  .../Messages/{sid}.json``: a report pull (every accepted message is "delivered", but those
  to a number ending in the ``unreachable`` suffix, which are "undelivered" with error 30003)
- ``GET  /2010-04-01/Accounts/{sid}.json``: the account check

Admin endpoints for the test (no auth, never counted as traffic):

- ``GET  /_count``: ``{"accepted": [...], "requests": [...]}``, everything received
- ``GET  /_stats``: ``{"accepted": n, "requests": n, "create": n, "list": n, ...}``, cheap to poll
- ``GET  /_rate``: accepted messages per 1-second window (``[[epoch second, n], ...]``)
- ``POST /_control``: JSON ``{"latency": s, "fault": {...} | null}``; a fault is
  ``{"kind": "hang" | "drop" | "500" | "429", "seconds": window length (null: until cleared),
  "arm": true (the window opens at the next create rather than now), "every": n (every n-th
  create inside the window), "hang_seconds": s, "retry_after": s}``.
  ``hang`` and ``drop`` store the message first (accepted, then the answer is late or the
  connection is cut); ``500`` and ``429`` refuse every API request in the window, storing nothing.
  ``{"unreachable": "3"}`` makes every message to a number ending in 3 fail as an unreachable
  handset (the failure that passes), ``{"unreachable": null}`` ends that.

``python tests/torture/counting_twilio.py --port P --log FILE`` runs it; accepted messages are
also appended to FILE as JSON lines, flushed at once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

API = "/2010-04-01/Accounts/{account}"
DEFAULT_ACCOUNT = "AC" + "7e57" * 8
DEFAULT_TOKEN = "counting-twilio-token"


@dataclass
class Fault:
    kind: str  # hang, drop, 500, 429
    seconds: float | None = None
    arm: bool = False
    every: int = 1
    hang_seconds: float = 30.0
    retry_after: int = 1
    opened_at: float | None = None  # wall clock; None while armed and not yet triggered
    seen: int = 0

    def window(self) -> tuple[float, float | None] | None:
        if self.opened_at is None:
            return None
        return self.opened_at, None if self.seconds is None else self.opened_at + self.seconds

    def active(self, now: float) -> bool:
        window = self.window()
        if window is None:
            return False
        return now >= window[0] and (window[1] is None or now < window[1])


@dataclass
class Counter:
    account_sid: str
    auth_token: str
    log: TextIO
    latency: float = 0.0
    fault: Fault | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    by_sid: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_to: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # the lookup's index, oldest first
    requests: list[dict[str, Any]] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # requests per kind, kept as they come (cheap /_stats)
    faults: list[dict[str, Any]] = field(default_factory=list)  # every fault window, as opened
    unreachable: str | None = None  # numbers ending so are undelivered with 30003

    def outcome(self, message: dict[str, Any]) -> tuple[str, int | None]:
        """The final status of a message and its error code, as a report pull reads them."""
        if self.unreachable and message["to"].endswith(self.unreachable):
            return "undelivered", 30003
        return "delivered", None

    @property
    def expected_auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()

    def accept(self, form: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        sid = "SM" + secrets.token_hex(16)
        message: dict[str, Any] = {
            "sid": sid,
            "to": form.get("To", ""),
            "from": form.get("From"),
            "body": form.get("Body", ""),
            "status_callback": form.get("StatusCallback"),
            "t": now,
        }
        self.messages.append(message)
        self.by_sid[sid] = message
        self.by_to.setdefault(message["to"], []).append(message)
        self.log.write(json.dumps(message) + "\n")
        self.log.flush()
        return message

    def current_fault(self, now: float, create: bool) -> Fault | None:
        """The fault this request meets, opening an armed window at the first create."""
        fault = self.fault
        if fault is None:
            return None
        if fault.opened_at is None and fault.arm and create:
            fault.opened_at = now
            self.faults.append({"kind": fault.kind, "from": now, "seconds": fault.seconds})
        if not fault.active(now):
            return None
        if fault.kind in ("hang", "drop"):
            if not create:
                return None
            fault.seen += 1
            return fault if fault.seen % fault.every == 0 else None
        return fault


def _rfc2822(at: float) -> str:
    return format_datetime(datetime.fromtimestamp(at, UTC))


def resource(account_sid: str, message: dict[str, Any], status: str, code: int | None = None) -> dict[str, Any]:
    """A Twilio Message resource as the API returns it."""
    created = _rfc2822(message["t"])
    return {
        "sid": message["sid"],
        "account_sid": account_sid,
        "messaging_service_sid": None,
        "status": status,
        "to": message["to"],
        "from": message["from"],
        "body": message["body"],
        "num_segments": "1",
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "price": None,
        "price_unit": "USD",
        "error_code": code,
        "error_message": None,
        "date_created": created,
        "date_updated": created,
        "date_sent": created if status != "queued" else None,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message['sid']}.json",
    }


def error(status: int, code: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"code": code, "message": text, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return web.json_response(body, status=status, headers=headers)


def build_app(counter: Counter) -> web.Application:
    @web.middleware
    async def traffic(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/_"):
            return await handler(request)
        now = time.time()
        create = request.method == "POST" and request.path.endswith("/Messages.json")
        kind = "create" if create else "list" if request.path.endswith("/Messages.json") else "other"
        if "/Messages/" in request.path:
            kind = "fetch"
        elif request.path.endswith(f"{counter.account_sid}.json"):
            kind = "account"
        entry: dict[str, Any] = {"t": now, "method": request.method, "kind": kind, "status": None}
        counter.requests.append(entry)
        counter.kinds[kind] = counter.kinds.get(kind, 0) + 1
        if request.headers.get("Authorization") != counter.expected_auth:
            entry["status"] = 401
            return error(401, 20003, "Authenticate")
        if request.match_info.get("account") != counter.account_sid:
            entry["status"] = 404
            return error(404, 20404, f"The requested resource {request.path} was not found")
        fault = counter.current_fault(now, create)
        if fault is not None and fault.kind in ("500", "429"):
            await asyncio.sleep(counter.latency)
            entry["status"] = int(fault.kind)
            if fault.kind == "429":
                return error(429, 20429, "Too Many Requests", {"Retry-After": str(fault.retry_after)})
            return error(500, 20500, "Internal Server Error")
        request["fault"] = fault
        try:
            response = await handler(request)
        except asyncio.CancelledError:
            entry["status"] = "client gave up"
            raise
        entry["status"] = "dropped" if request.get("dropped") else response.status
        return response

    async def create(request: web.Request) -> web.StreamResponse:
        # Half the latency before the message is taken, half after: a kill lands on either side.
        await asyncio.sleep(counter.latency / 2)
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not form.get("To") or not form.get("Body") or not form.get("From"):
            return error(400, 21604, "A 'To', 'From' and 'Body' are required")
        message = counter.accept(form)
        fault: Fault | None = request["fault"]
        if fault is not None and fault.kind == "drop":
            assert request.transport is not None
            request.transport.abort()  # accepted, and the answer never leaves
            request["dropped"] = True
            return web.Response(status=201)
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.hang_seconds)
        await asyncio.sleep(counter.latency / 2)
        return web.json_response(resource(counter.account_sid, message, "queued"), status=201)

    async def listing(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(counter.latency)
        to, sender = request.query.get("To"), request.query.get("From")
        size = min(int(request.query.get("PageSize", "50") or 50), 1000)
        candidates = counter.messages if to is None else counter.by_to.get(to, [])
        found = [
            resource(counter.account_sid, m, "delivered")
            for m in reversed(candidates)
            if sender is None or m["from"] == sender
        ][:size]
        return web.json_response({"messages": found, "page": 0, "page_size": size, "next_page_uri": None})

    async def fetch(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(counter.latency)
        message = counter.by_sid.get(request.match_info["sid"])
        if message is None:
            return error(404, 20404, f"The requested resource {request.path} was not found")
        return web.json_response(resource(counter.account_sid, message, *counter.outcome(message)))

    async def account(request: web.Request) -> web.StreamResponse:
        now = _rfc2822(time.time())
        return web.json_response(
            {"sid": counter.account_sid, "status": "active", "type": "Full", "date_created": now, "date_updated": now}
        )

    async def count(request: web.Request) -> web.StreamResponse:
        return web.json_response({"accepted": counter.messages, "requests": counter.requests, "faults": counter.faults})

    async def stats(request: web.Request) -> web.StreamResponse:
        totals = {"accepted": len(counter.messages), "requests": len(counter.requests)}
        return web.json_response(totals | counter.kinds)

    async def rate(request: web.Request) -> web.StreamResponse:
        windows: dict[int, int] = {}
        for m in counter.messages:
            windows[int(m["t"])] = windows.get(int(m["t"]), 0) + 1
        return web.json_response({"windows": sorted(windows.items()), "max": max(windows.values(), default=0)})

    async def control(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if "latency" in body:
            counter.latency = float(body["latency"])
        if "unreachable" in body:
            counter.unreachable = body["unreachable"] or None
        if "fault" in body:
            spec = body["fault"]
            if spec is None:
                counter.fault = None
            else:
                fault = Fault(
                    kind=str(spec["kind"]),
                    seconds=spec.get("seconds"),
                    arm=bool(spec.get("arm", False)),
                    every=int(spec.get("every", 1)),
                    hang_seconds=float(spec.get("hang_seconds", 30.0)),
                    retry_after=int(spec.get("retry_after", 1)),
                )
                if fault.kind not in ("hang", "drop", "500", "429"):
                    return web.json_response({"error": f"unknown fault {fault.kind!r}"}, status=400)
                if not fault.arm:
                    fault.opened_at = time.time()
                    counter.faults.append({"kind": fault.kind, "from": fault.opened_at, "seconds": fault.seconds})
                counter.fault = fault
        return web.json_response({"latency": counter.latency, "fault": body.get("fault")})

    app = web.Application(middlewares=[traffic])
    app.router.add_post(f"{API}/Messages.json", create)
    app.router.add_get(f"{API}/Messages.json", listing)
    app.router.add_get(f"{API}/Messages/{{sid}}.json", fetch)
    app.router.add_get(f"{API}.json", account)
    app.router.add_get("/_count", count)
    app.router.add_get("/_rate", rate)
    app.router.add_get("/_stats", stats)
    app.router.add_post("/_control", control)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A Twilio Messages API on 127.0.0.1 that counts what it accepts.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True, help="JSON lines file of every accepted message")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT)
    parser.add_argument("--auth-token", default=DEFAULT_TOKEN)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API request")
    args = parser.parse_args(argv)

    async def serve() -> None:
        with args.log.open("a", encoding="utf-8") as log:
            counter = Counter(args.account_sid, args.auth_token, log, latency=args.latency)
            runner = web.AppRunner(build_app(counter), access_log=None, handler_cancellation=True)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", args.port, backlog=4096).start()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            print(f"counting Twilio on 127.0.0.1:{args.port}", flush=True)
            await stop.wait()
            await runner.cleanup()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
