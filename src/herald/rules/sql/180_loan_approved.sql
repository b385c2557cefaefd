-- 180 Loan Approved
-- Selects: the recipients of ONE loan approved event: the loan with id :loanId. Recipients: the loan's
--   client when m_loan.client_id is set (individual, JLG and GLIM loans: the borrower only), else
--   every ACTIVE member of the loan's group (pure group loans). No loan-status filter (the event
--   implies it). Filters: the recipient's office in the subtree of :officePrefix ('.%' when
--   officeId = -1, all offices); m_loan.loan_officer_id (-1 all, -10 none, else that id);
--   m_loan.loan_type_enum = :loanType (-1 all); :clientId and :groupId narrow when the event gives
--   them (-1 = not given).
-- Grain: one row per recipient client of the loan.
-- Dedup fact: the loan (h_fact = m_loan.id), once ever; the runner adds the client id to the fact
--   id because a group loan reaches several members.
-- Fixes: (see docs/fineract-differences.md) D13 (the office filter is one LIKE on the recipient's
--   office, never a join along the office path, so officeId = -1 gives one row, not one per office
--   level; officename is the recipient's own office), D14 (the officer is m_loan.loan_officer_id,
--   "no officer" selectable; loanamount is the approved principal, not the proposed one), D15 (a
--   JLG loan reaches its borrower only, not every member of its group), D4, D23.
-- Variables keep Fineract's aliases. GroupName = the loan's group (NULL for individual loans);
--   officename = the recipient's office name, not indented; accountnumber = m_loan.account_no;
--   annualinterestrate = annual_nominal_interest_rate, rendered by the runner without trailing zeros.
SELECT
    c.id AS id,
    c.firstname AS firstname,
    c.middlename AS middlename,
    c.lastname AS lastname,
    c.display_name AS FullName,
    c.mobile_no AS mobileNo,
    g.display_name AS GroupName,
    o.name AS officename,
    l.id AS loanId,
    l.account_no AS accountnumber,
    l.approved_principal AS loanamount,
    l.annual_nominal_interest_rate AS annualinterestrate,
    l.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan l
LEFT JOIN m_group_client gc ON l.client_id IS NULL AND gc.group_id = l.group_id
JOIN m_client c ON c.id = COALESCE(l.client_id, gc.client_id)
JOIN m_office o ON o.id = c.office_id
LEFT JOIN m_group g ON g.id = l.group_id
WHERE l.id = :loanId
    AND (l.client_id IS NOT NULL OR c.status_enum = 300)
    AND (:clientId = -1 OR c.id = :clientId)
    AND (:groupId = -1 OR l.group_id = :groupId)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
    AND (:loanType = -1 OR l.loan_type_enum = :loanType)
