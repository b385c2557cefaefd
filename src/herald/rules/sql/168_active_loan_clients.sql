-- 168 Active Loan Clients
-- Selects: active loans (status 300) of clients in the chosen office's subtree, disbursed between
--   cycleY and cycleX days ago inclusive (disbursedon_date BETWEEN cycleStart AND cycleEnd, where
--   cycleStart = today - cycleY and cycleEnd = today - cycleX, computed in Python from the business
--   date). Officer filter on m_loan.loan_officer_id (-1 all, -10 none, else that staff id).
--   Loans are reached through m_loan.client_id, so pure group loans (client_id NULL) are not
--   messaged: their fact would be shared by every member (D22 kept on purpose).
-- Grain: one row per loan (a client with two such loans appears twice).
-- Dedup fact: the loan (h_fact = m_loan.id), once per campaign occurrence.
-- Fixes: (see docs/fineract-differences.md) D10 (guarantor and group values come from scalar
--   subqueries: no fan-out, a deterministic MIN() instead of an arbitrary row, only active
--   guarantors counted), D21 (dates bound from the business date), D4, D23.
-- groupName: the loan's own group if it has one, else the alphabetically first group the client
--   belongs to.
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
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
WHERE l.loan_status_id = 300
    AND l.disbursedon_date BETWEEN :cycleStart AND :cycleEnd
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
