"""What Fineract writes, written by Fineract's own encoder: Apache Avro for Java, single-object encoding.

Fineract's generated event classes serialise with Java Avro's BinaryMessageEncoder. A small Java
program of the tests' (java/FineractEncoder.java, run from source) does the same from herald's
shipped schema files: every schema's fingerprint must be the one herald computes (else herald would
refuse every real event), the tests' Python encoder (tests/fineract_events.py) must write the same
bytes for the same event (so the other tests feed herald what Fineract feeds it), and herald must
read what Java wrote. Debian's libavro-java and a JDK are installed when missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from herald.events.avro import SchemaBook, shipped_book
from herald.events.envelope import open_envelope
from herald.events.kinds import KINDS
from herald.events.schema_files import shipped
from tests.debian import apt_install
from tests.fineract_events import EventWriter, category_of, instalment_due, repayment

pytestmark = pytest.mark.xdist_group("java-avro")

JAVA_DIR = Path(__file__).parent / "java"
JARS = ("avro.jar", "jackson-core-asl.jar", "jackson-mapper-asl.jar", "slf4j-api.jar")


def _java_ready() -> None:
    if shutil.which("javac") is None:
        apt_install("default-jdk-headless")
    if not Path("/usr/share/java/avro.jar").exists():
        apt_install("libavro-java")


class JavaEncoder:
    """The Java program, started once per release; one request line in, one answer line out."""

    def __init__(self, folder: Path) -> None:
        classpath = ":".join(f"/usr/share/java/{jar}" for jar in JARS)
        self.process = subprocess.Popen(
            ["java", "-cp", classpath, str(JAVA_DIR / "FineractEncoder.java"), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def ask(self, request: dict[str, object]) -> list[str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        lines = []
        while True:
            line = self.process.stdout.readline()
            assert line, "the Java encoder stopped (run it by hand to see why)"
            if not request.get("fingerprints"):
                return [line.strip()]
            if line.strip() == "END":
                return lines
            lines.append(line.strip())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module", params=sorted(shipped()))
def java(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, JavaEncoder]]:
    """Java's encoder over one shipped release's schema files, written back out as .avsc files."""
    _java_ready()
    release = request.param
    folder = tmp_path_factory.mktemp(f"avsc-{release}")
    for name, schema in shipped()[release].items():
        (folder / f"{name}.avsc").write_text(json.dumps(schema, indent=2))
    encoder = JavaEncoder(folder)
    yield release, encoder
    encoder.close()


def test_every_fingerprint_is_the_one_java_computes(java: tuple[str, JavaEncoder]) -> None:
    release, encoder = java
    theirs = dict(line.split() for line in encoder.ask({"fingerprints": True}))
    ours = {s.name: s.fingerprint.hex() for s in SchemaBook({release: shipped()[release]}).schemas()}
    assert len(theirs) == len(shipped()[release]) > 70
    assert ours == theirs


EVENTS: list[tuple[str, dict[str, object]]] = [
    ("LoanTransactionMakeRepaymentPostBusinessEvent", repayment(77031, 4410, "1234.5")),
    ("LoanRepaymentDueBusinessEvent", instalment_due(4410, 3)),
    (
        "ClientCreateBusinessEvent",
        {"id": 915, "firstname": "Akinyi", "lastname": "Odhiambo", "mobileNo": "+254712345678", "officeId": 2},
    ),
    ("LoanApprovedBusinessEvent", {"id": 4410, "clientId": 915, "principal": "50000", "accountNo": "000004410"}),
    ("SavingsDepositBusinessEvent", {"id": 99, "accountId": 12, "amount": "300.25", "reversed": False}),
]


@pytest.mark.parametrize(("type_", "payload"), EVENTS, ids=[t for t, _ in EVENTS])
def test_the_tests_encoder_writes_what_java_writes_and_herald_reads_both(
    java: tuple[str, JavaEncoder], type_: str, payload: dict[str, object]
) -> None:
    release, encoder = java
    envelope = {
        "id": 31337,
        "source": "7b6e4c52-0f6b-4c3e-9a0e-3f1d2c4b5a69",
        "type": type_,
        "category": category_of(type_),
        "createdAt": "2026-12-01T07:15:42.123456",
        "businessDate": "2026-12-01",
        "tenantId": "default",
        "idempotencyKey": "5f0e8a8e-2d8b-4f55-9d0c-0e6d1b2a3c4d",
    }
    theirs = bytes.fromhex(encoder.ask({"envelope": envelope, "dataschema": KINDS[type_].schema, "data": payload})[0])
    ours = EventWriter(release).event(
        type_,
        payload,
        tenant="default",
        key=envelope["idempotencyKey"],
        event_id=31337,
        created_at=datetime(2026, 12, 1, 7, 15, 42, 123456, tzinfo=UTC),
        business_date=date(2026, 12, 1),
    )
    assert ours == theirs
    read = open_envelope(theirs, shipped_book(), KINDS)
    (event,) = read.events
    assert (event.type, event.tenant, event.key, event.event_id) == (
        type_,
        "default",
        envelope["idempotencyKey"],
        31337,
    )
    assert event.created_at == datetime(2026, 12, 1, 7, 15, 42, 123456, tzinfo=UTC)
    assert event.payload is not None and event.problem is None
    assert KINDS[type_].ids(event.payload) == KINDS[type_].ids(payload)
