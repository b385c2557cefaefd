"""Campaign lifecycle with Fineract's codes: activate, close, reactivate; edit and delete only when not active."""

import pytest

from herald.domain.campaign import LIFECYCLE, CampaignAction, CampaignStatus, TriggerType, apply
from herald.errors import LifecycleError, ValidationError

S, A = CampaignStatus, CampaignAction


def test_codes_are_fineracts() -> None:
    assert (S.PENDING, S.ACTIVE, S.CLOSED) == (100, 300, 600)
    assert (TriggerType.DIRECT, TriggerType.SCHEDULE, TriggerType.TRIGGERED) == (1, 2, 3)


def test_the_happy_path() -> None:
    status = apply(S.PENDING, A.ACTIVATE)
    assert status is S.ACTIVE
    status = apply(status, A.CLOSE)
    assert status is S.CLOSED
    assert apply(status, A.REACTIVATE) is S.ACTIVE


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_pair_outside_the_table_is_refused_with_a_reason(status: CampaignStatus, action: CampaignAction) -> None:
    if (status, action) in LIFECYCLE:
        apply(status, action)
        return
    with pytest.raises(LifecycleError) as err:
        apply(status, action, name="Reminders")
    assert "Reminders" in str(err.value)
    assert action.value in str(err.value)


def test_activating_an_active_campaign_is_refused() -> None:
    with pytest.raises(LifecycleError, match="only a Pending campaign can be activated"):
        apply(S.ACTIVE, A.ACTIVATE)


def test_deleting_or_editing_an_active_campaign_is_refused() -> None:
    with pytest.raises(LifecycleError, match="close it first"):
        apply(S.ACTIVE, A.DELETE)
    with pytest.raises(LifecycleError, match="close it first"):
        apply(S.ACTIVE, A.EDIT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("direct", TriggerType.DIRECT),
        ("1", TriggerType.DIRECT),
        (2, TriggerType.SCHEDULE),
        ("Scheduled", TriggerType.SCHEDULE),
        ("schedule", TriggerType.SCHEDULE),
        ("triggered", TriggerType.TRIGGERED),
    ],
)
def test_trigger_type_accepts_codes_and_words(text: str | int, expected: TriggerType) -> None:
    assert TriggerType.parse(text) is expected


@pytest.mark.parametrize("text", ["weekly", "7", "-1", ""])
def test_unknown_trigger_type_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="Unknown trigger type") as err:
        TriggerType.parse(text)
    assert err.value.field == "triggerType"
