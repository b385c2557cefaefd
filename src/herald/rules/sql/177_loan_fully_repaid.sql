-- 177 Loan fully repaid
-- Selects: loans closed as fully repaid (600 CLOSED_OBLIGATIONS_MET) or overpaid (700) of clients
--   in the chosen office's subtree, closed between toY and fromX days ago inclusive
--   (COALESCE(closedon_date, overpaidon_date) BETWEEN windowStart AND windowEnd: an overpaid loan
--   may carry only its overpaid date). Officer filter on m_loan.loan_officer_id (-1 all, -10 none,
--   else that id). Pure group loans (client_id NULL) are not reached (D22 kept).
-- Grain: one row per loan.
-- Dedup fact: the loan (h_fact = m_loan.id), once ever: a loan is thanked for repaying once.
-- Fixes: (see docs/fineract-differences.md) D19 (totalDue is the loan's own outstanding total, 0
--   when repaid, instead of the arrears table that has no row for a closed loan; dueDate is the
--   last instalment's due date, not an arbitrary one), D10 (scalar subqueries for guarantors, group
--   and due date), D21, D4, D23.
-- groupName = the loan's own group (m_loan.group_id), as in Fineract: empty for an individual loan,
--   even when its borrower belongs to a group (a JLG loan names its group).
-- totalFullyPaid = total_repayment_derived.
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
    (SELECT MAX(rs.duedate) FROM m_loan_repayment_schedule rs WHERE rs.loan_id = l.id) AS dueDate,
    COALESCE(l.total_outstanding_derived, 0) AS totalDue,
    (SELECT g.display_name FROM m_group g WHERE g.id = l.group_id) AS groupName,
    l.total_repayment_derived AS totalFullyPaid,
    l.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan l
JOIN m_client c ON c.id = l.client_id
JOIN m_office o ON o.id = c.office_id
WHERE l.loan_status_id IN (600, 700)
    AND COALESCE(l.closedon_date, l.overpaidon_date) BETWEEN :windowStart AND :windowEnd
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
