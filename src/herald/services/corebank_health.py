"""Whether the worker can read each tenant's core bank: probed every materialize pass, kept while it is broken.

A core bank that is down is not a bug in herald: the worker says so once, in one log line and on
the jobs page (which tenant, which job, why, since when), and once more when it can read it again,
instead of a traceback every pass. Its campaigns wait; the other tenants' go on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from herald.clock import Clock
from herald.corebank import lookups
from herald.corebank.engines import CoreBanks
from herald.domain.jobs import Job
from herald.errors import CoreBankError
from herald.store import corebank_outages
from herald.store.corebank_outages import Outage

__all__ = ["CoreBankHealth", "Outage", "outages"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoreBankHealth:
    """The worker's view of its core banks: which answer now, and the record of those that do not."""

    store: Engine
    corebanks: CoreBanks
    clock: Clock

    def probe(self) -> dict[str, CoreBankError]:
        """The tenants whose core bank does not answer a one-row read now, each with the sentence saying why."""
        failures: dict[str, CoreBankError] = {}
        for tenant, engine in self.corebanks.items():
            try:
                lookups.probe(engine)
            except CoreBankError as error:
                failures[tenant] = error
        return failures

    def record(self, job: Job, failures: Mapping[str, CoreBankError]) -> None:
        """After a pass of `job`: the tenants in `failures` are broken, every other one was read.

        Only a change is logged: the first failure of an outage, and the pass that ends it.
        """
        now = self.clock.now()
        for tenant in self.corebanks.tenants:
            error = failures.get(tenant)
            if error is None:
                with self.store.begin() as conn:
                    ended = corebank_outages.readable(conn, tenant)
                if ended is not None:
                    log.warning(
                        "core bank of tenant %s can be read again (it could not since %s)",
                        tenant,
                        ended.since.isoformat(timespec="seconds"),
                    )
                continue
            try:
                with self.store.begin() as conn:
                    began = corebank_outages.broken(conn, tenant, job, str(error), now)
            except IntegrityError:  # another worker recorded the same outage at the same moment
                began = None
            if began is not None:
                log.warning("core bank of tenant %s cannot be read (%s): %s", tenant, job.value, error)


def outages(store: Engine) -> list[Outage]:
    """The core banks a worker could not read at its latest pass, the oldest outage first."""
    with store.connect() as conn:
        return corebank_outages.current(conn)
