"""From a Fineract event to sent messages: every active triggered campaign listening to it, within a second.

The event's own id (the repayment transaction, the activated client ...) is the message's dedup
fact, so a hook Fineract sends twice, or a retried request, creates nothing twice.
"""

from __future__ import annotations

from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from herald.app import Herald
from herald.corebank.event_rules import run_triggered
from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.compose import compose
from herald.domain.message import MessageStatus
from herald.domain.templates import Template
from herald.rules.catalog import rules_for_event
from herald.services import campaigns as campaign_service
from herald.services.hooks import FineractEvent
from herald.services.materialize import opted_out_numbers, record_row
from herald.store import messages as message_store
from herald.store.tables import campaigns, messages


def materialize_event(herald: Herald, event: FineractEvent) -> dict[str, Any]:
    """Create the messages of every campaign listening to the event; return counts and the new PENDING ids."""
    result: dict[str, Any] = {"campaigns": 0, "created": 0, "duplicates": 0, "pending_ids": []}
    if not event.succeeded:
        return result
    rules = {r.id: r for r in rules_for_event(event.entity, event.action)}
    if not rules:
        return result
    with herald.store.connect() as conn:
        ids = (
            conn.execute(
                select(campaigns.c.id).where(
                    campaigns.c.tenant == event.tenant,
                    campaigns.c.status == CampaignStatus.ACTIVE,
                    campaigns.c.trigger_type == TriggerType.TRIGGERED,
                    campaigns.c.rule_id.in_(list(rules)),
                )
            )
            .scalars()
            .all()
        )
    if not ids:
        return result
    now = herald.clock.now()
    blocked = opted_out_numbers(herald.store)
    for cid in ids:
        campaign = campaign_service.get(herald, cid)
        today = herald.today(None, event.at or now)
        with herald.corebank_for(campaign.tenant).connect() as source:
            rows = list(
                run_triggered(
                    source,
                    campaign.rule,
                    campaign.params,
                    event.ids,
                    today,
                    date_format=herald.settings.date_format,
                    zone=ZoneInfo(herald.settings.timezone),  # RepaymentTime in the institution's local time
                )
            )
        composed = list(
            compose(
                rows,
                Template.parse(campaign.template),
                herald.office_regions(campaign.tenant),
                herald.settings.default_region,
                blocked,
            )
        )
        records = [record_row(c, campaign, None, now) for c in composed]
        with herald.store.begin() as conn:
            created = message_store.insert_new(conn, records)
            keys = [r[1] for r in records]
            new_pending = (
                conn.execute(
                    select(messages.c.id).where(
                        messages.c.campaign_id == cid,
                        messages.c.dedup_key.in_(keys),
                        messages.c.status == MessageStatus.PENDING,
                        messages.c.attempts == 0,
                    )
                )
                .scalars()
                .all()
            )
        result["campaigns"] += 1
        result["created"] += created
        result["duplicates"] += len(records) - created
        result["pending_ids"] = list(chain(result["pending_ids"], new_pending))
    return result
