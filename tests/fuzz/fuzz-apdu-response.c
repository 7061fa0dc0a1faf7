/* fuzz-apdu-response.c - response parsing and apdu_transceive against a
 * card whose answers come from the input
 *
 * Input: six bytes that shape the command and the caller (form, Le, Lc,
 * CLA, output room, round limit), then the card's answers, each a two-byte
 * big-endian length and that many bytes (fewer at the end of the input).
 * When the answers run out the card is "removed".
 *
 * The fake card checks every APDU the helper sends: first the command,
 * after a 6Cxx the same command with Le = xx, after a 61xx a GET RESPONSE
 * for xx bytes, and nothing after any other status word.  It keeps a shadow
 * of the data the helper should collect, compared with the result.  The
 * command encoder and the chaining iterator are checked on the same
 * commands against an independent decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "fuzz.h"
#include "sw.h"

#define HEADER 6
#define MAX_LC 511

struct card
{
  const uint8_t *next; /* answers not yet given */
  size_t left;
  const struct apdu_cmd *cmd;
  enum apdu_form form;
  uint8_t *shadow; /* data the helper should keep */
  size_t shadowlen;
  size_t calls;
  size_t get_responses;
  unsigned int last_sw;
};

static uint8_t cmdbuf[APDU_EXTENDED_MAX];
static uint8_t expectbuf[APDU_EXTENDED_MAX];
static uint8_t payload[MAX_LC];

/* Aborts unless APDU is CMD encoded in FORM. */
static void
expect_command(const struct apdu_cmd *cmd, enum apdu_form form, const uint8_t *apdu,
               size_t apdulen)
{
  size_t n;

  if (apdu_encode(cmd, form, expectbuf, sizeof expectbuf, &n))
    abort();
  if (n != apdulen || memcmp(apdu, expectbuf, n))
    abort();
}

static void
expect_get_response(struct card *c, const uint8_t *apdu, size_t apdulen)
{
  uint8_t cla = c->cmd->cla;

  if ((c->last_sw & 0xFF00) != SW_MORE_DATA || apdulen != 5)
    abort();
  if (!(cla & 0x80))
    cla = (uint8_t)(cla & ~APDU_CLA_CHAIN);
  if (apdu[0] != cla || apdu[1] != 0xC0 || apdu[2] || apdu[3]
      || apdu[4] != (c->last_sw & 0xFF))
    abort();
  c->get_responses++;
}

/* Checks what the helper sent, given what the card said before. */
static void
check_sent(struct card *c, const uint8_t *apdu, size_t apdulen)
{
  struct apdu_cmd again;

  if (c->calls == 1)
    expect_command(c->cmd, c->form, apdu, apdulen);
  else if (c->calls == 2 && (c->last_sw & 0xFF00) == SW_EXACT_LENGTH)
    {
      again = *c->cmd;
      again.le = (c->last_sw & 0xFF) ? (c->last_sw & 0xFF) : 256;
      expect_command(&again, c->form, apdu, apdulen);
      c->shadowlen = 0; /* the 6Cxx answer's data is dropped */
    }
  else
    expect_get_response(c, apdu, apdulen);
}

static gpg_error_t
card_transmit(void *ctx, const uint8_t *apdu, size_t apdulen, const uint8_t **resp,
              size_t *resplen)
{
  struct card *c = ctx;
  size_t len;

  c->calls++;
  check_sent(c, apdu, apdulen);
  if (c->left < 2)
    return gpg_error(GPG_ERR_CARD_REMOVED);
  len = (size_t)c->next[0] << 8 | c->next[1];
  c->next += 2;
  c->left -= 2;
  if (len > c->left)
    len = c->left;
  *resp = c->next;
  *resplen = len;
  c->next += len;
  c->left -= len;
  if (len >= 2)
    {
      memcpy(c->shadow + c->shadowlen, *resp, len - 2);
      c->shadowlen += len - 2;
      c->last_sw = (unsigned int)(*resp)[len - 2] << 8 | (*resp)[len - 1];
    }
  return 0;
}

static size_t
pick_le(uint8_t sel)
{
  static const size_t les[] = { APDU_LE_NONE, APDU_LE_MAX, 1, 255, 256, 257, 65536 };

  return sel < sizeof les / sizeof les[0] ? les[sel] : sel;
}

/* Decodes an encoded command independently and compares it with CMD. */
static void
check_decoding(const struct apdu_cmd *cmd, const uint8_t *b, size_t n, int extended)
{
  size_t lc = 0, ne = 0, want_ne, body;

  if (n < 4 || b[0] != cmd->cla || b[1] != cmd->ins || b[2] != cmd->p1 || b[3] != cmd->p2)
    abort();
  if (n == 5)
    ne = b[4] ? b[4] : 256;
  else if (n > 5 && b[4])
    {
      lc = b[4];
      if (n == 6 + lc)
        ne = b[n - 1] ? b[n - 1] : 256;
      else if (n != 5 + lc)
        abort();
    }
  else if (n == 7)
    ne = (b[5] << 8 | b[6]) ? (size_t)(b[5] << 8 | b[6]) : 65536;
  else if (n > 7)
    {
      lc = (size_t)b[5] << 8 | b[6];
      if (!lc || (n != 7 + lc && n != 9 + lc))
        abort();
      if (n == 9 + lc)
        ne = (b[n - 2] << 8 | b[n - 1]) ? (size_t)(b[n - 2] << 8 | b[n - 1]) : 65536;
    }
  else if (n != 4)
    abort();
  body = lc ? (n >= 7 && !b[4] ? 7 : 5) : 0;
  want_ne = cmd->le != APDU_LE_MAX ? cmd->le : extended ? 65536 : 256;
  if (lc != cmd->lc || ne != want_ne || (lc && memcmp(b + body, cmd->data, lc)))
    abort();
  if ((cmd->lc || cmd->le) && extended != (n >= 7 && !b[4]))
    abort();
}

static void
check_encoder(const struct apdu_cmd *cmd)
{
  static uint8_t buf[APDU_EXTENDED_MAX];
  static const enum apdu_form forms[]
      = { APDU_FORM_AUTO, APDU_FORM_SHORT, APDU_FORM_EXTENDED };
  enum apdu_form form;
  size_t i, n;
  int needed = cmd->lc > 255 || (cmd->le != APDU_LE_MAX && cmd->le > 256);
  gpg_error_t err;

  for (i = 0; i < sizeof forms / sizeof forms[0]; i++)
    {
      form = forms[i];
      err = apdu_encode(cmd, form, buf, sizeof buf, &n);
      if (form == APDU_FORM_SHORT && needed)
        {
          if (gpg_err_code(err) != GPG_ERR_TOO_LARGE)
            abort();
          continue;
        }
      if (err)
        abort();
      check_decoding(cmd, buf, n, form == APDU_FORM_EXTENDED || needed);
    }
}

/* The parts of CMD in chunks of CHUNK put back together are CMD. */
static void
check_chain(const struct apdu_cmd *cmd, size_t chunk)
{
  struct apdu_chain ch;
  struct apdu_cmd part;
  size_t offset = 0, parts = 0;
  int last = 0;

  if (apdu_chain_init(&ch, cmd, chunk))
    {
      if (!(cmd->cla & APDU_CLA_CHAIN))
        abort();
      return;
    }
  while (apdu_chain_next(&ch, &part))
    {
      if (last || part.lc > chunk || ++parts > MAX_LC + 1)
        abort();
      last = !(part.cla & APDU_CLA_CHAIN);
      if ((last ? part.cla != cmd->cla : part.cla != (cmd->cla | APDU_CLA_CHAIN))
          || part.ins != cmd->ins || part.le != (last ? cmd->le : APDU_LE_NONE))
        abort();
      if (part.lc && part.data != cmd->data + offset)
        abort();
      offset += part.lc;
    }
  if (!last || offset != cmd->lc)
    abort();
}

static void
check_parse(const uint8_t *data, size_t size)
{
  struct apdu_resp r;
  gpg_error_t err = apdu_parse_response(data, size, &r);

  if (size < 2)
    {
      if (gpg_err_code(err) != GPG_ERR_TOO_SHORT || r.data)
        abort();
      return;
    }
  if (err || r.data != data || r.len != size - 2
      || r.sw != ((unsigned int)data[size - 2] << 8 | data[size - 1]))
    abort();
  if (!sw_describe(r.sw) || sw_pin_retries(r.sw) > 15)
    abort();
  if (!sw_to_error(r.sw) != (r.sw == 0x9000 || (r.sw & 0xFF00) == 0x6100))
    abort();
}

static void
check_result(struct card *c, gpg_error_t err, size_t outsize, size_t n, unsigned int sw,
             const uint8_t *out, unsigned int max_rounds)
{
  if (err)
    {
      if (n || sw)
        abort();
      if (gpg_err_code(err) == GPG_ERR_LIMIT_REACHED && c->get_responses != max_rounds)
        abort();
      if (gpg_err_code(err) == GPG_ERR_BUFFER_TOO_SHORT && c->calls
          && c->shadowlen <= outsize)
        abort();
      return;
    }
  if (sw != c->last_sw || n != c->shadowlen || n > outsize
      || (n && memcmp(out, c->shadow, n)))
    abort();
  if ((sw & 0xFF00) == SW_MORE_DATA)
    abort();
  if ((sw & 0xFF00) == SW_EXACT_LENGTH && c->calls == 1)
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct apdu_cmd cmd = { 0 };
  struct card card;
  struct apdu_io io = { card_transmit, &card, cmdbuf, sizeof cmdbuf, 0 };
  uint8_t *out;
  size_t i, n, outsize;
  unsigned int sw;
  gpg_error_t err;

  check_parse(data, size);
  if (size < HEADER)
    return 0;
  for (i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)(i * 13 + 1);
  cmd.cla = data[3];
  cmd.ins = 0xCA;
  cmd.p1 = 0x00;
  cmd.p2 = data[0];
  cmd.lc = data[2] + ((data[0] & 0x80) ? 256u : 0u);
  cmd.data = cmd.lc ? payload : NULL;
  cmd.le = pick_le(data[1]);
  check_encoder(&cmd);
  check_chain(&cmd, (size_t)(data[1] % 64) * 5 + 1);

  outsize = data[4] == 0xFF ? 65536 : (size_t)data[4] * 3;
  io.max_rounds = data[5];
  out = malloc(outsize ? outsize : 1);
  memset(&card, 0, sizeof card);
  card.shadow = malloc(size);
  if (!out || !card.shadow)
    abort();
  card.next = data + HEADER;
  card.left = size - HEADER;
  card.cmd = &cmd;
  card.form = (enum apdu_form)(data[0] % 3);
  err = apdu_transceive(&io, &cmd, card.form, out, outsize, &n, &sw);
  check_result(&card, err, outsize, n, sw, out,
               io.max_rounds ? io.max_rounds : APDU_DEFAULT_MAX_ROUNDS);
  free(card.shadow);
  free(out);
  return 0;
}
