/* app-int.h - what the files of the OpenPGP application share
 *
 * app-openpgp.c: open, card I/O, the DO cache; app-do.c: GETATTR, SETATTR,
 * LEARN; app-key.c: key attributes, public keys, keygrips, GENKEY,
 * WRITEKEY; app-pin.c: prompts, VERIFY, PASSWD, CHECKPIN; app-crypt.c:
 * PKSIGN, PKAUTH, PKDECRYPT, certificates.
 */
#ifndef DUALSCD_AGENT_APP_INT_H
#define DUALSCD_AGENT_APP_INT_H

#include "app.h"

/* Cached data objects read with GET DATA (the containers and the DOs that
 * live outside them). */
enum app_cache_slot
{
  C_6E,
  C_65,
  C_7A,
  C_5F50,
  C_5E,
  C_7F74,
  C_F9,
  C_0101,
  C_0102,
  C_0103,
  C_0104,
  C_7F21,
  C_MAX
};

struct app_do
{
  int valid;
  int absent; /* the card answered 6A88 / 6A82 */
  uint8_t *val;
  size_t len;
};

enum key_type
{
  KEY_NONE,
  KEY_RSA,
  KEY_ECC
};

/* Algorithm attributes of one key slot (DO C1..C3). */
struct key_attr
{
  enum key_type type;
  unsigned int nbits, ebits, fmt; /* RSA */
  const struct app_curve *curve;  /* ECC */
  uint8_t algo;                   /* the attribute's first byte */
};

struct app_curve
{
  const char *name;  /* libgcrypt's and GnuPG's canonical name */
  const char *alias; /* GnuPG's algo name (ed25519, cv25519, nistp256) */
  const uint8_t *oid;
  size_t oidlen;
  int djb; /* Ed25519 / Curve25519: 0x40 prefix, eddsa / djb-tweak flags */
};

struct app_pubkey
{
  int read_done;
  uint8_t *sexp; /* canonical S-expression; NULL: slot empty */
  size_t sexplen;
  char grip[41];
};

struct app
{
  struct card_channel ch;
  int selected;
  char serial[33];
  uint8_t aid[16];
  unsigned int version; /* application version, 0x0304 */
  unsigned int manufacturer;
  int ext_lc_le, cmd_chaining;
  struct app_do cache[C_MAX];
  struct app_pubkey pk[3];
  int did_chv1, did_chv2, did_chv3;
  int state_lost; /* the card answered as if another program had used it */
  uint8_t *xbuf;  /* raw response of the channel (65538 bytes) */
  uint8_t *rbuf;  /* collected response data (65536 bytes) */
  uint8_t cmdbuf[4 + 3 + 65535 + 2];
};

/* The response buffer's size: collected data of one command. */
#define APP_RBUF_SIZE 65536u

/* app-openpgp.c */
gpg_error_t app_ensure_selected(struct app *app);
gpg_error_t app_cmd(struct app *app, uint8_t ins, uint8_t p1, uint8_t p2,
                    const uint8_t *data, size_t lc, size_t le, const uint8_t **r_out,
                    size_t *r_outlen, unsigned int *r_sw);
gpg_error_t app_get_do(struct app *app, unsigned int tag, const uint8_t **r_val,
                       size_t *r_len);
gpg_error_t app_put_do(struct app *app, unsigned int tag, const uint8_t *val, size_t len);
void app_cache_drop(struct app *app, unsigned int tag);
void app_bump_sig_counter(struct app *app);
void app_wipe_free(void *p, size_t len);

/* app-do.c */
gpg_error_t app_status(const struct app_io *io, const char *kw, const uint8_t *v,
                       size_t len);
char *app_disp_name(struct app *app);
void app_disp_serialno(const struct app *app, char out[16]);
unsigned long app_sig_counter(struct app *app);

/* app-key.c */
gpg_error_t app_key_attr(struct app *app, int keyno, struct key_attr *attr);
gpg_error_t app_get_pubkey(struct app *app, int keyno);
gpg_error_t app_parse_keyid(struct app *app, const char *keyid, int *r_keyno);
int app_keyref_no(const char *keyref);

/* app-pin.c */
gpg_error_t app_verify_pw1(struct app *app, const struct app_io *io, int chvno);
gpg_error_t app_verify_pw3(struct app *app, const struct app_io *io);

/* Sends HEADER (CLA INS P1 P2) as the pinpad operation REQ: the reader
 * collects the PIN(s) and completes the command.  Returns the status
 * word's error, like app_cmd. */
gpg_error_t app_pinpad_cmd(struct app *app, const struct app_pinpad_req *req,
                           const uint8_t *header);

/* Which PIN a KDF hash is for: the salts differ. */
enum app_pin_kind
{
  APP_PIN_PW1 = 0,
  APP_PIN_RC = 1,
  APP_PIN_PW3 = 2
};

/* Whether the card's KDF-DO asks for hashed PINs (81 01 03). */
int app_kdf_in_use(struct app *app);

/* What goes to the card for PIN: S2K(PIN) as the KDF-DO says, or the PIN
 * itself without one.  *R_OUT is secure memory; free it with
 * app_kdf_free(*R_OUT, *R_LEN).  Errors: a KDF-DO the app cannot follow
 * (GPG_ERR_INV_DATA, GPG_ERR_UNSUPPORTED_ALGORITHM). */
gpg_error_t app_kdf_pin(struct app *app, enum app_pin_kind which, const char *pin,
                        uint8_t **r_out, size_t *r_len);
void app_kdf_free(uint8_t *buf, size_t len);

#endif /* DUALSCD_AGENT_APP_INT_H */
