"""The message lifecycle table: forward moves only, final statuses stay final."""

from itertools import product

import pytest

from herald.domain.message import (
    AWAITING_REPORT,
    COUNTED_AS_FAILED,
    FINAL_STATUSES,
    IN_FLIGHT,
    OUTCOMES,
    TAB_ORDER,
    TRANSITIONS,
    MessageStatus,
    can_move,
    sources_of,
    status_named,
)

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


def test_the_tabs_show_every_status_once_in_the_seeds_order() -> None:
    assert [s.label for s in TAB_ORDER] == [
        "Pending",
        "Waiting for delivery report",
        "Sent",
        "Delivered",
        "Failed",
        "Invalid",
    ]
    assert sorted(TAB_ORDER) == list(S)


def test_in_flight_and_final_split_the_statuses_and_match_the_transition_table() -> None:
    assert set(S) == IN_FLIGHT | FINAL_STATUSES and not IN_FLIGHT & FINAL_STATUSES
    # a status is in flight exactly when it can still move
    assert {s for s, targets in TRANSITIONS.items() if targets} == IN_FLIGHT


def test_awaiting_a_report_is_what_a_provider_holds_and_outcomes_are_what_it_reports_last() -> None:
    assert IN_FLIGHT - {S.PENDING} == AWAITING_REPORT
    assert FINAL_STATUSES - {S.INVALID} == OUTCOMES
    assert all(can_move(waiting, outcome) for waiting in AWAITING_REPORT for outcome in OUTCOMES)


def test_counted_as_failed_is_every_final_status_but_delivered() -> None:
    assert FINAL_STATUSES - {S.DELIVERED} == COUNTED_AS_FAILED


@pytest.mark.parametrize("status", list(S), ids=lambda s: s.name)
def test_a_status_is_found_by_its_name_and_its_word_in_any_case(status: MessageStatus) -> None:
    for text in (status.name, status.name.lower(), status.word, status.word.upper(), f" {status.word} "):
        assert status_named(text) is status, text


def test_the_words_are_the_tabs_url_words() -> None:
    assert [s.word for s in TAB_ORDER] == ["pending", "waiting", "sent", "delivered", "failed", "invalid"]


@pytest.mark.parametrize("text", ["", "deliver", "300", "waiting for", "sent!"])
def test_anything_else_names_no_status(text: str) -> None:
    assert status_named(text) is None
