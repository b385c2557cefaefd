-- 173 Loan payments due (Overdue Loans)
-- Selects: as 170 (unpaid instalments due between toY and fromX days ago inclusive, on active
--   loans of active clients in the chosen office's subtree, officer filter on
--   m_loan.loan_officer_id), restricted to loans with an m_loan_arrears_aging row whose
--   overdue_since_date_derived lies between overdueY and overdueX days ago inclusive
--   (BETWEEN overdueStart AND overdueEnd; overdueStart = today - overdueY, overdueEnd =
--   today - overdueX). Pure group loans (client_id NULL) are not reached (D22 kept).
-- Grain: one row per instalment.
-- Dedup fact: the instalment (h_fact = m_loan_repayment_schedule.id), once ever.
-- Fixes: (see docs/fineract-differences.md) D9 (totalDue subtracts what was paid), D10 (one
--   instalment per row; paymentDueDate is that instalment's due date, not the arrears date; scalar
--   subqueries for guarantors and group), paid instalments excluded, D21 (business date), D4, D23.
-- totalDue: the instalment's scheduled - completed - written off - waived (NULL read as 0);
-- totalOverdue: the loan's arrears total. Booleans are compared with bound :false/:true.
SELECT
    c.id AS id,
    c.firstname AS firstName,
    c.middlename AS middleName,
    c.lastname AS lastName,
    c.display_name AS fullName,
    c.mobile_no AS mobileNo,
    l.principal_amount AS loanAmount,
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
    c.office_id AS officeNumber,
    l.account_no AS loanAccountId,
    (SELECT MIN(gu.lastname) FROM m_guarantor gu
        WHERE gu.loan_id = l.id AND gu.is_active = :true) AS guarantorLastName,
    (SELECT COUNT(*) FROM m_guarantor gu
        WHERE gu.loan_id = l.id AND gu.is_active = :true) AS numberOfGuarantors,
    COALESCE(
        (SELECT g.display_name FROM m_group g WHERE g.id = l.group_id),
        (SELECT MIN(g.display_name) FROM m_group_client gc
            JOIN m_group g ON g.id = gc.group_id
            WHERE gc.client_id = c.id)
    ) AS groupName,
    rs.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan_repayment_schedule rs
JOIN m_loan l ON l.id = rs.loan_id
JOIN m_loan_arrears_aging la ON la.loan_id = l.id
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
WHERE rs.completed_derived = :false
    AND rs.duedate BETWEEN :windowStart AND :windowEnd
    AND la.overdue_since_date_derived BETWEEN :overdueStart AND :overdueEnd
    AND l.loan_status_id = 300
    AND c.status_enum = 300
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
