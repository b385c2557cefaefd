"""The SMPP 3.4 wire format herald needs: PDU header, the few command bodies, TLVs and their constants.

Shared by the adapter (an ESME) and the local fake SMSC; facts from providers.md section 3, no
library code. A PDU is a 16-octet header (command_length, command_id, command_status,
sequence_number, all big-endian 32-bit) and a body of C-strings, single octets and TLVs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

HEADER = struct.Struct(">IIII")
MAX_PDU = 64 * 1024  # far above any PDU herald exchanges; a larger length means the stream is garbage

BIND_TRANSCEIVER = 0x00000009
QUERY_SM = 0x00000003
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
DATA_SM = 0x00000103
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESPONSE = 0x80000000


def resp(command_id: int) -> int:
    """The response id of a request id (top bit set)."""
    return command_id | RESPONSE


# command_status values herald names (providers.md 3.6, plus the few the codec itself emits).
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RINVESMCLASS = 0x43
ESME_RSUBMITFAIL = 0x45
ESME_RINVSRCTON = 0x48
ESME_RINVSRCNPI = 0x49
ESME_RINVDSTTON = 0x50
ESME_RINVDSTNPI = 0x51
ESME_RTHROTTLED = 0x58
ESME_RINVSCHED = 0x61
ESME_RINVEXPIRY = 0x62
ESME_RX_T_APPN = 0x64  # ESME-side temporary error: asks the SMSC to redeliver a deliver_sm
ESME_RQUERYFAIL = 0x67
ESME_RINVOPTPARSTREAM = 0xC0
ESME_ROPTPARNOTALLWD = 0xC1
ESME_RINVPARLEN = 0xC2
ESME_RMISSINGOPTPARAM = 0xC3
ESME_RINVOPTPARAMVAL = 0xC4
ESME_RDELIVERYFAILURE = 0xFE
ESME_RUNKNOWNERR = 0xFF
# SMPP 3.4 has no standard "subscriber barred / unsubscribed" status; 0x400-0x4FF is the SMSC
# vendor range. herald assumes 0x401 for it; confirm the operator's own code when linking.
VENDOR_RBARRED = 0x401

# esm_class, registered_delivery and data_coding values (providers.md 3.3).
ESM_UDHI = 0x40
ESM_TYPE_MASK = 0x3C
ESM_RECEIPT = 0x04
REGISTERED_DELIVERY_FINAL = 0x01
DC_DEFAULT = 0x00
DC_IA5 = 0x01
DC_LATIN1 = 0x03
DC_UCS2 = 0x08

# TLV tags.
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_USER_MESSAGE_REFERENCE = 0x0204
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_STATE = 0x0427
TLV_MESSAGE_PAYLOAD = 0x0424


class PduError(ValueError):
    """Bytes that are not a well-formed PDU: the stream can no longer be trusted."""


@dataclass(frozen=True)
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    def encode(self) -> bytes:
        return HEADER.pack(HEADER.size + len(self.body), self.command_id, self.status, self.sequence) + self.body


def parse_header(header: bytes) -> tuple[int, int, int, int]:
    """(command_length, command_id, command_status, sequence_number); refuses impossible lengths."""
    length, command_id, status, sequence = HEADER.unpack(header)
    if not HEADER.size <= length <= MAX_PDU:
        raise PduError(f"command_length {length} is outside 16..{MAX_PDU}")
    return length, command_id, status, sequence


class Reader:
    """Reads a PDU body field by field; any overrun is a PduError, never an IndexError."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def cstring(self, limit: int = 256) -> str:
        end = self._data.find(b"\x00", self._pos)
        if end < 0 or end - self._pos >= limit:
            raise PduError("C-string without its NUL terminator")
        value = self._data[self._pos : end].decode("latin-1")
        self._pos = end + 1
        return value

    def octet(self) -> int:
        if self._pos >= len(self._data):
            raise PduError("body ends before a mandatory field")
        value = self._data[self._pos]
        self._pos += 1
        return value

    def octets(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise PduError("body ends inside an octet string")
        value = self._data[self._pos : self._pos + n]
        self._pos += n
        return value

    def tlvs(self, *, lenient: bool = False) -> dict[int, bytes]:
        """The optional parameters up to the end; `lenient`: a cut-short one ends them instead (see `received`)."""
        found: dict[int, bytes] = {}
        while self._pos < len(self._data):
            start = self._pos
            try:
                tag, length = struct.unpack(">HH", self.octets(4))
                found[tag] = self.octets(length)
            except PduError:
                if not lenient or self._data[start : start + 2] == TLV_MESSAGE_PAYLOAD.to_bytes(2, "big"):
                    raise
                break
        return found


def cstr(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


@dataclass(frozen=True)
class Bind:
    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""

    def encode(self) -> bytes:
        return (
            cstr(self.system_id)
            + cstr(self.password)
            + cstr(self.system_type)
            + bytes([self.interface_version, self.addr_ton, self.addr_npi])
            + cstr(self.address_range)
        )

    @classmethod
    def decode(cls, body: bytes) -> Bind:
        r = Reader(body)
        # Generous limits: a lenient reader, the fake SMSC judges credentials itself.
        return cls(r.cstring(), r.cstring(), r.cstring(), r.octet(), r.octet(), r.octet(), r.cstring())

    def __repr__(self) -> str:  # the password never reaches a log
        return f"Bind(system_id={self.system_id!r}, password='***')"


@dataclass(frozen=True)
class ShortMessage:
    """The body shared by submit_sm and deliver_sm (same mandatory fields, in the same order)."""

    source_addr: str
    destination_addr: str
    short_message: bytes
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    esm_class: int = 0
    data_coding: int = DC_DEFAULT
    registered_delivery: int = 0
    service_type: str = ""
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def encode(self) -> bytes:
        if len(self.short_message) > 254:
            raise PduError("short_message above 254 octets")
        return (
            cstr(self.service_type)
            + bytes([self.source_addr_ton, self.source_addr_npi])
            + cstr(self.source_addr)
            + bytes([self.dest_addr_ton, self.dest_addr_npi])
            + cstr(self.destination_addr)
            + bytes([self.esm_class, self.protocol_id, self.priority_flag])
            + cstr(self.schedule_delivery_time)
            + cstr(self.validity_period)
            + bytes([self.registered_delivery, 0, self.data_coding, 0, len(self.short_message)])
            + self.short_message
            + b"".join(tlv(tag, value) for tag, value in self.tlvs.items())
        )

    @classmethod
    def decode(cls, body: bytes, *, lenient: bool = False) -> ShortMessage:
        r = Reader(body)
        service_type = r.cstring(6)
        source_ton, source_npi, source = r.octet(), r.octet(), r.cstring(21)
        dest_ton, dest_npi, dest = r.octet(), r.octet(), r.cstring(21)
        esm_class, protocol_id, priority = r.octet(), r.octet(), r.octet()
        schedule, validity = r.cstring(17), r.cstring(17)
        registered, _replace, data_coding, _default_id = r.octet(), r.octet(), r.octet(), r.octet()
        short_message = r.octets(r.octet())
        return cls(
            source_addr=source,
            destination_addr=dest,
            short_message=short_message,
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            dest_addr_ton=dest_ton,
            dest_addr_npi=dest_npi,
            esm_class=esm_class,
            data_coding=data_coding,
            registered_delivery=registered,
            service_type=service_type,
            protocol_id=protocol_id,
            priority_flag=priority,
            schedule_delivery_time=schedule,
            validity_period=validity,
            tlvs=r.tlvs(lenient=lenient),
        )


def data_sm_body(sm: ShortMessage) -> bytes:
    """`sm` as a data_sm body: no short_message field there, so a text travels in message_payload."""
    tlvs = dict(sm.tlvs)
    if sm.short_message and TLV_MESSAGE_PAYLOAD not in tlvs:
        tlvs[TLV_MESSAGE_PAYLOAD] = sm.short_message
    return (
        cstr(sm.service_type)
        + bytes([sm.source_addr_ton, sm.source_addr_npi])
        + cstr(sm.source_addr)
        + bytes([sm.dest_addr_ton, sm.dest_addr_npi])
        + cstr(sm.destination_addr)
        + bytes([sm.esm_class, sm.registered_delivery, sm.data_coding])
        + b"".join(tlv(tag, value) for tag, value in tlvs.items())
    )


def decode_data_sm(body: bytes, *, lenient: bool = False) -> ShortMessage:
    """A data_sm as a ShortMessage with an empty short_message (its text, if any, is in the TLVs)."""
    r = Reader(body)
    service_type = r.cstring(6)
    source_ton, source_npi, source = r.octet(), r.octet(), r.cstring(65)
    dest_ton, dest_npi, dest = r.octet(), r.octet(), r.cstring(65)
    esm_class, registered, data_coding = r.octet(), r.octet(), r.octet()
    return ShortMessage(
        source_addr=source,
        destination_addr=dest,
        short_message=b"",
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        dest_addr_ton=dest_ton,
        dest_addr_npi=dest_npi,
        esm_class=esm_class,
        data_coding=data_coding,
        registered_delivery=registered,
        service_type=service_type,
        tlvs=r.tlvs(lenient=lenient),
    )


def received(pdu: Pdu) -> ShortMessage:
    """The message in an SMSC's deliver_sm or data_sm, its text in `short_message` however it travelled.

    SMPP 3.4 lets the text come in the message_payload TLV with sm_length 0 (data_sm has no other
    place for it): that payload is moved into `short_message`, which may then exceed 254 octets, so
    the result is for reading, never for encoding again.

    An optional parameter cut short (a vendor TLV an SMSC gets wrong) ends the parameters rather than
    refusing the message: a STOP whole in short_message is kept. A cut-short message_payload is the
    text itself, so that message is refused (PduError) rather than kept empty.
    """
    if pdu.command_id == DATA_SM:
        sm = decode_data_sm(pdu.body, lenient=True)
    elif pdu.command_id == DELIVER_SM:
        sm = ShortMessage.decode(pdu.body, lenient=True)
    else:
        raise PduError(f"command 0x{pdu.command_id:08X} carries no message")
    payload = sm.tlvs.get(TLV_MESSAGE_PAYLOAD)
    if not sm.short_message and payload:
        return replace(sm, short_message=payload)
    return sm


def message_id_body(message_id: str) -> bytes:
    """The body of submit_sm_resp (and deliver_sm_resp and data_sm_resp, whose message_id herald leaves empty)."""
    return cstr(message_id)


def decode_message_id(body: bytes) -> str:
    return Reader(body).cstring(65) if body else ""


def query_sm_body(message_id: str, source_addr: str, ton: int, npi: int) -> bytes:
    return cstr(message_id) + bytes([ton, npi]) + cstr(source_addr)


def decode_query_sm(body: bytes) -> tuple[str, str]:
    """(message_id, source_addr) of a query_sm; the source address is empty when the ESME sent NULL."""
    reader = Reader(body)
    message_id = reader.cstring(65)
    reader.octet(), reader.octet()  # TON and NPI of the source address
    return message_id, reader.cstring(21)


@dataclass(frozen=True)
class QueryResult:
    message_id: str
    final_date: str
    message_state: int
    error_code: int

    def encode(self) -> bytes:
        return cstr(self.message_id) + cstr(self.final_date) + bytes([self.message_state, self.error_code])

    @classmethod
    def decode(cls, body: bytes) -> QueryResult:
        r = Reader(body)
        return cls(r.cstring(65), r.cstring(17), r.octet(), r.octet())


def udh_concat(reference: int, total: int, sequence: int) -> bytes:
    """The 6-octet concatenation header with an 8-bit reference: 05 00 03 ref total seq."""
    return bytes([0x05, 0x00, 0x03, reference & 0xFF, total, sequence])
