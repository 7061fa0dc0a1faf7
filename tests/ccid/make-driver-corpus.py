#!/usr/bin/python3
"""make-driver-corpus.py - writes the seeds of tests/fuzz/corpus/ccid-driver

Each seed is a reader (see tests/fuzz/fuzz-ccid-driver.c for the format)
answering the harness's fixed command sequence: GetSlotStatus, power on,
SELECT, a 1007-byte PUT DATA, the pinpad VERIFY, power off.
Usage: make-driver-corpus.py DIR
"""
import os
import struct
import sys

FOLLOW = 0x80


def msg(mtype, data=b"", status=0, error=0, specific=0, seq=0):
    return struct.pack("<BIBBBBB", mtype, len(data), 0, seq, status, error, specific) + data


def slot_status(icc=0):
    return msg(0x81, status=icc)


def block(data, chain=0):
    return msg(0x80, data, specific=chain)


def frames(*replies):
    return b"".join(struct.pack("<H", len(r)) + r for r in replies)


def lrc(b):
    x = 0
    for c in b:
        x ^= c
    return bytes([x])


def t1(nad, pcb, inf=b""):
    p = bytes([nad, pcb, len(inf)]) + inf
    return p + lrc(p)


ATR_T1 = bytes.fromhex("3BDA18FF81B1FE751F030031C573C001400090000C")
ATR_T1_NOTA1 = bytes.fromhex("3B8A80010031C573C001400090000C")
OK = b"\x90\x00"


def seed_ext_apdu():
    # 272-byte messages: 262 data bytes per XfrBlock, 4 pieces for 1007.
    more = [block(b"", 0x10)] * 3
    return bytes([FOLLOW | 2, 16]) + frames(
        slot_status(), block(ATR_T1), block(OK), *more, block(OK), slot_status(1))


def seed_short_apdu_pinpad():
    return bytes([FOLLOW | 16 | 4 | 1, 16]) + frames(
        slot_status(), block(ATR_T1), block(b"\x6a\x82"), *([block(b"", 0x10)] * 3),
        block(b"\x6a\x80"),
        block(OK), slot_status(1))


def seed_response_chain():
    return bytes([FOLLOW | 2, 16]) + frames(
        slot_status(), block(ATR_T1), block(b"\x01" * 100, 1), block(b"\x02" * 100, 3),
        block(b"\x03" * 50 + OK, 2), *([block(b"", 0x10)] * 3), block(b"\x61\x00"),
        slot_status(1))


def seed_tpdu_t1():
    pps = bytes([0xFF, 0x11, 0x18, 0xFF ^ 0x11 ^ 0x18])
    params = msg(0x82, bytes([0x18, 0x10, 0xFF, 0x75, 0, 0xFE, 0]), specific=1)
    ifs = t1(0, 0xE1, b"\xfe")
    return bytes([FOLLOW | 0, 16]) + frames(
        slot_status(), block(ATR_T1), block(pps), params, block(ifs),
        block(t1(0, 0x00, OK)), block(t1(0, 0x40, OK)), slot_status(1))


def seed_tpdu_wtx():
    ifs = t1(0, 0xE1, b"\xfe")
    return bytes([FOLLOW | 4, 16]) + frames(
        slot_status(), block(ATR_T1_NOTA1), block(ifs), block(t1(0, 0xC3, b"\x05")),
        block(t1(0, 0x00, OK)), slot_status(1))


def seed_time_extension():
    wait = msg(0x80, status=0x80, error=2)
    return bytes([FOLLOW | 2, 255]) + frames(
        slot_status(), wait, block(ATR_T1), wait, wait, block(OK), slot_status(1))


def seed_stale_seq():
    # No FOLLOW: every reply carries bSeq 0, so only the first matches.
    return bytes([2, 16]) + frames(*([slot_status()] * 12))


def seed_lying_length():
    lie = bytearray(block(ATR_T1))
    lie[1] = 0xFF
    return bytes([FOLLOW | 2, 16]) + frames(slot_status(), bytes(lie))


def seed_failed_mute():
    return bytes([FOLLOW | 0, 16]) + frames(
        slot_status(), msg(0x80, status=0x40, error=0xFE), msg(0x80, status=0x40, error=0xFE),
        block(ATR_T1))


def seed_class_indicator():
    # T=15 with class indicator C only: re-power at 1.8 V.
    atr = bytes.fromhex("3B80811F04")
    x = 0
    for c in atr[1:]:
        x ^= c
    atr += bytes([x])
    return bytes([FOLLOW | 2, 16]) + frames(
        slot_status(), block(atr), slot_status(1), block(atr), block(OK), slot_status(1))


def seed_no_card():
    return bytes([FOLLOW | 2, 16]) + frames(slot_status(2), msg(0x80, status=0x42, error=0xFE))


SEEDS = {
    "ext-apdu-chained-command": seed_ext_apdu,
    "short-apdu-pinpad": seed_short_apdu_pinpad,
    "response-chain": seed_response_chain,
    "tpdu-t1-pps-ifsd": seed_tpdu_t1,
    "tpdu-t1-wtx": seed_tpdu_wtx,
    "time-extension": seed_time_extension,
    "stale-seq": seed_stale_seq,
    "lying-dwlength": seed_lying_length,
    "icc-mute-voltages": seed_failed_mute,
    "class-indicator-c": seed_class_indicator,
    "no-card": seed_no_card,
}

if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(fn())
