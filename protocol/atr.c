/* atr.c - ISO 7816-3 Answer To Reset parser */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "atr.h"

#if defined(__GNUC__) || defined(__clang__)
#define ATR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ATR_PRINTF(f, a)
#endif

/* ISO 7816-3 defaults for a card whose ATR says nothing. */
#define DEFAULT_TA1 0x11
#define DEFAULT_WI 10
#define DEFAULT_IFSC 32
#define DEFAULT_BWI 4
#define DEFAULT_CWI 13

/* Y nibble bits: which of TA, TB, TC, TD follow. */
#define Y_TD 0x8

struct parser
{
  const uint8_t *atr;
  size_t len;
  size_t pos; /* next byte to read */
  struct atr_info *info;
  struct atr_error *error;
  const struct atr_ibyte *tck_td; /* first TD naming T != 0, so a TCK is due */
};

typedef gpg_error_t (*apply_fn)(struct parser *p, const struct atr_ibyte *b);

/* ISO 7816-3 table 7, indexed by the high nibble of TA1; 0 is RFU. */
static const struct
{
  uint16_t fi;
  uint16_t fmax_khz;
} fi_table[16] = {
  { 372, 4000 },   { 372, 5000 },   { 558, 6000 },   { 744, 8000 },
  { 1116, 12000 }, { 1488, 16000 }, { 1860, 20000 }, { 0, 0 },
  { 0, 0 },        { 512, 5000 },   { 768, 7500 },   { 1024, 10000 },
  { 1536, 15000 }, { 2048, 20000 }, { 0, 0 },        { 0, 0 },
};

/* ISO 7816-3 table 8, indexed by the low nibble of TA1; 0 is RFU. */
static const uint8_t di_table[16] = {
  0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0,
};

/* Class indicator bits 3-1; only these combinations are defined. */
static const char *const class_names[8] = {
  NULL, "A", "B", "A and B", "C", NULL, "B and C", "A, B and C",
};

static const char *const clock_stop_names[4] = {
  "not supported",
  "state L",
  "state H",
  "no preference",
};

static const char kind_letters[4] = { 'A', 'B', 'C', 'D' };

static gpg_error_t fail(struct parser *p, gpg_err_code_t code, size_t offset,
                        const char *fmt, ...) ATR_PRINTF(4, 5);

static gpg_error_t
fail(struct parser *p, gpg_err_code_t code, size_t offset, const char *fmt, ...)
{
  va_list ap;

  if (p->error)
    {
      p->error->offset = offset;
      va_start(ap, fmt);
      vsnprintf(p->error->reason, sizeof p->error->reason, fmt, ap);
      va_end(ap);
    }
  return gpg_error(code);
}

/* Writes "TA3" for KIND and I into BUF (8 bytes). */
static const char *
ibyte_name(enum atr_kind kind, unsigned int i, char *buf)
{
  snprintf(buf, 8, "T%c%u", kind_letters[kind], i % 100);
  return buf;
}

/* Writes "TA3, TB3, TD3" for the bytes nibble Y announces into BUF. */
static void
list_announced(unsigned int y, unsigned int i, char *buf, size_t size)
{
  size_t used = 0;
  unsigned int k;
  char name[8];

  buf[0] = '\0';
  for (k = 0; k < 4; k++)
    if (y & (1u << k))
      {
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                         ibyte_name((enum atr_kind)k, i, name));
        if (n < 0 || (size_t)n >= size - used)
          return;
        used += (size_t)n;
      }
}

static unsigned int
count_bits4(unsigned int y)
{
  return (y & 1) + (y >> 1 & 1) + (y >> 2 & 1) + (y >> 3 & 1);
}

static gpg_error_t
apply_fi_di(struct parser *p, const struct atr_ibyte *b)
{
  struct atr_info *info = p->info;

  info->fi = fi_table[b->value >> 4].fi;
  info->fmax_khz = fi_table[b->value >> 4].fmax_khz;
  info->di = di_table[b->value & 0x0f];
  info->set |= ATR_SET_FI | ATR_SET_DI;
  return 0;
}

static gpg_error_t
apply_guard_time(struct parser *p, const struct atr_ibyte *b)
{
  p->info->guard_time_n = b->value;
  p->info->set |= ATR_SET_GUARD_TIME;
  return 0;
}

/* TA2: bit 8 = cannot change mode, bit 5 = implicit parameters, bits 4-1 = T. */
static gpg_error_t
apply_mode(struct parser *p, const struct atr_ibyte *b)
{
  struct atr_info *info = p->info;

  info->specific_mode = 1;
  info->specific_t = b->value & 0x0fu;
  info->implicit_params = !!(b->value & 0x10);
  info->mode_fixed = !!(b->value & 0x80);
  info->set |= ATR_SET_MODE;
  return 0;
}

static gpg_error_t
apply_wi(struct parser *p, const struct atr_ibyte *b)
{
  p->info->t0.wi = b->value;
  p->info->set |= ATR_SET_WI;
  return 0;
}

static gpg_error_t
apply_ifsc(struct parser *p, const struct atr_ibyte *b)
{
  char name[8];

  /* 00 and FF are reserved: a T=1 driver could not size its blocks. */
  if (b->value == 0x00 || b->value == 0xff)
    return fail(p, GPG_ERR_INV_VALUE, b->offset,
                "%s = %02X: IFSC for T=1 must be 01 to FE (1 to 254 bytes)",
                ibyte_name(b->kind, b->index, name), b->value);
  p->info->t1.ifsc = b->value;
  p->info->set |= ATR_SET_IFSC;
  return 0;
}

static gpg_error_t
apply_bwi_cwi(struct parser *p, const struct atr_ibyte *b)
{
  p->info->t1.bwi = b->value >> 4;
  p->info->t1.cwi = b->value & 0x0fu;
  p->info->set |= ATR_SET_BWI | ATR_SET_CWI;
  return 0;
}

static gpg_error_t
apply_edc(struct parser *p, const struct atr_ibyte *b)
{
  p->info->t1.edc = (b->value & 1) ? ATR_EDC_CRC : ATR_EDC_LRC;
  p->info->set |= ATR_SET_EDC;
  return 0;
}

static gpg_error_t
apply_clock_class(struct parser *p, const struct atr_ibyte *b)
{
  p->info->t15.clock_stop = (enum atr_clock_stop)(b->value >> 6);
  p->info->t15.classes = b->value & 0x3fu;
  p->info->set |= ATR_SET_CLOCK_STOP | ATR_SET_CLASSES;
  return 0;
}

static gpg_error_t
apply_spu(struct parser *p, const struct atr_ibyte *b)
{
  p->info->t15.spu = b->value;
  p->info->set |= ATR_SET_SPU;
  return 0;
}

/* What each meaning changes in atr_info; NULL: nothing to derive. */
static const apply_fn appliers[] = {
  [ATR_M_FI_DI] = apply_fi_di,
  [ATR_M_VPP] = NULL,
  [ATR_M_GUARD_TIME] = apply_guard_time,
  [ATR_M_MODE] = apply_mode,
  [ATR_M_WI] = apply_wi,
  [ATR_M_STRUCTURE] = NULL,
  [ATR_M_IFSC] = apply_ifsc,
  [ATR_M_BWI_CWI] = apply_bwi_cwi,
  [ATR_M_EDC] = apply_edc,
  [ATR_M_CLOCK_CLASS] = apply_clock_class,
  [ATR_M_SPU] = apply_spu,
  [ATR_M_OTHER] = NULL,
};

/* TAi..TCi for i > 2 mean something only as the first of their kind for
 * T=1 or T=15; the SET bit tells whether that first one was seen. */
static const struct
{
  int t;
  enum atr_kind kind;
  enum atr_meaning meaning;
  unsigned int first_flag;
} specific_meanings[] = {
  { 1, ATR_TA, ATR_M_IFSC, ATR_SET_IFSC },
  { 1, ATR_TB, ATR_M_BWI_CWI, ATR_SET_BWI },
  { 1, ATR_TC, ATR_M_EDC, ATR_SET_EDC },
  { 15, ATR_TA, ATR_M_CLOCK_CLASS, ATR_SET_CLOCK_STOP },
  { 15, ATR_TB, ATR_M_SPU, ATR_SET_SPU },
};

static enum atr_meaning
meaning_of(const struct atr_info *info, enum atr_kind kind, unsigned int i, int t)
{
  /* TA1..TC1 and TA2, TB2 are global; TC2 belongs to T=0. */
  static const enum atr_meaning first_two[2][3] = {
    { ATR_M_FI_DI, ATR_M_VPP, ATR_M_GUARD_TIME },
    { ATR_M_MODE, ATR_M_VPP, ATR_M_WI },
  };
  size_t k;

  if (kind == ATR_TD)
    return ATR_M_STRUCTURE;
  if (i <= 2)
    return first_two[i - 1][kind];
  for (k = 0; k < sizeof specific_meanings / sizeof specific_meanings[0]; k++)
    if (specific_meanings[k].t == t && specific_meanings[k].kind == kind
        && !(info->set & specific_meanings[k].first_flag))
      return specific_meanings[k].meaning;
  return ATR_M_OTHER;
}

/* Records the byte at P->pos as interface byte KIND with index I.  There
 * is room: parse_group keeps P->pos below ATR_MAX_LEN, so at most
 * ATR_MAX_IBYTES bytes sit between T0 and it. */
static gpg_error_t
take_ibyte(struct parser *p, enum atr_kind kind, unsigned int i, int t)
{
  struct atr_info *info = p->info;
  struct atr_ibyte *b = &info->ibytes[info->n_ibytes];
  apply_fn apply;

  b->kind = kind;
  b->index = i;
  b->t = t;
  b->meaning = meaning_of(info, kind, i, t);
  b->value = p->atr[p->pos];
  b->offset = p->pos;
  info->n_ibytes++;
  p->pos++;
  apply = appliers[b->meaning];
  return apply ? apply(p, b) : 0;
}

/* Reads the group of interface bytes with index I that WHO (T0 or the
 * preceding TD) announces in nibble Y; T is the protocol WHO named. */
static gpg_error_t
parse_group(struct parser *p, unsigned int y, unsigned int i, int t, const char *who)
{
  unsigned int count = count_bits4(y), k;
  char list[32];
  gpg_error_t err;

  list_announced(y, i, list, sizeof list);
  if (p->pos + count > ATR_MAX_LEN)
    return fail(p, GPG_ERR_INV_LENGTH, ATR_MAX_LEN,
                "%s says %s follow%s, which would make the ATR longer than "
                "the %d bytes ISO 7816-3 allows",
                who, list, count == 1 ? "s" : "", ATR_MAX_LEN);
  if (p->pos + count > p->len)
    return fail(p, GPG_ERR_TOO_SHORT, p->len,
                "%s says %s follow%s but the ATR ends after %zu bytes", who, list,
                count == 1 ? "s" : "", p->len);
  for (k = 0; k < 4; k++)
    if (y & (1u << k))
      {
        err = take_ibyte(p, (enum atr_kind)k, i, t);
        if (err)
          return err;
      }
  return 0;
}

/* Notes the protocol that TD names. */
static gpg_error_t
note_protocol(struct parser *p, const struct atr_ibyte *td)
{
  struct atr_info *info = p->info;
  unsigned int t = td->value & 0x0fu;
  size_t k;

  if (t != 0 && !p->tck_td)
    p->tck_td = td;
  if (t == 15 && td->index == 1)
    return fail(p, GPG_ERR_INV_VALUE, td->offset,
                "TD1 = %02X names T=15, but TD1 must name the first protocol "
                "offered; T=15 may only follow it",
                td->value);
  if (t == 15)
    {
      info->has_t15 = 1;
      return 0;
    }
  for (k = 0; k < info->n_protocols; k++)
    if (info->protocols[k] == t)
      return 0;
  info->protocols[info->n_protocols++] = (uint8_t)t;
  return 0;
}

/* Walks T0 and the TDi chain.  The loop ends: every TD read moves P->pos on,
 * and parse_group stops at ATR_MAX_LEN. */
static gpg_error_t
parse_interface(struct parser *p)
{
  unsigned int y = p->atr[1] >> 4, i;
  int t = -1;
  char who[16];
  gpg_error_t err;
  const struct atr_ibyte *td;

  snprintf(who, sizeof who, "T0 = %02X", p->atr[1]);
  p->pos = 2;
  for (i = 1;; i++)
    {
      err = parse_group(p, y, i, t, who);
      if (err || !(y & Y_TD))
        return err;
      td = &p->info->ibytes[p->info->n_ibytes - 1];
      err = note_protocol(p, td);
      if (err)
        return err;
      y = td->value >> 4;
      t = td->value & 0x0f;
      snprintf(who, sizeof who, "TD%u = %02X", i % 100, td->value);
    }
}

/* Checks that the XOR of T0 up to and including TCK is zero. */
static gpg_error_t
check_tck(struct parser *p)
{
  uint8_t x = 0;
  size_t k;

  for (k = 1; k < p->len; k++)
    x ^= p->atr[k];
  if (x)
    return fail(p, GPG_ERR_CHECKSUM, p->len - 1, "TCK is %02X, expected %02X",
                p->atr[p->len - 1], (uint8_t)(p->atr[p->len - 1] ^ x));
  return 0;
}

/* The ATR stops after its historical bytes though a TD named T != 0. */
static gpg_error_t
missing_tck(struct parser *p)
{
  const struct atr_ibyte *td = p->tck_td;

  return fail(p, GPG_ERR_TOO_SHORT, p->len,
              "TD%u = %02X offers T=%u, so a TCK must end the ATR, but the ATR "
              "ends after the historical bytes (%zu bytes)",
              td->index, td->value, td->value & 0x0fu, p->len);
}

/* Historical bytes, TCK and the end of the ATR. */
static gpg_error_t
parse_tail(struct parser *p)
{
  unsigned int k = p->atr[1] & 0x0fu;
  size_t tck = p->tck_td ? 1 : 0;
  size_t end = p->pos + k + tck;

  if (end > ATR_MAX_LEN)
    return fail(p, GPG_ERR_INV_LENGTH, ATR_MAX_LEN,
                "T0 = %02X says K = %u historical bytes%s, which would make the "
                "ATR %zu bytes long; ISO 7816-3 allows %d",
                p->atr[1], k, tck ? " and a TCK follows" : "", end, ATR_MAX_LEN);
  if (p->len < p->pos + k)
    return fail(p, GPG_ERR_TOO_SHORT, p->len,
                "T0 = %02X says K = %u historical bytes but the ATR ends after "
                "%zu of them (%zu bytes in all)",
                p->atr[1], k, p->len - p->pos, p->len);
  if (p->len < end)
    return missing_tck(p);
  if (p->len > end)
    return fail(p, GPG_ERR_INV_LENGTH, end,
                "extra bytes: the ATR should end after %zu bytes (%s) but has %zu", end,
                tck ? "with its TCK" : "only T=0 is offered, so no TCK", p->len);
  p->info->hist_offset = p->pos;
  p->info->hist_len = k;
  p->info->has_tck = tck != 0;
  return tck ? check_tck(p) : 0;
}

static void
set_defaults(struct atr_info *info)
{
  info->fi = fi_table[DEFAULT_TA1 >> 4].fi;
  info->fmax_khz = fi_table[DEFAULT_TA1 >> 4].fmax_khz;
  info->di = di_table[DEFAULT_TA1 & 0x0f];
  info->t0.wi = DEFAULT_WI;
  info->t1.ifsc = DEFAULT_IFSC;
  info->t1.bwi = DEFAULT_BWI;
  info->t1.cwi = DEFAULT_CWI;
  info->t1.edc = ATR_EDC_LRC;
  info->t15.clock_stop = ATR_CLOCK_STOP_NO;
  info->t15.classes = ATR_CLASS_A;
}

/* TS and the presence of T0. */
static gpg_error_t
parse_ts(struct parser *p)
{
  if (!p->len)
    return fail(p, GPG_ERR_TOO_SHORT, 0, "the ATR is empty");
  if (p->atr[0] == 0x3b)
    p->info->convention = ATR_CONV_DIRECT;
  else if (p->atr[0] == 0x3f)
    p->info->convention = ATR_CONV_INVERSE;
  else if (p->atr[0] == 0x03)
    /* 3F sent in inverse convention but read as direct convention. */
    return fail(p, GPG_ERR_INV_VALUE, 0,
                "TS is 03: an inverse-convention ATR read as direct convention "
                "(TS must be 3B or 3F)");
  else
    return fail(p, GPG_ERR_INV_VALUE, 0,
                "TS is %02X, not 3B (direct convention) or 3F (inverse convention)",
                p->atr[0]);
  if (p->len < 2)
    return fail(p, GPG_ERR_TOO_SHORT, 1, "the ATR ends after TS; T0 is missing");
  return 0;
}

gpg_error_t
atr_parse(const uint8_t *atr, size_t len, struct atr_info *info, struct atr_error *error)
{
  struct parser p = { .atr = atr, .len = len, .info = info, .error = error };
  gpg_error_t err;

  memset(info, 0, sizeof *info);
  if (error)
    {
      error->offset = 0;
      error->reason[0] = '\0';
    }
  set_defaults(info);
  err = parse_ts(&p);
  if (!err)
    err = parse_interface(&p);
  if (!err)
    err = parse_tail(&p);
  if (err)
    {
      memset(info, 0, sizeof *info);
      return err;
    }
  /* Without TD1 the card offers T=0 alone (ISO 7816-3, 8.2.3). */
  if (!info->n_protocols)
    info->protocols[info->n_protocols++] = 0;
  memcpy(info->bytes, atr, len);
  info->len = len;
  return 0;
}

int
atr_offers(const struct atr_info *info, unsigned int t)
{
  size_t k;

  for (k = 0; k < info->n_protocols && k < ATR_MAX_PROTOCOLS; k++)
    if (info->protocols[k] == t)
      return 1;
  return 0;
}

const struct atr_ibyte *
atr_find(const struct atr_info *info, enum atr_kind kind, unsigned int i)
{
  size_t k;

  for (k = 0; k < info->n_ibytes && k < ATR_MAX_IBYTES; k++)
    if (info->ibytes[k].kind == kind && info->ibytes[k].index == i)
      return &info->ibytes[k];
  return NULL;
}

const char *
atr_classes_name(unsigned int classes)
{
  if (classes & ~0x07u)
    return NULL;
  return class_names[classes];
}

const char *
atr_clock_stop_name(enum atr_clock_stop clock_stop)
{
  if ((unsigned int)clock_stop >= sizeof clock_stop_names / sizeof clock_stop_names[0])
    return "?";
  return clock_stop_names[clock_stop];
}
