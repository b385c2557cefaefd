"""REST: messages counted per status, under the tabs' names: one schema for the campaigns' and the statistics' counts.

A status's JSON name is its enum name in camelCase (WAITING_FOR_DELIVERY_REPORT ->
waitingForDeliveryReport), so the fields below and `MessageStatus` cannot drift apart unnoticed:
`TabCounts.of` fills every field from the enum, and a status without a field fails at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from herald.domain.message import MessageStatus


def json_name(status: MessageStatus) -> str:
    """The status's name in the API: camelCase of the enum name."""
    first, *rest = status.name.lower().split("_")
    return first + "".join(word.capitalize() for word in rest)


class TabCounts(BaseModel):
    """Messages per tab (status)."""

    pending: int = 0
    waitingForDeliveryReport: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    invalid: int = 0

    @classmethod
    def of(cls, counts: Mapping[MessageStatus, int] | None) -> TabCounts:
        counts = counts or {}
        return cls.model_validate({json_name(s): counts.get(s, 0) for s in MessageStatus})
