"""Local stand-ins the demo runs beside herald: fake providers, herald's HTTP side, a simulated Fineract."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from herald.app import Herald
from herald.config import Settings
from herald.errors import ConfigurationError

FAKE_PROVIDERS = ("twilio", "infobip", "africastalking", "smpp")

AT_WEBHOOK_SECRET = "demo-webhook-secret-" + "0" * 8  # the local fake's callback URL carries it; never a real one


@contextmanager
def fake_provider(kind: str) -> Iterator[dict[str, object]]:
    """Run a local fake of a real provider in its own process; yield herald's configuration for it."""
    port = free_port()
    # AT's callback URL is the account's, not the request's: the fake posts reports to herald's
    # webhook on a port chosen now (scenario.py serves it for the whole run).
    webhook_port = free_port()
    callback = f"http://127.0.0.1:{webhook_port}/webhooks/africastalking?secret={AT_WEBHOOK_SECRET}"
    command = {
        "twilio": ["herald.fakes.twilio", "--latency", "0.02", "--sent-after", "0.5", "--delivered-after", "1.5"],
        "infobip": ["herald.fakes.infobip", "--latency", "0.02", "--delivered-after", "1.5"],
        "africastalking": [
            *("herald.fakes.africastalking", "--latency", "0.02", "--username", "demo", "--api-key", "test-key"),
            # One report per message (Success), not two: AT posts each report on its own request.
            *("--delivered-after", "1.5", "--callback-url", callback),
        ],
        "smpp": ["herald.fakes.smsc", "--receipt-after", "1.5"],
    }[kind]
    process = subprocess.Popen(
        [sys.executable, "-m", *command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, process)
        if kind == "twilio":
            from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN

            yield {
                "kind": "twilio",
                "name": "twilio",
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "from_number": "+15005550006",
                "base_url": f"http://127.0.0.1:{port}",
                "max_in_flight": 64,
            }
        elif kind == "infobip":
            yield {
                "kind": "infobip",
                "name": "infobip",
                "base_url": f"http://127.0.0.1:{port}",
                "api_key": "test-key",
                "sender": "HERALD",
            }
        elif kind == "africastalking":
            yield {
                "kind": "africastalking",
                "name": "africastalking",
                "username": "demo",
                "api_key": "test-key",
                "sender": "HERALD",
                "base_url": f"http://127.0.0.1:{port}",
                "webhook_secret": AT_WEBHOOK_SECRET,
                "webhook_port": webhook_port,  # not a setting: scenario.py takes it out
            }
        else:
            yield {
                "kind": "smpp",
                "name": "smpp",
                "host": "127.0.0.1",
                "port": port,
                "system_id": "herald",
                "password": "secret",
                "source_addr": "HERALD",
            }
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigurationError("The local fake provider did not start.")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ConfigurationError("The local fake provider did not answer within 20 seconds.")


DEMO_HOOKS = 20
DEMO_HOOK_RATE = 4.0


@contextmanager
def hook_server(settings: Settings, port: int | None = None) -> Iterator[str]:
    """herald's HTTP side on a local port, free unless given (its own Herald: connections stay with their loop)."""
    import uvicorn

    from herald.server import create_app

    api_herald = Herald.build(settings)
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(api_herald), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="herald-api", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        secret = settings.fineract_hook_secret.get_secret_value() if settings.fineract_hook_secret else ""
        yield f"http://127.0.0.1:{port}/fineract/hooks/{secret}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        api_herald.close()


@contextmanager
def fineract_tellers(settings: Settings, hook_url: str) -> Iterator[threading.Thread]:
    """A thread playing Fineract: repayments booked (dated today in herald's time zone) and their hooks posted."""
    from herald.fakes.fineract_hooks import FineractHookSimulator

    simulator = FineractHookSimulator(
        settings.corebank_database_url,
        hook_url,
        tenant=settings.tenant,
        today=datetime.now(ZoneInfo(settings.timezone)).date(),
    )
    thread = threading.Thread(
        target=lambda: asyncio.run(simulator.run(DEMO_HOOK_RATE, DEMO_HOOKS, in_order=True)),
        name="fineract-tellers",
        daemon=True,
    )
    thread.start()
    try:
        yield thread
    finally:
        thread.join(timeout=30)
        simulator.close()
