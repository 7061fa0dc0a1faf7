/* test-hex.c - hex_decode / hex_encode */
#include "check.h"
#include "hex.h"

static void
test_strict(void)
{
  uint8_t buf[8];
  size_t n, pos;

  CHECK_OK(hex_decode("3b94a0FF", 0, buf, sizeof buf, &n, NULL));
  CHECK_MEM(buf, n, "\x3b\x94\xa0\xff", 4);
  CHECK_OK(hex_decode("", 0, buf, sizeof buf, &n, NULL));
  CHECK_INT(n, 0);
  CHECK_ERR(hex_decode("3b 94", 0, buf, sizeof buf, &n, &pos), GPG_ERR_INV_VALUE);
  CHECK_INT(pos, 2);
  CHECK_INT(n, 0);
}

static void
test_lenient(void)
{
  uint8_t buf[8];
  size_t n;

  CHECK_OK(hex_decode(" 3B:94\t18 0x81 0XB1\n", 1, buf, sizeof buf, &n, NULL));
  CHECK_MEM(buf, n, "\x3b\x94\x18\x81\xb1", 5);
}

static void
test_errors(void)
{
  uint8_t buf[2];
  size_t n, pos;

  /* Odd digit count: the missing digit's position is reported. */
  CHECK_ERR(hex_decode("3B9", 1, buf, sizeof buf, &n, &pos), GPG_ERR_INV_VALUE);
  CHECK_INT(pos, 3);
  /* A separator inside a byte is not a separator. */
  CHECK_ERR(hex_decode("3 B", 1, buf, sizeof buf, &n, &pos), GPG_ERR_INV_VALUE);
  CHECK_INT(pos, 1);
  CHECK_ERR(hex_decode("3G", 1, buf, sizeof buf, &n, &pos), GPG_ERR_INV_VALUE);
  CHECK_INT(pos, 1);
  /* "0x" only as a group prefix. */
  CHECK_ERR(hex_decode("3B0x94", 1, buf, sizeof buf, &n, &pos), GPG_ERR_INV_VALUE);
  CHECK_INT(pos, 3);
  CHECK_ERR(hex_decode("010203", 1, buf, sizeof buf, &n, &pos), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(pos, 4);
}

static void
test_encode(void)
{
  char out[9];

  CHECK_STR(hex_encode((const uint8_t *)"\x00\x7f\xa5\xff", 4, out), "007FA5FF");
  CHECK_STR(hex_encode((const uint8_t *)"", 0, out), "");
}

int
main(void)
{
  RUN(test_strict);
  RUN(test_lenient);
  RUN(test_errors);
  RUN(test_encode);
  return check_done();
}
