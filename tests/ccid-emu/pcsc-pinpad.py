#!/usr/bin/python3
# pcsc-pinpad.py - verify PW1 on the pinpad of a PC/SC reader (PC/SC v2 part 10)
#
# Usage: pcsc-pinpad.py
# Through the pcscd named by PCSCLITE_CSOCK_NAME: asks the first reader for
# its features, SELECTs the OpenPGP application and runs
# FEATURE_VERIFY_PIN_DIRECT for PW1 (the reader supplies the PIN).  Prints
# "SW xxxx" of the VERIFY; exits 1 if the reader has no such feature.
import struct
import sys

from smartcard.scard import (SCARD_CTL_CODE, SCARD_PROTOCOL_T1, SCARD_S_SUCCESS,
                             SCARD_SCOPE_USER, SCARD_SHARE_SHARED,
                             SCARD_UNPOWER_CARD, SCardConnect, SCardControl,
                             SCardDisconnect, SCardEstablishContext,
                             SCardListReaders, SCardReleaseContext,
                             SCardTransmit)

FEATURE_VERIFY_PIN_DIRECT = 0x06
SELECT_OPENPGP = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01]


def features(card):
    """{tag: control code} from CM_IOCTL_GET_FEATURE_REQUEST."""
    rv, tlv = SCardControl(card, SCARD_CTL_CODE(3400), [])
    if rv != SCARD_S_SUCCESS:
        return {}
    out = {}
    for i in range(0, len(tlv) - 5, 6):
        out[tlv[i]] = struct.unpack(">I", bytes(tlv[i + 2:i + 6]))[0]
    return out


def verify_structure(apdu):
    """PIN_VERIFY_STRUCTURE: ASCII PIN at byte 0, variable length, 6..32."""
    head = struct.pack("<BBBBBHBBHB3sI", 0, 0, 0x82, 0x00, 0x00, 0x0620, 0x02,
                       0x01, 0x0409, 0, b"\0\0\0", len(apdu))
    return list(head) + apdu


def main():
    rv, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    rv, readers = SCardListReaders(ctx, [])
    if rv != SCARD_S_SUCCESS or not readers:
        print("no reader")
        return 1
    rv, card, _ = SCardConnect(ctx, readers[0], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1)
    if rv != SCARD_S_SUCCESS:
        print("connect failed: %x" % rv)
        return 1
    code = features(card).get(FEATURE_VERIFY_PIN_DIRECT)
    if code is None:
        print("no FEATURE_VERIFY_PIN_DIRECT")
        return 1
    rv, resp = SCardTransmit(card, SCARD_PROTOCOL_T1, SELECT_OPENPGP)
    rv, resp = SCardControl(card, code, verify_structure([0x00, 0x20, 0x00, 0x81]))
    print("SW %s" % "".join("%02X" % b for b in resp) if rv == SCARD_S_SUCCESS
          else "control failed: %x" % rv)
    SCardDisconnect(card, SCARD_UNPOWER_CARD)
    SCardReleaseContext(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
