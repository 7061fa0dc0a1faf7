/* fuzz-tlv.c - BER-TLV walk, path search and rebuild against any input
 *
 * Every object of the input is visited, level by level; each must lie
 * inside its container, and tlv_find_path must find the first object of
 * each path.  The walk feeds a builder: if the input parsed cleanly, the
 * rebuilt bytes are no longer than the input, equal to it when the input
 * was minimal (no padding, shortest lengths), and rebuilding them again
 * changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlv.h"

/* find_path checks per input, and distinct tags tracked per level. */
#define MAX_FIND_CHECKS 64
#define MAX_SEEN 32

struct walk
{
  const uint8_t *start; /* the walked buffer */
  size_t size;
  struct tlv_builder builder;
  unsigned int path[TLV_MAX_DEPTH];
  int minimal; /* no padding seen, every length in its shortest form */
  unsigned int finds;
};

static size_t
tag_bytes(unsigned int tag)
{
  return tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;
}

static size_t
length_bytes(size_t len)
{
  return len < 0x80 ? 1 : len < 0x100 ? 2 : 3;
}

/* Whether TAG is new among the SEEN tags of one level; 0 if unsure. */
static int
first_of_tag(unsigned int *seen, size_t *nseen, unsigned int tag)
{
  size_t i;

  for (i = 0; i < *nseen && i < MAX_SEEN; i++)
    if (seen[i] == tag)
      return 0;
  if (*nseen >= MAX_SEEN)
    return 0;
  seen[(*nseen)++] = tag;
  return 1;
}

static void
check_object(struct walk *w, const struct tlv *t, const uint8_t *from, const uint8_t *to,
             unsigned int depth)
{
  const uint8_t *obj;
  unsigned int first;

  if (!t->value || t->value < from || t->value > to || t->len > (size_t)(to - t->value)
      || t->hdrlen > (size_t)(t->value - from))
    abort();
  obj = t->value - t->hdrlen;
  first = obj[0];
  if (t->depth != depth || t->hdrlen < 2 || t->hdrlen > 6)
    abort();
  if (t->constructed != !!(first & 0x20) || (unsigned int)t->cls != first >> 6)
    abort();
  if (t->tag >> (8 * (tag_bytes(t->tag) - 1)) != first || first == 0 || first == 0xFF)
    abort();
  if (t->hdrlen != tag_bytes(t->tag) + length_bytes(t->len))
    w->minimal = 0;
}

/* The first object at path PATH[0..DEPTH] must be T. */
static void
check_find(struct walk *w, const struct tlv *t, unsigned int depth)
{
  struct tlv found;

  if (w->finds++ >= MAX_FIND_CHECKS)
    return;
  if (tlv_find_path(w->start, w->size, w->path, depth + 1, &found))
    abort();
  if (found.value != t->value || found.len != t->len || found.tag != t->tag
      || found.depth != depth)
    abort();
}

/* Walks one level; returns 0 if all of it parsed. */
static gpg_error_t
walk_level(struct walk *w, struct tlv_iter *it, const uint8_t *from, const uint8_t *to,
           unsigned int depth, int first_path)
{
  gpg_error_t err;
  struct tlv t;
  unsigned int seen[MAX_SEEN];
  size_t nseen = 0, covered = 0;

  while (!(err = tlv_iter_next(it, &t)))
    {
      int first = first_of_tag(seen, &nseen, t.tag) && first_path;

      check_object(w, &t, from, to, depth);
      covered += t.hdrlen + t.len;
      w->path[depth] = t.tag;
      if (first)
        check_find(w, &t, depth);
      if (t.constructed && depth + 1 < TLV_MAX_DEPTH)
        {
          struct tlv_iter child;

          if (tlv_iter_enter(&child, &t))
            abort();
          tlv_begin(&w->builder, t.tag);
          err = walk_level(w, &child, t.value, t.value + t.len, depth + 1, first);
          tlv_end(&w->builder);
          if (err)
            return err;
        }
      else
        tlv_put(&w->builder, t.tag, t.value, t.len);
    }
  if (gpg_err_code(err) != GPG_ERR_EOF)
    return err;
  if (covered != (size_t)(to - from))
    w->minimal = 0;
  return 0;
}

/* Walks BUF and rebuilds it into OUT (room for SIZE bytes). */
static gpg_error_t
walk(struct walk *w, const uint8_t *buf, size_t size, uint8_t *out, size_t *outlen)
{
  struct tlv_iter it;
  gpg_error_t err;

  memset(w, 0, sizeof *w);
  w->start = buf;
  w->size = size;
  w->minimal = 1;
  tlv_builder_init(&w->builder, out, size);
  tlv_iter_init(&it, buf, size);
  err = walk_level(w, &it, buf, buf + size, 0, 1);
  if (!err && tlv_builder_finish(&w->builder, outlen))
    abort(); /* never longer than the input */
  return err;
}

/* Paths the OpenPGP application will ask for, on any input. */
static void
fixed_paths(const uint8_t *data, size_t size)
{
  static const unsigned int paths[][3] = {
    { 0x6E, 0x73, 0xC5 }, { 0x6E, 0x73, 0xC0 }, { 0x65, 0x5B, 0 },
    { 0x7F49, 0x86, 0 },  { 0x7A, 0x93, 0 },    { 0x6E, 0x4F, 0 },
  };
  static const size_t lens[] = { 3, 3, 2, 2, 2, 2 };
  struct tlv t;
  size_t i;

  for (i = 0; i < sizeof lens / sizeof lens[0]; i++)
    if (!tlv_find_path(data, size, paths[i], lens[i], &t))
      {
        if (t.value < data || t.len > size || t.value + t.len > data + size)
          abort();
        if (t.tag != paths[i][lens[i] - 1] || t.depth != lens[i] - 1)
          abort();
      }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct walk w;
  uint8_t *out, *again;
  size_t outlen = 0, againlen = 0;

  fixed_paths(data, size);
  out = malloc(size ? size : 1);
  again = malloc(size ? size : 1);
  if (!out || !again)
    abort();
  if (!walk(&w, data, size, out, &outlen))
    {
      if (w.minimal && (outlen != size || memcmp(out, data, size)))
        abort();
      /* What the builder wrote parses, is minimal, and rebuilds to itself. */
      if (walk(&w, out, outlen, again, &againlen) || !w.minimal)
        abort();
      if (againlen != outlen || memcmp(again, out, outlen))
        abort();
    }
  free(again);
  free(out);
  return 0;
}
