"""`herald serve` as a subprocess on 127.0.0.1, on a copy of the test template, with its log captured to a file.

What the tests of a served herald share: the real command, real uvicorn, real HTTP, and the
output an operator would see (the access log) kept for the test to read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from herald.demo.servers import free_port

HOOK_SECRET = "hook-secret-0f1e2d3c4b5a"
INFOBIP_SECRET = "infobip-push-secret-a1b2c3d4"
INFOBIP_KEY = "infobip-api-key-5e6f7a8b"
PROVIDERS = [
    {
        "kind": "infobip",
        "name": "infobip",
        "base_url": "http://herald:base-url-password@127.0.0.1:9",  # nothing listens there: never called
        "api_key": INFOBIP_KEY,
        "sender": "HERALD",
        "webhook_secret": INFOBIP_SECRET,
        "timeout": 1,
    }
]
_LOGIN = re.compile(r'name="login_token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Served:
    url: str
    log: Path
    env: dict[str, str]  # the served process's environment: a `herald` command with it works on the same database

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def herald_serve(
    home: Path, template: Path, corebank_url: str, *, worker: bool = False, **env: str
) -> Iterator[Served]:
    """Run `herald serve` on a copy of `template`'s database until the block ends; with `worker` the jobs
    run in it (serve's default), without it is an API and UI node (`--no-worker`)."""
    home.mkdir(parents=True, exist_ok=True)
    for file in template.glob("herald.sqlite*"):
        shutil.copy(file, home / file.name)
    port = free_port()
    environment = {
        **os.environ,
        "HERALD_HOME": str(home),
        "HERALD_DATABASE_URL": f"sqlite:///{home / 'herald.sqlite'}",
        "HERALD_COREBANK_URL": corebank_url,
        "HERALD_TIMEZONE": "Africa/Nairobi",
        "HERALD_BUSINESS_DATE": "2026-11-20",
        "HERALD_PROVIDERS": json.dumps(PROVIDERS),
        "HERALD_FINERACT_HOOK_SECRET": HOOK_SECRET,
        **env,
    }
    log = home / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "herald", "serve", "--port", str(port), "--worker" if worker else "--no-worker"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"herald serve stopped: {log.read_text()}"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "herald serve did not answer within 30 s"
            time.sleep(0.1)
        yield Served(url, log, environment)
    finally:
        process.terminate()
        process.wait(timeout=20)


def logged_in(url: str, username: str, password: str) -> tuple[httpx.Client, str]:
    """An HTTP client with a UI session, and that session's CSRF token."""
    client = httpx.Client(base_url=url, timeout=30)
    token = _LOGIN.search(client.get("/login").text)
    assert token
    answer = client.post("/login", data={"username": username, "password": password, "login_token": token.group(1)})
    assert answer.status_code == 303, answer.text
    csrf = _CSRF.search(client.get("/campaigns").text)
    assert csrf
    return client, csrf.group(1)
