-- 187 Savings Withdrawal
-- Selects: the savings transaction with id :savingsTransactionId (on account :savingsId when the
--   event gives it), not reversed and not itself a reversal entry, of type 2 WITHDRAWAL, on an account
--   owned by a client (group accounts yield no row, as in Fineract). Filters: the client's office
--   in the subtree of :officePrefix ('.%' when officeId = -1, all offices); the client's staff_id
--   as Fineract does (-1 all, -10 clients without an officer, else that id); :clientId narrows
--   when the event gives it (-1 = not given).
-- Grain: one row (or none) per event.
-- Dedup fact: the savings transaction (h_fact = m_savings_account_transaction.id), once ever.
-- Fixes: (see docs/fineract-differences.md) D11 (the transaction is picked by its id, no partial
--   GROUP BY). Differs on purpose: D24 (Fineract builds this message in Java and never runs its
--   stored SQL; herald runs this one and adds the transaction-type check, so a withdrawal's id
--   never produces a deposit message or the reverse), D25 (values as of this transaction).
-- Variables keep Fineract's names (their values: docs/fineract-differences.md#D25), plus id (=
--   clientId) which every rule offers. depositAmount and withdrawAmount are both the transaction
--   amount, as in Fineract; balance is the running balance after this transaction (the account
--   balance when that is not derived), so a later transaction does not change this message;
--   loanOfficerId = the client's staff_id; officeId = the client's office; transactionDate =
--   transaction_date. receiptNumber = the transaction's m_payment_detail.receipt_number, as
--   Fineract's; NULL (an empty variable) for a transaction recorded without payment details.
SELECT
    c.id AS clientId,
    c.firstname AS firstname,
    c.middlename AS middlename,
    c.lastname AS lastname,
    c.display_name AS FullName,
    c.mobile_no AS mobileNo,
    sa.id AS savingsId,
    sa.account_no AS savingsAccountNo,
    t.amount AS depositAmount,
    t.amount AS withdrawAmount,
    COALESCE(t.running_balance_derived, sa.account_balance_derived) AS balance,
    c.office_id AS officeId,
    t.transaction_date AS transactionDate,
    t.id AS savingsTransactionId,
    c.staff_id AS loanOfficerId,
    pd.receipt_number AS receiptNumber,
    c.id AS id,
    t.id AS h_fact,
    c.office_id AS h_office,
    sa.currency_digits AS h_digits,
    sa.currency_code AS h_currency
FROM m_savings_account_transaction t
JOIN m_savings_account sa ON sa.id = t.savings_account_id
JOIN m_client c ON c.id = sa.client_id
JOIN m_office o ON o.id = c.office_id
LEFT JOIN m_payment_detail pd ON pd.id = t.payment_detail_id
WHERE t.id = :savingsTransactionId
    AND (:savingsId = -1 OR sa.id = :savingsId)
    AND t.is_reversed = :false
    AND t.is_reversal = :false
    AND t.transaction_type_enum = 2
    AND (:clientId = -1 OR c.id = :clientId)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR c.staff_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND c.staff_id IS NULL))
