/* test-ccid-desc.c - CCID class descriptor: find, parse, flags, summary
 *
 * The descriptors are those of real readers, typed in from the field values
 * of the lsusb-style dumps in libccid's readers/ directory
 * (LudovicRousseau/CCID): GemPCTwin.txt, Yubico_Yubikey_4_OTP+U2F+CCID.txt,
 * SPR532.txt, Gem_e-SealPro.txt, GemCorePOSPro.txt, Fsij_gnuk.txt and
 * Oz776S.txt.
 */
#include "check.h"
#include "ccid-desc.h"

/* Gemalto GemPC Twin, 08E6:3437: TPDU, T=0/T=1, 271-byte messages. */
static const uint8_t gempc_twin[54] = {
  0x36, 0x21, 0x00, 0x01, 0x00, 0x07, 0x03, 0x00, 0x00, 0x00, /* .. dwProtocols */
  0xA0, 0x0F, 0x00, 0x00, 0xA0, 0x0F, 0x00, 0x00, 0x00,       /* clocks */
  0x00, 0x2A, 0x00, 0x00, 0x16, 0x40, 0x05, 0x00, 0x00,       /* data rates */
  0xFE, 0x00, 0x00, 0x00,                                     /* dwMaxIFSD */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* synch, mech */
  0x30, 0x02, 0x01, 0x00,                                     /* dwFeatures */
  0x0F, 0x01, 0x00, 0x00,                                     /* 271 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* Yubico YubiKey 4 OTP+U2F+CCID, 1050:0407: extended APDU, T=1 only. */
static const uint8_t yubikey4[54] = {
  0x36, 0x21, 0x00, 0x01, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0xA0, 0x0F,
  0x00, 0x00, 0xA0, 0x0F, 0x00, 0x00, 0x00, 0x00, 0xB0, 0x04, 0x00, 0x00,
  0xB0, 0x04, 0x00, 0x00,                                                 /* 307200 bps */
  0xF6, 0x0B, 0x00, 0x00,                                                 /* 3062 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFE, 0x00, 0x04, 0x00, /* 0x000400FE */
  0x00, 0x0C, 0x00, 0x00,                                                 /* 3072 */
  0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01,
};

/* SCM SPR532 pinpad, 04E6:E003 (interface class 0xFF). */
static const uint8_t spr532[54] = {
  0x36, 0x21, 0x00, 0x01, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00,
  0xA0, 0x0F, 0x00, 0x00, 0x40, 0x1F, 0x00, 0x00, 0x00, /* 4 / 8 MHz */
  0x01, 0x2A, 0x00, 0x00, 0x29, 0x40, 0x05, 0x00, 0x00, /* 10753 / 344105 */
  0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0xBA, 0x00, 0x01, 0x00, /* 0x000100BA */
  0x0E, 0x01, 0x00, 0x00,             /* 270 */
  0xFF, 0xFF, 0x00, 0x00, 0x03, 0x01,
};

/* Gemplus Gem e-Seal Pro, 08E6:2202: bDescriptorType 0xFF. */
static const uint8_t eseal_pro[54] = {
  0x36, 0xFF, 0x00, 0x01, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0xDC, 0x05, 0x00,
  0x00, 0xDC, 0x05, 0x00, 0x00, 0x00,                   /* 1.5 MHz */
  0xC0, 0x0F, 0x00, 0x00, 0x1B, 0xB7, 0x00, 0x00, 0x00, /* 4032 / 46875 */
  0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30,
  0x02, 0x01, 0x00, 0x0F, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* Gemplus GemCore POS Pro, 08E6:3479: five slots. */
static const uint8_t gemcore_pos_pro[54] = {
  0x36, 0x21, 0x00, 0x01, 0x04, 0x07, 0x03, 0x00, 0x00, 0x00, 0xA0, 0x0F, 0x00,
  0x00, 0xA0, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x00, 0x00, 0x20, 0xA1, 0x07,
  0x00, 0x00, /* 500000 */
  0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30,
  0x02, 0x01, 0x00, 0x0F, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* FSIJ Gnuk token, 234B:0000: extended APDU level with 64-byte messages. */
static const uint8_t gnuk[54] = {
  0x36, 0x21, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
  0xFC, 0x0D, 0x00, 0x00, 0xFC, 0x0D, 0x00, 0x00, 0x01, /* 3580 kHz */
  0x80, 0x25, 0x00, 0x00, 0x80, 0x25, 0x00, 0x00, 0x01, /* 9600 bps */
  0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x42, 0x00, 0x04, 0x00, 0x40, 0x00, 0x00, 0x00, /* 64 */
  0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01,
};

/* O2Micro OZ776S, 0B97:7762: character level; the reader puts this
 * descriptor after its endpoints. */
static const uint8_t oz776s[54] = {
  0x36, 0x21, 0x00, 0x01, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0xA0, 0x0F, 0x00, 0x00,
  0xA0, 0x0F, 0x00, 0x00, 0x00, 0x80, 0x25, 0x00, 0x00, 0x00, 0xB0, 0x04, 0x00, 0x00,
  0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00,
  0x00, 0x00, 0x0F, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static void
test_gempc_twin(void)
{
  struct ccid_desc d;

  CHECK_OK(ccid_desc_parse(gempc_twin, sizeof gempc_twin, &d));
  CHECK_INT(d.bDescriptorType, 0x21);
  CHECK_INT(d.bcdCCID, 0x0100);
  CHECK_INT(d.bMaxSlotIndex, 0);
  CHECK_INT(d.bVoltageSupport, 0x07);
  CHECK_INT(d.dwProtocols, 0x03);
  CHECK_INT(d.dwDefaultClock, 4000);
  CHECK_INT(d.dwMaximumClock, 4000);
  CHECK_INT(d.bNumClockSupported, 0);
  CHECK_INT(d.dwDataRate, 10752);
  CHECK_INT(d.dwMaxDataRate, 344086);
  CHECK_INT(d.bNumDataRatesSupported, 0);
  CHECK_INT(d.dwMaxIFSD, 254);
  CHECK_INT(d.dwSynchProtocols, 0);
  CHECK_INT(d.dwMechanical, 0);
  CHECK_INT(d.dwFeatures, 0x00010230);
  CHECK_INT(d.dwMaxCCIDMessageLength, 271);
  CHECK_INT(d.bClassGetResponse, 0x00);
  CHECK_INT(d.bClassEnvelope, 0x00);
  CHECK_INT(d.wLcdLayout, 0);
  CHECK_INT(d.bPINSupport, 0);
  CHECK_INT(d.bMaxCCIDBusySlots, 1);
  CHECK_INT(d.nslots, 1);
  CHECK_INT(d.exchange_level, CCID_LEVEL_TPDU);
  CHECK_INT(d.max_data_len, 261);
}

static void
test_other_readers(void)
{
  struct ccid_desc d;

  CHECK_OK(ccid_desc_parse(yubikey4, sizeof yubikey4, &d));
  CHECK_INT(d.exchange_level, CCID_LEVEL_EXT_APDU);
  CHECK_INT(d.dwProtocols, CCID_DESC_PROTO_T1);
  CHECK_INT(d.dwMaxIFSD, 3062);
  CHECK_INT(d.dwDataRate, 307200);
  CHECK_INT(d.max_data_len, 3062);
  CHECK_INT(d.bClassGetResponse, 0xFF);
  CHECK(d.dwFeatures & CCID_DESC_FEAT_AUTO_ACTIVATION);
  CHECK(d.dwFeatures & CCID_DESC_FEAT_AUTO_NEGOTIATION);
  CHECK(!(d.dwFeatures & CCID_DESC_FEAT_NAD));

  CHECK_OK(ccid_desc_parse(spr532, sizeof spr532, &d));
  CHECK_INT(d.bPINSupport, CCID_DESC_PIN_VERIFY | CCID_DESC_PIN_MODIFY);
  CHECK_INT(d.dwMaximumClock, 8000);
  CHECK_INT(d.dwDataRate, 10753);
  CHECK_INT(d.dwMaxDataRate, 344105);
  CHECK_INT(d.bVoltageSupport, CCID_DESC_VOLTAGE_5V);
  CHECK_INT(d.exchange_level, CCID_LEVEL_TPDU);
  CHECK_INT(d.max_data_len, 260);
  CHECK(d.dwFeatures & CCID_DESC_FEAT_AUTO_PPS);

  CHECK_OK(ccid_desc_parse(eseal_pro, sizeof eseal_pro, &d));
  CHECK_INT(d.bDescriptorType, CCID_DESC_TYPE_VENDOR);
  CHECK_INT(d.dwDefaultClock, 1500);
  CHECK_INT(d.dwDataRate, 4032);
  CHECK_INT(d.dwMaxDataRate, 46875);

  CHECK_OK(ccid_desc_parse(gemcore_pos_pro, sizeof gemcore_pos_pro, &d));
  CHECK_INT(d.bMaxSlotIndex, 4);
  CHECK_INT(d.nslots, 5);
  CHECK_INT(d.dwMaxDataRate, 500000);

  CHECK_OK(ccid_desc_parse(gnuk, sizeof gnuk, &d));
  CHECK_INT(d.dwMaxCCIDMessageLength, 64);
  CHECK_INT(d.max_data_len, 54);
  CHECK_INT(d.exchange_level, CCID_LEVEL_EXT_APDU);
  CHECK_INT(d.dwDefaultClock, 3580);
  CHECK_INT(d.bNumClockSupported, 1);
  CHECK_INT(d.bNumDataRatesSupported, 1);

  CHECK_OK(ccid_desc_parse(oz776s, sizeof oz776s, &d));
  CHECK_INT(d.exchange_level, CCID_LEVEL_CHARACTER);
  CHECK_INT(d.bVoltageSupport, CCID_DESC_VOLTAGE_5V | CCID_DESC_VOLTAGE_3V);
}

static void
test_parse_hostile(void)
{
  uint8_t buf[60];
  struct ccid_desc d;

  memcpy(buf, gempc_twin, 54);
  CHECK_ERR(ccid_desc_parse(buf, 53, &d), GPG_ERR_TOO_SHORT);
  CHECK_INT(d.dwFeatures, 0);
  CHECK_ERR(ccid_desc_parse(buf, 1, &d), GPG_ERR_TOO_SHORT);
  CHECK_ERR(ccid_desc_parse(buf, 0, &d), GPG_ERR_TOO_SHORT);
  buf[54] = 0;
  CHECK_ERR(ccid_desc_parse(buf, 55, &d), GPG_ERR_INV_LENGTH);
  buf[0] = 0x35;
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_LENGTH);
  buf[0] = 0x37;
  CHECK_ERR(ccid_desc_parse(buf, 55, &d), GPG_ERR_INV_LENGTH);
  CHECK_INT(d.nslots, 0);
  buf[0] = 0x36;
  buf[1] = 0x22;
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_VALUE);
  buf[1] = 0x04; /* an interface descriptor */
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_VALUE);
  buf[1] = 0x21;
  CHECK_OK(ccid_desc_parse(buf, 54, &d));
}

static void
test_parse_sanity(void)
{
  uint8_t buf[54];
  struct ccid_desc d;

  memcpy(buf, gempc_twin, 54);
  /* dwMaxCCIDMessageLength 15: refused, but the fields are all there. */
  buf[44] = 15;
  buf[45] = 0;
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_VALUE);
  CHECK_INT(d.dwMaxCCIDMessageLength, 15);
  CHECK_INT(d.max_data_len, 5);
  CHECK_INT(d.dwFeatures, 0x00010230);
  CHECK_INT(d.nslots, 1);
  buf[44] = 16;
  CHECK_OK(ccid_desc_parse(buf, 54, &d));
  CHECK_INT(d.max_data_len, 6);
  buf[44] = 9;
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_VALUE);
  CHECK_INT(d.max_data_len, 0);
  buf[44] = 0;
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_VALUE);

  /* Precise 200 MC says 524288: accepted, capped for the driver. */
  buf[44] = 0x00;
  buf[45] = 0x00;
  buf[46] = 0x08;
  CHECK_OK(ccid_desc_parse(buf, 54, &d));
  CHECK_INT(d.dwMaxCCIDMessageLength, 524288);
  CHECK_INT(d.max_data_len, CCID_DESC_MAX_DATA_LEN);
  buf[44] = buf[45] = buf[46] = buf[47] = 0xFF;
  CHECK_OK(ccid_desc_parse(buf, 54, &d));
  CHECK_INT(d.max_data_len, 65544);
  /* Exactly the extended APDU maximum. */
  buf[44] = 0x12; /* 65554 = 0x10012 */
  buf[45] = 0x00;
  buf[46] = 0x01;
  buf[47] = 0x00;
  CHECK_OK(ccid_desc_parse(buf, 54, &d));
  CHECK_INT(d.max_data_len, 65544);

  memcpy(buf, gempc_twin, 54);
  buf[4] = 31;
  CHECK_OK(ccid_desc_parse(buf, 54, &d));
  CHECK_INT(d.nslots, 32);
  buf[4] = 32;
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_VALUE);
  CHECK_INT(d.nslots, 33);
  buf[4] = 0xFF;
  CHECK_ERR(ccid_desc_parse(buf, 54, &d), GPG_ERR_INV_VALUE);
  CHECK_INT(d.nslots, 256);
}

static void
test_exchange_level(void)
{
  static const struct
  {
    uint8_t byte42;
    enum ccid_exchange_level level;
    const char *name;
  } cases[] = {
    { 0x00, CCID_LEVEL_CHARACTER, "character" },
    { 0x01, CCID_LEVEL_TPDU, "TPDU" },
    { 0x02, CCID_LEVEL_SHORT_APDU, "short APDU" },
    { 0x04, CCID_LEVEL_EXT_APDU, "extended APDU" },
    { 0x03, CCID_LEVEL_UNKNOWN, "unknown" },
    { 0x06, CCID_LEVEL_UNKNOWN, "unknown" },
    { 0x07, CCID_LEVEL_UNKNOWN, "unknown" },
    { 0x08, CCID_LEVEL_CHARACTER, "character" }, /* not a level bit */
    { 0x11, CCID_LEVEL_TPDU, "TPDU" },           /* with USB wake-up */
  };
  uint8_t buf[54];
  struct ccid_desc d;
  size_t i;

  memcpy(buf, gempc_twin, 54);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      buf[42] = cases[i].byte42;
      CHECK_OK(ccid_desc_parse(buf, 54, &d));
      CHECK_INT(d.exchange_level, cases[i].level);
      CHECK_STR(ccid_exchange_level_name(d.exchange_level), cases[i].name);
    }
}

/* Appends N bytes of SRC to BLOB at OFF; returns the new offset. */
static size_t
put(uint8_t *blob, size_t off, const uint8_t *src, size_t n)
{
  memcpy(blob + off, src, n);
  return off + n;
}

static void
test_find(void)
{
  /* A configuration descriptor of a composite token: a HID interface whose
   * 9-byte HID descriptor also has type 0x21, then the CCID interface. */
  uint8_t blob[9 + 9 + 9 + 7 + 9 + 54 + 7 + 7];
  const uint8_t *p;
  size_t n, off = 0;

  off = put(blob, off, (const uint8_t *)"\x09\x02\x6F\x00\x02\x01\x00\x80\x32", 9);
  off = put(blob, off, (const uint8_t *)"\x09\x04\x00\x00\x01\x03\x00\x00\x00", 9);
  off = put(blob, off, (const uint8_t *)"\x09\x21\x11\x01\x00\x01\x22\x22\x00", 9);
  off = put(blob, off, (const uint8_t *)"\x07\x05\x84\x03\x40\x00\x0A", 7);
  off = put(blob, off, (const uint8_t *)"\x09\x04\x01\x00\x02\x0B\x00\x00\x00", 9);
  off = put(blob, off, yubikey4, 54);
  off = put(blob, off, (const uint8_t *)"\x07\x05\x02\x02\x40\x00\x00", 7);
  off = put(blob, off, (const uint8_t *)"\x07\x05\x82\x02\x40\x00\x00", 7);
  CHECK_INT(off, sizeof blob);
  CHECK_OK(ccid_desc_find(blob, sizeof blob, &p, &n));
  CHECK(p == blob + 43);
  CHECK_INT(n, 54);

  /* An interface's extra bytes: the descriptor alone. */
  CHECK_OK(ccid_desc_find(gempc_twin, 54, &p, &n));
  CHECK(p == gempc_twin);
  /* OZ776: after the endpoint descriptors. */
  memcpy(blob, "\x07\x05\x81\x02\x40\x00\x00\x07\x05\x02\x02\x40\x00\x00", 14);
  memcpy(blob + 14, oz776s, 54);
  CHECK_OK(ccid_desc_find(blob, 68, &p, &n));
  CHECK(p == blob + 14);
  /* Vendor type 0xFF. */
  CHECK_OK(ccid_desc_find(eseal_pro, 54, &p, &n));
  CHECK(p == eseal_pro);
}

static void
test_find_hostile(void)
{
  uint8_t blob[80] = { 0 };
  const uint8_t *p;
  size_t n;

  CHECK_ERR(ccid_desc_find(blob, 0, &p, &n), GPG_ERR_NOT_FOUND);
  CHECK(p == NULL);
  CHECK_INT(n, 0);
  /* Only a HID descriptor. */
  CHECK_ERR(
      ccid_desc_find((const uint8_t *)"\x09\x21\x11\x01\x00\x01\x22\x22\x00", 9, &p, &n),
      GPG_ERR_NOT_FOUND);
  /* bLength 0 would never move on; 1 cannot hold the type. */
  CHECK_ERR(ccid_desc_find((const uint8_t *)"\x00\x21", 2, &p, &n), GPG_ERR_INV_LENGTH);
  CHECK_ERR(ccid_desc_find((const uint8_t *)"\x01\x21", 2, &p, &n), GPG_ERR_INV_LENGTH);
  CHECK_ERR(ccid_desc_find((const uint8_t *)"\x02\x24\x00\x21", 4, &p, &n),
            GPG_ERR_INV_LENGTH);
  /* bLength runs past the end: a truncated CCID descriptor. */
  CHECK_ERR(ccid_desc_find(gempc_twin, 53, &p, &n), GPG_ERR_INV_LENGTH);
  CHECK(p == NULL);
  /* A lone byte where the next descriptor should start. */
  CHECK_ERR(ccid_desc_find((const uint8_t *)"\x02\x24\x36", 3, &p, &n),
            GPG_ERR_TOO_SHORT);
  /* 54 bytes of another type are skipped. */
  memcpy(blob, gempc_twin, 54);
  blob[1] = 0x24;
  CHECK_ERR(ccid_desc_find(blob, 54, &p, &n), GPG_ERR_NOT_FOUND);
  /* Type 0x21 of another length is skipped, then the real one found. */
  memcpy(blob, "\x04\x21\x00\x00", 4);
  memcpy(blob + 4, gempc_twin, 54);
  CHECK_OK(ccid_desc_find(blob, 58, &p, &n));
  CHECK(p == blob + 4);
  /* Junk after the descriptor is not looked at. */
  blob[58] = 0x00;
  CHECK_OK(ccid_desc_find(blob, 59, &p, &n));
}

static void
test_flags(void)
{
  static const struct
  {
    enum ccid_desc_field field;
    uint32_t bit;
    const char *name;
  } want[] = {
    { CCID_DESC_FIELD_VOLTAGE, 0x01, "5V" },
    { CCID_DESC_FIELD_VOLTAGE, 0x02, "3V" },
    { CCID_DESC_FIELD_VOLTAGE, 0x04, "1.8V" },
    { CCID_DESC_FIELD_PROTOCOLS, 0x01, "T=0" },
    { CCID_DESC_FIELD_PROTOCOLS, 0x02, "T=1" },
    { CCID_DESC_FIELD_FEATURES, 0x02, "auto-param-atr" },
    { CCID_DESC_FIELD_FEATURES, 0x04, "auto-activation" },
    { CCID_DESC_FIELD_FEATURES, 0x08, "auto-voltage" },
    { CCID_DESC_FIELD_FEATURES, 0x10, "auto-clock" },
    { CCID_DESC_FIELD_FEATURES, 0x20, "auto-baud" },
    { CCID_DESC_FIELD_FEATURES, 0x40, "auto-negotiation" },
    { CCID_DESC_FIELD_FEATURES, 0x80, "auto-pps" },
    { CCID_DESC_FIELD_FEATURES, 0x100, "clock-stop" },
    { CCID_DESC_FIELD_FEATURES, 0x200, "nad" },
    { CCID_DESC_FIELD_FEATURES, 0x400, "auto-ifsd" },
    { CCID_DESC_FIELD_FEATURES, 0x100000, "usb-wakeup" },
    { CCID_DESC_FIELD_PIN, 0x01, "verify" },
    { CCID_DESC_FIELD_PIN, 0x02, "modify" },
    { CCID_DESC_FIELD_MECHANICAL, 0x08, "lock" },
    { CCID_DESC_FIELD_SYNCH, 0x04, "I2C" },
  };
  const struct ccid_desc_flag *tab;
  size_t count, i, j;
  struct ccid_desc d;

  tab = ccid_desc_flags(&count);
  CHECK_INT(count, 26);
  for (i = 0; i < sizeof want / sizeof want[0]; i++)
    {
      for (j = 0; j < count; j++)
        if (tab[j].field == want[i].field && tab[j].bit == want[i].bit)
          break;
      CHECK(j < count);
      if (j < count)
        {
          CHECK_STR(tab[j].name, want[i].name);
          CHECK(tab[j].desc && *tab[j].desc);
        }
    }

  CHECK_OK(ccid_desc_parse(spr532, sizeof spr532, &d));
  CHECK_INT(ccid_desc_field_value(&d, CCID_DESC_FIELD_FEATURES), 0xBA);
  CHECK_INT(ccid_desc_field_value(&d, CCID_DESC_FIELD_PIN), 3);
  CHECK_INT(ccid_desc_field_value(&d, CCID_DESC_FIELD_VOLTAGE), 1);
  CHECK_INT(ccid_desc_field_value(&d, CCID_DESC_FIELD_PROTOCOLS), 3);
  CHECK_INT(ccid_desc_field_value(&d, CCID_DESC_FIELD_SYNCH), 0);
  CHECK_INT(ccid_desc_field_value(&d, CCID_DESC_FIELD_MECHANICAL), 0);
  CHECK_INT(ccid_desc_field_value(&d, (enum ccid_desc_field)99), 0);
}

static void
test_summary_oneline(void)
{
  struct ccid_desc d;
  char buf[512];
  size_t n;

  CHECK_OK(ccid_desc_parse(gempc_twin, sizeof gempc_twin, &d));
  CHECK_OK(ccid_desc_summary(&d, CCID_DESC_SUMMARY_ONELINE, buf, sizeof buf, &n));
  CHECK_STR(buf, "CCID 1.00, 1 slot, protocols T=0 T=1, TPDU level, voltages 5V 3V "
                 "1.8V, max message 271, max IFSD 254, PIN none, features auto-clock "
                 "auto-baud nad");
  CHECK_INT(n, strlen(buf));

  CHECK_OK(ccid_desc_parse(spr532, sizeof spr532, &d));
  CHECK_OK(ccid_desc_summary(&d, CCID_DESC_SUMMARY_ONELINE, buf, sizeof buf, &n));
  CHECK_STR(buf, "CCID 1.00, 1 slot, protocols T=0 T=1, TPDU level, voltages 5V, max "
                 "message 270, max IFSD 254, PIN verify modify, features "
                 "auto-param-atr auto-voltage auto-clock auto-baud auto-pps");

  CHECK_OK(ccid_desc_parse(eseal_pro, sizeof eseal_pro, &d));
  CHECK_OK(ccid_desc_summary(&d, CCID_DESC_SUMMARY_ONELINE, buf, sizeof buf, &n));
  CHECK_STR(buf, "CCID 1.00, 1 slot, protocols T=0 T=1, TPDU level, voltages 5V, max "
                 "message 271, max IFSD 254, PIN none, features auto-clock auto-baud "
                 "nad, vendor descriptor type 0xFF");

  /* Unnamed bits in hex; several slots. */
  CHECK_OK(ccid_desc_parse(gemcore_pos_pro, sizeof gemcore_pos_pro, &d));
  d.dwFeatures |= 0x80000001;
  d.bVoltageSupport = 0;
  CHECK_OK(ccid_desc_summary(&d, CCID_DESC_SUMMARY_ONELINE, buf, sizeof buf, &n));
  CHECK_STR(buf, "CCID 1.00, 5 slots, protocols T=0 T=1, TPDU level, voltages none, "
                 "max message 271, max IFSD 254, PIN none, features auto-clock "
                 "auto-baud nad +0x80000001");
}

static void
test_summary_multiline(void)
{
  static const char want[] = "bDescriptorType: 0x21\n"
                             "bcdCCID: 1.00\n"
                             "bMaxSlotIndex: 0 (1 slot)\n"
                             "bVoltageSupport: 0x07 5V 3V 1.8V\n"
                             "dwProtocols: 0x00000002 T=1\n"
                             "dwDefaultClock: 4000 kHz\n"
                             "dwMaximumClock: 4000 kHz\n"
                             "bNumClockSupported: 0\n"
                             "dwDataRate: 307200 bps\n"
                             "dwMaxDataRate: 307200 bps\n"
                             "bNumDataRatesSupported: 0\n"
                             "dwMaxIFSD: 3062\n"
                             "dwSynchProtocols: 0x00000000 none\n"
                             "dwMechanical: 0x00000000 none\n"
                             "dwFeatures: 0x000400FE auto-param-atr auto-activation "
                             "auto-voltage auto-clock auto-baud auto-negotiation "
                             "auto-pps, extended APDU level\n"
                             "dwMaxCCIDMessageLength: 3072\n"
                             "bClassGetResponse: 0xFF\n"
                             "bClassEnvelope: 0xFF\n"
                             "wLcdLayout: 0x0000 (0 lines, 0 columns)\n"
                             "bPINSupport: 0x00 none\n"
                             "bMaxCCIDBusySlots: 1\n";
  struct ccid_desc d;
  char buf[1024], small[40];
  size_t n;

  CHECK_OK(ccid_desc_parse(yubikey4, sizeof yubikey4, &d));
  CHECK_OK(ccid_desc_summary(&d, CCID_DESC_SUMMARY_MULTILINE, buf, sizeof buf, &n));
  CHECK_STR(buf, want);
  CHECK_INT(n, sizeof want - 1);

  /* Too small: a truncated prefix, and the size it needs. */
  CHECK_ERR(ccid_desc_summary(&d, CCID_DESC_SUMMARY_MULTILINE, small, sizeof small, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, sizeof want - 1);
  CHECK_INT(strlen(small), sizeof small - 1);
  CHECK(!strncmp(small, want, sizeof small - 1));
  CHECK_ERR(ccid_desc_summary(&d, CCID_DESC_SUMMARY_MULTILINE, buf, sizeof want - 1, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_OK(ccid_desc_summary(&d, CCID_DESC_SUMMARY_MULTILINE, buf, sizeof want, &n));
  CHECK_ERR(ccid_desc_summary(&d, CCID_DESC_SUMMARY_ONELINE, NULL, 0, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK(n > 100);
  CHECK_ERR(ccid_desc_summary(&d, 2, buf, sizeof buf, &n), GPG_ERR_INV_VALUE);
  CHECK_INT(n, 0);
  CHECK_STR(buf, "");

  /* An LCD of 2 lines of 16 characters. */
  d.wLcdLayout = 0x0210;
  CHECK_OK(ccid_desc_summary(&d, CCID_DESC_SUMMARY_MULTILINE, buf, sizeof buf, &n));
  CHECK(strstr(buf, "wLcdLayout: 0x0210 (2 lines, 16 columns)\n") != NULL);
}

int
main(void)
{
  RUN(test_gempc_twin);
  RUN(test_other_readers);
  RUN(test_parse_hostile);
  RUN(test_parse_sanity);
  RUN(test_exchange_level);
  RUN(test_find);
  RUN(test_find_hostile);
  RUN(test_flags);
  RUN(test_summary_oneline);
  RUN(test_summary_multiline);
  return check_done();
}
