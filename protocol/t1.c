/* t1.c - the T=1 block transmission protocol (ISO/IEC 7816-3:2006, clause 11) */
#include <string.h>

#include "t1.h"

/* NAD bits 8 and 4 once switched Vpp; ISO 7816-3:2006 reserves them. */
#define NAD_RFU 0x88

#define PCB_KIND_MASK 0xc0
#define PCB_R 0x80
#define PCB_S 0xc0
#define PCB_I_NS 0x40
#define PCB_I_MORE 0x20
#define PCB_I_RFU 0x1f
#define PCB_R_NR 0x10
#define PCB_R_RFU 0x20
#define PCB_R_ERROR 0x0f
#define PCB_S_RESPONSE 0x20
#define PCB_S_TYPE 0x1f

/* The INF length each S-block function carries, in both directions. */
static const uint8_t s_inflen[] = {
  [T1_S_RESYNCH] = 0,
  [T1_S_IFS] = 1,
  [T1_S_ABORT] = 0,
  [T1_S_WTX] = 1,
};

#define N_S_TYPES (sizeof s_inflen / sizeof s_inflen[0])

static int
edc_known(enum t1_edc edc)
{
  return edc == T1_EDC_LRC || edc == T1_EDC_CRC;
}

/* Overwrites N bytes at P in a way the compiler may not drop: blocks carry
 * PINs and keys. */
static void
wipe(void *p, size_t n)
{
  volatile uint8_t *v = p;

  while (n--)
    *v++ = 0;
}

uint8_t
t1_lrc(const uint8_t *data, size_t len)
{
  uint8_t lrc = 0;
  size_t i;

  for (i = 0; i < len; i++)
    lrc ^= data[i];
  return lrc;
}

uint16_t
t1_crc(const uint8_t *data, size_t len)
{
  uint16_t crc = 0xffff;
  size_t i;
  int bit;

  for (i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (bit = 0; bit < 8; bit++)
        crc = (uint16_t)((crc & 1) ? (crc >> 1) ^ 0x8408 : crc >> 1);
    }
  return crc;
}

size_t
t1_edc_size(enum t1_edc edc)
{
  return edc == T1_EDC_CRC ? 2 : 1;
}

/* Writes the epilogue for the LEN bytes at BLOCK right behind them. */
static void
put_edc(uint8_t *block, size_t len, enum t1_edc edc)
{
  uint16_t crc;

  if (edc == T1_EDC_LRC)
    {
      block[len] = t1_lrc(block, len);
      return;
    }
  crc = t1_crc(block, len);
  block[len] = (uint8_t)(crc >> 8);
  block[len + 1] = (uint8_t)crc;
}

/* Checks the epilogue that follows the LEN bytes at BLOCK. */
static int
edc_matches(const uint8_t *block, size_t len, enum t1_edc edc)
{
  uint16_t crc;

  if (edc == T1_EDC_LRC)
    return block[len] == t1_lrc(block, len);
  crc = t1_crc(block, len);
  return block[len] == (uint8_t)(crc >> 8) && block[len + 1] == (uint8_t)crc;
}

static gpg_error_t
s_inf_check(enum t1_s_type stype, const uint8_t *inf, size_t inflen)
{
  if (inflen != s_inflen[stype])
    return gpg_error(GPG_ERR_INV_LENGTH);
  if (stype == T1_S_IFS && (inf[0] == 0 || inf[0] == 0xff))
    return gpg_error(GPG_ERR_INV_VALUE);
  return 0;
}

/* Computes the PCB of BLK, checking every field its type uses. */
static gpg_error_t
make_pcb(const struct t1_block *blk, uint8_t *pcb)
{
  gpg_error_t err;

  *pcb = 0;
  if (blk->inflen && !blk->inf)
    return gpg_error(GPG_ERR_INV_ARG);
  if (blk->type == T1_BLOCK_I)
    {
      if (blk->seq > 1)
        return gpg_error(GPG_ERR_INV_VALUE);
      if (blk->inflen > T1_MAX_INF)
        return gpg_error(GPG_ERR_INV_LENGTH);
      *pcb = (uint8_t)((blk->seq ? PCB_I_NS : 0) | (blk->more ? PCB_I_MORE : 0));
      return 0;
    }
  if (blk->type == T1_BLOCK_R)
    {
      if (blk->seq > 1 || (unsigned int)blk->rerr > T1_R_OTHER)
        return gpg_error(GPG_ERR_INV_VALUE);
      if (blk->inflen)
        return gpg_error(GPG_ERR_INV_LENGTH);
      *pcb = (uint8_t)(PCB_R | (blk->seq ? PCB_R_NR : 0) | (unsigned int)blk->rerr);
      return 0;
    }
  if (blk->type != T1_BLOCK_S || (unsigned int)blk->stype >= N_S_TYPES)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = s_inf_check(blk->stype, blk->inf, blk->inflen);
  if (err)
    return err;
  *pcb = (uint8_t)(PCB_S | (blk->response ? PCB_S_RESPONSE : 0)
                   | (unsigned int)blk->stype);
  return 0;
}

gpg_error_t
t1_block_encode(const struct t1_block *blk, enum t1_edc edc, uint8_t *out, size_t outsize,
                size_t *outlen)
{
  gpg_error_t err;
  uint8_t pcb;
  size_t n;

  *outlen = 0;
  if (!edc_known(edc) || (blk->nad & NAD_RFU))
    return gpg_error(GPG_ERR_INV_VALUE);
  err = make_pcb(blk, &pcb);
  if (err)
    return err;
  n = 3 + blk->inflen + t1_edc_size(edc);
  if (n > outsize)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  out[0] = blk->nad;
  out[1] = pcb;
  out[2] = (uint8_t)blk->inflen;
  if (blk->inflen)
    memcpy(out + 3, blk->inf, blk->inflen);
  put_edc(out, 3 + blk->inflen, edc);
  *outlen = n;
  return 0;
}

/* Fills in BLK from a PCB whose block passed the length and EDC checks. */
static gpg_error_t
decode_pcb(uint8_t pcb, size_t maxinf, struct t1_block *blk)
{
  if (!(pcb & PCB_R))
    {
      if (pcb & PCB_I_RFU)
        return gpg_error(GPG_ERR_INV_VALUE);
      blk->type = T1_BLOCK_I;
      blk->seq = (pcb & PCB_I_NS) ? 1 : 0;
      blk->more = !!(pcb & PCB_I_MORE);
      return blk->inflen > maxinf ? gpg_error(GPG_ERR_TOO_LARGE) : 0;
    }
  if ((pcb & PCB_KIND_MASK) == PCB_R)
    {
      if ((pcb & PCB_R_RFU) || (pcb & PCB_R_ERROR) > T1_R_OTHER)
        return gpg_error(GPG_ERR_INV_VALUE);
      blk->type = T1_BLOCK_R;
      blk->seq = (pcb & PCB_R_NR) ? 1 : 0;
      blk->rerr = (enum t1_r_error)(pcb & PCB_R_ERROR);
      return blk->inflen ? gpg_error(GPG_ERR_INV_LENGTH) : 0;
    }
  if ((pcb & PCB_S_TYPE) >= N_S_TYPES)
    return gpg_error(GPG_ERR_INV_VALUE);
  blk->type = T1_BLOCK_S;
  blk->stype = (enum t1_s_type)(pcb & PCB_S_TYPE);
  blk->response = !!(pcb & PCB_S_RESPONSE);
  return s_inf_check(blk->stype, blk->inf, blk->inflen);
}

gpg_error_t
t1_block_parse(const uint8_t *buf, size_t len, enum t1_edc edc, size_t maxinf,
               struct t1_block *blk)
{
  gpg_error_t err;
  size_t total;

  memset(blk, 0, sizeof *blk);
  if (!edc_known(edc))
    return gpg_error(GPG_ERR_INV_VALUE);
  if (len < 3)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (buf[2] == 0xff)
    return gpg_error(GPG_ERR_INV_VALUE);
  total = 3 + (size_t)buf[2] + t1_edc_size(edc);
  if (len < total)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (len > total)
    return gpg_error(GPG_ERR_INV_LENGTH);
  if (!edc_matches(buf, 3 + (size_t)buf[2], edc))
    return gpg_error(GPG_ERR_CHECKSUM);
  if (buf[0] & NAD_RFU)
    return gpg_error(GPG_ERR_INV_VALUE);
  blk->nad = buf[0];
  blk->inf = buf + 3;
  blk->inflen = buf[2];
  err = decode_pcb(buf[1], maxinf, blk);
  if (err)
    memset(blk, 0, sizeof *blk);
  return err;
}

/*
 * The engine.  Rule numbers are those of ISO/IEC 7816-3:2006, 11.6.
 */

void
t1_init(struct t1_ctx *ctx, t1_exchange_fn exchange, void *opaque)
{
  memset(ctx, 0, sizeof *ctx);
  ctx->exchange = exchange;
  ctx->opaque = opaque;
  ctx->edc = T1_EDC_LRC;
  ctx->ifsc_atr = T1_DEFAULT_IFS;
  ctx->retries = T1_DEFAULT_RETRIES;
  t1_reset(ctx);
}

void
t1_reset(struct t1_ctx *ctx)
{
  ctx->ifsc = ctx->ifsc_atr;
  ctx->ifsd = T1_DEFAULT_IFS;
  ctx->ns = 0;
  ctx->nr = 0;
  ctx->link = T1_LINK_OK;
}

gpg_error_t
t1_set_ifsc(struct t1_ctx *ctx, unsigned int ifsc)
{
  if (ifsc < 1 || ifsc > T1_MAX_INF)
    return gpg_error(GPG_ERR_INV_VALUE);
  ctx->ifsc_atr = (uint8_t)ifsc;
  ctx->ifsc = (uint8_t)ifsc;
  return 0;
}

gpg_error_t
t1_set_edc(struct t1_ctx *ctx, enum t1_edc edc)
{
  if (!edc_known(edc))
    return gpg_error(GPG_ERR_INV_VALUE);
  ctx->edc = edc;
  return 0;
}

gpg_error_t
t1_set_nad(struct t1_ctx *ctx, unsigned int dad, unsigned int sad)
{
  if (dad > 7 || sad > 7)
    return gpg_error(GPG_ERR_INV_VALUE);
  ctx->nad = (uint8_t)(dad << 4 | sad);
  return 0;
}

gpg_error_t
t1_set_retries(struct t1_ctx *ctx, unsigned int retries)
{
  if (retries > 15)
    return gpg_error(GPG_ERR_INV_VALUE);
  ctx->retries = retries;
  return 0;
}

/* The card answers with source and destination exchanged. */
static uint8_t
card_nad(const struct t1_ctx *ctx)
{
  return (uint8_t)((ctx->nad >> 4) | (ctx->nad & 0x07) << 4);
}

/* What came back from one exchange that the transport survived. */
struct reply
{
  int valid;            /* BLK is a well-formed block from our card */
  enum t1_r_error rerr; /* otherwise: the error code to report */
  gpg_err_code_t cause; /* otherwise: what went wrong */
  struct t1_block blk;
};

static gpg_error_t
invalid(struct reply *r, enum t1_r_error rerr, gpg_err_code_t cause)
{
  r->valid = 0;
  r->rerr = rerr;
  r->cause = cause;
  return 0;
}

/* Sends TX and checks the reply, which lands in RX (T1_MAX_BLOCK bytes).
 * Returns only transport errors; everything else is described in R. */
static gpg_error_t
exchange(struct t1_ctx *ctx, const uint8_t *tx, size_t txlen, unsigned int wtx,
         uint8_t *rx, struct reply *r)
{
  gpg_error_t err;
  size_t rxlen = 0;

  memset(r, 0, sizeof *r);
  err = ctx->exchange(ctx->opaque, tx, txlen, rx, T1_MAX_BLOCK, &rxlen, wtx);
  if (gpg_err_code(err) == GPG_ERR_TIMEOUT)
    return invalid(r, T1_R_OTHER, GPG_ERR_TIMEOUT);
  if (gpg_err_code(err) == GPG_ERR_CHECKSUM)
    return invalid(r, T1_R_EDC, GPG_ERR_CHECKSUM);
  if (err)
    {
      ctx->link = T1_LINK_LOST;
      return err;
    }
  if (rxlen > T1_MAX_BLOCK)
    return invalid(r, T1_R_OTHER, GPG_ERR_PROTOCOL_VIOLATION);
  err = t1_block_parse(rx, rxlen, ctx->edc, ctx->ifsd, &r->blk);
  if (gpg_err_code(err) == GPG_ERR_CHECKSUM)
    return invalid(r, T1_R_EDC, GPG_ERR_CHECKSUM);
  if (err || r->blk.nad != card_nad(ctx))
    return invalid(r, T1_R_OTHER, GPG_ERR_PROTOCOL_VIOLATION);
  r->valid = 1;
  return 0;
}

static gpg_error_t
encode_s(const struct t1_ctx *ctx, enum t1_s_type stype, int response, const uint8_t *inf,
         uint8_t *out, size_t *outlen)
{
  struct t1_block blk;

  memset(&blk, 0, sizeof blk);
  blk.type = T1_BLOCK_S;
  blk.nad = ctx->nad;
  blk.stype = stype;
  blk.response = response;
  blk.inf = inf;
  blk.inflen = s_inflen[stype];
  return t1_block_encode(&blk, ctx->edc, out, T1_MAX_BLOCK, outlen);
}

static int
is_s_response(const struct reply *r, enum t1_s_type stype)
{
  return r->valid && r->blk.type == T1_BLOCK_S && r->blk.response
         && r->blk.stype == stype;
}

/* Rule 6: only the interface device resynchronises, a bounded number of
 * times; a card that never confirms has to be deactivated. */
static gpg_error_t
resync_link(struct t1_ctx *ctx)
{
  gpg_error_t err;
  uint8_t tx[T1_MAX_BLOCK], rx[T1_MAX_BLOCK];
  size_t txlen;
  struct reply r;
  unsigned int attempt, attempts = ctx->retries ? ctx->retries : 1;

  err = encode_s(ctx, T1_S_RESYNCH, 0, NULL, tx, &txlen);
  for (attempt = 0; !err && attempt < attempts; attempt++)
    {
      err = exchange(ctx, tx, txlen, 0, rx, &r);
      if (!err && is_s_response(&r, T1_S_RESYNCH))
        {
          ctx->ns = 0;
          ctx->nr = 0;
          ctx->ifsc = ctx->ifsc_atr;
          ctx->link = T1_LINK_OK;
          return 0;
        }
    }
  if (err)
    return err;
  ctx->link = T1_LINK_DEAD;
  return gpg_error(GPG_ERR_CARD_RESET);
}

gpg_error_t
t1_resync(struct t1_ctx *ctx)
{
  if (ctx->link == T1_LINK_DEAD)
    return gpg_error(GPG_ERR_CARD_RESET);
  return resync_link(ctx);
}

/* Brings the link into step before an operation. */
static gpg_error_t
link_ready(struct t1_ctx *ctx)
{
  if (ctx->link == T1_LINK_DEAD)
    return gpg_error(GPG_ERR_CARD_RESET);
  if (ctx->link == T1_LINK_LOST)
    return resync_link(ctx);
  return 0;
}

gpg_error_t
t1_negotiate_ifsd(struct t1_ctx *ctx, unsigned int ifsd)
{
  gpg_error_t err;
  uint8_t tx[T1_MAX_BLOCK], rx[T1_MAX_BLOCK];
  uint8_t value = (uint8_t)ifsd;
  size_t txlen;
  struct reply r;
  gpg_err_code_t cause = GPG_ERR_PROTOCOL_VIOLATION;
  unsigned int attempt;

  if (ifsd < 1 || ifsd > T1_MAX_INF)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = link_ready(ctx);
  if (!err)
    err = encode_s(ctx, T1_S_IFS, 0, &value, tx, &txlen);
  /* Rule 7.3: whatever goes wrong, the request is sent again. */
  for (attempt = 0; !err && attempt <= ctx->retries; attempt++)
    {
      err = exchange(ctx, tx, txlen, 0, rx, &r);
      if (err)
        return err;
      if (is_s_response(&r, T1_S_IFS) && r.blk.inf[0] == value)
        {
          ctx->ifsd = value;
          return 0;
        }
      cause = r.valid ? GPG_ERR_PROTOCOL_VIOLATION : r.cause;
    }
  if (err)
    return err;
  err = resync_link(ctx);
  return err ? err : gpg_error(cause);
}

/* One APDU in flight: the command going out, the response coming in. */
struct xfer
{
  struct t1_ctx *ctx;
  const uint8_t *apdu;
  size_t apdulen;
  size_t acked; /* command bytes the card has acknowledged */
  size_t chunk; /* command bytes in our outstanding I-block */
  int sending;  /* no I-block from the card yet */
  uint8_t *resp;
  size_t respsize;
  size_t resplen;  /* response bytes stored in RESP */
  size_t received; /* response bytes the card sent, stored or not */
  int overflow;    /* the response did not fit RESP */
  int done;
  unsigned int wtx;    /* multiplier for the next exchange */
  unsigned int errors; /* consecutive failed exchanges */
  unsigned int stalls; /* consecutive exchanges without progress */
  uint8_t tx[T1_MAX_BLOCK];
  size_t txlen;
  uint8_t rx[T1_MAX_BLOCK];
};

/* Resynchronises and reports CAUSE, or why resynchronising failed. */
static gpg_error_t
give_up(struct xfer *x, gpg_err_code_t cause)
{
  gpg_error_t err = resync_link(x->ctx);

  return err ? err : gpg_error(cause);
}

/* Builds our next (or repeated) I-block from the unacknowledged command
 * bytes, cut to the IFSC in force now: it may have changed since. */
static gpg_error_t
build_i(struct xfer *x)
{
  struct t1_block blk;
  size_t left = x->apdulen - x->acked;

  x->chunk = left < x->ctx->ifsc ? left : x->ctx->ifsc;
  memset(&blk, 0, sizeof blk);
  blk.type = T1_BLOCK_I;
  blk.nad = x->ctx->nad;
  blk.seq = x->ctx->ns;
  blk.more = x->chunk < left;
  blk.inf = x->apdu + x->acked;
  blk.inflen = x->chunk;
  return t1_block_encode(&blk, x->ctx->edc, x->tx, sizeof x->tx, &x->txlen);
}

static gpg_error_t
build_r(struct xfer *x, enum t1_r_error rerr)
{
  struct t1_block blk;

  memset(&blk, 0, sizeof blk);
  blk.type = T1_BLOCK_R;
  blk.nad = x->ctx->nad;
  blk.seq = x->ctx->nr;
  blk.rerr = rerr;
  return t1_block_encode(&blk, x->ctx->edc, x->tx, sizeof x->tx, &x->txlen);
}

/* Counts a failed exchange; past the retry limit, resynchronises. */
static gpg_error_t
count_error(struct xfer *x, gpg_err_code_t cause)
{
  if (++x->errors > x->ctx->retries)
    return give_up(x, cause);
  return 0;
}

/* Rule 7.1: an invalid block or none at all is answered with an R-block
 * that asks for the I-block we expect.  Rule 7.2 (repeat the R-block) is
 * the same block: N(R) cannot have changed meanwhile. */
static gpg_error_t
on_invalid(struct xfer *x, enum t1_r_error rerr, gpg_err_code_t cause)
{
  gpg_error_t err = count_error(x, cause);

  if (err)
    return err;
  return build_r(x, rerr);
}

static gpg_err_code_t
cause_of(enum t1_r_error rerr)
{
  return rerr == T1_R_EDC ? GPG_ERR_CHECKSUM : GPG_ERR_PROTOCOL_VIOLATION;
}

static gpg_error_t
on_rblock(struct xfer *x, const struct t1_block *blk)
{
  struct t1_ctx *ctx = x->ctx;
  gpg_error_t err;

  if (!x->sending)
    {
      /* The card did not get our last block: send it again as it is. */
      return count_error(x, cause_of(blk->rerr));
    }
  if (blk->seq == ctx->ns)
    {
      /* The card asks for our outstanding I-block again. */
      err = count_error(x, cause_of(blk->rerr));
      return err ? err : build_i(x);
    }
  if (x->acked + x->chunk < x->apdulen)
    {
      /* Rule 5: a chained block is acknowledged by R(N(S) + 1). */
      x->acked += x->chunk;
      ctx->ns ^= 1;
      x->errors = 0;
      x->stalls = 0;
      return build_i(x);
    }
  /* Our last block is answered with an I-block; an R-block that moves on
   * past it makes no sense. */
  return on_invalid(x, T1_R_OTHER, GPG_ERR_PROTOCOL_VIOLATION);
}

/* Keeps the INF of a card I-block, or counts it once RESP is full.  The
 * count is bounded so that an endless chain ends. */
static gpg_error_t
store(struct xfer *x, const struct t1_block *blk)
{
  size_t limit = x->respsize > T1_MAX_RESPONSE ? x->respsize : T1_MAX_RESPONSE;

  if (blk->inflen > limit - x->received)
    return give_up(x, GPG_ERR_BUFFER_TOO_SHORT);
  x->received += blk->inflen;
  if (x->overflow || blk->inflen > x->respsize - x->resplen)
    {
      x->overflow = 1;
      return 0;
    }
  if (blk->inflen)
    memcpy(x->resp + x->resplen, blk->inf, blk->inflen);
  x->resplen += blk->inflen;
  return 0;
}

static gpg_error_t
on_iblock(struct xfer *x, const struct t1_block *blk)
{
  struct t1_ctx *ctx = x->ctx;
  gpg_error_t err;

  if (x->sending && x->acked + x->chunk < x->apdulen)
    return on_invalid(x, T1_R_OTHER, GPG_ERR_PROTOCOL_VIOLATION);
  /* A wrong N(S) is a repeat of a block we have (our acknowledgement got
   * lost) or garbage; either way it is not stored. */
  if (blk->seq != ctx->nr)
    return on_invalid(x, T1_R_OTHER, GPG_ERR_PROTOCOL_VIOLATION);
  if (x->sending)
    {
      /* The card's answer acknowledges our last block. */
      x->acked = x->apdulen;
      ctx->ns ^= 1;
      x->sending = 0;
    }
  ctx->nr ^= 1;
  x->errors = 0;
  if (blk->inflen)
    x->stalls = 0;
  err = store(x, blk);
  if (err)
    return err;
  if (!blk->more)
    {
      x->done = 1;
      return 0;
    }
  return build_r(x, T1_R_OK);
}

static gpg_error_t
answer_resynch(struct xfer *x, const struct t1_block *blk)
{
  (void)blk;
  /* Rule 6: a card may not ask for it. */
  return on_invalid(x, T1_R_OTHER, GPG_ERR_PROTOCOL_VIOLATION);
}

static gpg_error_t
answer_ifs(struct xfer *x, const struct t1_block *blk)
{
  /* Rule 4: the new IFSC holds from our next I-block on. */
  x->ctx->ifsc = blk->inf[0];
  x->errors = 0;
  return encode_s(x->ctx, T1_S_IFS, 1, blk->inf, x->tx, &x->txlen);
}

static gpg_error_t
answer_wtx(struct xfer *x, const struct t1_block *blk)
{
  /* Rule 3: the extension covers the wait for the card's next block. */
  x->wtx = blk->inf[0];
  x->errors = 0;
  return encode_s(x->ctx, T1_S_WTX, 1, blk->inf, x->tx, &x->txlen);
}

/* Rule 9: the card gives up its chain or ours.  We confirm, then
 * resynchronise so that both sides start again from a known state
 * whatever the card does next. */
static gpg_error_t
answer_abort(struct xfer *x, const struct t1_block *blk)
{
  gpg_error_t err;
  struct reply r;

  (void)blk;
  err = encode_s(x->ctx, T1_S_ABORT, 1, NULL, x->tx, &x->txlen);
  if (!err)
    err = exchange(x->ctx, x->tx, x->txlen, 0, x->rx, &r);
  return err ? err : give_up(x, GPG_ERR_CANCELED);
}

/* The card's S-requests and our answers, by S-block function. */
static gpg_error_t (*const s_answers[])(struct xfer *, const struct t1_block *) = {
  [T1_S_RESYNCH] = answer_resynch,
  [T1_S_IFS] = answer_ifs,
  [T1_S_ABORT] = answer_abort,
  [T1_S_WTX] = answer_wtx,
};

static gpg_error_t
on_sblock(struct xfer *x, const struct t1_block *blk)
{
  /* We have no request outstanding that a response could answer. */
  if (blk->response)
    return on_invalid(x, T1_R_OTHER, GPG_ERR_PROTOCOL_VIOLATION);
  return s_answers[blk->stype](x, blk);
}

static gpg_error_t (*const block_handlers[])(struct xfer *, const struct t1_block *) = {
  [T1_BLOCK_I] = on_iblock,
  [T1_BLOCK_R] = on_rblock,
  [T1_BLOCK_S] = on_sblock,
};

/* Every pass either makes progress (a command byte acknowledged, a
 * response byte received; both bounded) or counts as a stall, and
 * T1_MAX_STALLS stalls in a row end the loop. */
static gpg_error_t
run(struct xfer *x)
{
  gpg_error_t err;
  struct reply r;
  unsigned int wtx;

  err = build_i(x);
  while (!err && !x->done)
    {
      if (++x->stalls > T1_MAX_STALLS)
        return give_up(x, GPG_ERR_TIMEOUT);
      wtx = x->wtx;
      x->wtx = 0;
      err = exchange(x->ctx, x->tx, x->txlen, wtx, x->rx, &r);
      if (err)
        break;
      if (!r.valid)
        err = on_invalid(x, r.rerr, r.cause);
      else
        err = block_handlers[r.blk.type](x, &r.blk);
    }
  return err;
}

gpg_error_t
t1_transceive(struct t1_ctx *ctx, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
              size_t respsize, size_t *resplen)
{
  gpg_error_t err;
  struct xfer x;

  *resplen = 0;
  if (!apdulen)
    return gpg_error(GPG_ERR_INV_ARG);
  err = link_ready(ctx);
  if (err)
    return err;
  memset(&x, 0, sizeof x);
  x.ctx = ctx;
  x.apdu = apdu;
  x.apdulen = apdulen;
  x.sending = 1;
  x.resp = resp;
  x.respsize = respsize;
  err = run(&x);
  if (!err && x.overflow)
    err = gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  if (err)
    wipe(resp, x.resplen);
  else
    *resplen = x.resplen;
  wipe(&x, sizeof x);
  return err;
}
