-- 179 Loan Repayment
-- Selects: the recipients of ONE repayment: the non-reversed loan transaction with id
--   :loanTransactionId (and on loan :loanId when the event gives it), of a money-received type
--   (2 REPAYMENT, 5 REPAYMENT_AT_DISBURSEMENT, 8 RECOVERY_REPAYMENT, 28 DOWN_PAYMENT). Recipients:
--   the loan's client when m_loan.client_id is set (individual, JLG and GLIM loans: the borrower
--   only), else every ACTIVE member of the loan's group (pure group loans). No loan-status filter:
--   a repayment that closes the loan is still acknowledged. Filters: the recipient's office in the
--   subtree of :officePrefix ('.%' when officeId = -1, all offices); m_loan.loan_officer_id
--   (-1 all, -10 none, else that id); m_loan.loan_type_enum = :loanType (-1 all); :clientId and
--   :groupId narrow when the event gives them (-1 = not given).
-- Grain: one row per recipient client of the transaction.
-- Dedup fact: the loan transaction (h_fact = m_loan_transaction.id), once ever; the runner adds
--   the client id to the fact id because a group repayment reaches several members.
-- Fixes: (see docs/fineract-differences.md) D11 (the transaction is picked by its id, no partial
--   GROUP BY), D13 (the office filter is one LIKE on the recipient's office, never a join along
--   the office path), D15 (a JLG loan reaches its borrower only), D14 (the loan's officer, "no
--   officer" selectable), D18 (every money-received type). Differs on purpose: D24 (Fineract
--   builds this message in Java and never runs its stored SQL; herald runs this one: loanType
--   honoured, the loan need not be in arrears as the stored SQL required), D25 (values as of
--   this transaction).
-- Variables keep Fineract's aliases (values: docs/fineract-differences.md#D25). LoanAmount =
--   principal_amount; LoanOutstanding = the four outstanding parts after the repayment; officeId =
--   the recipient's office; GroupName = the loan's group (NULL for individual loans); RepaymentDate
--   = transaction_date; RepaymentTime is derived by the runner from h_time = created_on_utc (UTC)
--   in the caller's time zone. receiptNumber = the transaction's m_payment_detail.receipt_number,
--   as Fineract's; NULL (an empty variable) for a payment recorded without payment details.
SELECT
    c.id AS id,
    c.firstname AS firstname,
    c.middlename AS middlename,
    c.lastname AS lastname,
    c.display_name AS FullName,
    c.mobile_no AS mobileNo,
    l.principal_amount AS LoanAmount,
    COALESCE(l.principal_outstanding_derived, 0) + COALESCE(l.interest_outstanding_derived, 0)
        + COALESCE(l.fee_charges_outstanding_derived, 0)
        + COALESCE(l.penalty_charges_outstanding_derived, 0) AS LoanOutstanding,
    l.id AS loanId,
    l.account_no AS LoanAccountId,
    c.office_id AS officeId,
    l.loan_officer_id AS loanOfficerId,
    t.amount AS repaymentAmount,
    t.transaction_date AS RepaymentDate,
    pd.receipt_number AS receiptNumber,
    g.display_name AS GroupName,
    t.created_on_utc AS h_time,
    t.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan_transaction t
JOIN m_loan l ON l.id = t.loan_id
LEFT JOIN m_group_client gc ON l.client_id IS NULL AND gc.group_id = l.group_id
JOIN m_client c ON c.id = COALESCE(l.client_id, gc.client_id)
JOIN m_office o ON o.id = c.office_id
LEFT JOIN m_group g ON g.id = l.group_id
LEFT JOIN m_payment_detail pd ON pd.id = t.payment_detail_id
WHERE t.id = :loanTransactionId
    AND (:loanId = -1 OR t.loan_id = :loanId)
    AND t.is_reversed = :false
    AND t.transaction_type_enum IN (2, 5, 8, 28)
    AND (l.client_id IS NOT NULL OR c.status_enum = 300)
    AND (:clientId = -1 OR c.id = :clientId)
    AND (:groupId = -1 OR l.group_id = :groupId)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
    AND (:loanType = -1 OR l.loan_type_enum = :loanType)
