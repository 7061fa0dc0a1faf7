/* vcard.c - the software OpenPGP card: APDU entry point and dispatch
 *
 * Order of the checks, as ISO 7816-4 cards do them: the APDU's shape
 * (6700), the class byte (6E00, 6881, 6882), the instruction (6D00, also
 * before the application is selected), the life cycle (6285), chaining
 * (6883, 6884), and only then the instruction's own checks of P1 P2, data
 * and access conditions.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "vcard-int.h"

/* The application identifier without its version, manufacturer and serial
 * (RID D2 76 00 01 24, PIX application 01). */
static const uint8_t openpgp_rid[] = { 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01 };

enum ins_flags
{
  INS_CHAIN = 1,      /* may come in a chain of commands */
  INS_NO_SELECT = 2,  /* answered before the application is selected */
  INS_TERMINATED = 4, /* answered in termination state */
  INS_REDACT = 8,     /* command data never logged */
  INS_V3 = 16,        /* only in application version 3.x */
  INS_REDACT_DO = 32, /* data logged unless the DO in P1 P2 is secret */
  INS_RESPONSE = 64   /* reads, rather than drops, what is left to fetch */
};

struct ins_def
{
  uint8_t ins;
  vc_handler handler;
  unsigned int flags;
};

static unsigned int cmd_select(struct vcard *card, const struct apdu_cmd *cmd);
static unsigned int cmd_get_challenge(struct vcard *card, const struct apdu_cmd *cmd);
static unsigned int cmd_terminate(struct vcard *card, const struct apdu_cmd *cmd);
static unsigned int cmd_activate(struct vcard *card, const struct apdu_cmd *cmd);
static unsigned int cmd_get_response(struct vcard *card, const struct apdu_cmd *cmd);

static const struct ins_def ins_table[] = {
  { 0xA4, cmd_select, INS_NO_SELECT | INS_TERMINATED },
  { 0xCA, vc_cmd_get_data, 0 },
  { 0xCC, vc_cmd_get_next_data, INS_V3 },
  { 0xA5, vc_cmd_select_data, INS_V3 },
  { 0xDA, vc_cmd_put_data, INS_CHAIN | INS_REDACT_DO },
  { 0xDB, vc_cmd_import, INS_CHAIN | INS_REDACT },
  { 0x20, vc_cmd_verify, INS_REDACT },
  { 0x24, vc_cmd_change, INS_CHAIN | INS_REDACT },
  { 0x2C, vc_cmd_reset_retry, INS_CHAIN | INS_REDACT },
  { 0x47, vc_cmd_generate, INS_CHAIN },
  { 0x2A, vc_cmd_pso, INS_CHAIN | INS_REDACT },
  { 0x88, vc_cmd_internal_auth, INS_CHAIN | INS_REDACT },
  { 0x84, cmd_get_challenge, 0 },
  { 0xE6, cmd_terminate, 0 },
  { 0x44, cmd_activate, INS_NO_SELECT | INS_TERMINATED },
  { APDU_INS_GET_RESPONSE, cmd_get_response,
    INS_NO_SELECT | INS_TERMINATED | INS_RESPONSE },
};

void
vc_wipe(void *buf, size_t len)
{
  volatile uint8_t *p = buf;

  while (len--)
    *p++ = 0;
}

unsigned int
vc_out(struct vcard *card, const void *data, size_t len)
{
  if (len > sizeof card->out - card->outlen)
    return VC_SW_FAILURE;
  if (len)
    memcpy(card->out + card->outlen, data, len);
  card->outlen += len;
  return 0;
}

/* Historical bytes: category 00, card service data 31 C5, card capabilities
 * 73 C0 01 C0 (third byte: command chaining, extended Lc and Le), then the
 * status indicator (life cycle 05 operational or 03 terminated, as GnuPG's
 * factory-reset reads it) and 90 00. */
size_t
vc_historical(const struct vcard *card, uint8_t *out, size_t outsize)
{
  static const uint8_t historical[]
      = { 0x00, 0x31, 0xC5, 0x73, 0xC0, 0x01, 0xC0, 0x05, 0x90, 0x00 };

  if (outsize < sizeof historical)
    return 0;
  memcpy(out, historical, sizeof historical);
  if (card->p.terminated)
    out[7] = 0x03;
  return sizeof historical;
}

size_t
vcard_atr(const struct vcard *card, uint8_t *out, size_t outsize)
{
  /* The interface bytes of the OpenPGP card v2 (T=1 only, IFSC 254). */
  static const uint8_t head[]
      = { 0x3B, 0xDA, 0x18, 0xFF, 0x81, 0xB1, 0xFE, 0x75, 0x1F, 0x03 };
  size_t n, i;
  uint8_t tck = 0;

  if (!out || outsize <= sizeof head)
    return 0;
  memcpy(out, head, sizeof head);
  n = vc_historical(card, out + sizeof head, outsize - sizeof head - 1);
  if (!n)
    return 0;
  n += sizeof head;
  for (i = 1; i < n; i++)
    tck ^= out[i];
  out[n++] = tck;
  return n;
}

void
vc_persist_clear(struct vc_persist *p)
{
  size_t i;

  for (i = 0; i < 3; i++)
    vc_key_free(p->key[i]);
  for (i = 0; i < VC_B_COUNT; i++)
    {
      if (p->blob[i].data)
        vc_wipe(p->blob[i].data, p->blob[i].len);
      free(p->blob[i].data);
    }
  vc_wipe(p, sizeof *p);
}

gpg_error_t
vc_factory_defaults(struct vcard *card)
{
  static const uint8_t kdf_none[] = { 0x81, 0x01, 0x00 };
  struct vc_persist *p = &card->p;
  uint32_t serial = p->serial;
  size_t i;

  vc_persist_clear(p);
  p->serial = serial;
  vc_pin_default(&p->pin[VC_PW1], "123456");
  vc_pin_default(&p->pin[VC_PW3], "12345678");
  vc_pin_default(&p->pin[VC_RC], "");
  vc_default_algo(p);
  for (i = 0; i < 3; i++)
    {
      p->uif[i][0] = 0x00;
      p->uif[i][1] = 0x20; /* button */
    }
  p->blob[VC_B_KDF].data = malloc(sizeof kdf_none);
  if (!p->blob[VC_B_KDF].data)
    return gpg_error_from_syserror();
  memcpy(p->blob[VC_B_KDF].data, kdf_none, sizeof kdf_none);
  p->blob[VC_B_KDF].len = sizeof kdf_none;
  return 0;
}

static void
forget_volatile(struct vcard *card)
{
  card->selected = 0;
  card->pw1_81 = card->pw1_82 = card->pw3 = 0;
  card->cert_occ = 0;
  card->chaining = 0;
  vc_wipe(card->chain, card->chainlen);
  card->chainlen = 0;
  vc_wipe(card->pending, card->pendlen);
  card->pendlen = 0;
}

void
vcard_reset(struct vcard *card)
{
  if (card)
    forget_volatile(card);
}

static gpg_error_t
open_state(struct vcard *card, const struct vcard_options *opt)
{
  gpg_error_t err;
  int missing = 0;

  card->state_path = strdup(opt->state_path);
  if (!card->state_path)
    return gpg_error_from_syserror();
  err = vc_state_load(card, &missing);
  if (err || !missing)
    return err;
  if (!card->p.serial)
    {
      vc_random((uint8_t *)&card->p.serial, sizeof card->p.serial);
      card->p.serial |= 1; /* never 0, which means "derive" */
    }
  return vc_state_save(card);
}

gpg_error_t
vcard_new(const struct vcard_options *opt, struct vcard **r_card)
{
  gpg_error_t err;
  struct vcard *card;
  unsigned int version = opt && opt->version ? opt->version : VCARD_VERSION_3_4;

  *r_card = NULL;
  if (version != VCARD_VERSION_2_1 && version != VCARD_VERSION_3_3
      && version != VCARD_VERSION_3_4)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = vc_crypto_init();
  if (err)
    return err;
  card = calloc(1, sizeof *card);
  if (!card)
    return gpg_error_from_syserror();
  card->version = version;
  card->no_private_dos = opt ? opt->no_private_dos : 0;
  card->p.serial = opt ? opt->serial : 0;
  err = vc_factory_defaults(card);
  if (!err && opt && opt->state_path)
    err = open_state(card, opt);
  else if (!err && !card->p.serial)
    card->p.serial = 0x00000001;
  if (err)
    vcard_free(card);
  else
    *r_card = card;
  return err;
}

void
vcard_free(struct vcard *card)
{
  if (!card)
    return;
  vc_persist_clear(&card->p);
  free(card->state_path);
  vc_wipe(card, sizeof *card);
  free(card);
}

void
vcard_set_log(struct vcard *card, FILE *fp)
{
  card->log = fp;
}

void
vc_aid(const struct vcard *card, uint8_t aid[16])
{
  uint32_t s = card->p.serial;

  memcpy(aid, openpgp_rid, sizeof openpgp_rid);
  aid[6] = (uint8_t)(card->version >> 8);
  aid[7] = (uint8_t)card->version;
  aid[8] = 0xFF; /* manufacturer FF00: test cards */
  aid[9] = 0x00;
  aid[10] = (uint8_t)(s >> 24);
  aid[11] = (uint8_t)(s >> 16);
  aid[12] = (uint8_t)(s >> 8);
  aid[13] = (uint8_t)s;
  aid[14] = aid[15] = 0;
}

/* SELECT by DF name: the OpenPGP AID or any prefix of it at least as long
 * as RID and PIX application byte, as scdaemon and OpenSC send it. */
static unsigned int
cmd_select(struct vcard *card, const struct apdu_cmd *cmd)
{
  uint8_t aid[16];
  unsigned int sw;

  if (cmd->p1 != 0x04)
    return VC_SW_NOT_FOUND; /* no file system: MF, EF.DIR, EF.GDO */
  if (cmd->p2 != 0x00 && cmd->p2 != 0x0C)
    return VC_SW_BAD_P1P2;
  vc_aid(card, aid);
  if (cmd->lc < sizeof openpgp_rid || cmd->lc > sizeof aid
      || memcmp(cmd->data, aid, cmd->lc))
    return VC_SW_NOT_FOUND;
  forget_volatile(card);
  card->selected = 1;
  if (card->p.terminated)
    return VC_SW_TERMINATED;
  /* With P2 00 and an Le, the FCI with the full DF name, which OpenSC
   * reads the version from. */
  if (cmd->p2 == 0x00 && cmd->le != APDU_LE_NONE)
    {
      sw = vc_out(card, "\x6F\x12\x84\x10", 4);
      if (!sw)
        sw = vc_out(card, aid, sizeof aid);
      if (sw)
        return sw;
    }
  return VC_SW_OK;
}

static unsigned int
cmd_get_challenge(struct vcard *card, const struct apdu_cmd *cmd)
{
  size_t n = cmd->le;

  if (cmd->p1 || cmd->p2)
    return VC_SW_BAD_P1P2;
  if (cmd->lc || n == APDU_LE_NONE || n > VC_MAX_CHALLENGE)
    return VC_SW_WRONG_LENGTH;
  vc_random(card->out, n);
  card->outlen = n;
  return VC_SW_OK;
}

/* TERMINATE DF: with PW3, or when PW1 and PW3 are both blocked, so that a
 * card whose PINs are lost can still be reset. */
static unsigned int
cmd_terminate(struct vcard *card, const struct apdu_cmd *cmd)
{
  if (cmd->p1 || cmd->p2)
    return VC_SW_BAD_P1P2;
  if (cmd->lc)
    return VC_SW_WRONG_LENGTH;
  if (!card->pw3 && (card->p.pin[VC_PW1].tries || card->p.pin[VC_PW3].tries))
    return VC_SW_SECURITY;
  card->p.terminated = 1;
  card->pw1_81 = card->pw1_82 = card->pw3 = 0;
  card->dirty = 1;
  return VC_SW_OK;
}

/* ACTIVATE FILE: in termination state, back to factory defaults; in the
 * operational state nothing happens. */
static unsigned int
cmd_activate(struct vcard *card, const struct apdu_cmd *cmd)
{
  if (cmd->p1 || cmd->p2)
    return VC_SW_BAD_P1P2;
  if (cmd->lc)
    return VC_SW_WRONG_LENGTH;
  if (!card->p.terminated)
    return VC_SW_OK;
  if (vc_factory_defaults(card))
    return VC_SW_FAILURE;
  card->pw1_81 = card->pw1_82 = card->pw3 = 0;
  card->dirty = 1;
  return VC_SW_OK;
}

static const struct ins_def *
find_ins(uint8_t ins)
{
  size_t i;

  for (i = 0; i < sizeof ins_table / sizeof *ins_table; i++)
    if (ins_table[i].ins == ins)
      return &ins_table[i];
  return NULL;
}

/* Bits 8-1 of an interindustry CLA: 8 proprietary, 6-5 unused here, 4-3
 * secure messaging, 2-1 logical channel, 5 (0x10) chaining. */
static unsigned int
check_cla(uint8_t cla)
{
  if (cla & 0xE0)
    return VC_SW_BAD_CLA;
  if (cla & 0x0C)
    return VC_SW_NO_SM;
  if (cla & 0x03)
    return VC_SW_NO_CHANNEL;
  return 0;
}

static void
drop_chain(struct vcard *card)
{
  vc_wipe(card->chain, card->chainlen);
  card->chaining = 0;
  card->chainlen = 0;
}

/* Collects chained parts; returns 0 when CMD is complete (its data then
 * the whole chain's), VC_SW_OK for an accepted part, or an error SW.  A
 * command that does not continue the pending chain breaks it off (6883),
 * except SELECT, which starts afresh anyway. */
static unsigned int
handle_chain(struct vcard *card, const struct ins_def *def, struct apdu_cmd *cmd)
{
  uint8_t hdr[4] = { (uint8_t)(cmd->cla & ~APDU_CLA_CHAIN), cmd->ins, cmd->p1, cmd->p2 };
  int more = !!(cmd->cla & APDU_CLA_CHAIN);

  if (card->chaining && memcmp(hdr, card->chain_hdr, sizeof hdr))
    {
      drop_chain(card);
      if (cmd->ins != 0xA4)
        return VC_SW_LAST_EXPECTED;
    }
  if (!card->chaining && !more)
    return 0;
  if (!(def->flags & INS_CHAIN))
    return VC_SW_NO_CHAINING;
  if (!card->chaining)
    {
      memcpy(card->chain_hdr, hdr, sizeof hdr);
      card->chaining = 1;
    }
  if (cmd->lc > sizeof card->chain - card->chainlen)
    {
      drop_chain(card);
      return VC_SW_WRONG_LENGTH;
    }
  if (cmd->lc)
    memcpy(card->chain + card->chainlen, cmd->data, cmd->lc);
  card->chainlen += cmd->lc;
  if (more)
    return VC_SW_OK;
  card->chaining = 0;
  cmd->cla = hdr[0];
  cmd->data = card->chain;
  cmd->lc = card->chainlen;
  return 0;
}

/* GET RESPONSE: the next piece of what the last command left. */
static unsigned int
cmd_get_response(struct vcard *card, const struct apdu_cmd *cmd)
{
  size_t n = card->pendlen;

  if (cmd->p1 || cmd->p2)
    return VC_SW_BAD_P1P2;
  if (!n)
    return VC_SW_CONDITIONS;
  if (cmd->lc)
    return VC_SW_WRONG_LENGTH;
  memcpy(card->out, card->pending, n);
  card->outlen = n;
  vc_wipe(card->pending, card->pendlen);
  card->pendlen = 0;
  return VC_SW_OK;
}

/* Checks everything before the handler; 0 to run it. */
static unsigned int
precheck(struct vcard *card, const struct ins_def *def, struct apdu_cmd *cmd)
{
  if (!def || ((def->flags & INS_V3) && !vc_v3(card)))
    return VC_SW_BAD_INS;
  if (!card->selected && !(def->flags & INS_NO_SELECT))
    return VC_SW_BAD_INS;
  /* A terminated application only answers that it is terminated, as
   * CanoKey does and as GnuPG maps to GPG_ERR_OBJ_TERM_STATE. */
  if (card->p.terminated && !(def->flags & INS_TERMINATED))
    return VC_SW_TERMINATED;
  return handle_chain(card, def, cmd);
}

/* Runs CMD and leaves its response data in card->out. */
static unsigned int
execute(struct vcard *card, struct apdu_cmd *cmd)
{
  const struct ins_def *def;
  unsigned int sw;

  sw = check_cla(cmd->cla);
  if (sw)
    return sw;
  def = find_ins(cmd->ins);
  /* Response data not fetched at once is gone with the next command. */
  if (!def || !(def->flags & INS_RESPONSE))
    {
      vc_wipe(card->pending, card->pendlen);
      card->pendlen = 0;
    }
  card->redact = def && (def->flags & INS_REDACT);
  if (def && (def->flags & INS_REDACT_DO))
    card->redact = vc_put_is_secret((unsigned int)cmd->p1 << 8 | cmd->p2);
  sw = precheck(card, def, cmd);
  if (sw)
    return sw;
  return def->handler(card, cmd);
}

/* Ne of a command: an absent Le still lets the card answer (as T=1 cards
 * do), up to the largest short or extended Ne. */
static size_t
expected_length(const struct apdu_cmd *cmd, int extended)
{
  if (cmd->le != APDU_LE_NONE)
    return cmd->le;
  return extended ? APDU_EXTENDED_MAX_LE : APDU_SHORT_MAX_LE;
}

/* Copies the response data that fits Ne into RESP, keeps the rest for GET
 * RESPONSE (the status word becomes 61xx), and appends the status word. */
static size_t
finish_response(struct vcard *card, size_t ne, unsigned int *sw, uint8_t *resp)
{
  size_t n = card->outlen, rest = 0;

  if (n > ne)
    {
      rest = n - ne;
      n = ne;
      memcpy(card->pending, card->out + n, rest);
      card->pendlen = rest;
      *sw = 0x6100 | (rest > 255 ? 0 : (unsigned int)rest);
    }
  if (n)
    memcpy(resp, card->out, n);
  resp[n] = (uint8_t)(*sw >> 8);
  resp[n + 1] = (uint8_t)*sw;
  return n + 2;
}

gpg_error_t
vcard_apdu(struct vcard *card, const uint8_t *cmd, size_t cmdlen, uint8_t *resp,
           size_t respsize, size_t *resplen)
{
  gpg_error_t err = 0;
  struct apdu_cmd c;
  int extended = 0, decoded;
  unsigned int sw;

  *resplen = 0;
  if (!resp || respsize < VCARD_MAX_APDU + 2)
    {
      if (resp && respsize >= 2)
        {
          resp[0] = VC_SW_FAILURE >> 8;
          resp[1] = VC_SW_FAILURE & 0xFF;
          *resplen = 2;
        }
      return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
    }
  card->outlen = 0;
  card->dirty = 0;
  card->redact = 1;
  decoded = cmd && cmdlen <= VCARD_MAX_APDU
            && !apdu_decode_command(cmd, cmdlen, &c, &extended);
  if (!decoded)
    {
      memset(&c, 0, sizeof c);
      sw = VC_SW_WRONG_LENGTH;
    }
  else
    sw = execute(card, &c);
  if (card->dirty && card->state_path)
    err = vc_state_save(card);
  if (err)
    sw = VC_SW_FAILURE;
  if (sw != VC_SW_OK)
    card->outlen = 0;
  *resplen = finish_response(card, expected_length(&c, extended), &sw, resp);
  vc_log_line(card, cmdlen, decoded ? &c : NULL, *resplen, sw);
  /* A completed chain may have carried a PIN or a private key. */
  if (!card->chaining)
    drop_chain(card);
  vc_wipe(card->out, sizeof card->out);
  card->outlen = 0;
  return err;
}
