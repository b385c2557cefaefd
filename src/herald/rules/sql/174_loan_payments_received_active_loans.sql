-- 174 Loan payments received (Active Loans)
-- Selects: money received from the client (transaction types 2 REPAYMENT, 5
--   REPAYMENT_AT_DISBURSEMENT, 8 RECOVERY_REPAYMENT, 28 DOWN_PAYMENT), not reversed, with a
--   transaction_date between toY and fromX days ago inclusive (BETWEEN windowStart AND windowEnd;
--   fromX = 0 includes today), on active loans (status 300) that have NO arrears row ("on time"),
--   of clients in the chosen office's subtree. Officer filter on m_loan.loan_officer_id (-1 all,
--   -10 none, else that id). Pure group loans (client_id NULL) are not reached (D22 kept).
-- Grain: one row per transaction.
-- Dedup fact: the loan transaction (h_fact = m_loan_transaction.id), once ever: overlapping
--   windows and re-runs thank each payment once.
-- Fixes: (see docs/fineract-differences.md) D1 (no join on the creating user, so no dependency on
--   createdby_id / created_by), D2 (the window is bound, no stray digit), D10 (repaymentAmount is
--   this transaction's amount, not a sum over a fan-out), D18 (all money-received types), D21
--   (business date), D4, D23.
-- loanAccountNumber keeps Fineract's name; loanAccountId (same value) and loanId, repaymentDate
--   are offered for consistency with the other loan rules. Booleans compared with bound :false.
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
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
WHERE t.is_reversed = :false
    AND t.transaction_type_enum IN (2, 5, 8, 28)
    AND t.transaction_date BETWEEN :windowStart AND :windowEnd
    AND l.loan_status_id = 300
    AND NOT EXISTS (SELECT 1 FROM m_loan_arrears_aging la WHERE la.loan_id = l.id)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
