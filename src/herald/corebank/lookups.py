"""Lookups in a tenant's core-banking database: the choices of a rule's select parameters, the offices, client ids.

Offices come in hierarchy order with Fineract's ".." indentation per level; loan officers are the
active staff flagged as loan officers in an office or its sub-offices, after Fineract's two
special values (-1 every officer, -10 no officer); loan types are Fineract's codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from herald.corebank.codes import LoanType
from herald.corebank.failures import source_of, statement_failure
from herald.corebank.schema import m_client, m_office, m_product_loan, m_staff
from herald.domain.business_rule import BusinessRule, ParamKind
from herald.errors import CoreBankError, NotFoundError


@dataclass(frozen=True)
class Choice:
    value: int
    label: str


ALL_OFFICES = Choice(-1, "All offices")
ALL_OFFICERS = Choice(-1, "All")
NO_OFFICER = Choice(-10, "No officer")
LOAN_TYPES = (
    Choice(-1, "All"),
    Choice(LoanType.INDIVIDUAL, "Individual"),
    Choice(LoanType.GROUP, "Group"),
    Choice(LoanType.JLG, "JLG"),
    Choice(LoanType.GLIM, "GLIM"),
)


def _unreadable(exc: SQLAlchemyError, engine: Engine) -> CoreBankError:
    return statement_failure(exc, source_of(engine))


def probe(engine: Engine) -> None:
    """Read one office, the cheapest proof that the core bank answers and has Fineract's tables; raise if not."""
    try:
        with engine.connect() as conn:
            conn.execute(select(m_office.c.id).limit(1)).all()
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None


def offices(engine: Engine) -> list[Choice]:
    """Every office, parents before children, labelled "..Branch" one level down, "....Sub-branch" two."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m_office.c.id, m_office.c.name, m_office.c.hierarchy)).all()
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None

    def path(hierarchy: str | None) -> tuple[int, ...]:
        # ".1.12." sorts after ".1.2." as numbers, not as text
        return tuple(int(p) for p in (hierarchy or ".").split(".") if p.isdigit())

    ordered = sorted(rows, key=lambda r: (path(r.hierarchy), r.id))
    return [Choice(r.id, ".." * len(path(r.hierarchy)) + r.name) for r in ordered]


def office_names(engine: Engine) -> dict[int, str]:
    try:
        with engine.connect() as conn:
            return {r.id: r.name for r in conn.execute(select(m_office.c.id, m_office.c.name))}
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None


def office_exists(engine: Engine, office_id: int) -> bool:
    try:
        with engine.connect() as conn:
            return conn.execute(select(m_office.c.id).where(m_office.c.id == office_id)).first() is not None
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None


def offices_by_hierarchy(engine: Engine) -> list[tuple[int, str]]:
    """(id, name) of every office, ordered by Fineract's hierarchy path as text (the office list's order)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m_office.c.id, m_office.c.name).order_by(m_office.c.hierarchy)).all()
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None
    return [(int(r.id), str(r.name)) for r in rows]


def client_id_bounds(engine: Engine) -> tuple[int, int] | None:
    """The lowest and highest client id (None without clients): how a parallel run splits an audience."""
    try:
        with engine.connect() as conn:
            low, high = conn.execute(select(func.min(m_client.c.id), func.max(m_client.c.id))).one()
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None
    return None if low is None else (int(low), int(high))


def loan_officers(engine: Engine, office_id: int | None) -> list[Choice]:
    """-1, -10, then the loan officers of `office_id` and its sub-offices (of every office when None)."""
    query = (
        select(m_staff.c.id, m_staff.c.display_name)
        .join(m_office, m_office.c.id == m_staff.c.office_id)
        .where(m_staff.c.is_loan_officer.is_(True), m_staff.c.is_active.is_(True))
        .order_by(m_staff.c.display_name)
    )
    try:
        with engine.connect() as conn:
            if office_id is not None and office_id > 0:
                # Past BIGINT no office has the id, and the drivers would fail on it (SQLite with OverflowError).
                hierarchy = None
                if office_id < 2**63:
                    hierarchy = conn.execute(select(m_office.c.hierarchy).where(m_office.c.id == office_id)).scalar()
                if hierarchy is None:
                    raise NotFoundError(f"Office {office_id} does not exist in the core-banking database.")
                query = query.where(m_office.c.hierarchy.startswith(hierarchy, autoescape=True))
            rows = conn.execute(query).all()
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None
    return [ALL_OFFICERS, NO_OFFICER, *(Choice(r.id, r.display_name) for r in rows)]


def loan_products(engine: Engine) -> list[Choice]:
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m_product_loan.c.id, m_product_loan.c.name).order_by(m_product_loan.c.name))
            return [Choice(r.id, r.name) for r in rows]
    except SQLAlchemyError as exc:
        raise _unreadable(exc, engine) from None


def choices_for(rule: BusinessRule, engine: Engine, office_id: int | None = None) -> dict[str, list[Choice]]:
    """Choices per select parameter of `rule` (day counts are free numbers and get none)."""
    found: dict[str, list[Choice]] = {}
    for p in rule.parameters:
        if p.kind is ParamKind.OFFICE:
            found[p.name] = ([ALL_OFFICES] if p.allows_all else []) + offices(engine)
        elif p.kind is ParamKind.LOAN_OFFICER:
            found[p.name] = loan_officers(engine, office_id)
        elif p.kind is ParamKind.LOAN_TYPE:
            found[p.name] = list(LOAN_TYPES)
    return found
