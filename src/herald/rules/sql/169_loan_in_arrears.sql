-- 169 Loan in arrears
-- Selects: active loans (status 300) of clients in the chosen office's subtree that have an
--   m_loan_arrears_aging row whose overdue_since_date_derived lies between toY and fromX days ago
--   inclusive (BETWEEN windowStart AND windowEnd; windowStart = today - toY, windowEnd =
--   today - fromX). Officer filter on m_loan.loan_officer_id (-1 all, -10 none, else that id).
--   Pure group loans (client_id NULL) are not reached (D22 kept: the loan fact is per borrower).
-- Grain: one row per loan (the arrears row is 0 or 1 per loan, so the join does not fan out).
-- Dedup fact: the loan (h_fact = m_loan.id), once per campaign occurrence.
-- Fixes: (see docs/fineract-differences.md) D10 (scalar subqueries for guarantors and group), D21
--   (business date), D4, D23. No dependency on r_enum_value.
-- paymentDueDate = overdue_since_date_derived (due date of the oldest unpaid instalment);
-- totalDue = total_overdue_derived (NULL read as 0).
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
    la.overdue_since_date_derived AS paymentDueDate,
    COALESCE(la.total_overdue_derived, 0) AS totalDue,
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
    l.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan l
JOIN m_loan_arrears_aging la ON la.loan_id = l.id
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
WHERE l.loan_status_id = 300
    AND la.overdue_since_date_derived BETWEEN :windowStart AND :windowEnd
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
