/* emu-t1.c - the card side of T=1 (ISO/IEC 7816-3 clause 11) for the TPDU reader
 *
 * The host's engine drives; the card answers every block with exactly one
 * block, as a card does.  The card's IFSC is 254 (TA3 of its ATR), its
 * epilogue LRC.  Blocks are coded and checked by protocol/t1.c.
 */

#include "emu.h"

#include <string.h>

#include "t1.h"

#define EMU_IFSC 254

void
emu_t1_reset(struct emu_t1 *t1)
{
  memset(t1, 0, sizeof *t1);
  t1->ifsd = T1_DEFAULT_IFS;
}

/* Encodes BLK into the slot's "last block", then into OUT; a damaged copy
 * if "fault corrupt-t1" is armed, so that a retransmission is clean. */
static void
send(struct emu_t1 *t1, struct emu_faults *f, const struct t1_block *blk, uint8_t *out,
     size_t outsize, size_t *outlen)
{
  size_t len = 0;

  *outlen = 0;
  if (t1_block_encode(blk, T1_EDC_LRC, t1->last, sizeof t1->last, &len))
    return;
  t1->lastlen = len;
  if (len > outsize)
    return;
  memcpy(out, t1->last, len);
  if (f->corrupt_t1)
    {
      f->corrupt_t1--;
      out[len - 1] ^= 0x5A;
    }
  *outlen = len;
}

static void
send_s(struct emu_t1 *t1, struct emu_faults *f, enum t1_s_type type, int response,
       const uint8_t *inf, size_t inflen, uint8_t *out, size_t outsize, size_t *outlen)
{
  struct t1_block blk = { 0 };

  blk.type = T1_BLOCK_S;
  blk.stype = type;
  blk.response = response;
  blk.inf = inf;
  blk.inflen = inflen;
  send(t1, f, &blk, out, outsize, outlen);
}

static void
send_r(struct emu_t1 *t1, struct emu_faults *f, enum t1_r_error rerr, uint8_t *out,
       size_t outsize, size_t *outlen)
{
  struct t1_block blk = { 0 };

  blk.type = T1_BLOCK_R;
  blk.seq = t1->host_ns;
  blk.rerr = rerr;
  send(t1, f, &blk, out, outsize, outlen);
}

/* The next I-block of the response chain, or S(WTX request) first if the
 * fault asks for time. */
static void
send_next_i(struct emu_t1 *t1, struct emu_faults *f, uint8_t *out, size_t outsize,
            size_t *outlen)
{
  struct t1_block blk = { 0 };
  size_t left = t1->resplen - t1->respoff;
  size_t n = left > t1->ifsd ? t1->ifsd : left;
  uint8_t mult = 1;

  if (t1->wtx_left > 0)
    {
      t1->wtx_left--;
      send_s(t1, f, T1_S_WTX, 0, &mult, 1, out, outsize, outlen);
      return;
    }
  blk.type = T1_BLOCK_I;
  blk.seq = t1->card_ns;
  blk.more = n < left;
  blk.inf = t1->resp + t1->respoff;
  blk.inflen = n;
  t1->last_ns = t1->card_ns;
  t1->card_ns ^= 1;
  t1->respoff += n;
  send(t1, f, &blk, out, outsize, outlen);
}

static void
on_iblock(struct emu_slot *slot, struct emu_faults *f, const struct t1_block *blk,
          uint8_t *out, size_t outsize, size_t *outlen)
{
  struct emu_t1 *t1 = &slot->t1;

  if (blk->seq != t1->host_ns)
    {
      /* A repeated block: our answer was lost; say it again. */
      memcpy(out, t1->last, t1->lastlen);
      *outlen = t1->lastlen;
      return;
    }
  t1->host_ns ^= 1;
  if (t1->cmdlen + blk->inflen > sizeof t1->cmd)
    t1->cmdlen = 0;
  memcpy(t1->cmd + t1->cmdlen, blk->inf, blk->inflen);
  t1->cmdlen += blk->inflen;
  if (blk->more)
    {
      send_r(t1, f, T1_R_OK, out, outsize, outlen);
      return;
    }
  if (vcard_apdu(slot->card, t1->cmd, t1->cmdlen, t1->resp, sizeof t1->resp,
                 &t1->resplen))
    t1->resplen = 0;
  t1->cmdlen = 0;
  t1->respoff = 0;
  t1->wtx_left = (int)f->wtx;
  f->wtx = 0;
  send_next_i(t1, f, out, outsize, outlen);
}

static void
on_rblock(struct emu_t1 *t1, struct emu_faults *f, const struct t1_block *blk,
          uint8_t *out, size_t outsize, size_t *outlen)
{
  if (blk->seq != t1->last_ns && t1->respoff < t1->resplen)
    {
      send_next_i(t1, f, out, outsize, outlen); /* acknowledged: next part */
      return;
    }
  memcpy(out, t1->last, t1->lastlen); /* asks for a retransmission */
  *outlen = t1->lastlen;
}

static void
on_sblock(struct emu_t1 *t1, struct emu_faults *f, const struct t1_block *blk,
          uint8_t *out, size_t outsize, size_t *outlen)
{
  if (blk->response && blk->stype == T1_S_WTX)
    {
      send_next_i(t1, f, out, outsize, outlen);
      return;
    }
  if (blk->response)
    {
      send_r(t1, f, T1_R_OTHER, out, outsize, outlen);
      return;
    }
  if (blk->stype == T1_S_IFS)
    t1->ifsd = blk->inf[0];
  else if (blk->stype == T1_S_RESYNCH)
    {
      unsigned int ifsd = t1->ifsd;

      emu_t1_reset(t1);
      t1->ifsd = ifsd;
    }
  else if (blk->stype == T1_S_ABORT)
    t1->cmdlen = t1->resplen = t1->respoff = 0;
  send_s(t1, f, blk->stype, 1, blk->inf, blk->inflen, out, outsize, outlen);
}

void
emu_t1_block(struct emu_slot *slot, struct emu_faults *faults, const uint8_t *buf,
             size_t len, uint8_t *out, size_t outsize, size_t *outlen)
{
  struct emu_t1 *t1 = &slot->t1;
  struct t1_block blk;
  gpg_error_t err;

  *outlen = 0;
  err = t1_block_parse(buf, len, T1_EDC_LRC, EMU_IFSC, &blk);
  if (err)
    {
      send_r(t1, faults, gpg_err_code(err) == GPG_ERR_CHECKSUM ? T1_R_EDC : T1_R_OTHER,
             out, outsize, outlen);
      return;
    }
  if (blk.type == T1_BLOCK_I)
    on_iblock(slot, faults, &blk, out, outsize, outlen);
  else if (blk.type == T1_BLOCK_R)
    on_rblock(t1, faults, &blk, out, outsize, outlen);
  else
    on_sblock(t1, faults, &blk, out, outsize, outlen);
}
