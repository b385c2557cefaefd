-- 1001 Loan Repayment Due
-- herald's own rule: Fineract has no SMS rule for this event.
-- Selects: the recipients of ONE repayment due event (LoanRepaymentDueBusinessEvent, raised by
--   Fineract's close of business N days before an instalment's due date): instalment number
--   :installmentNumber of the loan :loanId, while that instalment is still unpaid
--   (completed_derived false: an instalment paid by the time herald runs the rule sends nothing,
--   as Fineract raises the event only for an instalment with an amount outstanding) and the loan
--   is active (300, disbursed). Recipients: the loan's client when m_loan.client_id is set
--   (individual, JLG and GLIM loans: the borrower only), else every ACTIVE member of the loan's
--   group (pure group loans). Filters: the recipient's office in the subtree of :officePrefix
--   ('.%' when officeId = -1, all offices); m_loan.loan_officer_id (-1 all, -10 none, else that
--   id); m_loan.loan_type_enum = :loanType (-1 all); :clientId and :groupId narrow when the event
--   gives them (-1 = not given).
-- Grain: one row per recipient client of the instalment.
-- Dedup fact: the instalment, fact id "<loanId>/<installmentNumber>" (h_fact is the schedule
--   row's id, unused), once ever; the runner adds the client id because a group loan reaches
--   several members. The overdue event of the same instalment is another fact (1002).
-- Fixes: none, there being no Fineract rule to fix (see docs/fineract-differences.md#D35); built
--   as 180 is: one LIKE on the recipient's office (never a join along the office path), the loan's
--   own officer ("no officer" selectable), a JLG loan reaching its borrower only.
-- Variables: 179's spellings for the client and the loan (LoanAccountId = account_no, LoanAmount =
--   principal_amount, LoanOutstanding = the loan's four outstanding parts); dueDate and its 170
--   spelling paymentDueDate = the instalment's due date; totalDue = what is still owed on this
--   instalment (scheduled - completed - written off - waived, four parts, NULL read as 0, as 170);
--   officename = the recipient's office name without hierarchy dots (D34); GroupName = the loan's
--   group (NULL for individual loans); daysUntilDue is derived by the runner from dueDate and the
--   business date.
SELECT
    c.id AS id,
    c.firstname AS firstname,
    c.middlename AS middlename,
    c.lastname AS lastname,
    c.display_name AS FullName,
    c.mobile_no AS mobileNo,
    l.id AS loanId,
    l.account_no AS LoanAccountId,
    rs.installment AS installmentNumber,
    rs.duedate AS dueDate,
    rs.duedate AS paymentDueDate,
    COALESCE(rs.principal_amount, 0) - COALESCE(rs.principal_completed_derived, 0)
        - COALESCE(rs.principal_writtenoff_derived, 0)
        + COALESCE(rs.interest_amount, 0) - COALESCE(rs.interest_completed_derived, 0)
        - COALESCE(rs.interest_writtenoff_derived, 0) - COALESCE(rs.interest_waived_derived, 0)
        + COALESCE(rs.fee_charges_amount, 0) - COALESCE(rs.fee_charges_completed_derived, 0)
        - COALESCE(rs.fee_charges_writtenoff_derived, 0) - COALESCE(rs.fee_charges_waived_derived, 0)
        + COALESCE(rs.penalty_charges_amount, 0) - COALESCE(rs.penalty_charges_completed_derived, 0)
        - COALESCE(rs.penalty_charges_writtenoff_derived, 0)
        - COALESCE(rs.penalty_charges_waived_derived, 0) AS totalDue,
    COALESCE(l.principal_outstanding_derived, 0) + COALESCE(l.interest_outstanding_derived, 0)
        + COALESCE(l.fee_charges_outstanding_derived, 0)
        + COALESCE(l.penalty_charges_outstanding_derived, 0) AS LoanOutstanding,
    l.principal_amount AS LoanAmount,
    o.name AS officename,
    g.display_name AS GroupName,
    rs.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan_repayment_schedule rs
JOIN m_loan l ON l.id = rs.loan_id
LEFT JOIN m_group_client gc ON l.client_id IS NULL AND gc.group_id = l.group_id
JOIN m_client c ON c.id = COALESCE(l.client_id, gc.client_id)
JOIN m_office o ON o.id = c.office_id
LEFT JOIN m_group g ON g.id = l.group_id
WHERE rs.loan_id = :loanId
    AND rs.installment = :installmentNumber
    AND rs.completed_derived = :false
    AND l.loan_status_id = 300
    AND (l.client_id IS NOT NULL OR c.status_enum = 300)
    AND (:clientId = -1 OR c.id = :clientId)
    AND (:groupId = -1 OR l.group_id = :groupId)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
    AND (:loanType = -1 OR l.loan_type_enum = :loanType)
