-- 1005 Client Created
-- herald's own rule: Fineract has no SMS rule for this event.
-- Selects: the client with id :clientId (hook CLIENT/CREATE, external event
--   ClientCreateBusinessEvent) whose office lies in the chosen office's subtree (hierarchy
--   prefix; officeId must be a real office, as for 182/183), filtered on the client's assigned
--   officer (m_client.staff_id: -1 every officer, -10 clients without an officer, else that staff
--   id). No status filter: a client is created pending (100) or, activated at once, active (300),
--   and is welcomed either way.
-- Grain: one row (or none) per event.
-- Dedup fact: the client (h_fact = m_client.id) as client_creation, once ever; the activation
--   (183) of the same client is another fact.
-- Fixes: none, there being no Fineract rule to fix (see docs/fineract-differences.md#D35); built
--   as 183 is.
-- A client without a mobile number is returned too, so herald records
--   an INVALID message. Variables as 183: officeName is the office's name without hierarchy dots
--   (D34, derived by the runner from h_hierarchy); officeNumber is the client's own office id (D29).
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
