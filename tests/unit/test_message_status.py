"""The message lifecycle table: forward moves only, final statuses stay final."""

from itertools import product

import pytest

from herald.domain.message import FINAL_STATUSES, TRANSITIONS, MessageStatus, can_move, sources_of

S = MessageStatus


def test_codes_are_fineracts() -> None:
    assert [(s.name, s.value) for s in S] == [
        ("INVALID", 0),
        ("PENDING", 100),
        ("WAITING_FOR_DELIVERY_REPORT", 150),
        ("SENT", 200),
        ("DELIVERED", 300),
        ("FAILED", 400),
    ]


def test_every_allowed_move_goes_forward_in_code_order_or_refuses_an_unsent_message() -> None:
    for current, targets in TRANSITIONS.items():
        for new in targets:
            assert new.value > current.value or (current, new) == (S.PENDING, S.INVALID), (current, new)


def test_only_a_pending_message_can_still_become_invalid() -> None:
    assert sources_of(S.INVALID) == {S.PENDING}


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
def test_final_statuses_never_move(final: MessageStatus) -> None:
    assert not any(can_move(final, new) for new in S)


def test_a_late_sent_report_after_delivered_is_refused() -> None:
    assert not can_move(S.DELIVERED, S.SENT)
    assert not can_move(S.SENT, S.WAITING_FOR_DELIVERY_REPORT)


def test_reports_may_skip_sent() -> None:
    assert can_move(S.WAITING_FOR_DELIVERY_REPORT, S.DELIVERED)
    assert can_move(S.WAITING_FOR_DELIVERY_REPORT, S.FAILED)


def test_no_status_moves_to_itself_so_duplicate_reports_change_nothing() -> None:
    for s in S:
        assert not can_move(s, s)


def test_sources_of_is_the_inverse_of_the_table() -> None:
    for current, new in product(S, S):
        assert (current in sources_of(new)) == can_move(current, new)


def test_labels_are_the_tab_names() -> None:
    assert S.WAITING_FOR_DELIVERY_REPORT.label == "Waiting for delivery report"
    assert S.PENDING.label == "Pending"
