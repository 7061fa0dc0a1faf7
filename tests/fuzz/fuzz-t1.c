/* fuzz-t1.c - the T=1 block parser on raw input, and the engine against a
 * card whose every reply comes from the input
 *
 * The whole input is first parsed as one block (both epilogues); a block
 * that parses must encode back to the same bytes.  Then the input drives
 * the engine: byte 0 chooses the settings, the rest is a list of replies:
 *
 *   config   bit 0 CRC, bit 1 negotiate IFSD 254 first, bits 3-2 IFSC
 *            (1, 16, 32, 254), bits 5-4 response buffer (0, 16, 300, 4096
 *            bytes), bit 6 NAD 1/2, bit 7 no retries
 *   reply    C: C & 3 == 0  raw: a length byte N and N bytes as they are
 *                       1  built: PCB, N, N bytes of INF; the harness adds
 *                          the card's NAD, LEN and a correct epilogue
 *                       2  no reply (a timeout), or with C & 4 a transport
 *                          error
 *                       3  a reply damaged on the way (parity error)
 *
 * Once the input is used up the card is silent.  Two APDUs are sent so
 * that the second sees the state the first left behind.  Every block the
 * engine sends is checked: well-formed, our NAD, I-blocks within the IFSC,
 * a WTX multiplier only with the S(WTX response) that carries it.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "t1.h"

struct feed
{
  const uint8_t *data;
  size_t size;
  size_t pos;
  unsigned int exchanges;
  unsigned int max_exchanges;
  const struct t1_ctx *ctx;
};

static void
check_roundtrip(const uint8_t *data, size_t size, enum t1_edc edc)
{
  struct t1_block blk;
  uint8_t out[T1_MAX_BLOCK];
  size_t n;

  if (t1_block_parse(data, size, edc, T1_MAX_INF, &blk))
    return;
  if (blk.inflen && (blk.inf < data + 3 || blk.inf + blk.inflen > data + size))
    abort();
  if (t1_block_encode(&blk, edc, out, sizeof out, &n) || n != size
      || memcmp(out, data, n))
    abort();
}

/* Aborts unless BLOCK is a block the engine may send now. */
static void
check_sent(const struct t1_ctx *ctx, const uint8_t *block, size_t blocklen,
           unsigned int wtx)
{
  struct t1_block blk;

  if (blocklen > T1_MAX_BLOCK
      || t1_block_parse(block, blocklen, ctx->edc, T1_MAX_INF, &blk)
      || blk.nad != ctx->nad)
    abort();
  if (blk.type == T1_BLOCK_I && (blk.inflen > ctx->ifsc || blk.inflen == 0))
    abort();
  if (wtx
      && (blk.type != T1_BLOCK_S || blk.stype != T1_S_WTX || !blk.response
          || blk.inf[0] != wtx))
    abort();
}

static size_t
take(struct feed *f, size_t n)
{
  size_t left = f->size - f->pos;

  return n < left ? n : left;
}

/* The built reply: PCB, N, INF from the input; NAD, LEN, EDC made up. */
static gpg_error_t
built_reply(struct feed *f, uint8_t *reply, size_t replysize, size_t *replylen)
{
  const struct t1_ctx *ctx = f->ctx;
  uint8_t pcb, len;
  size_t n;

  if (take(f, 2) < 2)
    return gpg_error(GPG_ERR_TIMEOUT);
  pcb = f->data[f->pos++];
  len = f->data[f->pos++];
  n = take(f, len);
  if (3 + n + t1_edc_size(ctx->edc) > replysize)
    return gpg_error(GPG_ERR_CHECKSUM);
  reply[0] = (uint8_t)((ctx->nad >> 4) | (ctx->nad & 7) << 4);
  reply[1] = pcb;
  reply[2] = (uint8_t)n;
  memcpy(reply + 3, f->data + f->pos, n);
  f->pos += n;
  n += 3;
  if (ctx->edc == T1_EDC_LRC)
    {
      reply[n] = t1_lrc(reply, n);
      n++;
    }
  else
    {
      uint16_t crc = t1_crc(reply, n);
      reply[n++] = (uint8_t)(crc >> 8);
      reply[n++] = (uint8_t)crc;
    }
  *replylen = n;
  return 0;
}

static gpg_error_t
fake_card(void *opaque, const uint8_t *block, size_t blocklen, uint8_t *reply,
          size_t replysize, size_t *replylen, unsigned int wtx)
{
  struct feed *f = opaque;
  uint8_t c;
  size_t n;

  *replylen = 0;
  if (++f->exchanges > f->max_exchanges || replysize != T1_MAX_BLOCK)
    abort();
  check_sent(f->ctx, block, blocklen, wtx);
  if (f->pos >= f->size)
    return gpg_error(GPG_ERR_TIMEOUT);
  c = f->data[f->pos++];
  if ((c & 3) == 1)
    return built_reply(f, reply, replysize, replylen);
  if ((c & 3) == 2)
    return gpg_error((c & 4) ? GPG_ERR_EIO : GPG_ERR_TIMEOUT);
  if ((c & 3) == 3 || !take(f, 1))
    return gpg_error(GPG_ERR_CHECKSUM);
  n = take(f, f->data[f->pos++]);
  memcpy(reply, f->data + f->pos, n);
  f->pos += n;
  *replylen = n;
  return 0;
}

static void
configure(struct t1_ctx *ctx, uint8_t config, size_t *respsize)
{
  static const unsigned int ifscs[] = { 1, 16, 32, 254 };
  static const size_t respsizes[] = { 0, 16, 300, 4096 };

  if (t1_set_edc(ctx, (config & 1) ? T1_EDC_CRC : T1_EDC_LRC)
      || t1_set_ifsc(ctx, ifscs[(config >> 2) & 3])
      || t1_set_nad(ctx, (config & 0x40) ? 1 : 0, (config & 0x40) ? 2 : 0)
      || t1_set_retries(ctx, (config & 0x80) ? 0 : T1_DEFAULT_RETRIES))
    abort();
  *respsize = respsizes[(config >> 4) & 3];
}

static void
send_apdu(struct t1_ctx *ctx, const uint8_t *apdu, size_t apdulen, size_t respsize)
{
  uint8_t *resp = malloc(respsize ? respsize : 1);
  size_t resplen = 99;
  gpg_error_t err;

  if (!resp)
    abort();
  err = t1_transceive(ctx, apdu, apdulen, respsize ? resp : NULL, respsize, &resplen);
  if (err ? resplen != 0 : resplen > respsize)
    abort();
  if (ctx->ns > 1 || ctx->nr > 1 || ctx->ifsc < 1 || ctx->ifsc > T1_MAX_INF)
    abort();
  free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t apdu[300];
  struct t1_ctx ctx;
  struct feed f;
  size_t respsize, i;

  check_roundtrip(data, size, T1_EDC_LRC);
  check_roundtrip(data, size, T1_EDC_CRC);
  if (!size)
    return 0;
  for (i = 0; i < sizeof apdu; i++)
    apdu[i] = (uint8_t)i;
  memset(&f, 0, sizeof f);
  f.data = data;
  f.size = size;
  f.pos = 1;
  f.ctx = &ctx;
  /* Each exchange eats input until none is left; then the card is silent
   * and a few timeouts and resynchronisations end every operation. */
  f.max_exchanges = (unsigned int)(size < 1000000 ? size : 1000000) + 200;
  t1_init(&ctx, fake_card, &f);
  configure(&ctx, data[0], &respsize);
  if (data[0] & 2)
    t1_negotiate_ifsd(&ctx, T1_MAX_INF);
  send_apdu(&ctx, apdu, sizeof apdu, respsize);
  send_apdu(&ctx, apdu, 5, respsize);
  t1_resync(&ctx);
  return 0;
}
