/* sw.h - ISO 7816-4 status words: meaning, error code, PIN retry counter
 *
 * A status word (SW1 SW2, here one number 0xSW1SW2) ends every response
 * APDU.  This module maps it, once and from one table, to the gpg_error_t
 * the rest of dualscd reports and to a short English description.  The codes
 * follow scdaemon-protocol.md section 7 and, where that is silent, GnuPG's
 * scd/iso7816.c, so clients see the errors they know from GnuPG.
 *
 * Pure code: no I/O, no allocation, no global state.
 */
#ifndef DUALSCD_PROTOCOL_SW_H
#define DUALSCD_PROTOCOL_SW_H

#include <gpg-error.h>

/* Status words the APDU layer acts on. */
enum
{
  SW_SUCCESS = 0x9000,
  SW_MORE_DATA = 0x6100,    /* 61xx: xx more bytes for GET RESPONSE (00 = 256) */
  SW_EXACT_LENGTH = 0x6C00, /* 6Cxx: resend with Le = xx (00 = 256) */
  SW_EOF_REACHED = 0x6282,  /* fewer than Le bytes: the data is valid */
  SW_WRONG_PIN = 0x63C0,    /* 63Cx: verification failed, x tries left */
};

/* Returns the error for SW: 0 for 9000 and for 61xx (more data is not a
 * failure), GPG_ERR_BAD_PIN for 6982 and 63Cx, GPG_ERR_PIN_BLOCKED for 6983,
 * GPG_ERR_USE_CONDITIONS for 6985, GPG_ERR_NOT_SUPPORTED for 6A81, 6882 and
 * 6884, GPG_ERR_NO_OBJ for 6A88, a more precise code for a few others (6700,
 * 6A80, 6A86, 6B00 and 6Cxx -> GPG_ERR_INV_VALUE, 6A82 and 6986 ->
 * GPG_ERR_ENOENT, ...) and GPG_ERR_CARD for every other value that fits in
 * 16 bits, warnings (62xx, 63xx) included.  A value above 0xFFFF is no status
 * word at all: GPG_ERR_INV_VALUE. */
gpg_error_t sw_to_error(unsigned int sw);

/* Returns a short English description of SW, such as "Security status not
 * satisfied"; never NULL.  Ranges share one text ("Wrong PIN, retry counter
 * in SW2" for 63Cx); use sw_pin_retries for the number. */
const char *sw_describe(unsigned int sw);

/* Returns the retries left that a 63Cx status word reports (0 to 15), or -1
 * if SW is not of the form 63Cx. */
int sw_pin_retries(unsigned int sw);

#endif /* DUALSCD_PROTOCOL_SW_H */
