"""An upgrade from a database without an installation id while attempts are in flight under the old
`herald-<id>-<attempt>` messageId: the send after the upgrade asks Infobip under both forms, adopts what
Infobip holds, sends nothing twice, and the reports then land. Counted at the fake Infobip.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from herald.clock import ManualClock
from herald.domain.message import MessageStatus
from herald.fakes.infobip import FakeInfobip, Injection
from herald.worker import puller_for, sender_for
from tests.e2e.test_infobip_accounts import _campaign, _clients, _herald, _parked, _provider, _rows, _run, _settle_all
from tests.fineract_builder import FineractBuilder


def test_attempts_in_flight_under_the_old_message_id_form_are_adopted_after_the_upgrade_and_get_their_reports(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    _clients(fineract, 3)

    async def body(fake: FakeInfobip) -> None:
        herald = _herald(tmp_path / "h", fineract, clock, [_provider("ib", fake.url, "MFI")])
        try:
            _campaign(herald, "ib")
            fake.inject(Injection.LOST_ANSWER)  # Infobip takes them; herald hears nothing
            await sender_for(herald).run()
            assert {r.external_id for r in _rows(herald)} == {None}
            # As the herald before the upgrade sent them: herald-<row id>-<attempt>, no installation id.
            for ref, message in list(fake.messages.items()):
                row_id, attempt = ref.rsplit("-", 2)[-2:]
                old = f"herald-{row_id}-{attempt}"
                del fake.messages[ref]
                fake.messages[old] = replace(message, message_id=old)
            clock.advance(timedelta(minutes=1))
            await sender_for(herald).run()
            rows = _rows(herald)
            assert len(fake.messages) == 3  # nothing sent twice
            assert sorted(r.external_id for r in rows) == sorted(fake.messages)  # each adopted under its old id
            _settle_all(fake, failing={rows[0].mobile_no.lstrip("+")})
            await puller_for(herald).pull()
            statuses = [r.status for r in _rows(herald)]
            assert statuses == [MessageStatus.FAILED, MessageStatus.DELIVERED, MessageStatus.DELIVERED]
            assert _parked(herald) == 0 and len(fake.messages) == 3
        finally:
            await herald.close_providers()
            herald.close()

    _run(body)
