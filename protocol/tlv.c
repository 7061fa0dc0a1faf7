/* tlv.c - BER-TLV data objects as ISO 7816-4 and the OpenPGP card use them */
#include <string.h>

#include "tlv.h"

#define TAG_MORE 0x1F        /* low bits of a first tag byte: more bytes follow */
#define TAG_CONT 0x80        /* bit 8 of a later tag byte: yet another follows */
#define TAG_CONSTRUCTED 0x20 /* bit 6 of the first tag byte */
#define MAX_TAG_BYTES 3
#define MAX_HEADER (MAX_TAG_BYTES + 3)

static int
is_padding(uint8_t b)
{
  return b == 0x00 || b == 0xFF;
}

/* Byte count of the raw tag TAG, or 0 if it cannot be one. */
static unsigned int
tag_size(unsigned int tag)
{
  if (!tag || tag > 0xFFFFFF)
    return 0;
  return tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;
}

/* Whether TAG is a tag the parser could have returned. */
static int
tag_valid(unsigned int tag)
{
  unsigned int n = tag_size(tag), i;
  uint8_t b;

  if (!n)
    return 0;
  b = (uint8_t)(tag >> (8 * (n - 1)));
  if (is_padding(b) || ((b & TAG_MORE) == TAG_MORE) != (n > 1))
    return 0;
  /* Every later byte but the last announces another. */
  for (i = n - 1; i-- > 0;)
    {
      b = (uint8_t)(tag >> (8 * i));
      if (((b & TAG_CONT) != 0) != (i > 0))
        return 0;
    }
  return 1;
}

static gpg_error_t
read_tag(const uint8_t *p, size_t left, struct tlv *out)
{
  unsigned int tag = p[0];
  size_t n = 1;

  out->cls = (enum tlv_class)(p[0] >> 6);
  out->constructed = (p[0] & TAG_CONSTRUCTED) != 0;
  if ((p[0] & TAG_MORE) == TAG_MORE)
    for (;;)
      {
        if (n == left)
          return gpg_error(GPG_ERR_TOO_SHORT);
        if (n == MAX_TAG_BYTES)
          return gpg_error(GPG_ERR_NOT_SUPPORTED);
        tag = tag << 8 | p[n];
        if (!(p[n++] & TAG_CONT))
          break;
      }
  out->tag = tag;
  out->hdrlen = n;
  return 0;
}

static gpg_error_t
read_length(const uint8_t *p, size_t left, struct tlv *out)
{
  size_t n, i;

  if (!left)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (p[0] < 0x80)
    {
      out->len = p[0];
      out->hdrlen += 1;
      return 0;
    }
  if (p[0] == 0x80 || p[0] > 0x84)
    return gpg_error(GPG_ERR_BAD_BER);
  if (p[0] > 0x82)
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  n = p[0] & 0x7F;
  if (left - 1 < n)
    return gpg_error(GPG_ERR_TOO_SHORT);
  out->len = 0;
  for (i = 1; i <= n; i++)
    out->len = out->len << 8 | p[i];
  out->hdrlen += 1 + n;
  return 0;
}

void
tlv_iter_init(struct tlv_iter *it, const uint8_t *buf, size_t len)
{
  memset(it, 0, sizeof *it);
  if (!buf && len)
    it->err = gpg_error(GPG_ERR_INV_VALUE);
  else
    {
      it->pos = buf;
      it->left = len;
    }
}

gpg_error_t
tlv_iter_next(struct tlv_iter *it, struct tlv *out)
{
  gpg_error_t err;

  memset(out, 0, sizeof *out);
  if (it->err)
    return it->err;
  while (it->left && is_padding(*it->pos))
    {
      it->pos++;
      it->left--;
    }
  if (!it->left)
    err = gpg_error(GPG_ERR_EOF);
  else if (!(err = read_tag(it->pos, it->left, out)))
    err = read_length(it->pos + out->hdrlen, it->left - out->hdrlen, out);
  if (!err && out->len > it->left - out->hdrlen)
    err = gpg_error(it->nested ? GPG_ERR_INV_LENGTH : GPG_ERR_TOO_SHORT);
  if (err)
    {
      memset(out, 0, sizeof *out);
      it->err = err;
      return err;
    }
  out->value = it->pos + out->hdrlen;
  out->depth = it->depth;
  it->pos += out->hdrlen + out->len;
  it->left -= out->hdrlen + out->len;
  return 0;
}

gpg_error_t
tlv_iter_enter(struct tlv_iter *child, const struct tlv *parent)
{
  gpg_error_t err = 0;

  memset(child, 0, sizeof *child);
  child->nested = 1;
  child->depth = parent->depth + 1;
  if (!parent->constructed || (!parent->value && parent->len))
    err = gpg_error(GPG_ERR_INV_VALUE);
  else if (parent->depth + 1 >= TLV_MAX_DEPTH)
    err = gpg_error(GPG_ERR_LIMIT_REACHED);
  else
    {
      child->pos = parent->value;
      child->left = parent->len;
    }
  child->err = err;
  return err;
}

static gpg_error_t
check_path(const unsigned int *path, size_t npath)
{
  size_t i;

  if (!path || !npath || npath > TLV_MAX_DEPTH)
    return gpg_error(GPG_ERR_INV_VALUE);
  for (i = 0; i < npath; i++)
    {
      if (!tag_valid(path[i]))
        return gpg_error(GPG_ERR_INV_VALUE);
      /* The constructed bit is part of the tag: a primitive tag on the
       * path could never be descended into. */
      if (i + 1 < npath
          && !((path[i] >> (8 * (tag_size(path[i]) - 1))) & TAG_CONSTRUCTED))
        return gpg_error(GPG_ERR_INV_VALUE);
    }
  return 0;
}

/* Advances IT to the first object tagged TAG. */
static gpg_error_t
find_at_level(struct tlv_iter *it, unsigned int tag, struct tlv *out)
{
  gpg_error_t err;

  while (!(err = tlv_iter_next(it, out)))
    if (out->tag == tag)
      return 0;
  return gpg_err_code(err) == GPG_ERR_EOF ? gpg_error(GPG_ERR_NOT_FOUND) : err;
}

gpg_error_t
tlv_find_path(const uint8_t *buf, size_t len, const unsigned int *path, size_t npath,
              struct tlv *out)
{
  struct tlv_iter it;
  struct tlv cur;
  gpg_error_t err;
  size_t level;

  memset(out, 0, sizeof *out);
  err = check_path(path, npath);
  if (err)
    return err;
  tlv_iter_init(&it, buf, len);
  for (level = 0;; level++)
    {
      err = find_at_level(&it, path[level], &cur);
      if (err || level + 1 == npath)
        break;
      err = tlv_iter_enter(&it, &cur);
      if (err)
        break;
    }
  if (!err)
    *out = cur;
  return err;
}

gpg_error_t
tlv_find(const uint8_t *buf, size_t len, unsigned int tag, struct tlv *out)
{
  return tlv_find_path(buf, len, &tag, 1, out);
}

/* Writes LEN in the shortest form to P (room for 3 bytes); returns the
 * byte count.  LEN is at most TLV_MAX_LEN. */
static size_t
write_length(uint8_t *p, size_t len)
{
  if (len < 0x80)
    {
      p[0] = (uint8_t)len;
      return 1;
    }
  if (len < 0x100)
    {
      p[0] = 0x81;
      p[1] = (uint8_t)len;
      return 2;
    }
  p[0] = 0x82;
  p[1] = (uint8_t)(len >> 8);
  p[2] = (uint8_t)len;
  return 3;
}

static void
builder_fail(struct tlv_builder *b, gpg_err_code_t code)
{
  if (!b->err)
    b->err = gpg_error(code);
}

void
tlv_builder_init(struct tlv_builder *b, uint8_t *buf, size_t size)
{
  memset(b, 0, sizeof *b);
  b->buf = buf;
  b->size = buf ? size : 0;
}

void
tlv_put_raw(struct tlv_builder *b, const void *data, size_t len)
{
  if (b->err || !len)
    return;
  if (!data)
    builder_fail(b, GPG_ERR_INV_VALUE);
  else if (len > b->size - b->len)
    builder_fail(b, GPG_ERR_BUFFER_TOO_SHORT);
  else
    {
      /* memmove: DATA may be an earlier part of the same buffer. */
      memmove(b->buf + b->len, data, len);
      b->len += len;
    }
}

static void
put_header(struct tlv_builder *b, unsigned int tag, size_t len)
{
  uint8_t hdr[MAX_HEADER];
  unsigned int n = tag_size(tag), i;

  if (b->err)
    return;
  if (!tag_valid(tag))
    {
      builder_fail(b, GPG_ERR_INV_VALUE);
      return;
    }
  if (len > TLV_MAX_LEN)
    {
      builder_fail(b, GPG_ERR_TOO_LARGE);
      return;
    }
  for (i = 0; i < n; i++)
    hdr[i] = (uint8_t)(tag >> (8 * (n - 1 - i)));
  tlv_put_raw(b, hdr, n + write_length(hdr + n, len));
}

void
tlv_put(struct tlv_builder *b, unsigned int tag, const void *value, size_t len)
{
  if (!value && len)
    builder_fail(b, GPG_ERR_INV_VALUE);
  put_header(b, tag, len);
  tlv_put_raw(b, value, len);
}

void
tlv_begin(struct tlv_builder *b, unsigned int tag)
{
  if (b->depth == TLV_MAX_DEPTH - 1)
    builder_fail(b, GPG_ERR_LIMIT_REACHED);
  /* A one-byte length for now; tlv_end widens it if need be. */
  put_header(b, tag, 0);
  if (!b->err)
    b->open[b->depth++] = b->len - 1;
}

void
tlv_end(struct tlv_builder *b)
{
  uint8_t lenbuf[3];
  size_t at, content, n;

  if (b->err)
    return;
  if (!b->depth)
    {
      builder_fail(b, GPG_ERR_INV_STATE);
      return;
    }
  at = b->open[--b->depth];
  content = b->len - at - 1;
  if (content > TLV_MAX_LEN)
    {
      builder_fail(b, GPG_ERR_TOO_LARGE);
      return;
    }
  n = write_length(lenbuf, content);
  if (n - 1 > b->size - b->len)
    {
      builder_fail(b, GPG_ERR_BUFFER_TOO_SHORT);
      return;
    }
  memmove(b->buf + at + n, b->buf + at + 1, content);
  memcpy(b->buf + at, lenbuf, n);
  b->len += n - 1;
}

gpg_error_t
tlv_builder_finish(const struct tlv_builder *b, size_t *outlen)
{
  *outlen = 0;
  if (b->err)
    return b->err;
  if (b->depth)
    return gpg_error(GPG_ERR_INV_STATE);
  *outlen = b->len;
  return 0;
}
