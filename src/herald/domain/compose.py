"""Message composition and the recipient decision: a rule's row made into a PENDING or INVALID message, and why.

Campaigns (materialize, preview, triggered events) and the drop-in gateway decide here, so a
number refused in one place is refused the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from herald.domain.message import MessageStatus
from herald.domain.phones import PhoneRejection, normalize
from herald.domain.segments import Alphabet, count_segments
from herald.domain.templates import MAX_SEGMENTS, Template


class Addressee(Protocol):
    """What composing needs of a rule's row: where the client is, the number, the template's values."""

    @property
    def office_id(self) -> int: ...

    @property
    def mobile_no(self) -> str | None: ...

    @property
    def variables(self) -> dict[str, str]: ...


R = TypeVar("R", bound=Addressee)


@dataclass(frozen=True)
class Composed(Generic[R]):
    """One audience row made into a message (sendable or INVALID with its reason)."""

    row: R
    body: str
    mobile_no: str | None
    status: MessageStatus
    reason: str | None
    encoding: str
    segments: int
    language: str | None = None  # the language of the template it was rendered from (domain/languages.py)


def compose(
    rows: Iterable[R],
    template: Template,
    regions: Mapping[int, str],
    default_region: str,
    opted_out: Set[str] = frozenset(),
    alphabet: Alphabet = Alphabet.GSM7,
    pick: Callable[[R], tuple[str | None, Template]] | None = None,
) -> Iterator[Composed[R]]:
    """Render and check each row; a bad, missing or opted-out number, or a body of more than MAX_SEGMENTS
    segments (long variable values), makes an INVALID message, never a send.

    `regions`: the phone region of each office of the rows' tenant that has a profile; other
    offices use `default_region`. `alphabet`: how the campaign's provider reads data_coding 0 (an SMPP
    link's `default_alphabet`), which decides the encoding and so the segments a text costs. `pick`:
    the language and template of each row, for a campaign written in several languages; None: `template`.
    """
    render = template.render
    language: str | None = None
    for row in rows:
        if pick is not None:
            language, chosen = pick(row)
            body = chosen.render(row.variables)
        else:
            body = render(row.variables)
        info = count_segments(body, alphabet)
        status, number, reason = recipient(row.mobile_no, regions.get(row.office_id, default_region), opted_out)
        if info.segments > MAX_SEGMENTS and status is MessageStatus.PENDING:
            status, reason = MessageStatus.INVALID, f"too long: {info.segments} segments, at most {MAX_SEGMENTS}"
        yield Composed(row, body, number, status, reason, info.encoding.value, info.segments, language)


def recipient(raw: str | None, region: str, opted_out: Set[str]) -> tuple[MessageStatus, str | None, str | None]:
    """(status, number to store, reason) for a number as Fineract holds it: PENDING with its E.164 form,
    or INVALID with why (no or bad number, opted out)."""
    phone = normalize(raw, region)
    if isinstance(phone, PhoneRejection):
        return MessageStatus.INVALID, (raw or "")[:50] or None, phone.problem.value
    if phone.e164 in opted_out:
        return MessageStatus.INVALID, phone.e164, "opted out"
    return MessageStatus.PENDING, phone.e164, None
