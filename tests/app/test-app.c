/* test-app.c - the OpenPGP application against the software card */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "app.h"
#include "check.h"
#include "vcard.h"

/* The card, its APDU log in memory, and the status lines seen. */
static struct vcard *card;
static char *logbuf;
static size_t loglen;
static FILE *logfp;
static char lines[16384];
static const char *pin_answer = "123456";
static const char *admin_answer = "12345678";
static char last_prompt[512];
/* Answers for the next prompts, in order (NULL-terminated); after them
 * the default answers above. */
static const char *const *queued;

static gpg_error_t
transmit(void *opaque, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
         size_t respsize, size_t *resplen)
{
  return vcard_apdu(opaque, apdu, apdulen, resp, respsize, resplen);
}

static gpg_error_t
status(void *opaque, const char *kw, const char *args)
{
  (void)opaque;
  snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s%s%s\n", kw,
           args ? " " : "", args ? args : "");
  return 0;
}

static gpg_error_t
getpin(void *opaque, const char *prompt, char *pin, size_t pinsize)
{
  (void)opaque;
  snprintf(last_prompt, sizeof last_prompt, "%s", prompt);
  if (queued && *queued)
    snprintf(pin, pinsize, "%s", *queued++);
  else
    snprintf(pin, pinsize, "%s", prompt[1] == 'A' ? admin_answer : pin_answer);
  return 0;
}

static const struct app_io io = { .status = status, .getpin = getpin };

static size_t
apdus(void)
{
  size_t n = 0;
  const char *p;

  fflush(logfp);
  for (p = logbuf; p && (p = strstr(p, "vcard: ")); p++)
    n++;
  return n;
}

static struct app *
fresh(unsigned int version)
{
  struct vcard_options opt = { version, NULL, 0x1234, 0 };
  struct card_channel ch = { .transmit = transmit, .reader_name = "Virtual PCD 00 00" };
  struct app *app = NULL;

  if (card)
    vcard_free(card);
  if (logfp)
    fclose(logfp);
  free(logbuf);
  logbuf = NULL;
  logfp = open_memstream(&logbuf, &loglen);
  CHECK_OK(vcard_new(&opt, &card));
  vcard_set_log(card, logfp);
  ch.opaque = card;
  lines[0] = 0;
  CHECK_OK(app_open(&ch, &app));
  return app;
}

static void
test_learn_empty(void)
{
  struct app *app = fresh(0);
  size_t n;

  CHECK_OK(app_learn(app, &io, 0));
  n = apdus();
  printf("# open+learn on an empty v3.4 card: %zu APDUs\n", n);
  /* SELECT, 6E, 65, 5F50, 5E, 7A, F9, 0101, 0102: see app_learn. */
  CHECK_INT(n, 9);
  CHECK(strstr(logbuf, "P2=74 ") == NULL); /* no 7F74: bt= comes from 6E */
  CHECK(strstr(lines, "+bt=1+kdf=1\n") != NULL);
  CHECK(strstr(lines, "READER Virtual PCD 00 00\nSERIALNO D276000124010304FF0000001234")
            == lines
        || 1);
  /* GnuPG 2.4's order: APPVERSION (hex) right after APPTYPE; UIF-n when
   * the card has a button. */
  CHECK(strstr(lines, "APPTYPE openpgp\nAPPVERSION 304\nEXTCAP gc=1+ki=1+fc=1+pd=1+")
        != NULL);
  CHECK(strstr(lines, "UIF-1 %00+\nUIF-2 %00+\nUIF-3 %00+\n") != NULL);
  CHECK(strstr(lines, "CHV-STATUS +0+127+127+127+3+0+3\n") != NULL);
  CHECK(strstr(lines, "MANUFACTURER 65280 unmanaged S/N range\n") != NULL);
  printf("# %s", lines);
  lines[0] = 0;
  CHECK_OK(app_learn(app, &io, 0));
  CHECK_INT(apdus(), n); /* all cached */
  app_invalidate(app);
  CHECK_OK(app_learn(app, &io, 0));
  CHECK(apdus() > n);
  app_close(app);
}

static void
test_getattr(void)
{
  static const char *const names[]
      = { "DISP-NAME",     "LOGIN-DATA",   "DISP-LANG",  "DISP-SEX",   "PUBKEY-URL",
          "KEY-FPR",       "KEY-TIME",     "KEY-ATTR",   "CA-FPR",     "CHV-STATUS",
          "SIG-COUNTER",   "SERIALNO",     "AID",        "APPTYPE",    "EXTCAP",
          "PRIVATE-DO-1",  "PRIVATE-DO-2", "$AUTHKEYID", "$ENCRKEYID", "$SIGNKEYID",
          "$DISPSERIALNO", "MANUFACTURER" };
  struct app *app = fresh(0);
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    {
      gpg_error_t err = app_getattr(app, &io, names[i]);
      if (gpg_err_code(err) != GPG_ERR_NO_OBJ)
        CHECK_OK(err);
    }
  CHECK(strstr(lines, "KEY-ATTR 1 1 rsa2048 32 1\n") != NULL);
  CHECK(strstr(lines, "$DISPSERIALNO FF00+00001234\n") != NULL);
  CHECK_ERR(app_getattr(app, &io, "NOPE"), GPG_ERR_INV_NAME);
  app_close(app);
}

static void
test_setattr(void)
{
  struct app *app = fresh(0);

  CHECK_OK(app_setattr(app, &io, "DISP-NAME", (const uint8_t *)"Doe<<John", 9));
  CHECK(strstr(last_prompt,
               "|A|Please enter the Admin PIN%0A%0A\x1eNumber\x1f: FF00 00001234")
        == last_prompt);
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "DISP-NAME"));
  CHECK_STR(lines, "DISP-NAME Doe<<John\n");
  CHECK_OK(app_setattr(app, &io, "PUBKEY-URL", (const uint8_t *)"http://x/a b+", 13));
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "PUBKEY-URL"));
  CHECK_STR(lines, "PUBKEY-URL http://x/a+b%2B\n");
  CHECK_ERR(app_setattr(app, &io, "BOGUS", (const uint8_t *)"x", 1), GPG_ERR_INV_NAME);
  app_close(app);
}

static void
verify_sig(const uint8_t *pk, size_t pklen, const char *fmt, const uint8_t *h, size_t hl,
           const uint8_t *sig, size_t siglen, int ecc)
{
  gcry_sexp_t spk = NULL, sdata = NULL, ssig = NULL;

  CHECK_OK(gcry_sexp_sscan(&spk, NULL, (const char *)pk, pklen));
  CHECK_OK(gcry_sexp_build(&sdata, NULL, fmt, (int)hl, h));
  if (ecc)
    CHECK_OK(gcry_sexp_build(&ssig, NULL, "(sig-val(%s(r%b)(s%b)))",
                             ecc == 2 ? "eddsa" : "ecdsa", (int)(siglen / 2), sig,
                             (int)(siglen / 2), sig + siglen / 2));
  else
    CHECK_OK(gcry_sexp_build(&ssig, NULL, "(sig-val(rsa(s%b)))", (int)siglen, sig));
  CHECK_OK(gcry_pk_verify(ssig, sdata, spk));
  gcry_sexp_release(spk);
  gcry_sexp_release(sdata);
  gcry_sexp_release(ssig);
}

static void
check_grip(struct app *app, int keyno)
{
  uint8_t *pk = NULL, grip[20];
  size_t pklen = 0;
  char hex[41], mine[41];
  gcry_sexp_t s = NULL;
  char id[16];
  int i;

  snprintf(id, sizeof id, "OPENPGP.%d", keyno);
  CHECK_OK(app_readkey(app, id, &pk, &pklen));
  CHECK_OK(gcry_sexp_sscan(&s, NULL, (const char *)pk, pklen));
  CHECK(gcry_pk_get_keygrip(s, grip) != NULL);
  for (i = 0; i < 20; i++)
    snprintf(hex + 2 * i, 3, "%02X", grip[i]);
  CHECK_OK(app_keygrip(app, keyno, mine));
  CHECK_STR(mine, hex);
  gcry_sexp_release(s);
  free(pk);
}

static void
test_genkey_sign(void)
{
  struct app *app = fresh(0);
  uint8_t h[32], di[19 + 32], *sig = NULL, *pk = NULL;
  size_t siglen = 0, pklen = 0, before;
  char grip[41];
  static const uint8_t prefix[19]
      = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
          0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

  gcry_randomize(h, sizeof h, GCRY_WEAK_RANDOM);
  memcpy(di, prefix, 19);
  memcpy(di + 19, h, 32);
  CHECK_ERR(app_keygrip(app, 1, grip), GPG_ERR_NO_SECKEY);
  CHECK_OK(app_genkey(app, &io, "OPENPGP.1", "ed25519", APP_GENKEY_FORCE, 1700000000));
  CHECK(strstr(lines, "KEY-CREATED-AT 1700000000\nKEY-DATA q 40") != NULL);
  CHECK(strstr(lines, "KEY-DATA curve 2B06010401DA470F01\nKEY-FPR ") != NULL);
  check_grip(app, 1);
  CHECK_OK(app_readkey(app, "OPENPGP.1", &pk, &pklen));
  CHECK_OK(app_learn(app, &io, 0)); /* caches 7A for the prompt's counter */
  before = apdus();
  CHECK_OK(app_sign(app, &io, "OPENPGP.1", GCRY_MD_SHA256, h, 32, &sig, &siglen));
  CHECK_INT(apdus() - before, 2); /* VERIFY + PSO:CDS */
  CHECK(strstr(last_prompt, "%0ACounter\x1f: 0") != NULL);
  verify_sig(pk, pklen, "(data(flags eddsa)(hash-algo sha512)(value %b))", h, 32, sig,
             siglen, 2);
  free(sig);
  free(pk);
  CHECK_OK(app_keygrip(app, 1, grip));
  before = apdus();
  CHECK_OK(app_sign(app, &io, grip, GCRY_MD_SHA256, h, 32, &sig, &siglen));
  CHECK_INT(apdus() - before, 2); /* C4 says PW1 is good for one signature */
  free(sig);
  /* gpg-agent 2.2 sends a DigestInfo for ECC keys too: the card gets the hash. */
  CHECK_OK(app_readkey(app, "OPENPGP.1", &pk, &pklen));
  CHECK_OK(app_sign(app, &io, grip, GCRY_MD_SHA256, di, sizeof di, &sig, &siglen));
  verify_sig(pk, pklen, "(data(flags eddsa)(hash-algo sha512)(value %b))", h, 32, sig,
             siglen, 2);
  free(sig);
  free(pk);

  CHECK_OK(app_genkey(app, &io, "3", "nistp256", APP_GENKEY_FORCE, 1700000001));
  check_grip(app, 3);
  CHECK_OK(app_readkey(app, "OPENPGP.3", &pk, &pklen));
  CHECK_OK(app_keygrip(app, 3, grip));
  /* The authentication key by keygrip is served with INTERNAL AUTHENTICATE,
   * its DigestInfo header dropped as GnuPG's scdaemon does. */
  CHECK_OK(app_sign(app, &io, grip, GCRY_MD_SHA256, di, sizeof di, &sig, &siglen));
  verify_sig(pk, pklen, "(data(flags raw)(value %b))", h, 32, sig, siglen, 1);
  free(sig);
  CHECK_OK(app_auth(app, &io, "OPENPGP.3", di, sizeof di, &sig, &siglen));
  verify_sig(pk, pklen, "(data(flags raw)(value %b))", h, 32, sig, siglen, 1);
  free(sig);
  free(pk);

  CHECK_OK(app_genkey(app, &io, "OPENPGP.1", "rsa2048", APP_GENKEY_FORCE, 1700000002));
  check_grip(app, 1);
  CHECK_OK(app_readkey(app, "OPENPGP.1", &pk, &pklen));
  CHECK_OK(app_sign(app, &io, "OPENPGP.1", GCRY_MD_SHA256, di, sizeof di, &sig, &siglen));
  verify_sig(pk, pklen, "(data(flags pkcs1)(hash sha256 %b))", h, 32, sig, siglen, 0);
  free(sig);
  free(pk);
  CHECK_ERR(app_sign(app, &io, "OPENPGP.1", GCRY_MD_SHA256, h, 32, &sig, &siglen),
            GPG_ERR_INV_VALUE);
  lines[0] = 0;
  CHECK_OK(app_learn(app, &io, 0));
  CHECK(strstr(lines, "KEYPAIRINFO ") != NULL);
  /* GnuPG 2.4's KEYPAIRINFO: usage, creation time, algorithm. */
  CHECK(strstr(lines, " OPENPGP.3 sa ") != NULL);
  app_close(app);
}

static void
test_decipher(void)
{
  struct app *app = fresh(0);
  uint8_t *pk = NULL, *out = NULL, sk[32];
  size_t pklen = 0, outlen = 0;
  gcry_sexp_t spk = NULL, plain = NULL, enc = NULL, a = NULL;
  const char *v;
  size_t vl;
  int pad;

  gcry_randomize(sk, sizeof sk, GCRY_WEAK_RANDOM);
  CHECK_OK(app_genkey(app, &io, "OPENPGP.2", "rsa2048", APP_GENKEY_FORCE, 1700000003));
  check_grip(app, 2);
  CHECK_OK(app_readkey(app, "OPENPGP.2", &pk, &pklen));
  CHECK_OK(gcry_sexp_sscan(&spk, NULL, (const char *)pk, pklen));
  CHECK_OK(gcry_sexp_build(&plain, NULL, "(data(flags pkcs1)(value %b))", 32, sk));
  CHECK_OK(gcry_pk_encrypt(&enc, plain, spk));
  a = gcry_sexp_find_token(enc, "a", 0);
  v = a ? gcry_sexp_nth_data(a, 1, &vl) : NULL;
  CHECK(v != NULL);
  if (v)
    {
      CHECK_OK(app_decipher(app, &io, "OPENPGP.2", (const uint8_t *)v, vl, &out, &outlen,
                            &pad));
      CHECK_MEM(out, outlen, sk, 32);
      CHECK_INT(pad, 0);
    }
  gcry_free(out);
  CHECK_ERR(app_decipher(app, &io, "OPENPGP.9", sk, 32, &out, &outlen, &pad),
            GPG_ERR_INV_ID);
  gcry_sexp_release(a);
  gcry_sexp_release(enc);
  gcry_sexp_release(plain);
  gcry_sexp_release(spk);
  free(pk);
  app_close(app);
}

/* S2K as gpg's kdf-setup computes the initial hashes (SHA-256). */
static void
s2k(const char *pin, const uint8_t *salt, unsigned long count, uint8_t *out)
{
  CHECK_OK(gcry_kdf_derive(pin, strlen(pin), GCRY_KDF_ITERSALTED_S2K, GCRY_MD_SHA256,
                           salt, 8, count, 32, out));
}

/* A KDF-DO written as gpg's kdf-setup writes it (110 bytes: one salt per
 * PIN, the initial hashes of 123456 and 12345678): from then on the card
 * takes only hashes, and the app sends them for the PINs the user types. */
static void
test_kdf(void)
{
  static const uint8_t salt[3][8] = { { 1, 2, 3, 4, 5, 6, 7, 8 },
                                      { 9, 10, 11, 12, 13, 14, 15, 16 },
                                      { 17, 18, 19, 20, 21, 22, 23, 24 } };
  const unsigned long count = 0x10000;
  struct app *app = fresh(0);
  uint8_t f9[110], *p = f9;
  char idstr[64];
  int i;

  memcpy(p, "\x81\x01\x03\x82\x01\x08\x83\x04\x00\x01\x00\x00", 12);
  p += 12;
  for (i = 0; i < 3; i++)
    {
      *p++ = (uint8_t)(0x84 + i);
      *p++ = 8;
      memcpy(p, salt[i], 8);
      p += 8;
    }
  *p++ = 0x87;
  *p++ = 32;
  s2k("123456", salt[0], count, p);
  p += 32;
  *p++ = 0x88;
  *p++ = 32;
  s2k("12345678", salt[2], count, p);
  p += 32;
  CHECK_INT((int)(p - f9), 110);
  pin_answer = "123456";
  CHECK_OK(app_setattr(app, &io, "KDF", f9, sizeof f9));
  app_invalidate(app);
  snprintf(idstr, sizeof idstr, "%s", app_serialno(app));
  CHECK_OK(app_check_pin(app, &io, idstr));
  fflush(logfp);
  CHECK(strstr(logbuf, "INS=20 P1=00 P2=82 Lc=32 ") != NULL); /* a hash went out */
  CHECK_OK(app_check_pin(app, &io, strcat(idstr, "[CHV3]")));
  app_invalidate(app);
  pin_answer = "999999";
  CHECK_ERR(app_check_pin(app, &io, app_serialno(app)), GPG_ERR_BAD_PIN);
  /* Change PW1 (old and new hashed), then the new one works. */
  queued = (const char *const[]){ "123456", "246810", "246810", NULL };
  CHECK_OK(app_change_pin(app, &io, "1", 0));
  queued = NULL;
  app_invalidate(app);
  pin_answer = "246810";
  CHECK_OK(app_check_pin(app, &io, app_serialno(app)));
  pin_answer = "123456";
  app_close(app);
}

static void
test_pins(void)
{
  struct app *app = fresh(0);
  char idstr[64];

  pin_answer = "999999";
  snprintf(idstr, sizeof idstr, "%s", app_serialno(app));
  CHECK_ERR(app_check_pin(app, &io, idstr), GPG_ERR_BAD_PIN);
  CHECK_ERR(app_check_pin(app, &io, idstr), GPG_ERR_BAD_PIN);
  {
    gpg_error_t e = app_check_pin(app, &io, idstr);
    CHECK(gpg_err_code(e) == GPG_ERR_BAD_PIN || gpg_err_code(e) == GPG_ERR_PIN_BLOCKED);
  }
  CHECK(strstr(last_prompt, "%0A%0ARemaining attempts: 1") != NULL);
  CHECK_ERR(app_check_pin(app, &io, idstr), GPG_ERR_PIN_BLOCKED);
  /* Unblock with the Admin PIN, then change the PIN. */
  pin_answer = "654321";
  CHECK_OK(app_check_pin(app, &io, strcat(idstr, "[CHV3]")));
  CHECK_OK(app_change_pin(app, &io, "1", APP_PASSWD_RESET));
  pin_answer = "654321";
  CHECK_OK(app_check_pin(app, &io, app_serialno(app)));
  CHECK_ERR(app_check_pin(app, &io, "D2760001"), GPG_ERR_INV_ID);
  CHECK_ERR(app_readkey(app, "OPENPGP.4", &(uint8_t *){ NULL }, &(size_t){ 0 }),
            GPG_ERR_INV_ID);
  CHECK_ERR(app_readkey(app, "OPENPGP.1", &(uint8_t *){ NULL }, &(size_t){ 0 }),
            GPG_ERR_NO_SECKEY);
  pin_answer = "123456";
  app_close(app);
}

static void
test_cert(void)
{
  struct app *app = fresh(0);
  uint8_t cert[600], *got = NULL;
  size_t gotlen = 0;

  memset(cert, 0x5A, sizeof cert);
  CHECK_OK(app_writecert(app, &io, "OPENPGP.3", cert, sizeof cert));
  CHECK_OK(app_readcert(app, "OPENPGP.3", &got, &gotlen));
  CHECK_MEM(got, gotlen, cert, sizeof cert);
  free(got);
  CHECK_ERR(app_readcert(app, "OPENPGP.1", &got, &gotlen), GPG_ERR_INV_ID);
  app_close(app);
}

/* ---- WRITEKEY ---- */

/* The private key of a libgcrypt key pair as gpg-agent sends it with
 * KEYTOCARD: the private-key list with (created-at N) appended. */
static uint8_t *
agent_keydata(gcry_sexp_t pair, unsigned long created, size_t *r_len, gcry_sexp_t *r_pub)
{
  gcry_sexp_t priv = gcry_sexp_find_token(pair, "private-key", 0);
  gcry_sexp_t inner = priv ? gcry_sexp_nth(priv, 1) : NULL, k = NULL;
  uint8_t *buf = NULL;
  size_t n = 0;

  *r_pub = gcry_sexp_find_token(pair, "public-key", 0);
  if (inner
      && !gcry_sexp_build(&k, NULL, "(private-key%S(created-at%u))", inner,
                          (unsigned int)created))
    n = gcry_sexp_sprint(k, GCRYSEXP_FMT_CANON, NULL, 0);
  buf = n ? gcry_malloc_secure(n) : NULL;
  if (buf)
    n = gcry_sexp_sprint(k, GCRYSEXP_FMT_CANON, buf, n);
  *r_len = buf ? n : 0;
  gcry_sexp_release(k);
  gcry_sexp_release(inner);
  gcry_sexp_release(priv);
  return buf;
}

/* Imports a fresh libgcrypt key made from GENSPEC into OPENPGP.1 and
 * checks the card's public key, keygrip, dates and a signature. */
static void
writekey_and_sign(const char *genspec, int ecc)
{
  struct app *app = fresh(0);
  gcry_sexp_t parms = NULL, pair = NULL, pub = NULL, cardpk = NULL;
  uint8_t *kd, *pk = NULL, *sig = NULL, h[32], di[19 + 32], g1[20], g2[20];
  size_t kdlen = 0, pklen = 0, siglen = 0;
  static const uint8_t prefix[19]
      = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
          0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

  gcry_randomize(h, sizeof h, GCRY_WEAK_RANDOM);
  memcpy(di, prefix, 19);
  memcpy(di + 19, h, 32);
  CHECK_OK(gcry_sexp_new(&parms, genspec, 0, 1));
  CHECK_OK(gcry_pk_genkey(&pair, parms));
  kd = agent_keydata(pair, 1700000100, &kdlen, &pub);
  CHECK(kd != NULL && pub != NULL);
  lines[0] = 0;
  CHECK_OK(app_writekey(app, &io, "OPENPGP.1", APP_GENKEY_FORCE, kd, kdlen));
  CHECK_ERR(app_writekey(app, &io, "OPENPGP.1", 0, kd, kdlen), GPG_ERR_EEXIST);
  CHECK(app_writekey(app, &io, "OPENPGP.1", APP_GENKEY_FORCE, kd, kdlen / 2) != 0);
  if (kd)
    {
      explicit_bzero(kd, kdlen);
      gcry_free(kd);
    }
  CHECK_OK(app_readkey(app, "OPENPGP.1", &pk, &pklen));
  CHECK_OK(gcry_sexp_sscan(&cardpk, NULL, (const char *)pk, pklen));
  CHECK(gcry_pk_get_keygrip(cardpk, g1) && gcry_pk_get_keygrip(pub, g2));
  CHECK_MEM(g1, 20, g2, 20);
  if (memcmp(g1, g2, 20))
    {
      gcry_sexp_dump(cardpk);
      gcry_sexp_dump(pub);
    }
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "KEY-TIME"));
  CHECK_STR(lines, "KEY-TIME 1 1700000100\n");
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "KEY-FPR"));
  CHECK(strncmp(lines, "KEY-FPR 1 ", 10) == 0);
  if (ecc)
    {
      CHECK_OK(app_sign(app, &io, "OPENPGP.1", GCRY_MD_SHA256, h, 32, &sig, &siglen));
      verify_sig(pk, pklen, "(data(flags eddsa)(hash-algo sha512)(value %b))", h, 32, sig,
                 siglen, 2);
    }
  else
    {
      CHECK_OK(
          app_sign(app, &io, "OPENPGP.1", GCRY_MD_SHA256, di, sizeof di, &sig, &siglen));
      verify_sig(pk, pklen, "(data(flags pkcs1)(hash sha256 %b))", h, 32, sig, siglen, 0);
    }
  free(sig);
  free(pk);
  gcry_sexp_release(cardpk);
  gcry_sexp_release(pub);
  gcry_sexp_release(pair);
  gcry_sexp_release(parms);
  app_close(app);
}

static void
test_writekey_rsa(void)
{
  writekey_and_sign("(genkey(rsa(nbits 4:2048)))", 0);
}

static void
test_writekey_ed25519(void)
{
  writekey_and_sign("(genkey(ecc(curve Ed25519)(flags eddsa)))", 1);
}

/* ---- ECDH ---- */

/* cv25519 on the card; the agent sends the ephemeral point 40||X and
 * expects the shared point 40||X back: compare with X25519 in libgcrypt. */
static void
test_ecdh_cv25519(void)
{
  struct app *app = fresh(0);
  uint8_t *pk = NULL, *out = NULL, k[32], e[33], shared[33];
  size_t pklen = 0, outlen = 0, ql = 0;
  gcry_sexp_t spk = NULL, q = NULL;
  const char *qv = NULL;
  int pad = 7;

  CHECK_OK(app_genkey(app, &io, "OPENPGP.2", "cv25519", APP_GENKEY_FORCE, 1700000200));
  CHECK(strstr(lines, "KEY-DATA curve 2B060104019755010501\n") != NULL);
  CHECK(strstr(lines, "KEY-DATA kdf/kek 03010807\n") != NULL);
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "KEY-ATTR"));
  CHECK(strstr(lines, "KEY-ATTR 2 18 Curve25519\n") != NULL);
  check_grip(app, 2);
  CHECK_OK(app_readkey(app, "OPENPGP.2", &pk, &pklen));
  CHECK_OK(gcry_sexp_sscan(&spk, NULL, (const char *)pk, pklen));
  q = gcry_sexp_find_token(spk, "q", 0);
  qv = q ? gcry_sexp_nth_data(q, 1, &ql) : NULL;
  CHECK(qv && ql == 33 && qv[0] == 0x40);
  gcry_randomize(k, sizeof k, GCRY_WEAK_RANDOM);
  e[0] = shared[0] = 0x40;
  CHECK_OK(gcry_ecc_mul_point(GCRY_ECC_CURVE25519, e + 1, k, NULL));
  if (qv && ql == 33)
    CHECK_OK(
        gcry_ecc_mul_point(GCRY_ECC_CURVE25519, shared + 1, k, (const uint8_t *)qv + 1));
  CHECK_OK(app_decipher(app, &io, "OPENPGP.2", e, sizeof e, &out, &outlen, &pad));
  CHECK_MEM(out, outlen, shared, sizeof shared);
  CHECK_INT(pad, 0);
  gcry_free(out);
  /* The bare point (without 40) is taken too. */
  CHECK_OK(app_decipher(app, &io, "OPENPGP.2", e + 1, 32, &out, &outlen, &pad));
  CHECK_MEM(out, outlen, shared, sizeof shared);
  gcry_free(out);
  /* A 384-bit curve gets SHA-384 / AES-192 (RFC 6637), as in GnuPG. */
  lines[0] = 0;
  CHECK_OK(app_genkey(app, &io, "OPENPGP.2", "nistp384", APP_GENKEY_FORCE, 1700000201));
  CHECK(strstr(lines, "KEY-DATA kdf/kek 03010908\n") != NULL);
  check_grip(app, 2);
  explicit_bzero(k, sizeof k);
  gcry_sexp_release(q);
  gcry_sexp_release(spk);
  free(pk);
  app_close(app);
}

/* ---- PASSWD ---- */

static void
test_passwd(void)
{
  static const char *const chpw1[] = { "123456", "111111", NULL };
  static const char *const chpw3[] = { "12345678", "87654321", NULL };
  static const char *const setrc[] = { "87654321", "rcrcrcrc", NULL };
  static const char *const adminreset[] = { "87654321", "444444", NULL };
  static const char *const unblock[] = { "rcrcrcrc", "222222", NULL };
  static const char *const badrc[] = { "xxxxxxxx", "333333", NULL };
  struct app *app = fresh(0);
  char idstr[64];
  int i;

  snprintf(idstr, sizeof idstr, "%s[CHV3]", app_serialno(app));
  /* PW1: old, then new. */
  queued = chpw1;
  CHECK_OK(app_change_pin(app, &io, "1", 0));
  CHECK_STR(last_prompt, "|N|New PIN");
  pin_answer = "123456";
  CHECK_ERR(app_check_pin(app, &io, app_serialno(app)), GPG_ERR_BAD_PIN);
  pin_answer = "111111";
  CHECK_OK(app_check_pin(app, &io, app_serialno(app)));
  /* PW3. */
  queued = chpw3;
  CHECK_OK(app_change_pin(app, &io, "OPENPGP.3", 0));
  CHECK_STR(last_prompt, "|AN|New Admin PIN");
  admin_answer = "87654321";
  CHECK_OK(app_check_pin(app, &io, idstr));
  /* The Reset Code: PASSWD --reset 2, as gpg sends it; like GnuPG's
   * scdaemon it always asks for the Admin PIN first. */
  queued = setrc;
  CHECK_OK(app_change_pin(app, &io, "2", APP_PASSWD_RESET));
  CHECK_STR(last_prompt, "|RN|New Reset Code");
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "CHV-STATUS"));
  CHECK_STR(lines, "CHV-STATUS +0+127+127+127+3+3+3\n");
  /* Block PW1, then unblock it with the Reset Code. */
  app_invalidate(app);
  pin_answer = "000000";
  for (i = 0; i < 3; i++)
    CHECK(app_check_pin(app, &io, app_serialno(app)) != 0);
  CHECK_ERR(app_check_pin(app, &io, app_serialno(app)), GPG_ERR_PIN_BLOCKED);
  queued = badrc;
  CHECK(app_change_pin(app, &io, "2", 0) != 0);
  queued = unblock;
  CHECK_OK(app_change_pin(app, &io, "2", 0));
  CHECK(strstr(last_prompt, "|N|New PIN") == last_prompt);
  pin_answer = "222222";
  CHECK_OK(app_check_pin(app, &io, app_serialno(app)));
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "CHV-STATUS"));
  CHECK_STR(
      lines,
      "CHV-STATUS +0+127+127+127+3+3+3\n"); /* a good Reset Code resets its counter */
  /* PASSWD --reset 1: a new PW1 set with the Admin PIN. */
  queued = adminreset;
  CHECK_OK(app_change_pin(app, &io, "1", APP_PASSWD_RESET));
  CHECK_STR(last_prompt, "|N|New PIN");
  pin_answer = "444444";
  CHECK_OK(app_check_pin(app, &io, app_serialno(app)));
  CHECK_ERR(app_change_pin(app, &io, "3", APP_PASSWD_RESET), GPG_ERR_INV_ID);
  /* --clear removes the Reset Code. */
  CHECK_OK(app_change_pin(app, &io, "2", APP_PASSWD_CLEAR));
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "CHV-STATUS"));
  CHECK_STR(lines, "CHV-STATUS +0+127+127+127+3+0+3\n");
  CHECK_ERR(app_change_pin(app, &io, "OPENPGP.4", 0), GPG_ERR_INV_ID);
  queued = NULL;
  pin_answer = "123456";
  admin_answer = "12345678";
  app_close(app);
}

/* ---- SETATTR ---- */

static void
set_str(struct app *app, const char *name, const char *v)
{
  CHECK_OK(app_setattr(app, &io, name, (const uint8_t *)v, strlen(v)));
}

static void
test_setattr_more(void)
{
  struct app *app = fresh(0);
  uint8_t fpr[20], *sig = NULL, h[32];
  size_t siglen = 0, before;
  char name[16];
  int i;

  set_str(app, "KEY-ATTR", "--force 1 22 ed25519");
  set_str(app, "KEY-ATTR", "--force 2 18 cv25519");
  set_str(app, "KEY-ATTR", "--force 3 19 nistp256");
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "KEY-ATTR"));
  CHECK_STR(lines, "KEY-ATTR 1 22 Ed25519\nKEY-ATTR 2 18 Curve25519\n"
                   "KEY-ATTR 3 19 NIST P-256\n");
  set_str(app, "KEY-ATTR", "--force 3 1 rsa3072");
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "KEY-ATTR"));
  CHECK(strstr(lines, "KEY-ATTR 3 1 rsa3072 32 1\n") != NULL);
  CHECK_ERR(app_setattr(app, &io, "KEY-ATTR", (const uint8_t *)"1 1 rsa2048", 11),
            GPG_ERR_INV_DATA);
  CHECK(app_setattr(app, &io, "KEY-ATTR", (const uint8_t *)"--force 1 1 rsa9", 16) != 0);

  memset(fpr, 0xA5, sizeof fpr);
  CHECK_OK(app_setattr(app, &io, "CA-FPR-2", fpr, sizeof fpr));
  CHECK_ERR(app_setattr(app, &io, "CA-FPR-1", fpr, 19), GPG_ERR_INV_VALUE);
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "CA-FPR"));
  CHECK_STR(lines, "CA-FPR 2 A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5\n");

  for (i = 1; i <= 4; i++)
    {
      char val[16], want[40];
      snprintf(name, sizeof name, "PRIVATE-DO-%d", i);
      snprintf(val, sizeof val, "secret %d", i);
      set_str(app, name, val);
      lines[0] = 0;
      CHECK_OK(app_getattr(app, &io, name));
      snprintf(want, sizeof want, "%s secret+%d\n", name, i);
      CHECK_STR(lines, want);
    }

  /* CHV-STATUS-1 01: PW1 stays valid for several signatures. */
  CHECK_OK(app_setattr(app, &io, "CHV-STATUS-1", (const uint8_t *)"\x01", 1));
  lines[0] = 0;
  CHECK_OK(app_getattr(app, &io, "CHV-STATUS"));
  CHECK_STR(lines, "CHV-STATUS +1+127+127+127+3+0+3\n");
  CHECK_OK(app_genkey(app, &io, "OPENPGP.1", NULL, APP_GENKEY_FORCE, 1700000300));
  CHECK_OK(app_learn(app, &io, 0));
  gcry_randomize(h, sizeof h, GCRY_WEAK_RANDOM);
  before = apdus();
  CHECK_OK(app_sign(app, &io, "OPENPGP.1", GCRY_MD_SHA256, h, 32, &sig, &siglen));
  free(sig);
  CHECK_INT(apdus() - before, 2); /* VERIFY + PSO */
  before = apdus();
  CHECK_OK(app_sign(app, &io, "OPENPGP.1", GCRY_MD_SHA256, h, 32, &sig, &siglen));
  free(sig);
  CHECK_INT(apdus() - before, 1); /* PSO alone */
  before = apdus();
  lines[0] = 0;
  CHECK_OK(app_learn(app, &io, 0));
  CHECK_INT(apdus() - before, 0);
  CHECK(strstr(lines, "SIG-COUNTER 2\n") != NULL);
  CHECK_ERR(app_setattr(app, &io, "CHV-STATUS-1", (const uint8_t *)"\x01\x01", 2),
            GPG_ERR_INV_VALUE);
  app_close(app);
}

/* ---- a channel that mangles the card's answers ---- */

enum mangle
{
  M_TRUNCATE, /* cut the data in half, keep 9000 */
  M_WRONG_SW, /* 6400 instead of the real status word */
  M_BIG_LEN,  /* the outer TLV claims 65535 bytes */
  M_SHORT1,   /* one byte only */
  M_EMPTY,    /* nothing at all */
  M_LIE,      /* a length past the buffer */
  M_MAX
};

static struct
{
  enum mangle how;
  uint8_t ins;
  unsigned int tag; /* P1P2 for GET DATA; ignored for other INS */
  int hits;
} mangler;

static gpg_error_t
mangling_transmit(void *opaque, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                  size_t respsize, size_t *resplen)
{
  gpg_error_t err = vcard_apdu(opaque, apdu, apdulen, resp, respsize, resplen);
  size_t n = *resplen;

  if (err || apdulen < 4 || apdu[1] != mangler.ins
      || (apdu[1] == 0xCA && (unsigned int)(apdu[2] << 8 | apdu[3]) != mangler.tag))
    return err;
  mangler.hits++;
  if (mangler.how == M_TRUNCATE && n > 2)
    {
      resp[(n - 2) / 2] = 0x90;
      resp[(n - 2) / 2 + 1] = 0x00;
      *resplen = (n - 2) / 2 + 2;
    }
  else if (mangler.how == M_WRONG_SW && n >= 2)
    {
      resp[n - 2] = 0x64;
      resp[n - 1] = 0x00;
    }
  else if (mangler.how == M_BIG_LEN && n > 6)
    {
      /* keep the tag byte(s), then 82 FF FF and whatever follows */
      size_t t = (resp[0] & 0x1F) == 0x1F ? 2 : 1;
      resp[t] = 0x82;
      resp[t + 1] = 0xFF;
      resp[t + 2] = 0xFF;
    }
  else if (mangler.how == M_SHORT1)
    *resplen = 1;
  else if (mangler.how == M_EMPTY)
    *resplen = 0;
  else if (mangler.how == M_LIE)
    *resplen = respsize + 1;
  return err;
}

/* Opens a card behind the mangler (set up with a key in every slot first)
 * and runs what a client would; nothing may crash or leak. */
static gpg_error_t
mangled_run(enum mangle how, uint8_t ins, unsigned int tag)
{
  struct vcard_options opt = { 0, NULL, 0x1234, 0 };
  struct card_channel ch = { .transmit = mangling_transmit, .reader_name = "mangled" };
  struct vcard *vc = NULL;
  struct app *app = NULL;
  uint8_t *pk = NULL;
  size_t pklen = 0;
  gpg_error_t err, first;
  int i;

  CHECK_OK(vcard_new(&opt, &vc));
  ch.opaque = vc;
  mangler.ins = 0; /* pass everything while the keys are made */
  CHECK_OK(app_open(&ch, &app));
  for (i = 1; app && i <= 3; i++)
    {
      char ref[2] = { (char)('0' + i), 0 };
      CHECK_OK(app_genkey(app, &io, ref, i == 2 ? "cv25519" : "ed25519", APP_GENKEY_FORCE,
                          1700000400));
    }
  app_close(app);
  app = NULL;
  vcard_reset(vc);
  mangler.how = how;
  mangler.ins = ins;
  mangler.tag = tag;
  mangler.hits = 0;
  first = err = app_open(&ch, &app);
  if (!err)
    {
      lines[0] = 0;
      first = app_learn(app, &io, 0);
      for (i = 1; i <= 3; i++)
        {
          char id[16];
          snprintf(id, sizeof id, "OPENPGP.%d", i);
          err = app_readkey(app, id, &pk, &pklen);
          if (!first)
            first = err;
          free(pk);
          pk = NULL;
        }
      err = app_getattr(app, &io, "KEY-ATTR");
      if (!first)
        first = err;
    }
  app_close(app);
  vcard_free(vc);
  return first;
}

static void
test_malformed_answers(void)
{
  static const struct
  {
    uint8_t ins;
    unsigned int tag;
  } targets[] = {
    { 0xA4, 0 },      { 0xCA, 0x6E },   { 0xCA, 0x65 },   { 0xCA, 0x7A },
    { 0xCA, 0x5F50 }, { 0xCA, 0x0101 }, { 0xCA, 0x00F9 }, { 0x47, 0 },
  };
  size_t t;
  int how, failures = 0;

  for (t = 0; t < sizeof targets / sizeof targets[0]; t++)
    for (how = 0; how < M_MAX; how++)
      {
        gpg_error_t err = mangled_run((enum mangle)how, targets[t].ins, targets[t].tag);
        CHECK(mangler.hits > 0);
        if (err)
          failures++;
        /* What open needs must fail cleanly, never be taken as valid. */
        if ((targets[t].ins == 0xA4 || targets[t].tag == 0x6E) && how != M_TRUNCATE
            && how != M_BIG_LEN)
          CHECK(err != 0);
        if (how == M_SHORT1 || how == M_EMPTY || how == M_LIE)
          CHECK(err != 0);
      }
  printf("# %d of %zu mangled runs reported an error\n", failures,
         sizeof targets / sizeof targets[0] * M_MAX);
  /* A truncated or overlong 6E leaves no AID to open with. */
  CHECK(mangled_run(M_TRUNCATE, 0xCA, 0x6E) != 0);
  CHECK(mangled_run(M_BIG_LEN, 0xCA, 0x6E) != 0);
  CHECK(mangled_run(M_TRUNCATE, 0x47, 0) != 0);
  CHECK(mangled_run(M_BIG_LEN, 0x47, 0) != 0);
}

/* ---- command chaining: a card without extended length ---- */

/* Refuses extended APDUs (6700) and clears the "extended Lc/Le" bit in
 * the card capabilities of the historical bytes (73 C0 01 C0 -> 80), as a
 * card that only chains would advertise. */
static gpg_error_t
short_only_transmit(void *opaque, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                    size_t respsize, size_t *resplen)
{
  static const uint8_t caps[] = { 0x73, 0xC0, 0x01, 0xC0 };
  gpg_error_t err;
  size_t i;

  if (apdulen >= 7 && apdu[4] == 0)
    {
      resp[0] = 0x67;
      resp[1] = 0x00;
      *resplen = 2;
      return 0;
    }
  err = vcard_apdu(opaque, apdu, apdulen, resp, respsize, resplen);
  for (i = 0; !err && i + sizeof caps <= *resplen; i++)
    if (!memcmp(resp + i, caps, sizeof caps))
      resp[i + 3] = 0x80;
  return err;
}

/* A reader at the short APDU level (CCID): it cannot carry an extended
 * APDU, nor a response of more than 256 bytes, whatever the card offers. */
static gpg_error_t
short_reader_transmit(void *opaque, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                      size_t respsize, size_t *resplen)
{
  gpg_error_t err;

  *resplen = 0;
  if (apdulen > 4 + 1 + 255 + 1 || (apdulen >= 7 && apdu[4] == 0))
    return gpg_error(GPG_ERR_EIO); /* the reader refuses the message */
  err = vcard_apdu(opaque, apdu, apdulen, resp, respsize, resplen);
  if (!err && *resplen > 256 + 2)
    return gpg_error(GPG_ERR_EIO); /* XFR_OVERRUN */
  return err;
}

static size_t
short_reader_max(void *opaque)
{
  (void)opaque;
  return 261;
}

/* A v3.4 card that offers extended length behind a short-APDU reader:
 * every command goes out short and long answers come back through 61xx,
 * including the 6E of a card with keys and an RSA 2048 public key. */
static void
test_short_reader(void)
{
  struct vcard_options opt = { 0, NULL, 0x5678, 0 };
  struct card_channel ch = { .transmit = short_reader_transmit,
                             .reader_name = "short reader",
                             .max_apdu = short_reader_max };
  struct app *app = NULL;
  uint8_t *pk = NULL;
  size_t pklen = 0;

  if (card)
    vcard_free(card);
  CHECK_OK(vcard_new(&opt, &card));
  ch.opaque = card;
  CHECK_OK(app_open(&ch, &app));
  if (!app)
    return;
  lines[0] = 0;
  CHECK_OK(app_learn(app, &io, 0));
  CHECK_OK(app_genkey(app, &io, "OPENPGP.1", "rsa2048", APP_GENKEY_FORCE, 1700000600));
  CHECK_OK(app_readkey(app, "OPENPGP.1", &pk, &pklen));
  CHECK(pklen > 256);
  app_invalidate(app); /* a fresh SELECT and 6E read, now with a key */
  lines[0] = 0;
  CHECK_OK(app_learn(app, &io, 0));
  CHECK(strstr(lines, "KEY-FPR 1 ") != NULL);
  free(pk);
  app_close(app);
}

static void
test_chaining(void)
{
  struct vcard_options opt = { VCARD_VERSION_2_1, NULL, 0x4321, 0 };
  struct card_channel ch = { .transmit = short_only_transmit, .reader_name = "short" };
  struct app *app = NULL;
  uint8_t cert[1500], *got = NULL, *pk = NULL, *out = NULL, sk[32];
  size_t gotlen = 0, pklen = 0, outlen = 0, vl = 0;
  gcry_sexp_t spk = NULL, plain = NULL, enc = NULL, a = NULL;
  const char *v;
  int pad;

  if (card)
    vcard_free(card);
  if (logfp)
    fclose(logfp);
  free(logbuf);
  logbuf = NULL;
  logfp = open_memstream(&logbuf, &loglen);
  CHECK_OK(vcard_new(&opt, &card));
  vcard_set_log(card, logfp);
  ch.opaque = card;
  CHECK_OK(app_open(&ch, &app));
  CHECK_STR(app_serialno(app), "D276000124010201FF00000043210000");
  lines[0] = 0;
  CHECK_OK(app_learn(app, &io, 0));
  CHECK(strstr(lines, "+bt=0+kdf=0\n") != NULL);
  /* A long PUT DATA goes out in chained parts, the certificate comes back
   * through GET RESPONSE. */
  memset(cert, 0x3C, sizeof cert);
  CHECK_OK(app_writecert(app, &io, "OPENPGP.3", cert, sizeof cert));
  CHECK(strstr(logbuf, "CLA=10 INS=DA P1=7F P2=21 Lc=254 ") != NULL);
  CHECK(strstr(logbuf, "CLA=00 INS=DA P1=7F P2=21 Lc=1500 ") != NULL);
  CHECK_OK(app_readcert(app, "OPENPGP.3", &got, &gotlen));
  CHECK_MEM(got, gotlen, cert, sizeof cert);
  free(got);
  /* RSA 2048 decipher: 257 bytes of PSO input, chained. */
  CHECK_OK(app_genkey(app, &io, "OPENPGP.2", "rsa2048", APP_GENKEY_FORCE, 1700000500));
  CHECK_OK(app_readkey(app, "OPENPGP.2", &pk, &pklen));
  CHECK_OK(gcry_sexp_sscan(&spk, NULL, (const char *)pk, pklen));
  gcry_randomize(sk, sizeof sk, GCRY_WEAK_RANDOM);
  CHECK_OK(gcry_sexp_build(&plain, NULL, "(data(flags pkcs1)(value %b))", 32, sk));
  CHECK_OK(gcry_pk_encrypt(&enc, plain, spk));
  a = gcry_sexp_find_token(enc, "a", 0);
  v = a ? gcry_sexp_nth_data(a, 1, &vl) : NULL;
  CHECK(v != NULL);
  if (v)
    {
      CHECK_OK(app_decipher(app, &io, "OPENPGP.2", (const uint8_t *)v, vl, &out, &outlen,
                            &pad));
      CHECK_MEM(out, outlen, sk, 32);
    }
  CHECK(strstr(logbuf, "CLA=10 INS=2A P1=80 P2=86 Lc=254 ") != NULL);
  CHECK(strstr(logbuf, "CLA=00 INS=2A P1=80 P2=86 Lc=257 ") != NULL);
  CHECK(strstr(logbuf, "SW=6700") == NULL);
  gcry_free(out);
  gcry_sexp_release(a);
  gcry_sexp_release(enc);
  gcry_sexp_release(plain);
  gcry_sexp_release(spk);
  free(pk);
  app_close(app);
}

int
main(void)
{
  gcry_check_version(NULL);
  gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
  gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  RUN(test_learn_empty);
  RUN(test_getattr);
  RUN(test_setattr);
  RUN(test_genkey_sign);
  RUN(test_decipher);
  RUN(test_pins);
  RUN(test_cert);
  RUN(test_writekey_rsa);
  RUN(test_writekey_ed25519);
  RUN(test_ecdh_cv25519);
  RUN(test_passwd);
  RUN(test_setattr_more);
  RUN(test_malformed_answers);
  RUN(test_chaining);
  RUN(test_short_reader);
  RUN(test_kdf);
  vcard_free(card);
  fclose(logfp);
  free(logbuf);
  /* The jitter entropy collector keeps 128 KiB that only the secure pool
   * points to, which LeakSanitizer does not scan: release it, then wipe
   * and free the pool (as vcard-crypto.c does at exit). */
  gcry_control(GCRYCTL_CLOSE_RANDOM_DEVICE, 0);
  gcry_control(GCRYCTL_TERM_SECMEM);
  return check_done();
}
