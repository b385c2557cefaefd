-- 1002 Loan Repayment Overdue
-- herald's own rule: Fineract has no SMS rule for this event.
-- Selects: the recipients of ONE repayment overdue event (LoanRepaymentOverdueBusinessEvent,
--   raised by Fineract's close of business N days after an instalment's due date): instalment
--   number :installmentNumber of the loan :loanId, while that instalment is still unpaid
--   (completed_derived false: paid by the time herald runs the rule, nothing is sent) and the
--   loan is active (300). Recipients and filters as 1001: the loan's client when
--   m_loan.client_id is set (individual, JLG and GLIM loans: the borrower only), else every
--   ACTIVE member of the loan's group; the recipient's office in the subtree of :officePrefix
--   ('.%' when officeId = -1); m_loan.loan_officer_id (-1 all, -10 none, else that id);
--   m_loan.loan_type_enum = :loanType (-1 all); :clientId and :groupId narrow when given.
-- Grain: one row per recipient client of the instalment.
-- Dedup fact: the instalment, fact id "<loanId>/<installmentNumber>" under its own fact
--   (loan_repayment_overdue), once ever: the due reminder (1001) and the overdue notice of one
--   instalment are two messages. The runner adds the client id (group loans).
-- Fixes: none, there being no Fineract rule to fix (see docs/fineract-differences.md#D35); built
--   as 180 is: one LIKE on the recipient's office (never a join along the office path), the loan's
--   own officer ("no officer" selectable), a JLG loan reaching its borrower only.
-- Variables: as 1001, plus totalOverdue = what is still owed on every unpaid instalment of the
--   loan due before the business date (:today), read from the schedule rather than
--   m_loan_arrears_aging, which lags until Fineract's arrears job has run; daysOverdue is derived
--   by the runner from dueDate and the business date.
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
    COALESCE((SELECT SUM(
            COALESCE(od.principal_amount, 0) - COALESCE(od.principal_completed_derived, 0)
            - COALESCE(od.principal_writtenoff_derived, 0)
            + COALESCE(od.interest_amount, 0) - COALESCE(od.interest_completed_derived, 0)
            - COALESCE(od.interest_writtenoff_derived, 0) - COALESCE(od.interest_waived_derived, 0)
            + COALESCE(od.fee_charges_amount, 0) - COALESCE(od.fee_charges_completed_derived, 0)
            - COALESCE(od.fee_charges_writtenoff_derived, 0) - COALESCE(od.fee_charges_waived_derived, 0)
            + COALESCE(od.penalty_charges_amount, 0) - COALESCE(od.penalty_charges_completed_derived, 0)
            - COALESCE(od.penalty_charges_writtenoff_derived, 0)
            - COALESCE(od.penalty_charges_waived_derived, 0))
        FROM m_loan_repayment_schedule od
        WHERE od.loan_id = l.id AND od.completed_derived = :false AND od.duedate < :today), 0) AS totalOverdue,
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
