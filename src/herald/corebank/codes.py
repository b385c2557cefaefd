"""Fineract's enum codes as stored in its tables (reference/fineract.md section 3)."""

from __future__ import annotations

from enum import IntEnum


class ClientStatus(IntEnum):
    """`m_client.status_enum`."""

    INVALID = 0
    PENDING = 100
    ACTIVE = 300
    TRANSFER_IN_PROGRESS = 303
    TRANSFER_ON_HOLD = 304
    CLOSED = 600
    REJECTED = 700
    WITHDRAWN = 800


class LegalForm(IntEnum):
    """`m_client.legal_form_enum` (NULL on legacy rows means a person)."""

    PERSON = 1
    ENTITY = 2


class GroupLevel(IntEnum):
    """`m_group.level_id`: the seed rows of `m_group_level`."""

    CENTER = 1
    GROUP = 2


class GroupStatus(IntEnum):
    """`m_group.status_enum`."""

    INVALID = 0
    PENDING = 100
    ACTIVE = 300
    TRANSFER_IN_PROGRESS = 303
    TRANSFER_ON_HOLD = 304
    CLOSED = 600


class LoanStatus(IntEnum):
    """`m_loan.loan_status_id`."""

    INVALID = 0
    SUBMITTED_AND_PENDING_APPROVAL = 100
    APPROVED = 200
    ACTIVE = 300
    TRANSFER_IN_PROGRESS = 303
    TRANSFER_ON_HOLD = 304
    WITHDRAWN_BY_CLIENT = 400
    REJECTED = 500
    CLOSED_OBLIGATIONS_MET = 600
    CLOSED_WRITTEN_OFF = 601
    CLOSED_RESCHEDULE_OUTSTANDING_AMOUNT = 602
    OVERPAID = 700


class LoanSubStatus(IntEnum):
    """`m_loan.loan_sub_status_id`."""

    INVALID = 0
    FORECLOSED = 100


class LoanType(IntEnum):
    """`m_loan.loan_type_enum`, also `m_savings_account.account_type_enum`."""

    INVALID = 0
    INDIVIDUAL = 1
    GROUP = 2
    JLG = 3
    GLIM = 4
    GSIM = 5


class PeriodFrequency(IntEnum):
    """`*_period_frequency_enum` columns of loans and loan products."""

    DAYS = 0
    WEEKS = 1
    MONTHS = 2
    YEARS = 3
    WHOLE_TERM = 4
    INVALID = 5


class LoanTransactionType(IntEnum):
    """`m_loan_transaction.transaction_type_enum` (there is no code 11)."""

    INVALID = 0
    DISBURSEMENT = 1
    REPAYMENT = 2
    CONTRA = 3
    WAIVE_INTEREST = 4
    REPAYMENT_AT_DISBURSEMENT = 5
    WRITEOFF = 6
    MARKED_FOR_RESCHEDULING = 7
    RECOVERY_REPAYMENT = 8
    WAIVE_CHARGES = 9
    ACCRUAL = 10
    INITIATE_TRANSFER = 12
    APPROVE_TRANSFER = 13
    WITHDRAW_TRANSFER = 14
    REJECT_TRANSFER = 15
    REFUND = 16
    CHARGE_PAYMENT = 17
    REFUND_FOR_ACTIVE_LOAN = 18
    INCOME_POSTING = 19
    CREDIT_BALANCE_REFUND = 20
    MERCHANT_ISSUED_REFUND = 21
    PAYOUT_REFUND = 22
    GOODWILL_CREDIT = 23
    CHARGE_REFUND = 24
    CHARGEBACK = 25
    CHARGE_ADJUSTMENT = 26
    CHARGE_OFF = 27
    DOWN_PAYMENT = 28
    REAGE = 29
    REAMORTIZE = 30
    INTEREST_PAYMENT_WAIVER = 31
    ACCRUAL_ACTIVITY = 32
    INTEREST_REFUND = 33


class SavingsStatus(IntEnum):
    """`m_savings_account.status_enum`."""

    INVALID = 0
    SUBMITTED_AND_PENDING_APPROVAL = 100
    APPROVED = 200
    ACTIVE = 300
    TRANSFER_IN_PROGRESS = 303
    TRANSFER_ON_HOLD = 304
    WITHDRAWN_BY_APPLICANT = 400
    REJECTED = 500
    CLOSED = 600
    PRE_MATURE_CLOSURE = 700
    MATURED = 800


class SavingsSubStatus(IntEnum):
    """`m_savings_account.sub_status_enum`."""

    NONE = 0
    INACTIVE = 100
    DORMANT = 200
    ESCHEAT = 300
    BLOCK = 400
    BLOCK_CREDIT = 500
    BLOCK_DEBIT = 600


class DepositType(IntEnum):
    """`deposit_type_enum` of savings accounts and products."""

    INVALID = 0
    SAVINGS_DEPOSIT = 100
    FIXED_DEPOSIT = 200
    RECURRING_DEPOSIT = 300
    CURRENT_DEPOSIT = 400


class SavingsTransactionType(IntEnum):
    """`m_savings_account_transaction.transaction_type_enum` (no codes 9 or 11)."""

    INVALID = 0
    DEPOSIT = 1
    WITHDRAWAL = 2
    INTEREST_POSTING = 3
    WITHDRAWAL_FEE = 4
    ANNUAL_FEE = 5
    WAIVE_CHARGES = 6
    PAY_CHARGE = 7
    DIVIDEND_PAYOUT = 8
    ACCRUAL = 10
    INITIATE_TRANSFER = 12
    APPROVE_TRANSFER = 13
    WITHDRAW_TRANSFER = 14
    REJECT_TRANSFER = 15
    WRITTEN_OFF = 16
    OVERDRAFT_INTEREST = 17
    WITHHOLD_TAX = 18
    ESCHEAT = 19
    AMOUNT_HOLD = 20
    AMOUNT_RELEASE = 21


class CodeId(IntEnum):
    """Well-known `m_code.id` values of a Fineract tenant."""

    LOAN_PURPOSE = 3
    GENDER = 4
    GROUP_ROLE = 13
    CLIENT_TYPE = 16
    CLIENT_CLASSIFICATION = 17
    WRITE_OFF_REASONS = 26
