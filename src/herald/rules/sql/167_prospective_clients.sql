-- 167 Prospective Clients
-- Selects: active clients (status 300) in the chosen office's subtree who have never borrowed and
--   have no loan in progress: no m_loan row of theirs (by client_id) in any status other than
--   0 INVALID, 400 WITHDRAWN_BY_CLIENT and 500 REJECTED. Officer filter on m_client.staff_id
--   (-1 all, -10 none, else that staff id).
-- Grain: one row per client.
-- Dedup fact: the client (h_fact = m_client.id), once per campaign occurrence.
-- Fixes: (see docs/fineract-differences.md) D16 (a rejected or withdrawn application no longer
--   disqualifies a prospect), D4, D23. Group loans (client_id NULL) do not count as the client's
--   own loan, as in Fineract.
-- officeName is the raw office name (indented by the runner); officeNumber the client's office.
SELECT
    c.id AS id,
    c.firstname AS firstName,
    c.middlename AS middleName,
    c.lastname AS lastName,
    c.display_name AS fullName,
    c.mobile_no AS mobileNo,
    o.name AS officeName,
    c.office_id AS officeNumber,
    c.id AS h_fact,
    c.office_id AS h_office,
    NULL AS h_digits,
    NULL AS h_currency,
    o.hierarchy AS h_hierarchy
FROM m_client c
JOIN m_office o ON o.id = c.office_id
WHERE c.status_enum = 300
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR c.staff_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND c.staff_id IS NULL))
    AND NOT EXISTS (
        SELECT 1
        FROM m_loan l
        WHERE l.client_id = c.id
            AND l.loan_status_id NOT IN (0, 400, 500)
    )
