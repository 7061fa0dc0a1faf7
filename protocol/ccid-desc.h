/* ccid-desc.h - the USB CCID class descriptor (CCID 1.1, 5.1)
 *
 * Finds the 54-byte "smart card device class descriptor" among the extra
 * descriptor bytes libusb hands over, parses it into a struct holding every
 * field plus the values later code derives from them, and renders a
 * human-readable summary for the diagnostic command.  Pure code: no I/O, no
 * allocation.
 */
#ifndef DUALSCD_PROTOCOL_CCID_DESC_H
#define DUALSCD_PROTOCOL_CCID_DESC_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

#define CCID_DESC_LEN 54           /* bLength */
#define CCID_DESC_TYPE 0x21        /* bDescriptorType */
#define CCID_DESC_TYPE_VENDOR 0xFF /* used by some pre-standard readers */

/* The smallest dwMaxCCIDMessageLength accepted: the 10-byte header plus the
 * largest of the smallest frames the driver must be able to send (a T=1
 * S-block with one INF byte and a CRC: 6 bytes; a T=0 TPDU header: 5; a
 * case 1 APDU: 4).  CCID 1.1 only sets the bulk-OUT wMaxPacketSize as a
 * lower bound, and real readers go down to 64 (Gnuk, Elatec TWN4), so the
 * check only keeps "dwMaxCCIDMessageLength - 10" meaningful: libccid
 * subtracts the header from it unsigned. */
#define CCID_DESC_MIN_MESSAGE_LEN 16

/* The largest abData a CCID message carries: an extended APDU (CCID 1.1,
 * dwMaxCCIDMessageLength "between 261 + 10 and 65544 + 10"). */
#define CCID_DESC_MAX_DATA_LEN 65544

/* The most slots accepted.  The largest reader in libccid's list of about
 * 770 has 8 (bMaxSlotIndex 7); a bigger value means a corrupt descriptor,
 * and the driver keeps per-slot state in a fixed array. */
#define CCID_DESC_MAX_SLOTS 32

/* bVoltageSupport bits. */
#define CCID_DESC_VOLTAGE_5V 0x01
#define CCID_DESC_VOLTAGE_3V 0x02
#define CCID_DESC_VOLTAGE_1_8V 0x04

/* dwProtocols bits. */
#define CCID_DESC_PROTO_T0 0x0001
#define CCID_DESC_PROTO_T1 0x0002

/* dwSynchProtocols bits. */
#define CCID_DESC_SYNCH_2WIRE 0x0001
#define CCID_DESC_SYNCH_3WIRE 0x0002
#define CCID_DESC_SYNCH_I2C 0x0004

/* dwMechanical bits. */
#define CCID_DESC_MECH_ACCEPT 0x0001
#define CCID_DESC_MECH_EJECT 0x0002
#define CCID_DESC_MECH_CAPTURE 0x0004
#define CCID_DESC_MECH_LOCK 0x0008

/* dwFeatures bits. */
#define CCID_DESC_FEAT_AUTO_PARAM_ATR 0x00000002  /* parameters from the ATR */
#define CCID_DESC_FEAT_AUTO_ACTIVATION 0x00000004 /* powers the card on insertion */
#define CCID_DESC_FEAT_AUTO_VOLTAGE 0x00000008
#define CCID_DESC_FEAT_AUTO_CLOCK 0x00000010
#define CCID_DESC_FEAT_AUTO_BAUD 0x00000020
#define CCID_DESC_FEAT_AUTO_NEGOTIATION 0x00000040 /* proprietary negotiation */
#define CCID_DESC_FEAT_AUTO_PPS 0x00000080
#define CCID_DESC_FEAT_CLOCK_STOP 0x00000100
#define CCID_DESC_FEAT_NAD 0x00000200       /* NAD other than 00 accepted (T=1) */
#define CCID_DESC_FEAT_AUTO_IFSD 0x00000400 /* IFSD exchange done by the reader */
#define CCID_DESC_FEAT_ICCD 0x00000800      /* ICCD token (USB ICCD spec) */
#define CCID_DESC_FEAT_LEVEL_TPDU 0x00010000
#define CCID_DESC_FEAT_LEVEL_SHORT_APDU 0x00020000
#define CCID_DESC_FEAT_LEVEL_EXT_APDU 0x00040000
#define CCID_DESC_FEAT_LEVEL_MASK 0x00070000
#define CCID_DESC_FEAT_USB_WAKEUP 0x00100000

/* bPINSupport bits. */
#define CCID_DESC_PIN_VERIFY 0x01
#define CCID_DESC_PIN_MODIFY 0x02

/* The exchange level, from dwFeatures. */
enum ccid_exchange_level
{
  CCID_LEVEL_CHARACTER,  /* no level bit: the host does T=0/T=1 bytes */
  CCID_LEVEL_TPDU,       /* 0x00010000 */
  CCID_LEVEL_SHORT_APDU, /* 0x00020000 */
  CCID_LEVEL_EXT_APDU,   /* 0x00040000: short and extended APDUs */
  CCID_LEVEL_UNKNOWN     /* more than one level bit: the driver decides */
};

/* The parsed descriptor.  The raw fields keep the spec's names, as libusb's
 * descriptor structs do, so that they match the spec and lsusb -v. */
struct ccid_desc
{
  uint8_t bDescriptorType; /* CCID_DESC_TYPE or CCID_DESC_TYPE_VENDOR */
  uint16_t bcdCCID;        /* 0x0110 for CCID 1.1 */
  uint8_t bMaxSlotIndex;
  uint8_t bVoltageSupport;    /* CCID_DESC_VOLTAGE_* */
  uint32_t dwProtocols;       /* CCID_DESC_PROTO_* */
  uint32_t dwDefaultClock;    /* kHz */
  uint32_t dwMaximumClock;    /* kHz */
  uint8_t bNumClockSupported; /* 0: ask with GET_CLOCK_FREQUENCIES */
  uint32_t dwDataRate;        /* bps */
  uint32_t dwMaxDataRate;     /* bps */
  uint8_t bNumDataRatesSupported;
  uint32_t dwMaxIFSD;        /* kept raw: real readers say 0 or above 254 */
  uint32_t dwSynchProtocols; /* CCID_DESC_SYNCH_* */
  uint32_t dwMechanical;     /* CCID_DESC_MECH_* */
  uint32_t dwFeatures;       /* CCID_DESC_FEAT_* */
  uint32_t dwMaxCCIDMessageLength;
  uint8_t bClassGetResponse; /* 0xFF: echo the APDU's class */
  uint8_t bClassEnvelope;    /* 0xFF: echo the APDU's class */
  uint16_t wLcdLayout;       /* lines in the high byte, columns in the low */
  uint8_t bPINSupport;       /* CCID_DESC_PIN_* */
  uint8_t bMaxCCIDBusySlots;

  /* Derived. */
  unsigned int nslots;                     /* bMaxSlotIndex + 1 */
  enum ccid_exchange_level exchange_level; /* from dwFeatures */
  size_t max_data_len;                     /* dwMaxCCIDMessageLength - 10, at most
                          CCID_DESC_MAX_DATA_LEN: the MAX_DATA of
                          ccid_reply_decode and the chunk size for sending */
};

/* The bitmap fields that ccid_desc_flags describes. */
enum ccid_desc_field
{
  CCID_DESC_FIELD_VOLTAGE,    /* bVoltageSupport */
  CCID_DESC_FIELD_PROTOCOLS,  /* dwProtocols */
  CCID_DESC_FIELD_SYNCH,      /* dwSynchProtocols */
  CCID_DESC_FIELD_MECHANICAL, /* dwMechanical */
  CCID_DESC_FIELD_FEATURES,   /* dwFeatures, without the exchange level */
  CCID_DESC_FIELD_PIN         /* bPINSupport */
};

/* One named bit of a bitmap field. */
struct ccid_desc_flag
{
  enum ccid_desc_field field;
  uint32_t bit;
  const char *name; /* short, for one-line output: "auto-voltage" */
  const char *desc; /* as the spec says it */
};

/* Finds the CCID class descriptor in EXTRA, a run of descriptors each
 * starting with bLength and bDescriptorType: an interface's or endpoint's
 * "extra" bytes from libusb or a whole configuration descriptor.  Returns
 * the first with bLength 54 and type 0x21 or 0xFF (others, such as the
 * 9-byte HID descriptors that also use type 0x21, are skipped) in *DESC
 * and *DESCLEN, which point into EXTRA.  GnuPG and libccid also look in
 * the last endpoint's extra bytes, where the O2Micro OZ776 and Reiner SCT
 * put it.  Errors: GPG_ERR_NOT_FOUND; GPG_ERR_INV_LENGTH if a bLength is
 * below 2 or runs past the end, GPG_ERR_TOO_SHORT if a lone byte is left
 * where a descriptor should start (both only before the descriptor is
 * found: what follows it is not looked at). */
gpg_error_t ccid_desc_find(const uint8_t *extra, size_t extralen, const uint8_t **desc,
                           size_t *desclen);

/* Parses the class descriptor BUF of BUFLEN bytes into *DESC.  Errors:
 * GPG_ERR_TOO_SHORT if BUFLEN is below 54 (or 2); GPG_ERR_INV_VALUE for a
 * bDescriptorType other than 0x21 or 0xFF; GPG_ERR_INV_LENGTH if bLength is
 * not 54 or BUFLEN is longer (use ccid_desc_find on longer blobs).  Then it
 * checks what later code relies on and returns GPG_ERR_INV_VALUE, with
 * *DESC completely filled so that the diagnostic command can still show
 * it, if dwMaxCCIDMessageLength is below CCID_DESC_MIN_MESSAGE_LEN or there
 * are more than CCID_DESC_MAX_SLOTS slots.  On other errors *DESC is
 * zeroed. */
gpg_error_t ccid_desc_parse(const uint8_t *buf, size_t buflen, struct ccid_desc *desc);

/* Returns the value of bitmap field FIELD of DESC (dwFeatures without the
 * exchange level bits), or 0 for an unknown FIELD. */
uint32_t ccid_desc_field_value(const struct ccid_desc *desc, enum ccid_desc_field field);

/* Returns the table of every named bit of every bitmap field, in output
 * order, and its row count in *COUNT. */
const struct ccid_desc_flag *ccid_desc_flags(size_t *count);

/* The short name of LEVEL ("TPDU", "short APDU", ...). */
const char *ccid_exchange_level_name(enum ccid_exchange_level level);

/* Summary flavours. */
#define CCID_DESC_SUMMARY_ONELINE 0
#define CCID_DESC_SUMMARY_MULTILINE 1

/* Renders DESC as one line (CCID_DESC_SUMMARY_ONELINE) or as one
 * "name: value" line per field (CCID_DESC_SUMMARY_MULTILINE) into BUF,
 * always NUL-terminated if BUFSIZE > 0; *OUTLEN gets the length of the
 * whole text without the NUL even if it did not fit.  Bits that have no
 * name are shown in hex.  GPG_ERR_BUFFER_TOO_SHORT if it was truncated,
 * GPG_ERR_INV_VALUE for another STYLE. */
gpg_error_t ccid_desc_summary(const struct ccid_desc *desc, int style, char *buf,
                              size_t bufsize, size_t *outlen);

#endif /* DUALSCD_PROTOCOL_CCID_DESC_H */
