"""Every way herald's business rules knowingly differ from the reports Fineract ships, as data.

This is the one source of truth: docs/fineract-differences.md is rendered from it (a test keeps the
page equal to `herald.rules.differences_page.page()`), `herald rules show` prints the entries that
apply to a rule, and comments in the rule SQL and the runner cite the ids ("see
docs/fineract-differences.md#D4"). Ids are stable: D1-D23 are the defects of Fineract's shipped
rules as the Fineract reference numbers them, D24 on are herald's own deliberate choices. Never
renumber; retire an entry by saying so in its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PAGE = "docs/fineract-differences.md"


class Stance(Enum):
    """What herald does about a difference."""

    FIXED = "Fineract defect, fixed"
    KEPT = "Fineract behaviour, kept on purpose"
    CHANGED = "herald's choice"
    NOT_APPLICABLE = "does not apply to herald"


@dataclass(frozen=True)
class Difference:
    """One difference: what Fineract does, what herald does instead, and why."""

    id: str
    title: str
    rules: tuple[int, ...]
    stance: Stance
    fineract: str
    herald: str
    why: str

    @property
    def anchor(self) -> str:
        """The link to this entry on the page, e.g. docs/fineract-differences.md#D4."""
        return f"{PAGE}#{self.id}"


def _span(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


NON_TRIGGERED = _span(166, 178)
# The rules whose stored SQL Fineract runs on the campaign path (179, 186 and 187 it builds in Java).
SQL_RUN = (*NON_TRIGGERED, *_span(180, 185))
# herald's own triggered rules, for events Fineract has no SMS rule for (D35).
HERALD_OWN = _span(1001, 1005)
EVERY_RULE = (*_span(166, 187), *HERALD_OWN)
LOAN_RULES = (168, 169, 170, 173, 174, 175, 177, 178)

_F, _K, _C, _N = Stance.FIXED, Stance.KEPT, Stance.CHANGED, Stance.NOT_APPLICABLE

DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "D1", "Payments received depended on a renamed column", (174, 175), _F,
        "The MySQL/MariaDB variant of 174 joins the user who entered the transaction through `createdby_id`, a"
        " column Fineract renamed to `created_by`: on a current schema the rule fails with \"unknown column\"."
        " 175 and the PostgreSQL variants use the new name but still require that user's row.",
        "No join on the user who entered the payment.",
        "Who typed the repayment in has nothing to do with whether the client is thanked for it.",
    ),
    Difference(
        "D2", "A stray digit in the PostgreSQL window", (174,), _F,
        "The PostgreSQL variant of 174 has a `9` glued in front of the `fromX` placeholder: `fromX` = 1 becomes 91.",
        "The window bounds are bind parameters computed from `fromX` and `toY`.",
        "The window the officer typed is the window that runs.",
    ),
    Difference(
        "D3", "E-mail rules broken on PostgreSQL", (), _N,
        "The PostgreSQL e-mail rules 190-192 contain backslash-escaped quotes, invalid under standard-conforming"
        " strings.",
        "herald has no e-mail rules; listed so that the numbering of the shipped rules' defects stays complete.",
        "herald sends SMS only.",
    ),
    Difference(
        "D4", "On PostgreSQL, Fineract's shipped rules send nothing", SQL_RUN, _F,
        "The rules' column aliases are unquoted, so PostgreSQL returns them lower-cased (`mobileno`, `firstname`,"
        " `officename`; checked on PostgreSQL 15). Fineract's campaign code reads each row's number as"
        " `mobileNo`, finds nothing, and drops every row without a number: on PostgreSQL every Direct and"
        " Scheduled campaign and every Triggered campaign whose rule Fineract runs as SQL (180-185) creates no"
        " message at all. Mustache names are case-sensitive too, so `{{firstName}}` would render empty."
        " MySQL/MariaDB keep the aliases' case.",
        "The runner matches the SQL's column names case-insensitively and gives templates the documented"
        " names (`firstName`, `loanOutstanding` ...) on PostgreSQL, MySQL/MariaDB and SQLite alike.",
        "The same campaign must reach the same clients whatever database Fineract runs on.",
    ),
    Difference(
        "D5", "Dormant Prospects counted the month component", (171,), _F,
        "The PostgreSQL variant uses the month component (0-11) of the age since activation: a client activated"
        " 13 months ago counts as 1 month.",
        "Whole months since activation, on every engine; `dormant` is that number.",
        "\"More than 3 months\" means months, not the remainder of a year.",
    ),
    Difference(
        "D6", "Happy Birthday does not run on PostgreSQL", (176,), _F,
        "The PostgreSQL variant computes `age` with `EXTRACT(DAY FROM (CURRENT_DATE - date_of_birth))`, but a"
        " date minus a date is an integer in PostgreSQL, so the statement fails (\"function"
        " pg_catalog.extract(unknown, integer) does not exist\", checked on PostgreSQL 15) and no client is ever"
        " greeted. Were it to run, it compares birth date and today truncated to the day and the month, year"
        " included, so only clients born today would match; and its officer filter is hard-coded, so"
        " `loanOfficerId` is ignored.",
        "Compares month and day only, honours `loanOfficerId`, and runs the same on every engine.",
        "A birthday rule that errors or greets newborns only is no rule.",
    ),
    Difference(
        "D7", "Loan payments due ignored sub-offices", (170,), _F,
        "170 covers only clients of exactly the chosen office (its subtree clause is always true).",
        "The chosen office and all its sub-offices, as in every other rule.",
        "The parameter means the same in every rule: an office and everything under it.",
    ),
    Difference(
        "D8", "Loan payments due only reached loans already in arrears", (170,), _F,
        "170 requires an arrears row, so a loan that is up to date never gets a \"payment due\" reminder; paid"
        " instalments still match, and neither the loan's nor the client's status is checked.",
        "Unpaid instalments of active loans of active clients, with or without arrears.",
        "A reminder is for the clients who are about to pay, most of whom are not late.",
    ),
    Difference(
        "D9", "totalDue ignored what was paid", (170, 173, 178), _F,
        "`totalDue` subtracts written-off and waived parts but not what was paid; 178 sums every instalment"
        " of the loan.",
        "`totalDue` is what is still owed: scheduled minus paid, written off and waived, for principal, interest,"
        " fees and penalties (178: over the unpaid instalments).",
        "A client told to pay what they already paid calls the branch, or pays twice.",
    ),
    Difference(
        "D10", "Sums and picks over a join fan-out", LOAN_RULES, _F,
        "Guarantor rows times group memberships times instalment rows multiply `repaymentAmount`, `totalDue`"
        " and `numberOfGuarantors`; `guarantorLastName`, `groupName`, `paymentDueDate` and `dueDate` come from"
        " an arbitrary row.",
        "Scalar subqueries, no fan-out: amounts are this instalment's or this transaction's, only active"
        " guarantors are counted, and every pick is deterministic (the first by name, the instalment's own due"
        " date).",
        "A message must state the client's real amount, and the same data must give the same message.",
    ),
    Difference(
        "D11", "Partial GROUP BY picked an arbitrary transaction", (179, 186, 187), _F,
        "The stored SQL of 179, 186 and 187 (and most loan rules) selects non-aggregated columns under a partial"
        " GROUP BY: MariaDB picks an arbitrary row, so the transaction-id filter can miss; MySQL 8 with"
        " ONLY_FULL_GROUP_BY rejects the query. Fineract does not run 179/186/187 for SMS (see D24).",
        "The transaction is picked by its id; no GROUP BY.",
        "The message is about the transaction the event named.",
    ),
    Difference(
        "D12", "Age over-stated after a leap day", (176,), _F,
        "`age` is the ceiling of days since birth / 365: one year too many on the birthday once a 29 February has"
        " passed; birthday and today follow the database server's clock.",
        "`age` is the age in whole years reached on this birthday, computed from the business date.",
        "A client turning 24 is not congratulated on 25.",
    ),
    Difference(
        "D13", "Loan events repeated per office level", (179, 180, 181), _F,
        "With `officeId` = -1 the row of 180/181 is repeated once per office on the path from the head office"
        " to the borrower's office, and `officename` is the selected office's name. 179's stored SQL joins the"
        " office path the same way (Fineract's Java for 179 does not run it, see D24).",
        "One row per recipient: the office filter is one prefix match on the recipient's own office, and"
        " `officename` is the recipient's office.",
        "One event, one message per client.",
    ),
    Difference(
        "D14", "Loan decisions filtered on the client's officer and named the proposed amount", (179, 180, 181), _F,
        "180/181 filter on the client's (or group's) `staff_id`, not the loan's officer, and cannot select \"no"
        " officer\" (-10); `loanamount` is the proposed principal. The Java that builds 179's values compares"
        " `loanOfficerId` with the client's staff id as well (-1 when none, so -10 matches nobody).",
        "The officer is `m_loan.loan_officer_id`, and -10 selects loans without one. 180's `loanamount` is the"
        " approved principal; 181 keeps the proposed one, since a rejected application was never approved.",
        "Loan campaigns are run by loan officers about their loans; an approval names what was approved.",
    ),
    Difference(
        "D15", "A JLG loan event reached the whole group", (179, 180, 181), _F,
        "For a loan with a `group_id` (group and JLG loans) 180/181 and 179's stored SQL take every member of"
        " the group as borrowers, not only the JLG borrower; Fineract's Java for 179 sends nothing at all for a"
        " JLG repayment (see D24).",
        "A loan with a client (individual, JLG, GLIM) reaches that client only; a pure group loan reaches the"
        " group's active members.",
        "The other members of a JLG group did not apply for this loan.",
    ),
    Difference(
        "D16", "A rejected application made a client no prospect", (167, 171), _F,
        "\"Never had a loan\" means no `m_loan` row at all: a rejected or withdrawn application disqualifies."
        " 171's description says \"entered\" more than 3 months ago but it measures from activation.",
        "Invalid, withdrawn and rejected applications do not count as a loan. 171 still measures from"
        " activation, as Fineract's SQL does.",
        "A client whose application was turned down is exactly a prospect; and a client can only borrow once"
        " activated, so activation is the date that matters.",
    ),
    Difference(
        "D17", "Group leaders had to sit in the group's office", (172,), _F,
        "The group and the client must be in the same office; the role text must be exactly `Leader`; centers"
        " are not excluded.",
        "The office scope applies to the client who gets the message; `Leader` in any case; only groups"
        " (level 2), since centers hold no clients. `groupName` (added) is the alphabetically first group the"
        " client leads.",
        "A leader transferred to another branch still leads the group.",
    ),
    Difference(
        "D18", "Only plain repayments counted as money received", (174, 175, 179), _F,
        "174/175 count transaction type 2 only: recovery repayments, down payments and repayments at"
        " disbursement are missed.",
        "Types 2 REPAYMENT, 5 REPAYMENT_AT_DISBURSEMENT, 8 RECOVERY_REPAYMENT and 28 DOWN_PAYMENT count; Fineract's"
        " LOAN/RECOVERYPAYMENT hook fires 179 as well as LOAN/REPAYMENT.",
        "The client paid; how Fineract books it does not change that.",
    ),
    Difference(
        "D19", "Loan fully repaid read the arrears table", (177,), _F,
        "`totalDue` comes from the arrears table, which has no row for a closed loan; `dueDate` is an arbitrary"
        " instalment's.",
        "`totalDue` is the loan's outstanding total (0 when repaid); `dueDate` is the last instalment's due date.",
        "The variables must hold a value, and the same one every run.",
    ),
    Difference(
        "D20", "Outstanding after final instalment did not check the balance", (178,), _F,
        "The description says \"with an outstanding balance\" but the rule only checks status 300 (active).",
        "Requires an outstanding balance as well.",
        "A client who owes nothing must not be chased.",
    ),
    Difference(
        "D21", "\"Today\" was the database server's clock", NON_TRIGGERED, _F,
        "On the campaign path \"today\" is the database server's date and time zone, not the tenant's business"
        " date.",
        "Every window is bound from the business date: `HERALD_BUSINESS_DATE` when set, else today's date.",
        "Fineract institutions that run on a business date get the messages of that date.",
    ),
    Difference(
        "D22", "Group loans are invisible to the non-triggered loan rules", LOAN_RULES, _K,
        "Loans are reached through `m_loan.client_id`, so pure group loans (no client) never appear.",
        "The same: a pure group loan is not reached by 168-178.",
        "These rules' messages are about one borrower's loan; a group loan's fact would be shared by every"
        " member. The triggered rules 179-181 do reach group members.",
    ),
    Difference(
        "D23", "Parameters were pasted into the SQL text", SQL_RUN, _F,
        "Every `${name}` is replaced by the parameter's text, with no binding and no validation on the campaign"
        " path; a missing parameter breaks the query; `officeId` = -1 matches nobody.",
        "Bind parameters only. Parameters are checked when the campaign is saved (whole numbers, known office,"
        " -1/-10 only where they mean something, windows not empty), with an error naming the parameter.",
        "A campaign that cannot run should be refused when it is created, not fail silently at 8 a.m.",
    ),
    Difference(
        "D24", "herald runs SQL where Fineract builds Loan Repayment and savings messages in Java", (179, 186, 187), _C,
        "Fineract does not run 179/186/187's SQL for SMS; its Java builds the values. Read from its source: the"
        " campaign's `loanType` is never compared; a JLG loan's repayment sends nothing (the Java accepts only"
        " individual and group loans); a group loan reaches every member of the group. The stored SQL of 179"
        " would also require the loan to be in arrears.",
        "Runs its own SQL with the ids the event gives: `loanType` is honoured, a JLG repayment reaches its"
        " borrower, a group loan its active members, and arrears are not required. 186/187 check the"
        " transaction's type, so a withdrawal's id never gives a deposit message, and skip reversals.",
        "The campaign's filters mean what they say, and one event cannot be sent under the wrong rule.",
    ),
    Difference(
        "D25", "Loan Repayment and savings values as of the transaction", (179, 186, 187), _C,
        "179's `RepaymentDate` is the day the repayment was entered, not its transaction date; it and 186/187's"
        " `transactionDate` are written `Mar:5:2024`. `LoanOutstanding` is the transaction's outstanding"
        " balance; `balance` the withdrawable balance when the message is built; `receiptNumber` the payment's"
        " receipt (-1 when none).",
        "`RepaymentDate` and `transactionDate` are the transaction date, in the campaign's date format;"
        " `RepaymentTime` is when the repayment was entered, in the institution's time zone; `LoanOutstanding`"
        " the loan's outstanding total; `balance` the running balance after this transaction; `receiptNumber`"
        " the payment's receipt (`m_payment_detail.receipt_number`), empty when none.",
        "The date the client paid is the one to name, and the balance after this transaction is the one this"
        " message is about, however late it is built; a client should never read \"receipt -1\".",
    ),
    Difference(
        "D26", "Clients without a usable number are recorded, not dropped", EVERY_RULE, _C,
        "Rows without a mobile number are skipped silently.",
        "Every row becomes a message; one without a number, or with a number that is not valid for the office's"
        " region, is Invalid with its reason and is never sent.",
        "An officer must see who was not reached and why, to fix the client's record.",
    ),
    Difference(
        "D27", "Variables are formatted for reading", EVERY_RULE, _C,
        "Mustache over raw values: dates as `d-m-yyyy`, amounts as the database returns them (`12500.000000`"
        " from a DECIMAL(19,6) column).",
        "Dates in `HERALD_DATE_FORMAT` (default `15 Mar 2023`); money in one form in every rule: the account's"
        " currency code, thousands separators and the currency's decimal places, rounded half-even (`KES 4,000.00`,"
        " `UGX 4,000`).",
        "An SMS is read by a client, not a program.",
    ),
    Difference(
        "D28", "The client's number is not a template variable", EVERY_RULE, _C,
        "`mobileNo` is a variable like any other.",
        "The number is used to send, never offered to templates.",
        "Message bodies are read by viewers, who see numbers masked; only admins see full numbers.",
    ),
    Difference(
        "D29", "officeNumber is the client's own office", (166, 167, 170, 171, 172, 176, 177, 178, 182, 183, 1005), _C,
        "These rules give the selected office's id as `officeNumber` (168, 169, 173-175 give the client's office).",
        "`officeNumber` is always the client's own office id.",
        "`officeName` and `officeNumber` then name the same office, in every rule.",
    ),
    Difference(
        "D30", "One message per instalment or per payment", (170, 173, 174, 175), _C,
        "One row per loan, aggregating the matching instalments or transactions; 173's `paymentDueDate` is the"
        " date the loan went into arrears.",
        "One row per instalment (170, 173) or per payment (174, 175), each messaged once ever; 173's"
        " `paymentDueDate` is that instalment's due date.",
        "Overlapping windows and re-runs must not remind or thank for the same thing twice.",
    ),
    Difference(
        "D31", "29 February birthdays every year", (176,), _C,
        "A 29 February birthday matches only in leap years.",
        "In other years it is greeted on 28 February.",
        "Leap-day clients have a birthday every year too.",
    ),
    Difference(
        "D32", "Overpaid loans by their overpaid date", (177,), _C,
        "Loans are matched on `closedon_date` only.",
        "An overpaid loan that carries only `overpaidon_date` matches on that date.",
        "An overpaid loan is fully repaid.",
    ),
    Difference(
        "D33", "Extra variables and spellings", (172, 174, 175, 179, 180, 181, 186, 187), _C,
        "Each rule offers its own aliases, with the triggered rules' spellings (`firstname`, `FullName`,"
        " `LoanAmount`) differing from the others'.",
        "Fineract's names all work, and herald adds: `groupName` (172); `loanId`, `loanAccountId` and"
        " `repaymentDate` (174, 175); `id` (186, 187); and the camelCase spellings of the triggered rules' names"
        " (`firstName`, `groupName`, `loanAmount` ...).",
        "Templates copied from Fineract keep working, and one spelling works in every rule.",
    ),
    Difference(
        "D34", "Office names without hierarchy dots",
        (166, 167, 171, 172, 176, 180, 181, 182, 183, 184, 185, *HERALD_OWN), _C,
        "`officeName` is indented with `..` per level below the head office (`..Nairobi`, `....Kawangware`),"
        " from `m_office.hierarchy`.",
        "`officeName` is the office's name as stored, without leading dots (some installs keep dots in the"
        " name itself).",
        'A client reads "Dear Amina of Nairobi", not "of ..Nairobi".',
    ),
    Difference(
        "D35", "Rules for events Fineract's SMS campaigns cannot use", HERALD_OWN, _C,
        "No SMS rule exists for an instalment falling due or overdue (Fineract raises these only as external"
        " events, `LoanRepaymentDueBusinessEvent` / `LoanRepaymentOverdueBusinessEvent`, never as hooks), a loan"
        " disbursed, a loan closed fully repaid, or a client created: its campaigns cannot send on them.",
        "Five triggered rules of herald's own: 1001 Loan Repayment Due, 1002 Loan Repayment Overdue, 1003 Loan"
        " Disbursed, 1004 Loan Closed, 1005 Client Created, fired by the external events and, for 1003 and"
        " 1005, by the hooks LOAN/DISBURSE and CLIENT/CREATE too. They are numbered from 1001, not 188, because"
        " Fineract's own reports take the ids after 187 (its e-mail rules 190-192 and more) and a campaign's"
        " `runReportId` must name one rule only. Each message is sent once: per instalment for 1001 and 1002"
        " (the due reminder and the overdue notice of one instalment are two messages), per loan for 1003 and"
        " 1004, per client for 1005. An instalment paid, a disbursal undone or a loan no longer closed (status"
        " 600) by the time herald runs the rule sends nothing.",
        "The reminders institutions ask for most exist in Fineract only as events; an SMS about a debt already"
        " paid, or a loan that is not closed, is worse than none.",
    ),
)


def get_difference(difference_id: str) -> Difference:
    """The entry with this id (D4); KeyError when there is none."""
    for d in DIFFERENCES:
        if d.id == difference_id.upper():
            return d
    raise KeyError(difference_id)


def differences_for(rule_id: int) -> tuple[Difference, ...]:
    """The differences that apply to one rule, in id order."""
    return tuple(d for d in DIFFERENCES if rule_id in d.rules)
