/* vcard-do.c - the card's data objects: GET DATA, PUT DATA, SELECT DATA
 *
 * One table row per data object: its tag, the first application version
 * that has it, who may read and write it, how its value is produced and
 * how a new value is checked and stored.  Constructed objects (65, 6E, 73,
 * 7A) are built from their children's rows, so what GET DATA 6E shows and
 * what GET DATA C4 shows cannot disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "tlv.h"
#include "vcard-int.h"

struct do_def;
typedef void (*do_get_fn)(struct vcard *card, const struct do_def *def,
                          struct tlv_builder *b);
typedef unsigned int (*do_put_fn)(struct vcard *card, const struct do_def *def,
                                  const uint8_t *data, size_t len);

enum do_flags
{
  DO_TAGGED = 1, /* GET DATA answers with the object's own tag and length */
  DO_SECRET = 2  /* PUT DATA data never logged */
};

struct do_def
{
  unsigned int tag;
  unsigned int version; /* first application version with it; 0: all */
  enum vc_access read, write;
  do_get_fn get;
  do_put_fn put;
  int index;     /* blob, key slot or other index the functions use */
  size_t minlen; /* PUT DATA bounds */
  size_t maxlen;
  unsigned int flags;
  const unsigned int *children; /* constructed: tags, 0-terminated */
};

static void get_blob(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_cert(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_aid(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_hist(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_children(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_extcap(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_attr(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_pwstatus(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_fprs(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_dates(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_keyinfo(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_uif(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_sigcount(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_extlen(struct vcard *, const struct do_def *, struct tlv_builder *);
static void get_features(struct vcard *, const struct do_def *, struct tlv_builder *);

static unsigned int put_blob(struct vcard *, const struct do_def *, const uint8_t *,
                             size_t);
static unsigned int put_cert(struct vcard *, const struct do_def *, const uint8_t *,
                             size_t);
static unsigned int put_attr(struct vcard *, const struct do_def *, const uint8_t *,
                             size_t);
static unsigned int put_pwstatus(struct vcard *, const struct do_def *, const uint8_t *,
                                 size_t);
static unsigned int put_fixed(struct vcard *, const struct do_def *, const uint8_t *,
                              size_t);
static unsigned int put_rc(struct vcard *, const struct do_def *, const uint8_t *,
                           size_t);
static unsigned int put_uif(struct vcard *, const struct do_def *, const uint8_t *,
                            size_t);
static unsigned int put_kdf(struct vcard *, const struct do_def *, const uint8_t *,
                            size_t);

static const unsigned int children_65[] = { 0x5B, 0x5F2D, 0x5F35, 0 };
static const unsigned int children_6e[] = { 0x4F, 0x5F52, 0x7F66, 0x73, 0 };
static const unsigned int children_73[]
    = { 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xCD, 0xDE, 0xD6, 0xD7, 0xD8, 0 };
static const unsigned int children_7a[] = { 0x93, 0 };

#define V3 VCARD_VERSION_3_3
#define ALWAYS VC_AC_ALWAYS
#define NEVER VC_AC_NEVER
#define PW1 VC_AC_PW1_82
#define PW3 VC_AC_PW3

/* Offsets used by put_fixed and the getters: which array and slot. */
enum
{
  FIX_FPR = 0,
  FIX_CAFPR = 3,
  FIX_DATE = 6
};

static const struct do_def do_table[] = {
  { 0x4F, 0, ALWAYS, NEVER, get_aid, NULL, 0, 0, 0, 0, NULL },
  { 0x5E, 0, ALWAYS, PW3, get_blob, put_blob, VC_B_LOGIN, 0, VC_MAX_SPECIAL, 0, NULL },
  { 0x5F50, 0, ALWAYS, PW3, get_blob, put_blob, VC_B_URL, 0, VC_MAX_SPECIAL, 0, NULL },
  { 0x5F52, 0, ALWAYS, NEVER, get_hist, NULL, 0, 0, 0, 0, NULL },
  { 0x65, 0, ALWAYS, NEVER, get_children, NULL, 0, 0, 0, DO_TAGGED, children_65 },
  { 0x5B, 0, ALWAYS, PW3, get_blob, put_blob, VC_B_NAME, 0, 39, 0, NULL },
  { 0x5F2D, 0, ALWAYS, PW3, get_blob, put_blob, VC_B_LANG, 0, 8, 0, NULL },
  { 0x5F35, 0, ALWAYS, PW3, get_blob, put_blob, VC_B_SEX, 0, 1, 0, NULL },
  { 0x6E, 0, ALWAYS, NEVER, get_children, NULL, 0, 0, 0, DO_TAGGED, children_6e },
  { 0x73, 0, NEVER, NEVER, get_children, NULL, 0, 0, 0, 0, children_73 },
  { 0x7F66, V3, ALWAYS, NEVER, get_extlen, NULL, 0, 0, 0, DO_TAGGED, NULL },
  { 0xC0, 0, ALWAYS, NEVER, get_extcap, NULL, 0, 0, 0, 0, NULL },
  { 0xC1, 0, ALWAYS, PW3, get_attr, put_attr, VC_KEY_SIG, 1, 16, 0, NULL },
  { 0xC2, 0, ALWAYS, PW3, get_attr, put_attr, VC_KEY_DEC, 1, 16, 0, NULL },
  { 0xC3, 0, ALWAYS, PW3, get_attr, put_attr, VC_KEY_AUT, 1, 16, 0, NULL },
  { 0xC4, 0, ALWAYS, PW3, get_pwstatus, put_pwstatus, 0, 1, 1, 0, NULL },
  { 0xC5, 0, ALWAYS, NEVER, get_fprs, NULL, FIX_FPR, 0, 0, 0, NULL },
  { 0xC6, 0, ALWAYS, NEVER, get_fprs, NULL, FIX_CAFPR, 0, 0, 0, NULL },
  { 0xC7, 0, NEVER, PW3, NULL, put_fixed, FIX_FPR + 0, 20, 20, 0, NULL },
  { 0xC8, 0, NEVER, PW3, NULL, put_fixed, FIX_FPR + 1, 20, 20, 0, NULL },
  { 0xC9, 0, NEVER, PW3, NULL, put_fixed, FIX_FPR + 2, 20, 20, 0, NULL },
  { 0xCA, 0, NEVER, PW3, NULL, put_fixed, FIX_CAFPR + 0, 20, 20, 0, NULL },
  { 0xCB, 0, NEVER, PW3, NULL, put_fixed, FIX_CAFPR + 1, 20, 20, 0, NULL },
  { 0xCC, 0, NEVER, PW3, NULL, put_fixed, FIX_CAFPR + 2, 20, 20, 0, NULL },
  { 0xCD, 0, ALWAYS, NEVER, get_dates, NULL, 0, 0, 0, 0, NULL },
  { 0xCE, 0, NEVER, PW3, NULL, put_fixed, FIX_DATE + 0, 4, 4, 0, NULL },
  { 0xCF, 0, NEVER, PW3, NULL, put_fixed, FIX_DATE + 1, 4, 4, 0, NULL },
  { 0xD0, 0, NEVER, PW3, NULL, put_fixed, FIX_DATE + 2, 4, 4, 0, NULL },
  { 0xD3, 0, NEVER, PW3, NULL, put_rc, 0, 0, VC_PIN_MAX, DO_SECRET, NULL },
  { 0xDE, V3, ALWAYS, NEVER, get_keyinfo, NULL, 0, 0, 0, 0, NULL },
  { 0xD6, V3, ALWAYS, PW3, get_uif, put_uif, 0, 2, 2, 0, NULL },
  { 0xD7, V3, ALWAYS, PW3, get_uif, put_uif, 1, 2, 2, 0, NULL },
  { 0xD8, V3, ALWAYS, PW3, get_uif, put_uif, 2, 2, 2, 0, NULL },
  { 0x7A, 0, ALWAYS, NEVER, get_children, NULL, 0, 0, 0, DO_TAGGED, children_7a },
  { 0x93, 0, ALWAYS, NEVER, get_sigcount, NULL, 0, 0, 0, 0, NULL },
  { 0x7F21, 0, ALWAYS, PW3, get_cert, put_cert, 0, 0, VC_MAX_CERT, 0, NULL },
  { 0x7F74, V3, ALWAYS, NEVER, get_features, NULL, 0, 0, 0, DO_TAGGED, NULL },
  { 0x0101, 0, ALWAYS, PW1, get_blob, put_blob, VC_B_PRIV1, 0, VC_MAX_SPECIAL, 0, NULL },
  { 0x0102, 0, ALWAYS, PW3, get_blob, put_blob, VC_B_PRIV2, 0, VC_MAX_SPECIAL, 0, NULL },
  { 0x0103, 0, PW1, PW1, get_blob, put_blob, VC_B_PRIV3, 0, VC_MAX_SPECIAL, 0, NULL },
  { 0x0104, 0, PW3, PW3, get_blob, put_blob, VC_B_PRIV4, 0, VC_MAX_SPECIAL, 0, NULL },
  /* The KDF-DO holds initial PIN hashes: not logged. */
  { 0xF9, V3, ALWAYS, PW3, get_blob, put_kdf, VC_B_KDF, 3, 110, DO_SECRET, NULL },
};

#undef V3
#undef ALWAYS
#undef NEVER
#undef PW1
#undef PW3

static const struct do_def *
find_do(const struct vcard *card, unsigned int tag)
{
  size_t i;

  if (card->no_private_dos && tag >= 0x0101 && tag <= 0x0104)
    return NULL;
  for (i = 0; i < sizeof do_table / sizeof *do_table; i++)
    if (do_table[i].tag == tag)
      return card->version >= do_table[i].version ? &do_table[i] : NULL;
  return NULL;
}

int
vc_access_ok(const struct vcard *card, enum vc_access ac)
{
  return ac == VC_AC_ALWAYS || (ac == VC_AC_PW1_82 && card->pw1_82)
         || (ac == VC_AC_PW3 && card->pw3);
}

int
vc_put_is_secret(unsigned int tag)
{
  size_t i;

  for (i = 0; i < sizeof do_table / sizeof *do_table; i++)
    if (do_table[i].tag == tag)
      return !!(do_table[i].flags & DO_SECRET);
  return 0;
}

static void
get_blob(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  const struct vc_buf *blob = &card->p.blob[def->index];

  tlv_put_raw(b, blob->data, blob->len);
}

static void
get_cert(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  const struct vc_buf *blob = &card->p.blob[VC_B_CERT1 + card->cert_occ];

  (void)def;
  tlv_put_raw(b, blob->data, blob->len);
}

static void
get_aid(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  uint8_t aid[16];

  (void)def;
  vc_aid(card, aid);
  tlv_put_raw(b, aid, sizeof aid);
}

static void
get_hist(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  uint8_t h[16];
  size_t n = vc_historical(card, h, sizeof h);

  (void)def;
  tlv_put_raw(b, h, n);
}

/* Writes the object TAG with its tag, if this version has it. */
static void
put_object(struct vcard *card, unsigned int tag, struct tlv_builder *b)
{
  const struct do_def *def = find_do(card, tag);

  if (!def || !def->get)
    return;
  tlv_begin(b, tag);
  def->get(card, def, b);
  tlv_end(b);
}

static void
get_children(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  const unsigned int *t;

  for (t = def->children; *t; t++)
    put_object(card, *t, b);
}

static void
put16(struct tlv_builder *b, size_t v)
{
  uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

  tlv_put_raw(b, x, 2);
}

/* Extended capabilities: GET CHALLENGE, key import, PW1 status changeable,
 * private DOs, algorithm attributes changeable, and (3.x) the KDF-DO; no
 * secure messaging, no AES.  Bytes 7-10 differ between 2.x and 3.x. */
static void
get_extcap(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  uint8_t head[2] = { 0x7C, 0x00 };

  (void)def;
  if (vc_v3(card))
    head[0] |= 0x01;
  if (card->no_private_dos)
    head[0] &= (uint8_t)~0x08u;
  tlv_put_raw(b, head, sizeof head);
  put16(b, VC_MAX_CHALLENGE);
  put16(b, VC_MAX_CERT);
  if (vc_v3(card))
    {
      put16(b, VC_MAX_SPECIAL);
      tlv_put_raw(b, "\x00\x00", 2); /* no PIN block 2, no MSE */
    }
  else
    {
      put16(b, VCARD_MAX_APDU - 9); /* max command data, extended header */
      put16(b, VCARD_MAX_APDU);     /* max response data */
    }
}

static void
get_attr(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  int i = def->index - 1;

  tlv_put_raw(b, card->p.attr[i], card->p.attrlen[i]);
}

static void
get_pwstatus(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  const struct vc_persist *p = &card->p;
  uint8_t s[7] = { p->pw1_multi, VC_PIN_MAX, VC_PIN_MAX, VC_PIN_MAX };

  (void)def;
  s[4] = (uint8_t)p->pin[VC_PW1].tries;
  s[5] = (uint8_t)p->pin[VC_RC].tries;
  s[6] = (uint8_t)p->pin[VC_PW3].tries;
  tlv_put_raw(b, s, sizeof s);
}

static void
get_fprs(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  tlv_put_raw(b, def->index == FIX_FPR ? card->p.fpr : card->p.cafpr, 60);
}

static void
get_dates(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  (void)def;
  tlv_put_raw(b, card->p.date, 12);
}

static void
get_keyinfo(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  uint8_t k[6] = { 1, card->p.keyinfo[0], 2, card->p.keyinfo[1], 3, card->p.keyinfo[2] };

  (void)def;
  tlv_put_raw(b, k, sizeof k);
}

static void
get_uif(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  tlv_put_raw(b, card->p.uif[def->index], 2);
}

static void
get_sigcount(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  uint32_t c = card->p.sigcount;
  uint8_t v[3] = { (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c };

  (void)def;
  tlv_put_raw(b, v, sizeof v);
}

/* Extended length information: the longest command and response APDU. */
static void
get_extlen(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  uint8_t v[2] = { VCARD_MAX_APDU >> 8, VCARD_MAX_APDU & 0xFF };

  (void)card;
  (void)def;
  tlv_put(b, 0x02, v, 2);
  tlv_put(b, 0x02, v, 2);
}

/* General feature management: a button (for UIF). */
static void
get_features(struct vcard *card, const struct do_def *def, struct tlv_builder *b)
{
  (void)card;
  (void)def;
  tlv_put(b, 0x81, "\x20", 1);
}

/* GET DATA of DEF into card->out. */
static unsigned int
read_do(struct vcard *card, const struct do_def *def)
{
  struct tlv_builder b;
  size_t n;

  if (!def || !def->get || def->read == VC_AC_NEVER)
    return VC_SW_NO_DATA;
  if (!vc_access_ok(card, def->read))
    return VC_SW_SECURITY;
  tlv_builder_init(&b, card->out, sizeof card->out);
  if (def->flags & DO_TAGGED)
    put_object(card, def->tag, &b);
  else
    def->get(card, def, &b);
  if (tlv_builder_finish(&b, &n))
    return VC_SW_FAILURE;
  card->outlen = n;
  return VC_SW_OK;
}

unsigned int
vc_cmd_get_data(struct vcard *card, const struct apdu_cmd *cmd)
{
  if (cmd->lc)
    return VC_SW_WRONG_LENGTH;
  return read_do(card, find_do(card, (unsigned int)cmd->p1 << 8 | cmd->p2));
}

/* GET NEXT DATA: the next occurrence of the cardholder certificate. */
unsigned int
vc_cmd_get_next_data(struct vcard *card, const struct apdu_cmd *cmd)
{
  if (cmd->p1 != 0x7F || cmd->p2 != 0x21)
    return VC_SW_NO_DATA;
  if (cmd->lc)
    return VC_SW_WRONG_LENGTH;
  if (card->cert_occ >= 2)
    return VC_SW_NO_DATA;
  card->cert_occ++;
  return read_do(card, find_do(card, 0x7F21));
}

/* SELECT DATA: P1 the occurrence, P2 04, data 60 { 5C 7F21 }; the bare
 * 5C 02 7F 21 that some GnuPG versions send is taken too. */
unsigned int
vc_cmd_select_data(struct vcard *card, const struct apdu_cmd *cmd)
{
  static const unsigned int path[] = { 0x60, 0x5C };
  struct tlv t;

  if (cmd->p1 > 2 || cmd->p2 != 0x04)
    return VC_SW_BAD_P1P2;
  if (tlv_find_path(cmd->data, cmd->lc, path, 2, &t)
      && tlv_find(cmd->data, cmd->lc, 0x5C, &t))
    return VC_SW_WRONG_DATA;
  if (t.len != 2 || t.value[0] != 0x7F || t.value[1] != 0x21)
    return VC_SW_NO_DATA;
  card->cert_occ = cmd->p1;
  return VC_SW_OK;
}

static unsigned int
store_blob(struct vc_buf *blob, const uint8_t *data, size_t len)
{
  uint8_t *copy = NULL;

  if (len)
    {
      copy = malloc(len);
      if (!copy)
        return VC_SW_FAILURE;
      memcpy(copy, data, len);
    }
  if (blob->data)
    vc_wipe(blob->data, blob->len);
  free(blob->data);
  blob->data = copy;
  blob->len = len;
  return VC_SW_OK;
}

static unsigned int
put_blob(struct vcard *card, const struct do_def *def, const uint8_t *data, size_t len)
{
  return store_blob(&card->p.blob[def->index], data, len);
}

static unsigned int
put_cert(struct vcard *card, const struct do_def *def, const uint8_t *data, size_t len)
{
  (void)def;
  return store_blob(&card->p.blob[VC_B_CERT1 + card->cert_occ], data, len);
}

static unsigned int
put_attr(struct vcard *card, const struct do_def *def, const uint8_t *data, size_t len)
{
  return vc_put_algo(card, (enum vc_keyref)def->index, data, len);
}

static unsigned int
put_pwstatus(struct vcard *card, const struct do_def *def, const uint8_t *data,
             size_t len)
{
  (void)def;
  (void)len;
  if (data[0] > 1)
    return VC_SW_WRONG_DATA;
  card->p.pw1_multi = data[0];
  return VC_SW_OK;
}

static unsigned int
put_fixed(struct vcard *card, const struct do_def *def, const uint8_t *data, size_t len)
{
  int i = def->index;

  if (i < FIX_CAFPR)
    memcpy(card->p.fpr[i - FIX_FPR], data, len);
  else if (i < FIX_DATE)
    memcpy(card->p.cafpr[i - FIX_CAFPR], data, len);
  else
    memcpy(card->p.date[i - FIX_DATE], data, len);
  return VC_SW_OK;
}

static unsigned int
put_rc(struct vcard *card, const struct do_def *def, const uint8_t *data, size_t len)
{
  (void)def;
  return vc_put_reset_code(card, data, len);
}

/* UIF: 00 off, 01 on, 02 permanently on (no way back); byte 2 the button. */
static unsigned int
put_uif(struct vcard *card, const struct do_def *def, const uint8_t *data, size_t len)
{
  uint8_t *uif = card->p.uif[def->index];

  (void)len;
  if (data[0] > 2 || data[1] != 0x20)
    return VC_SW_WRONG_DATA;
  if (uif[0] == 2)
    return VC_SW_CONDITIONS;
  uif[0] = data[0];
  return VC_SW_OK;
}

/* The KDF-DO is the host's business (it hashes the PINs); the card checks
 * that it is a list of data objects starting with the algorithm 81 (00
 * none, 03 iterated and salted S2K) and resets the PINs to match it. */
static unsigned int
put_kdf(struct vcard *card, const struct do_def *def, const uint8_t *data, size_t len)
{
  struct tlv_iter it;
  struct tlv t;
  gpg_error_t err;
  unsigned int sw;

  tlv_iter_init(&it, data, len);
  while (!(err = tlv_iter_next(&it, &t)))
    ;
  if (gpg_err_code(err) != GPG_ERR_EOF || tlv_find(data, len, 0x81, &t) || t.len != 1
      || data[0] != 0x81 || (t.value[0] != 0x00 && t.value[0] != 0x03))
    return VC_SW_WRONG_DATA;
  sw = vc_kdf_reset_pins(card, data, len, t.value[0] == 0x03);
  if (sw == VC_SW_OK)
    sw = put_blob(card, def, data, len);
  return sw;
}

unsigned int
vc_cmd_put_data(struct vcard *card, const struct apdu_cmd *cmd)
{
  const struct do_def *def = find_do(card, (unsigned int)cmd->p1 << 8 | cmd->p2);
  unsigned int sw;

  if (!def || !def->put)
    return VC_SW_NO_DATA;
  if (!vc_access_ok(card, def->write))
    return VC_SW_SECURITY;
  if (cmd->lc < def->minlen || cmd->lc > def->maxlen)
    return VC_SW_WRONG_LENGTH;
  sw = def->put(card, def, cmd->data, cmd->lc);
  if (sw == VC_SW_OK)
    card->dirty = 1;
  return sw;
}
