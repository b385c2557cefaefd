-- 178 Loan outstanding after final instalment date
-- Selects: active loans (status 300) with a balance (total_outstanding_derived > 0) of clients in
--   the chosen office's subtree whose expected_maturedon_date (the final instalment date) is
--   before today and between toY and fromX days ago inclusive (BETWEEN windowStart AND
--   windowEnd). Officer filter on m_loan.loan_officer_id (-1 all, -10 none, else that id).
--   Pure group loans (client_id NULL) are not reached (D22 kept).
-- Grain: one row per loan.
-- Dedup fact: the loan (h_fact = m_loan.id), once per campaign occurrence: a recurring campaign
--   keeps reminding while the balance stays unpaid.
-- Fixes: (see docs/fineract-differences.md) D20 (requires an outstanding balance), D9 (totalDue =
--   what is still owed on the unpaid instalments, not the sum of everything ever scheduled), D10
--   (paymentDueDate is the final instalment's due date, not an arbitrary one; scalar subqueries, no
--   fan-out), D21, D4, D23.
-- groupName = the loan's own group (m_loan.group_id), as in Fineract: empty for an individual loan,
--   even when its borrower belongs to a group (a JLG loan names its group).
-- totalOverdue = the arrears total, 0 without an arrears row. Booleans compared with bound :false.
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
    (SELECT MAX(rs.duedate) FROM m_loan_repayment_schedule rs
        WHERE rs.loan_id = l.id) AS paymentDueDate,
    (SELECT COALESCE(SUM(
            COALESCE(rs.principal_amount, 0) - COALESCE(rs.principal_completed_derived, 0)
            - COALESCE(rs.principal_writtenoff_derived, 0)
            + COALESCE(rs.interest_amount, 0) - COALESCE(rs.interest_completed_derived, 0)
            - COALESCE(rs.interest_writtenoff_derived, 0) - COALESCE(rs.interest_waived_derived, 0)
            + COALESCE(rs.fee_charges_amount, 0) - COALESCE(rs.fee_charges_completed_derived, 0)
            - COALESCE(rs.fee_charges_writtenoff_derived, 0)
            - COALESCE(rs.fee_charges_waived_derived, 0)
            + COALESCE(rs.penalty_charges_amount, 0) - COALESCE(rs.penalty_charges_completed_derived, 0)
            - COALESCE(rs.penalty_charges_writtenoff_derived, 0)
            - COALESCE(rs.penalty_charges_waived_derived, 0)), 0)
        FROM m_loan_repayment_schedule rs
        WHERE rs.loan_id = l.id AND rs.completed_derived = :false) AS totalDue,
    COALESCE(la.total_overdue_derived, 0) AS totalOverdue,
    l.account_no AS loanAccountId,
    (SELECT MIN(gu.lastname) FROM m_guarantor gu
        WHERE gu.loan_id = l.id AND gu.is_active = :true) AS guarantorLastName,
    (SELECT COUNT(*) FROM m_guarantor gu
        WHERE gu.loan_id = l.id AND gu.is_active = :true) AS numberOfGuarantors,
    (SELECT g.display_name FROM m_group g WHERE g.id = l.group_id) AS groupName,
    l.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan l
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
LEFT JOIN m_loan_arrears_aging la ON la.loan_id = l.id
WHERE l.loan_status_id = 300
    AND l.total_outstanding_derived > 0
    AND l.expected_maturedon_date BETWEEN :windowStart AND :windowEnd
    AND l.expected_maturedon_date < :today
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
