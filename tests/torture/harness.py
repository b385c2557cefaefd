"""The torture harness: a real herald (CLI and worker subprocesses) against counting providers, judged at the far side.

A Scenario owns everything one torture test starts: counting Twilio servers (their own
processes, so killing herald never touches them), herald's database (an SQLite file or a fresh
PostgreSQL database), a private copy of the demo Fineract database, Direct or Triggered campaigns
made with the `herald` command, and `herald worker` / `herald serve --worker` processes that the
test kills and restarts at will. herald's database is read only to know when to stop (nothing
PENDING) and which messages were sendable; the verdict is counted at the providers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from herald.demo.servers import free_port
from tests.torture.verdict import Verdict, judge

HERALD = [sys.executable, "-m", "herald"]
COUNTING_TWILIO = Path(__file__).with_name("counting_twilio.py")
ACCOUNT_SID = "AC" + "c0a7" * 8
AUTH_TOKEN = "torture-token-0123456789"
FROM_NUMBER = "+15005550006"

PENDING = 100


def _get(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


@dataclass
class Timings:
    """Shortened clocks. The first three are the redesign's settings; today's herald ignores them."""

    lease: float = 3.0  # HERALD_SEND_LEASE_SECONDS
    heartbeat: float = 0.5  # HERALD_HEARTBEAT_SECONDS
    worker_timeout: float = 3.0  # HERALD_WORKER_TIMEOUT_SECONDS
    breaker_cooldown: float = 1.0  # HERALD_BREAKER_COOLDOWN_SECONDS (suggested: how long an open breaker waits)
    send_interval: float = 0.1
    reports_interval: float = 0.5
    materialize_interval: float = 0.3
    retry_base: float = 0.3
    max_attempts: int = 40
    batch_size: int = 50

    def env(self) -> dict[str, str]:
        return {
            "HERALD_SEND_LEASE_SECONDS": f"{self.lease:g}",
            "HERALD_HEARTBEAT_SECONDS": f"{self.heartbeat:g}",
            "HERALD_WORKER_TIMEOUT_SECONDS": f"{self.worker_timeout:g}",
            "HERALD_BREAKER_COOLDOWN_SECONDS": f"{self.breaker_cooldown:g}",
            "HERALD_SEND_INTERVAL": f"{self.send_interval:g}",
            "HERALD_REPORTS_INTERVAL": f"{self.reports_interval:g}",
            "HERALD_MATERIALIZE_INTERVAL": f"{self.materialize_interval:g}",
            "HERALD_RETRY_BASE_SECONDS": f"{self.retry_base:g}",
            "HERALD_MAX_ATTEMPTS": str(self.max_attempts),
            "HERALD_SEND_BATCH_SIZE": str(self.batch_size),
        }


class CountingProvider:
    """One counting Twilio server process and what it has seen."""

    def __init__(self, name: str, root: Path, latency: float = 0.0) -> None:
        self.name = name
        self.port = free_port()
        self.log = root / f"{name}.jsonl"
        self._out = (root / f"{name}.out").open("w")
        self.proc = subprocess.Popen(
            [
                *(sys.executable, str(COUNTING_TWILIO), "--port", str(self.port), "--log", str(self.log)),
                *("--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, "--latency", str(latency)),
            ],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a signal meant for herald never reaches the provider
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                self.stats()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"counting Twilio {name} did not start; see {root / (name + '.out')}") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, **options: Any) -> dict[str, Any]:
        """This server as one of herald's providers (HERALD_PROVIDERS entry)."""
        return {
            "name": self.name,
            "kind": "twilio",
            "base_url": self.url,
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": FROM_NUMBER,
            "status_callback": False,
            "timeout": 2.0,
        } | options

    def control(self, **body: Any) -> None:
        _post(f"{self.url}/_control", body)

    def stats(self) -> dict[str, int]:
        stats: dict[str, int] = _get(f"{self.url}/_stats", timeout=10)  # a busy server answers late
        return stats

    def count(self) -> dict[str, Any]:
        found: dict[str, Any] = _get(f"{self.url}/_count", timeout=30)
        return found

    def accepted(self) -> list[dict[str, Any]]:
        """Every message this provider accepted, from its log file (it survives anything herald does)."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line]

    def rate_windows(self) -> list[tuple[int, int]]:
        """Accepted messages per 1-second window of the provider's clock."""
        return [(int(s), int(n)) for s, n in _get(f"{self.url}/_rate")["windows"]]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(1)  # every accepted message is already in the log, flushed
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


@dataclass
class Proc:
    """A herald process the scenario started."""

    label: str
    popen: subprocess.Popen[bytes]
    log: Path
    started: float

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(f"    {line}" for line in text[-lines:])


class Scenario:
    """One torture run: servers, databases, campaigns and herald processes, all stopped by `close()`."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        corebank: Path,
        timings: Timings | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.corebank = root / "fineract.sqlite"
        shutil.copyfile(corebank, self.corebank)  # private: hook scenarios write repayments into it
        self.timings = timings or Timings()
        self.extra_env = extra_env or {}
        self.servers: dict[str, CountingProvider] = {}
        self.provider_configs: list[dict[str, Any]] = []
        self.procs: list[Proc] = []
        self.engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        self._upgraded = False

    # -- set-up -----------------------------------------------------------------------------------
    def provider(self, name: str, *, latency: float = 0.0, **options: Any) -> CountingProvider:
        """Start a counting server and configure it as herald provider `name`."""
        server = CountingProvider(name, self.root, latency)
        self.servers[name] = server
        self.provider_configs.append(server.config(**options))
        return server

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HERALD_HOME": str(self.root / "var"),
            "HERALD_DATABASE_URL": self.database_url,
            "HERALD_COREBANK_URL": f"sqlite:///{self.corebank}",
            "HERALD_PROVIDERS": json.dumps(self.provider_configs),
            "COLUMNS": "200",
            "PYTHONUNBUFFERED": "1",
            **self.timings.env(),
            **self.extra_env,
        }

    def cli(self, *args: str) -> str:
        done = subprocess.run([*HERALD, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"herald {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        return done.stdout

    def prepare(self) -> None:
        """herald's tables, as `herald db upgrade` makes them (once)."""
        if not self._upgraded:
            self.cli("db", "upgrade")
            self._upgraded = True

    def direct_campaign(
        self, name: str, provider: str, *, office: int = 1, fallback: str | None = None, activate: bool = True
    ) -> int:
        """Create (and activate) a Direct "Active Clients" campaign through the CLI; return its message count."""
        self.prepare()
        args = ["campaigns", "create", "--name", name, "--rule", "Active Clients", "-p", f"officeId={office}"]
        # The client id makes every (To, Body) unique, so the providers' logs say which message came twice.
        args += ["--message", f"Dear {{{{firstName}}}}, {name} ref {{{{id}}}}.", "--provider", provider]
        if fallback is not None:
            args += ["--fallback", fallback]
        self.cli(*args)
        return self.activate(name) if activate else 0

    def activate(self, name: str) -> int:
        """`herald campaigns activate`: a Direct campaign's messages are made then and there."""
        self.cli("campaigns", "activate", name, "--yes")
        return self.count_messages(name)

    def triggered_campaign(self, name: str, provider: str) -> None:
        """A Triggered "Loan Repayment" campaign (rule 179): one message per repayment hook."""
        self.prepare()
        self.cli(
            "campaigns", "create", "--name", name, "--rule", "179", "--trigger", "triggered",
            "-p", "officeId=1", "--provider", provider,
            "--message", f"{name}: {{{{firstname}}}}, we got {{{{repaymentAmount}}}}.",
        )  # fmt: skip
        self.cli("campaigns", "activate", name, "--yes")

    # -- herald processes -------------------------------------------------------------------------
    def _spawn(self, label: str, args: list[str], env: dict[str, str] | None = None) -> Proc:
        log = self.root / f"{label}-{len(self.procs)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [*HERALD, *args], env=env or self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        proc = Proc(label, popen, log, time.monotonic())
        self.procs.append(proc)
        return proc

    def start_worker(self, label: str = "worker") -> Proc:
        return self._spawn(label, ["worker"])

    def wait_started(self, *procs: Proc, timeout: float = 10.0) -> None:
        """Until each process has said it runs (its first line of output): workers poll before messages exist."""
        for proc in procs:
            self.wait_for(lambda p=proc: not p.alive() or p.log.stat().st_size > 0, timeout)  # type: ignore[misc]
            assert proc.alive(), f"{proc.label} exited {proc.popen.returncode} at start:\n{proc.tail()}"

    def start_serve(self, port: int, hook_secret: str) -> Proc:
        env = self.env | {"HERALD_FINERACT_HOOK_SECRET": hook_secret}
        return self._spawn("serve", ["serve", "--worker", "--port", str(port)], env)

    def kill(self, proc: Proc) -> None:
        """kill -9, as a power cut or the OOM killer would."""
        if proc.alive():
            os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait()

    def terminate(self, proc: Proc, within: float) -> tuple[int | None, float]:
        """SIGTERM as a service manager sends it; (exit code or None if still running, seconds taken)."""
        started = time.monotonic()
        proc.popen.send_signal(signal.SIGTERM)
        try:
            code: int | None = proc.popen.wait(within)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started

    # -- herald's database (only to know when to stop, and what was sendable) --------------------
    def rows(self) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT m.id, m.mobile_no, m.body, m.status, m.provider, m.external_id, m.reason,"
                        " m.error_code, m.attempts, c.name AS campaign FROM messages m"
                        " JOIN campaigns c ON c.id = m.campaign_id ORDER BY m.id"
                    )
                )
            )

    def count_messages(self, campaign: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = :n"
                    ),
                    {"n": campaign},
                ).scalar_one()
            )

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT count(*) FROM messages WHERE status = :p"), {"p": PENDING}).scalar_one()
            )

    def accepted_count(self) -> int:
        return sum(s.stats()["accepted"] for s in self.servers.values())

    def wait_for(self, condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(step)
        return condition()

    def run_until_final(self, deadline: float) -> bool:
        """Wait (until the monotonic `deadline`) for nothing PENDING, then stop every herald process.

        A quiet half second first lets a request already on its way land in the providers' logs;
        killing the processes then means nothing can reach a provider after the verdict is counted.
        False if time ran out.
        """
        finished = self.wait_for(lambda: self.pending() == 0, max(deadline - time.monotonic(), 0.0), step=0.2)
        if finished:
            time.sleep(0.5)
        for proc in self.procs:
            if proc.alive():
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        return finished and self.pending() == 0

    # -- the verdict ------------------------------------------------------------------------------
    def verdict(self, *, finished: bool = True) -> Verdict:
        """Judge the run: herald's sendable messages against what every provider logged."""
        logs = {name: server.accepted() for name, server in self.servers.items()}
        verdict = judge(self.rows(), logs)
        if not finished:
            verdict.problems.append("messages were still Pending when the scenario's time ran out")
        for proc in self.procs:
            if proc.popen.returncode not in (None, 0, -signal.SIGKILL, -signal.SIGTERM):  # died by itself
                verdict.problems.append(f"{proc.label} exited {proc.popen.returncode}:\n{proc.tail()}")
        return verdict

    def close(self) -> None:
        for proc in self.procs:
            if proc.alive():
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        for server in self.servers.values():
            server.stop()
        self.engine.dispose()


@contextmanager
def scenario(root: Path, database_url: str, corebank: Path, **options: Any) -> Iterator[Scenario]:
    s = Scenario(root, database_url, corebank, **options)
    try:
        yield s
    finally:
        s.close()
