"""A long message's status from its parts': every combination of two parts, and parts never going back."""

from __future__ import annotations

import itertools

from herald.domain.message import MessageStatus
from herald.domain.multipart import combine, part_moves

S, D, F = MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED


def test_every_pair_of_part_statuses_combines_by_the_rule() -> None:
    expected = {
        (None, None): None,
        (None, S): S,
        (None, D): S,  # half the text arrived: on its way, not delivered
        (None, F): F,
        (S, S): S,
        (S, D): S,
        (S, F): F,
        (D, D): D,
        (D, F): F,
        (F, F): F,
    }
    for a, b in itertools.product([None, S, D, F], repeat=2):
        key = (a, b) if (a, b) in expected else (b, a)
        assert combine([a, b]) is expected[key], (a, b)


def test_a_part_moves_forward_only() -> None:
    assert part_moves(None, S) and part_moves(S, D) and part_moves(S, F) and part_moves(None, D)
    assert not part_moves(D, S) and not part_moves(D, F) and not part_moves(F, D)
    assert not part_moves(None, MessageStatus.PENDING)
