"""One message's whole story as herald keeps it: its row, its client's name, its re-send chain with who
re-sent each copy and when, the parts a provider took it as, reports still parked for it, its opt-out.

herald keeps each message's latest attempt (provider, provider id, error, attempt count, times),
not one record per attempt or per report: `MessageHistory` says which is which, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from herald.corebank.engines import CoreBanks
from herald.errors import CoreBankError, NotFoundError
from herald.services.message_search import client_names
from herald.services.resend import MARK, chain_of
from herald.services.search import StoredMessage
from herald.store import message_history as history_store
from herald.store import search as message_store
from herald.store.attempts import EarlierAttempt, earlier_attempts
from herald.store.message_history import ChainLink, ParkedReport, Part, Resend
from herald.store.optouts import OptOut


@dataclass(frozen=True)
class ChainStep:
    """One message of the re-send chain, and the audit entry that made it (None for the original)."""

    link: ChainLink
    resend: int  # 0: the original; n: the n-th re-send
    made_by: Resend | None


@dataclass(frozen=True)
class MessageHistory:
    message: StoredMessage
    campaign_name: str
    tenant: str
    client_name: str | None
    name_missing: bool  # the core bank could not be read
    resend: int  # which re-send this message is (0: the original)
    chain: list[ChainStep]
    parts: list[Part]
    parked: list[ParkedReport]
    opt_out: OptOut | None
    earlier: list[EarlierAttempt]  # failed attempts that another followed, oldest first (the row is the latest)


def history(message_id: int, *, store: Engine, corebanks: CoreBanks) -> MessageHistory:
    with store.connect() as conn:
        message = message_store.message(conn, message_id)
        key = history_store.dedup_key(conn, message_id)
        if message is None or key is None:
            raise NotFoundError(f"No message {message_id}.", hint="Search for it on the Messages page.")
        base, resend = chain_of(key)
        links = history_store.chain(conn, message.campaign_id, base, MARK)
        made = history_store.resends_at(conn, message.campaign_id, [link.created_at for link in links])
        parts = history_store.parts(conn, message.id)
        parked = history_store.parked(conn, message.external_id)
        opt_out = history_store.opt_out(conn, message.mobile_no)
        earlier = earlier_attempts(conn, message.id)
        campaigns = history_store.campaign_tenants(conn, [message.campaign_id])
    campaign_name, tenant = campaigns.get(message.campaign_id, (f"campaign {message.campaign_id}", ""))
    try:
        name, missing = client_names([message], campaigns, corebanks).get(message.id), False
    except CoreBankError:
        name, missing = None, True
    steps = []
    for link in links:
        n = chain_of(link.dedup_key)[1]
        steps.append(ChainStep(link, n, made.get(link.created_at) if n else None))
    return MessageHistory(message, campaign_name, tenant, name, missing, resend, steps, parts, parked, opt_out, earlier)
