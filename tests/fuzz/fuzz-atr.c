/* fuzz-atr.c - atr_parse on arbitrary bytes, with its invariants checked
 *
 * A parsed ATR must re-encode to the very input: T0 and every TD rebuilt
 * from the interface bytes found, the historical bytes, and a TCK computed
 * afresh.  Every offset must lie inside the input; a rejected ATR must come
 * with a reason and leave nothing behind.
 */
#include <stdlib.h>
#include <string.h>

#include "atr.h"
#include "fuzz.h"

/* The Y nibble the bytes with index I of INFO imply. */
static unsigned int
y_of_group(const struct atr_info *info, unsigned int i)
{
  unsigned int y = 0;
  size_t k;

  for (k = 0; k < info->n_ibytes; k++)
    if (info->ibytes[k].index == i)
      y |= 1u << info->ibytes[k].kind;
  return y;
}

/* Writes the ATR INFO describes into OUT; returns its length. */
static size_t
reencode(const struct atr_info *info, uint8_t *out)
{
  size_t n = 0, k;
  uint8_t x = 0;

  out[n++] = info->convention == ATR_CONV_INVERSE ? 0x3f : 0x3b;
  out[n++] = (uint8_t)(y_of_group(info, 1) << 4 | info->hist_len);
  for (k = 0; k < info->n_ibytes; k++)
    {
      const struct atr_ibyte *b = &info->ibytes[k];

      if (b->kind == ATR_TD)
        out[n++] = (uint8_t)(y_of_group(info, b->index + 1) << 4 | (b->value & 0x0f));
      else
        out[n++] = b->value;
    }
  memcpy(out + n, info->bytes + info->hist_offset, info->hist_len);
  n += info->hist_len;
  if (info->has_tck)
    {
      for (k = 1; k < n; k++)
        x ^= out[k];
      out[n++] = x;
    }
  return n;
}

static void
check_ibytes(const struct atr_info *info, size_t size)
{
  size_t k;
  int any_t_not_0 = 0;

  if (info->n_ibytes > ATR_MAX_IBYTES || info->hist_offset != 2 + info->n_ibytes)
    abort();
  for (k = 0; k < info->n_ibytes; k++)
    {
      const struct atr_ibyte *b = &info->ibytes[k];

      if (b->offset != 2 + k || b->offset >= size || info->bytes[b->offset] != b->value)
        abort();
      if (atr_find(info, b->kind, b->index) != b)
        abort();
      if (b->kind == ATR_TD && (b->value & 0x0f))
        any_t_not_0 = 1;
      if (b->kind == ATR_TD && !atr_offers(info, b->value & 0x0fu)
          && (b->value & 0x0f) != 15)
        abort();
    }
  if (info->has_tck != any_t_not_0)
    abort();
}

static void
check_protocols(const struct atr_info *info)
{
  size_t k, j;

  if (!info->n_protocols || info->n_protocols > ATR_MAX_PROTOCOLS)
    abort();
  if (!atr_find(info, ATR_TD, 1) && (info->n_protocols != 1 || info->protocols[0] != 0))
    abort();
  for (k = 0; k < info->n_protocols; k++)
    {
      if (info->protocols[k] >= 15 || !atr_offers(info, info->protocols[k]))
        abort();
      for (j = 0; j < k; j++)
        if (info->protocols[j] == info->protocols[k])
          abort();
    }
}

static void
check_values(const struct atr_info *info)
{
  if (!(info->set & ATR_SET_FI) && (info->fi != 372 || info->fmax_khz != 5000))
    abort();
  if (!(info->set & ATR_SET_DI) && info->di != 1)
    abort();
  if ((info->fi == 0) != (info->fmax_khz == 0) || info->fi > 2048 || info->di > 64)
    abort();
  if (info->t1.ifsc < 1 || info->t1.ifsc > 254 || info->t1.bwi > 15 || info->t1.cwi > 15
      || info->guard_time_n > 255 || info->t0.wi > 255)
    abort();
  if ((unsigned int)info->t15.clock_stop > 3 || info->t15.classes > 0x3f)
    abort();
  if (strcmp(atr_clock_stop_name(info->t15.clock_stop), "?") == 0)
    abort();
  /* Named: A, B, AB, C, BC, ABC; everything else is RFU. */
  if ((atr_classes_name(info->t15.classes) != NULL)
      != (info->t15.classes <= 7 && info->t15.classes != 0 && info->t15.classes != 5))
    abort();
}

static void
check_success(const struct atr_info *info, const uint8_t *data, size_t size)
{
  uint8_t again[ATR_MAX_LEN + 1];

  if (size > ATR_MAX_LEN || info->len != size || memcmp(info->bytes, data, size))
    abort();
  if (info->hist_offset + info->hist_len + (info->has_tck ? 1 : 0) != size)
    abort();
  check_ibytes(info, size);
  check_protocols(info);
  check_values(info);
  if (reencode(info, again) != size || memcmp(again, data, size))
    abort();
}

static void
check_failure(const struct atr_info *info, const struct atr_error *e, size_t size)
{
  static const struct atr_info zero;

  if (memcmp(info, &zero, sizeof zero))
    abort();
  if (!e->reason[0] || !memchr(e->reason, 0, sizeof e->reason))
    abort();
  if (e->offset > size && e->offset > ATR_MAX_LEN)
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct atr_info info, info2;
  struct atr_error e;
  gpg_error_t err;

  err = atr_parse(data, size, &info, &e);
  if (err)
    check_failure(&info, &e, size);
  else
    check_success(&info, data, size);
  /* The error report is optional and must not change the verdict. */
  if (atr_parse(data, size, &info2, NULL) != err)
    abort();
  return 0;
}
