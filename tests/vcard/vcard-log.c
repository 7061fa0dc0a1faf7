/* vcard-log.c - one log line per command/response pair
 *
 * The format is stable; tests count and grep these lines:
 *
 *   vcard: CLA=00 INS=CA P1=00 P2=6E Lc=0 Le=256 data=- resp=312 SW=9000
 *
 * CLA, INS, P1, P2 in hex; Lc and Le in decimal (Le=- when absent, the
 * decoded Ne otherwise: 256 for a short 00, 65536 for an extended 0000);
 * data= the command data in hex, "-" when there is none, cut after 64
 * bytes with "...", or "[N bytes redacted]" for commands that carry PINs
 * or key material (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER,
 * key import, PSO, INTERNAL AUTHENTICATE, PUT DATA of the Reset Code or the
 * KDF-DO); resp= the response length in bytes, status word included, and
 * SW= the status word.  Response data is never logged.  Each part of a
 * chained command has its line; the last part's shows the reassembled
 * command (CLA without the chaining bit, Lc of the whole chain).  A command too
 * malformed to decode is logged as
 *
 *   vcard: malformed APDU of N bytes resp=2 SW=6700
 */
#include "hex.h"
#include "vcard-int.h"

#define LOG_DATA_MAX 64

static void
log_data(FILE *fp, const struct vcard *card, const struct apdu_cmd *c)
{
  char hex[2 * LOG_DATA_MAX + 1];
  size_t n = c->lc < LOG_DATA_MAX ? c->lc : LOG_DATA_MAX;

  if (!c->lc)
    fputs(" data=-", fp);
  else if (card->redact)
    fprintf(fp, " data=[%zu bytes redacted]", c->lc);
  else
    fprintf(fp, " data=%s%s", hex_encode(c->data, n, hex),
            c->lc > LOG_DATA_MAX ? "..." : "");
}

void
vc_log_line(const struct vcard *card, size_t cmdlen, const struct apdu_cmd *c,
            size_t resplen, unsigned int sw)
{
  FILE *fp = card->log;

  if (!fp)
    return;
  if (!c)
    fprintf(fp, "vcard: malformed APDU of %zu bytes", cmdlen);
  else
    {
      fprintf(fp, "vcard: CLA=%02X INS=%02X P1=%02X P2=%02X Lc=%zu", c->cla, c->ins,
              c->p1, c->p2, c->lc);
      if (c->le == APDU_LE_NONE)
        fputs(" Le=-", fp);
      else
        fprintf(fp, " Le=%zu", c->le);
      log_data(fp, card, c);
    }
  fprintf(fp, " resp=%zu SW=%04X\n", resplen, sw);
  fflush(fp);
}
