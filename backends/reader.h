/* reader.h - the reader interface every backend implements
 *
 * The agent's reader manager sees readers only through this interface; the
 * PC/SC backend (pcsc.c) implements it now and the internal CCID driver
 * will implement the same operations.  Every foreign error (SCARD_*, later
 * libusb) is mapped to gpg_error_t inside the backend, once, by a table.
 *
 * Threading: a backend's operations are called from one thread at a time
 * (the manager serialises them), except reader_backend_ops.wait_change,
 * which blocks in its own monitor thread and is stopped by cancel_wait.
 */
#ifndef DUALSCD_BACKENDS_READER_H
#define DUALSCD_BACKENDS_READER_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

#define READER_NAME_MAX 256 /* bytes, including the NUL */
#define READER_ATR_MAX 33
#define READER_MAX 16 /* readers one backend reports at most */

/* Where a USB reader sits and what it says it is (valid = 0 when the
 * backend does not know, e.g. a PC/SC reader of a non-USB driver). */
struct reader_usb_id
{
  int valid;
  uint16_t vid, pid;
  uint8_t busnum, devnum; /* the device node is /dev/bus/usb/BBB/DDD */
  uint8_t interface;      /* bInterfaceNumber of the CCID interface */
  uint8_t slot;           /* bSlot of a multi-slot reader */
  char serial[64];        /* iSerialNumber's string, "" when none */
  char product[128];      /* iProduct's string, "" when none */
};

/* What a backend knows about one reader without connecting to it. */
struct reader_info
{
  char name[READER_NAME_MAX]; /* the backend's name for it (PC/SC: the reader name) */
  int card_present;           /* a card is in the reader (it may be in use) */
  int exclusive;              /* another program holds the card exclusively */
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen; /* 0 when no card or unknown */
  struct reader_usb_id usb;
  /* 0 when the reader can be used; GPG_ERR_EBUSY when another program
   * holds it (CCID: the interface claim failed), then DETAIL is the
   * sentence that says so, naming the reader and what is known of the
   * holder ("reader 1050:0407 (YubiKey) is held by pcscd pid 812 ...");
   * other codes for readers that cannot be used, DETAIL saying why. */
  gpg_error_t state;
  char detail[READER_NAME_MAX];
};

/* A PIN entered on the reader's pinpad (CCID PC_to_RDR_Secure, PC/SC
 * FEATURE_VERIFY_PIN_DIRECT / MODIFY_PIN_DIRECT). */
#define READER_PINPAD_VERIFY 1u
#define READER_PINPAD_MODIFY 2u

struct reader_pinpad
{
  int modify;          /* 0: VERIFY; 1: CHANGE REFERENCE DATA (old and new PIN) */
  unsigned int minlen; /* PIN length in digits the reader accepts */
  unsigned int maxlen;
  unsigned int fixedlen; /* 0: variable length; else the PIN block is padded to it */
};

/* How a connection shares the card. */
enum reader_share
{
  READER_SHARED = 0, /* other programs may use the card between our transactions */
  READER_EXCLUSIVE   /* nobody else while we are connected (GnuPG's old behaviour) */
};

struct reader_backend; /* one per backend instance (PC/SC context...) */
struct reader_conn;    /* one connection to a card in a reader */

struct reader_backend_ops
{
  const char *name; /* "pcsc", "ccid": shown in GETINFO and by dualscd-check */

  /* Lists the readers into INFOS (room for MAX); *N gets the count.  No
   * readers, or no service (pcscd not running), is not an error: *N = 0. */
  gpg_error_t (*list)(struct reader_backend *be, struct reader_info *infos, size_t max,
                      size_t *n);

  /* Connects to the card in reader NAME (exact name from list) with SHARE;
   * *ATR / *ATRLEN (room for READER_ATR_MAX) get the card's ATR.  Errors:
   * GPG_ERR_CARD_NOT_PRESENT (no card), GPG_ERR_ENODEV (no such reader),
   * GPG_ERR_EBUSY (held exclusively elsewhere), GPG_ERR_NO_SERVICE. */
  gpg_error_t (*connect)(struct reader_backend *be, const char *name,
                         enum reader_share share, struct reader_conn **r_conn,
                         uint8_t *atr, size_t *atrlen);

  /* Disconnects, leaving the card powered (others may be using it).
   * Frees CONN; NULL is allowed. */
  void (*disconnect)(struct reader_conn *conn);

  /* Begins / ends a transaction: between the two no other program sends
   * APDUs to the card.  begin may report GPG_ERR_CARD_RESET: someone reset
   * the card since our last transaction (the connection has been
   * re-established; the caller must re-select its application and forget
   * verified PINs), or GPG_ERR_CARD_REMOVED (the card is gone; disconnect).
   * With GPG_ERR_CARD_RESET the transaction IS held (re-select, then call
   * end as after success); after any other error none is held. */
  gpg_error_t (*begin)(struct reader_conn *conn);
  void (*end)(struct reader_conn *conn);

  /* Sends one command APDU and receives the response (data + SW) into
   * RESP (room for RESPSIZE); *RESPLEN gets its length.  Same error codes as
   * begin, plus GPG_ERR_CARD_NOT_PRESENT, GPG_ERR_EIO for transport errors. */
  gpg_error_t (*transmit)(struct reader_conn *conn, const uint8_t *apdu, size_t apdulen,
                          uint8_t *resp, size_t respsize, size_t *resplen);

  /* Blocks until a reader appears or disappears or a card is inserted or
   * removed in any reader, without polling (PC/SC: SCardGetStatusChange
   * with an infinite timeout, including the PnP pseudo-reader).  Returns 0
   * after a change, GPG_ERR_CANCELED after cancel_wait, or another error
   * (e.g. GPG_ERR_NO_SERVICE: the caller waits for the service to return
   * and calls again). */
  gpg_error_t (*wait_change)(struct reader_backend *be);

  /* Makes a blocked wait_change return GPG_ERR_CANCELED; callable from any
   * thread. */
  void (*cancel_wait)(struct reader_backend *be);

  /* Optional (NULL when the backend has no pinpad support): which pinpad
   * operations CONN's reader can do, READER_PINPAD_* bits, 0 for none. */
  unsigned int (*pinpad_caps)(struct reader_conn *conn);

  /* Optional: sends APDU (the command header CLA INS P1 P2, 4 bytes) as a
   * pinpad operation PP: the reader collects the PIN(s) and completes the
   * APDU; the response goes to RESP as with transmit.  Errors as transmit,
   * plus GPG_ERR_CANCELED (user pressed cancel), GPG_ERR_TIMEOUT (nobody
   * typed), GPG_ERR_NOT_SUPPORTED. */
  gpg_error_t (*pinpad)(struct reader_conn *conn, const struct reader_pinpad *pp,
                        const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                        size_t respsize, size_t *resplen);

  /* Optional: the longest command or response APDU (header or status word
   * included) that CONN's reader can carry, 0 for no limit beyond the
   * extended APDU's.  A CCID reader at the short APDU level returns 261:
   * the card must then get short APDUs and answer long data with 61xx. */
  size_t (*max_apdu)(struct reader_conn *conn);

  /* Optional: where reader NAME sits on the USB, for matching one physical
   * reader across backends: ID->valid, busnum and devnum are set when the
   * backend (or its driver) knows; GPG_ERR_NOT_SUPPORTED otherwise.  May
   * cost a round trip to a service; call it only when needed. */
  gpg_error_t (*locate)(struct reader_backend *be, const char *name,
                        struct reader_usb_id *id);

  /* Frees the backend (after the monitor thread has stopped). */
  void (*release)(struct reader_backend *be);
};

/* Every backend struct begins with a pointer to its ops, so the manager
 * can call be->ops->list(be, ...) without knowing the backend. */
struct reader_backend
{
  const struct reader_backend_ops *ops;
};

#endif /* DUALSCD_BACKENDS_READER_H */
