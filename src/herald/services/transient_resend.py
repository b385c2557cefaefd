"""The re-send policy for delivery that failed for a reason that passes (handset off, network busy).

A FAILED report the provider marks as passing (DeliveryReport.transient, stored on the message)
gets a re-send `after` the failure, at most `times` per message, and only inside the campaign's
sending window:
- its campaign is still Active;
- the office's local time is outside quiet hours (HERALD_QUIET_HOURS, the office profile's time
  zone, as the send job judges it), so a re-send never waits overnight in the queue;
- it is still the business day the message failed on (in the office's time zone): yesterday's
  "your instalment is due tomorrow" is not sent today. A failure whose window is closed is left
  as it is, final, where a person can still re-send it by hand.
Messages an unchanged Fineract hands to herald as its gateway are left alone: Fineract asks for
their status by its own id and would keep showing Failed for a copy that was delivered.

A re-send is the next link of the message's re-send chain (services/resend.py): the failed
message `K#resend-n` gets `K#resend-(n+1)`, the key a manual re-send would take too. The unique
(campaign, dedup key) constraint is the lock: two report jobs at once, a person clicking "Re-send"
at the same moment, or a worker killed half-way and run again all end with one new message. A
chain never grows past `times` re-sends this way, whoever made the earlier ones, so a number that
stays unreachable costs at most `times` more messages.

Each failure is settled once (messages.resend_pending cleared): copied, or found never to be (its
times used up, opted out, its day over). Only one waiting out quiet hours is read again, so the
policy reads a handful of rows per pass however many messages have failed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from herald.clock import Clock
from herald.config import Settings
from herald.domain.calendar import BusinessCalendar
from herald.domain.quiet import QuietHours
from herald.services import audit
from herald.services.audit import SYSTEM
from herald.services.office_profiles import OfficeProfiles
from herald.services.resend import KEY_LIMIT, MARK, chain_of, copy_of
from herald.store import campaign_messages, optouts
from herald.store import messages as message_store
from herald.store.campaign_messages import TransientFailure

log = logging.getLogger(__name__)

PAGE = 5_000  # failures looked at per pass; the rest wait for the next pass

_LOOK_BACK = timedelta(hours=26)
"""Failures older than `after` plus this are past their business day in every time zone: settled unread."""

_WAIT, _NEVER = "", "#"  # not keys: a dedup key is never empty, and a re-send key never just "#"


@dataclass(frozen=True)
class TransientResendPolicy:
    """`times` re-sends at most (0: the policy is off), each `after` its failure; the quiet hours and the
    default time zone the send job uses, so both judge the window alike."""

    times: int = 0
    after: timedelta = timedelta(minutes=60)
    quiet_hours: str | None = None
    timezone: str = "Africa/Nairobi"

    @classmethod
    def of(cls, settings: Settings) -> TransientResendPolicy:
        return cls(
            times=settings.transient_resend_times,
            after=timedelta(minutes=settings.transient_resend_after_minutes),
            quiet_hours=settings.quiet_hours,
            timezone=settings.timezone,
        )


@dataclass(frozen=True)
class TransientResender:
    """Makes the re-sends the policy allows now; the send job sends them like any PENDING message."""

    store: Engine
    clock: Clock
    offices: OfficeProfiles
    calendar: BusinessCalendar
    policy: TransientResendPolicy

    def run(self) -> dict[str, int]:
        """One pass: {"resent": new messages} (nothing at all when the policy is off)."""
        if self.policy.times <= 0:
            return {}
        now = self.clock.now()
        until = now - self.policy.after
        quiet = QuietHours.parse(self.policy.quiet_hours) if self.policy.quiet_hours else None
        resent = 0
        with self.store.begin() as conn:
            campaign_messages.expire_resends(conn, until - _LOOK_BACK)
            failures = campaign_messages.transient_failures(conn, until - _LOOK_BACK, until, PAGE)
            numbers = {f.message.mobile_no for f in failures if f.message.mobile_no}
            opted_out = optouts.contains(conn, numbers) if numbers else set()
            by_campaign: dict[int, list[tuple[str, TransientFailure]]] = defaultdict(list)
            settled: list[int] = []
            for failure in failures:
                key = self._next_key(failure, now, quiet, opted_out)
                if key == _WAIT:
                    continue
                settled.append(failure.message.id)
                if key != _NEVER:
                    by_campaign[failure.message.campaign_id].append((key, failure))
            for campaign_id, wanted in by_campaign.items():
                # A key already taken is a copy made meanwhile (a person, another worker): settled all the same.
                taken = campaign_messages.taken_keys(conn, campaign_id, [k for k, _ in wanted])
                rows = [copy_of(f.message, k, f.provider, now) for k, f in wanted if k not in taken]
                created = message_store.insert_new(conn, rows)
                if created:
                    resent += created
                    self._audit(conn, wanted[0][1], created, now)
            campaign_messages.settle_resends(conn, settled)
        if resent:
            log.info("re-sent %d messages whose failure passes", resent)
        return {"resent": resent}

    def _next_key(self, failure: TransientFailure, now: datetime, quiet: QuietHours | None, opted_out: set[str]) -> str:
        """The key of this failure's re-send if the policy allows one now; _WAIT (quiet hours: maybe later
        today) or _NEVER (its times used up, opted out, its business day over, no key that fits)."""
        message = failure.message
        base, n = chain_of(message.dedup_key)
        if n >= self.policy.times or not message.mobile_no or message.mobile_no in opted_out:
            return _NEVER
        zone = self.offices.timezones(failure.tenant).get(message.office_id or -1, self.policy.timezone)
        if self.calendar.today(failure.failed_at, zone) != self.calendar.today(now, zone):
            return _NEVER
        if quiet is not None and quiet.contains(now.astimezone(ZoneInfo(zone)).time()):
            return _WAIT  # the next pass after the quiet hours end may still be the same business day
        key = f"{base}{MARK}{n + 1}"
        return key if len(key) <= KEY_LIMIT else _NEVER

    @staticmethod
    def _audit(conn: Connection, failure: TransientFailure, created: int, now: datetime) -> None:
        """One entry per campaign and pass, as a manual re-send leaves, marked automatic."""
        detail = {"id": failure.message.campaign_id, "resent": created, "automatic": True}
        audit.record(
            conn, SYSTEM, "campaign.resend", now, target=failure.campaign, tenant=failure.tenant, detail=detail
        )
