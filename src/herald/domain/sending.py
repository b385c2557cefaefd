"""The records the send path passes along: a claimed message, and what became of one attempt.

Claimed comes out of the store's claim; the sender turns each into exactly one of Accepted, Retry
or Failure (or leaves it INVALID for an opted-out number), and the store records those. Named,
frozen records instead of tuples: a field added here is added everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Claimed:
    """A message leased to one sending process for one attempt."""

    id: int
    campaign_id: int
    provider: str
    fallback: str | None  # the campaign's fallback provider
    sender_id: str | None  # the campaign's sender id; None: the provider's own sender
    mobile_no: str
    body: str
    attempts: int  # including this one
    office_id: int | None
    # When the first attempt whose outcome is unknown began (a dead worker, a send with no answer):
    # that attempt, and any since, may have reached a provider, so herald asks before sending again.
    in_doubt_since: datetime | None

    @property
    def in_doubt(self) -> bool:
        return self.in_doubt_since is not None


@dataclass(frozen=True)
class Accepted:
    """A provider took the message (or, asked about an attempt in doubt, says it already has it)."""

    message_id: int
    provider: str
    external_id: str
    cost: Decimal | None = None  # what the provider says it charged (Africa's Talking's send answer)
    cost_currency: str | None = None


@dataclass(frozen=True)
class Retry:
    """The message stays PENDING until `not_before`.

    `counted`: the attempt counts towards the maximum (the provider failed it); False gives it back
    (held for quiet hours, an open breaker, a throttling provider, or a lookup that could not be
    made: nothing was handed over). `in_doubt`: the attempt may have reached the provider (no
    answer), so the next one asks first. `provider`: the one that failed a counted attempt, kept in the
    message's earlier attempts (its page shows them).
    """

    message_id: int
    not_before: datetime
    code: str | None
    text: str | None
    counted: bool = True
    in_doubt: bool = False
    provider: str | None = None


@dataclass(frozen=True)
class Failure:
    """The message will not be sent again by herald: a permanent refusal, or attempts used up.

    `outcome_unknown`: the last attempt had no answer, so it may have been sent; a re-send asks the
    provider before including it.
    """

    message_id: int
    code: str | None
    text: str | None
    outcome_unknown: bool = False
