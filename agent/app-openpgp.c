/* app-openpgp.c - the OpenPGP application: open, card I/O, the DO cache */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <gcrypt.h>

#include "app-int.h"
#include "apdu.h"
#include "sw.h"
#include "tlv.h"

static const uint8_t openpgp_aid[] = { 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01 };

/* Where a DO lives: in a cache slot of its own, or inside a container that
 * one GET DATA returns (so that LEARN costs one APDU per container). */
static const struct
{
  unsigned int tag;
  enum app_cache_slot slot;
  unsigned int path[2]; /* inside the slot's value; 0 ends */
} do_table[] = {
  { 0x6E, C_6E, { 0 } },          { 0x4F, C_6E, { 0x4F } },
  { 0x5F52, C_6E, { 0x5F52 } },   { 0x7F66, C_6E, { 0x7F66 } },
  { 0x73, C_6E, { 0x73 } },       { 0xC0, C_6E, { 0x73, 0xC0 } },
  { 0xC1, C_6E, { 0x73, 0xC1 } }, { 0xC2, C_6E, { 0x73, 0xC2 } },
  { 0xC3, C_6E, { 0x73, 0xC3 } }, { 0xC4, C_6E, { 0x73, 0xC4 } },
  { 0xC5, C_6E, { 0x73, 0xC5 } }, { 0xC6, C_6E, { 0x73, 0xC6 } },
  { 0xCD, C_6E, { 0x73, 0xCD } }, { 0xDE, C_6E, { 0x73, 0xDE } },
  { 0xD6, C_6E, { 0x73, 0xD6 } }, { 0xD7, C_6E, { 0x73, 0xD7 } },
  { 0xD8, C_6E, { 0x73, 0xD8 } }, { 0x65, C_65, { 0 } },
  { 0x5B, C_65, { 0x5B } },       { 0x5F2D, C_65, { 0x5F2D } },
  { 0x5F35, C_65, { 0x5F35 } },   { 0x7A, C_7A, { 0 } },
  { 0x93, C_7A, { 0x93 } },       { 0x5F50, C_5F50, { 0 } },
  { 0x5E, C_5E, { 0 } },          { 0x7F74, C_7F74, { 0 } },
  { 0xF9, C_F9, { 0 } },          { 0x0101, C_0101, { 0 } },
  { 0x0102, C_0102, { 0 } },      { 0x0103, C_0103, { 0 } },
  { 0x0104, C_0104, { 0 } },      { 0x7F21, C_7F21, { 0 } },
};

/* The tag each cache slot is read with. */
static const unsigned int slot_tag[C_MAX] = {
  0x6E, 0x65, 0x7A, 0x5F50, 0x5E, 0x7F74, 0xF9, 0x0101, 0x0102, 0x0103, 0x0104, 0x7F21,
};

void
app_wipe_free(void *p, size_t len)
{
  if (!p)
    return;
  explicit_bzero(p, len);
  free(p);
}

static gpg_error_t
channel_transmit(void *ctx, const uint8_t *apdu, size_t apdulen, const uint8_t **resp,
                 size_t *resplen)
{
  struct app *app = ctx;
  gpg_error_t err;

  *resp = NULL;
  *resplen = 0;
  err = app->ch.transmit(app->ch.opaque, apdu, apdulen, app->xbuf, APP_RBUF_SIZE + 2,
                         resplen);
  if (!err && *resplen > APP_RBUF_SIZE + 2)
    err = gpg_error(GPG_ERR_INV_RESPONSE);
  if (!err)
    *resp = app->xbuf;
  return err;
}

/* One part of a command through apdu_transceive, in the form the card
 * takes. */
static gpg_error_t
send_part(struct app *app, const struct apdu_cmd *cmd, const uint8_t **r_out,
          size_t *r_outlen, unsigned int *r_sw)
{
  struct apdu_io io = { channel_transmit, app, app->cmdbuf, sizeof app->cmdbuf, 0 };
  enum apdu_form form = APDU_FORM_SHORT;
  struct apdu_cmd c = *cmd;

  if (app->ext_lc_le && (c.lc > APDU_SHORT_MAX_LC || c.le > APDU_SHORT_MAX_LE))
    form = APDU_FORM_EXTENDED;
  else if (c.le > APDU_SHORT_MAX_LE)
    c.le = APDU_LE_MAX;
  *r_out = app->rbuf;
  return apdu_transceive(&io, &c, form, app->rbuf, APP_RBUF_SIZE, r_outlen, r_sw);
}

/* Status words that contradict what we believe about the card: "security
 * status not satisfied" (or "conditions of use") while we hold a verified
 * PIN, and "no such instruction / class" or "file not found" while our
 * application is selected.  In shared mode these mean another PC/SC program
 * selected something else, verified a wrong PIN or re-selected us in
 * between (PC/SC cannot tell us so beforehand).  6A88, and 6A82 to GET
 * DATA, are left out: absent DOs legitimately answer them. */
static void
note_state_lost(struct app *app, uint8_t ins, unsigned int sw)
{
  int pin_believed = app->did_chv1 || app->did_chv2 || app->did_chv3;

  if (!app->selected)
    return;
  if (((sw == 0x6982 || sw == 0x6985) && pin_believed) || sw == 0x6D00 || sw == 0x6E00
      || (sw == 0x6A82 && ins != 0xCA))
    app->state_lost = 1;
}

/* Sends INS P1 P2 with LC bytes of DATA, expecting up to LE bytes
 * (APDU_LE_MAX: as many as the card gives); chains the command when it is
 * too long for a short APDU and the card cannot take an extended one.
 * *R_OUT points into APP's buffer until the next command.  Returns the
 * status word's error; *R_SW (if not NULL) gets the status word. */
gpg_error_t
app_cmd(struct app *app, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
        size_t lc, size_t le, const uint8_t **r_out, size_t *r_outlen, unsigned int *r_sw)
{
  struct apdu_cmd cmd = { 0x00, ins, p1, p2, data, lc, le }, part;
  struct apdu_chain chain;
  gpg_error_t err;
  unsigned int sw = 0;

  *r_out = NULL;
  *r_outlen = 0;
  if (r_sw)
    *r_sw = 0;
  if (lc > APDU_SHORT_MAX_LC && !app->ext_lc_le)
    {
      if (!app->cmd_chaining)
        return gpg_error(GPG_ERR_TOO_LARGE);
      err = apdu_chain_init(&chain, &cmd, 254);
      while (!err && apdu_chain_next(&chain, &part))
        {
          err = send_part(app, &part, r_out, r_outlen, &sw);
          if (!err && sw != SW_SUCCESS)
            break;
        }
    }
  else
    err = send_part(app, &cmd, r_out, r_outlen, &sw);
  if (r_sw)
    *r_sw = sw;
  if (!err && sw != SW_SUCCESS)
    {
      note_state_lost(app, ins, sw);
      err = sw_to_error(sw);
    }
  if (err)
    *r_outlen = 0;
  return err;
}

gpg_error_t
app_pinpad_cmd(struct app *app, const struct app_pinpad_req *req, const uint8_t *header)
{
  size_t len = 0;
  unsigned int sw;
  gpg_error_t err;

  if (!app->ch.pinpad)
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  err = app->ch.pinpad(app->ch.opaque, req, header, app->xbuf, APP_RBUF_SIZE + 2, &len);
  if (err)
    return err;
  if (len < 2)
    return gpg_error(GPG_ERR_INV_RESPONSE);
  sw = (unsigned int)app->xbuf[len - 2] << 8 | app->xbuf[len - 1];
  explicit_bzero(app->xbuf, len);
  if (sw == SW_SUCCESS)
    return 0;
  note_state_lost(app, header[1], sw);
  return sw_to_error(sw);
}

static void
cache_clear(struct app_do *d)
{
  app_wipe_free(d->val, d->len);
  memset(d, 0, sizeof *d);
}

/* Reads the DO behind cache slot S with one GET DATA and keeps its value
 * (without the outer tag, which some cards repeat and others do not). */
static gpg_error_t
cache_fill(struct app *app, enum app_cache_slot s)
{
  unsigned int tag = slot_tag[s];
  const uint8_t *out;
  size_t outlen;
  struct tlv t;
  gpg_error_t err;

  err = app_cmd(app, 0xCA, (uint8_t)(tag >> 8), (uint8_t)tag, NULL, 0, APDU_LE_MAX, &out,
                &outlen, NULL);
  if (gpg_err_code(err) == GPG_ERR_NO_OBJ || gpg_err_code(err) == GPG_ERR_ENOENT)
    {
      app->cache[s].valid = app->cache[s].absent = 1;
      return gpg_error(GPG_ERR_NO_OBJ);
    }
  if (err)
    return err;
  if (outlen && !tlv_find(out, outlen, tag, &t) && t.value - t.hdrlen == out
      && t.hdrlen + t.len == outlen)
    {
      out = t.value;
      outlen = t.len;
    }
  app->cache[s].val = malloc(outlen ? outlen : 1);
  if (!app->cache[s].val)
    return gpg_error_from_syserror();
  memcpy(app->cache[s].val, out, outlen);
  app->cache[s].len = outlen;
  app->cache[s].valid = 1;
  return 0;
}

static int
do_index(unsigned int tag)
{
  size_t i;

  for (i = 0; i < sizeof do_table / sizeof do_table[0]; i++)
    if (do_table[i].tag == tag)
      return (int)i;
  return -1;
}

/* Points *R_VAL at the value of DO TAG, from the cache or read once.
 * GPG_ERR_NO_OBJ when the card does not have it. */
gpg_error_t
app_get_do(struct app *app, unsigned int tag, const uint8_t **r_val, size_t *r_len)
{
  int i = do_index(tag);
  struct app_do *d;
  struct tlv t;
  size_t n;
  gpg_error_t err;

  *r_val = NULL;
  *r_len = 0;
  if (i < 0)
    return gpg_error(GPG_ERR_INV_VALUE);
  d = &app->cache[do_table[i].slot];
  if (!d->valid)
    {
      err = cache_fill(app, do_table[i].slot);
      if (err)
        return err;
    }
  if (d->absent)
    return gpg_error(GPG_ERR_NO_OBJ);
  for (n = 0; n < 2 && do_table[i].path[n]; n++)
    ;
  if (!n)
    {
      *r_val = d->val;
      *r_len = d->len;
      return 0;
    }
  err = tlv_find_path(d->val, d->len, do_table[i].path, n, &t);
  if (gpg_err_code(err) == GPG_ERR_NOT_FOUND)
    return gpg_error(GPG_ERR_NO_OBJ);
  if (err)
    return gpg_error(GPG_ERR_CARD);
  *r_val = t.value;
  *r_len = t.len;
  return 0;
}

/* Forgets the cached container that holds TAG (0: everything). */
void
app_cache_drop(struct app *app, unsigned int tag)
{
  int i;
  size_t s;

  if (!tag)
    {
      for (s = 0; s < C_MAX; s++)
        cache_clear(&app->cache[s]);
      return;
    }
  /* Fingerprints and dates show through C5, C6, CD; the Reset Code's
   * retry counter through C4; the UIF DOs live in 73. */
  if ((tag >= 0xC7 && tag <= 0xD0) || tag == 0xD3 || (tag >= 0xD6 && tag <= 0xD8))
    tag = 0x6E;
  i = do_index(tag);
  if (i >= 0)
    cache_clear(&app->cache[do_table[i].slot]);
}

/* PUT DATA of TAG, then forgets what it changed. */
gpg_error_t
app_put_do(struct app *app, unsigned int tag, const uint8_t *val, size_t len)
{
  const uint8_t *out;
  size_t outlen;
  gpg_error_t err;

  err = app_cmd(app, 0xDA, (uint8_t)(tag >> 8), (uint8_t)tag, val, len, APDU_LE_NONE,
                &out, &outlen, NULL);
  app_cache_drop(app, tag);
  return err;
}

/* Card capabilities (ISO 7816-4 8.1.1.2.7) from the historical bytes:
 * compact TLVs after the category indicator 00, the last three bytes the
 * status indicator. */
static void
parse_historical(struct app *app, const uint8_t *h, size_t n)
{
  size_t i, len;

  if (n < 4 || h[0] != 0x00)
    return;
  n -= 3;
  for (i = 1; i < n; i += 1 + len)
    {
      len = h[i] & 0x0F;
      if (i + 1 + len > n)
        return;
      if ((h[i] >> 4) == 7 && len == 3)
        {
          app->cmd_chaining = !!(h[i + 3] & 0x80);
          app->ext_lc_le = !!(h[i + 3] & 0x40);
        }
    }
}

/* Does the reader carry short APDUs only (a CCID reader at the short APDU
 * level)?  Then long answers come in 61xx pieces. */
static int
short_reader(const struct app *app)
{
  size_t max = app->ch.max_apdu ? app->ch.max_apdu(app->ch.opaque) : 0;

  return max && max <= APDU_SHORT_MAX;
}

/* Reads DO 6E, trying the extended Le first (one APDU on a card that takes
 * it) and falling back to short APDUs on a card that refuses. */
static gpg_error_t
read_6e(struct app *app)
{
  const uint8_t *val;
  size_t len;
  gpg_error_t err;

  app->ext_lc_le = !short_reader(app);
  err = app_get_do(app, 0x6E, &val, &len);
  if (gpg_err_code(err) == GPG_ERR_INV_VALUE || gpg_err_code(err) == GPG_ERR_CARD)
    {
      app->ext_lc_le = 0;
      cache_clear(&app->cache[C_6E]);
      err = app_get_do(app, 0x6E, &val, &len);
    }
  if (err)
    return err;
  app->ext_lc_le = 0;
  if (!app_get_do(app, 0x5F52, &val, &len))
    parse_historical(app, val, len);
  if (short_reader(app))
    app->ext_lc_le = 0; /* the card may, the reader cannot */
  return 0;
}

/* SELECT the application by AID and read what every command needs. */
gpg_error_t
app_ensure_selected(struct app *app)
{
  const uint8_t *out, *aid;
  size_t outlen, aidlen, i;
  unsigned int sw;
  gpg_error_t err;

  if (app->selected)
    return 0;
  err = app_cmd(app, 0xA4, 0x04, 0x00, openpgp_aid, sizeof openpgp_aid, APDU_LE_NONE,
                &out, &outlen, &sw);
  if (err && sw)
    err = gpg_error(GPG_ERR_NOT_SUPPORTED); /* the card answered: no such app */
  if (!err)
    err = read_6e(app);
  if (!err)
    err = app_get_do(app, 0x4F, &aid, &aidlen);
  if (!err && (aidlen != 16 || memcmp(aid, openpgp_aid, sizeof openpgp_aid)))
    err = gpg_error(GPG_ERR_CARD);
  if (err)
    return err;
  memcpy(app->aid, aid, 16);
  for (i = 0; i < 16; i++)
    snprintf(app->serial + 2 * i, 3, "%02X", aid[i]);
  app->version = (unsigned int)aid[6] << 8 | aid[7];
  app->manufacturer = (unsigned int)aid[8] << 8 | aid[9];
  app->selected = 1;
  return 0;
}

gpg_error_t
app_open(const struct card_channel *ch, struct app **r_app)
{
  struct app *app;
  gpg_error_t err;

  *r_app = NULL;
  if (!ch || !ch->transmit)
    return gpg_error(GPG_ERR_INV_VALUE);
  app = calloc(1, sizeof *app);
  if (!app)
    return gpg_error_from_syserror();
  app->ch = *ch;
  app->xbuf = malloc(APP_RBUF_SIZE + 2);
  app->rbuf = malloc(APP_RBUF_SIZE);
  if (!app->xbuf || !app->rbuf)
    err = gpg_error_from_syserror();
  else
    err = app_ensure_selected(app);
  if (err)
    app_close(app);
  else
    *r_app = app;
  return err;
}

void
app_invalidate(struct app *app)
{
  int i;

  if (!app)
    return;
  app_cache_drop(app, 0);
  for (i = 0; i < 3; i++)
    {
      free(app->pk[i].sexp);
      memset(&app->pk[i], 0, sizeof app->pk[i]);
    }
  app->selected = 0;
  app->state_lost = 0;
  app->did_chv1 = app->did_chv2 = app->did_chv3 = 0;
}

int
app_state_lost(const struct app *app)
{
  return app && app->state_lost;
}

void
app_close(struct app *app)
{
  if (!app)
    return;
  app_invalidate(app);
  app_wipe_free(app->xbuf, APP_RBUF_SIZE + 2);
  app_wipe_free(app->rbuf, APP_RBUF_SIZE);
  app_wipe_free(app, sizeof *app);
}

const char *
app_serialno(const struct app *app)
{
  return app ? app->serial : "";
}

/* A signature moved the counter in DO 93: count along in the cached 7A
 * instead of reading it again. */
void
app_bump_sig_counter(struct app *app)
{
  static const unsigned int path[] = { 0x93 };
  struct app_do *d = &app->cache[C_7A];
  struct tlv t;
  size_t i, off;

  if (!d->valid || d->absent || tlv_find_path(d->val, d->len, path, 1, &t) || !t.len)
    return;
  off = (size_t)(t.value - d->val);
  for (i = t.len; i-- > 0;)
    if (++d->val[off + i])
      break;
}
