#!/usr/bin/python3
# probe.py - wait until the world's reader holds a card; print reader and ATR.
#
# Usage: probe.py [--wait SECONDS] [--apdu HEX]...
# Talks to the pcscd named by PCSCLITE_CSOCK_NAME through pyscard.  Prints
# "READER <name>" and "ATR <hex>", then for each --apdu "APDU <hex> -> <hex>"
# (response data and SW).  Exits 1, saying why, if no card shows up in time.
import sys
import time

from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.pcsc.PCSCExceptions import EstablishContextException
from smartcard.System import readers


def first_card():
    """(reader name, connection) of the first reader with a card, or why not."""
    try:
        found = readers()
    except EstablishContextException as e:
        return None, "no pcscd: %s" % e
    if not found:
        return None, "pcscd shows no reader"
    for r in found:
        conn = r.createConnection()
        try:
            conn.connect()
            return (str(r), conn), None
        except (NoCardException, CardConnectionException) as e:
            why = "reader %s: %s" % (r, e)
    return None, why


def main():
    args = sys.argv[1:]
    wait, apdus = 10.0, []
    while args:
        opt = args.pop(0)
        if opt == "--wait" and args:
            wait = float(args.pop(0))
        elif opt == "--apdu" and args:
            apdus.append(bytes.fromhex(args.pop(0)))
        else:
            sys.stderr.write("usage: probe.py [--wait S] [--apdu HEX]...\n")
            return 2
    deadline = time.monotonic() + wait
    while True:
        found, why = first_card()
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if not found:
        sys.stderr.write("probe: no card after %.1f s: %s\n" % (wait, why))
        return 1
    name, conn = found
    print("READER %s" % name)
    print("ATR %s" % bytes(conn.getATR()).hex().upper())
    for apdu in apdus:
        data, sw1, sw2 = conn.transmit(list(apdu))
        print("APDU %s -> %s%02X%02X" % (apdu.hex().upper(),
                                          bytes(data).hex().upper(), sw1, sw2))
    conn.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
