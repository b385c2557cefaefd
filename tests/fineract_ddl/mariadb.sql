-- Fineract's tables the business rules read, as a MySQL/MariaDB tenant database has them.
-- Written for herald's tests from the column lists of /work/shared/reference/fineract.md §2
-- (every listed column; Fineract's MySQL/MariaDB types: BIT(1) booleans with b'0'/b'1'
-- defaults, DECIMAL(19,6) money, SMALLINT codes, DATETIME(6) for the *_on_utc audit columns;
-- NOT NULL, defaults, keys and foreign keys as listed). Not copied from Fineract's Liquibase
-- changelogs. Foreign keys are table constraints: MySQL ignores a column-level REFERENCES.
-- m_payment_detail has Fineract's columns (from its schema, not the reference). Tables the
-- reference does not list column by column (m_appuser, m_group_level, m_group_roles,
-- m_guarantor) carry their key, the columns the reference or the rules name, and the few NOT
-- NULL columns a row needs.
-- One statement per ';' at a line end: the tests split on it.

CREATE TABLE m_office (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    parent_id BIGINT NULL,
    hierarchy VARCHAR(100) NULL,
    external_id VARCHAR(100) NULL UNIQUE,
    name VARCHAR(50) NOT NULL UNIQUE,
    opening_date DATE NOT NULL,
    CONSTRAINT fk_m_office_parent_id FOREIGN KEY (parent_id) REFERENCES m_office (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_appuser (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    is_deleted BIT(1) NOT NULL DEFAULT b'0',
    office_id BIGINT NULL,
    username VARCHAR(100) NOT NULL UNIQUE,
    firstname VARCHAR(100) NOT NULL,
    lastname VARCHAR(100) NOT NULL,
    password VARCHAR(255) NOT NULL,
    email VARCHAR(100) NOT NULL,
    enabled BIT(1) NOT NULL DEFAULT b'1',
    CONSTRAINT fk_m_appuser_office_id FOREIGN KEY (office_id) REFERENCES m_office (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_payment_detail (
    -- Fineract's columns; its FK payment_type_id -> m_payment_type is left out (no rule reads the type).
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    payment_type_id INT NULL,
    account_number VARCHAR(100) NULL,
    check_number VARCHAR(100) NULL,
    receipt_number VARCHAR(100) NULL,
    bank_number VARCHAR(100) NULL,
    routing_code VARCHAR(100) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_staff (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    is_loan_officer BIT(1) NOT NULL DEFAULT b'0',
    office_id BIGINT NULL,
    firstname VARCHAR(50) NULL,
    lastname VARCHAR(50) NULL,
    display_name VARCHAR(102) NOT NULL UNIQUE,
    mobile_no VARCHAR(50) NULL UNIQUE,
    email_address VARCHAR(150) NULL,
    external_id VARCHAR(100) NULL UNIQUE,
    is_active BIT(1) NOT NULL DEFAULT b'1',
    joining_date DATE NULL,
    organisational_role_enum SMALLINT NULL,
    organisational_role_parent_staff_id BIGINT NULL,
    CONSTRAINT fk_m_staff_office_id FOREIGN KEY (office_id) REFERENCES m_office (id),
    CONSTRAINT fk_m_staff_organisational_role_parent_staff_id FOREIGN KEY (organisational_role_parent_staff_id) REFERENCES m_staff (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_code (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code_name VARCHAR(100) NULL UNIQUE,
    is_system_defined BIT(1) NOT NULL DEFAULT b'0'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_code_value (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code_id INT NOT NULL,
    code_value VARCHAR(100) NULL,
    code_description VARCHAR(500) NULL,
    order_position INT NOT NULL DEFAULT 0,
    code_score INT NULL,
    is_active BIT(1) NOT NULL DEFAULT b'1',
    is_mandatory BIT(1) NOT NULL DEFAULT b'0',
    UNIQUE (code_id, code_value),
    CONSTRAINT fk_m_code_value_code_id FOREIGN KEY (code_id) REFERENCES m_code (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_currency (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code VARCHAR(3) NOT NULL UNIQUE,
    decimal_places SMALLINT NOT NULL,
    currency_multiplesof SMALLINT NULL,
    display_symbol VARCHAR(10) NULL,
    name VARCHAR(50) NOT NULL,
    internationalized_name_code VARCHAR(50) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_client (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_no VARCHAR(20) NOT NULL UNIQUE,
    external_id VARCHAR(100) NULL UNIQUE,
    status_enum INT NOT NULL DEFAULT 300,
    sub_status INT NULL,
    office_id BIGINT NOT NULL,
    transfer_to_office_id BIGINT NULL,
    staff_id BIGINT NULL,
    firstname VARCHAR(50) NULL,
    middlename VARCHAR(50) NULL,
    lastname VARCHAR(50) NULL,
    fullname VARCHAR(160) NULL,
    display_name VARCHAR(160) NOT NULL,
    mobile_no VARCHAR(50) NULL UNIQUE,
    email_address VARCHAR(150) NULL,
    date_of_birth DATE NULL,
    gender_cv_id INT NULL,
    client_type_cv_id INT NULL,
    client_classification_cv_id INT NULL,
    legal_form_enum INT NULL,
    is_staff BIT(1) NOT NULL DEFAULT b'0',
    submittedon_date DATE NULL,
    activation_date DATE NULL,
    office_joining_date DATE NULL,
    closedon_date DATE NULL,
    rejectedon_date DATE NULL,
    withdrawn_on_date DATE NULL,
    reactivated_on_date DATE NULL,
    reopened_on_date DATE NULL,
    closure_reason_cv_id INT NULL,
    reject_reason_cv_id INT NULL,
    withdraw_reason_cv_id INT NULL,
    default_savings_account BIGINT NULL,
    created_on_utc DATETIME(6) NOT NULL,
    last_modified_on_utc DATETIME(6) NOT NULL,
    CONSTRAINT fk_m_client_sub_status FOREIGN KEY (sub_status) REFERENCES m_code_value (id),
    CONSTRAINT fk_m_client_office_id FOREIGN KEY (office_id) REFERENCES m_office (id),
    CONSTRAINT fk_m_client_transfer_to_office_id FOREIGN KEY (transfer_to_office_id) REFERENCES m_office (id),
    CONSTRAINT fk_m_client_staff_id FOREIGN KEY (staff_id) REFERENCES m_staff (id),
    CONSTRAINT fk_m_client_gender_cv_id FOREIGN KEY (gender_cv_id) REFERENCES m_code_value (id),
    CONSTRAINT fk_m_client_client_type_cv_id FOREIGN KEY (client_type_cv_id) REFERENCES m_code_value (id),
    CONSTRAINT fk_m_client_client_classification_cv_id FOREIGN KEY (client_classification_cv_id) REFERENCES m_code_value (id),
    CONSTRAINT fk_m_client_closure_reason_cv_id FOREIGN KEY (closure_reason_cv_id) REFERENCES m_code_value (id),
    CONSTRAINT fk_m_client_reject_reason_cv_id FOREIGN KEY (reject_reason_cv_id) REFERENCES m_code_value (id),
    CONSTRAINT fk_m_client_withdraw_reason_cv_id FOREIGN KEY (withdraw_reason_cv_id) REFERENCES m_code_value (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_group_level (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    parent_id INT NULL,
    super_parent BIT(1) NOT NULL,
    level_name VARCHAR(100) NOT NULL UNIQUE,
    recursable BIT(1) NOT NULL,
    can_have_clients BIT(1) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_group (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_no VARCHAR(20) NOT NULL,
    external_id VARCHAR(100) NULL,
    status_enum INT NOT NULL DEFAULT 300,
    activation_date DATE NULL,
    office_id BIGINT NOT NULL,
    staff_id BIGINT NULL,
    parent_id BIGINT NULL,
    level_id INT NOT NULL,
    display_name VARCHAR(100) NOT NULL,
    hierarchy VARCHAR(100) NULL,
    closedon_date DATE NULL,
    submittedon_date DATE NULL,
    UNIQUE (external_id, level_id),
    UNIQUE (display_name, level_id),
    CONSTRAINT fk_m_group_office_id FOREIGN KEY (office_id) REFERENCES m_office (id),
    CONSTRAINT fk_m_group_staff_id FOREIGN KEY (staff_id) REFERENCES m_staff (id),
    CONSTRAINT fk_m_group_parent_id FOREIGN KEY (parent_id) REFERENCES m_group (id),
    CONSTRAINT fk_m_group_level_id FOREIGN KEY (level_id) REFERENCES m_group_level (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_group_client (
    group_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    PRIMARY KEY (group_id, client_id),
    CONSTRAINT fk_m_group_client_group_id FOREIGN KEY (group_id) REFERENCES m_group (id),
    CONSTRAINT fk_m_group_client_client_id FOREIGN KEY (client_id) REFERENCES m_client (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_group_roles (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    client_id BIGINT NULL,
    group_id BIGINT NULL,
    role_cv_id INT NULL,
    CONSTRAINT fk_m_group_roles_client_id FOREIGN KEY (client_id) REFERENCES m_client (id),
    CONSTRAINT fk_m_group_roles_group_id FOREIGN KEY (group_id) REFERENCES m_group (id),
    CONSTRAINT fk_m_group_roles_role_cv_id FOREIGN KEY (role_cv_id) REFERENCES m_code_value (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_product_loan (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    short_name VARCHAR(4) NOT NULL UNIQUE,
    name VARCHAR(100) NOT NULL UNIQUE,
    description VARCHAR(500) NULL,
    external_id VARCHAR(100) NULL UNIQUE,
    currency_code VARCHAR(3) NOT NULL,
    currency_digits SMALLINT NOT NULL,
    fund_id BIGINT NULL,
    repay_every SMALLINT NOT NULL,
    repayment_period_frequency_enum SMALLINT NOT NULL,
    number_of_repayments SMALLINT NOT NULL,
    include_in_borrower_cycle BIT(1) NOT NULL DEFAULT b'0',
    start_date DATE NULL,
    close_date DATE NULL,
    delinquency_bucket_id BIGINT NULL,
    due_days_for_repayment_event INT NULL,
    overdue_days_for_repayment_event INT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_loan (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_no VARCHAR(20) NOT NULL UNIQUE,
    external_id VARCHAR(100) NULL UNIQUE,
    client_id BIGINT NULL,
    group_id BIGINT NULL,
    glim_id BIGINT NULL,
    product_id BIGINT NULL,
    loan_officer_id BIGINT NULL,
    loanpurpose_cv_id INT NULL,
    loan_status_id SMALLINT NOT NULL,
    loan_sub_status_id SMALLINT NULL,
    loan_type_enum SMALLINT NOT NULL,
    currency_code VARCHAR(3) NOT NULL,
    currency_digits SMALLINT NOT NULL,
    principal_amount_proposed DECIMAL(19,6) NOT NULL,
    approved_principal DECIMAL(19,6) NOT NULL,
    principal_amount DECIMAL(19,6) NOT NULL,
    net_disbursal_amount DECIMAL(19,6) NOT NULL,
    annual_nominal_interest_rate DECIMAL(19,6) NULL,
    number_of_repayments SMALLINT NOT NULL,
    repay_every SMALLINT NOT NULL,
    repayment_period_frequency_enum SMALLINT NOT NULL,
    term_frequency SMALLINT NOT NULL,
    term_period_frequency_enum SMALLINT NOT NULL,
    submittedon_date DATE NULL,
    approvedon_date DATE NULL,
    rejectedon_date DATE NULL,
    withdrawnon_date DATE NULL,
    expected_disbursedon_date DATE NULL,
    disbursedon_date DATE NULL,
    expected_firstrepaymenton_date DATE NULL,
    expected_maturedon_date DATE NULL,
    maturedon_date DATE NULL,
    closedon_date DATE NULL,
    writtenoffon_date DATE NULL,
    principal_disbursed_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    principal_repaid_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    principal_outstanding_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    interest_outstanding_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    fee_charges_outstanding_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    penalty_charges_outstanding_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    total_outstanding_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    total_expected_repayment_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    total_repayment_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    total_overpaid_derived DECIMAL(19,6) NULL,
    loan_counter SMALLINT NULL,
    loan_product_counter SMALLINT NULL,
    is_npa BIT(1) NOT NULL DEFAULT b'0',
    is_topup BIT(1) NOT NULL DEFAULT b'0',
    is_fraud BIT(1) NOT NULL DEFAULT b'0',
    is_charged_off BIT(1) NOT NULL DEFAULT b'0',
    charged_off_on_date DATE NULL,
    overpaidon_date DATE NULL,
    last_closed_business_date DATE NULL,
    version INT NOT NULL DEFAULT 1,
    created_on_utc DATETIME(6) NOT NULL,
    last_modified_on_utc DATETIME(6) NOT NULL,
    CONSTRAINT fk_m_loan_client_id FOREIGN KEY (client_id) REFERENCES m_client (id),
    CONSTRAINT fk_m_loan_group_id FOREIGN KEY (group_id) REFERENCES m_group (id),
    CONSTRAINT fk_m_loan_product_id FOREIGN KEY (product_id) REFERENCES m_product_loan (id),
    CONSTRAINT fk_m_loan_loan_officer_id FOREIGN KEY (loan_officer_id) REFERENCES m_staff (id),
    CONSTRAINT fk_m_loan_loanpurpose_cv_id FOREIGN KEY (loanpurpose_cv_id) REFERENCES m_code_value (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_loan_repayment_schedule (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    loan_id BIGINT NOT NULL,
    installment SMALLINT NOT NULL,
    fromdate DATE NULL,
    duedate DATE NOT NULL,
    principal_amount DECIMAL(19,6) NULL,
    interest_amount DECIMAL(19,6) NULL,
    fee_charges_amount DECIMAL(19,6) NULL,
    penalty_charges_amount DECIMAL(19,6) NULL,
    principal_completed_derived DECIMAL(19,6) NULL,
    interest_completed_derived DECIMAL(19,6) NULL,
    fee_charges_completed_derived DECIMAL(19,6) NULL,
    penalty_charges_completed_derived DECIMAL(19,6) NULL,
    principal_writtenoff_derived DECIMAL(19,6) NULL,
    interest_writtenoff_derived DECIMAL(19,6) NULL,
    fee_charges_writtenoff_derived DECIMAL(19,6) NULL,
    penalty_charges_writtenoff_derived DECIMAL(19,6) NULL,
    interest_waived_derived DECIMAL(19,6) NULL,
    fee_charges_waived_derived DECIMAL(19,6) NULL,
    penalty_charges_waived_derived DECIMAL(19,6) NULL,
    total_paid_in_advance_derived DECIMAL(19,6) NULL,
    total_paid_late_derived DECIMAL(19,6) NULL,
    completed_derived BIT(1) NOT NULL,
    obligations_met_on_date DATE NULL,
    is_additional BIT(1) NOT NULL DEFAULT b'0',
    credits_amount DECIMAL(19,6) NULL,
    is_down_payment BIT(1) NOT NULL DEFAULT b'0',
    is_re_aged BIT(1) NOT NULL DEFAULT b'0',
    created_on_utc DATETIME(6) NOT NULL,
    last_modified_on_utc DATETIME(6) NOT NULL,
    CONSTRAINT fk_m_loan_repayment_schedule_loan_id FOREIGN KEY (loan_id) REFERENCES m_loan (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_loan_arrears_aging (
    loan_id BIGINT NOT NULL PRIMARY KEY,
    principal_overdue_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    interest_overdue_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    fee_charges_overdue_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    penalty_charges_overdue_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    total_overdue_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    overdue_since_date_derived DATE NULL,
    CONSTRAINT fk_m_loan_arrears_aging_loan_id FOREIGN KEY (loan_id) REFERENCES m_loan (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_loan_transaction (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    loan_id BIGINT NOT NULL,
    office_id BIGINT NOT NULL,
    payment_detail_id BIGINT NULL,
    is_reversed BIT(1) NOT NULL,
    external_id VARCHAR(100) NULL UNIQUE,
    transaction_type_enum SMALLINT NOT NULL,
    transaction_date DATE NOT NULL,
    submitted_on_date DATE NOT NULL,
    amount DECIMAL(19,6) NOT NULL,
    principal_portion_derived DECIMAL(19,6) NULL,
    interest_portion_derived DECIMAL(19,6) NULL,
    fee_charges_portion_derived DECIMAL(19,6) NULL,
    penalty_charges_portion_derived DECIMAL(19,6) NULL,
    overpayment_portion_derived DECIMAL(19,6) NULL,
    outstanding_loan_balance_derived DECIMAL(19,6) NULL,
    manually_adjusted_or_reversed BIT(1) NULL DEFAULT b'0',
    reversed_on_date DATE NULL,
    reversal_external_id VARCHAR(100) NULL UNIQUE,
    created_by BIGINT NOT NULL,
    created_on_utc DATETIME(6) NOT NULL,
    last_modified_on_utc DATETIME(6) NOT NULL,
    CONSTRAINT fk_m_loan_transaction_loan_id FOREIGN KEY (loan_id) REFERENCES m_loan (id),
    CONSTRAINT fk_m_loan_transaction_office_id FOREIGN KEY (office_id) REFERENCES m_office (id),
    CONSTRAINT fk_m_loan_transaction_payment_detail_id FOREIGN KEY (payment_detail_id) REFERENCES m_payment_detail (id),
    CONSTRAINT fk_m_loan_transaction_created_by FOREIGN KEY (created_by) REFERENCES m_appuser (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_guarantor (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    loan_id BIGINT NOT NULL,
    client_reln_cv_id INT NULL,
    type_enum SMALLINT NOT NULL,
    entity_id BIGINT NULL,
    firstname VARCHAR(50) NULL,
    lastname VARCHAR(50) NULL,
    mobile_number VARCHAR(20) NULL,
    is_active BIT(1) NOT NULL DEFAULT b'1',
    CONSTRAINT fk_m_guarantor_loan_id FOREIGN KEY (loan_id) REFERENCES m_loan (id),
    CONSTRAINT fk_m_guarantor_client_reln_cv_id FOREIGN KEY (client_reln_cv_id) REFERENCES m_code_value (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_savings_product (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL UNIQUE,
    short_name VARCHAR(4) NOT NULL UNIQUE,
    description VARCHAR(500) NULL,
    deposit_type_enum SMALLINT NOT NULL DEFAULT 100,
    currency_code VARCHAR(3) NOT NULL,
    currency_digits SMALLINT NOT NULL,
    nominal_annual_interest_rate DECIMAL(19,6) NOT NULL,
    min_required_balance DECIMAL(19,6) NULL,
    is_dormancy_tracking_active BIT(1) NULL,
    days_to_inactive INT NULL,
    days_to_dormancy INT NULL,
    days_to_escheat INT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_savings_account (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_no VARCHAR(20) NOT NULL UNIQUE,
    external_id VARCHAR(100) NULL UNIQUE,
    client_id BIGINT NULL,
    group_id BIGINT NULL,
    gsim_id BIGINT NULL,
    product_id BIGINT NULL,
    field_officer_id BIGINT NULL,
    status_enum SMALLINT NOT NULL DEFAULT 300,
    sub_status_enum SMALLINT NOT NULL DEFAULT 0,
    account_type_enum SMALLINT NOT NULL DEFAULT 1,
    deposit_type_enum SMALLINT NOT NULL DEFAULT 100,
    submittedon_date DATE NOT NULL,
    approvedon_date DATE NULL,
    rejectedon_date DATE NULL,
    withdrawnon_date DATE NULL,
    activatedon_date DATE NULL,
    closedon_date DATE NULL,
    currency_code VARCHAR(3) NOT NULL,
    currency_digits SMALLINT NOT NULL,
    account_balance_derived DECIMAL(19,6) NOT NULL DEFAULT 0,
    total_deposits_derived DECIMAL(19,6) NULL,
    total_withdrawals_derived DECIMAL(19,6) NULL,
    total_interest_posted_derived DECIMAL(19,6) NULL,
    min_required_balance DECIMAL(19,6) NULL,
    on_hold_funds_derived DECIMAL(19,6) NULL,
    total_savings_amount_on_hold DECIMAL(19,6) NULL,
    lockedin_until_date_derived DATE NULL,
    version INT NOT NULL DEFAULT 1,
    created_on_utc DATETIME(6) NOT NULL,
    last_modified_on_utc DATETIME(6) NOT NULL,
    CONSTRAINT fk_m_savings_account_client_id FOREIGN KEY (client_id) REFERENCES m_client (id),
    CONSTRAINT fk_m_savings_account_group_id FOREIGN KEY (group_id) REFERENCES m_group (id),
    CONSTRAINT fk_m_savings_account_product_id FOREIGN KEY (product_id) REFERENCES m_savings_product (id),
    CONSTRAINT fk_m_savings_account_field_officer_id FOREIGN KEY (field_officer_id) REFERENCES m_staff (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE m_savings_account_transaction (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    savings_account_id BIGINT NOT NULL,
    office_id BIGINT NOT NULL,
    payment_detail_id BIGINT NULL,
    transaction_type_enum SMALLINT NOT NULL,
    is_reversed BIT(1) NOT NULL,
    is_reversal BIT(1) NOT NULL DEFAULT b'0',
    original_transaction_id BIGINT NULL,
    transaction_date DATE NOT NULL,
    submitted_on_date DATE NOT NULL,
    amount DECIMAL(19,6) NOT NULL,
    running_balance_derived DECIMAL(19,6) NULL,
    ref_no VARCHAR(128) NULL UNIQUE,
    is_manual BIT(1) NULL,
    is_loan_disbursement BIT(1) NULL,
    is_lien_transaction BIT(1) NOT NULL DEFAULT b'0',
    created_by BIGINT NOT NULL,
    created_on_utc DATETIME(6) NOT NULL,
    last_modified_on_utc DATETIME(6) NOT NULL,
    CONSTRAINT fk_m_savings_account_transaction_savings_account_id FOREIGN KEY (savings_account_id) REFERENCES m_savings_account (id),
    CONSTRAINT fk_m_savings_account_transaction_office_id FOREIGN KEY (office_id) REFERENCES m_office (id),
    CONSTRAINT fk_m_savings_account_transaction_payment_detail_id FOREIGN KEY (payment_detail_id) REFERENCES m_payment_detail (id),
    CONSTRAINT fk_m_savings_account_transaction_created_by FOREIGN KEY (created_by) REFERENCES m_appuser (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- m_client and m_savings_account refer to each other: the client's default account comes last.
-- (InnoDB indexes every foreign-key column itself, so no CREATE INDEX follows.)
ALTER TABLE m_client ADD CONSTRAINT fk_m_client_default_savings_account
    FOREIGN KEY (default_savings_account) REFERENCES m_savings_account (id);

