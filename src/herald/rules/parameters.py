"""The rule parameters and variables that Direct, Scheduled and Triggered rules share, under Fineract's names."""

from __future__ import annotations

from herald.domain.business_rule import ParamKind, RuleParameter

MAX_DAYS = 36_600  # a century: beyond it a window is a typo, and date arithmetic would overflow

OFFICE = RuleParameter(
    "officeId",
    "Office",
    ParamKind.OFFICE,
    None,
    "The office whose clients are targeted, with all its sub-offices; the head office covers everyone.",
)
OFFICE_OR_ALL = RuleParameter(
    "officeId",
    "Office",
    ParamKind.OFFICE,
    -1,
    "The office whose clients are messaged, with all its sub-offices; -1 for every office.",
    allows_all=True,
)
LOAN_TYPE = RuleParameter(
    "loanType",
    "Loan Type",
    ParamKind.LOAN_TYPE,
    -1,
    "Only loans of this type: 1 individual, 2 group, 3 JLG, 4 GLIM; -1 for every type.",
)
LOAN_OFFICER = RuleParameter(
    "loanOfficerId",
    "Loan Officer",
    ParamKind.LOAN_OFFICER,
    -1,
    "Staff id of the officer; -1 for every officer, -10 for clients or loans without an officer.",
)


def _days(name: str, label: str, description: str) -> RuleParameter:
    return RuleParameter(name, label, ParamKind.DAYS, None, description)


FROM_X = _days("fromX", "From X Number", "Fewest days since the date (inclusive); negative = in the future.")
TO_Y = _days("toY", "To Y Number", "Most days since the date (inclusive); negative = in the future.")
CYCLE_X = _days("cycleX", "Cycle X Number", "Fewest days since disbursement (inclusive).")
CYCLE_Y = _days("cycleY", "Cycle Y Number", "Most days since disbursement (inclusive).")
OVERDUE_X = _days("overdueX", "Overdue X Number", "Fewest days in arrears (inclusive).")
OVERDUE_Y = _days("overdueY", "Overdue Y Number", "Most days in arrears (inclusive).")

# The client's number is deliberately not a variable: a message body is read by viewers, and a full
# number reaches only admins. The SQL still returns it as `mobileNo`, for the send path alone.
SIX = ("id", "firstName", "middleName", "lastName", "fullName")
