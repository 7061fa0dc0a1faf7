#!/usr/bin/python3
# neighbour.py - another PC/SC program using the world's reader
#
# Usage: neighbour.py select|reset|exclusive
#   select     connect shared, SELECT the OpenPGP application, print the SW
#   reset      connect shared and reset the card (SCardReconnect RESET_CARD)
#   exclusive  try to connect exclusively; print OK or the SCARD_* error
# Talks to the pcscd named by PCSCLITE_CSOCK_NAME, to the first reader.
import sys

from smartcard import scard

SELECT = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01, 0x00]
PROTOS = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1


def name(rv):
    for k in dir(scard):
        if (k.startswith("SCARD_E_") or k.startswith("SCARD_W_")) and \
                getattr(scard, k) == rv:
            return k
    return "0x%08X" % (rv & 0xFFFFFFFF)


def main():
    what = sys.argv[1] if len(sys.argv) == 2 else ""
    rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rv:
        print("ERR %s" % name(rv))
        return 1
    rv, readers = scard.SCardListReaders(ctx, [])
    if rv or not readers:
        print("ERR %s" % name(rv))
        return 1
    share = scard.SCARD_SHARE_EXCLUSIVE if what == "exclusive" else scard.SCARD_SHARE_SHARED
    rv, card, proto = scard.SCardConnect(ctx, readers[0], share, PROTOS)
    if rv:
        print("ERR %s" % name(rv))
        return 0 if what == "exclusive" else 1
    if what == "select":
        pci = scard.SCARD_PCI_T0 if proto == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        rv, resp = scard.SCardTransmit(card, pci, SELECT)
        print("ERR %s" % name(rv) if rv else "SW %02X%02X" % (resp[-2], resp[-1]))
    elif what == "reset":
        rv, proto = scard.SCardReconnect(card, scard.SCARD_SHARE_SHARED, PROTOS,
                                         scard.SCARD_RESET_CARD)
        print("ERR %s" % name(rv) if rv else "RESET")
    else:
        print("OK")
    scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
