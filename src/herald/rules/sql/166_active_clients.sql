-- 166 Active Clients
-- Selects: active clients (status 300) whose office lies in the chosen office's subtree
--   (hierarchy prefix), filtered on the client's assigned officer (m_client.staff_id:
--   -1 every officer, -10 clients without an officer, else that staff id).
-- Grain: one row per client.
-- Dedup fact: the client (h_fact = m_client.id), once per campaign occurrence.
-- Fixes: (see docs/fineract-differences.md) D4 (the runner maps the lower-cased PostgreSQL aliases
--   back to camelCase), D23 (bind parameters only). Clients without a mobile number are returned
--   too, so herald can record them as INVALID messages with a reason.
-- officeName is the raw office name; the runner indents it from h_hierarchy.
-- officeNumber is the client's own office id (Fineract gives the selected office here but the
--   client's office in 168/169/173-175; herald is consistent so officeName and officeNumber agree).
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
