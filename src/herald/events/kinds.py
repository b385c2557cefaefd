"""Which Fineract external event types herald listens to, and the ids each one gives a triggered rule.

Each type maps to the (entity, action) pair of the Fineract hook that reports the same fact, so an
event and a hook of one repayment become the same `FineractEvent` and the same dedup keys: an
institution that sends both gets one message. Types with no hook (repayment due / overdue, loan
closed) get an action of their own. `ids` reads the decoded payload (a dict of the schema's fields).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class EventKind:
    """One external event type: the hook it stands for and how its payload names the ids."""

    type: str
    entity: str
    action: str
    schema: str  # the payload's Avro full name, as the envelope's `dataschema` says
    ids: Callable[[Payload], dict[str, object]]
    needs: tuple[str, ...] = ()  # the ids without which there is no fact to message about; () = the first one

    @property
    def required(self) -> tuple[str, ...]:
        return self.needs or (next(iter(self.ids({}))),)


_LOAN_TX = "org.apache.fineract.avro.loan.v1.LoanTransactionDataV1"
_LOAN = "org.apache.fineract.avro.loan.v1.LoanAccountDataV1"
_DUE = "org.apache.fineract.avro.loan.v1.LoanRepaymentDueDataV1"
_CLIENT = "org.apache.fineract.avro.client.v1.ClientDataV1"
_SAVINGS = "org.apache.fineract.avro.savings.v1.SavingsAccountDataV1"
_SAVINGS_TX = "org.apache.fineract.avro.savings.v1.SavingsAccountTransactionDataV1"


def _loan_transaction(p: Payload) -> dict[str, object]:
    return {"loanTransactionId": p.get("id"), "loanId": p.get("loanId")}


def _loan(p: Payload) -> dict[str, object]:
    return {"loanId": p.get("id"), "clientId": p.get("clientId")}


def _instalment(p: Payload) -> dict[str, object]:
    instalment = p.get("installment") or {}
    return {"loanId": p.get("loanId"), "installmentNumber": instalment.get("installmentNumber")}


def _client(p: Payload) -> dict[str, object]:
    return {"clientId": p.get("id")}


def _savings(p: Payload) -> dict[str, object]:
    return {"savingsId": p.get("id"), "clientId": p.get("clientId")}


def _savings_transaction(p: Payload) -> dict[str, object]:
    return {"savingsTransactionId": p.get("id"), "savingsId": p.get("accountId")}


_BOTH = ("loanId", "installmentNumber")

KINDS: dict[str, EventKind] = {
    k.type: k
    for k in (
        EventKind("LoanTransactionMakeRepaymentPostBusinessEvent", "LOAN", "REPAYMENT", _LOAN_TX, _loan_transaction),
        EventKind(
            "LoanTransactionRecoveryPaymentPostBusinessEvent", "LOAN", "RECOVERYPAYMENT", _LOAN_TX, _loan_transaction
        ),
        EventKind("LoanApprovedBusinessEvent", "LOAN", "APPROVE", _LOAN, _loan),
        EventKind("LoanRejectedBusinessEvent", "LOAN", "REJECT", _LOAN, _loan),
        EventKind("LoanDisbursalBusinessEvent", "LOAN", "DISBURSE", _LOAN, _loan),
        EventKind("LoanCloseBusinessEvent", "LOAN", "CLOSE", _LOAN, _loan),
        EventKind("LoanRepaymentDueBusinessEvent", "LOAN", "REPAYMENT_DUE", _DUE, _instalment, _BOTH),
        EventKind("LoanRepaymentOverdueBusinessEvent", "LOAN", "REPAYMENT_OVERDUE", _DUE, _instalment, _BOTH),
        EventKind("ClientCreateBusinessEvent", "CLIENT", "CREATE", _CLIENT, _client),
        EventKind("ClientActivateBusinessEvent", "CLIENT", "ACTIVATE", _CLIENT, _client),
        EventKind("ClientRejectBusinessEvent", "CLIENT", "REJECT", _CLIENT, _client),
        EventKind("SavingsActivateBusinessEvent", "SAVINGSACCOUNT", "ACTIVATE", _SAVINGS, _savings),
        EventKind("SavingsRejectBusinessEvent", "SAVINGSACCOUNT", "REJECT", _SAVINGS, _savings),
        EventKind("SavingsDepositBusinessEvent", "SAVINGSACCOUNT", "DEPOSIT", _SAVINGS_TX, _savings_transaction),
        EventKind("SavingsWithdrawalBusinessEvent", "SAVINGSACCOUNT", "WITHDRAWAL", _SAVINGS_TX, _savings_transaction),
    )
}
"""Every event type a triggered rule listens to, by Fineract's type name (`MessageV1.type`)."""

BULK_TYPE = "BulkBusinessEvent"


def kinds_for(pairs: set[tuple[str, str]]) -> list[EventKind]:
    """The event types that report any of the (entity, action) pairs, e.g. those active campaigns listen to."""
    return [k for k in KINDS.values() if (k.entity, k.action) in pairs]
