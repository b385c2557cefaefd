"""The triggered business rules (Fineract ids 179-187): the hook events that fire them and what they offer.

Each rule selects the recipients of ONE event, given the ids the event injects (`EVENT_IDS`); its
`event_key` names the id that identifies the fact and must be present. Every message is sent once
ever per campaign (`DedupScope.ONCE`): a hook delivered twice yields the same dedup key.

Variables keep Fineract's exact spellings (`FullName`, `LoanAmount`, `officename` ...) so templates
copied from Fineract keep working. Where a spelling differs from herald's other rules only in case
(`firstname`/`firstName`, `GroupName`/`groupName`, `LoanAmount`/`loanAmount`), both names are offered:
they render the same column, so a template may use either.

LOAN/RECOVERYPAYMENT (money recovered on a written-off loan) fires 179 as well as LOAN/REPAYMENT: the
client paid, and herald's 174/175 count recovery repayments as money received (docs/fineract-differences.md#D18).
"""

from __future__ import annotations

from herald.domain.business_rule import BusinessRule
from herald.domain.dedup import DedupScope
from herald.rules.parameters import LOAN_OFFICER, LOAN_TYPE, OFFICE, OFFICE_OR_ALL, SIX

# Fineract's spelling of the client's names in 179-181 and 186/187, plus herald's camelCase spelling.
_NAMES = ("firstname", "middlename", "lastname", "FullName")  # no mobileNo: see parameters.SIX
_NAME_ALIASES = ("firstName", "middleName", "lastName", "fullName")

_REPAYMENT = (
    "id",
    *_NAMES,
    "LoanAmount",
    "LoanOutstanding",
    "loanId",
    "LoanAccountId",
    "officeId",
    "loanOfficerId",
    "repaymentAmount",
    "RepaymentDate",
    "RepaymentTime",
    "receiptNumber",
    "GroupName",
    *_NAME_ALIASES,
    "groupName",
    "loanAmount",
    "loanOutstanding",
    "loanAccountId",
    "repaymentDate",
)
_LOAN_DECISION = (
    "id",
    *_NAMES,
    "GroupName",
    "officename",
    "loanId",
    "accountnumber",
    "loanamount",
    "annualinterestrate",
    *_NAME_ALIASES,
    "groupName",
    "officeName",
    "loanAmount",
)
_CLIENT = (*SIX, "officeName", "officeNumber")
_SAVINGS_ACCOUNT = (*SIX, "savingsAccountNo", "officeNumber", "officeName")
# `id` (= clientId) is a herald addition: every rule names its recipient by `id`.
_SAVINGS_TRANSACTION = (
    "clientId",
    *_NAMES,
    "savingsId",
    "savingsAccountNo",
    "depositAmount",
    "withdrawAmount",
    "balance",
    "officeId",
    "transactionDate",
    "savingsTransactionId",
    "loanOfficerId",
    "receiptNumber",
    "id",
    *_NAME_ALIASES,
)

_LOAN_PARAMS = (OFFICE_OR_ALL, LOAN_OFFICER, LOAN_TYPE)
_CLIENT_PARAMS = (OFFICE, LOAN_OFFICER)
_SAVINGS_PARAMS = (OFFICE_OR_ALL, LOAN_OFFICER)
_ONCE = DedupScope.ONCE

TRIGGERED: tuple[BusinessRule, ...] = (
    BusinessRule(
        179,
        "Loan Repayment",
        True,
        None,
        "A repayment received on a loan: its borrower, or every active member for a group loan.",
        _LOAN_PARAMS,
        _REPAYMENT,
        "loan_transaction",
        _ONCE,
        "179_loan_repayment.sql",
        ("RepaymentTime",),
        events=(("LOAN", "REPAYMENT"), ("LOAN", "RECOVERYPAYMENT")),
        event_key="loanTransactionId",
        fans_out=True,
    ),
    BusinessRule(
        180,
        "Loan Approved",
        True,
        None,
        "A loan approved: its borrower, or every active member for a group loan.",
        _LOAN_PARAMS,
        _LOAN_DECISION,
        "loan_approval",
        _ONCE,
        "180_loan_approved.sql",
        ("annualinterestrate",),
        events=(("LOAN", "APPROVE"),),
        event_key="loanId",
        fans_out=True,
    ),
    BusinessRule(
        181,
        "Loan Rejected",
        True,
        None,
        "A loan application rejected: its applicant, or every active member for a group loan.",
        _LOAN_PARAMS,
        _LOAN_DECISION,
        "loan_rejection",
        _ONCE,
        "181_loan_rejected.sql",
        ("annualinterestrate",),
        events=(("LOAN", "REJECT"),),
        event_key="loanId",
        fans_out=True,
    ),
    BusinessRule(
        182,
        "Client Rejected",
        True,
        "Client",
        "A client application rejected.",
        _CLIENT_PARAMS,
        _CLIENT,
        "client_rejection",
        _ONCE,
        "182_client_rejected.sql",
        ("officeName",),
        events=(("CLIENT", "REJECT"),),
        event_key="clientId",
    ),
    BusinessRule(
        183,
        "Client Activated",
        True,
        "Client",
        "A client activated.",
        _CLIENT_PARAMS,
        _CLIENT,
        "client_activation",
        _ONCE,
        "183_client_activated.sql",
        ("officeName",),
        events=(("CLIENT", "ACTIVATE"),),
        event_key="clientId",
    ),
    BusinessRule(
        184,
        "Savings Rejected",
        True,
        "Savings",
        "A client's savings account application rejected.",
        _CLIENT_PARAMS,
        _SAVINGS_ACCOUNT,
        "savings_rejection",
        _ONCE,
        "184_savings_rejected.sql",
        events=(("SAVINGSACCOUNT", "REJECT"),),
        event_key="savingsId",
    ),
    BusinessRule(
        185,
        "Savings Activated",
        True,
        "Savings",
        "A client's savings account activated.",
        _CLIENT_PARAMS,
        _SAVINGS_ACCOUNT,
        "savings_activation",
        _ONCE,
        "185_savings_activated.sql",
        events=(("SAVINGSACCOUNT", "ACTIVATE"),),
        event_key="savingsId",
    ),
    BusinessRule(
        186,
        "Savings Deposit",
        True,
        None,
        "A deposit into a client's savings account.",
        _SAVINGS_PARAMS,
        _SAVINGS_TRANSACTION,
        "savings_transaction",
        _ONCE,
        "186_savings_deposit.sql",
        events=(("SAVINGSACCOUNT", "DEPOSIT"),),
        event_key="savingsTransactionId",
    ),
    BusinessRule(
        187,
        "Savings Withdrawal",
        True,
        None,
        "A withdrawal from a client's savings account.",
        _SAVINGS_PARAMS,
        _SAVINGS_TRANSACTION,
        "savings_transaction",
        _ONCE,
        "187_savings_withdrawal.sql",
        events=(("SAVINGSACCOUNT", "WITHDRAWAL"),),
        event_key="savingsTransactionId",
    ),
)
