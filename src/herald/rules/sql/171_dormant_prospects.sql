-- 171 Dormant Prospects
-- Selects: prospects as in 167 (active clients in the chosen office's subtree with no loan other
--   than invalid, withdrawn or rejected applications; officer filter on m_client.staff_id) who
--   were activated more than 3 whole months ago: activation_date < activatedBefore, where the
--   runner binds activatedBefore = (today - 4 months, clamped to the month's end) + 1 day, so
--   exactly the clients with at least 4 whole months since activation match. Clients without an
--   activation date are excluded.
-- Grain: one row per client.
-- Dedup fact: the client (h_fact = m_client.id), once per campaign occurrence.
-- Fixes: (see docs/fineract-differences.md) D5 (total whole months, not the month component), D16
--   (rejected or withdrawn applications do not disqualify), D21 (business date), D4, D23. Measured
--   from activation, not from submission: a client only becomes a prospect who can borrow once
--   activated.
-- dormant (whole months since activation) is derived by the runner from h_activation;
-- officeName is indented by the runner from h_hierarchy; officeNumber is the client's office.
SELECT
    c.id AS id,
    c.firstname AS firstName,
    c.middlename AS middleName,
    c.lastname AS lastName,
    c.display_name AS fullName,
    c.mobile_no AS mobileNo,
    o.name AS officeName,
    c.office_id AS officeNumber,
    c.activation_date AS h_activation,
    c.id AS h_fact,
    c.office_id AS h_office,
    NULL AS h_digits,
    NULL AS h_currency,
    o.hierarchy AS h_hierarchy
FROM m_client c
JOIN m_office o ON o.id = c.office_id
WHERE c.status_enum = 300
    AND c.activation_date < :activatedBefore
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
