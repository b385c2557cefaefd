-- 175 Loan payments received (Overdue Loans)
-- Selects: as 174 (money-received transactions of types 2, 5, 8, 28, not reversed, dated between
--   toY and fromX days ago inclusive, on active loans of clients in the chosen office's subtree,
--   officer filter on m_loan.loan_officer_id), on loans that HAVE an arrears row whose
--   overdue_since_date_derived lies between overdueY and overdueX days ago inclusive
--   (BETWEEN overdueStart AND overdueEnd). Pure group loans are not reached (D22 kept).
-- Grain: one row per transaction (the arrears row is 0 or 1 per loan: no fan-out).
-- Dedup fact: the loan transaction (h_fact = m_loan_transaction.id), once ever.
-- Fixes: (see docs/fineract-differences.md) D10 (repaymentAmount is this transaction's amount), D18
--   (all money-received types), D21 (business date), D4, D23; no dependency on the creating user
--   (D1).
-- loanAccountNumber keeps Fineract's name; loanAccountId, loanId and repaymentDate are offered
--   for consistency. Booleans compared with bound :false.
SELECT
    c.id AS id,
    c.firstname AS firstName,
    c.middlename AS middleName,
    c.lastname AS lastName,
    c.display_name AS fullName,
    c.mobile_no AS mobileNo,
    l.id AS loanId,
    l.principal_amount AS loanAmount,
    COALESCE(l.principal_outstanding_derived, 0) + COALESCE(l.interest_outstanding_derived, 0)
        + COALESCE(l.fee_charges_outstanding_derived, 0)
        + COALESCE(l.penalty_charges_outstanding_derived, 0) AS loanOutstanding,
    c.office_id AS officeNumber,
    l.account_no AS loanAccountNumber,
    l.account_no AS loanAccountId,
    t.amount AS repaymentAmount,
    t.transaction_date AS repaymentDate,
    t.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan_transaction t
JOIN m_loan l ON l.id = t.loan_id
JOIN m_loan_arrears_aging la ON la.loan_id = l.id
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
WHERE t.is_reversed = :false
    AND t.transaction_type_enum IN (2, 5, 8, 28)
    AND t.transaction_date BETWEEN :windowStart AND :windowEnd
    AND la.overdue_since_date_derived BETWEEN :overdueStart AND :overdueEnd
    AND l.loan_status_id = 300
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
