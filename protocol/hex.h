/* hex.h - hexadecimal text to bytes and back
 *
 * Pure helpers shared by the checker and, later, the Assuan commands.
 */
#ifndef DUALSCD_PROTOCOL_HEX_H
#define DUALSCD_PROTOCOL_HEX_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* Decodes hex digits from TEXT into OUT (room for OUTSIZE bytes); *OUTLEN
 * gets the byte count.  If LENIENT, blanks, tabs, colons and a leading "0x"
 * per group are skipped between bytes (never inside one).  Errors:
 * GPG_ERR_INV_VALUE at a non-hex character or an odd digit count (*ERRPOS,
 * if not NULL, gets its offset in TEXT), GPG_ERR_BUFFER_TOO_SHORT when OUT
 * is full. */
gpg_error_t hex_decode(const char *text, int lenient, uint8_t *out, size_t outsize,
                       size_t *outlen, size_t *errpos);

/* Writes LEN bytes as 2*LEN upper-case hex digits plus a NUL into OUT, which
 * must hold 2*LEN+1 bytes.  Returns OUT. */
char *hex_encode(const uint8_t *data, size_t len, char *out);

#endif /* DUALSCD_PROTOCOL_HEX_H */
