"""Creating and moving campaigns through the service: every invalid request is refused with its reason."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from herald.app import Herald
from herald.clock import ManualClock
from herald.domain.campaign import Campaign, CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.errors import (
    HeraldError,
    LifecycleError,
    ParameterError,
    RecurrenceError,
    TemplateError,
    UnknownRuleError,
    ValidationError,
)
from herald.services import campaigns, reports, send
from herald.services.campaigns import CampaignRequest
from herald.store.tables import campaigns as campaigns_table
from herald.store.tables import messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

BASE: dict[str, Any] = {
    "campaignName": "Everyone",
    "triggerType": "direct",
    "runReportId": 166,
    "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
    "message": "Hello {{firstName}}",
}


def _create(herald: Herald, **changes: Any) -> Campaign:
    return campaigns.create(CampaignRequest.model_validate({**BASE, **changes}), **validating(herald))


@pytest.mark.parametrize(
    ("changes", "error", "field", "text"),
    [
        ({"runReportId": 999}, UnknownRuleError, None, "Unknown business rule"),
        ({"runReportId": "Loan Repayment"}, UnknownRuleError, "runReportId", "is for a Triggered campaign"),
        ({"triggerType": "triggered"}, UnknownRuleError, "runReportId", "is for a Direct or Scheduled campaign"),
        ({"triggerType": "weekly"}, ValidationError, "triggerType", "Unknown trigger type"),
        ({"paramValue": {"loanOfficerId": "-1"}}, ParameterError, "officeId", "officeId"),
        ({"paramValue": {"officeId": "one"}}, ParameterError, "officeId", "whole number"),
        ({"paramValue": {"officeId": "77"}}, ValidationError, "paramValue.officeId", "does not exist"),
        (
            {"runReportId": 170, "paramValue": {"officeId": "1", "fromX": "3", "toY": "1"}},
            ParameterError,
            None,
            "fromX",
        ),
        ({"message": "Hello {{firstname}}"}, TemplateError, "message", "did you mean {{firstName}}"),
        ({"message": "Hello {{#firstName}}"}, TemplateError, "message", ""),
        ({"message": ""}, TemplateError, "message", ""),
        ({"triggerType": "schedule"}, ValidationError, "recurrence", "needs a recurrence"),
        ({"triggerType": "schedule", "recurrence": "FREQ=SOMETIMES"}, RecurrenceError, "recurrence", ""),
        (
            {"triggerType": "schedule", "recurrence": "FREQ=DAILY", "timezone": "Mars/Olympus"},
            RecurrenceError,
            "timezone",
            "Mars/Olympus",
        ),
        ({"recurrence": "FREQ=DAILY"}, ValidationError, "recurrence", "Only Scheduled"),
        ({"providerId": "carrier-pigeon"}, ValidationError, "providerId", "Unknown provider"),
    ],
)
def test_invalid_requests_are_refused_with_a_clear_reason(
    herald: Herald, changes: dict[str, Any], error: type[HeraldError], field: str | None, text: str
) -> None:
    with pytest.raises(error) as raised:
        _create(herald, **changes)
    if field is not None:
        assert getattr(raised.value, "field", None) == field
    assert text in str(raised.value)
    with herald.store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(campaigns_table)).scalar_one() == 0


def test_a_second_campaign_with_the_same_name_is_refused(herald: Herald) -> None:
    _create(herald)
    with pytest.raises(ValidationError, match="already exists"):
        _create(herald)


def test_lifecycle_refusals_leave_the_campaign_as_it_was(herald: Herald) -> None:
    c = campaigns.activate(_create(herald).id, **activating(herald))
    with pytest.raises(LifecycleError, match="only a Pending campaign can be activated"):
        campaigns.activate(c.id, **activating(herald))
    with pytest.raises(LifecycleError, match="cannot be deleted"):
        campaigns.remove(c.id, store=herald.store, clock=herald.clock)
    with pytest.raises(LifecycleError, match="cannot be edited"):
        campaigns.edit(c.id, CampaignRequest.model_validate(BASE), **validating(herald))
    with pytest.raises(LifecycleError, match="only a Closed campaign can be reactivated"):
        campaigns.reactivate(c.id, **activating(herald))
    assert campaigns.get(c.id, store=herald.store).status is CampaignStatus.ACTIVE
    campaigns.close(c.id, store=herald.store, clock=herald.clock)
    campaigns.remove(c.id, store=herald.store, clock=herald.clock)
    with pytest.raises(HeraldError, match="No campaign"):
        campaigns.get(c.id, store=herald.store)


def test_edit_while_pending_replaces_the_definition(herald: Herald) -> None:
    c = _create(herald)
    edited = campaigns.edit(
        c.id,
        CampaignRequest.model_validate({**BASE, "campaignName": "Renamed", "message": "Hi {{lastName}}"}),
        **validating(herald),
    )
    assert (edited.name, edited.template, edited.trigger_type) == ("Renamed", "Hi {{lastName}}", TriggerType.DIRECT)


def test_a_direct_campaign_goes_through_every_tab_without_a_manual_job(
    herald: Herald, clock: ManualClock, fineract: FineractBuilder
) -> None:
    fineract.client("Amina", "+254712000001")
    fineract.client("Baraka", "0712 000 002")  # national format, Kenyan default region
    fineract.client("Chausiku", None)
    fineract.client("Dalia", "n/a")
    fineract.client("Esther", "+254712000005", status=600)  # closed: not in the audience
    c = campaigns.activate(_create(herald).id, **activating(herald))
    assert outbound_for(herald).run()["created"] == 4
    rows = _by_status(herald)
    assert rows[MessageStatus.PENDING] == 2 and rows[MessageStatus.INVALID] == 2
    send.run(sender_for(herald))
    assert _by_status(herald)[MessageStatus.WAITING_FOR_DELIVERY_REPORT] == 2
    clock.advance(seconds=1.5)
    reports.run(puller_for(herald))
    assert _by_status(herald)[MessageStatus.SENT] == 2
    clock.advance(seconds=1)
    reports.run(puller_for(herald))
    assert _by_status(herald)[MessageStatus.DELIVERED] == 2
    with herald.store.connect() as conn:
        invalid = sorted(
            r.reason for r in conn.execute(select(messages.c.reason).where(messages.c.status == MessageStatus.INVALID))
        )
        numbers = sorted(
            r.mobile_no
            for r in conn.execute(select(messages.c.mobile_no).where(messages.c.status == MessageStatus.DELIVERED))
        )
    assert invalid == ["no mobile number", "not a phone number"]
    assert numbers == ["+254712000001", "+254712000002"]
    # Reactivating a Direct campaign messages newcomers only.
    campaigns.close(c.id, store=herald.store, clock=herald.clock)
    fineract.client("Fatuma", "+254712000006")
    campaigns.reactivate(c.id, **activating(herald))
    assert outbound_for(herald).run()["created"] == 1


def _by_status(herald: Herald) -> dict[MessageStatus, int]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(messages.c.status, func.count()).group_by(messages.c.status)).all()
    counts = dict.fromkeys(MessageStatus, 0)
    counts.update({MessageStatus(s): n for s, n in rows})
    return counts
