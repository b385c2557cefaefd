"""Sending processes share a provider's rate limit through their heartbeats, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from herald.app import Herald
from herald.config import Settings


def _herald(db_url: str, tmp_path: Path) -> Herald:
    providers = [{"kind": "simulator", "name": "sim", "rate_limit": 40}]
    settings = Settings(home=tmp_path, database_url=db_url, providers=json.dumps(providers))
    return Herald.build(settings)


def test_every_live_process_takes_an_equal_share_of_the_rate_and_a_leaving_one_gives_it_back(
    db_url: str, tmp_path: Path
) -> None:
    if db_url.startswith("postgresql"):
        from herald.store.database import make_engine, upgrade

        upgrade(make_engine(db_url))
    first, second = _herald(db_url, tmp_path), _herald(db_url, tmp_path)
    try:
        assert first.presence.beat() == 1
        assert first.gates["sim"].process_rate == 40
        assert second.presence.beat() == 2
        assert first.presence.beat() == 2
        assert first.gates["sim"].process_rate == second.gates["sim"].process_rate == 20
        first.presence.mark_stopping()  # a stopping process no longer counts
        assert second.presence.beat() == 1 and second.gates["sim"].process_rate == 40
        first.presence.leave()
        assert second.presence.beat() == 1
    finally:
        first.close()
        second.close()
