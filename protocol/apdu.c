/* apdu.c - ISO 7816-3/-4 command and response APDUs */
#include <string.h>

#include "apdu.h"
#include "sw.h"

/* Bit 8 of CLA: a proprietary class, whose other bits ISO does not define. */
#define CLA_PROPRIETARY 0x80

static gpg_error_t
check_cmd(const struct apdu_cmd *cmd)
{
  if (cmd->lc > APDU_EXTENDED_MAX_LC || (cmd->lc && !cmd->data)
      || (cmd->le != APDU_LE_MAX && cmd->le > APDU_EXTENDED_MAX_LE))
    return gpg_error(GPG_ERR_INV_VALUE);
  return 0;
}

static gpg_error_t
choose_extended(const struct apdu_cmd *cmd, enum apdu_form form, int *extended)
{
  int needed = cmd->lc > APDU_SHORT_MAX_LC
               || (cmd->le != APDU_LE_MAX && cmd->le > APDU_SHORT_MAX_LE);

  *extended = 0;
  if (form == APDU_FORM_AUTO)
    *extended = needed;
  else if (form == APDU_FORM_EXTENDED)
    *extended = 1;
  else if (form != APDU_FORM_SHORT)
    return gpg_error(GPG_ERR_INV_VALUE);
  else if (needed)
    return gpg_error(GPG_ERR_TOO_LARGE);
  return 0;
}

static size_t
encoded_size(const struct apdu_cmd *cmd, int extended)
{
  size_t size = 4;

  if (cmd->lc)
    size += (extended ? 3 : 1) + cmd->lc;
  /* In case 4E the 00 before Lc also introduces Le. */
  if (cmd->le)
    size += extended ? (cmd->lc ? 2 : 3) : 1;
  return size;
}

gpg_error_t
apdu_encode(const struct apdu_cmd *cmd, enum apdu_form form, uint8_t *out, size_t outsize,
            size_t *outlen)
{
  gpg_error_t err;
  int extended;
  size_t ne, n = 0;

  *outlen = 0;
  err = check_cmd(cmd);
  if (!err)
    err = choose_extended(cmd, form, &extended);
  if (err)
    return err;
  if (!out || encoded_size(cmd, extended) > outsize)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  out[n++] = cmd->cla;
  out[n++] = cmd->ins;
  out[n++] = cmd->p1;
  out[n++] = cmd->p2;
  if (extended && (cmd->lc || cmd->le))
    out[n++] = 0x00;
  if (cmd->lc)
    {
      if (extended)
        out[n++] = (uint8_t)(cmd->lc >> 8);
      out[n++] = (uint8_t)cmd->lc;
      memcpy(out + n, cmd->data, cmd->lc);
      n += cmd->lc;
    }
  if (cmd->le)
    {
      /* 256 and 65536 wrap to 00 and 00 00, as ISO 7816-3 wants. */
      ne = cmd->le != APDU_LE_MAX ? cmd->le
           : extended             ? APDU_EXTENDED_MAX_LE
                                  : APDU_SHORT_MAX_LE;
      if (extended)
        out[n++] = (uint8_t)(ne >> 8);
      out[n++] = (uint8_t)ne;
    }
  *outlen = n;
  return 0;
}

gpg_error_t
apdu_chain_init(struct apdu_chain *chain, const struct apdu_cmd *cmd, size_t chunk)
{
  gpg_error_t err;

  memset(chain, 0, sizeof *chain);
  chain->done = 1;
  err = check_cmd(cmd);
  /* With the chaining bit already set, the last part would not end the
   * chain. */
  if (!err && (!chunk || chunk > APDU_EXTENDED_MAX_LC || (cmd->cla & APDU_CLA_CHAIN)))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (err)
    return err;
  chain->cmd = *cmd;
  chain->chunk = chunk;
  chain->done = 0;
  return 0;
}

int
apdu_chain_next(struct apdu_chain *chain, struct apdu_cmd *part)
{
  size_t left;

  memset(part, 0, sizeof *part);
  if (chain->done)
    return 0;
  *part = chain->cmd;
  left = chain->cmd.lc - chain->offset;
  if (left)
    part->data = chain->cmd.data + chain->offset;
  if (left > chain->chunk)
    {
      part->cla |= APDU_CLA_CHAIN;
      part->lc = chain->chunk;
      part->le = APDU_LE_NONE;
    }
  else
    {
      part->lc = left;
      chain->done = 1;
    }
  chain->offset += part->lc;
  return 1;
}

/* Decodes the body after the header and a nonzero short Lc at BODY[0]. */
static gpg_error_t
decode_short_body(const uint8_t *body, size_t left, struct apdu_cmd *cmd)
{
  size_t lc = body[0];

  if (left == 1 + lc)
    cmd->le = APDU_LE_NONE;
  else if (left == 2 + lc)
    cmd->le = body[1 + lc] ? body[1 + lc] : APDU_SHORT_MAX_LE;
  else
    return gpg_error(GPG_ERR_INV_LENGTH);
  cmd->data = body + 1;
  cmd->lc = lc;
  return 0;
}

/* Decodes the body after the header when it starts with the 00 of the
 * extended form. */
static gpg_error_t
decode_extended_body(const uint8_t *body, size_t left, struct apdu_cmd *cmd)
{
  size_t n;

  if (left < 3)
    return gpg_error(GPG_ERR_INV_LENGTH);
  n = (size_t)body[1] << 8 | body[2];
  if (left == 3)
    {
      cmd->le = n ? n : APDU_EXTENDED_MAX_LE;
      return 0;
    }
  /* An extended Lc of 0000 would make case 2E ambiguous. */
  if (!n)
    return gpg_error(GPG_ERR_INV_LENGTH);
  if (left == 3 + n)
    cmd->le = APDU_LE_NONE;
  else if (left == 5 + n)
    {
      cmd->le = (size_t)body[3 + n] << 8 | body[4 + n];
      if (!cmd->le)
        cmd->le = APDU_EXTENDED_MAX_LE;
    }
  else
    return gpg_error(GPG_ERR_INV_LENGTH);
  cmd->data = body + 3;
  cmd->lc = n;
  return 0;
}

gpg_error_t
apdu_decode_command(const uint8_t *buf, size_t len, struct apdu_cmd *cmd, int *extended)
{
  gpg_error_t err = 0;

  memset(cmd, 0, sizeof *cmd);
  *extended = 0;
  if (!buf)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (len < 4)
    return gpg_error(GPG_ERR_INV_LENGTH);
  cmd->cla = buf[0];
  cmd->ins = buf[1];
  cmd->p1 = buf[2];
  cmd->p2 = buf[3];
  if (len == 5)
    cmd->le = buf[4] ? buf[4] : APDU_SHORT_MAX_LE;
  else if (len > 5 && buf[4])
    err = decode_short_body(buf + 4, len - 4, cmd);
  else if (len > 5)
    {
      err = decode_extended_body(buf + 4, len - 4, cmd);
      *extended = !err;
    }
  if (err)
    memset(cmd, 0, sizeof *cmd);
  return err;
}

gpg_error_t
apdu_parse_response(const uint8_t *buf, size_t len, struct apdu_resp *out)
{
  memset(out, 0, sizeof *out);
  if (len < 2)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (!buf)
    return gpg_error(GPG_ERR_INV_VALUE);
  out->data = buf;
  out->len = len - 2;
  out->sw = (unsigned int)buf[len - 2] << 8 | buf[len - 1];
  return 0;
}

/* The state of one apdu_transceive. */
struct xfer
{
  const struct apdu_io *io;
  uint8_t *out;
  size_t outsize;
  size_t outlen;
  unsigned int sw;
};

/* Sends APDU and keeps the status word; the card may send at most MAXDATA
 * bytes of data, left in *R. */
static gpg_error_t
exchange(struct xfer *x, const uint8_t *apdu, size_t apdulen, size_t maxdata,
         struct apdu_resp *r)
{
  gpg_error_t err;
  const uint8_t *resp = NULL;
  size_t resplen = 0;

  err = x->io->transmit(x->io->ctx, apdu, apdulen, &resp, &resplen);
  if (!err)
    err = apdu_parse_response(resp, resplen, r);
  if (err)
    return err;
  if (r->len > maxdata)
    return gpg_error(GPG_ERR_INV_RESPONSE);
  x->sw = r->sw;
  return 0;
}

static gpg_error_t
append(struct xfer *x, const struct apdu_resp *r)
{
  if (r->len > x->outsize - x->outlen)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  if (r->len)
    memcpy(x->out + x->outlen, r->data, r->len);
  x->outlen += r->len;
  return 0;
}

/* SW2 of 61xx and 6Cxx as a byte count. */
static size_t
sw2_count(unsigned int sw)
{
  return (sw & 0xFF) ? (sw & 0xFF) : 256;
}

/* Sends CMD; on 6Cxx, drops what came and sends it again with Le = xx. */
static gpg_error_t
send_command(struct xfer *x, const struct apdu_cmd *cmd, enum apdu_form form)
{
  gpg_error_t err;
  struct apdu_cmd again;
  struct apdu_resp r;
  size_t len;

  err = apdu_encode(cmd, form, x->io->cmdbuf, x->io->cmdbufsize, &len);
  if (!err)
    err = exchange(x, x->io->cmdbuf, len, SIZE_MAX, &r);
  if (!err && (x->sw & 0xFF00) == SW_EXACT_LENGTH)
    {
      again = *cmd;
      again.le = sw2_count(x->sw);
      err = apdu_encode(&again, form, x->io->cmdbuf, x->io->cmdbufsize, &len);
      if (!err)
        err = exchange(x, x->io->cmdbuf, len, again.le, &r);
    }
  if (!err)
    err = append(x, &r);
  return err;
}

/* Fetches the rest with GET RESPONSE while the card answers 61xx. */
static gpg_error_t
get_remaining(struct xfer *x, uint8_t cla)
{
  gpg_error_t err = 0;
  struct apdu_cmd get = { 0 };
  struct apdu_resp r;
  uint8_t apdu[5];
  size_t len;
  unsigned int rounds = 0;
  unsigned int max = x->io->max_rounds ? x->io->max_rounds : APDU_DEFAULT_MAX_ROUNDS;

  /* GET RESPONSE is no part of a chain. */
  get.cla = (cla & CLA_PROPRIETARY) ? cla : (uint8_t)(cla & ~APDU_CLA_CHAIN);
  get.ins = APDU_INS_GET_RESPONSE;
  while (!err && (x->sw & 0xFF00) == SW_MORE_DATA)
    {
      if (rounds++ == max)
        return gpg_error(GPG_ERR_LIMIT_REACHED);
      get.le = sw2_count(x->sw);
      err = apdu_encode(&get, APDU_FORM_SHORT, apdu, sizeof apdu, &len);
      if (!err)
        err = exchange(x, apdu, len, get.le, &r);
      if (!err)
        err = append(x, &r);
    }
  return err;
}

gpg_error_t
apdu_transceive(const struct apdu_io *io, const struct apdu_cmd *cmd, enum apdu_form form,
                uint8_t *out, size_t outsize, size_t *outlen, unsigned int *sw)
{
  gpg_error_t err;
  struct xfer x;

  *outlen = 0;
  *sw = 0;
  if (!io->transmit)
    return gpg_error(GPG_ERR_INV_VALUE);
  memset(&x, 0, sizeof x);
  x.io = io;
  x.out = out;
  x.outsize = out ? outsize : 0;
  err = send_command(&x, cmd, form);
  if (!err)
    err = get_remaining(&x, cmd->cla);
  if (err)
    return err;
  *outlen = x.outlen;
  *sw = x.sw;
  return 0;
}
