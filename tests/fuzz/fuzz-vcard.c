/* fuzz-vcard.c - sequences of APDUs against the software OpenPGP card
 *
 * Input: one byte of prelude flags, then APDUs, each as a 2-byte
 * big-endian length and that many bytes (a length running past the end
 * takes what is left).  The prelude selects the application and, as the
 * flags say, presents another application version, imports small ECC keys
 * and verifies PINs, so that mutations start from the deep states where
 * signing, deciphering and PUT DATA are allowed:
 *
 *   bit 0  VERIFY PW1 (81)       bit 3-4  version: 0 3.4, 1 3.3, 2+ 2.1
 *   bit 1  VERIFY PW1 (82)       bit 5    Ed25519 / Cv25519 / Ed25519 keys
 *   bit 2  VERIFY PW3            bit 6    no SELECT
 *
 * GENERATE ASYMMETRIC KEY PAIR with P1 80 is skipped: an RSA key pair takes
 * far too long for a fuzzer (the card has no shortcut for harnesses).
 * Invariants: the card never fails (no state file), every response ends in
 * a status word and fits VCARD_MAX_APDU + 2 bytes, and data comes only
 * with 9000 or 61xx.
 */
#include <string.h>

#include "fuzz.h"
#include "vcard.h"

#define MAX_APDUS 64

static uint8_t resp[VCARD_MAX_APDU + 2];

static unsigned int
send(struct vcard *card, const uint8_t *apdu, size_t len)
{
  size_t n = 0;
  unsigned int sw;
  gpg_error_t err;

  err = vcard_apdu(card, apdu, len, resp, sizeof resp, &n);
  FUZZ_ASSERT(!err);
  FUZZ_ASSERT(n >= 2 && n <= sizeof resp);
  sw = (unsigned int)resp[n - 2] << 8 | resp[n - 1];
  FUZZ_ASSERT(n == 2 || sw == 0x9000 || (sw & 0xFF00) == 0x6100);
  return sw;
}

#define SEND(card, lit) send((card), (const uint8_t *)(lit), sizeof(lit) - 1)

/* Small ECC keys in all three slots (import is cheap, generation of RSA is
 * not), so that PSO and INTERNAL AUTHENTICATE reach the crypto code. */
static void
import_keys(struct vcard *card)
{
  SEND(card, "\x00\x20\x00\x83\x08"
             "12345678");
  SEND(card, "\x00\xDA\x00\xC1\x0A\x16\x2B\x06\x01\x04\x01\xDA\x47\x0F\x01");
  SEND(card, "\x00\xDA\x00\xC2\x0B\x12\x2B\x06\x01\x04\x01\x97\x55\x01\x05\x01");
  SEND(card, "\x00\xDA\x00\xC3\x0A\x16\x2B\x06\x01\x04\x01\xDA\x47\x0F\x01");
  SEND(card, "\x00\xDB\x3F\xFF\x2C\x4D\x2A\xB6\x00\x7F\x48\x02\x92\x20\x5F\x48\x20"
             "0123456789abcdef0123456789abcdef");
  SEND(card, "\x00\xDB\x3F\xFF\x2C\x4D\x2A\xB8\x00\x7F\x48\x02\x92\x20\x5F\x48\x20"
             "abcdef0123456789abcdef0123456789");
  SEND(card, "\x00\xDB\x3F\xFF\x2C\x4D\x2A\xA4\x00\x7F\x48\x02\x92\x20\x5F\x48\x20"
             "fedcba9876543210fedcba9876543210");
  SEND(card, "\x00\x20\xFF\x83");
}

static void
prelude(struct vcard *card, uint8_t flags)
{
  if (!(flags & 0x40))
    SEND(card, "\x00\xA4\x04\x00\x06\xD2\x76\x00\x01\x24\x01");
  if (flags & 0x20)
    import_keys(card);
  if (flags & 0x01)
    SEND(card, "\x00\x20\x00\x81\x06"
               "123456");
  if (flags & 0x02)
    SEND(card, "\x00\x20\x00\x82\x06"
               "123456");
  if (flags & 0x04)
    SEND(card, "\x00\x20\x00\x83\x08"
               "12345678");
}

static unsigned int
version_of(uint8_t flags)
{
  static const unsigned int versions[]
      = { VCARD_VERSION_3_4, VCARD_VERSION_3_3, VCARD_VERSION_2_1, VCARD_VERSION_2_1 };

  return versions[(flags >> 3) & 3];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct vcard_options opt = { 0, NULL, 0x0BADCAFE, 0 };
  struct vcard *card = NULL;
  size_t len, count = 0;

  if (!size)
    return 0;
  opt.version = version_of(data[0]);
  FUZZ_ASSERT(!vcard_new(&opt, &card));
  prelude(card, data[0]);
  data++;
  size--;
  while (size >= 2 && count++ < MAX_APDUS)
    {
      len = (size_t)data[0] << 8 | data[1];
      data += 2;
      size -= 2;
      if (len > size)
        len = size;
      /* Key generation: too slow to fuzz, see above. */
      if (!(len >= 3 && data[1] == 0x47 && data[2] == 0x80))
        send(card, data, len);
      data += len;
      size -= len;
    }
  vcard_free(card);
  return 0;
}
