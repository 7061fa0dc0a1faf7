/* vcard.h - a software OpenPGP card (application version 3.4, or 3.3 / 2.1)
 *
 * The card is a library with one entry point: vcard_apdu takes a command
 * APDU and produces the response APDU, exactly as a card behind a reader
 * would.  dualscd-vcard (vcard-main.c) connects it to pcscd through vpcd;
 * unit tests and the fuzz harness call it directly.
 *
 * The state (data objects, PINs and their retry counters, keys, signature
 * counter) lives in memory and, when a state file is given, is written to
 * that file atomically after every command that changed it, so a card
 * survives the restart of its program like a real card survives unplugging.
 * Volatile state (which PINs are verified, a pending chained command or
 * response) is lost on vcard_reset, as on a real power cycle.
 */
#ifndef DUALSCD_VCARD_H
#define DUALSCD_VCARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gpg-error.h>

/* Application versions the card can present (DO 4F bytes 7-8, DO 5F52). */
#define VCARD_VERSION_2_1 0x0201
#define VCARD_VERSION_3_3 0x0303
#define VCARD_VERSION_3_4 0x0304

/* Longest command and response APDU the card takes and gives (extended
 * length; also advertised in DO 7F66). */
#define VCARD_MAX_APDU 4096

struct vcard;

struct vcard_options
{
  unsigned int version;   /* VCARD_VERSION_*, 0 for 3.4 */
  const char *state_path; /* NULL: in memory only, factory defaults */
  /* Serial number (4 bytes, DO 4F bytes 11-14); 0 derives one from the
   * state file's first creation.  Manufacturer is 0xFF00 (test cards). */
  uint32_t serial;
  /* A card without the private use DOs 0101-0104 (extended capabilities
   * bit 0x08 clear; GET and PUT DATA of them are refused), as some real
   * cards are. */
  int no_private_dos;
};

/* Creates a card.  With a state path, loads the state from that file or,
 * if it does not exist, creates it with factory defaults (PW1 123456,
 * PW3 12345678, no Reset Code, no keys, RSA 2048 attributes for all three
 * keys).  Errors: a state file that exists but cannot be read or parsed
 * (the card refuses to start rather than silently resetting itself). */
gpg_error_t vcard_new(const struct vcard_options *opt, struct vcard **r_card);

/* Frees the card; secret state is wiped. */
void vcard_free(struct vcard *card);

/* Writes the card's ATR into OUT (room for OUTSIZE bytes; 33 suffice) and
 * returns its length, 0 if OUT is too small.  The ATR offers T=1 and its
 * historical bytes carry the card capabilities (extended length, command
 * chaining). */
size_t vcard_atr(const struct vcard *card, uint8_t *out, size_t outsize);

/* Power cycle or warm reset: verified PINs, the selected application, and
 * any pending chained command or GET RESPONSE data are forgotten. */
void vcard_reset(struct vcard *card);

/* Processes the command APDU CMD (CMDLEN bytes) and writes the response
 * APDU (data and SW1 SW2) into RESP, which must have room for at least
 * VCARD_MAX_APDU + 2 bytes; *RESPLEN gets its length.  A malformed or
 * refused command is not an error here: it gets its status word, as on a
 * real card.  Returns an error only if the card itself failed (state file
 * not writable, RESPSIZE too small); the response is then 6F00. */
gpg_error_t vcard_apdu(struct vcard *card, const uint8_t *cmd, size_t cmdlen,
                       uint8_t *resp, size_t respsize, size_t *resplen);

/* Logs one line per command/response pair to FP (NULL: no log), flushed
 * after each line.  The line gives CLA, INS, P1, P2, Lc, Le, the response
 * length and SW; command data is shown only for commands that carry
 * neither PINs nor key material (VERIFY, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER, PUT DATA of key or PIN-related objects, key import and the
 * input of PSO/INTERNAL AUTHENTICATE are redacted), and response data
 * never.  The format is documented in vcard-log.c and stable: tests count
 * and grep these lines. */
void vcard_set_log(struct vcard *card, FILE *fp);

#endif /* DUALSCD_VCARD_H */
