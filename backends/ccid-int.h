/* ccid-int.h - internals shared by the CCID driver's files
 *
 * Layers: ccid.c (backend ops, reader list, monitor) -> ccid-slot.c (one
 * slot: power, parameters, exchange levels, T=1, pinpad) -> a transport
 * given as struct ccid_io (ccid-usb.c: libusb; the fuzzer: its input).
 * ccid-slot.c does no USB itself, so the fuzzer reaches the real reply
 * handling through the same code the driver runs.
 */
#ifndef DUALSCD_BACKENDS_CCID_INT_H
#define DUALSCD_BACKENDS_CCID_INT_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

#include "atr.h"
#include "ccid-desc.h"
#include "ccid-msg.h"
#include "t1.h"

/* Waiting times.  A card's block waiting time is about 2^BWI * 100 ms at
 * the usual 3.5-5 MHz clocks (ISO 7816-3, 11.4.3: 11 etu + 2^BWI * 960 *
 * 372 / f), plus the USB and reader overhead; every bulk-IN read waits
 * that long but never less than the floor (readers add their own latency,
 * and RSA key generation on slow cards answers with time extensions only
 * every few seconds) nor more than the ceiling (a dead reader must not
 * hang the daemon for minutes).  A command as a whole, time extensions
 * included, ends at CCID_TOTAL_MS; a pinpad entry at CCID_PINPAD_MS. */
#define CCID_READ_FLOOR_MS 5000u
#define CCID_READ_CEIL_MS 60000u
#define CCID_TOTAL_MS 300000u
#define CCID_PINPAD_MS 120000u
#define CCID_WRITE_MS 5000u

/* Stale replies (an earlier bSeq) skipped before giving up on a reader. */
#define CCID_STALE_MAX 8

/* The transport of one CCID interface. */
struct ccid_io
{
  /* Sends one bulk-OUT message. */
  gpg_error_t (*send)(void *opaque, const uint8_t *msg, size_t len);
  /* Receives one bulk-IN transfer into BUF within TIMEOUT_MS. */
  gpg_error_t (*recv)(void *opaque, uint8_t *buf, size_t size, size_t *len,
                      unsigned int timeout_ms);
  /* Aborts the command SEQ on SLOT: the class request, then
   * PC_to_RDR_Abort (CCID 1.1, 5.3.1). */
  void (*abort)(void *opaque, uint8_t slot, uint8_t seq);
  /* A monotonic clock in milliseconds. */
  uint64_t (*now_ms)(void *opaque);
  void *opaque;
};

/* Shared by the slots of one interface: the bSeq counter and the message
 * buffers sized for the reader's dwMaxCCIDMessageLength. */
struct ccid_link
{
  struct ccid_io io;
  const struct ccid_desc *desc;
  uint8_t seq;
  uint8_t *out; /* CCID_HEADER_LEN + desc->max_data_len bytes */
  uint8_t *in;  /* the same */
  size_t bufsize;
  const char *name; /* for log lines */
};

/* One slot with the card in it. */
struct ccid_slot
{
  struct ccid_link *link;
  uint8_t slot;
  int powered;
  uint8_t atr[ATR_MAX_LEN];
  size_t atrlen;
  struct atr_info ai;
  int atr_ok;             /* ai is valid */
  unsigned int read_ms;   /* per-read timeout from the card's BWI */
  int tpdu_t1;            /* TPDU level: blocks go through the T=1 engine */
  uint8_t bwi_multiplier; /* set by the T=1 engine for its S(WTX) */
  struct t1_ctx t1;
};

/* Allocates LINK's buffers for its descriptor.  */
gpg_error_t ccid_link_init(struct ccid_link *link, const struct ccid_desc *desc,
                           const struct ccid_io *io, const char *name);
void ccid_link_free(struct ccid_link *link);

/* Sends the PC_to_RDR message of LEN bytes in LINK->out (its bSeq already
 * set) and reads the reply into LINK->in: stale replies are skipped,
 * time extensions waited for, and after TOTAL_MS the command is aborted
 * (GPG_ERR_TIMEOUT).  *REPLY is decoded and matched, and the error is
 * that of its bStatus (0 when the command succeeded). */
gpg_error_t ccid_link_command(struct ccid_link *link, size_t len, unsigned int read_ms,
                              unsigned int total_ms, struct ccid_reply *reply);

/* Next bSeq of LINK. */
uint8_t ccid_link_next_seq(struct ccid_link *link);

/* The card state of SLOT by GetSlotStatus: *ICC gets bmICCStatus. */
gpg_error_t ccid_slot_status(struct ccid_slot *s, enum ccid_icc_status *icc);

/* Powers the card on (voltage selection, class indicator, parameters,
 * IFSD) and fills S->atr.  GPG_ERR_CARD_NOT_PRESENT without a card,
 * GPG_ERR_NOT_SUPPORTED for a reader or card this driver cannot drive. */
gpg_error_t ccid_slot_power_on(struct ccid_slot *s);

/* Powers the card off (best effort). */
void ccid_slot_power_off(struct ccid_slot *s);

/* The exchange level the driver uses with a reader of descriptor D:
 * readers that set several level bits get the most capable one. */
enum ccid_exchange_level ccid_effective_level(const struct ccid_desc *d);

/* One command APDU through the slot's exchange level. */
gpg_error_t ccid_slot_transmit(struct ccid_slot *s, const uint8_t *apdu, size_t apdulen,
                               uint8_t *resp, size_t respsize, size_t *resplen);

/* READER_PINPAD_* bits the reader offers (bPINSupport). */
unsigned int ccid_slot_pinpad_caps(const struct ccid_slot *s);

/* A VERIFY / CHANGE REFERENCE DATA with the PIN typed on the reader. */
struct reader_pinpad;
gpg_error_t ccid_slot_pinpad(struct ccid_slot *s, const struct reader_pinpad *pp,
                             const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                             size_t respsize, size_t *resplen);

/* libusb's error codes as gpg_error_t (ccid-err.c, the one table). */
gpg_error_t ccid_usb_error(int rc);
/* The libusb name of RC, for log lines. */
const char *ccid_usb_error_name(int rc);

#endif /* DUALSCD_BACKENDS_CCID_INT_H */
