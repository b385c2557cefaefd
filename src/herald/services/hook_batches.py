"""Hooks that arrive together are stored together: one `materialize_events` for all waiting at once
(services/batches.py).

Each hook is answered only once its messages are stored, as before, and about itself (created or
duplicate). At 500 hooks a second, one at a time spent its time in commits and the hooks queued
behind one another for seconds. A hook whose ids the rule cannot use gets a ParameterError of its
own; a batch that fails as a whole is stored again one hook at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from herald.errors import HeraldError, ParameterError
from herald.services.batches import MOST, Batches, Then
from herald.services.hooks import FineractEvent
from herald.services.triggered import EventOutcome, Materialized

Store = Callable[[Sequence[FineractEvent]], Materialized]


class HookBatches(Batches[FineractEvent, dict[str, Any]]):
    """Stores hooks in batches on this event loop; `store(event)` returns that hook's counts
    (campaigns, created, duplicates, too_late) or raises the HeraldError that kept it from being stored."""

    def __init__(self, store: Store, on_pending: Callable[[list[int]], None], most: int = MOST) -> None:
        """`store`: materialize_events with its parts bound; `on_pending`: told each batch's new PENDING ids."""

        def store_all(events: Sequence[FineractEvent]) -> tuple[list[dict[str, Any] | HeraldError], Then]:
            done = store(events)
            pending = list(done.pending_ids)
            return [_counts(o) for o in done.outcomes], (lambda: on_pending(pending)) if pending else None

        super().__init__(store_all, most)


def _counts(outcome: EventOutcome) -> dict[str, Any] | HeraldError:
    if outcome.refused is not None:
        return ParameterError(outcome.refused)
    return {
        "campaigns": outcome.campaigns,
        "created": outcome.created,
        "duplicates": outcome.duplicates,
        "too_late": outcome.too_late,
    }
