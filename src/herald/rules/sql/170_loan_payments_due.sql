-- 170 Loan payments due
-- Selects: unpaid instalments (completed_derived false) whose due date lies between toY and fromX
--   days ago inclusive (duedate BETWEEN windowStart AND windowEnd; windowStart = today - toY,
--   windowEnd = today - fromX; "due in 1 to 3 days" is fromX = -3, toY = -1), on active loans
--   (status 300) of active clients (status 300) in the chosen office's subtree, with or without
--   an arrears row. Officer filter on m_loan.loan_officer_id (-1 all, -10 none, else that id).
--   Pure group loans (client_id NULL) are not reached (D22 kept: the fact is per borrower).
-- Grain: one row per instalment.
-- Dedup fact: the instalment (h_fact = m_loan_repayment_schedule.id), once ever: a daily
--   "due in 1 to 3 days" campaign reminds each instalment once.
-- Fixes: (see docs/fineract-differences.md) D7 (office subtree, not only the exact office), D8 (no
--   arrears row required; paid instalments, inactive loans and inactive clients excluded), D9
--   (totalDue subtracts what was paid), D10 (one instalment per row, scalar subqueries for
--   guarantors and group), D21 (business date), D4, D23.
-- paymentDueDate = this instalment's due date; totalDue = what is still owed on it: for principal,
--   interest, fees and penalties, scheduled - completed - written off - waived (no principal
--   waiver column), NULL read as 0; totalOverdue = the loan's arrears total, 0 without a row.
-- groupName = the loan's own group (m_loan.group_id), as in Fineract: empty for an individual loan,
--   even when its borrower belongs to a group (a JLG loan names its group).
-- Booleans are compared with the bound :false/:true, which PostgreSQL boolean, MySQL BIT(1) or
--   TINYINT(1) and SQLite integers all accept (literals TRUE/FALSE or 0/1 each fail somewhere).
SELECT
    c.id AS id,
    c.firstname AS firstName,
    c.middlename AS middleName,
    c.lastname AS lastName,
    c.display_name AS fullName,
    c.mobile_no AS mobileNo,
    l.principal_amount AS loanAmount,
    c.office_id AS officeNumber,
    COALESCE(l.principal_outstanding_derived, 0) + COALESCE(l.interest_outstanding_derived, 0)
        + COALESCE(l.fee_charges_outstanding_derived, 0)
        + COALESCE(l.penalty_charges_outstanding_derived, 0) AS loanOutstanding,
    l.principal_disbursed_derived AS loanDisbursed,
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
    COALESCE(la.total_overdue_derived, 0) AS totalOverdue,
    l.account_no AS loanAccountId,
    (SELECT MIN(gu.lastname) FROM m_guarantor gu
        WHERE gu.loan_id = l.id AND gu.is_active = :true) AS guarantorLastName,
    (SELECT COUNT(*) FROM m_guarantor gu
        WHERE gu.loan_id = l.id AND gu.is_active = :true) AS numberOfGuarantors,
    (SELECT g.display_name FROM m_group g WHERE g.id = l.group_id) AS groupName,
    rs.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan_repayment_schedule rs
JOIN m_loan l ON l.id = rs.loan_id
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
LEFT JOIN m_loan_arrears_aging la ON la.loan_id = l.id
WHERE rs.completed_derived = :false
    AND rs.duedate BETWEEN :windowStart AND :windowEnd
    AND l.loan_status_id = 300
    AND c.status_enum = 300
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
