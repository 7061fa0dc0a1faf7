/* vcard-int.h - what the software card's modules share, private to them
 *
 * vcard.c decodes APDUs, checks CLA, chaining and selection and dispatches
 * by INS; vcard-do.c holds the data objects, vcard-pin.c the PINs,
 * vcard-key.c the key commands, vcard-state.c the state file and
 * vcard-log.c the log line.  A handler gets the decoded command (its data
 * reassembled if it was chained), writes its response data into
 * card->out and returns the status word.
 */
#ifndef DUALSCD_VCARD_INT_H
#define DUALSCD_VCARD_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "apdu.h"
#include "vcard-crypto.h"
#include "vcard.h"

/* Status words the card answers. */
enum
{
  VC_SW_OK = 0x9000,
  VC_SW_TERMINATED = 0x6285, /* selected file in termination state */
  VC_SW_WRONG_LENGTH = 0x6700,
  VC_SW_NO_CHANNEL = 0x6881,
  VC_SW_NO_SM = 0x6882,
  VC_SW_LAST_EXPECTED = 0x6883, /* chain broken off */
  VC_SW_NO_CHAINING = 0x6884,
  VC_SW_SECURITY = 0x6982,
  VC_SW_BLOCKED = 0x6983,
  VC_SW_CONDITIONS = 0x6985,
  VC_SW_WRONG_DATA = 0x6A80,
  VC_SW_NOT_FOUND = 0x6A82,
  VC_SW_BAD_P1P2 = 0x6A86,
  VC_SW_NO_DATA = 0x6A88,
  VC_SW_WRONG_P1P2 = 0x6B00,
  VC_SW_BAD_INS = 0x6D00,
  VC_SW_BAD_CLA = 0x6E00,
  VC_SW_FAILURE = 0x6F00,
  VC_SW_WRONG_PIN = 0x63C0
};

/* The three PINs, in the order of C4 bytes 5-7 (PW1, Reset Code, PW3). */
enum vc_pinref
{
  VC_PW1 = 0,
  VC_RC = 1,
  VC_PW3 = 2
};

#define VC_PIN_MAX 127 /* C4 bytes 2-4: format 1 (bit 8 clear), 127 bytes */
#define VC_PIN_TRIES 3

struct vc_pin
{
  uint8_t value[VC_PIN_MAX];
  size_t len; /* 0: not set (the Reset Code of a new card) */
  unsigned int tries;
};

/* Who may read or write a data object. */
enum vc_access
{
  VC_AC_ALWAYS = 0,
  VC_AC_NEVER,
  VC_AC_PW1_82, /* PW1 verified in mode 82 (other than signing) */
  VC_AC_PW3
};

/* Variable-length data objects kept as they were written. */
enum vc_blob
{
  VC_B_NAME = 0, /* 5B */
  VC_B_LANG,     /* 5F2D */
  VC_B_SEX,      /* 5F35 */
  VC_B_LOGIN,    /* 5E */
  VC_B_URL,      /* 5F50 */
  VC_B_PRIV1,    /* 0101 */
  VC_B_PRIV2,
  VC_B_PRIV3,
  VC_B_PRIV4,
  VC_B_KDF,   /* F9 */
  VC_B_CERT1, /* 7F21, occurrences 0 to 2 (3.x) */
  VC_B_CERT2,
  VC_B_CERT3,
  VC_B_COUNT
};

#define VC_MAX_SPECIAL 255    /* C0: max length of 5E, 5F50, 0101-0104 */
#define VC_MAX_CERT 2048      /* C0: max length of one 7F21 */
#define VC_MAX_CHALLENGE 1024 /* C0: max length of GET CHALLENGE */

struct vc_buf
{
  uint8_t *data;
  size_t len;
};

/* Everything the state file keeps. */
struct vc_persist
{
  uint32_t serial;
  struct vc_pin pin[3];
  uint8_t pw1_multi; /* C4 byte 1: 0 = PW1 (81) valid for one signature */
  uint8_t attr[3][16];
  size_t attrlen[3];
  struct vc_key *key[3];
  uint8_t keyinfo[3]; /* DE: 0 none, 1 generated, 2 imported */
  uint8_t fpr[3][20];
  uint8_t cafpr[3][20];
  uint8_t date[3][4];
  uint32_t sigcount;
  uint8_t uif[3][2];
  struct vc_buf blob[VC_B_COUNT];
  int terminated;
};

struct vcard
{
  unsigned int version;
  int no_private_dos;
  char *state_path;
  FILE *log;
  struct vc_persist p;

  /* Volatile: lost on reset. */
  int selected;
  int pw1_81, pw1_82, pw3;
  unsigned int cert_occ; /* SELECT DATA occurrence of 7F21 */
  int dirty;             /* the handler changed persistent state */
  int redact;            /* the log must not show this command's data */

  /* A chained command being collected. */
  int chaining;
  uint8_t chain_hdr[4]; /* CLA without the chain bit, INS, P1, P2 */
  uint8_t chain[VCARD_MAX_APDU];
  size_t chainlen;

  /* Response data not yet fetched with GET RESPONSE. */
  uint8_t pending[VCARD_MAX_APDU];
  size_t pendlen;

  /* The current handler's response data. */
  uint8_t out[VCARD_MAX_APDU];
  size_t outlen;
};

/* One instruction's handler: returns the status word. */
typedef unsigned int (*vc_handler)(struct vcard *card, const struct apdu_cmd *cmd);

static inline int
vc_v3(const struct vcard *card)
{
  return card->version >= VCARD_VERSION_3_3;
}

/* Appends LEN bytes to the response; 0 or VC_SW_FAILURE when full. */
unsigned int vc_out(struct vcard *card, const void *data, size_t len);

/* The full application identifier (DO 4F). */
void vc_aid(const struct vcard *card, uint8_t aid[16]);

/* Sets the persistent state to factory defaults, keeping the serial. */
gpg_error_t vc_factory_defaults(struct vcard *card);
void vc_persist_clear(struct vc_persist *p);
void vc_wipe(void *buf, size_t len);

/* vcard-do.c */
unsigned int vc_cmd_get_data(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_get_next_data(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_put_data(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_select_data(struct vcard *card, const struct apdu_cmd *cmd);
int vc_access_ok(const struct vcard *card, enum vc_access ac);
int vc_put_is_secret(unsigned int tag);
size_t vc_historical(const struct vcard *card, uint8_t *out, size_t outsize);

/* vcard-pin.c */
unsigned int vc_cmd_verify(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_change(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_reset_retry(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_put_reset_code(struct vcard *card, const uint8_t *data, size_t len);
void vc_pin_default(struct vc_pin *pin, const char *value);
unsigned int vc_kdf_reset_pins(struct vcard *card, const uint8_t *kdf, size_t len,
                               int on);

/* vcard-key.c */
unsigned int vc_cmd_generate(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_pso(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_internal_auth(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_cmd_import(struct vcard *card, const struct apdu_cmd *cmd);
unsigned int vc_put_algo(struct vcard *card, enum vc_keyref ref, const uint8_t *data,
                         size_t len);
void vc_default_algo(struct vc_persist *p);

/* vcard-state.c */
gpg_error_t vc_state_save(const struct vcard *card);
gpg_error_t vc_state_load(struct vcard *card, int *r_missing);

/* vcard-log.c: C is NULL for a command that could not be decoded. */
void vc_log_line(const struct vcard *card, size_t cmdlen, const struct apdu_cmd *c,
                 size_t resplen, unsigned int sw);

#endif /* DUALSCD_VCARD_INT_H */
