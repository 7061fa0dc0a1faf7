/* emu-ccid.c - the reader's firmware: CCID bulk commands to the software card */

#include "emu.h"

#include <string.h>

/* Slot error codes (bError) the emulator reports, CCID 1.1 table 6.2-2. */

static uint8_t
icc_status(const struct emu_slot *slot)
{
  if (!slot || !slot->present)
    return CCID_ICC_ABSENT;
  return slot->powered ? CCID_ICC_ACTIVE : CCID_ICC_INACTIVE;
}

/* Queues one reply, applying the armed message faults. */
static void
reply_raw(struct emu_cmd *c, uint8_t type, uint8_t cmdstatus, uint8_t error,
          uint8_t specific, const uint8_t *data, size_t datalen)
{
  struct emu_faults *f = &c->r->faults;
  struct ccid_reply rep = { 0 };
  uint8_t *msg;
  size_t msglen = 0, pad = 0;

  if (f->timeout)
    {
      f->timeout--; /* the reply is lost: the bulk-IN URB never completes */
      return;
    }
  if (f->oversize)
    {
      f->oversize--;
      pad = EMU_MAX_DATA + 16 - datalen;
    }
  msg = g_malloc0(CCID_HEADER_LEN + datalen + pad);
  rep.type = type;
  rep.slot = c->bslot;
  rep.seq = c->seq;
  rep.status = (uint8_t)(icc_status(c->slot) | cmdstatus << 6);
  rep.error = error;
  rep.specific = specific;
  rep.data = data;
  rep.datalen = datalen;
  if (ccid_reply_encode(&rep, msg, CCID_HEADER_LEN + datalen, &msglen))
    {
      g_free(msg);
      return;
    }
  if (pad)
    {
      msglen += pad;
      msg[1] = (uint8_t)((msglen - CCID_HEADER_LEN) & 0xFF);
      msg[2] = (uint8_t)((msglen - CCID_HEADER_LEN) >> 8);
    }
  if (f->lie_length)
    {
      f->lie_length--;
      msg[1] = (uint8_t)(msg[1] + 16); /* 16 more than follow */
    }
  if (f->bad_seq)
    {
      f->bad_seq--;
      msg[6] = (uint8_t)(msg[6] + 1);
    }
  g_queue_push_tail(&c->r->responses, g_bytes_new_take(msg, msglen));
}

void
emu_reply_ok(struct emu_cmd *c, uint8_t type, uint8_t specific, const uint8_t *data,
             size_t len)
{
  reply_raw(c, type, CCID_CMD_OK, 0, specific, data, len);
}

void
emu_reply_fail(struct emu_cmd *c, uint8_t error)
{
  uint8_t type = ccid_expected_reply(c->type);

  reply_raw(c, type ? type : CCID_RDR_TO_PC_SLOT_STATUS, CCID_CMD_FAILED, error, 0, NULL,
            0);
}

/* The T=1 parameters the ATR of the software card implies: Fi/Di from
 * TA1, TC1 guard time, BWI/CWI from TB3, IFSC 254, LRC, no NAD. */
static void
default_params(struct emu_slot *slot)
{
  memset(&slot->params, 0, sizeof slot->params);
  slot->params.protocol = CCID_PROTOCOL_T1;
  slot->params.t1.findex_dindex = 0x18;
  slot->params.t1.tcckst = 0x10;
  slot->params.t1.guard_time = 0xFF;
  slot->params.t1.waiting_integers = 0x75;
  slot->params.t1.ifsc = 0xFE;
}

static void
reply_params(struct emu_cmd *c)
{
  uint8_t buf[8];
  size_t len = 0;

  if (ccid_params_encode(&c->slot->params, buf, sizeof buf, &len))
    {
      emu_reply_fail(c, ERR_BAD_PROTOCOL);
      return;
    }
  emu_reply_ok(c, CCID_RDR_TO_PC_PARAMETERS, c->slot->params.protocol, buf, len);
}

static void
do_power_on(struct emu_cmd *c)
{
  uint8_t atr[33];
  size_t len;

  if (!c->slot->present)
    {
      emu_reply_fail(c, ERR_ICC_MUTE);
      return;
    }
  vcard_reset(c->slot->card);
  c->slot->powered = 1;
  c->slot->cmdlen = c->slot->resplen = c->slot->respoff = 0;
  emu_t1_reset(&c->slot->t1);
  default_params(c->slot);
  len = vcard_atr(c->slot->card, atr, sizeof atr);
  emu_reply_ok(c, CCID_RDR_TO_PC_DATA_BLOCK, 0, atr, len);
}

static void
do_power_off(struct emu_cmd *c)
{
  if (c->slot->powered)
    vcard_reset(c->slot->card);
  c->slot->powered = 0;
  emu_reply_ok(c, CCID_RDR_TO_PC_SLOT_STATUS, CCID_CLOCK_RUNNING, NULL, 0);
}

static void
do_slot_status(struct emu_cmd *c)
{
  emu_reply_ok(c, CCID_RDR_TO_PC_SLOT_STATUS, CCID_CLOCK_RUNNING, NULL, 0);
}

static void
do_get_params(struct emu_cmd *c)
{
  if (c->type == CCID_PC_TO_RDR_RESET_PARAMETERS)
    default_params(c->slot);
  reply_params(c);
}

static void
do_set_params(struct emu_cmd *c)
{
  struct ccid_params_t1 *t1 = &c->slot->params.t1;
  GString *log = c->r->stats.set_params;
  size_t i;

  if (log->len)
    g_string_append_c(log, ',');
  g_string_append_printf(log, "%02X", c->hdr[7]);
  for (i = 0; i < c->datalen; i++)
    g_string_append_printf(log, "%02X", c->data[i]);
  if (c->hdr[7] != CCID_PROTOCOL_T1)
    {
      emu_reply_fail(c, ERR_BAD_PROTOCOL);
      return;
    }
  if (c->datalen != 7)
    {
      emu_reply_fail(c, ERR_BAD_LENGTH);
      return;
    }
  t1->findex_dindex = c->data[0];
  t1->tcckst = c->data[1];
  t1->guard_time = c->data[2];
  t1->waiting_integers = c->data[3];
  t1->clock_stop = c->data[4];
  t1->ifsc = c->data[5];
  t1->nad = c->data[6];
  reply_params(c);
}

static void
do_simple_ok(struct emu_cmd *c)
{
  emu_reply_ok(c, CCID_RDR_TO_PC_SLOT_STATUS, CCID_CLOCK_RUNNING, NULL, 0);
}

static void
do_data_rate(struct emu_cmd *c)
{
  static const uint8_t rate[8] = { 0xA0, 0x0F, 0, 0, 0x00, 0x2A, 0, 0 };

  emu_reply_ok(c, CCID_RDR_TO_PC_DATA_RATE_AND_CLOCK, 0, rate, sizeof rate);
}

static void
do_unsupported(struct emu_cmd *c)
{
  emu_reply_fail(c, ERR_CMD_NOT_SUPPORTED);
}

/* Sends the time extensions armed by "fault wtx N" (APDU levels). */
void
emu_send_wtx(struct emu_cmd *c)
{
  while (c->r->faults.wtx)
    {
      c->r->faults.wtx--;
      reply_raw(c, CCID_RDR_TO_PC_DATA_BLOCK, CCID_CMD_TIME_EXTENSION, 1, 0, NULL, 0);
    }
}

/* Runs the APDU in the slot's command buffer; the response replaces it in
 * the response buffer. */
void
emu_run_apdu(struct emu_slot *slot, const uint8_t *apdu, size_t len)
{
  if (vcard_apdu(slot->card, apdu, len, slot->resp, sizeof slot->resp, &slot->resplen))
    slot->resplen = 0;
  slot->respoff = 0;
}

/* Extended APDU level: the next part of the response, with its
 * bChainParameter. */
static void
send_resp_part(struct emu_cmd *c)
{
  struct emu_slot *s = c->slot;
  size_t left = s->resplen - s->respoff, n = left > EMU_MAX_DATA ? EMU_MAX_DATA : left;
  uint8_t chain;

  if (s->respoff == 0)
    chain = n == left ? CCID_CHAIN_BEGIN_END : CCID_CHAIN_BEGIN_MORE;
  else
    chain = n == left ? CCID_CHAIN_CONTINUE_END : CCID_CHAIN_CONTINUE_MORE;
  emu_reply_ok(c, CCID_RDR_TO_PC_DATA_BLOCK, chain, s->resp + s->respoff, n);
  s->respoff += n;
  if (s->respoff == s->resplen)
    s->resplen = s->respoff = 0;
}

static void
xfr_ext(struct emu_cmd *c)
{
  struct emu_slot *s = c->slot;
  unsigned int level = (unsigned int)(c->hdr[8] | c->hdr[9] << 8);

  if (level == CCID_CHAIN_EMPTY_MORE)
    {
      if (s->respoff < s->resplen)
        send_resp_part(c);
      else
        emu_reply_fail(c, ERR_XFR_OVERRUN);
      return;
    }
  if (level == CCID_CHAIN_BEGIN_END || level == CCID_CHAIN_BEGIN_MORE)
    s->cmdlen = 0;
  if (s->cmdlen + c->datalen > sizeof s->cmd)
    {
      s->cmdlen = 0;
      emu_reply_fail(c, ERR_XFR_OVERRUN);
      return;
    }
  memcpy(s->cmd + s->cmdlen, c->data, c->datalen);
  s->cmdlen += c->datalen;
  if (level == CCID_CHAIN_BEGIN_MORE || level == CCID_CHAIN_CONTINUE_MORE)
    {
      emu_reply_ok(c, CCID_RDR_TO_PC_DATA_BLOCK, CCID_CHAIN_EMPTY_MORE, NULL, 0);
      return;
    }
  emu_run_apdu(s, s->cmd, s->cmdlen);
  s->cmdlen = 0;
  emu_send_wtx(c);
  send_resp_part(c);
}

static void
xfr_short(struct emu_cmd *c)
{
  struct emu_slot *s = c->slot;

  emu_run_apdu(s, c->data, c->datalen);
  emu_send_wtx(c);
  if (s->resplen > EMU_MAX_DATA)
    emu_reply_fail(c, ERR_XFR_OVERRUN);
  else
    emu_reply_ok(c, CCID_RDR_TO_PC_DATA_BLOCK, 0, s->resp, s->resplen);
  s->resplen = 0;
}

static void
xfr_tpdu(struct emu_cmd *c)
{
  uint8_t out[T1_MAX_BLOCK];
  size_t outlen = 0;

  /* PPS request (PPSS 0xFF): the reader passes it on and the card agrees
   * by echoing it. */
  if (c->datalen >= 3 && c->data[0] == 0xFF)
    {
      emu_reply_ok(c, CCID_RDR_TO_PC_DATA_BLOCK, 0, c->data, c->datalen);
      return;
    }
  emu_t1_block(c->slot, &c->r->faults, c->data, c->datalen, out, sizeof out, &outlen);
  if (outlen)
    emu_reply_ok(c, CCID_RDR_TO_PC_DATA_BLOCK, 0, out, outlen);
  else
    emu_reply_fail(c, ERR_ICC_MUTE);
}

static void
do_xfr(struct emu_cmd *c)
{
  static void (*const by_mode[])(struct emu_cmd *) = {
    [EMU_MODE_APDU] = xfr_short,
    [EMU_MODE_EXT] = xfr_ext,
    [EMU_MODE_TPDU] = xfr_tpdu,
  };

  if (!c->slot->present || !c->slot->powered)
    {
      emu_reply_fail(c, ERR_ICC_MUTE);
      return;
    }
  by_mode[c->r->emu->opt.mode](c);
}

struct cmd_entry
{
  uint8_t type;
  void (*fn)(struct emu_cmd *);
};

static const struct cmd_entry cmd_table[] = {
  { CCID_PC_TO_RDR_ICC_POWER_ON, do_power_on },
  { CCID_PC_TO_RDR_ICC_POWER_OFF, do_power_off },
  { CCID_PC_TO_RDR_GET_SLOT_STATUS, do_slot_status },
  { CCID_PC_TO_RDR_XFR_BLOCK, do_xfr },
  { CCID_PC_TO_RDR_GET_PARAMETERS, do_get_params },
  { CCID_PC_TO_RDR_RESET_PARAMETERS, do_get_params },
  { CCID_PC_TO_RDR_SET_PARAMETERS, do_set_params },
  { CCID_PC_TO_RDR_ABORT, do_simple_ok },
  { CCID_PC_TO_RDR_ICC_CLOCK, do_simple_ok },
  { CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK, do_data_rate },
  { CCID_PC_TO_RDR_SECURE, emu_pinpad_secure },
};

void
emu_ccid_command(struct emu_reader *r, const uint8_t *msg, size_t len)
{
  struct emu_cmd c = { 0 };
  size_t i, dwlen;

  if (len < CCID_HEADER_LEN)
    return; /* not even a header: a real reader stays silent */
  c.r = r;
  c.type = msg[0];
  c.bslot = msg[5];
  c.seq = msg[6];
  c.hdr = msg;
  c.data = msg + CCID_HEADER_LEN;
  c.datalen = len - CCID_HEADER_LEN;
  dwlen = (size_t)msg[1] | (size_t)msg[2] << 8 | (size_t)msg[3] << 16
          | (size_t)msg[4] << 24;
  if (c.bslot < r->nslots)
    c.slot = &r->slot[c.bslot];
  if (!c.slot)
    {
      emu_reply_fail(&c, ERR_BAD_SLOT);
      return;
    }
  if (dwlen != c.datalen)
    {
      emu_reply_fail(&c, ERR_BAD_LENGTH);
      return;
    }
  for (i = 0; i < G_N_ELEMENTS(cmd_table); i++)
    if (cmd_table[i].type == c.type)
      {
        cmd_table[i].fn(&c);
        return;
      }
  do_unsupported(&c);
}

gpg_error_t
emu_ccid_init(struct emu_reader *r, int first_reader)
{
  struct emu_options *o = &r->emu->opt;
  struct vcard_options vo = { 0 };
  gpg_error_t err;
  unsigned int i;

  for (i = 0; i < r->nslots; i++)
    {
      struct emu_slot *s = &r->slot[i];

      memset(&vo, 0, sizeof vo);
      vo.version = o->card_version;
      vo.serial = 0x1000u * r->index + i + 1;
      if (first_reader && i == 0)
        {
          vo.state_path = o->card_state;
          vo.serial = 0;
        }
      err = vcard_new(&vo, &s->card);
      if (err)
        return err;
      if (first_reader && i == 0 && r->emu->apdu_log)
        vcard_set_log(s->card, r->emu->apdu_log);
      s->present = !o->no_card;
      s->changed = s->present;
      default_params(s);
    }
  r->notify_pending = !o->no_card;
  return 0;
}

void
emu_ccid_free(struct emu_reader *r)
{
  unsigned int i;

  for (i = 0; i < r->nslots; i++)
    {
      vcard_free(r->slot[i].card);
      r->slot[i].card = NULL;
    }
}

void
emu_ccid_set_present(struct emu_reader *r, unsigned int slot, int present)
{
  struct emu_slot *s = &r->slot[slot];

  if (s->present == present)
    return;
  s->present = present;
  s->changed = 1;
  if (s->powered)
    vcard_reset(s->card);
  s->powered = 0;
  r->notify_pending = 1;
}

size_t
emu_ccid_notify(struct emu_reader *r, uint8_t *out, size_t outsize)
{
  unsigned int i;

  if (outsize < 2)
    return 0;
  out[0] = CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE;
  out[1] = 0;
  for (i = 0; i < r->nslots; i++)
    {
      out[1] = (uint8_t)(out[1] | (r->slot[i].present ? 1u : 0u) << (2 * i)
                         | (r->slot[i].changed ? 2u : 0u) << (2 * i));
      r->slot[i].changed = 0;
    }
  r->notify_pending = 0;
  return 2;
}

void
emu_ccid_power_off_all(struct emu_reader *r)
{
  unsigned int i;

  for (i = 0; i < r->nslots; i++)
    {
      if (r->slot[i].powered)
        vcard_reset(r->slot[i].card);
      r->slot[i].powered = 0;
    }
}
