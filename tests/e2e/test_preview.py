"""Preview before activation: audience, rendered samples with encoding and segments, and the cost."""

from __future__ import annotations

from herald.app import Herald
from herald.domain.campaign import Campaign
from herald.domain.message import MessageStatus
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.services.preview import preview
from tests.campaign_parts import previewing, validating
from tests.fineract_builder import FineractBuilder


def _campaign(herald: Herald, message: str) -> Campaign:
    return campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "Preview",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": message,
            }
        ),
        **validating(herald),
    )


def test_preview_counts_prices_and_shows_samples_without_storing_anything(
    herald: Herald, fineract: FineractBuilder
) -> None:
    fineract.client("Amina", "+254712000001")
    fineract.client("Baraka", "0712000002")
    fineract.client("Chausiku", None)
    c = _campaign(herald, "Habari {{firstName}}, " + "x" * 150)  # GSM-7, 2 segments each
    p = preview(c, **previewing(herald), sample_size=2)
    assert (p.audience, p.sendable, p.invalid) == (3, 2, 1)
    assert p.invalid_reasons == {"no mobile number": 1}
    assert p.segments == 4
    assert p.cost == round(4 * herald.settings.price_per_segment, 4) and p.currency == "KES"
    assert [s.encoding for s in p.samples] == ["GSM-7", "GSM-7"]
    assert p.samples[0].body.startswith("Habari Amina, ") and p.samples[0].segments == 2
    assert p.samples[0].mobile_no == "+2547******01"
    assert p.exact
    assert campaigns.get(c.id, store=herald.store).status.name == "PENDING"


def test_an_emoji_makes_the_message_ucs2_and_costs_more_segments(herald: Herald, fineract: FineractBuilder) -> None:
    fineract.client("Amina", "+254712000001")
    c = _campaign(herald, "Heri ya siku ya kuzaliwa {{firstName}}! 🎉 " + "a" * 40)
    [sample] = preview(c, **previewing(herald)).samples
    assert sample.encoding == "UCS-2"
    assert sample.segments == 2  # 25 + 5 + 2 + 2 (the emoji is two UTF-16 units) + 1 + 40 = 75 > 70
    assert sample.status is MessageStatus.PENDING


def test_a_triggered_campaign_has_no_audience_to_preview_and_says_so(herald: Herald) -> None:
    import pytest

    from herald.errors import ValidationError

    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "Thanks",
                "triggerType": "triggered",
                "runReportId": 179,
                "paramValue": {"officeId": "-1"},
                "message": "Asante {{firstname}}",
            }
        ),
        **validating(herald),
    )
    with pytest.raises(ValidationError, match="no audience to preview"):
        preview(c, **previewing(herald))
