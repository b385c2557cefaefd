-- 176 Happy Birthday
-- Selects: active clients (status 300) in the chosen office's subtree whose date of birth has
--   today's month and day: SUBSTR(CAST(date_of_birth AS CHAR(10)), 6, 5) is 'MM-DD' on all three
--   engines (PostgreSQL with its default ISO DateStyle). The runner binds birthdayA = birthdayB =
--   today's 'MM-DD', except on 28 February of a non-leap year where birthdayB = '02-29', so
--   leap-day clients are greeted every year. Officer filter on m_client.staff_id (-1 all,
--   -10 none, else that staff id).
-- Grain: one row per client.
-- Dedup fact: the client (h_fact = m_client.id), once per calendar year.
-- Fixes: (see docs/fineract-differences.md) D6 (compares month and day only, honours
--   loanOfficerId), D12 (age computed by the runner in whole years, the age reached on this
--   birthday; business date instead of the database clock), D21, D4, D23.
-- age is derived by the runner from dateOfBirth; officeName is indented from h_hierarchy.
SELECT
    c.id AS id,
    c.firstname AS firstName,
    c.middlename AS middleName,
    c.lastname AS lastName,
    c.display_name AS fullName,
    c.mobile_no AS mobileNo,
    o.name AS officeName,
    c.office_id AS officeNumber,
    c.date_of_birth AS dateOfBirth,
    c.id AS h_fact,
    c.office_id AS h_office,
    NULL AS h_digits,
    NULL AS h_currency,
    o.hierarchy AS h_hierarchy
FROM m_client c
JOIN m_office o ON o.id = c.office_id
WHERE c.status_enum = 300
    AND SUBSTR(CAST(c.date_of_birth AS CHAR(10)), 6, 5) IN (:birthdayA, :birthdayB)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR c.staff_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND c.staff_id IS NULL))
