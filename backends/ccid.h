/* ccid.h - the internal CCID driver (USB CCID readers over libusb-1.0)
 *
 * Implements reader.h for USB CCID readers without pcscd: it enumerates the
 * CCID interfaces (class 0x0B, and the vendor-class readers GnuPG accepts),
 * claims them, powers the card on and exchanges APDUs at the reader's
 * exchange level (short / extended APDU, or TPDU with T=1).
 *
 * Reader names: "VVVV:PPPP:SERIAL:I" (GnuPG's reader id: vendor and product
 * id in hex, the serial string or "X" when none, the interface number),
 * with ":S" appended for slot S > 0 of a multi-slot reader, so GnuPG's
 * reader-port prefixes select the same reader.
 *
 * Claiming: an interface is claimed by the first connect to one of its
 * slots and released by the last disconnect, so pcscd can take a reader
 * this driver does not use (GnuPG claims on open and keeps it); list
 * probes unclaimed readers with a short claim.  Card changes are watched
 * (interrupt endpoint, else GetSlotStatus every 500 ms) only on claimed
 * interfaces; reader arrival and removal always (libusb hotplug, else a
 * device-list comparison every 500 ms).  Timeouts: ccid-int.h.
 */
#ifndef DUALSCD_BACKENDS_CCID_H
#define DUALSCD_BACKENDS_CCID_H

#include "reader.h"

/* Creates the CCID backend (libusb context, hotplug callback).  No USB
 * support or no readers is not an error: list then reports none.  A reader
 * whose interface another program has claimed is listed with state
 * GPG_ERR_EBUSY; connect to it fails with GPG_ERR_EBUSY, never ENODEV. */
gpg_error_t ccid_backend_new(struct reader_backend **r_be);

#endif /* DUALSCD_BACKENDS_CCID_H */
