"""The latest real Fineract events of a triggered rule's kind, read from the core bank, to render a sample message.

A Triggered campaign has no audience to preview; what an officer wants to see is the message the
last repayment (approval, deposit ...) would have produced. Each rule's event is a row Fineract
keeps anyway (the loan transaction, the loan's approval date, the client's activation date ...),
so the newest few are read and the rule runs for each until one reaches a recipient of the
campaign's filters (office, loan officer, loan type).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, tzinfo

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from herald.corebank.event_rules import run_triggered
from herald.corebank.runner import AudienceRow, _corebank_error
from herald.domain.business_rule import BusinessRule

CANDIDATES = 25
"""How many of the newest events are tried before saying none reaches the campaign's recipients."""

# rule id -> (what the event is called, SQL selecting the event's ids (the rule's event_key, in order)
# then its date, newest first). Reversed transactions never fired a message; the type codes match the
# rules' own SQL. An instalment's event is sampled from the instalments that would raise it now: the
# unpaid ones due soonest from today (due), or due longest ago (overdue).
_NEWEST: dict[int, tuple[str, str]] = {
    179: (
        "loan repayment",
        "SELECT t.id, t.transaction_date FROM m_loan_transaction t WHERE t.is_reversed = :false"
        " AND t.transaction_type_enum IN (2, 5, 8, 28) ORDER BY t.transaction_date DESC, t.id DESC",
    ),
    180: (
        "loan approval",
        "SELECT l.id, l.approvedon_date FROM m_loan l WHERE l.approvedon_date IS NOT NULL"
        " ORDER BY l.approvedon_date DESC, l.id DESC",
    ),
    181: (
        "loan rejection",
        "SELECT l.id, l.rejectedon_date FROM m_loan l WHERE l.rejectedon_date IS NOT NULL"
        " ORDER BY l.rejectedon_date DESC, l.id DESC",
    ),
    182: (
        "client rejection",
        "SELECT c.id, c.rejectedon_date FROM m_client c WHERE c.rejectedon_date IS NOT NULL"
        " ORDER BY c.rejectedon_date DESC, c.id DESC",
    ),
    183: (
        "client activation",
        "SELECT c.id, c.activation_date FROM m_client c WHERE c.activation_date IS NOT NULL"
        " ORDER BY c.activation_date DESC, c.id DESC",
    ),
    184: (
        "savings rejection",
        "SELECT s.id, s.rejectedon_date FROM m_savings_account s WHERE s.rejectedon_date IS NOT NULL"
        " ORDER BY s.rejectedon_date DESC, s.id DESC",
    ),
    185: (
        "savings activation",
        "SELECT s.id, s.activatedon_date FROM m_savings_account s WHERE s.activatedon_date IS NOT NULL"
        " ORDER BY s.activatedon_date DESC, s.id DESC",
    ),
    186: (
        "savings deposit",
        "SELECT t.id, t.transaction_date FROM m_savings_account_transaction t WHERE t.is_reversed = :false"
        " AND t.is_reversal = :false AND t.transaction_type_enum = 1 ORDER BY t.transaction_date DESC, t.id DESC",
    ),
    187: (
        "savings withdrawal",
        "SELECT t.id, t.transaction_date FROM m_savings_account_transaction t WHERE t.is_reversed = :false"
        " AND t.is_reversal = :false AND t.transaction_type_enum = 2 ORDER BY t.transaction_date DESC, t.id DESC",
    ),
    1001: (
        "repayment due",
        "SELECT rs.loan_id, rs.installment, rs.duedate FROM m_loan_repayment_schedule rs"
        " JOIN m_loan l ON l.id = rs.loan_id WHERE l.loan_status_id = 300 AND rs.completed_derived = :false"
        " AND rs.duedate >= :today ORDER BY rs.duedate, rs.loan_id, rs.installment",
    ),
    1002: (
        "repayment overdue",
        "SELECT rs.loan_id, rs.installment, rs.duedate FROM m_loan_repayment_schedule rs"
        " JOIN m_loan l ON l.id = rs.loan_id WHERE l.loan_status_id = 300 AND rs.completed_derived = :false"
        " AND rs.duedate < :today ORDER BY rs.duedate, rs.loan_id, rs.installment",
    ),
    1003: (
        "loan disbursal",
        "SELECT l.id, l.disbursedon_date FROM m_loan l WHERE l.disbursedon_date IS NOT NULL"
        " ORDER BY l.disbursedon_date DESC, l.id DESC",
    ),
    1004: (
        "loan closure",
        "SELECT l.id, l.closedon_date FROM m_loan l WHERE l.loan_status_id = 600 AND l.closedon_date IS NOT NULL"
        " ORDER BY l.closedon_date DESC, l.id DESC",
    ),
    1005: (
        "new client",
        "SELECT c.id, c.submittedon_date FROM m_client c WHERE c.submittedon_date IS NOT NULL"
        " ORDER BY c.submittedon_date DESC, c.id DESC",
    ),
}


@dataclass(frozen=True)
class RecentEvent:
    """One real event and the recipient row the rule gives for it."""

    kind: str
    event: dict[str, int]  # the rule's event_key ids: {"loanId": 4410, "installmentNumber": 3}
    on: str  # the event's business date as Fineract stores it (ISO)
    row: AudienceRow


def event_kind(rule: BusinessRule) -> str:
    """What the rule's event is called in a sentence ("loan repayment")."""
    return _NEWEST[rule.id][0] if rule.id in _NEWEST else "event"


def latest_event(
    conn: sa.Connection,
    rule: BusinessRule,
    params: Mapping[str, object],
    today: date,
    *,
    date_format: str = "%d %b %Y",
    zone: tzinfo | None = None,
    only: Collection[str] | None = None,
) -> RecentEvent | None:
    """The newest event of the rule's kind that reaches a recipient under the campaign's `params`, or None."""
    if rule.id not in _NEWEST:
        return None
    kind, sql = _NEWEST[rule.id]
    day = today.isoformat() if conn.dialect.name == "sqlite" else today  # SQLite keeps dates as ISO text
    try:
        found = conn.execute(sa.text(f"{sql} LIMIT {CANDIDATES}"), {"true": True, "false": False, "today": day}).all()
    except sa_exc.SQLAlchemyError as e:
        raise _corebank_error(e, rule, conn) from None
    for *ids, on in found:
        event = {name: int(value) for name, value in zip(rule.event_key, ids, strict=True)}
        rows = list(run_triggered(conn, rule, params, event, today, date_format=date_format, zone=zone, only=only))
        if rows:
            return RecentEvent(kind, event, str(on)[:10], rows[0])
    return None
