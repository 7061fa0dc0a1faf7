/* apdu.h - ISO 7816-3/-4 command and response APDUs
 *
 * A command is described by struct apdu_cmd and encoded by apdu_encode in
 * the short or the extended form (ISO 7816-3, 12.1):
 *
 *   case 1   CLA INS P1 P2
 *   case 2S  CLA INS P1 P2 Le                 Le 00 means 256
 *   case 3S  CLA INS P1 P2 Lc data            Lc 01..FF
 *   case 4S  CLA INS P1 P2 Lc data Le
 *   case 2E  CLA INS P1 P2 00 Le1 Le2         Le 0000 means 65536
 *   case 3E  CLA INS P1 P2 00 Lc1 Lc2 data    Lc 0001..FFFF
 *   case 4E  CLA INS P1 P2 00 Lc1 Lc2 data Le1 Le2
 *
 * A command too long for one APDU is split by struct apdu_chain (command
 * chaining, ISO 7816-4, 5.1.1.1).  A response is split into data and status
 * word by apdu_parse_response.  A card decodes a command with
 * apdu_decode_command.  apdu_transceive runs one command through a
 * caller's transmit function and follows 61xx (GET RESPONSE) and 6Cxx
 * (resend with the right Le) the way T=0 cards and many others require.
 *
 * Pure code: no I/O but through the caller's callback, no allocation, no
 * global state.
 */
#ifndef DUALSCD_PROTOCOL_APDU_H
#define DUALSCD_PROTOCOL_APDU_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* Values of struct apdu_cmd.le besides 1..65536: no Le field (no response
 * data expected), or the largest the chosen form can say (256 in the short
 * form, 65536 in the extended form). */
#define APDU_LE_NONE 0
#define APDU_LE_MAX ((size_t)-1)

/* Limits of the two forms; an encoding buffer of APDU_EXTENDED_MAX bytes
 * holds any command. */
#define APDU_SHORT_MAX_LC 255
#define APDU_SHORT_MAX_LE 256
#define APDU_EXTENDED_MAX_LC 65535
#define APDU_EXTENDED_MAX_LE 65536
#define APDU_SHORT_MAX (4 + 1 + 255 + 1)
#define APDU_EXTENDED_MAX (4 + 3 + 65535 + 2)

/* The CLA bit that marks every part of a chained command but the last. */
#define APDU_CLA_CHAIN 0x10

/* The GET RESPONSE instruction (ISO 7816-4, 7.6.1). */
#define APDU_INS_GET_RESPONSE 0xC0

/* Default bound on the GET RESPONSE rounds of one apdu_transceive:
 * 64 KiB in pieces of 64 bytes, far more than any honest card needs. */
#define APDU_DEFAULT_MAX_ROUNDS 1024

/* One command APDU.  DATA holds LC bytes (DATA may be NULL if LC is 0);
 * LE is the number of response bytes expected (Ne): APDU_LE_NONE, 1 to
 * 65536, or APDU_LE_MAX. */
struct apdu_cmd
{
  uint8_t cla;
  uint8_t ins;
  uint8_t p1;
  uint8_t p2;
  const uint8_t *data;
  size_t lc;
  size_t le;
};

enum apdu_form
{
  APDU_FORM_AUTO,     /* short if LC and LE fit, else extended */
  APDU_FORM_SHORT,    /* short, or GPG_ERR_TOO_LARGE */
  APDU_FORM_EXTENDED, /* extended whenever there is an Lc or Le field */
};

/* Encodes CMD into OUT (room for OUTSIZE bytes) in FORM; *OUTLEN gets the
 * byte count.  Errors: GPG_ERR_INV_VALUE for LC above 65535, LE above 65536
 * (other than APDU_LE_MAX), DATA NULL with LC above 0, or an unknown FORM;
 * GPG_ERR_TOO_LARGE if FORM is APDU_FORM_SHORT but LC is above 255 or LE
 * above 256; GPG_ERR_BUFFER_TOO_SHORT. */
gpg_error_t apdu_encode(const struct apdu_cmd *cmd, enum apdu_form form, uint8_t *out,
                        size_t outsize, size_t *outlen);

/* Command chaining: the parts of one command, each with at most a given
 * number of data bytes.  The members are private. */
struct apdu_chain
{
  struct apdu_cmd cmd;
  size_t chunk;
  size_t offset;
  int done;
};

/* Prepares to split CMD into parts of at most CHUNK (1 to 65535) data
 * bytes.  CMD's data must stay valid until the last part is sent.  Errors:
 * GPG_ERR_INV_VALUE for CHUNK 0 or above 65535, LC above 65535, DATA NULL
 * with LC above 0, LE above 65536 (other than APDU_LE_MAX), or a CLA that
 * already has APDU_CLA_CHAIN set.  On error no part is produced. */
gpg_error_t apdu_chain_init(struct apdu_chain *chain, const struct apdu_cmd *cmd,
                            size_t chunk);

/* Stores the next part in *PART and returns 1, or returns 0 when every part
 * has been produced.  Every part but the last has APDU_CLA_CHAIN set in its
 * CLA and no Le; the last has CMD's CLA and Le.  A command without data
 * yields one part, the command itself.  The caller sends each part (see
 * apdu_encode) and stops at the first one the card does not answer with
 * 9000. */
int apdu_chain_next(struct apdu_chain *chain, struct apdu_cmd *part);

/* The card side: splits the LEN bytes at BUF into *CMD (DATA points into
 * BUF) and sets *EXTENDED if the command used the extended form.  Every
 * ISO 7816-3 case is recognised by its length alone (12.1.3): 4 bytes is
 * case 1; 5 is case 2S; a nonzero fifth byte is a short Lc, followed by
 * exactly Lc bytes (3S) or Lc bytes and Le (4S); a zero fifth byte opens
 * the extended form: 7 bytes is case 2E, else 00 Lc1 Lc2 with a nonzero Lc
 * is followed by exactly Lc bytes (3E) or Lc bytes and 2 Le bytes (4E).
 * CMD->LE is APDU_LE_NONE or the decoded Ne (Le 00 is 256, 00 00 is 65536).
 * Errors: GPG_ERR_INV_LENGTH for every other shape (fewer than 4 bytes, a
 * short Lc 00 with data, an extended Lc 0000, missing or trailing bytes, an
 * Le field of the wrong size), which a card answers with 6700;
 * GPG_ERR_INV_VALUE if BUF is NULL.  On error *CMD is zeroed and *EXTENDED
 * is 0. */
gpg_error_t apdu_decode_command(const uint8_t *buf, size_t len, struct apdu_cmd *cmd,
                                int *extended);

/* A response APDU split up. */
struct apdu_resp
{
  const uint8_t *data; /* inside the parsed buffer */
  size_t len;
  unsigned int sw; /* SW1 << 8 | SW2 */
};

/* Splits the LEN bytes at BUF into data and status word.  Error:
 * GPG_ERR_TOO_SHORT if LEN is below 2. */
gpg_error_t apdu_parse_response(const uint8_t *buf, size_t len, struct apdu_resp *out);

/* Sends the APDUNLEN bytes at APDU to the card and points *RESP at the
 * RESPLEN bytes of its answer (data and SW1 SW2), which must stay valid
 * until the next call.  Returns an error only for a failure to exchange;
 * the card's status word is part of the answer. */
typedef gpg_error_t (*apdu_transmit_fn)(void *ctx, const uint8_t *apdu, size_t apdulen,
                                        const uint8_t **resp, size_t *resplen);

/* How apdu_transceive reaches the card. */
struct apdu_io
{
  apdu_transmit_fn transmit;
  void *ctx;               /* passed to TRANSMIT */
  uint8_t *cmdbuf;         /* scratch for the encoded command; */
  size_t cmdbufsize;       /* APDU_EXTENDED_MAX bytes always suffice */
  unsigned int max_rounds; /* GET RESPONSE bound, 0 for the default */
};

/* Sends CMD, encoded in FORM, through IO and collects the response data in
 * OUT (room for OUTSIZE bytes); *OUTLEN gets the byte count and *SW the
 * final status word.
 *
 * On 6Cxx the command is sent once more with Le = xx (00 meaning 256), its
 * first answer dropped.  On 61xx, GET RESPONSE (the command's CLA, less
 * APDU_CLA_CHAIN if the class is interindustry; INS C0, P1 P2 00 00, Le =
 * xx) is sent and its data appended, for as long as the card answers
 * 61xx.  The data of the final answer is kept whatever its status
 * word; the caller judges *SW (see sw_to_error).
 *
 * Returns 0 whenever the card answered, even with an error status word.
 * Errors: those of apdu_encode (GPG_ERR_BUFFER_TOO_SHORT also if CMDBUF is
 * too small) and of TRANSMIT; GPG_ERR_INV_VALUE if IO has no TRANSMIT;
 * GPG_ERR_TOO_SHORT for an answer shorter than 2 bytes;
 * GPG_ERR_INV_RESPONSE for more data than a GET RESPONSE or a resend asked
 * for; GPG_ERR_BUFFER_TOO_SHORT if the data would overflow OUT (never
 * truncated); GPG_ERR_LIMIT_REACHED after MAX_ROUNDS GET RESPONSEs.  On
 * error *OUTLEN and *SW are 0. */
gpg_error_t apdu_transceive(const struct apdu_io *io, const struct apdu_cmd *cmd,
                            enum apdu_form form, uint8_t *out, size_t outsize,
                            size_t *outlen, unsigned int *sw);

#endif /* DUALSCD_PROTOCOL_APDU_H */
