-- 1003 Loan Disbursed
-- herald's own rule: Fineract has no SMS rule for this event.
-- Selects: the recipients of ONE disbursal (hook LOAN/DISBURSE, external event
--   LoanDisbursalBusinessEvent): the loan with id :loanId, provided it has been disbursed
--   (disbursedon_date set: a disbursal undone before herald runs the rule sends nothing). No
--   loan-status filter otherwise: a loan repaid at once is still told of its disbursal.
--   Recipients: the loan's client when m_loan.client_id is set (individual, JLG and GLIM loans:
--   the borrower only), else every ACTIVE member of the loan's group (pure group loans). Filters:
--   the recipient's office in the subtree of :officePrefix ('.%' when officeId = -1, all offices);
--   m_loan.loan_officer_id (-1 all, -10 none, else that id); m_loan.loan_type_enum = :loanType
--   (-1 all); :clientId and :groupId narrow when the event gives them (-1 = not given).
-- Grain: one row per recipient client of the loan.
-- Dedup fact: the loan (h_fact = m_loan.id) as loan_disbursement, once ever: a loan disbursed in
--   several tranches is announced once, at its first disbursal herald sees. The runner adds the
--   client id because a group loan reaches several members.
-- Fixes: none, there being no Fineract rule to fix (see docs/fineract-differences.md#D35); built
--   as 180 is: one LIKE on the recipient's office (never a join along the office path), the loan's
--   own officer ("no officer" selectable), a JLG loan reaching its borrower only.
-- Variables: 180's spellings (accountnumber = account_no, officename = the recipient's office name
--   without hierarchy dots (D34), GroupName = the loan's group, NULL for individual loans),
--   LoanAmount = principal_amount; disbursedAmount and its 168-178 spelling loanDisbursed =
--   principal_disbursed_derived (all tranches disbursed so far); disbursementDate =
--   disbursedon_date; firstDueDate and firstInstalmentAmount = the first regular instalment
--   (lowest number that is not a down payment) and its scheduled total (principal + interest +
--   fees + penalties), both NULL (empty) when the loan has no schedule rows.
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
    l.principal_amount AS LoanAmount,
    l.account_no AS loanAccountId,
    l.principal_disbursed_derived AS disbursedAmount,
    l.disbursedon_date AS disbursementDate,
    fi.duedate AS firstDueDate,
    CASE WHEN fi.id IS NULL THEN NULL
        ELSE COALESCE(fi.principal_amount, 0) + COALESCE(fi.interest_amount, 0)
            + COALESCE(fi.fee_charges_amount, 0) + COALESCE(fi.penalty_charges_amount, 0)
    END AS firstInstalmentAmount,
    l.principal_disbursed_derived AS loanDisbursed,
    l.id AS h_fact,
    c.office_id AS h_office,
    l.currency_digits AS h_digits,
    l.currency_code AS h_currency
FROM m_loan l
LEFT JOIN m_group_client gc ON l.client_id IS NULL AND gc.group_id = l.group_id
JOIN m_client c ON c.id = COALESCE(l.client_id, gc.client_id)
JOIN m_office o ON o.id = c.office_id
LEFT JOIN m_group g ON g.id = l.group_id
LEFT JOIN m_loan_repayment_schedule fi ON fi.loan_id = l.id
    AND fi.installment = (SELECT MIN(f2.installment) FROM m_loan_repayment_schedule f2
        WHERE f2.loan_id = l.id AND f2.is_down_payment = :false)
WHERE l.id = :loanId
    AND l.disbursedon_date IS NOT NULL
    AND (l.client_id IS NOT NULL OR c.status_enum = 300)
    AND (:clientId = -1 OR c.id = :clientId)
    AND (:groupId = -1 OR l.group_id = :groupId)
    AND o.hierarchy LIKE COALESCE(:officePrefix, '')
    AND (:loanOfficerId = -1
        OR l.loan_officer_id = :loanOfficerId
        OR (:loanOfficerId = -10 AND l.loan_officer_id IS NULL))
    AND (:loanType = -1 OR l.loan_type_enum = :loanType)
