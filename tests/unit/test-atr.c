/* test-atr.c - atr_parse and its helpers */
#include "atr.h"
#include "check.h"
#include "hex.h"

/* Shorthands for the ATR_SET_* masks of the vectors below. */
#define SET_TA1 (ATR_SET_FI | ATR_SET_DI)
#define SET_T1_TB (ATR_SET_BWI | ATR_SET_CWI)
#define SET_T15_TA (ATR_SET_CLOCK_STOP | ATR_SET_CLASSES)

static gpg_error_t
parse_hex(const char *hex, struct atr_info *info, struct atr_error *error)
{
  uint8_t buf[64];
  size_t n;

  if (hex_decode(hex, 1, buf, sizeof buf, &n, NULL))
    {
      printf("# bad test vector: %s\n", hex);
      return gpg_error(GPG_ERR_BUG);
    }
  return atr_parse(buf, n, info, error);
}

/* Checks interface byte number K of INFO. */
static void
check_ibyte(const struct atr_info *info, size_t k, enum atr_kind kind, unsigned int i,
            uint8_t value, size_t offset, enum atr_meaning meaning)
{
  const struct atr_ibyte *b = &info->ibytes[k];

  CHECK(k < info->n_ibytes);
  CHECK_INT(b->kind, kind);
  CHECK_INT(b->index, i);
  CHECK_INT(b->value, value);
  CHECK_INT(b->offset, offset);
  CHECK_INT(b->meaning, meaning);
  CHECK_INT(info->bytes[offset], value);
}

/* Everything a valid ATR reports in summary, one table row per ATR. */
struct vector
{
  const char *hex;
  size_t len, n_ibytes, hist_offset, hist_len;
  int has_tck, has_t15;
  const char *protocols; /* one digit per protocol, 'E' for 14 */
  unsigned int set;
  unsigned int fi, di, fmax_khz, n, wi, ifsc, bwi, cwi;
  enum atr_edc edc;
};

static const struct vector valid_vectors[] = {
  /* GoldKey PIV token: T=1, T=15 with classes A and B. */
  { "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50 DC", 14, 7, 9, 4, 1, 1, "1",
    SET_TA1 | ATR_SET_IFSC | SET_T1_TB | SET_T15_TA, 372, 12, 5000, 0, 10, 128, 7, 13,
    ATR_EDC_LRC },
  /* NXP DESFire SAM: TC1 = FF, TC3 = 00 explicitly LRC, TA4 and TB4. */
  { "3B DE 18 FF 81 F1 FE 43 00 3F 07 83 44 45 53 46 69 72 65 38 20 53 41 4D 2D 58 "
    "17",
    27, 10, 12, 14, 1, 1, "1",
    SET_TA1 | ATR_SET_GUARD_TIME | ATR_SET_IFSC | SET_T1_TB | ATR_SET_EDC | SET_T15_TA
        | ATR_SET_SPU,
    372, 12, 5000, 255, 10, 254, 4, 3, ATR_EDC_LRC },
  /* YubiKey 5 NFC. */
  { "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40", 23, 7, 9, 13,
    1, 0, "1", SET_TA1 | ATR_SET_GUARD_TIME | ATR_SET_IFSC | SET_T1_TB, 372, 4, 5000, 0,
    10, 254, 1, 5, ATR_EDC_LRC },
  /* OpenPGP card v2 and v3. */
  { "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C", 21, 8, 10, 10, 1, 1,
    "1", SET_TA1 | ATR_SET_GUARD_TIME | ATR_SET_IFSC | SET_T1_TB | SET_T15_TA, 372, 12,
    5000, 255, 10, 254, 7, 5, ATR_EDC_LRC },
  { "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 F5 73 C0 01 60 00 90 00 1C", 21, 8, 10, 10, 1, 1,
    "1", SET_TA1 | ATR_SET_GUARD_TIME | ATR_SET_IFSC | SET_T1_TB | SET_T15_TA, 372, 12,
    5000, 255, 10, 254, 7, 5, ATR_EDC_LRC },
  /* Schlumberger Multiflex 3k: T=0 only, all defaults, no TCK. */
  { "3B 02 14 50", 4, 0, 2, 2, 0, 0, "0", 0, 372, 1, 5000, 0, 10, 32, 4, 13,
    ATR_EDC_LRC },
  /* The shortest ATR. */
  { "3B00", 2, 0, 2, 0, 0, 0, "0", 0, 372, 1, 5000, 0, 10, 32, 4, 13, ATR_EDC_LRC },
  /* Inverse convention, TA1 = 94, TB1 = 00, 15 historical bytes. */
  { "3F 3F 94 00 80 69 AF 03 07 01 59 00 00 0A 0E 83 3E 9F 16", 19, 2, 4, 15, 0, 0, "0",
    SET_TA1, 512, 8, 5000, 0, 10, 32, 4, 13, ATR_EDC_LRC },
  /* Cryptoflex: TC2 = 20, so WI = 32. */
  { "3B 85 40 20 68 01 01 00 00", 9, 2, 4, 5, 0, 0, "0", ATR_SET_WI, 372, 1, 5000, 0, 32,
    32, 4, 13, ATR_EDC_LRC },
  /* Contactless pseudo-ATR: T=0 then T=1. */
  { "3B 80 80 01 01", 5, 2, 4, 0, 1, 0, "01", 0, 372, 1, 5000, 0, 10, 32, 4, 13,
    ATR_EDC_LRC },
  /* T=14 first, then T=1 with IFSC 18 and TC3 = 56: bit 1 clear, LRC. */
  { "3B 80 8E 71 12 34 56 0F", 8, 5, 7, 0, 1, 0, "E1",
    ATR_SET_IFSC | SET_T1_TB | ATR_SET_EDC, 372, 1, 5000, 0, 10, 18, 3, 4, ATR_EDC_LRC },
  /* CRC. */
  { "3B 80 81 41 01 41", 6, 3, 5, 0, 1, 0, "1", ATR_SET_EDC, 372, 1, 5000, 0, 10, 32, 4,
    13, ATR_EDC_CRC },
  /* T=1 named twice, then T=0: listed once each, in TD order. */
  { "3B 80 81 81 00 80", 6, 3, 5, 0, 1, 0, "10", 0, 372, 1, 5000, 0, 10, 32, 4, 13,
    ATR_EDC_LRC },
  /* TA1 codes RFU: Fi and f(max) are 0, Di is 1; only T=0, no TCK. */
  { "3B 10 71", 3, 1, 3, 0, 0, 0, "0", SET_TA1, 0, 1, 0, 0, 10, 32, 4, 13, ATR_EDC_LRC },
  /* Fi = 768 at 7.5 MHz, Di RFU. */
  { "3B 10 AA", 3, 1, 3, 0, 0, 0, "0", SET_TA1, 768, 0, 7500, 0, 10, 32, 4, 13,
    ATR_EDC_LRC },
  /* 33 bytes, the longest allowed: 16 TDs and 15 historical bytes. */
  { "3B 8F 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 00"
    " 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
    33, 16, 18, 15, 0, 0, "0", 0, 372, 1, 5000, 0, 10, 32, 4, 13, ATR_EDC_LRC },
  /* 33 bytes with a TCK: 15 TDs, the last naming T=1. */
  { "3B 8F 80 80 80 80 80 80 80 80 80 80 80 80 80 80 01"
    " 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 8E",
    33, 15, 17, 15, 1, 0, "01", 0, 372, 1, 5000, 0, 10, 32, 4, 13, ATR_EDC_LRC },
};

static void
check_protocols(const struct atr_info *info, const char *want)
{
  size_t k, n = strlen(want);

  CHECK_INT(info->n_protocols, n);
  for (k = 0; k < n && k < info->n_protocols; k++)
    CHECK_INT(info->protocols[k], want[k] == 'E' ? 14 : want[k] - '0');
}

static void
test_valid_table(void)
{
  size_t k;

  for (k = 0; k < sizeof valid_vectors / sizeof valid_vectors[0]; k++)
    {
      const struct vector *v = &valid_vectors[k];
      struct atr_info info;
      struct atr_error e;

      int before = check_case_failures;

      CHECK_OK(parse_hex(v->hex, &info, &e));
      CHECK_STR(e.reason, "");
      CHECK_INT(info.len, v->len);
      CHECK_INT(info.n_ibytes, v->n_ibytes);
      CHECK_INT(info.hist_offset, v->hist_offset);
      CHECK_INT(info.hist_len, v->hist_len);
      CHECK_INT(info.has_tck, v->has_tck);
      CHECK_INT(info.has_t15, v->has_t15);
      check_protocols(&info, v->protocols);
      CHECK_INT(info.set, v->set);
      CHECK_INT(info.fi, v->fi);
      CHECK_INT(info.di, v->di);
      CHECK_INT(info.fmax_khz, v->fmax_khz);
      CHECK_INT(info.guard_time_n, v->n);
      CHECK_INT(info.t0.wi, v->wi);
      CHECK_INT(info.t1.ifsc, v->ifsc);
      CHECK_INT(info.t1.bwi, v->bwi);
      CHECK_INT(info.t1.cwi, v->cwi);
      CHECK_INT(info.t1.edc, v->edc);
      if (check_case_failures != before)
        printf("#   in vector %s\n", v->hex);
    }
}

static void
test_goldkey(void)
{
  struct atr_info info;

  CHECK_OK(parse_hex("3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50 DC", &info, NULL));
  CHECK_INT(info.convention, ATR_CONV_DIRECT);
  check_ibyte(&info, 0, ATR_TA, 1, 0x18, 2, ATR_M_FI_DI);
  check_ibyte(&info, 1, ATR_TD, 1, 0x81, 3, ATR_M_STRUCTURE);
  check_ibyte(&info, 2, ATR_TD, 2, 0xb1, 4, ATR_M_STRUCTURE);
  check_ibyte(&info, 3, ATR_TA, 3, 0x80, 5, ATR_M_IFSC);
  check_ibyte(&info, 4, ATR_TB, 3, 0x7d, 6, ATR_M_BWI_CWI);
  check_ibyte(&info, 5, ATR_TD, 3, 0x1f, 7, ATR_M_STRUCTURE);
  check_ibyte(&info, 6, ATR_TA, 4, 0x03, 8, ATR_M_CLOCK_CLASS);
  CHECK_INT(info.ibytes[0].t, -1);
  CHECK_INT(info.ibytes[3].t, 1);
  CHECK_INT(info.ibytes[6].t, 15);
  CHECK_MEM(info.bytes + info.hist_offset, info.hist_len, "\x19\xc8\x00\x50", 4);
  CHECK_INT(info.bytes[13], 0xdc);
  CHECK_INT(info.t15.clock_stop, ATR_CLOCK_STOP_NO);
  CHECK_INT(info.t15.classes, ATR_CLASS_A | ATR_CLASS_B);
  CHECK_STR(atr_classes_name(info.t15.classes), "A and B");
  CHECK_INT(info.specific_mode, 0);
}

static void
test_desfire_sam(void)
{
  struct atr_info info;

  CHECK_OK(parse_hex("3B DE 18 FF 81 F1 FE 43 00 3F 07 83 44 45 53 46 69 72 65 38 20"
                     " 53 41 4D 2D 58 17",
                     &info, NULL));
  check_ibyte(&info, 1, ATR_TC, 1, 0xff, 3, ATR_M_GUARD_TIME);
  check_ibyte(&info, 4, ATR_TA, 3, 0xfe, 6, ATR_M_IFSC);
  check_ibyte(&info, 5, ATR_TB, 3, 0x43, 7, ATR_M_BWI_CWI);
  check_ibyte(&info, 6, ATR_TC, 3, 0x00, 8, ATR_M_EDC);
  check_ibyte(&info, 7, ATR_TD, 3, 0x3f, 9, ATR_M_STRUCTURE);
  check_ibyte(&info, 8, ATR_TA, 4, 0x07, 10, ATR_M_CLOCK_CLASS);
  check_ibyte(&info, 9, ATR_TB, 4, 0x83, 11, ATR_M_SPU);
  CHECK_MEM(info.bytes + info.hist_offset, info.hist_len, "DESFire8 SAM-X", 14);
  CHECK_INT(info.t15.classes, ATR_CLASS_A | ATR_CLASS_B | ATR_CLASS_C);
  CHECK_STR(atr_classes_name(info.t15.classes), "A, B and C");
  CHECK_INT(info.t15.clock_stop, ATR_CLOCK_STOP_NO);
  CHECK_INT(info.t15.spu, 0x83);
}

static void
test_yubikey(void)
{
  struct atr_info info;

  CHECK_OK(parse_hex("3BFD1300008131FE158073C021C057597562694B657940", &info, NULL));
  check_ibyte(&info, 0, ATR_TA, 1, 0x13, 2, ATR_M_FI_DI);
  check_ibyte(&info, 1, ATR_TB, 1, 0x00, 3, ATR_M_VPP);
  check_ibyte(&info, 2, ATR_TC, 1, 0x00, 4, ATR_M_GUARD_TIME);
  check_ibyte(&info, 3, ATR_TD, 1, 0x81, 5, ATR_M_STRUCTURE);
  check_ibyte(&info, 4, ATR_TD, 2, 0x31, 6, ATR_M_STRUCTURE);
  check_ibyte(&info, 5, ATR_TA, 3, 0xfe, 7, ATR_M_IFSC);
  check_ibyte(&info, 6, ATR_TB, 3, 0x15, 8, ATR_M_BWI_CWI);
  CHECK_MEM(info.bytes + info.hist_offset + 6, 7, "YubiKey", 7);
  /* No T=15: the ISO assumptions stand, unflagged. */
  CHECK(!(info.set & (ATR_SET_CLOCK_STOP | ATR_SET_CLASSES)));
  CHECK_INT(info.t15.clock_stop, ATR_CLOCK_STOP_NO);
  CHECK_INT(info.t15.classes, ATR_CLASS_A);
}

static void
test_specific_mode(void)
{
  struct atr_info info;

  /* TA2 = 81: specific mode T=1, cannot change, Fi/Di from TA1. */
  CHECK_OK(parse_hex("3B 97 18 11 81 44 49 44 45 4D 01 07 58", &info, NULL));
  check_ibyte(&info, 2, ATR_TA, 2, 0x81, 4, ATR_M_MODE);
  CHECK_INT(info.set, SET_TA1 | ATR_SET_MODE);
  CHECK_INT(info.specific_mode, 1);
  CHECK_INT(info.specific_t, 1);
  CHECK_INT(info.mode_fixed, 1);
  CHECK_INT(info.implicit_params, 0);
  /* TA2 = 10: T=0, may change, implicit parameters. */
  CHECK_OK(parse_hex("3B 90 11 10 10", &info, NULL));
  CHECK_INT(info.specific_mode, 1);
  CHECK_INT(info.specific_t, 0);
  CHECK_INT(info.mode_fixed, 0);
  CHECK_INT(info.implicit_params, 1);
  CHECK_INT(info.t1.ifsc, 32);
}

static void
test_repeated_specific_bytes(void)
{
  struct atr_info info;

  /* TD2 and TD3 both name T=1: only the first TA for T=1 is the IFSC. */
  CHECK_OK(parse_hex("3B 80 81 91 FE 11 20 5F", &info, NULL));
  check_ibyte(&info, 2, ATR_TA, 3, 0xfe, 4, ATR_M_IFSC);
  check_ibyte(&info, 4, ATR_TA, 4, 0x20, 6, ATR_M_OTHER);
  CHECK_INT(info.t1.ifsc, 254);
  /* A TA for T=14 means nothing to this parser. */
  CHECK_OK(parse_hex("3B 80 81 1E 55 4A", &info, NULL));
  check_ibyte(&info, 2, ATR_TA, 3, 0x55, 4, ATR_M_OTHER);
  CHECK_INT(info.ibytes[2].t, 14);
  CHECK_INT(info.set, 0);
}

static void
test_classes(void)
{
  static const char *const want[8] = {
    NULL, "A", "B", "A and B", "C", NULL, "B and C", "A, B and C",
  };
  struct atr_info info;
  unsigned int c;

  for (c = 0; c < 64; c++)
    {
      const char *got = atr_classes_name(c);

      if (c < 8 && want[c])
        CHECK_STR(got, want[c]);
      else
        CHECK(got == NULL);
    }
  /* RFU classes parse; the name says they are RFU. */
  CHECK_OK(parse_hex("3B 80 81 1F 3F 21", &info, NULL));
  CHECK_INT(info.t15.classes, 0x3f);
  CHECK_INT(info.t15.clock_stop, ATR_CLOCK_STOP_NO);
  CHECK(atr_classes_name(info.t15.classes) == NULL);
  CHECK_OK(parse_hex("3B 80 81 1F 05 1B", &info, NULL));
  CHECK(atr_classes_name(info.t15.classes) == NULL);
}

static void
test_clock_stop(void)
{
  struct atr_info info;

  CHECK_STR(atr_clock_stop_name(ATR_CLOCK_STOP_NO), "not supported");
  CHECK_STR(atr_clock_stop_name(ATR_CLOCK_STOP_L), "state L");
  CHECK_STR(atr_clock_stop_name(ATR_CLOCK_STOP_H), "state H");
  CHECK_STR(atr_clock_stop_name(ATR_CLOCK_STOP_ANY), "no preference");
  CHECK_STR(atr_clock_stop_name((enum atr_clock_stop)4), "?");
  /* TA3 = 42 after T=15: state L, class B (an ETSI UICC). */
  CHECK_OK(parse_hex("3B 80 81 1F 42 5C", &info, NULL));
  CHECK_INT(info.t15.clock_stop, ATR_CLOCK_STOP_L);
  CHECK_INT(info.t15.classes, ATR_CLASS_B);
  CHECK_OK(parse_hex("3B 80 81 1F 81 9F", &info, NULL));
  CHECK_INT(info.t15.clock_stop, ATR_CLOCK_STOP_H);
  CHECK_INT(info.t15.classes, ATR_CLASS_A);
  CHECK_OK(parse_hex("3B 80 81 1F C6 D8", &info, NULL));
  CHECK_INT(info.t15.clock_stop, ATR_CLOCK_STOP_ANY);
  CHECK_STR(atr_classes_name(info.t15.classes), "B and C");
}

static void
test_offers_and_find(void)
{
  struct atr_info info;
  const struct atr_ibyte *b;

  CHECK_OK(parse_hex("3B 80 8E 71 12 34 56 0F", &info, NULL));
  CHECK_INT(atr_offers(&info, 14), 1);
  CHECK_INT(atr_offers(&info, 1), 1);
  CHECK_INT(atr_offers(&info, 0), 0);
  CHECK_INT(atr_offers(&info, 15), 0);
  b = atr_find(&info, ATR_TC, 3);
  CHECK(b && b->value == 0x56 && b->offset == 6);
  b = atr_find(&info, ATR_TD, 2);
  CHECK(b && b->value == 0x71);
  CHECK(atr_find(&info, ATR_TA, 1) == NULL);
  CHECK(atr_find(&info, ATR_TD, 3) == NULL);
  CHECK_OK(parse_hex("3B 02 14 50", &info, NULL));
  CHECK_INT(atr_offers(&info, 0), 1);
  CHECK_INT(atr_offers(&info, 1), 0);
  CHECK(atr_find(&info, ATR_TD, 1) == NULL);
}

/* One malformed ATR per row: the exact code, position and sentence. */
static const struct
{
  const char *hex;
  gpg_err_code_t code;
  size_t offset;
  const char *reason;
} bad_vectors[] = {
  { "", GPG_ERR_TOO_SHORT, 0, "the ATR is empty" },
  { "3B", GPG_ERR_TOO_SHORT, 1, "the ATR ends after TS; T0 is missing" },
  { "3F", GPG_ERR_TOO_SHORT, 1, "the ATR ends after TS; T0 is missing" },
  { "3C 00", GPG_ERR_INV_VALUE, 0,
    "TS is 3C, not 3B (direct convention) or 3F (inverse convention)" },
  { "00", GPG_ERR_INV_VALUE, 0,
    "TS is 00, not 3B (direct convention) or 3F (inverse convention)" },
  { "03 00", GPG_ERR_INV_VALUE, 0,
    "TS is 03: an inverse-convention ATR read as direct convention (TS must be 3B "
    "or 3F)" },
  { "3B 94 18", GPG_ERR_TOO_SHORT, 3,
    "T0 = 94 says TA1, TD1 follow but the ATR ends after 3 bytes" },
  { "3B 80", GPG_ERR_TOO_SHORT, 2,
    "T0 = 80 says TD1 follows but the ATR ends after 2 bytes" },
  { "3B 94 18 81 B1 80 7D", GPG_ERR_TOO_SHORT, 7,
    "TD2 = B1 says TA3, TB3, TD3 follow but the ATR ends after 7 bytes" },
  { "3B 94 18 81 B1 80 7D 1F 03 19 C8 00", GPG_ERR_TOO_SHORT, 12,
    "T0 = 94 says K = 4 historical bytes but the ATR ends after 3 of them (12 bytes "
    "in all)" },
  { "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50", GPG_ERR_TOO_SHORT, 13,
    "TD1 = 81 offers T=1, so a TCK must end the ATR, but the ATR ends after the "
    "historical bytes (13 bytes)" },
  { "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50 1F", GPG_ERR_CHECKSUM, 13,
    "TCK is 1F, expected DC" },
  { "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 51 DC", GPG_ERR_CHECKSUM, 13,
    "TCK is DC, expected DD" },
  { "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50 DC 00", GPG_ERR_INV_LENGTH, 14,
    "extra bytes: the ATR should end after 14 bytes (with its TCK) but has 15" },
  { "3B 02 14 50 11", GPG_ERR_INV_LENGTH, 4,
    "extra bytes: the ATR should end after 4 bytes (only T=0 is offered, so no TCK) "
    "but has 5" },
  /* TCK is needed for T=15 alone too, which TD1 cannot name. */
  { "3B 81 1F 00 CC 52", GPG_ERR_INV_VALUE, 2,
    "TD1 = 1F names T=15, but TD1 must name the first protocol offered; T=15 may "
    "only follow it" },
  { "3B 80 80 1F 03", GPG_ERR_TOO_SHORT, 5,
    "TD2 = 1F offers T=15, so a TCK must end the ATR, but the ATR ends after the "
    "historical bytes (5 bytes)" },
  { "3B 80 81 11 00 10", GPG_ERR_INV_VALUE, 4,
    "TA3 = 00: IFSC for T=1 must be 01 to FE (1 to 254 bytes)" },
  { "3B 80 81 11 FF EF", GPG_ERR_INV_VALUE, 4,
    "TA3 = FF: IFSC for T=1 must be 01 to FE (1 to 254 bytes)" },
  /* 17 TDs and 15 historical bytes: 34 bytes announced. */
  { "3B 8F 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 00"
    " 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
    GPG_ERR_INV_LENGTH, 33,
    "T0 = 8F says K = 15 historical bytes, which would make the ATR 34 bytes long; "
    "ISO 7816-3 allows 33" },
  { "3B 8F 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 01"
    " 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 8E",
    GPG_ERR_INV_LENGTH, 33,
    "T0 = 8F says K = 15 historical bytes and a TCK follows, which would make the "
    "ATR 34 bytes long; ISO 7816-3 allows 33" },
  /* A TD chain running past the maximum, in a 40-byte input. */
  { "3B 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80"
    " 80 80 80 80 80 80 80 80 80 80 80 80 80 80",
    GPG_ERR_INV_LENGTH, 33,
    "TD31 = 80 says TD32 follows, which would make the ATR longer than the 33 bytes "
    "ISO 7816-3 allows" },
};

static void
test_malformed_table(void)
{
  size_t k;

  for (k = 0; k < sizeof bad_vectors / sizeof bad_vectors[0]; k++)
    {
      struct atr_info info;
      struct atr_error e;

      int before = check_case_failures;

      CHECK_ERR(parse_hex(bad_vectors[k].hex, &info, &e), bad_vectors[k].code);
      CHECK_INT(e.offset, bad_vectors[k].offset);
      CHECK_STR(e.reason, bad_vectors[k].reason);
      /* Nothing half-parsed is left for a careless caller. */
      CHECK_INT(info.len, 0);
      CHECK_INT(info.n_ibytes, 0);
      CHECK_INT(info.n_protocols, 0);
      CHECK_INT(info.set, 0);
      /* The error report is optional. */
      CHECK_ERR(parse_hex(bad_vectors[k].hex, &info, NULL), bad_vectors[k].code);
      if (check_case_failures != before)
        printf("#   in vector %s\n", bad_vectors[k].hex);
    }
}

/* Every proper prefix of a valid ATR lies about its length. */
static void
test_every_prefix(void)
{
  size_t k, n;

  for (k = 0; k < sizeof valid_vectors / sizeof valid_vectors[0]; k++)
    {
      uint8_t buf[ATR_MAX_LEN];
      struct atr_info info;
      struct atr_error e;

      CHECK_OK(hex_decode(valid_vectors[k].hex, 1, buf, sizeof buf, &n, NULL));
      while (n--)
        {
          CHECK_ERR(atr_parse(buf, n, &info, &e), GPG_ERR_TOO_SHORT);
          CHECK_INT(e.offset, n);
        }
    }
}

/* Any single changed byte after the interface bytes breaks the TCK. */
static void
test_every_flipped_byte(void)
{
  static const uint8_t atr[]
      = { 0x3b, 0xda, 0x18, 0xff, 0x81, 0xb1, 0xfe, 0x75, 0x1f, 0x03, 0x00,
          0x31, 0xc5, 0x73, 0xc0, 0x01, 0x40, 0x00, 0x90, 0x00, 0x0c };
  uint8_t buf[sizeof atr];
  struct atr_info info;
  struct atr_error e;
  size_t k;

  for (k = 10; k < sizeof atr; k++)
    {
      memcpy(buf, atr, sizeof atr);
      buf[k] ^= 0x40;
      CHECK_ERR(atr_parse(buf, sizeof buf, &info, &e), GPG_ERR_CHECKSUM);
      CHECK_INT(e.offset, sizeof atr - 1);
    }
}

/* A second parse into the same struct leaves nothing of the first. */
static void
test_reuse(void)
{
  struct atr_info info;

  CHECK_OK(parse_hex("3B DE 18 FF 81 F1 FE 43 00 3F 07 83 44 45 53 46 69 72 65 38 20"
                     " 53 41 4D 2D 58 17",
                     &info, NULL));
  CHECK_OK(parse_hex("3B 02 14 50", &info, NULL));
  CHECK_INT(info.set, 0);
  CHECK_INT(info.n_ibytes, 0);
  CHECK_INT(info.has_t15, 0);
  CHECK_INT(info.guard_time_n, 0);
  CHECK_INT(info.t1.ifsc, 32);
  CHECK_INT(info.len, 4);
}

int
main(void)
{
  RUN(test_valid_table);
  RUN(test_goldkey);
  RUN(test_desfire_sam);
  RUN(test_yubikey);
  RUN(test_specific_mode);
  RUN(test_repeated_specific_bytes);
  RUN(test_classes);
  RUN(test_clock_stop);
  RUN(test_offers_and_find);
  RUN(test_malformed_table);
  RUN(test_every_prefix);
  RUN(test_every_flipped_byte);
  RUN(test_reuse);
  return check_done();
}
