-- 184 Savings Rejected
-- Selects: the savings account with id :savingsId (the event's account), owned by a client
--   (m_savings_account.client_id; group accounts yield no row, as in Fineract) whose office lies
--   in the chosen office's subtree (officeId must be a real office), whose product exists.
--   Officer filter on the account's field_officer_id (-1 all, -10 none, else that id); :clientId
--   narrows when the event gives it (-1 = not given). No status filter: the event says what happened.
-- Grain: one row (or none) per event.
-- Dedup fact: the savings account (h_fact = m_savings_account.id) as savings_rejection, once ever.
-- Fixes: (see docs/fineract-differences.md) D4, D23. A client without a mobile number is returned
--   too (herald records INVALID).
-- officeName is the client's office name, not indented (as Fineract's 184/185); officeNumber is
--   the client's office id; savingsAccountNo = m_savings_account.account_no.
SELECT
    c.id AS id,
    c.firstname AS firstName,
    c.middlename AS middleName,
    c.lastname AS lastName,
    c.display_name AS fullName,
    c.mobile_no AS mobileNo,
    sa.account_no AS savingsAccountNo,
    c.office_id AS officeNumber,
    o.name AS officeName,
    sa.id AS h_fact,
    c.office_id AS h_office,
    sa.currency_digits AS h_digits,
    sa.currency_code AS h_currency
FROM m_savings_account sa
JOIN m_savings_product sp ON sp.id = sa.product_id
JOIN m_client c ON c.id = sa.client_id
JOIN m_office o ON o.id = c.office_id
WHERE sa.id = :savingsId
    AND (:clientId = -1 OR c.id = :clientId)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR sa.field_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND sa.field_officer_id IS NULL))
