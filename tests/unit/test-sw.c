/* test-sw.c - sw_to_error / sw_describe / sw_pin_retries */
#include "check.h"
#include "sw.h"

/* The codes scdaemon-protocol.md section 7 promises to clients. */
static void
test_protocol_codes(void)
{
  unsigned int x;

  CHECK_INT(sw_to_error(0x9000), 0);
  CHECK_ERR(sw_to_error(0x6982), GPG_ERR_BAD_PIN);
  for (x = 0; x < 16; x++)
    CHECK_ERR(sw_to_error(0x63C0 | x), GPG_ERR_BAD_PIN);
  CHECK_ERR(sw_to_error(0x6983), GPG_ERR_PIN_BLOCKED);
  CHECK_ERR(sw_to_error(0x6985), GPG_ERR_USE_CONDITIONS);
  CHECK_ERR(sw_to_error(0x6A81), GPG_ERR_NOT_SUPPORTED);
  CHECK_ERR(sw_to_error(0x6882), GPG_ERR_NOT_SUPPORTED);
  CHECK_ERR(sw_to_error(0x6884), GPG_ERR_NOT_SUPPORTED);
  CHECK_ERR(sw_to_error(0x6A88), GPG_ERR_NO_OBJ);
  /* Every error code carries the SCD source, as GnuPG's do. */
  CHECK_INT(sw_to_error(0x6982), 100663383);
  CHECK(gpg_err_source(sw_to_error(0x6A88)) == GPG_ERR_SOURCE_SCD);
}

/* The rest as GnuPG's map_sw has them. */
static void
test_gnupg_codes(void)
{
  CHECK_ERR(sw_to_error(0x6700), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x6A80), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x6A86), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x6B00), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x6C00), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x6C10), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x6D00), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6E00), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6A82), GPG_ERR_ENOENT);
  CHECK_ERR(sw_to_error(0x6986), GPG_ERR_ENOENT);
  CHECK_ERR(sw_to_error(0x6A83), GPG_ERR_NOT_FOUND);
  CHECK_ERR(sw_to_error(0x6581), GPG_ERR_HARDWARE);
  CHECK_ERR(sw_to_error(0x6285), GPG_ERR_OBJ_TERM_STATE);
  CHECK_ERR(sw_to_error(0x6600), GPG_ERR_TIMEOUT);
  CHECK_ERR(sw_to_error(0x6981), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6F00), GPG_ERR_CARD);
  /* More data is not a failure. */
  CHECK_INT(sw_to_error(0x6100), 0);
  CHECK_INT(sw_to_error(0x61FF), 0);
}

/* Everything else, warnings included, is a card error; values that are
 * no status word are told apart. */
static void
test_other_codes(void)
{
  CHECK_ERR(sw_to_error(0x6282), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6300), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6381), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x63B5), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6601), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6701), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x6A8F), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x9001), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0x0000), GPG_ERR_CARD);
  CHECK_ERR(sw_to_error(0xFFFF), GPG_ERR_CARD);
  /* Above 16 bits: the masks must not let 0x19000 pass for 9000. */
  CHECK_ERR(sw_to_error(0x19000), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x16100), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0x163C3), GPG_ERR_INV_VALUE);
  CHECK_ERR(sw_to_error(0xFFFFFFFFu), GPG_ERR_INV_VALUE);
}

static void
test_describe(void)
{
  unsigned int sw;

  CHECK_STR(sw_describe(0x9000), "Success");
  CHECK_STR(sw_describe(0x6982), "Security status not satisfied");
  CHECK_STR(sw_describe(0x6983), "Authentication method blocked");
  CHECK_STR(sw_describe(0x6A88), "Referenced data or reference data not found");
  CHECK_STR(sw_describe(0x63C2), "Wrong PIN, retry counter in SW2");
  CHECK_STR(sw_describe(0x6300), "Verification failed, no further information");
  CHECK_STR(sw_describe(0x6310), "Warning, state of memory changed");
  CHECK_STR(sw_describe(0x6120), "More data available");
  CHECK_STR(sw_describe(0x6C08), "Wrong Le field, exact length in SW2");
  CHECK_STR(sw_describe(0x6A8F), "Wrong parameters P1-P2");
  CHECK_STR(sw_describe(0x9001), "Unknown status word");
  CHECK_STR(sw_describe(0x10000), "Not a status word");
  /* Never NULL, never empty, whatever the input. */
  for (sw = 0; sw <= 0x10000; sw++)
    {
      const char *s = sw_describe(sw);
      if (!s || !*s)
        {
          CHECK(s && *s);
          break;
        }
    }
}

/* A code of 0 must only ever come with a success text: 9000 and 61xx. */
static void
test_success_only_for_success(void)
{
  unsigned int sw, zeros = 0;

  for (sw = 0; sw <= 0xFFFF; sw++)
    if (!sw_to_error(sw))
      {
        zeros++;
        CHECK(sw == 0x9000 || (sw & 0xFF00) == 0x6100);
      }
  CHECK_INT(zeros, 1 + 256);
}

static void
test_retries(void)
{
  CHECK_INT(sw_pin_retries(0x63C0), 0);
  CHECK_INT(sw_pin_retries(0x63C3), 3);
  CHECK_INT(sw_pin_retries(0x63CF), 15);
  CHECK_INT(sw_pin_retries(0x6300), -1);
  CHECK_INT(sw_pin_retries(0x63D3), -1);
  CHECK_INT(sw_pin_retries(0x6982), -1);
  CHECK_INT(sw_pin_retries(0x9000), -1);
  CHECK_INT(sw_pin_retries(0x163C3), -1);
}

int
main(void)
{
  RUN(test_protocol_codes);
  RUN(test_gnupg_codes);
  RUN(test_other_codes);
  RUN(test_describe);
  RUN(test_success_only_for_success);
  RUN(test_retries);
  return check_done();
}
