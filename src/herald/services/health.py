"""Whether this herald can do its work (/readyz): its database and every core bank answer, a worker is alive.

Each check is one trivial query or the workers' heartbeats, so a load balancer or an orchestrator
may ask every few seconds. A failed check says which part failed in words an IT person acts on,
never with a URL or password in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from herald.corebank import probe
from herald.corebank.engines import CoreBanks
from herald.services.presence import Presence


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _answers(engine: Engine) -> str | None:
    """None when herald's database answers SELECT 1, else the error's class (its text may hold a host name)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure of any driver is the answer here, never a 500
        return type(getattr(exc, "orig", None) or exc).__name__
    return None


def readiness(*, store: Engine, corebanks: CoreBanks, presence: Presence) -> list[Check]:
    """Every check, in order: herald's database, each tenant's core bank, a live job-running process."""
    checks = []
    failed = _answers(store)
    detail = f"herald's database does not answer ({failed})" if failed else "herald's database answers"
    checks.append(Check("database", failed is None, detail))
    for tenant, engine in corebanks.items():
        failed = probe.problem(engine)
        detail = f"the core bank of tenant {tenant!r}: " + (failed or "answers")
        checks.append(Check(f"corebank:{tenant}", failed is None, detail))
    if checks[0].ok:
        try:
            runners = len(presence.job_runners())
        except Exception as exc:
            runners, why = 0, f"the workers' heartbeats cannot be read ({type(exc).__name__})"
        else:
            why = (
                f"{runners} worker{'s' if runners != 1 else ''} with a fresh heartbeat"
                if runners
                else "no worker has a fresh heartbeat: nothing is sent (run `herald serve` without --no-worker,"
                " or `herald worker`)"
            )
        checks.append(Check("worker", runners > 0, why))
    else:
        checks.append(Check("worker", False, "unknown: herald's database does not answer"))
    return checks
