"""The torture verdict: herald's sendable messages against what the providers logged, in words a failure can show.

Each (To, Body) herald had to send (every message not INVALID) must be in the providers' logs
exactly as many times as herald holds it, nothing else may be there, and herald's own record must
agree: nothing left Pending, an accepted message carries an id the provider issued for that very
message, and none is Failed that a provider took. Numbers are masked as herald's logs mask them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from herald.domain.phones import mask

INVALID, PENDING, FAILED = 0, 100, 400
ACCEPTED_STATUSES = (150, 200, 300)  # waiting for a delivery report, sent, delivered
SHOWN = 12  # items listed per kind of failure; the count says how many there are in all


@dataclass
class Verdict:
    """What the providers accepted compared with what herald had to send, and any other broken promise."""

    expected: int
    accepted: int
    duplicated: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    not_final: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicates: int = 0  # extra copies in all

    @property
    def ok(self) -> bool:
        return not (self.duplicated or self.lost or self.unexpected or self.not_final or self.problems)

    def summary(self) -> str:
        lines = [
            f"{self.expected} sendable messages, {self.accepted} accepted at the providers: "
            f"{self.duplicates} duplicates ({len(self.duplicated)} messages), {len(self.lost)} lost, "
            f"{len(self.unexpected)} never sendable, {len(self.not_final)} not final in herald"
        ]
        for title, items in (
            ("other problems", self.problems),
            ("duplicated", self.duplicated),
            ("lost (never accepted)", self.lost),
            ("accepted but not sendable", self.unexpected),
            ("not final in herald", self.not_final),
        ):
            if items:
                lines.append(f"  {title}:")
                lines += [f"    {item}" for item in items[:SHOWN]]
                if len(items) > SHOWN:
                    lines.append(f"    ... and {len(items) - SHOWN} more")
        return "\n".join(lines)

    def check(self) -> None:
        assert self.ok, self.summary()


def judge(rows: Sequence[Any], logs: Mapping[str, Sequence[Mapping[str, Any]]]) -> Verdict:
    """Compare herald's message rows (id, mobile_no, body, status, external_id, error_code, attempts) with the logs.

    `logs` maps a provider's name to the messages it accepted, each with sid, to, body and t.
    """
    sendable = Counter((r.mobile_no, r.body) for r in rows if r.status != INVALID)
    accepted: dict[tuple[str, str], list[str]] = {}
    sids: dict[str, tuple[str, str]] = {}
    for name, log in logs.items():
        for m in log:
            key = (m["to"], m["body"])
            stamp = time.strftime("%H:%M:%S", time.gmtime(m["t"])) + f".{int(m['t'] * 10) % 10}"
            accepted.setdefault(key, []).append(f"{name} {m['sid'][:10]}.. at {stamp}")
            sids[m["sid"]] = key
    verdict = Verdict(expected=sum(sendable.values()), accepted=sum(len(v) for v in accepted.values()))
    for key, wanted in sorted(sendable.items()):
        got = accepted.get(key, [])
        if len(got) > wanted:
            verdict.duplicates += len(got) - wanted
            verdict.duplicated.append(f"{mask(key[0])} {key[1]!r} accepted {len(got)} times: {'; '.join(got)}")
        elif len(got) < wanted:
            verdict.lost.append(f"{mask(key[0])} {key[1]!r} accepted {len(got)} of {wanted} times")
    for key, got in sorted(accepted.items()):
        if key not in sendable:
            verdict.unexpected.append(f"{mask(key[0])} {key[1]!r} accepted {len(got)} times")
    for r in rows:
        taken = accepted.get((r.mobile_no, r.body))
        if r.status == PENDING:
            verdict.not_final.append(
                f"message {r.id} to {mask(r.mobile_no)} still Pending after {r.attempts} attempts"
                f" (last error {r.error_code})" + (f", though {taken[0]} accepted it" if taken else "")
            )
        elif r.status in ACCEPTED_STATUSES and sids.get(r.external_id or "") != (r.mobile_no, r.body):
            verdict.not_final.append(
                f"message {r.id} to {mask(r.mobile_no)} recorded as accepted with id {r.external_id!r},"
                " which no provider issued for it"
            )
        elif r.status == FAILED and taken:
            verdict.not_final.append(
                f"message {r.id} to {mask(r.mobile_no)} recorded as Failed ({r.error_code}) although {taken[0]} took it"
            )
    return verdict


def per_second_over(windows: Sequence[tuple[int, int]], limit: float, tolerance: float) -> list[str]:
    """The 1-second windows (UTC) in which a provider accepted more than `limit`, plus the tolerance and one."""
    ceiling = limit * (1 + tolerance) + 1
    return [
        f"{n} messages in the second from {time.strftime('%H:%M:%S', time.gmtime(s))} UTC"
        for s, n in windows
        if n > ceiling
    ]
