-- 182 Client Rejected
-- Selects: the client with id :clientId (the event's client) whose office lies in the chosen
--   office's subtree (hierarchy prefix; officeId must be a real office, as in Fineract), filtered
--   on the client's assigned officer (m_client.staff_id: -1 every officer, -10 clients without an
--   officer, else that staff id). No status filter: the event says what happened.
-- Grain: one row (or none) per event.
-- Dedup fact: the client (h_fact = m_client.id) as client_rejection, once ever.
-- Fixes: (see docs/fineract-differences.md) D4 (the runner maps the lower-cased PostgreSQL aliases
--   back), D23 (bind parameters only). A client without a mobile number is returned too, so herald
--   records an INVALID message.
-- officeName is the raw office name, indented by the runner from h_hierarchy (as Fineract does);
--   officeNumber is the client's own office id (Fineract gives the selected office; herald keeps
--   officeName and officeNumber about the same office, as in 166).
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
WHERE c.id = :clientId
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR c.staff_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND c.staff_id IS NULL))
