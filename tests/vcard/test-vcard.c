/* test-vcard.c - the software OpenPGP card driven with APDUs in memory
 *
 * The life of a card (select, data objects, PINs, Reset Code, keys of
 * every algorithm with their results checked by libgcrypt on the public
 * key the card returned, import, factory reset, state file round trip) and
 * every class of bad APDU with the exact status word a real card gives.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gcrypt.h>

#include "apdu.h"
#include "check.h"
#include "hex.h"
#include "tlv.h"
#include "vcard.h"

static struct vcard *card;
static uint8_t resp[VCARD_MAX_APDU + 2];
static size_t rlen;           /* response data length, SW excluded */
static uint8_t scratch[8192]; /* APDU being built */

/* Sends LEN bytes and returns the status word; the data is resp[0..rlen). */
static unsigned int
send_raw(const uint8_t *apdu, size_t len)
{
  size_t n = 0;
  gpg_error_t err;

  err = vcard_apdu(card, apdu, len, resp, sizeof resp, &n);
  CHECK_OK(err);
  if (n < 2)
    {
      CHECK(n >= 2);
      return 0;
    }
  rlen = n - 2;
  return (unsigned int)resp[n - 2] << 8 | resp[n - 1];
}

/* Sends an APDU written in hex (blanks allowed). */
static unsigned int
tx(const char *hex)
{
  size_t n = 0;

  if (hex_decode(hex, 1, scratch, sizeof scratch, &n, NULL))
    {
      printf("# bad hex in test: %s\n", hex);
      abort();
    }
  return send_raw(scratch, n);
}

/* Sends a command built from its parts, in the short form if it fits. */
static unsigned int
txc(uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data, size_t lc,
    size_t le)
{
  struct apdu_cmd c = { cla, ins, p1, p2, data, lc, le };
  size_t n = 0;

  CHECK_OK(apdu_encode(&c, APDU_FORM_AUTO, scratch, sizeof scratch, &n));
  return send_raw(scratch, n);
}

#define SW(hex, want) CHECK_INT(tx(hex), want)

static void
new_card(unsigned int version)
{
  struct vcard_options opt = { version, NULL, 0x12345678, 0 };

  vcard_free(card);
  card = NULL;
  CHECK_OK(vcard_new(&opt, &card));
}

static void
select_app(void)
{
  SW("00 A4 04 00 06 D2 76 00 01 24 01", 0x9000);
}

static void
fresh(void)
{
  new_card(0);
  select_app();
}

static void
verify_pw1(uint8_t p2)
{
  static const uint8_t pin[] = "123456";

  CHECK_INT(txc(0, 0x20, 0, p2, pin, 6, 0), 0x9000);
}

static void
verify_pw3(void)
{
  SW("00 20 00 83 08 3132333435363738", 0x9000);
}

/* Reads DO TAG into BUF (the response data); returns its length. */
static size_t
get_do(unsigned int tag, uint8_t *buf, size_t size)
{
  CHECK_INT(txc(0, 0xCA, (uint8_t)(tag >> 8), (uint8_t)tag, NULL, 0, 65536), 0x9000);
  CHECK(rlen <= size);
  memcpy(buf, resp, rlen < size ? rlen : size);
  return rlen;
}

/* The PW status bytes C4. */
static void
check_c4(const char *want)
{
  uint8_t w[7];
  size_t n = 0;

  hex_decode(want, 1, w, sizeof w, &n, NULL);
  SW("00 CA 00 C4 00", 0x9000);
  CHECK_MEM(resp, rlen, w, n);
}

static void
test_atr(void)
{
  uint8_t atr[33], x = 0;
  size_t n, i;

  fresh();
  n = vcard_atr(card, atr, sizeof atr);
  CHECK_INT(n, 21);
  CHECK_INT(atr[0], 0x3B);
  for (i = 1; i < n; i++)
    x ^= atr[i];
  CHECK_INT(x, 0); /* TCK */
  /* Card capabilities: chaining and extended Lc/Le. */
  CHECK_INT(atr[16], 0xC0);
  CHECK_INT(vcard_atr(card, atr, 10), 0);
}

static void
test_select(void)
{
  new_card(0);
  SW("00 CA 00 4F 00", 0x6D00);                   /* nothing selected */
  SW("00 A4 00 0C 02 3F 00", 0x6A82);             /* scdaemon's MF probe */
  SW("00 A4 04 00 06 D2 76 00 01 24 02", 0x6A82); /* another application */
  SW("00 A4 04 00 05 D2 76 00 01 24", 0x6A82);    /* RID only */
  SW("00 A4 04 01 06 D2 76 00 01 24 01", 0x6A86);
  SW("00 A4 04 00 06 D2 76 00 01 24 01 00", 0x9000);
  CHECK_INT(rlen, 20); /* FCI: 6F 12 84 10 AID */
  CHECK_MEM(resp, 10, "\x6F\x12\x84\x10\xD2\x76\x00\x01\x24\x01", 10);
  SW("00 A4 04 0C 10 D2 76 00 01 24 01 03 04 FF 00 12 34 56 78 00 00", 0x9000);
  CHECK_INT(rlen, 0);
  SW("00 CA 00 4F 00", 0x9000);
  CHECK_MEM(resp, rlen,
            "\xD2\x76\x00\x01\x24\x01\x03\x04\xFF\x00\x12\x34\x56\x78\x00\x00", 16);
  /* A reset forgets the selection. */
  vcard_reset(card);
  SW("00 CA 00 4F 00", 0x6D00);
}

static void
test_get_data(void)
{
  static const unsigned int path_c0[] = { 0x6E, 0x73, 0xC0 };
  static const unsigned int path_c4[] = { 0x6E, 0x73, 0xC4 };
  static const unsigned int path_de[] = { 0x6E, 0x73, 0xDE };
  static const unsigned int path_ext[] = { 0x6E, 0x7F66 };
  uint8_t buf[1024];
  struct tlv t;
  size_t n;

  fresh();
  n = get_do(0x6E, buf, sizeof buf);
  CHECK_OK(tlv_find_path(buf, n, path_c0, 3, &t));
  CHECK_INT(t.len, 10);
  CHECK_INT(t.value[0], 0x7D);
  CHECK_OK(tlv_find_path(buf, n, path_c4, 3, &t));
  CHECK_MEM(t.value, t.len, "\x00\x7F\x7F\x7F\x03\x00\x03", 7);
  CHECK_OK(tlv_find_path(buf, n, path_de, 3, &t));
  CHECK_MEM(t.value, t.len, "\x01\x00\x02\x00\x03\x00", 6);
  CHECK_OK(tlv_find_path(buf, n, path_ext, 2, &t));
  CHECK_MEM(t.value, t.len, "\x02\x02\x10\x00\x02\x02\x10\x00", 8);
  check_c4("00 7F 7F 7F 03 00 03");
  n = get_do(0xC1, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x01\x08\x00\x00\x20\x00", 6);
  n = get_do(0x5F52, buf, sizeof buf);
  CHECK_INT(n, 10);
  n = get_do(0x65, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x65\x08\x5B\x00\x5F\x2D\x00\x5F\x35\x00", 10);
  n = get_do(0x7A, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x7A\x05\x93\x03\x00\x00\x00", 7);
  n = get_do(0x7F74, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x7F\x74\x03\x81\x01\x20", 6);
  n = get_do(0xF9, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x81\x01\x00", 3);
  n = get_do(0xD6, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x00\x20", 2);
  n = get_do(0xC5, buf, sizeof buf);
  CHECK_INT(n, 60);
  n = get_do(0x0101, buf, sizeof buf);
  CHECK_INT(n, 0);
  SW("00 CA 01 03 00", 0x6982);
  SW("00 CA 01 04 00", 0x6982);
  SW("00 CA 00 73 00", 0x6A88);
  SW("00 CA 00 D3 00", 0x6A88); /* the Reset Code is never readable */
  SW("00 CA 00 C7 00", 0x6A88);
  SW("00 CA 12 34 00", 0x6A88);
  SW("00 CA 00 6E 01 00 00", 0x6700);
}

/* A card profile without private DOs: the capability bit is clear and the
 * objects do not exist, for reading and for writing. */
static void
test_no_private_dos(void)
{
  struct vcard_options opt = { 0, NULL, 0x12345678, 1 };
  uint8_t buf[1024];
  struct tlv t;
  size_t n;

  vcard_free(card);
  card = NULL;
  CHECK_OK(vcard_new(&opt, &card));
  select_app();
  n = get_do(0x6E, buf, sizeof buf);
  CHECK_OK(tlv_find_path(buf, n, (const unsigned int[]){ 0x6E, 0x73, 0xC0 }, 3, &t));
  CHECK_INT(t.value[0], 0x75);
  SW("00 CA 01 01 00", 0x6A88);
  SW("00 CA 01 02 00", 0x6A88);
  verify_pw3();
  SW("00 DA 01 02 01 61", 0x6A88);
  SW("00 CA 00 5E 00", 0x9000); /* the other objects are there */
  fresh();
}

static void
test_version_2_1(void)
{
  uint8_t buf[1024];
  struct tlv t;
  size_t n;

  new_card(VCARD_VERSION_2_1);
  select_app();
  n = get_do(0x4F, buf, sizeof buf);
  CHECK_INT(buf[6], 0x02);
  CHECK_INT(buf[7], 0x01);
  n = get_do(0x6E, buf, sizeof buf);
  CHECK_ERR(tlv_find_path(buf, n, (const unsigned int[]){ 0x6E, 0x7F66 }, 2, &t),
            GPG_ERR_NOT_FOUND);
  CHECK_OK(tlv_find_path(buf, n, (const unsigned int[]){ 0x6E, 0x73, 0xC0 }, 3, &t));
  CHECK_INT(t.value[0], 0x7C); /* no KDF */
  CHECK_MEM(t.value + 6, 4, "\x0F\xF7\x10\x00", 4);
  SW("00 CA 00 DE 00", 0x6A88);
  SW("00 CA 7F 74 00", 0x6A88);
  SW("00 CA 00 F9 00", 0x6A88);
  SW("00 CC 7F 21 00", 0x6D00);
  SW("00 20 FF 81", 0x6A86);
  verify_pw3();
  /* ECC arrived with 3.0. */
  SW("00 DA 00 C1 0A 16 2B 06 01 04 01 DA 47 0F 01", 0x6A80);
  SW("00 DA 00 C1 06 01 08 00 00 20 00", 0x9000);
  new_card(VCARD_VERSION_3_3);
  select_app();
  n = get_do(0x4F, buf, sizeof buf);
  CHECK_INT(buf[7], 0x03);
}

static void
test_verify(void)
{
  uint8_t big[200];

  fresh();
  SW("00 20 00 81", 0x63C3); /* not verified yet */
  SW("00 20 00 81 06 31 31 31 31 31 31", 0x6982);
  check_c4("00 7F 7F 7F 02 00 03");
  SW("00 20 00 81", 0x63C2);
  verify_pw1(0x81);
  check_c4("00 7F 7F 7F 03 00 03");
  SW("00 20 00 81", 0x9000);
  SW("00 20 00 82", 0x63C3); /* 81 and 82 are separate states */
  SW("00 20 FF 81", 0x9000);
  SW("00 20 00 81", 0x63C3);
  SW("00 20 FF 81 01 00", 0x6700);
  /* Lengths outside 6..127 (PW1) and 8..127 (PW3) cost no try. */
  SW("00 20 00 81 05 31 32 33 34 35", 0x6700);
  SW("00 20 00 83 07 31 32 33 34 35 36 37", 0x6700);
  memset(big, '1', sizeof big);
  CHECK_INT(txc(0, 0x20, 0, 0x82, big, 128, 0), 0x6700);
  check_c4("00 7F 7F 7F 03 00 03");
  SW("00 20 00 84 06 31 32 33 34 35 36", 0x6A86);
  SW("00 20 01 81 06 31 32 33 34 35 36", 0x6A86);
  /* Block PW3; the right PIN no longer helps. */
  SW("00 20 00 83 08 3132333435363730", 0x6982);
  SW("00 20 00 83 08 3132333435363730", 0x6982);
  SW("00 20 00 83 08 3132333435363730", 0x6983);
  SW("00 20 00 83 08 3132333435363738", 0x6983);
  SW("00 20 00 83", 0x63C0);
  check_c4("00 7F 7F 7F 03 00 00");
  /* A wrong PIN drops an earlier verification. */
  verify_pw1(0x82);
  SW("00 20 00 82 06 31 31 31 31 31 31", 0x6982);
  SW("00 20 00 82", 0x63C2);
}

static void
test_change_pins(void)
{
  fresh();
  SW("00 24 00 81 0C 313233343536 363534333231", 0x9000);
  SW("00 20 00 81 06 313233343536", 0x6982);
  SW("00 20 00 81 06 363534333231", 0x9000);
  SW("00 24 00 81 0C 313233343536 313233343536", 0x6982); /* wrong old */
  SW("00 20 00 81", 0x63C2); /* and PW1 is no longer verified */
  SW("00 24 00 81 0B 363534333231 3132333435", 0x6700); /* new too short */
  SW("00 24 00 81 06 363534333231", 0x6700);
  SW("00 24 00 82 0C 363534333231 313233343536", 0x6A86);
  SW("00 24 01 81 0C 363534333231 313233343536", 0x6A86);
  SW("00 24 00 81 0C 363534333231 313233343536", 0x9000);
  SW("00 24 00 83 10 3132333435363738 3837363534333231", 0x9000);
  SW("00 20 00 83 08 3837363534333231", 0x9000);
  check_c4("00 7F 7F 7F 03 00 03");
}

static void
test_reset_code(void)
{
  fresh();
  SW("00 2C 00 81 0E 3132333435363738 313131313131", 0x6982); /* no RC */
  SW("00 2C 02 81 06 313131313131", 0x6982);
  SW("00 DA 00 D3 08 3132333435363738", 0x6982);
  verify_pw3();
  SW("00 DA 00 D3 07 31323334353637", 0x6700);
  SW("00 DA 00 D3 08 3132333435363738", 0x9000);
  check_c4("00 7F 7F 7F 03 03 03");
  vcard_reset(card);
  select_app();
  SW("00 20 00 81 06 000000000000", 0x6982);
  SW("00 20 00 81 06 000000000000", 0x6982);
  SW("00 20 00 81 06 000000000000", 0x6983);
  SW("00 20 00 81 06 313233343536", 0x6983);
  SW("00 2C 00 81 0E 3132333435363730 313131313131", 0x6982); /* wrong RC */
  SW("00 2C 00 81 0D 3132333435363738 3131313131", 0x6700);
  SW("00 2C 00 81 0E 3132333435363738 313131313131", 0x9000);
  check_c4("00 7F 7F 7F 03 03 03");
  SW("00 20 00 81 06 313131313131", 0x9000);
  SW("00 2C 01 81 06 313131313131", 0x6A86);
  verify_pw3();
  SW("00 2C 02 81 06 313233343536", 0x9000);
  verify_pw1(0x82);
  SW("00 DA 00 D3", 0x9000); /* clears the Reset Code */
  check_c4("00 7F 7F 7F 03 00 03");
}

static void
test_put_data(void)
{
  uint8_t buf[1024];
  size_t n;

  fresh();
  SW("00 DA 00 5B 03 41 3C 3C", 0x6982);
  verify_pw3();
  SW("00 DA 00 5B 03 41 3C 3C", 0x9000);
  n = get_do(0x5B, buf, sizeof buf);
  CHECK_MEM(buf, n, "A<<", 3);
  memset(buf, 'x', 40);
  CHECK_INT(txc(0, 0xDA, 0, 0x5B, buf, 40, 0), 0x6700);
  SW("00 DA 5F 2D 02 64 65", 0x9000);
  SW("00 DA 5F 35 01 31", 0x9000);
  n = get_do(0x65, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x65\x0E\x5B\x03\x41\x3C\x3C\x5F\x2D\x02\x64\x65\x5F\x35\x01\x31",
            16);
  SW("00 DA 00 C7 14 0102030405060708090A0B0C0D0E0F1011121314", 0x9000);
  SW("00 DA 00 C7 13 0102030405060708090A0B0C0D0E0F10111213", 0x6700);
  SW("00 DA 00 CE 04 5F000000", 0x9000);
  n = get_do(0xC5, buf, sizeof buf);
  CHECK_MEM(buf, 3, "\x01\x02\x03", 3);
  n = get_do(0xCD, buf, sizeof buf);
  CHECK_MEM(buf, 4, "\x5F\x00\x00\x00", 4);
  SW("00 DA 00 C4 01 01", 0x9000);
  check_c4("01 7F 7F 7F 03 00 03");
  SW("00 DA 00 C4 01 02", 0x6A80);
  SW("00 DA 00 C4 02 01 01", 0x6700);
  SW("00 DA 00 D6 02 01 20", 0x9000);
  SW("00 DA 00 D6 02 03 20", 0x6A80);
  SW("00 DA 00 D7 02 02 20", 0x9000); /* permanently on: no way back */
  SW("00 DA 00 D7 02 00 20", 0x6985);
  SW("00 DA 00 4F 01 00", 0x6A88); /* not writable */
  SW("00 DA 12 34 01 00", 0x6A88);
  SW("00 DA 01 02 03 61 62 63", 0x9000);
  SW("00 DA 01 04 03 61 62 63", 0x9000);
  SW("00 DA 01 01 01 61", 0x6982); /* PW1 (82) writes 0101 and 0103 */
  verify_pw1(0x82);
  SW("00 DA 01 01 01 61", 0x9000);
  SW("00 DA 01 03 01 62", 0x9000);
  n = get_do(0x0103, buf, sizeof buf);
  CHECK_MEM(buf, n, "b", 1);
  n = get_do(0x0104, buf, sizeof buf);
  CHECK_MEM(buf, n, "abc", 3);
  SW("00 DA 00 F9 03 82 01 00", 0x6A80);
  SW("00 DA 00 F9 05 81 01 03 87 01", 0x6A80);    /* broken TLV */
  SW("00 DA 00 F9 06 81 01 03 87 01 41", 0x6A80); /* initial PW1 too short */
  /* Certificate occurrences (3.x): SELECT DATA, GET NEXT DATA. */
  SW("00 DA 7F 21 03 30 01 00", 0x9000);
  SW("00 A5 01 04 06 60 04 5C 02 7F 21", 0x9000);
  SW("00 DA 7F 21 03 30 01 01", 0x9000);
  SW("00 A5 00 04 04 5C 02 7F 21", 0x9000);
  n = get_do(0x7F21, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x30\x01\x00", 3);
  SW("00 CC 7F 21 00", 0x9000);
  CHECK_MEM(resp, rlen, "\x30\x01\x01", 3);
  SW("00 CC 7F 21 00", 0x9000);
  CHECK_INT(rlen, 0);
  SW("00 CC 7F 21 00", 0x6A88);
  SW("00 A5 03 04 06 60 04 5C 02 7F 21", 0x6A86);
  SW("00 A5 00 04 06 60 04 5C 02 00 5E", 0x6A88);
}

/* Writing the KDF-DO sets the PINs to its initial hashes; turning KDF off
 * brings back the factory PINs. */
static void
test_kdf(void)
{
  static const char kdf[] = "00 DA 00 F9 1E 81 01 03 82 01 08 83 04 00 00 04 00"
                            "87 06 414141414141 88 08 4242424242424242";

  fresh();
  verify_pw3();
  SW("00 DA 00 D3 08 3132333435363738", 0x9000);
  SW(kdf, 0x9000);
  check_c4("00 7F 7F 7F 03 00 03"); /* Reset Code cleared */
  SW("00 DA 00 5B 01 41", 0x6982);  /* verification forgotten */
  SW("00 20 00 83 08 3132333435363738", 0x6982);
  SW("00 20 00 83 08 4242424242424242", 0x9000);
  SW("00 20 00 82 06 414141414141", 0x9000);
  SW("00 CA 00 F9 00", 0x9000);
  CHECK_INT(rlen, 30);
  SW("00 DA 00 F9 03 81 01 00", 0x9000);
  SW("00 20 00 83 08 3132333435363738", 0x9000);
  SW("00 20 00 81 06 313233343536", 0x9000);
}

/* ---- Keys, checked with libgcrypt ------------------------------------- */

static gcry_sexp_t
rsa_public(const uint8_t *pub, size_t len)
{
  struct tlv n, e;
  gcry_sexp_t s = NULL;

  CHECK_OK(tlv_find_path(pub, len, (const unsigned int[]){ 0x7F49, 0x81 }, 2, &n));
  CHECK_OK(tlv_find_path(pub, len, (const unsigned int[]){ 0x7F49, 0x82 }, 2, &e));
  CHECK_OK(gcry_sexp_build(&s, NULL, "(public-key(rsa(n %b)(e %b)))", (int)n.len, n.value,
                           (int)e.len, e.value));
  return s;
}

static gcry_sexp_t
ecc_public(const uint8_t *pub, size_t len, const char *curve, int eddsa)
{
  struct tlv q;
  gcry_sexp_t s = NULL;

  CHECK_OK(tlv_find_path(pub, len, (const unsigned int[]){ 0x7F49, 0x86 }, 2, &q));
  CHECK_OK(gcry_sexp_build(&s, NULL,
                           eddsa ? "(public-key(ecc(curve %s)(flags eddsa)(q %b)))"
                                 : "(public-key(ecc(curve %s)(q %b)))",
                           curve, (int)q.len, q.value));
  return s;
}

/* Generates a key in the slot of CRT (B6, B8, A4) and returns its 7F49. */
static size_t
generate(uint8_t crt, uint8_t *pub, size_t size)
{
  uint8_t data[2] = { crt, 0x00 };

  CHECK_INT(txc(0, 0x47, 0x80, 0x00, data, 2, 65536), 0x9000);
  CHECK(rlen <= size);
  memcpy(pub, resp, rlen);
  return rlen;
}

static void
check_rsa_sig(gcry_sexp_t key, const uint8_t *hash, const uint8_t *sig, size_t siglen)
{
  gcry_sexp_t s = NULL, d = NULL;

  CHECK_OK(gcry_sexp_build(&s, NULL, "(sig-val(rsa(s %b)))", (int)siglen, sig));
  CHECK_OK(gcry_sexp_build(&d, NULL, "(data(flags pkcs1)(hash sha256 %b))", 32, hash));
  CHECK_OK(gcry_pk_verify(s, d, key));
  gcry_sexp_release(s);
  gcry_sexp_release(d);
}

/* A DigestInfo for SHA-256 of HASH, as GnuPG sends to PSO: CDS. */
static size_t
digest_info(const uint8_t *hash, uint8_t *out)
{
  static const uint8_t prefix[]
      = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
          0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

  memcpy(out, prefix, sizeof prefix);
  memcpy(out + sizeof prefix, hash, 32);
  return sizeof prefix + 32;
}

static void
test_rsa_sign(void)
{
  uint8_t pub[1024], hash[32], di[64], buf[64];
  gcry_sexp_t key;
  size_t n, publen;

  fresh();
  SW("00 47 80 00 02 B6 00 00", 0x6982);
  SW("00 47 81 00 02 B6 00 00", 0x6A88); /* no key yet */
  verify_pw3();
  SW("00 47 82 00 02 B6 00 00", 0x6A86);
  SW("00 47 80 00 02 B7 00 00", 0x6A80);
  SW("00 47 80 00 00", 0x6700);
  /* Short Le: 256 bytes, then 61xx for GET RESPONSE. */
  SW("00 47 80 00 02 B6 00 00", 0x610E);
  memcpy(pub, resp, 256);
  SW("00 C0 00 00 05", 0x6109);
  memcpy(pub + 256, resp, 5);
  SW("00 C0 00 00 00", 0x9000);
  memcpy(pub + 261, resp, rlen);
  publen = 261 + rlen;
  CHECK_INT(publen, 270);
  SW("00 C0 00 00 00", 0x6985); /* nothing left */
  CHECK_INT(txc(0, 0x47, 0x81, 0, (const uint8_t *)"\xB6\x00", 2, 65536), 0x9000);
  CHECK_MEM(resp, rlen, pub, publen);
  key = rsa_public(pub, publen);
  n = get_do(0xDE, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x01\x01\x02\x00\x03\x00", 6);
  n = get_do(0xC5, buf, sizeof buf);
  CHECK_MEM(buf, 20, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);

  gcry_md_hash_buffer(GCRY_MD_SHA256, hash, "message", 7);
  n = digest_info(hash, di);
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, di, n, 256), 0x6982);
  verify_pw1(0x82);
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, di, n, 256), 0x6982); /* 82 is not 81 */
  verify_pw1(0x81);
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, di, n, 256), 0x9000);
  CHECK_INT(rlen, 256);
  check_rsa_sig(key, hash, resp, rlen);
  /* PW1 valid for one signature only (C4 byte 1 = 00). */
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, di, n, 256), 0x6982);
  SW("00 CA 00 7A 00", 0x9000);
  CHECK_MEM(resp, rlen, "\x7A\x05\x93\x03\x00\x00\x01", 7);
  SW("00 DA 00 C4 01 01", 0x9000);
  verify_pw1(0x81);
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, di, n, 256), 0x9000);
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, di, n, 256), 0x9000);
  check_rsa_sig(key, hash, resp, rlen);
  SW("00 CA 00 93 00", 0x9000);
  CHECK_MEM(resp, rlen, "\x00\x00\x03", 3);
  SW("00 2A 9E 9B 01 00", 0x6A86);
  SW("00 2A 80 86 02 00 00", 0x6A88); /* no decryption key */
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, di, 0, 256), 0x6700);
  gcry_sexp_release(key);
}

static void
test_rsa_decipher(void)
{
  uint8_t pub[1024], in[300];
  gcry_sexp_t key, plain = NULL, enc = NULL, a;
  gcry_mpi_t mpi;
  size_t n = 0, publen;
  struct apdu_cmd c = { 0, 0x2A, 0x80, 0x86, in, 0, 256 };
  struct apdu_chain chain;
  struct apdu_cmd part;
  unsigned int sw = 0;

  fresh();
  verify_pw3();
  publen = generate(0xB8, pub, sizeof pub);
  key = rsa_public(pub, publen);
  CHECK_OK(gcry_sexp_build(&plain, NULL, "(data(flags pkcs1)(value %b))", 16,
                           "0123456789abcdef"));
  CHECK_OK(gcry_pk_encrypt(&enc, plain, key));
  a = gcry_sexp_find_token(enc, "a", 0);
  mpi = gcry_sexp_nth_mpi(a, 1, GCRYMPI_FMT_USG);
  in[0] = 0x00;
  memset(in + 1, 0, 256);
  CHECK_OK(gcry_mpi_print(GCRYMPI_FMT_USG, NULL, 0, &n, mpi));
  CHECK_OK(gcry_mpi_print(GCRYMPI_FMT_USG, in + 1 + 256 - n, n, &n, mpi));
  /* As scdaemon does without extended length: chained short APDUs. */
  c.lc = 257;
  verify_pw1(0x81);
  CHECK_OK(apdu_chain_init(&chain, &c, 254));
  while (apdu_chain_next(&chain, &part))
    {
      CHECK_OK(apdu_encode(&part, APDU_FORM_SHORT, scratch, sizeof scratch, &n));
      sw = send_raw(scratch, n);
    }
  CHECK_INT(sw, 0x6982); /* 81 is not 82 */
  verify_pw1(0x82);
  CHECK_OK(apdu_chain_init(&chain, &c, 254));
  while (apdu_chain_next(&chain, &part))
    {
      CHECK_OK(apdu_encode(&part, APDU_FORM_SHORT, scratch, sizeof scratch, &n));
      sw = send_raw(scratch, n);
    }
  CHECK_INT(sw, 0x9000);
  CHECK_MEM(resp, rlen, "0123456789abcdef", 16);
  /* Padding indicator 02 (AES) is not offered; a bad cryptogram is 6A80. */
  in[0] = 0x02;
  CHECK_INT(txc(0, 0x2A, 0x80, 0x86, in, 257, 256), 0x6A80);
  in[0] = 0x00;
  in[5] ^= 1;
  CHECK_INT(txc(0, 0x2A, 0x80, 0x86, in, 257, 256), 0x6A80);
  gcry_mpi_release(mpi);
  gcry_sexp_release(a);
  gcry_sexp_release(enc);
  gcry_sexp_release(plain);
  gcry_sexp_release(key);
}

static const char attr_ed25519[] = "16 2B 06 01 04 01 DA 47 0F 01";
static const char attr_cv25519[] = "12 2B 06 01 04 01 97 55 01 05 01";
static const char attr_p256_ecdsa[] = "13 2A 86 48 CE 3D 03 01 07";

static void
put_attr(uint8_t tag, const char *hex)
{
  uint8_t a[16];
  size_t n = 0;

  CHECK_OK(hex_decode(hex, 1, a, sizeof a, &n, NULL));
  CHECK_INT(txc(0, 0xDA, 0, tag, a, n, 0), 0x9000);
}

static void
check_eddsa(gcry_sexp_t key, const char *msg, const uint8_t *sig, size_t siglen)
{
  gcry_sexp_t s = NULL, d = NULL;

  CHECK_INT(siglen, 64);
  CHECK_OK(
      gcry_sexp_build(&s, NULL, "(sig-val(eddsa(r %b)(s %b)))", 32, sig, 32, sig + 32));
  CHECK_OK(gcry_sexp_build(&d, NULL, "(data(flags eddsa)(hash-algo sha512)(value %b))",
                           (int)strlen(msg), msg));
  CHECK_OK(gcry_pk_verify(s, d, key));
  gcry_sexp_release(s);
  gcry_sexp_release(d);
}

static void
test_ecc_keys(void)
{
  uint8_t pub[256], hash[32], k[32], eph[32], shared[32], in[64];
  gcry_sexp_t key, s = NULL, d = NULL;
  struct tlv q;
  size_t publen;

  fresh();
  verify_pw3();
  SW("00 DA 00 C1 04 13 2A 86 48", 0x6A80);
  put_attr(0xC1, attr_ed25519);
  put_attr(0xC2, attr_cv25519);
  put_attr(0xC3, attr_p256_ecdsa);
  SW("00 DA 00 C2 0A 16 2B 06 01 04 01 DA 47 0F 01", 0x6A80); /* EdDSA can't decrypt */

  /* EdDSA signature. */
  publen = generate(0xB6, pub, sizeof pub);
  key = ecc_public(pub, publen, "Ed25519", 1);
  verify_pw1(0x81);
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, (const uint8_t *)"hello", 5, 256), 0x9000);
  check_eddsa(key, "hello", resp, rlen);
  gcry_sexp_release(key);
  /* New attributes delete the key; the same attributes keep it. */
  put_attr(0xC1, attr_ed25519);
  SW("00 47 81 00 02 B6 00 00", 0x9000);
  put_attr(0xC1, "01 08 00 00 20 00");
  SW("00 47 81 00 02 B6 00 00", 0x6A88);

  /* ECDSA P-256 authentication. */
  publen = generate(0xA4, pub, sizeof pub);
  key = ecc_public(pub, publen, "NIST P-256", 0);
  gcry_md_hash_buffer(GCRY_MD_SHA256, hash, "auth", 4);
  CHECK_INT(txc(0, 0x88, 0, 0, hash, 32, 256), 0x6982);
  verify_pw1(0x82);
  SW("00 88 00 01 01 00 00", 0x6A86);
  CHECK_INT(txc(0, 0x88, 0, 0, hash, 32, 256), 0x9000);
  CHECK_INT(rlen, 64);
  CHECK_OK(
      gcry_sexp_build(&s, NULL, "(sig-val(ecdsa(r %b)(s %b)))", 32, resp, 32, resp + 32));
  CHECK_OK(gcry_sexp_build(&d, NULL, "(data(flags raw)(value %b))", 32, hash));
  CHECK_OK(gcry_pk_verify(s, d, key));
  gcry_sexp_release(s);
  gcry_sexp_release(d);
  gcry_sexp_release(key);

  /* ECDH on Cv25519: the card's secret equals ours. */
  publen = generate(0xB8, pub, sizeof pub);
  CHECK_OK(tlv_find_path(pub, publen, (const unsigned int[]){ 0x7F49, 0x86 }, 2, &q));
  CHECK_INT(q.len, 32);
  gcry_randomize(k, sizeof k, GCRY_STRONG_RANDOM);
  CHECK_OK(gcry_ecc_mul_point(GCRY_ECC_CURVE25519, eph, k, NULL));
  CHECK_OK(gcry_ecc_mul_point(GCRY_ECC_CURVE25519, shared, k, q.value));
  memcpy(in, "\xA6\x25\x7F\x49\x22\x86\x20", 7);
  memcpy(in + 7, eph, 32);
  CHECK_INT(txc(0, 0x2A, 0x80, 0x86, in, 39, 256), 0x9000);
  CHECK_MEM(resp, rlen, shared, 32);
  SW("00 2A 80 86 05 A6 03 7F 49 00 00", 0x6A80);
}

static void
test_import(void)
{
  /* RFC 8032 7.1 test 1. */
  static const char seed[] = "9d61b19deffd5a60ba844af492ec2cc4"
                             "4449c5697b326919703bac031cae7f60";
  static const uint8_t want_pub[] = "\xd7\x5a\x98\x01\x82\xb1\x0a\xb7\xd5\x4b\xfe\xd3"
                                    "\xc9\x64\x07\x3a\x0e\xe1\x72\xf3\xda\xa6\x23\x25"
                                    "\xaf\x02\x1a\x68\xf7\x07\x51\x1a";
  uint8_t data[128], buf[64];
  size_t n = 0;
  struct tlv q;

  fresh();
  memcpy(data, "\x4D\x2A\xB6\x00\x7F\x48\x02\x92\x20\x5F\x48\x20", 12);
  CHECK_OK(hex_decode(seed, 0, data + 12, 32, &n, NULL));
  CHECK_INT(txc(0, 0xDB, 0x3F, 0xFF, data, 44, 0), 0x6982);
  verify_pw3();
  put_attr(0xC1, attr_ed25519);
  CHECK_INT(txc(0, 0xDB, 0x3F, 0xFE, data, 44, 0), 0x6A86);
  CHECK_INT(txc(0, 0xDB, 0x3F, 0xFF, data, 43, 0), 0x6A80);
  CHECK_INT(txc(0, 0xDB, 0x3F, 0xFF, data, 44, 0), 0x9000);
  SW("00 47 81 00 02 B6 00 00", 0x9000);
  CHECK_OK(tlv_find_path(resp, rlen, (const unsigned int[]){ 0x7F49, 0x86 }, 2, &q));
  CHECK_MEM(q.value, q.len, want_pub, 32);
  n = get_do(0xDE, buf, sizeof buf);
  CHECK_MEM(buf, n, "\x01\x02\x02\x00\x03\x00", 6);
  /* A CRT with a key reference, and one naming no slot. */
  memcpy(data, "\x4D\x2D\xB6\x03\x84\x01\x01\x7F\x48\x02\x92\x20\x5F\x48\x20", 15);
  CHECK_OK(hex_decode(seed, 0, data + 15, 32, &n, NULL));
  CHECK_INT(txc(0, 0xDB, 0x3F, 0xFF, data, 47, 0), 0x9000);
  data[2] = 0xB7;
  CHECK_INT(txc(0, 0xDB, 0x3F, 0xFF, data, 47, 0), 0x6A80);
}

static void
test_challenge_terminate(void)
{
  uint8_t buf[64], atr[33];
  size_t n;

  fresh();
  SW("00 84 00 00 10", 0x9000);
  CHECK_INT(rlen, 16);
  SW("00 84 00 00 00 04 01", 0x6700);
  SW("00 84 00 00", 0x6700);
  SW("00 84 00 01 08", 0x6A86);
  SW("00 E6 00 00", 0x6982);
  SW("00 44 00 00", 0x9000); /* operational: nothing to do */
  verify_pw3();
  SW("00 DA 00 5B 01 41", 0x9000);
  SW("00 E6 00 01", 0x6A86);
  SW("00 E6 00 00", 0x9000);
  CHECK_INT(vcard_atr(card, atr, sizeof atr), 21);
  CHECK_INT(atr[17], 0x03); /* life cycle: terminated */
  SW("00 CA 00 6E 00", 0x6285);
  SW("00 20 00 83 08 3132333435363738", 0x6285);
  SW("00 A4 04 00 06 D2 76 00 01 24 01", 0x6285);
  SW("00 44 00 00", 0x9000);
  SW("00 A4 04 00 06 D2 76 00 01 24 01", 0x9000);
  n = get_do(0x5B, buf, sizeof buf);
  CHECK_INT(n, 0);
  n = get_do(0x5F52, buf, sizeof buf);
  CHECK_INT(buf[n - 3], 0x05); /* operational again */
  verify_pw3();

  /* With both PINs blocked, TERMINATE needs no PIN: the way out of a card
   * whose PINs are lost (GnuPG's factory-reset). */
  fresh();
  SW("00 20 00 81 08 4040404040404040", 0x6982);
  SW("00 20 00 81 08 4040404040404040", 0x6982);
  SW("00 20 00 81 08 4040404040404040", 0x6983);
  SW("00 20 00 81 08 4040404040404040", 0x6983); /* GnuPG sends four */
  SW("00 E6 00 00", 0x6982);
  SW("00 20 00 83 08 4040404040404040", 0x6982);
  SW("00 20 00 83 08 4040404040404040", 0x6982);
  SW("00 20 00 83 08 4040404040404040", 0x6983);
  SW("00 E6 00 00", 0x9000);
  SW("00 44 00 00", 0x9000);
  check_c4("00 7F 7F 7F 03 00 03");
}

static void
test_bad_apdus(void)
{
  static uint8_t big[VCARD_MAX_APDU + 1];
  uint8_t out[VCARD_MAX_APDU + 2];
  size_t n = 99;

  fresh();
  SW("00 CA 00", 0x6700);
  SW("00 CA 00 6E 02 00", 0x6700);          /* Lc 2, one byte */
  SW("00 CA 00 6E 00 01", 0x6700);          /* short Lc 00 with data */
  SW("00 DA 00 5B 00 00 05 41", 0x6700);    /* extended Lc, data missing */
  SW("00 CA 00 6E 00 00", 0x6700);          /* extended Le cut short */
  SW("00 DA 00 5B 00 00 01 41 00", 0x6700); /* one-byte Le after extended Lc */
  SW("00 DA 00 5B 01 41 00 00", 0x6700);    /* trailing bytes */
  SW("80 CA 00 6E 00", 0x6E00);
  SW("40 CA 00 6E 00", 0x6E00);
  SW("0C CA 00 6E 00", 0x6882);
  SW("01 CA 00 6E 00", 0x6881);
  SW("00 00 00 00", 0x6D00);
  SW("00 B0 00 00 00", 0x6D00);
  SW("00 C0 00 00 00", 0x6985);
  SW("00 C0 00 01 00", 0x6A86);
  SW("10 20 00 81 03 31 32 33", 0x6884); /* VERIFY takes no chaining */
  SW("10 CA 00 6E 00", 0x6884);
  /* A chain broken by another command. */
  SW("10 DA 00 5B 01 41", 0x9000);
  SW("00 DA 00 5E 01 41", 0x6883);
  SW("00 DA 00 5B 01 41", 0x6982); /* the chain was dropped */
  /* A chain longer than the card takes. */
  memset(big, 0x41, sizeof big);
  big[0] = 0x10;
  big[1] = 0xDA;
  big[2] = 0x7F;
  big[3] = 0x21;
  big[4] = 0x00;
  big[5] = 0x0F;
  big[6] = 0xF0;
  CHECK_INT(send_raw(big, 7 + 0x0FF0), 0x9000);
  big[6] = 0x20;
  CHECK_INT(send_raw(big, 7 + 0x20), 0x6700);
  /* More than VCARD_MAX_APDU in one APDU. */
  big[0] = 0x00;
  big[5] = 0x0F;
  big[6] = 0xFA;
  CHECK_INT(send_raw(big, VCARD_MAX_APDU + 1), 0x6700);
  /* The caller's buffer must hold a full response. */
  CHECK_ERR(vcard_apdu(card, big, 4, out, VCARD_MAX_APDU + 1, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_MEM(out, n, "\x6F\x00", 2);
  CHECK_ERR(vcard_apdu(card, big, 4, out, 1, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
}

static void
test_chaining_extended(void)
{
  static uint8_t cert[2048];
  uint8_t got[2048];
  size_t i, n = 0;
  struct apdu_cmd c = { 0, 0xDA, 0x7F, 0x21, cert, sizeof cert, 0 };
  struct apdu_chain chain;
  struct apdu_cmd part;
  unsigned int sw = 0;

  fresh();
  verify_pw3();
  for (i = 0; i < sizeof cert; i++)
    cert[i] = (uint8_t)(i * 7);
  CHECK_OK(apdu_chain_init(&chain, &c, 255));
  while (apdu_chain_next(&chain, &part))
    {
      CHECK_OK(apdu_encode(&part, APDU_FORM_SHORT, scratch, sizeof scratch, &n));
      sw = send_raw(scratch, n);
    }
  CHECK_INT(sw, 0x9000);
  /* Extended Le: all at once. */
  CHECK_INT(txc(0, 0xCA, 0x7F, 0x21, NULL, 0, 65536), 0x9000);
  CHECK_MEM(resp, rlen, cert, sizeof cert);
  /* Short Le: 256 at a time through GET RESPONSE. */
  SW("00 CA 7F 21 00", 0x6100);
  memcpy(got, resp, rlen);
  n = rlen;
  while (n < sizeof got)
    {
      sw = tx("00 C0 00 00 00");
      CHECK(sw == 0x9000 || (sw & 0xFF00) == 0x6100);
      CHECK(n + rlen <= sizeof got);
      if (n + rlen > sizeof got)
        break;
      memcpy(got + n, resp, rlen);
      n += rlen;
    }
  CHECK_INT(sw, 0x9000);
  CHECK_MEM(got, n, cert, sizeof cert);
  /* Any other command drops what GET RESPONSE would have fetched. */
  SW("00 CA 7F 21 00", 0x6100);
  SW("00 CA 00 4F 00", 0x9000);
  SW("00 C0 00 00 00", 0x6985);
  /* Too big for the certificate DO. */
  CHECK_INT(txc(0, 0xDA, 0x7F, 0x21, cert, sizeof cert, 0), 0x9000);
  CHECK_INT(txc(0, 0xDA, 0x00, 0x5E, cert, 256, 0), 0x6700);
}

/* ---- State file -------------------------------------------------------- */

static char state_dir[64];
static char state_path[96];
static char tmp_path[104];

static gpg_error_t
open_state_card(struct vcard **r)
{
  struct vcard_options opt = { 0, state_path, 0, 0 };

  return vcard_new(&opt, r);
}

static void
write_file(const char *path, const uint8_t *buf, size_t len)
{
  FILE *fp = fopen(path, "wb");

  CHECK(fp != NULL);
  if (!fp)
    return;
  CHECK_INT(fwrite(buf, 1, len, fp), len);
  fclose(fp);
}

static size_t
read_file(const char *path, uint8_t *buf, size_t size)
{
  FILE *fp = fopen(path, "rb");
  size_t n;

  CHECK(fp != NULL);
  if (!fp)
    return 0;
  n = fread(buf, 1, size, fp);
  fclose(fp);
  return n;
}

/* Copies the state file BUF with the record TAG's value replaced. */
static size_t
replace_record(const uint8_t *buf, size_t len, unsigned int tag, const void *value,
               size_t vlen, uint8_t *out, size_t outsize)
{
  struct tlv_builder b;
  struct tlv_iter it;
  struct tlv t;
  size_t n = 0;

  tlv_builder_init(&b, out, outsize);
  tlv_iter_init(&it, buf, len);
  while (!tlv_iter_next(&it, &t))
    if (t.tag == tag)
      tlv_put(&b, tag, value, vlen);
    else
      tlv_put_raw(&b, t.value - t.hdrlen, t.hdrlen + t.len);
  CHECK_OK(tlv_builder_finish(&b, &n));
  return n;
}

static void
test_persistence(void)
{
  static uint8_t file[65536], bad[65536];
  uint8_t pub[256], buf[64], aid[16];
  struct vcard *other = NULL;
  struct stat st;
  size_t publen, n, len;

  strcpy(state_dir, "/tmp/test-vcard-XXXXXX");
  CHECK(mkdtemp(state_dir) != NULL);
  snprintf(state_path, sizeof state_path, "%s/card.state", state_dir);
  vcard_free(card);
  card = NULL;
  CHECK_OK(open_state_card(&card));
  CHECK_INT(stat(state_path, &st), 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  select_app();
  get_do(0x4F, aid, sizeof aid);
  /* A stale temporary file left world-readable is not reused. */
  snprintf(tmp_path, sizeof tmp_path, "%s.tmp", state_path);
  write_file(tmp_path, (const uint8_t *)"x", 1);
  CHECK_INT(chmod(tmp_path, 0644), 0);
  verify_pw3();
  SW("00 DA 00 5B 03 41 3C 3C", 0x9000);
  put_attr(0xC1, attr_ed25519);
  publen = generate(0xB6, pub, sizeof pub);
  SW("00 24 00 81 0C 313233343536 363534333231", 0x9000);
  SW("00 20 00 83 08 0000000000000000", 0x6982);
  CHECK_INT(stat(state_path, &st), 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  CHECK(access(tmp_path, F_OK) != 0);
  /* A state that cannot be written is the card failing: 6F00 and an error. */
  CHECK_INT(mkdir(tmp_path, 0700), 0);
  CHECK(vcard_apdu(card,
                   (const uint8_t *)"\x00\x20\x00\x82\x06"
                                    "000000",
                   11, resp, sizeof resp, &n)
        != 0);
  CHECK_MEM(resp, n, "\x6F\x00", 2);
  CHECK_INT(rmdir(tmp_path), 0);
  vcard_free(card);
  card = NULL;

  CHECK_OK(open_state_card(&card));
  select_app();
  n = get_do(0x4F, buf, sizeof buf);
  CHECK_MEM(buf, n, aid, 16); /* same serial */
  n = get_do(0x5B, buf, sizeof buf);
  CHECK_MEM(buf, n, "A<<", 3);
  check_c4("00 7F 7F 7F 03 00 02");
  SW("00 47 81 00 02 B6 00 00", 0x9000);
  CHECK_MEM(resp, rlen, pub, publen);
  SW("00 20 00 82 06 363534333231", 0x9000);
  SW("00 20 00 81 06 363534333231", 0x9000);
  CHECK_INT(txc(0, 0x2A, 0x9E, 0x9A, (const uint8_t *)"x", 1, 256), 0x9000);
  vcard_free(card);
  card = NULL;

  /* Every kind of damage is refused, none read as a fresh card. */
  len = read_file(state_path, file, sizeof file);
  CHECK(len > 100);
  write_file(state_path, file, len - 1);
  CHECK_ERR(open_state_card(&other), GPG_ERR_TOO_SHORT);
  memcpy(bad, file, len);
  bad[len] = 0x01;
  bad[len + 1] = 0x00;
  write_file(state_path, bad, len + 2);
  CHECK(open_state_card(&other) != 0);
  write_file(state_path, file, 10);
  CHECK(open_state_card(&other) != 0);
  memcpy(bad, file, len);
  memcpy(bad + len, file, 10); /* a repeated record */
  write_file(state_path, bad, len + 10);
  CHECK(open_state_card(&other) != 0);
  write_file(state_path, (const uint8_t *)"", 0);
  CHECK(open_state_card(&other) != 0);
  memcpy(bad, file, len);
  bad[2] = 0x02; /* format version */
  write_file(state_path, bad, len);
  CHECK(open_state_card(&other) != 0);
  CHECK(other == NULL);
  /* A key that does not match its slot's attributes. */
  n = replace_record(file, len, 0xC1, "\x01\x08\x00\x00\x20\x00", 6, bad, sizeof bad);
  write_file(state_path, bad, n);
  CHECK_ERR(open_state_card(&other), GPG_ERR_WRONG_PUBKEY_ALGO);
  /* And the intact file still loads. */
  write_file(state_path, file, len);
  CHECK_OK(open_state_card(&other));
  vcard_free(other);

  unlink(state_path);
  rmdir(state_dir);
  fresh();
}

static void
test_log(void)
{
  uint8_t cert[300];
  char *text = NULL;
  size_t size = 0, lines = 0;
  FILE *fp;
  const char *p;

  fp = open_memstream(&text, &size);
  CHECK(fp != NULL);
  if (!fp)
    return;
  fresh();
  vcard_set_log(card, fp);
  SW("00 CA 00 4F 00", 0x9000);
  verify_pw3();
  SW("00 DA 00 D3 08 3837363534333231", 0x9000);
  SW("00 DA 00 5B 03 41 3C 3C", 0x9000);
  SW("00 CA", 0x6700);
  memset(cert, 0x30, sizeof cert);
  CHECK_INT(txc(0, 0xDA, 0x7F, 0x21, cert, sizeof cert, 0), 0x9000);
  SW("00 CA 7F 21 00", 0x612C); /* logged with the SW sent */
  vcard_set_log(card, NULL);
  fclose(fp);
  for (p = text; *p; p++)
    lines += *p == '\n';
  CHECK_INT(lines, 7);
  CHECK(strstr(text, "Le=256 data=- resp=258 SW=612C\n") != NULL);
  CHECK(strstr(text, "vcard: CLA=00 INS=CA P1=00 P2=4F Lc=0 Le=256 data=- resp=18 "
                     "SW=9000\n")
        != NULL);
  CHECK(strstr(text, "INS=20 P1=00 P2=83 Lc=8 Le=- data=[8 bytes redacted]") != NULL);
  CHECK(strstr(text, "3132333435363738") == NULL);
  CHECK(strstr(text, "3837363534333231") == NULL);
  CHECK(strstr(text, "data=413C3C resp=2 SW=9000") != NULL);
  CHECK(strstr(text, "vcard: malformed APDU of 2 bytes resp=2 SW=6700") != NULL);
  free(text);
}

int
main(void)
{
  RUN(test_atr);
  RUN(test_select);
  RUN(test_get_data);
  RUN(test_version_2_1);
  RUN(test_no_private_dos);
  RUN(test_verify);
  RUN(test_change_pins);
  RUN(test_reset_code);
  RUN(test_put_data);
  RUN(test_kdf);
  RUN(test_rsa_sign);
  RUN(test_rsa_decipher);
  RUN(test_ecc_keys);
  RUN(test_import);
  RUN(test_challenge_terminate);
  RUN(test_bad_apdus);
  RUN(test_chaining_extended);
  RUN(test_persistence);
  RUN(test_log);
  vcard_free(card);
  /* Frees the jitter entropy collector, which lives in secure memory where
   * LeakSanitizer cannot see the pointer to it. */
  gcry_control(GCRYCTL_CLOSE_RANDOM_DEVICE, 0);
  return check_done();
}
