"""The fixed reference data of the demo core-banking database: offices, products, names and phone styles."""

from __future__ import annotations

from dataclasses import dataclass

from herald.corebank.codes import PeriodFrequency


@dataclass(frozen=True)
class OfficeSeed:
    """One demo office; region and time zone are herald's, Fineract has no column for them."""

    id: int
    parent_id: int | None
    hierarchy: str
    name: str
    region: str
    timezone: str
    opened: str
    client_weight: int


@dataclass(frozen=True)
class Country:
    """What the demo needs to know about a country: its currency and how its mobile numbers look."""

    region: str
    calling_code: str
    currency: str
    client_prefixes: tuple[str, ...]
    staff_prefix: str
    last_names: tuple[str, ...]


@dataclass(frozen=True)
class Currency:
    code: str
    digits: int
    name: str
    symbol: str
    min_principal: int
    max_principal: int
    step: int


@dataclass(frozen=True)
class LoanProductSeed:
    id: int
    short_name: str
    name: str
    currency: str
    frequency: PeriodFrequency
    repay_every: int
    repayments: int
    annual_rate: int
    fee_percent: int
    for_groups: bool


OFFICES: tuple[OfficeSeed, ...] = (
    OfficeSeed(1, None, ".", "Head Office", "KE", "Africa/Nairobi", "2009-01-05", 2),
    OfficeSeed(2, 1, ".2.", "Nairobi", "KE", "Africa/Nairobi", "2009-03-02", 20),
    OfficeSeed(3, 1, ".3.", "Mombasa", "KE", "Africa/Nairobi", "2010-06-01", 12),
    OfficeSeed(4, 1, ".4.", "Kampala", "UG", "Africa/Kampala", "2012-02-01", 15),
    OfficeSeed(5, 2, ".2.5.", "Kawangware", "KE", "Africa/Nairobi", "2014-09-01", 10),
    OfficeSeed(6, 4, ".4.6.", "Gulu", "UG", "Africa/Kampala", "2016-04-04", 8),
    OfficeSeed(7, 1, ".7.", "Dar es Salaam", "TZ", "Africa/Dar_es_Salaam", "2015-01-12", 14),
    OfficeSeed(8, 1, ".8.", "Kigali", "RW", "Africa/Kigali", "2017-07-03", 11),
    OfficeSeed(9, 7, ".7.9.", "Arusha", "TZ", "Africa/Dar_es_Salaam", "2019-03-04", 8),
)

_KE_LAST = (
    "Kamau", "Wanjiru", "Otieno", "Achieng", "Mwangi", "Njoroge", "Kiprono", "Chebet", "Wafula",
    "Nyambura", "Odhiambo", "Kariuki", "Mutua", "Wambui", "Omondi", "Kipchumba", "Barasa", "Muthoni",
    "Ochieng", "Kimani", "Jepkosgei", "Ndungu", "Wekesa", "Atieno", "Cheruiyot", "Gitau", "Muriuki",
    "Okoth", "Nyaga", "Koech",
)
_UG_LAST = (
    "Nakato", "Mukasa", "Okello", "Namubiru", "Ssempala", "Acen", "Kato", "Nansubuga", "Opio",
    "Babirye", "Ssewankambo", "Akello", "Kizza", "Nalwoga", "Ojok", "Byaruhanga", "Atim", "Lubega",
    "Namutebi", "Tumusiime", "Auma", "Kyomuhendo", "Oryem", "Nabukenya", "Mugisha",
)
_TZ_LAST = (
    "Mushi", "Massawe", "Mrema", "Swai", "Mollel", "Kimaro", "Lyimo", "Mwakyusa", "Mwasonga",
    "Shirima", "Temba", "Kileo", "Mbwambo", "Nyirenda", "Mapunda", "Komba", "Mfinanga", "Urio",
    "Laizer", "Mallya", "Minja", "Ngowi",
)
_RW_LAST = (
    "Uwimana", "Niyonzima", "Mukamana", "Habimana", "Uwase", "Nshimiyimana", "Mukeshimana",
    "Hakizimana", "Ingabire", "Nsengiyumva", "Umutoni", "Bizimana", "Uwamahoro", "Ndayisaba",
    "Mutesi", "Twagirimana", "Iradukunda", "Munyaneza",
)

COUNTRIES: dict[str, Country] = {
    "KE": Country("KE", "254", "KES", ("70", "71", "72", "74", "79"), "73", _KE_LAST),
    "UG": Country("UG", "256", "UGX", ("70", "75", "77", "78"), "79", _UG_LAST),
    "TZ": Country("TZ", "255", "TZS", ("71", "74", "75", "76"), "78", _TZ_LAST),
    "RW": Country("RW", "250", "RWF", ("72", "73", "78"), "79", _RW_LAST),
}

CURRENCIES: dict[str, Currency] = {
    "KES": Currency("KES", 2, "Kenyan Shilling", "KSh", 5_000, 150_000, 500),
    "UGX": Currency("UGX", 0, "Uganda Shilling", "USh", 300_000, 6_000_000, 50_000),
    "TZS": Currency("TZS", 2, "Tanzanian Shilling", "TSh", 200_000, 4_000_000, 50_000),
    "RWF": Currency("RWF", 0, "Rwanda Franc", "RF", 50_000, 1_500_000, 10_000),
}

_W, _M = PeriodFrequency.WEEKS, PeriodFrequency.MONTHS
LOAN_PRODUCTS: tuple[LoanProductSeed, ...] = (
    LoanProductSeed(1, "BWK", "Biashara Weekly (KES)", "KES", _W, 1, 16, 24, 1, False),
    LoanProductSeed(2, "KLM", "Kilimo Monthly (KES)", "KES", _M, 1, 12, 18, 2, False),
    LoanProductSeed(3, "BODA", "Boda Boda Fortnightly (KES)", "KES", _W, 2, 12, 22, 1, False),
    LoanProductSeed(4, "KGL", "Kikundi Group Loan (KES)", "KES", _W, 1, 20, 20, 1, True),
    LoanProductSeed(5, "BUG", "Bizinensi Weekly (UGX)", "UGX", _W, 1, 20, 26, 1, False),
    LoanProductSeed(6, "EKY", "Ekyalo Monthly (UGX)", "UGX", _M, 1, 6, 24, 2, False),
    LoanProductSeed(7, "MKW", "Mkopo Wiki (TZS)", "TZS", _W, 1, 24, 25, 1, False),
    LoanProductSeed(8, "KTZ", "Kilimo Monthly (TZS)", "TZS", _M, 1, 12, 20, 0, False),
    LoanProductSeed(9, "INGU", "Inguzanyo Monthly (RWF)", "RWF", _M, 1, 10, 19, 1, False),
    LoanProductSeed(10, "ISO", "Isoko Weekly (RWF)", "RWF", _W, 1, 12, 21, 0, False),
)

# (id, short name, name, currency, nominal annual interest %)
SAVINGS_PRODUCTS: tuple[tuple[int, str, str, str, int], ...] = (
    (1, "AKE", "Akiba Savings (KES)", "KES", 6),
    (2, "AUG", "Okutereka Savings (UGX)", "UGX", 5),
    (3, "ATZ", "Akiba Savings (TZS)", "TZS", 5),
    (4, "ARW", "Kuzigama Savings (RWF)", "RWF", 4),
)

FEMALE_NAMES = (
    "Grace", "Mary", "Faith", "Mercy", "Esther", "Joyce", "Agnes", "Beatrice", "Winnie", "Lucy",
    "Akinyi", "Wanjiku", "Njeri", "Auma", "Nafula", "Chepkoech", "Zawadi", "Rehema", "Neema", "Amina",
    "Halima", "Fatuma", "Mwanaisha", "Imani", "Aisha", "Sarah", "Ruth", "Damaris", "Nakimuli",
    "Namazzi", "Aciro", "Adong", "Scovia", "Immaculate", "Claudine", "Jeanne", "Aline", "Divine",
    "Esperance", "Annet", "Prossy", "Harriet", "Janeth", "Happiness", "Upendo", "Tumaini",
)
MALE_NAMES = (
    "John", "Peter", "Joseph", "David", "James", "Samuel", "Daniel", "Paul", "Moses", "Francis",
    "Otieno", "Kiprotich", "Wafula", "Kamau", "Baraka", "Juma", "Hamisi", "Bakari", "Musa", "Ali",
    "Omari", "Rashidi", "Emmanuel", "Godfrey", "Denis", "Ivan", "Ronald", "Patrick", "Okwir",
    "Kato", "Ssali", "Jean", "Eric", "Innocent", "Olivier", "Emmanuel", "Jumanne", "Elia", "Amani",
)
GROUP_WORDS = (
    "Umoja", "Tumaini", "Upendo", "Amani", "Neema", "Baraka", "Jitegemee", "Mwangaza", "Twiyubake",
    "Kwagalana", "Tukolere", "Bidii", "Faraja", "Imara", "Subira", "Mshikamano", "Tujenge", "Nguvu",
)

# How people type their mobile number: (weight, style) over the country code and 9-digit number.
PHONE_STYLES: tuple[tuple[int, int], ...] = ((30, 0), (25, 4), (15, 1), (10, 5), (8, 6), (6, 2), (6, 3))


def format_phone(style: int, calling_code: str, nsn: str) -> str:
    """Write a national significant number the way style `style` of a person would type it."""
    if style == 0:
        return f"+{calling_code}{nsn}"
    if style == 1:
        return f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
    if style == 2:
        return f"{calling_code}-{nsn[:3]}-{nsn[3:]}"
    if style == 3:
        return f"(0{nsn[:3]}) {nsn[3:]}"
    if style == 4:
        return f"0{nsn}"
    if style == 5:
        return f"+{calling_code} {nsn[:3]} {nsn[3:]}"
    return f"{calling_code}{nsn}"


def subscriber_digits(serial: int) -> str:
    """Seven digits that differ for every serial below 10**7, so generated numbers never collide."""
    # 7_654_321 is coprime with 10**7, which makes the map a bijection on 0..10**7-1.
    return f"{(serial * 7_654_321 + 1_234_567) % 10_000_000:07d}"


def malformed_phone(kind: int, client_id: int) -> str:
    """A number typed wrong on purpose; it includes the client id because mobile_no is unique."""
    if kind == 0:
        return f"07{client_id}" if client_id < 1_000_000 else f"+999{client_id}"
    if kind == 1:
        return f"+999{client_id}"
    if kind == 2:
        return f"O7{client_id}"  # letter O typed for zero
    return f"n/a {client_id}"
