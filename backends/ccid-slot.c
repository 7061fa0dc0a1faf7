/* ccid-slot.c - one CCID slot: commands, power, parameters, exchange levels, pinpad
 *
 * Everything here talks to the reader through struct ccid_io, so the same
 * code runs over libusb (ccid-usb.c) and under the fuzzer.  Every reply is
 * decoded against the reader's own dwMaxCCIDMessageLength, matched to its
 * command by type, slot and bSeq, and only then looked at.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccid-int.h"
#include "log.h"
#include "reader.h"

/* Longest response APDU we assemble from chained DataBlocks. */
#define RESP_MAX 65538
/* DataBlocks of one chained response, at most (each carries >= 1 byte
 * except the reader's "more follows" markers). */
#define CHAIN_MAX 4096
/* Waiting for an ATR: the reader tries the card and may retry once. */
#define POWER_READ_MS 10000u
#define POWER_TOTAL_MS 30000u

/* The classes a reader may offer, in the order CCID 1.1 (bVoltageSupport)
 * and GnuPG try them, with the ATR class indicator bit each one means. */
static const struct
{
  uint8_t bit;
  enum ccid_power_select select;
  unsigned int atr_class;
  const char *name;
} voltages[] = {
  { CCID_DESC_VOLTAGE_5V, CCID_POWER_5V, ATR_CLASS_A, "5 V (class A)" },
  { CCID_DESC_VOLTAGE_3V, CCID_POWER_3V, ATR_CLASS_B, "3 V (class B)" },
  { CCID_DESC_VOLTAGE_1_8V, CCID_POWER_1_8V, ATR_CLASS_C, "1.8 V (class C)" },
};

/* The link. */

gpg_error_t
ccid_link_init(struct ccid_link *link, const struct ccid_desc *desc,
               const struct ccid_io *io, const char *name)
{
  memset(link, 0, sizeof *link);
  link->io = *io;
  link->desc = desc;
  link->name = name;
  link->bufsize = CCID_HEADER_LEN + desc->max_data_len;
  link->out = malloc(link->bufsize);
  link->in = malloc(link->bufsize);
  if (!link->out || !link->in)
    {
      ccid_link_free(link);
      return gpg_error(GPG_ERR_ENOMEM);
    }
  return 0;
}

void
ccid_link_free(struct ccid_link *link)
{
  if (link->out)
    explicit_bzero(link->out, link->bufsize);
  if (link->in)
    explicit_bzero(link->in, link->bufsize);
  free(link->out);
  free(link->in);
  link->out = link->in = NULL;
}

uint8_t
ccid_link_next_seq(struct ccid_link *link)
{
  return link->seq++;
}

static unsigned int
min_ms(uint64_t a, uint64_t b)
{
  return (unsigned int)(a < b ? a : b);
}

/* A reply that does not fit its command: the reader is broken or hostile.
 * The command is aborted so that a late real reply cannot be taken for
 * the answer to the next one (bSeq alone would catch it, but a reader
 * that lies once may also reuse sequence numbers). */
static gpg_error_t
link_bad_reply(struct ccid_link *link, uint8_t slot, uint8_t seq, const char *why,
               gpg_error_t err)
{
  log_msg(LOG_ERROR, LOG_CAT_USB,
          "reader '%s' sent a bad reply (%s: %s); command aborted", link->name, why,
          gpg_strerror(err));
  link->io.abort(link->io.opaque, slot, seq);
  return gpg_error(GPG_ERR_EIO);
}

static gpg_error_t
link_timeout(struct ccid_link *link, uint8_t type, uint8_t slot, uint8_t seq,
             uint64_t elapsed)
{
  const char *tname = ccid_msg_type_name(type);

  log_msg(LOG_ERROR, LOG_CAT_USB,
          "reader '%s' did not answer %s within %llu ms; command aborted", link->name,
          tname ? tname : "?", (unsigned long long)elapsed);
  link->io.abort(link->io.opaque, slot, seq);
  return gpg_error(GPG_ERR_TIMEOUT);
}

/* Reads until the reply to (TYPE, SLOT, SEQ) arrives.  Returns 0 with a
 * matched reply, EAGAIN-free: time extensions are consumed here. */
static gpg_error_t
link_read_reply(struct ccid_link *link, uint8_t type, uint8_t slot, uint8_t seq,
                unsigned int read_ms, unsigned int total_ms, struct ccid_reply *reply)
{
  uint64_t start = link->io.now_ms(link->io.opaque), elapsed;
  unsigned int stale = 0, wait = read_ms;
  size_t n;
  gpg_error_t err;

  for (;;)
    {
      elapsed = link->io.now_ms(link->io.opaque) - start;
      if (elapsed >= total_ms)
        return link_timeout(link, type, slot, seq, elapsed);
      err = link->io.recv(link->io.opaque, link->in, link->bufsize, &n,
                          min_ms(wait, total_ms - elapsed));
      if (gpg_err_code(err) == GPG_ERR_TIMEOUT)
        return link_timeout(link, type, slot, seq,
                            link->io.now_ms(link->io.opaque) - start);
      if (err)
        return err;
      err = ccid_reply_decode(link->in, n, link->desc->max_data_len, reply);
      if (err)
        return link_bad_reply(link, slot, seq, "malformed message", err);
      err = ccid_reply_match(type, slot, seq, reply);
      if (gpg_err_code(err) == GPG_ERR_UNEXPECTED_MSG && ++stale <= CCID_STALE_MAX)
        {
          log_msg(LOG_DEBUG, LOG_CAT_USB, "skipping stale reply bSeq %u (want %u)",
                  reply->seq, seq);
          continue;
        }
      if (err)
        return link_bad_reply(link, slot, seq, "reply to another command", err);
      if (reply->cmd_status != CCID_CMD_TIME_EXTENSION)
        return 0;
      /* The card asked for more time: wait bError times the usual. */
      wait = min_ms((uint64_t)read_ms * (reply->error ? reply->error : 1u),
                    CCID_READ_CEIL_MS);
      log_msg(LOG_DEBUG, LOG_CAT_USB, "time extension x%u from '%s'", reply->error,
              link->name);
    }
}

gpg_error_t
ccid_link_command(struct ccid_link *link, size_t len, unsigned int read_ms,
                  unsigned int total_ms, struct ccid_reply *reply)
{
  uint8_t type = link->out[0], slot = link->out[5], seq = link->out[6];
  gpg_error_t err;

  memset(reply, 0, sizeof *reply);
  err = link->io.send(link->io.opaque, link->out, len);
  if (!err)
    err = link_read_reply(link, type, slot, seq, read_ms, total_ms, reply);
  if (!err)
    err = ccid_reply_status_error(reply);
  return err;
}

/* Logs why a command failed, in the reader's words. */
static void
log_failure(struct ccid_slot *s, const struct ccid_reply *r, gpg_error_t err)
{
  char why[128];

  if (r->type && r->cmd_status == CCID_CMD_FAILED)
    ccid_error_describe(s->link->out[0], r->error, why, sizeof why);
  else
    snprintf(why, sizeof why, "%s", gpg_strerror(err));
  log_msg(LOG_DEBUG, LOG_CAT_USB, "'%s' slot %u: %s failed: %s", s->link->name, s->slot,
          ccid_msg_type_name(s->link->out[0]) ? ccid_msg_type_name(s->link->out[0]) : "?",
          why);
}

/* Sends the message just built into link->out (LEN bytes, 0 if the
 * encoder failed with ERR). */
static gpg_error_t
slot_run(struct ccid_slot *s, gpg_error_t err, size_t len, unsigned int read_ms,
         unsigned int total_ms, struct ccid_reply *r)
{
  memset(r, 0, sizeof *r);
  if (err)
    return err;
  err = ccid_link_command(s->link, len, read_ms, total_ms, r);
  if (err)
    log_failure(s, r, err);
  return err;
}

gpg_error_t
ccid_slot_status(struct ccid_slot *s, enum ccid_icc_status *icc)
{
  struct ccid_link *l = s->link;
  struct ccid_reply r;
  size_t len = 0;
  gpg_error_t err;

  *icc = CCID_ICC_ABSENT;
  err = ccid_cmd_get_slot_status(s->slot, ccid_link_next_seq(l), l->out, l->bufsize,
                                 &len);
  err = slot_run(s, err, len, CCID_READ_FLOOR_MS, CCID_READ_FLOOR_MS, &r);
  if (r.type)
    *icc = r.icc_status;
  if (gpg_err_code(err) == GPG_ERR_CARD_NOT_PRESENT)
    err = 0;
  return err;
}

/* Power. */

static gpg_error_t
power_once(struct ccid_slot *s, enum ccid_power_select sel)
{
  struct ccid_link *l = s->link;
  struct ccid_reply r;
  size_t len = 0;
  gpg_error_t err;

  s->atrlen = 0;
  err = ccid_cmd_icc_power_on(s->slot, ccid_link_next_seq(l), sel, l->out, l->bufsize,
                              &len);
  err = slot_run(s, err, len, POWER_READ_MS, POWER_TOTAL_MS, &r);
  if (err)
    return err;
  if (r.type != CCID_RDR_TO_PC_DATA_BLOCK || r.datalen < 2 || r.datalen > ATR_MAX_LEN)
    {
      log_msg(LOG_ERROR, LOG_CAT_USB, "'%s' slot %u: reader returned an ATR of %zu bytes",
              l->name, s->slot, r.datalen);
      return gpg_error(GPG_ERR_INV_CARD);
    }
  memcpy(s->atr, r.data, r.datalen);
  s->atrlen = r.datalen;
  return 0;
}

/* Tries the reader's voltages in order until the card answers; returns
 * the index into voltages[] used in *USED (-1: automatic). */
static gpg_error_t
power_any(struct ccid_slot *s, int *used)
{
  const struct ccid_desc *d = s->link->desc;
  gpg_error_t err = gpg_error(GPG_ERR_NOT_SUPPORTED);
  size_t i;

  *used = -1;
  if ((d->dwFeatures & CCID_DESC_FEAT_AUTO_VOLTAGE) || !(d->bVoltageSupport & 7))
    return power_once(s, CCID_POWER_AUTO);
  for (i = 0; i < sizeof voltages / sizeof voltages[0]; i++)
    {
      if (!(d->bVoltageSupport & voltages[i].bit))
        continue;
      err = power_once(s, voltages[i].select);
      if (!err)
        {
          *used = (int)i;
          log_msg(LOG_DEBUG, LOG_CAT_USB, "'%s' slot %u: card answered at %s",
                  s->link->name, s->slot, voltages[i].name);
          return 0;
        }
      if (gpg_err_code(err) == GPG_ERR_CARD_NOT_PRESENT
          || gpg_err_code(err) == GPG_ERR_ENODEV || gpg_err_code(err) == GPG_ERR_EIO)
        return err;
    }
  return err;
}

/* ISO 7816-3 6.2.4: a card whose class indicator excludes the class it
 * was activated at must be deactivated and activated at a class it
 * supports.  Returns the index to re-power at, or -1 to stay. */
static int
class_mismatch(const struct ccid_slot *s, int used)
{
  const struct ccid_desc *d = s->link->desc;
  unsigned int classes = s->ai.t15.classes & 7;
  size_t i;

  if (used < 0 || !s->atr_ok || !(s->ai.set & ATR_SET_CLASSES) || !classes
      || (classes & voltages[used].atr_class))
    return -1;
  for (i = 0; i < sizeof voltages / sizeof voltages[0]; i++)
    if ((d->bVoltageSupport & voltages[i].bit) && (classes & voltages[i].atr_class))
      return (int)i;
  return -1;
}

static void
parse_atr(struct ccid_slot *s)
{
  struct atr_error ae;

  s->atr_ok = !atr_parse(s->atr, s->atrlen, &s->ai, &ae);
  if (!s->atr_ok)
    log_msg(LOG_INFO, LOG_CAT_USB, "'%s' slot %u: the card's ATR is malformed: %s",
            s->link->name, s->slot, ae.reason);
}

/* The per-read timeout from the card's BWI (see CCID_READ_FLOOR_MS). */
static void
set_read_timeout(struct ccid_slot *s)
{
  unsigned int bwi = s->atr_ok ? s->ai.t1.bwi : 4;
  unsigned int ms = (1u << (bwi > 9 ? 9 : bwi)) * 100u + 1000u;

  s->read_ms = ms < CCID_READ_FLOOR_MS ? CCID_READ_FLOOR_MS : ms;
  if (s->read_ms > CCID_READ_CEIL_MS)
    s->read_ms = CCID_READ_CEIL_MS;
}

/* Parameters for T=1 (TPDU level). */

/* PPS (ISO 7816-3, 9): asks for TA1's Fi/Di.  Returns whether the card
 * accepted; on failure the defaults stay. */
static int
pps_exchange(struct ccid_slot *s, uint8_t ta1)
{
  struct ccid_link *l = s->link;
  uint8_t pps[4] = { 0xFF, 0x11, ta1, 0 };
  struct ccid_reply r;
  size_t len = 0;
  gpg_error_t err;

  pps[3] = (uint8_t)(pps[0] ^ pps[1] ^ pps[2]);
  err = ccid_cmd_xfr_block(s->slot, ccid_link_next_seq(l), 0, 4, pps, sizeof pps, l->out,
                           l->bufsize, &len);
  err = slot_run(s, err, len, s->read_ms, s->read_ms, &r);
  if (!err && r.datalen == sizeof pps && !memcmp(r.data, pps, sizeof pps))
    return 1;
  log_msg(LOG_INFO, LOG_CAT_USB,
          "'%s' slot %u: PPS for Fi/Di %02X refused; default speed", l->name, s->slot,
          ta1);
  return 0;
}

static gpg_error_t
set_params_t1(struct ccid_slot *s, uint8_t fidi)
{
  struct ccid_link *l = s->link;
  struct ccid_params p;
  struct ccid_reply r;
  size_t len = 0;
  gpg_error_t err;

  memset(&p, 0, sizeof p);
  p.protocol = CCID_PROTOCOL_T1;
  p.t1.findex_dindex = fidi;
  p.t1.tcckst = (uint8_t)(0x10 | (s->ai.convention == ATR_CONV_INVERSE ? 2 : 0)
                          | (s->ai.t1.edc == ATR_EDC_CRC ? 1 : 0));
  p.t1.guard_time = (uint8_t)s->ai.guard_time_n;
  p.t1.waiting_integers = (uint8_t)((s->ai.t1.bwi & 0xF) << 4 | (s->ai.t1.cwi & 0xF));
  p.t1.ifsc = (uint8_t)s->ai.t1.ifsc;
  err = ccid_cmd_set_parameters(s->slot, ccid_link_next_seq(l), &p, l->out, l->bufsize,
                                &len);
  return slot_run(s, err, len, s->read_ms, s->read_ms, &r);
}

static gpg_error_t t1_exchange(void *opaque, const uint8_t *block, size_t blocklen,
                               uint8_t *reply, size_t replysize, size_t *replylen,
                               unsigned int wtx);

/* As libccid does: a reader that negotiates by itself (AUTO_NEGOTIATION)
 * gets neither PPS nor SetParameters; one that does PPS by itself
 * (AUTO_PPS) only SetParameters with the ATR's Fi/Di.  The "parameters
 * from the ATR" bit alone is no reason to skip them: such readers still
 * need the T=1 settings (IFSC, EDC, BWI) that libccid always sends. */
static gpg_error_t
setup_t1_params(struct ccid_slot *s)
{
  const struct ccid_desc *d = s->link->desc;
  const struct atr_ibyte *ta1 = atr_find(&s->ai, ATR_TA, 1);
  uint8_t fidi = 0x11;

  if (d->dwFeatures & CCID_DESC_FEAT_AUTO_NEGOTIATION)
    return 0;
  if (ta1 && (d->dwFeatures & CCID_DESC_FEAT_AUTO_PPS))
    fidi = ta1->value;
  else if (ta1
           && (s->ai.specific_mode || ta1->value == 0x11 || pps_exchange(s, ta1->value)))
    fidi = ta1->value;
  return set_params_t1(s, fidi);
}

static gpg_error_t
setup_t1(struct ccid_slot *s)
{
  const struct ccid_desc *d = s->link->desc;
  gpg_error_t err;

  err = setup_t1_params(s);
  if (err)
    return err;
  t1_init(&s->t1, t1_exchange, s);
  t1_set_ifsc(&s->t1, s->ai.t1.ifsc);
  t1_set_edc(&s->t1, s->ai.t1.edc == ATR_EDC_CRC ? T1_EDC_CRC : T1_EDC_LRC);
  s->tpdu_t1 = 1;
  if ((d->dwFeatures & CCID_DESC_FEAT_AUTO_IFSD) || !d->dwMaxIFSD)
    return 0;
  err = t1_negotiate_ifsd(&s->t1, d->dwMaxIFSD > T1_MAX_INF ? T1_MAX_INF : d->dwMaxIFSD);
  if (err)
    log_msg(LOG_INFO, LOG_CAT_USB, "'%s' slot %u: IFSD negotiation failed: %s",
            s->link->name, s->slot, gpg_strerror(err));
  return err;
}

/* The level the driver uses: readers that set several level bits get the
 * most capable one they name. */
enum ccid_exchange_level
ccid_effective_level(const struct ccid_desc *d)
{
  if (d->exchange_level != CCID_LEVEL_UNKNOWN)
    return d->exchange_level;
  if (d->dwFeatures & CCID_DESC_FEAT_LEVEL_EXT_APDU)
    return CCID_LEVEL_EXT_APDU;
  if (d->dwFeatures & CCID_DESC_FEAT_LEVEL_SHORT_APDU)
    return CCID_LEVEL_SHORT_APDU;
  return CCID_LEVEL_TPDU;
}

static gpg_error_t
setup_protocol(struct ccid_slot *s)
{
  const struct ccid_desc *d = s->link->desc;
  enum ccid_exchange_level level = ccid_effective_level(d);

  s->tpdu_t1 = 0;
  if (level == CCID_LEVEL_SHORT_APDU || level == CCID_LEVEL_EXT_APDU)
    return 0;
  if (level == CCID_LEVEL_CHARACTER)
    {
      log_msg(LOG_ERROR, LOG_CAT_USB,
              "reader '%s' exchanges characters only; this driver needs TPDU or APDU "
              "level (use pcscd with libccid for this reader)",
              s->link->name);
      return gpg_error(GPG_ERR_NOT_SUPPORTED);
    }
  if (!(d->dwProtocols & CCID_DESC_PROTO_T1) || !s->atr_ok || !atr_offers(&s->ai, 1))
    {
      log_msg(LOG_ERROR, LOG_CAT_USB,
              "reader '%s' works at TPDU level and the card or reader offers only T=0, "
              "which this driver does not support (use pcscd with libccid)",
              s->link->name);
      return gpg_error(GPG_ERR_NOT_SUPPORTED);
    }
  return setup_t1(s);
}

gpg_error_t
ccid_slot_power_on(struct ccid_slot *s)
{
  gpg_error_t err;
  int used, again;

  s->powered = 0;
  s->tpdu_t1 = 0;
  err = power_any(s, &used);
  if (err)
    return err;
  parse_atr(s);
  again = class_mismatch(s, used);
  if (again >= 0)
    {
      log_msg(LOG_INFO, LOG_CAT_USB,
              "'%s' slot %u: the card does not support %s; powering it at %s",
              s->link->name, s->slot, voltages[used].name, voltages[again].name);
      ccid_slot_power_off(s);
      err = power_once(s, voltages[again].select);
      if (err)
        return err;
      parse_atr(s);
    }
  set_read_timeout(s);
  err = setup_protocol(s);
  if (err)
    return err;
  s->powered = 1;
  return 0;
}

void
ccid_slot_power_off(struct ccid_slot *s)
{
  struct ccid_link *l = s->link;
  struct ccid_reply r;
  size_t len = 0;
  gpg_error_t err;

  s->powered = 0;
  err = ccid_cmd_icc_power_off(s->slot, ccid_link_next_seq(l), l->out, l->bufsize, &len);
  slot_run(s, err, len, CCID_READ_FLOOR_MS, CCID_READ_FLOOR_MS, &r);
}

/* Exchanges. */

/* One XfrBlock with DATA and wLevelParameter LEVEL; R gets the reply. */
static gpg_error_t
xfr(struct ccid_slot *s, uint8_t bwi, uint16_t level, const uint8_t *data, size_t len,
    unsigned int read_ms, struct ccid_reply *r)
{
  struct ccid_link *l = s->link;
  size_t msglen = 0;
  gpg_error_t err;

  err = ccid_cmd_xfr_block(s->slot, ccid_link_next_seq(l), bwi, level, data, len, l->out,
                           l->bufsize, &msglen);
  return slot_run(s, err, msglen, read_ms, CCID_TOTAL_MS, r);
}

/* The T=1 engine's transport: one block per XfrBlock.  A mute card and a
 * parity error are what the engine recovers from. */
static gpg_error_t
t1_exchange(void *opaque, const uint8_t *block, size_t blocklen, uint8_t *reply,
            size_t replysize, size_t *replylen, unsigned int wtx)
{
  struct ccid_slot *s = opaque;
  unsigned int ms = min_ms((uint64_t)s->read_ms * (wtx ? wtx : 1u), CCID_READ_CEIL_MS);
  struct ccid_reply r;
  gpg_error_t err;

  *replylen = 0;
  err = xfr(s, (uint8_t)(wtx > 255 ? 255 : wtx), 0, block, blocklen, ms, &r);
  if (err && r.type && r.cmd_status == CCID_CMD_FAILED && r.error == 0xFD)
    return gpg_error(GPG_ERR_CHECKSUM);
  if (err)
    return err;
  if (r.datalen > replysize)
    return gpg_error(GPG_ERR_CHECKSUM);
  memcpy(reply, r.data, r.datalen);
  *replylen = r.datalen;
  return 0;
}

/* Sends APDU in pieces of the reader's message size (CCID 1.1, 6.1.4,
 * wLevelParameter); R gets the reply to the last piece. */
static gpg_error_t
send_chained(struct ccid_slot *s, const uint8_t *apdu, size_t apdulen,
             struct ccid_reply *r)
{
  size_t max = s->link->desc->max_data_len, off = 0, n;
  uint16_t level;
  gpg_error_t err;

  if (apdulen <= max)
    return xfr(s, 0, CCID_CHAIN_BEGIN_END, apdu, apdulen, s->read_ms, r);
  for (;;)
    {
      n = apdulen - off > max ? max : apdulen - off;
      if (off == 0)
        level = CCID_CHAIN_BEGIN_MORE;
      else
        level = off + n < apdulen ? CCID_CHAIN_CONTINUE_MORE : CCID_CHAIN_CONTINUE_END;
      err = xfr(s, 0, level, apdu + off, n, s->read_ms, r);
      off += n;
      if (err || off == apdulen)
        return err;
    }
}

/* Appends R's data to RESP and asks for more while the reader chains. */
static gpg_error_t
recv_chained(struct ccid_slot *s, struct ccid_reply *r, uint8_t *resp, size_t respsize,
             size_t *resplen)
{
  unsigned int rounds;
  gpg_error_t err;

  for (rounds = 0;; rounds++)
    {
      if (r->datalen > respsize - *resplen)
        return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
      if (r->datalen)
        memcpy(resp + *resplen, r->data, r->datalen);
      *resplen += r->datalen;
      if (r->specific != CCID_CHAIN_BEGIN_MORE && r->specific != CCID_CHAIN_CONTINUE_MORE
          && r->specific != CCID_CHAIN_EMPTY_MORE)
        return 0;
      if (rounds >= CHAIN_MAX)
        return gpg_error(GPG_ERR_EIO);
      err = xfr(s, 0, CCID_CHAIN_EMPTY_MORE, NULL, 0, s->read_ms, r);
      if (err)
        return err;
    }
}

static gpg_error_t
transmit_apdu(struct ccid_slot *s, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
              size_t respsize, size_t *resplen)
{
  struct ccid_reply r;
  gpg_error_t err;

  err = send_chained(s, apdu, apdulen, &r);
  if (!err)
    err = recv_chained(s, &r, resp, respsize, resplen);
  return err;
}

gpg_error_t
ccid_slot_transmit(struct ccid_slot *s, const uint8_t *apdu, size_t apdulen,
                   uint8_t *resp, size_t respsize, size_t *resplen)
{
  gpg_error_t err;

  *resplen = 0;
  if (!s->powered)
    return gpg_error(GPG_ERR_CARD_RESET);
  if (respsize > RESP_MAX)
    respsize = RESP_MAX;
  if (s->tpdu_t1)
    err = t1_transceive(&s->t1, apdu, apdulen, resp, respsize, resplen);
  else
    err = transmit_apdu(s, apdu, apdulen, resp, respsize, resplen);
  if (!err && *resplen < 2)
    {
      log_msg(LOG_ERROR, LOG_CAT_USB, "'%s' slot %u: response of %zu bytes (no SW)",
              s->link->name, s->slot, *resplen);
      err = gpg_error(GPG_ERR_EIO);
    }
  if (err)
    {
      explicit_bzero(resp, respsize);
      *resplen = 0;
    }
  return err;
}

/* Pinpad. */

unsigned int
ccid_slot_pinpad_caps(const struct ccid_slot *s)
{
  unsigned int caps = 0;

  if (s->link->desc->bPINSupport & CCID_DESC_PIN_VERIFY)
    caps |= READER_PINPAD_VERIFY;
  if (s->link->desc->bPINSupport & CCID_DESC_PIN_MODIFY)
    caps |= READER_PINPAD_MODIFY;
  return caps;
}

/* The APDU template: the header, and for a fixed-length PIN block Lc and
 * the block the reader fills in. */
static gpg_error_t
pin_template(const struct reader_pinpad *pp, const uint8_t *apdu, uint8_t *tpl,
             size_t tplsize, size_t *tpllen)
{
  size_t lc = pp->fixedlen * (pp->modify ? 2u : 1u);

  if (pp->fixedlen > 15 || 5 + lc > tplsize)
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  memcpy(tpl, apdu, 4);
  *tpllen = 4;
  if (lc)
    {
      tpl[4] = (uint8_t)lc;
      memset(tpl + 5, 0xFF, lc);
      *tpllen = 5 + lc;
    }
  return 0;
}

/* The PIN structure GnuPG sends (bmFormatString 0x82: bytes, position 0,
 * left justified, ASCII; key press validates, one message, English). */
static gpg_error_t
pin_structure(const struct reader_pinpad *pp, const uint8_t *tpl, size_t tpllen,
              uint8_t *out, size_t outsize, size_t *outlen)
{
  uint8_t valid
      = (uint8_t)(CCID_PIN_VALID_KEY
                  | (pp->minlen && pp->minlen == pp->maxlen ? CCID_PIN_VALID_MAX_SIZE
                                                            : 0));

  if (!pp->modify)
    {
      struct ccid_pin_verify pv = { .format_string = 0x82,
                                    .pin_block_string = (uint8_t)pp->fixedlen,
                                    .min_digits = (uint8_t)pp->minlen,
                                    .max_digits = (uint8_t)pp->maxlen,
                                    .entry_validation = valid,
                                    .number_message = 1,
                                    .lang_id = 0x0409 };
      return ccid_pin_verify_encode(&pv, tpl, tpllen, out, outsize, outlen);
    }
  struct ccid_pin_modify pm = { .format_string = 0x82,
                                .pin_block_string = (uint8_t)pp->fixedlen,
                                .insertion_offset_new = (uint8_t)pp->fixedlen,
                                .min_digits = (uint8_t)pp->minlen,
                                .max_digits = (uint8_t)pp->maxlen,
                                .confirm_pin = (uint8_t)(tpl[2] == 0 ? 3 : 1),
                                .entry_validation = valid,
                                .number_message = 3,
                                .lang_id = 0x0409,
                                .msg_index = { 0, 1, 2 } };
  return ccid_pin_modify_encode(&pm, tpl, tpllen, out, outsize, outlen);
}

gpg_error_t
ccid_slot_pinpad(struct ccid_slot *s, const struct reader_pinpad *pp, const uint8_t *apdu,
                 size_t apdulen, uint8_t *resp, size_t respsize, size_t *resplen)
{
  struct ccid_link *l = s->link;
  uint8_t tpl[4 + 1 + 30], data[64];
  size_t tpllen = 0, dlen = 0, len = 0;
  struct ccid_reply r;
  gpg_error_t err;

  *resplen = 0;
  if (!(ccid_slot_pinpad_caps(s)
        & (pp->modify ? READER_PINPAD_MODIFY : READER_PINPAD_VERIFY))
      || apdulen < 4)
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  if (s->tpdu_t1)
    {
      /* The reader would run the T=1 exchange itself with our sequence
       * numbers (bTeoPrologue); not done yet. */
      log_msg(LOG_INFO, LOG_CAT_USB, "'%s': pinpad at TPDU level is not supported yet",
              l->name);
      return gpg_error(GPG_ERR_NOT_SUPPORTED);
    }
  if (!s->powered)
    return gpg_error(GPG_ERR_CARD_RESET);
  err = pin_template(pp, apdu, tpl, sizeof tpl, &tpllen);
  if (!err)
    err = pin_structure(pp, tpl, tpllen, data, sizeof data, &dlen);
  if (!err)
    err = ccid_cmd_secure(s->slot, ccid_link_next_seq(l), 0, 0, data, dlen, l->out,
                          l->bufsize, &len);
  err = slot_run(s, err, len, CCID_PINPAD_MS, CCID_PINPAD_MS, &r);
  if (!err)
    err = recv_chained(s, &r, resp, respsize, resplen);
  if (!err && *resplen < 2)
    err = gpg_error(GPG_ERR_EIO);
  if (err)
    *resplen = 0;
  return err;
}
