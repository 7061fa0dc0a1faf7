/* fuzz-ccid-desc.c - find, parse and summarise a CCID class descriptor
 *
 * The input is a blob of extra descriptor bytes.  A found descriptor must
 * lie inside it; a parsed one must hold exactly the bytes it came from,
 * read here independently; both summaries must fit the size they report
 * and stay NUL-terminated when truncated.  The input is also parsed
 * directly, as a caller holding the 54 bytes alone would.
 */
#include <stdlib.h>
#include <string.h>

#include "ccid-desc.h"
#include "fuzz.h"

static uint32_t
le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
         | (uint32_t)p[3] << 24;
}

/* Cross-checks the struct against the raw bytes. */
static void
check_fields(const struct ccid_desc *d, const uint8_t *b)
{
  FUZZ_ASSERT(d->bDescriptorType == b[1] && d->bcdCCID == (b[2] | b[3] << 8));
  FUZZ_ASSERT(d->bMaxSlotIndex == b[4] && d->nslots == b[4] + 1u);
  FUZZ_ASSERT(d->bVoltageSupport == b[5] && d->dwProtocols == le32(b + 6));
  FUZZ_ASSERT(d->dwDefaultClock == le32(b + 10) && d->dwMaximumClock == le32(b + 14));
  FUZZ_ASSERT(d->bNumClockSupported == b[18] && d->dwDataRate == le32(b + 19));
  FUZZ_ASSERT(d->dwMaxDataRate == le32(b + 23) && d->bNumDataRatesSupported == b[27]);
  FUZZ_ASSERT(d->dwMaxIFSD == le32(b + 28) && d->dwSynchProtocols == le32(b + 32));
  FUZZ_ASSERT(d->dwMechanical == le32(b + 36) && d->dwFeatures == le32(b + 40));
  FUZZ_ASSERT(d->dwMaxCCIDMessageLength == le32(b + 44));
  FUZZ_ASSERT(d->bClassGetResponse == b[48] && d->bClassEnvelope == b[49]);
  FUZZ_ASSERT(d->wLcdLayout == (b[50] | b[51] << 8) && d->bPINSupport == b[52]);
  FUZZ_ASSERT(d->bMaxCCIDBusySlots == b[53]);
  FUZZ_ASSERT(d->max_data_len <= CCID_DESC_MAX_DATA_LEN);
  /* The data never exceeds the message minus its 10-byte header. */
  FUZZ_ASSERT(d->max_data_len + 10 <= d->dwMaxCCIDMessageLength || d->max_data_len == 0);
}

static void
check_summary(const struct ccid_desc *d, int style)
{
  char buf[2048], small[37];
  size_t n, m;

  FUZZ_ASSERT(!ccid_desc_summary(d, style, buf, sizeof buf, &n));
  FUZZ_ASSERT(n == strlen(buf));
  if (ccid_desc_summary(d, style, small, sizeof small, &m))
    FUZZ_ASSERT(m == n && strlen(small) == sizeof small - 1
                && !memcmp(small, buf, sizeof small - 1));
  else
    FUZZ_ASSERT(m == n && !strcmp(small, buf));
}

static void
parse_and_show(const uint8_t *desc, size_t len)
{
  struct ccid_desc d;
  gpg_error_t err;

  err = ccid_desc_parse(desc, len, &d);
  if (!err || (gpg_err_code(err) == GPG_ERR_INV_VALUE && d.nslots))
    {
      FUZZ_ASSERT(len == CCID_DESC_LEN);
      check_fields(&d, desc);
      check_summary(&d, CCID_DESC_SUMMARY_ONELINE);
      check_summary(&d, CCID_DESC_SUMMARY_MULTILINE);
    }
  else
    FUZZ_ASSERT(d.nslots == 0 && d.dwFeatures == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *desc;
  size_t len;

  if (!ccid_desc_find(data, size, &desc, &len))
    {
      FUZZ_ASSERT(desc >= data && len == CCID_DESC_LEN
                  && (size_t)(desc - data) <= size - len);
      FUZZ_ASSERT(desc[0] == CCID_DESC_LEN && (desc[1] == 0x21 || desc[1] == 0xFF));
      parse_and_show(desc, len);
    }
  else
    FUZZ_ASSERT(desc == NULL && len == 0);
  parse_and_show(data, size);
  return 0;
}
