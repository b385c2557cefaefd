"""The API's counts per status have one field per MessageStatus, each filled from its own status."""

from __future__ import annotations

from herald.api.v1.counts import TabCounts, json_name
from herald.domain.message import MessageStatus


def test_every_status_has_exactly_one_field_under_its_camel_case_name() -> None:
    assert set(TabCounts.model_fields) == {json_name(s) for s in MessageStatus}
    assert json_name(MessageStatus.WAITING_FOR_DELIVERY_REPORT) == "waitingForDeliveryReport"


def test_each_field_counts_its_own_status_and_a_missing_status_counts_zero() -> None:
    counts = {s: 10 + i for i, s in enumerate(MessageStatus) if s is not MessageStatus.SENT}
    out = TabCounts.of(counts).model_dump()
    assert out == {
        "pending": counts[MessageStatus.PENDING],
        "waitingForDeliveryReport": counts[MessageStatus.WAITING_FOR_DELIVERY_REPORT],
        "sent": 0,
        "delivered": counts[MessageStatus.DELIVERED],
        "failed": counts[MessageStatus.FAILED],
        "invalid": counts[MessageStatus.INVALID],
    }
    assert TabCounts.of(None).model_dump() == dict.fromkeys(out, 0)
