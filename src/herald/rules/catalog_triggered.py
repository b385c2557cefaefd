"""The triggered business rules: Fineract's 179-187 and herald's own 1001-1005, the events that fire them.

Each rule selects the recipients of ONE event, given the ids the event injects (`EVENT_IDS`); its
`event_key` names the ids that identify the fact and must be present (the loan and the instalment
number for an instalment's due and overdue events, one id otherwise). Every message is sent once
ever per campaign (`DedupScope.ONCE`): a hook or an event delivered twice yields the same dedup key.

Variables keep Fineract's exact spellings (`FullName`, `LoanAmount`, `officename` ...) so templates
copied from Fineract keep working. Where a spelling differs from herald's other rules only in case
(`firstname`/`firstName`, `GroupName`/`groupName`, `LoanAmount`/`loanAmount`), both names are offered:
they render the same column, so a template may use either.

LOAN/RECOVERYPAYMENT (money recovered on a written-off loan) fires 179 as well as LOAN/REPAYMENT: the
client paid, and herald's 174/175 count recovery repayments as money received (docs/fineract-differences.md#D18).
Likewise LOAN/DISBURSETOSAVINGS (the loan paid into the client's savings account) fires Loan Disbursed.

1001-1005 exist only in herald: Fineract has no SMS rule for these events (repayment due and overdue
are external events only, never hooks). They are numbered from 1001 because Fineract's own reports
take the ids after 187 (its e-mail rules 190-192 and more), and a campaign's `runReportId` must never
name a Fineract report and a herald rule at once (docs/fineract-differences.md#D35). Their variables
follow their siblings': the instalment rules 179's spellings, the loan rules 180's, 1005 183's.
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

# One instalment of a loan, as 179 names the loan; totalDue and paymentDueDate as 170 names them.
_INSTALMENT = (
    "id",
    *_NAMES,
    "loanId",
    "LoanAccountId",
    "installmentNumber",
    "dueDate",
    "totalDue",
    "LoanOutstanding",
    "LoanAmount",
    "officename",
    "GroupName",
    *_NAME_ALIASES,
    "loanAccountId",
    "paymentDueDate",
    "loanOutstanding",
    "loanAmount",
    "officeName",
    "groupName",
)
_INSTALMENT_DUE = (*_INSTALMENT, "daysUntilDue")
_INSTALMENT_OVERDUE = (*_INSTALMENT, "daysOverdue", "totalOverdue")
# A loan account's event, as 180 names the loan.
_LOAN_ACCOUNT = (
    "id",
    *_NAMES,
    "GroupName",
    "officename",
    "loanId",
    "accountnumber",
    "LoanAmount",
    *_NAME_ALIASES,
    "groupName",
    "officeName",
    "loanAccountId",
    "loanAmount",
)
# loanDisbursed as 168-178 name the disbursed principal.
_DISBURSAL = (
    *_LOAN_ACCOUNT,
    "disbursedAmount",
    "disbursementDate",
    "firstDueDate",
    "firstInstalmentAmount",
    "loanDisbursed",
)
# totalFullyPaid as 177 names what the client repaid in all.
_CLOSURE = (*_LOAN_ACCOUNT, "closedOnDate", "totalFullyPaid")
_INSTALMENT_KEY = ("loanId", "installmentNumber")

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
        event_key=("loanTransactionId",),
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
        event_key=("loanId",),
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
        event_key=("loanId",),
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
        event_key=("clientId",),
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
        event_key=("clientId",),
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
        event_key=("savingsId",),
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
        event_key=("savingsId",),
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
        event_key=("savingsTransactionId",),
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
        event_key=("savingsTransactionId",),
    ),
    BusinessRule(
        1001,
        "Loan Repayment Due",
        True,
        None,
        "An instalment falling due soon (Fineract's repayment due event, N days before the due date), if it is"
        " still unpaid: its borrower, or every active member for a group loan.",
        _LOAN_PARAMS,
        _INSTALMENT_DUE,
        "loan_repayment_due",
        _ONCE,
        "1001_loan_repayment_due.sql",
        ("daysUntilDue",),
        events=(("LOAN", "REPAYMENT_DUE"),),
        event_key=_INSTALMENT_KEY,
        fans_out=True,
    ),
    BusinessRule(
        1002,
        "Loan Repayment Overdue",
        True,
        None,
        "An instalment overdue (Fineract's repayment overdue event, N days after the due date), if it is still"
        " unpaid: its borrower, or every active member for a group loan.",
        _LOAN_PARAMS,
        _INSTALMENT_OVERDUE,
        "loan_repayment_overdue",
        _ONCE,
        "1002_loan_repayment_overdue.sql",
        ("daysOverdue",),
        events=(("LOAN", "REPAYMENT_OVERDUE"),),
        event_key=_INSTALMENT_KEY,
        fans_out=True,
    ),
    BusinessRule(
        1003,
        "Loan Disbursed",
        True,
        None,
        "A loan disbursed: its borrower, or every active member for a group loan.",
        _LOAN_PARAMS,
        _DISBURSAL,
        "loan_disbursement",
        _ONCE,
        "1003_loan_disbursed.sql",
        events=(("LOAN", "DISBURSE"), ("LOAN", "DISBURSETOSAVINGS")),
        event_key=("loanId",),
        fans_out=True,
    ),
    BusinessRule(
        1004,
        "Loan Closed",
        True,
        None,
        "A loan closed fully repaid (obligations met): its borrower, or every active member for a group loan.",
        _LOAN_PARAMS,
        _CLOSURE,
        "loan_closure",
        _ONCE,
        "1004_loan_closed.sql",
        events=(("LOAN", "CLOSE"),),
        event_key=("loanId",),
        fans_out=True,
    ),
    BusinessRule(
        1005,
        "Client Created",
        True,
        "Client",
        "A client entered in Fineract (pending or active).",
        _CLIENT_PARAMS,
        _CLIENT,
        "client_creation",
        _ONCE,
        "1005_client_created.sql",
        ("officeName",),
        events=(("CLIENT", "CREATE"),),
        event_key=("clientId",),
    ),
)
