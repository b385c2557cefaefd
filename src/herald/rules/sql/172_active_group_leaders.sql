-- 172 Active group leaders
-- Selects: active clients (status 300) in the chosen office's subtree who hold the Leader role
--   (m_group_roles -> m_code_value of code GROUPROLE whose text is "Leader", compared
--   case-insensitively) in at least one active group (m_group status 300, level 2 = Group).
--   Officer filter on m_client.staff_id (-1 all, -10 none, else that staff id).
-- Grain: one row per client: EXISTS, not a join, so a leader of several groups appears once.
-- Dedup fact: the client (h_fact = m_client.id), once per campaign occurrence.
-- Fixes: (see docs/fineract-differences.md) D17 (the group need not sit in the client's office:
--   after a transfer the leader is still the leader; the office scope applies to the client, who
--   receives the message; "leader", "LEADER" count; centers, which hold no clients, are excluded),
--   D4, D23.
-- groupName (herald addition) = the alphabetically first active group the client leads.
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
    (SELECT MIN(g.display_name)
        FROM m_group_roles gr
        JOIN m_group g ON g.id = gr.group_id
        JOIN m_code_value cv ON cv.id = gr.role_cv_id
        JOIN m_code mc ON mc.id = cv.code_id
        WHERE gr.client_id = c.id
            AND g.status_enum = 300
            AND g.level_id = 2
            AND mc.code_name = 'GROUPROLE'
            AND UPPER(cv.code_value) = 'LEADER') AS groupName,
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
    AND EXISTS (
        SELECT 1
        FROM m_group_roles gr
        JOIN m_group g ON g.id = gr.group_id
        JOIN m_code_value cv ON cv.id = gr.role_cv_id
        JOIN m_code mc ON mc.id = cv.code_id
        WHERE gr.client_id = c.id
            AND g.status_enum = 300
            AND g.level_id = 2
            AND mc.code_name = 'GROUPROLE'
            AND UPPER(cv.code_value) = 'LEADER'
    )
