/* test-tlv.c - BER-TLV iteration, path search and building */
#include "check.h"
#include "tlv.h"

#define B(s) ((const uint8_t *)(s))

/* The error the first tlv_iter_next on the LEN bytes at BUF returns. */
static gpg_error_t
first_error(const char *buf, size_t len)
{
  struct tlv_iter it;
  struct tlv t;

  tlv_iter_init(&it, B(buf), len);
  return tlv_iter_next(&it, &t);
}

static void
test_iter_basic(void)
{
  static const uint8_t buf[]
      = { 0x4F, 0x02, 0xAA, 0xBB, 0x5F, 0x50, 0x00, 0xC5, 0x01, 0x07 };
  struct tlv_iter it;
  struct tlv t;

  tlv_iter_init(&it, buf, sizeof buf);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x4F);
  CHECK_INT(t.cls, TLV_CLASS_APPLICATION);
  CHECK_INT(t.constructed, 0);
  CHECK(t.value == buf + 2);
  CHECK_INT(t.len, 2);
  CHECK_INT(t.hdrlen, 2);
  CHECK_INT(t.depth, 0);

  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x5F50);
  CHECK_INT(t.cls, TLV_CLASS_APPLICATION);
  CHECK(t.value == buf + 7);
  CHECK_INT(t.len, 0);
  CHECK_INT(t.hdrlen, 3);

  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0xC5);
  CHECK_INT(t.cls, TLV_CLASS_PRIVATE);
  CHECK_MEM(t.value, t.len, "\x07", 1);

  /* The end is sticky, and leaves *OUT cleared. */
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_EOF);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_EOF);
  CHECK(t.value == NULL);
  CHECK_INT(t.tag, 0);
}

static void
test_iter_empty(void)
{
  struct tlv_iter it;
  struct tlv t;

  CHECK_ERR(first_error("", 0), GPG_ERR_EOF);
  tlv_iter_init(&it, NULL, 0);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_EOF);
  tlv_iter_init(&it, NULL, 4);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_INV_VALUE);
}

static void
test_classes(void)
{
  struct tlv_iter it;
  struct tlv t;

  tlv_iter_init(&it, B("\x30\x00\x80\x00\x6E\x00\xFF\xE1\x00"), 9);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.cls, TLV_CLASS_UNIVERSAL);
  CHECK_INT(t.constructed, 1);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.cls, TLV_CLASS_CONTEXT);
  CHECK_INT(t.constructed, 0);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x6E);
  CHECK_INT(t.cls, TLV_CLASS_APPLICATION);
  CHECK_INT(t.constructed, 1);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0xE1);
  CHECK_INT(t.cls, TLV_CLASS_PRIVATE);
  CHECK_INT(t.constructed, 1);
}

static void
test_tags(void)
{
  struct tlv_iter it;
  struct tlv t;

  /* Three bytes: the second announces the third. */
  tlv_iter_init(&it, B("\x9F\x81\x02\x01\x55"), 5);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x9F8102);
  CHECK_INT(t.hdrlen, 4);
  CHECK_MEM(t.value, t.len, "\x55", 1);
  /* EMV-style second byte below 1F, and 7F49 with constructed bit. */
  tlv_iter_init(&it, B("\x9F\x02\x00\x7F\x49\x00"), 6);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x9F02);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x7F49);
  CHECK_INT(t.constructed, 1);

  /* Four bytes and more: not supported, whatever follows. */
  CHECK_ERR(first_error("\x9F\x81\x82\x03\x00", 5), GPG_ERR_NOT_SUPPORTED);
  CHECK_ERR(first_error("\x5F\xFF\xFF\xFF\xFF\x01\x00", 7), GPG_ERR_NOT_SUPPORTED);
  /* Truncated tags. */
  CHECK_ERR(first_error("\x5F", 1), GPG_ERR_TOO_SHORT);
  CHECK_ERR(first_error("\x9F\x81", 2), GPG_ERR_TOO_SHORT);
  CHECK_ERR(first_error("\x4F", 1), GPG_ERR_TOO_SHORT);
  CHECK_ERR(first_error("\x5F\x50", 2), GPG_ERR_TOO_SHORT);
}

static void
test_lengths(void)
{
  static uint8_t big[4 + 0x1234];
  struct tlv_iter it;
  struct tlv t;

  /* 81 XX, minimal and not. */
  tlv_iter_init(&it, B("\x04\x81\x01\xAA"), 4);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.len, 1);
  CHECK_INT(t.hdrlen, 3);
  CHECK_MEM(t.value, t.len, "\xAA", 1);
  /* 82 XX XX with a short value (BER allows it). */
  tlv_iter_init(&it, B("\x04\x82\x00\x02\xAA\xBB"), 6);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.len, 2);
  CHECK_INT(t.hdrlen, 4);
  /* A real two-byte length, and the same one byte short. */
  big[0] = 0x04;
  big[1] = 0x82;
  big[2] = 0x12;
  big[3] = 0x34;
  tlv_iter_init(&it, big, sizeof big);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.len, 0x1234);
  CHECK(t.value == big + 4);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_EOF);
  tlv_iter_init(&it, big, sizeof big - 1);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_TOO_SHORT);

  /* Forms this module refuses. */
  CHECK_ERR(first_error("\x04\x80\x00\x00", 4), GPG_ERR_BAD_BER);
  CHECK_ERR(first_error("\x04\x83\x00\x00\x01\xAA", 6), GPG_ERR_NOT_SUPPORTED);
  CHECK_ERR(first_error("\x04\x84\x00\x00\x00\x01\xAA", 7), GPG_ERR_NOT_SUPPORTED);
  CHECK_ERR(first_error("\x04\x85\x00\x00\x00\x00\x01\xAA", 8), GPG_ERR_BAD_BER);
  CHECK_ERR(first_error("\x04\xFF", 2), GPG_ERR_BAD_BER);
  /* Truncated lengths. */
  CHECK_ERR(first_error("\x04\x81", 2), GPG_ERR_TOO_SHORT);
  CHECK_ERR(first_error("\x04\x82\x01", 3), GPG_ERR_TOO_SHORT);
  /* Values that run past the buffer, by one byte and by a lot. */
  CHECK_ERR(first_error("\x04\x03\xAA\xBB", 4), GPG_ERR_TOO_SHORT);
  CHECK_ERR(first_error("\x04\x81\x02\xAA", 4), GPG_ERR_TOO_SHORT);
  CHECK_ERR(first_error("\x04\x82\xFF\xFF\xAA", 5), GPG_ERR_TOO_SHORT);
  CHECK_ERR(first_error("\x04\x7F", 2), GPG_ERR_TOO_SHORT);
}

static void
test_padding(void)
{
  static const uint8_t buf[] = { 0x00, 0xFF, 0x4F, 0x01, 0xAA, 0x00, 0x00, 0x6E,
                                 0x05, 0xFF, 0x80, 0x01, 0xBB, 0x00, 0xFF };
  struct tlv_iter it, in;
  struct tlv t, c;

  tlv_iter_init(&it, buf, sizeof buf);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x4F);
  CHECK(t.value == buf + 4);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.tag, 0x6E);
  /* Padding inside a constructed value too. */
  CHECK_OK(tlv_iter_enter(&in, &t));
  CHECK_OK(tlv_iter_next(&in, &c));
  CHECK_INT(c.tag, 0x80);
  CHECK_INT(c.depth, 1);
  CHECK(c.value == buf + 12);
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_EOF);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_EOF);

  CHECK_ERR(first_error("\x00\xFF\x00", 3), GPG_ERR_EOF);
  /* Padding ends a value early: a length byte of 00 is not skipped. */
  tlv_iter_init(&it, B("\x4F\x00\x00"), 3);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_INT(t.len, 0);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_EOF);
}

static void
test_nested_lies(void)
{
  struct tlv_iter it, in;
  struct tlv t, c;

  /* The child claims one byte more than its parent holds. */
  tlv_iter_init(&it, B("\x6E\x04\x4F\x03\xAA\xBB"), 6);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_OK(tlv_iter_enter(&in, &t));
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_INV_LENGTH);
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_INV_LENGTH);
  /* The parent claims one byte less than its child needs; the child's
   * bytes beyond it then make no object at the top level. */
  tlv_iter_init(&it, B("\x73\x02\xC5\x02\xAA\x05"), 6);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_OK(tlv_iter_enter(&in, &t));
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_INV_LENGTH);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_TOO_SHORT);
  /* A child's header cut by its parent's end. */
  tlv_iter_init(&it, B("\x73\x02\xC5\x81\x01\xAA"), 6);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_OK(tlv_iter_enter(&in, &t));
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_TOO_SHORT);
  tlv_iter_init(&it, B("\x73\x01\x5F\x50\x00"), 5);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_OK(tlv_iter_enter(&in, &t));
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_TOO_SHORT);
}

static void
test_enter_errors(void)
{
  struct tlv_iter it, in;
  struct tlv t, c;

  tlv_iter_init(&it, B("\x4F\x02\x80\x00"), 4);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_ERR(tlv_iter_enter(&in, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_INV_VALUE);
  /* A forged parent with a length but no value. */
  memset(&t, 0, sizeof t);
  t.constructed = 1;
  t.len = 3;
  CHECK_ERR(tlv_iter_enter(&in, &t), GPG_ERR_INV_VALUE);
  /* An empty constructed object is fine. */
  tlv_iter_init(&it, B("\x6E\x00"), 2);
  CHECK_OK(tlv_iter_next(&it, &t));
  CHECK_OK(tlv_iter_enter(&in, &t));
  CHECK_ERR(tlv_iter_next(&in, &c), GPG_ERR_EOF);
}

/* 20 levels of 61 ( 61 ( ... 61 00 ) ): objects down to depth
 * TLV_MAX_DEPTH - 1 are reached, deeper ones refused. */
static void
test_depth_bound(void)
{
  enum
  {
    LEVELS = 20
  };
  uint8_t buf[2 * LEVELS];
  struct tlv_iter it;
  struct tlv t;
  unsigned int i, reached = 0;
  gpg_error_t err = 0;

  for (i = 0; i < LEVELS; i++)
    {
      buf[2 * i] = 0x61;
      buf[2 * i + 1] = (uint8_t)(2 * (LEVELS - 1 - i));
    }
  tlv_iter_init(&it, buf, sizeof buf);
  for (i = 0; i < LEVELS && !err; i++)
    {
      err = tlv_iter_next(&it, &t);
      if (err)
        break;
      CHECK_INT(t.depth, i);
      reached = i;
      err = tlv_iter_enter(&it, &t);
    }
  CHECK_ERR(err, GPG_ERR_LIMIT_REACHED);
  CHECK_INT(reached, TLV_MAX_DEPTH - 1);
  CHECK_ERR(tlv_iter_next(&it, &t), GPG_ERR_LIMIT_REACHED);
}

/* An OpenPGP card's Application Related Data (DO 6E), shortened. */
static const uint8_t ard[] = {
  0x6E, 0x1D,                         /* */
  0x4F, 0x03, 0xD2, 0x76, 0x00,       /* AID */
  0x5F, 0x52, 0x02, 0x00, 0x73,       /* historical bytes */
  0x73, 0x11,                         /* discretionary DOs */
  0xC0, 0x01, 0x7F,                   /* */
  0xC1, 0x01, 0x01,                   /* */
  0xC5, 0x04, 0x11, 0x22, 0x33, 0x44, /* fingerprints */
  0x00, 0x00,                         /* padding */
  0xC5, 0x01, 0x99,                   /* a second C5 */
  0x00, 0xFF,                         /* */
};

static void
test_find_path(void)
{
  static const unsigned int p_c5[] = { 0x6E, 0x73, 0xC5 };
  static const unsigned int p_5f52[] = { 0x6E, 0x5F52 };
  static const unsigned int p_skip[] = { 0x6E, 0xC5 };
  static const unsigned int p_73[] = { 0x6E, 0x73 };
  struct tlv t;

  CHECK_OK(tlv_find_path(ard, sizeof ard, p_c5, 3, &t));
  CHECK_INT(t.tag, 0xC5);
  CHECK_INT(t.depth, 2);
  /* The first match wins. */
  CHECK_MEM(t.value, t.len, "\x11\x22\x33\x44", 4);
  CHECK(t.value == ard + 22);
  CHECK_OK(tlv_find_path(ard, sizeof ard, p_5f52, 2, &t));
  CHECK_MEM(t.value, t.len, "\x00\x73", 2);
  CHECK_OK(tlv_find_path(ard, sizeof ard, p_73, 2, &t));
  CHECK_INT(t.len, 0x11);
  CHECK_INT(t.constructed, 1);
  CHECK_OK(tlv_find(ard, sizeof ard, 0x6E, &t));
  CHECK_INT(t.len, 0x1D);
  CHECK(t.value == ard + 2);
  /* Only the levels the path names are searched. */
  CHECK_ERR(tlv_find(ard, sizeof ard, 0xC5, &t), GPG_ERR_NOT_FOUND);
  CHECK(t.value == NULL);
  CHECK_ERR(tlv_find_path(ard, sizeof ard, p_skip, 2, &t), GPG_ERR_NOT_FOUND);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0x4F, &t), GPG_ERR_NOT_FOUND);
  CHECK_ERR(tlv_find(NULL, 0, 0x4F, &t), GPG_ERR_NOT_FOUND);
}

static void
test_find_path_errors(void)
{
  static const unsigned int p_c5[] = { 0x6E, 0x73, 0xC5 };
  static const unsigned int prim[] = { 0x4F, 0xC5 };
  static const unsigned int prim2[] = { 0x5F50, 0xC5 };
  unsigned int deep[TLV_MAX_DEPTH + 1];
  struct tlv t;
  size_t i;

  CHECK_ERR(tlv_find_path(ard, sizeof ard, p_c5, 0, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find_path(ard, sizeof ard, NULL, 1, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find_path(ard, sizeof ard, prim, 2, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find_path(ard, sizeof ard, prim2, 2, &t), GPG_ERR_INV_VALUE);
  for (i = 0; i < TLV_MAX_DEPTH + 1; i++)
    deep[i] = 0x61;
  CHECK_ERR(tlv_find_path(ard, sizeof ard, deep, TLV_MAX_DEPTH + 1, &t),
            GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find_path(ard, sizeof ard, deep, TLV_MAX_DEPTH, &t), GPG_ERR_NOT_FOUND);
  /* Tags that no data could hold. */
  CHECK_ERR(tlv_find(ard, sizeof ard, 0, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0xFF, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0x5F, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0x4F01, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0x5F81, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0x9F0102, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0x9F8182, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0x9F818201, &t), GPG_ERR_INV_VALUE);
  CHECK_ERR(tlv_find(ard, sizeof ard, 0xFF50, &t), GPG_ERR_INV_VALUE);

  /* Malformed data before the object is reported... */
  CHECK_ERR(tlv_find(B("\x4F\x80\x00\x00\xC5\x00"), 6, 0xC5, &t), GPG_ERR_BAD_BER);
  /* ...a child overrunning its parent on the way down too... */
  CHECK_ERR(tlv_find_path(B("\x6E\x03\x73\x05\xC5\x01\xAA"), 7, p_c5, 3, &t),
            GPG_ERR_INV_LENGTH);
  CHECK_ERR(tlv_find_path(B("\x6E\x05\x73\x03\xC5\x02\xAA"), 7, p_c5, 3, &t),
            GPG_ERR_INV_LENGTH);
  /* ...while anything after it is never looked at. */
  CHECK_OK(tlv_find(B("\xC5\x01\xAA\x4F\x80"), 5, 0xC5, &t));
  CHECK_MEM(t.value, t.len, "\xAA", 1);
}

static void
test_build_simple(void)
{
  uint8_t buf[32];
  struct tlv_builder b;
  size_t n = 99;

  tlv_builder_init(&b, buf, sizeof buf);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_INT(n, 0);
  tlv_put(&b, 0x4F, "\xAA\xBB", 2);
  tlv_put(&b, 0x5F50, NULL, 0);
  tlv_put(&b, 0x9F8102, "\x01", 1);
  tlv_put_raw(&b, "\x00\xFF", 2);
  tlv_put_raw(&b, NULL, 0);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_MEM(buf, n, "\x4F\x02\xAA\xBB\x5F\x50\x00\x9F\x81\x02\x01\x01\x00\xFF", 14);
}

/* Lengths 127/128, 255/256 as primitive and as constructed values. */
static void
test_build_lengths(void)
{
  static const size_t sizes[] = { 0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x1234, 0xFFFF };
  static uint8_t value[0xFFFF], buf[0xFFFF + 16], want[0xFFFF + 16];
  struct tlv_builder b;
  size_t i, n, h;

  for (i = 0; i < sizeof value; i++)
    value[i] = (uint8_t)(i * 7);
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
      size_t len = sizes[i];

      want[0] = 0x04;
      if (len < 0x80)
        want[1] = (uint8_t)len, h = 2;
      else if (len < 0x100)
        want[1] = 0x81, want[2] = (uint8_t)len, h = 3;
      else
        want[1] = 0x82, want[2] = (uint8_t)(len >> 8), want[3] = (uint8_t)len, h = 4;
      memcpy(want + h, value, len);

      tlv_builder_init(&b, buf, sizeof buf);
      tlv_put(&b, 0x04, value, len);
      CHECK_OK(tlv_builder_finish(&b, &n));
      CHECK_MEM(buf, n, want, h + len);

      /* The same through begin/end, with the length patched in. */
      want[0] = 0x24;
      tlv_builder_init(&b, buf, sizeof buf);
      tlv_begin(&b, 0x24);
      tlv_put_raw(&b, value, len);
      tlv_end(&b);
      CHECK_OK(tlv_builder_finish(&b, &n));
      CHECK_MEM(buf, n, want, h + len);
    }
}

static void
test_build_nested(void)
{
  uint8_t buf[400], fill[300];
  struct tlv_builder b;
  struct tlv t;
  size_t n;
  static const unsigned int path[] = { 0x6E, 0x73, 0xC5 };

  memset(fill, 0x5A, sizeof fill);
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_begin(&b, 0x6E);
  tlv_put(&b, 0x4F, "\xD2\x76", 2);
  tlv_begin(&b, 0x73);
  tlv_put(&b, 0xC5, fill, 125); /* 127 bytes: 73 keeps a one-byte length */
  tlv_end(&b);
  tlv_end(&b); /* 4 + 2 + 127 = 133 bytes: 6E needs 81 85 */
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_INT(n, 3 + 4 + 2 + 127);
  CHECK_MEM(buf, 11, "\x6E\x81\x85\x4F\x02\xD2\x76\x73\x7F\xC5\x7D", 11);
  CHECK_OK(tlv_find_path(buf, n, path, 3, &t));
  CHECK_MEM(t.value, t.len, fill, 125);

  /* Both levels widen: the inner move must not upset the outer. */
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_begin(&b, 0x6E);
  tlv_begin(&b, 0x73);
  tlv_put(&b, 0xC5, fill, 260);
  tlv_end(&b);
  tlv_put(&b, 0x4F, "\x01", 1);
  tlv_end(&b);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_INT(n, 4 + 4 + 4 + 260 + 3);
  CHECK_MEM(buf, 12, "\x6E\x82\x01\x0F\x73\x82\x01\x08\xC5\x82\x01\x04", 12);
  CHECK_MEM(buf + n - 3, 3, "\x4F\x01\x01", 3);
  CHECK_OK(tlv_find_path(buf, n, path, 3, &t));
  CHECK_INT(t.len, 260);
  CHECK_MEM(t.value, t.len, fill, 260);

  /* Empty constructed objects. */
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_begin(&b, 0x7F49);
  tlv_end(&b);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_MEM(buf, n, "\x7F\x49\x00", 3);
}

static void
test_build_overflow(void)
{
  uint8_t buf[8], big[300], zero[0x7E];
  struct tlv_builder b;
  size_t n = 99;

  /* Exactly full is fine. */
  tlv_builder_init(&b, buf, 4);
  tlv_put(&b, 0x4F, "\xAA\xBB", 2);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_INT(n, 4);
  /* One byte more is not, and stays an error. */
  tlv_builder_init(&b, buf, 3);
  tlv_put(&b, 0x4F, "\xAA\xBB", 2);
  tlv_put(&b, 0x4F, NULL, 0);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
  /* A header that does not fit. */
  tlv_builder_init(&b, buf, 2);
  tlv_put(&b, 0x5F50, NULL, 0);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_BUFFER_TOO_SHORT);
  /* The content fits with a one-byte length, not with the 81 XX needed. */
  memset(zero, 0, sizeof zero);
  tlv_builder_init(&b, big, 2 + 0x80);
  tlv_begin(&b, 0x6E);
  tlv_put(&b, 0x04, zero, 0x7E);
  tlv_end(&b);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_BUFFER_TOO_SHORT);
  tlv_builder_init(&b, big, 3 + 0x80);
  tlv_begin(&b, 0x6E);
  tlv_put(&b, 0x04, zero, 0x7E);
  tlv_end(&b);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_INT(n, 3 + 0x80);
  CHECK_MEM(big, 5, "\x6E\x81\x80\x04\x7E", 5);
  /* No buffer at all. */
  tlv_builder_init(&b, NULL, 100);
  tlv_put(&b, 0x4F, NULL, 0);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_BUFFER_TOO_SHORT);
}

static void
test_build_errors(void)
{
  static uint8_t buf[0x10010];
  struct tlv_builder b;
  size_t n, i;

  tlv_builder_init(&b, buf, sizeof buf);
  tlv_put(&b, 0x5F, "\x01", 1);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_INV_VALUE);
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_put(&b, 0x4F, NULL, 1);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_INV_VALUE);
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_put_raw(&b, NULL, 1);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_INV_VALUE);
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_begin(&b, 0x00);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_INV_VALUE);
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_put(&b, 0x1000000, NULL, 0);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_INV_VALUE);

  /* Too long for 82 XX XX, as one value and as content. */
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_put(&b, 0x04, buf, 0x10000);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_TOO_LARGE);
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_begin(&b, 0x24);
  tlv_put_raw(&b, buf + 8, 0x10000);
  tlv_end(&b);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_TOO_LARGE);

  /* Unbalanced begin/end. */
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_end(&b);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_INV_STATE);
  tlv_builder_init(&b, buf, sizeof buf);
  tlv_begin(&b, 0x6E);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_INV_STATE);
  CHECK_INT(n, 0);

  /* TLV_MAX_DEPTH - 1 open objects, not one more. */
  tlv_builder_init(&b, buf, sizeof buf);
  for (i = 0; i < TLV_MAX_DEPTH - 1; i++)
    tlv_begin(&b, 0x61);
  for (i = 0; i < TLV_MAX_DEPTH - 1; i++)
    tlv_end(&b);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_INT(n, 2 * (TLV_MAX_DEPTH - 1));
  tlv_builder_init(&b, buf, sizeof buf);
  for (i = 0; i < TLV_MAX_DEPTH; i++)
    tlv_begin(&b, 0x61);
  for (i = 0; i < TLV_MAX_DEPTH; i++)
    tlv_end(&b);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_LIMIT_REACHED);

  /* The first error sticks. */
  tlv_builder_init(&b, buf, 1);
  tlv_put(&b, 0x4F, NULL, 0);
  tlv_put(&b, 0x5F, NULL, 0);
  tlv_end(&b);
  CHECK_ERR(tlv_builder_finish(&b, &n), GPG_ERR_BUFFER_TOO_SHORT);
}

/* A value copied from what the builder wrote before. */
static void
test_build_self_copy(void)
{
  uint8_t buf[16];
  struct tlv_builder b;
  size_t n;

  tlv_builder_init(&b, buf, sizeof buf);
  tlv_put(&b, 0x4F, "\x01\x02\x03", 3);
  tlv_put(&b, 0xC5, buf, 5);
  CHECK_OK(tlv_builder_finish(&b, &n));
  CHECK_MEM(buf, n, "\x4F\x03\x01\x02\x03\xC5\x05\x4F\x03\x01\x02\x03", 12);
}

int
main(void)
{
  RUN(test_iter_basic);
  RUN(test_iter_empty);
  RUN(test_classes);
  RUN(test_tags);
  RUN(test_lengths);
  RUN(test_padding);
  RUN(test_nested_lies);
  RUN(test_enter_errors);
  RUN(test_depth_bound);
  RUN(test_find_path);
  RUN(test_find_path_errors);
  RUN(test_build_simple);
  RUN(test_build_lengths);
  RUN(test_build_nested);
  RUN(test_build_overflow);
  RUN(test_build_errors);
  RUN(test_build_self_copy);
  return check_done();
}
