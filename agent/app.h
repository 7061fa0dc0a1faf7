/* app.h - the OpenPGP card application, as the Assuan commands see it
 *
 * The application knows APDUs and data objects, never Assuan or readers:
 * it reaches its card through a card_channel (one APDU in, one response
 * out; the reader manager wraps the backend's transaction around each
 * app_* call), and reaches the client through app_io (status lines, PIN
 * inquiries).  One app per card; the commands layer owns it.
 *
 * Status lines follow ../shared/docs/scdaemon-protocol.md section 5 (names,
 * order, escaping); PIN prompts section 6; error codes section 7.
 *
 * Caching: the app reads DO 6E and the other DOs it needs once and keeps
 * them until app_invalidate (card reset, removal, another client's
 * interference) or until one of its own commands changes them, so a
 * repeated LEARN costs no APDU.
 */
#ifndef DUALSCD_AGENT_APP_H
#define DUALSCD_AGENT_APP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gpg-error.h>

/* How the application reaches its card. */
/* A PIN typed on the reader's pinpad instead of sent by the host. */
#define APP_PINPAD_VERIFY 1u
#define APP_PINPAD_MODIFY 2u

struct app_pinpad_req
{
  int modify;          /* 0: VERIFY; 1: CHANGE REFERENCE DATA (old, then new) */
  unsigned int minlen; /* PIN length limits, in characters */
  unsigned int maxlen;
  unsigned int fixedlen; /* 0: the reader ends the entry; else exactly this */
};

struct card_channel
{
  /* Sends the command APDU and receives the full response (data + SW1
   * SW2; the channel handles neither 61xx nor 6Cxx: the app does, with
   * protocol/apdu.h).  RESPSIZE is at least 65538. */
  gpg_error_t (*transmit)(void *opaque, const uint8_t *apdu, size_t apdulen,
                          uint8_t *resp, size_t respsize, size_t *resplen);
  void *opaque;
  const char *reader_name; /* for the READER status line */
  /* Optional: the longest APDU the reader carries (reader.h max_apdu), 0
   * for no limit.  Below an extended APDU's size the app sends short
   * APDUs only, whatever the card offers. */
  size_t (*max_apdu)(void *opaque);
  /* Optional, NULL without a pinpad or with disable-pinpad: the pinpad
   * operations the reader offers (APP_PINPAD_* bits), and one of them:
   * HEADER is CLA INS P1 P2 of the command the reader completes with the
   * PIN(s); RESP gets the response (data and status word). */
  unsigned int (*pinpad_caps)(void *opaque);
  gpg_error_t (*pinpad)(void *opaque, const struct app_pinpad_req *req,
                        const uint8_t *header, uint8_t *resp, size_t respsize,
                        size_t *resplen);
  int pinpad_varlen; /* enable-pinpad-varlen: the reader ends a PIN itself */
};

/* How the application reaches the client (the Assuan session). */
struct app_io
{
  /* Emits "S KEYWORD ARGS"; ARGS is already escaped (or NULL for none). */
  gpg_error_t (*status)(void *opaque, const char *keyword, const char *args);
  /* Asks for a PIN with PROMPT (GnuPG's format, e.g. "||Please unlock the
   * card%0A..."); writes the NUL-terminated PIN into PIN (PINSIZE bytes,
   * secure memory, wiped by the app after use).  GPG_ERR_CANCELED when the
   * user cancels. */
  gpg_error_t (*getpin)(void *opaque, const char *prompt, char *pin, size_t pinsize);
  /* Optional: asks the client to tell the user to type on the reader's
   * pinpad (PROMPT, GnuPG's format; POPUPPINPADPROMPT) or, with PROMPT
   * NULL, to take that message down (DISMISSPINPADPROMPT). */
  gpg_error_t (*pinpad_prompt)(void *opaque, const char *prompt);
  void *opaque;
};

struct app;

/* Selects the OpenPGP application on the card behind CH and reads what
 * every later command needs (AID, historical bytes, DO 6E) in as few APDUs
 * as the card allows.  Errors: GPG_ERR_CARD_NOT_PRESENT / the channel's
 * error; GPG_ERR_NOT_SUPPORTED when the card has no OpenPGP application. */
gpg_error_t app_open(const struct card_channel *ch, struct app **r_app);

/* Frees APP; cached secrets (none are kept) and buffers are wiped. */
void app_close(struct app *app);

/* Forgets every cached value and the PIN verification state; the next
 * command re-selects the application. */
void app_invalidate(struct app *app);

/* Whether the card answered a command as if another PC/SC program had
 * used it since our last transaction (6982/6985 while we believe a PIN
 * verified, 6D00/6E00 or 6A82 with the application selected): the caller
 * invalidates the app and may retry the command once.  Cleared by
 * app_invalidate. */
int app_state_lost(const struct app *app);

/* The card's serial number: the 32 hex digits of the AID (DO 4F). */
const char *app_serialno(const struct app *app);

/* LEARN: emits the status lines of section 5 in GnuPG's order.  FORCE is
 * accepted for compatibility (the cache makes it free). */
gpg_error_t app_learn(struct app *app, const struct app_io *io, unsigned int flags);

/* GETATTR NAME: emits the status line(s) for NAME (KEY-ATTR, CHV-STATUS,
 * $SIGNKEYID, $DISPSERIALNO, SERIALNO, EXTCAP, KEY-FPR, DISP-NAME ...).
 * GPG_ERR_INV_NAME for a name the application does not know. */
gpg_error_t app_getattr(struct app *app, const struct app_io *io, const char *name);

/* SETATTR NAME VALUE: writes the DO behind NAME (DISP-NAME, PUBKEY-URL,
 * LOGIN-DATA, DISP-LANG, DISP-SEX, CA-FPR-n, PRIVATE-DO-n, CHV-STATUS-1,
 * KEY-ATTR, KDF, CERT-3 ...), asking for the Admin PIN (or PW1 for
 * PRIVATE-DO-1/3) through IO when needed. */
gpg_error_t app_setattr(struct app *app, const struct app_io *io, const char *name,
                        const uint8_t *value, size_t valuelen);

/* Key ids accepted by the key functions: "OPENPGP.1", "OPENPGP.2",
 * "OPENPGP.3" or the 40-hex-digit keygrip of one of the card's keys
 * (GPG_ERR_INV_ID otherwise; GPG_ERR_NO_SECKEY when the slot is empty). */

/* READKEY: the public key of KEYID as a canonical S-expression; *R_PK is
 * malloc'd (free with free()). */
gpg_error_t app_readkey(struct app *app, const char *keyid, uint8_t **r_pk,
                        size_t *r_pklen);

/* READKEY --format=ssh: the public key SEXP as GnuPG 2.4 prints it, "<ssh
 * type> <base64 blob> (none)" (common/ssh-utils.c); *R_TEXT is malloc'd.
 * GPG_ERR_UNKNOWN_CURVE for a curve SSH does not know (cv25519). */
gpg_error_t app_ssh_pubkey(const uint8_t *sexp, size_t sexplen, char **r_text);

/* The keygrip (40 hex digits + NUL) of key slot KEYNO (1..3); GPG_ERR_NO_SECKEY
 * when the slot is empty. */
gpg_error_t app_keygrip(struct app *app, int keyno, char grip[41]);

/* The KEYPAIRINFO line of key slot KEYNO (1..3) as GnuPG 2.4 sends it:
 * "<grip> OPENPGP.<n> <usage> <created> <algo>" (GnuPG 2.2 clients read
 * the first three fields and ignore the rest); GPG_ERR_NO_SECKEY when the
 * slot is empty.  BUF holds APP_KEYPAIRINFO_MAX bytes. */
#define APP_KEYPAIRINFO_MAX 128
gpg_error_t app_keypairinfo(struct app *app, int keyno, char *buf, size_t size);

/* PKSIGN: signs DATA with the key of KEYID.  HASHALGO is a GCRY_MD_* value
 * (DATA is then a DigestInfo for RSA or a hash for ECDSA) or 0 for
 * --hash=none (EdDSA: DATA is the message).  An OPENPGP.3 key (or its grip)
 * signs with INTERNAL AUTHENTICATE.  Asks for PW1 through IO when needed;
 * *R_SIG is malloc'd. */
gpg_error_t app_sign(struct app *app, const struct app_io *io, const char *keyid,
                     int hashalgo, const uint8_t *data, size_t datalen, uint8_t **r_sig,
                     size_t *r_siglen);

/* PKAUTH: INTERNAL AUTHENTICATE with key 3. */
gpg_error_t app_auth(struct app *app, const struct app_io *io, const char *keyid,
                     const uint8_t *data, size_t datalen, uint8_t **r_sig,
                     size_t *r_siglen);

/* PKDECRYPT: deciphers DATA (RSA: the cryptogram; ECDH: the ephemeral
 * point as GnuPG sends it) with key 2; *R_PADDING gets the value for the
 * "S PADDING" line (0 for RSA PKCS#1, -1 for none).  *R_OUT is malloc'd
 * in secure memory (gcry_malloc_secure; free with gcry_free). */
gpg_error_t app_decipher(struct app *app, const struct app_io *io, const char *keyid,
                         const uint8_t *data, size_t datalen, uint8_t **r_out,
                         size_t *r_outlen, int *r_padding);

#define APP_GENKEY_FORCE 1 /* replace an existing key */

/* GENKEY: generates key KEYNO ("1".."3" or OPENPGP.n) with the current
 * attributes (or ALGO, e.g. "rsa2048", "ed25519", "cv25519", "nistp256",
 * when not NULL), emitting KEY-CREATED-AT, KEY-DATA and KEY-FPR status
 * lines; writes the fingerprint and CREATED_AT to the card. */
gpg_error_t app_genkey(struct app *app, const struct app_io *io, const char *keyref,
                       const char *algo, unsigned int flags, time_t created_at);

/* WRITEKEY: imports the private key KEYDATA (GnuPG's canonical
 * S-expression with created-at, as the agent sends it) into KEYREF. */
gpg_error_t app_writekey(struct app *app, const struct app_io *io, const char *keyref,
                         unsigned int flags, const uint8_t *keydata, size_t keydatalen);

#define APP_PASSWD_RESET 1 /* --reset: unblock with the Reset Code or Admin PIN */
#define APP_PASSWD_CLEAR 2 /* --clear: remove the Reset Code */

/* PASSWD CHVNO ("1", "2" (= Reset Code), "3", OPENPGP.n). */
gpg_error_t app_change_pin(struct app *app, const struct app_io *io, const char *chvno,
                           unsigned int flags);

/* CHECKPIN IDSTR: verifies PW1 (IDSTR the serial number) or PW3 (the serial
 * number followed by "[CHV3]") so that later operations need no prompt. */
gpg_error_t app_check_pin(struct app *app, const struct app_io *io, const char *idstr);

/* READCERT / WRITECERT of the cardholder certificate (DO 7F21; OPENPGP.3).
 * *R_CERT is malloc'd. */
gpg_error_t app_readcert(struct app *app, const char *certid, uint8_t **r_cert,
                         size_t *r_certlen);
gpg_error_t app_writecert(struct app *app, const struct app_io *io, const char *certid,
                          const uint8_t *cert, size_t certlen);

#endif /* DUALSCD_AGENT_APP_H */
