/* test-vcard-crypto.c - the software card's key operations, checked apart
 *
 * Every result of the card is checked independently: signatures are
 * verified with libgcrypt against a public key rebuilt from the 7F49 bytes
 * alone, RSA signatures also by a bare s^e mod n, shared secrets against
 * libgcrypt's own ECDH encryption to that public key, and imported keys
 * against published test vectors (RFC 6979 A.2.5, RFC 8032 7.1, RFC 7748
 * 6.1).
 */
#include "vcard-crypto.h"

#include <gcrypt.h>

#include "check.h"
#include "hex.h"
#include "tlv.h"

#define BUFSZ 4096

/* ---- Helpers ----------------------------------------------------------- */

static size_t
unhex(const char *text, uint8_t *out, size_t outsize)
{
  size_t n = 0;

  if (hex_decode(text, 0, out, outsize, &n, NULL))
    {
      printf("# bad hex in test: %s\n", text);
      abort();
    }
  return n;
}

static struct vc_algo
ecc_algo(enum vc_algo_id id, enum vc_curve curve)
{
  struct vc_algo a;

  memset(&a, 0, sizeof a);
  a.id = id;
  a.curve = curve;
  return a;
}

static struct vc_algo
rsa_algo(unsigned int bits)
{
  struct vc_algo a;

  memset(&a, 0, sizeof a);
  a.id = VC_ALGO_RSA;
  a.rsa_bits = bits;
  a.rsa_e_bits = 32;
  return a;
}

static const char *
curve_name(enum vc_curve c)
{
  static const char *const names[]
      = { "", "NIST P-256", "NIST P-384", "NIST P-521", "Ed25519", "Curve25519" };
  return names[c];
}

static size_t
field_len(enum vc_curve c)
{
  static const size_t lens[] = { 0, 32, 48, 66, 32, 32 };
  return lens[c];
}

/* The value of TAG inside the public key DO PUBDO, or NULL. */
static const uint8_t *
pub_part(const uint8_t *pubdo, size_t len, unsigned int tag, size_t *vlen)
{
  unsigned int path[2] = { 0x7F49, tag };
  struct tlv t;

  if (tlv_find_path(pubdo, len, path, 2, &t))
    return NULL;
  *vlen = t.len;
  return t.value;
}

/* A libgcrypt public key made from the public key DO only, as GnuPG
   makes it from a card's answer. */
static gcry_sexp_t
pub_sexp(const struct vc_key *key)
{
  const struct vc_algo *a = vc_key_algo(key);
  uint8_t pubdo[BUFSZ], q[200];
  size_t len = 0, nlen = 0, elen = 0, plen = 0;
  const uint8_t *n, *e, *p;
  gcry_sexp_t s = NULL;

  if (vc_key_public(key, pubdo, sizeof pubdo, &len))
    return NULL;
  if (a->id == VC_ALGO_RSA)
    {
      n = pub_part(pubdo, len, 0x81, &nlen);
      e = pub_part(pubdo, len, 0x82, &elen);
      if (n && e)
        gcry_sexp_build(&s, NULL, "(public-key(rsa(n%b)(e%b)))", (int)nlen, n, (int)elen,
                        e);
      return s;
    }
  p = pub_part(pubdo, len, 0x86, &plen);
  if (!p || plen > sizeof q - 1)
    return NULL;
  q[0] = 0x40;
  memcpy(q + 1, p, plen);
  if (a->curve == VC_CURVE_ED25519)
    gcry_sexp_build(&s, NULL, "(public-key(ecc(curve Ed25519)(flags eddsa)(q%b)))",
                    (int)plen + 1, q);
  else if (a->curve == VC_CURVE_CV25519)
    gcry_sexp_build(&s, NULL, "(public-key(ecc(curve Curve25519)(flags djb-tweak)(q%b)))",
                    (int)plen + 1, q);
  else
    gcry_sexp_build(&s, NULL, "(public-key(ecc(curve %s)(q%b)))", curve_name(a->curve),
                    (int)plen, p);
  return s;
}

/* RSA: checks SIG^e mod n is 00 01 FF.. 00 || IN, with no library help. */
static int
rsa_check_type1(const struct vc_key *key, const uint8_t *in, size_t inlen,
                const uint8_t *sig, size_t siglen)
{
  uint8_t pubdo[BUFSZ], em[512];
  size_t len = 0, nlen = 0, elen = 0, k, i;
  const uint8_t *n, *e;
  gcry_mpi_t mn = NULL, me = NULL, ms = NULL, mm = gcry_mpi_new(0);
  int ok = 0;

  if (!vc_key_public(key, pubdo, sizeof pubdo, &len)
      && (n = pub_part(pubdo, len, 0x81, &nlen))
      && (e = pub_part(pubdo, len, 0x82, &elen)) && siglen == nlen
      && !gcry_mpi_scan(&mn, GCRYMPI_FMT_USG, n, nlen, NULL)
      && !gcry_mpi_scan(&me, GCRYMPI_FMT_USG, e, elen, NULL)
      && !gcry_mpi_scan(&ms, GCRYMPI_FMT_USG, sig, siglen, NULL))
    {
      gcry_mpi_powm(mm, ms, me, mn);
      k = nlen;
      memset(em, 0, sizeof em);
      if (!gcry_mpi_print(GCRYMPI_FMT_USG, em + 1, k - 1, &len, mm) && len == k - 1)
        {
          ok = em[0] == 0 && em[1] == 1 && em[k - inlen - 1] == 0
               && !memcmp(em + k - inlen, in, inlen);
          for (i = 2; i < k - inlen - 1; i++)
            ok &= em[i] == 0xFF;
        }
    }
  gcry_mpi_release(mn);
  gcry_mpi_release(me);
  gcry_mpi_release(ms);
  gcry_mpi_release(mm);
  return ok;
}

/* Verifies SIG over IN with libgcrypt and the public key DO of KEY. */
static int
verify(const struct vc_key *key, const uint8_t *in, size_t inlen, const uint8_t *sig,
       size_t siglen)
{
  const struct vc_algo *a = vc_key_algo(key);
  gcry_sexp_t pub = pub_sexp(key), data = NULL, s = NULL;
  size_t half = siglen / 2, fl = field_len(a->curve);
  int ok = 0;

  if (a->id == VC_ALGO_RSA)
    {
      gcry_sexp_build(&data, NULL, "(data(flags pkcs1-raw)(value %b))", (int)inlen, in);
      gcry_sexp_build(&s, NULL, "(sig-val(rsa(s%b)))", (int)siglen, sig);
    }
  else if (a->id == VC_ALGO_ECDSA)
    {
      gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))",
                      (int)(inlen > fl ? fl : inlen), in);
      gcry_sexp_build(&s, NULL, "(sig-val(ecdsa(r%b)(s%b)))", (int)half, sig, (int)half,
                      sig + half);
    }
  else
    {
      gcry_sexp_build(&data, NULL, "(data(flags eddsa)(hash-algo sha512)(value %b))",
                      (int)inlen, in);
      gcry_sexp_build(&s, NULL, "(sig-val(eddsa(r%b)(s%b)))", (int)half, sig, (int)half,
                      sig + half);
    }
  if (pub && data && s)
    ok = !gcry_pk_verify(s, data, pub);
  gcry_sexp_release(pub);
  gcry_sexp_release(data);
  gcry_sexp_release(s);
  return ok;
}

static const char digestinfo_sha256_abc[]
    = "3031300D060960864801650304020105000420"
      "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";

/* Signs, authenticates, and checks sizes and the independent verification. */
static void
check_sign_auth(const struct vc_key *key)
{
  const struct vc_algo *a = vc_key_algo(key);
  uint8_t in[128], sig[600];
  size_t inlen = unhex(digestinfo_sha256_abc, in, sizeof in), len = 0;
  size_t want = a->id == VC_ALGO_RSA ? a->rsa_bits / 8 : 2 * field_len(a->curve);

  if (a->id != VC_ALGO_RSA)
    inlen = 64; /* ECDSA cuts a SHA-512 to the field; EdDSA signs it all */
  CHECK_OK(vc_key_sign(key, in, inlen, sig, sizeof sig, &len));
  CHECK_INT(len, want);
  CHECK(verify(key, in, inlen, sig, len));
  if (a->id == VC_ALGO_RSA)
    CHECK(rsa_check_type1(key, in, inlen, sig, len));
  sig[len / 2] ^= 1;
  CHECK(!verify(key, in, inlen, sig, len));

  memcpy(in, "auth challenge 0123456789", 25);
  CHECK_OK(vc_key_auth(key, in, 25, sig, sizeof sig, &len));
  CHECK_INT(len, want);
  CHECK(verify(key, in, 25, sig, len));
  if (a->id == VC_ALGO_RSA)
    CHECK(rsa_check_type1(key, in, 25, sig, len));

  CHECK_ERR(vc_key_sign(key, in, 0, sig, sizeof sig, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_auth(key, in, 0, sig, sizeof sig, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_sign(key, in, 20, sig, want - 1, &len), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(len, 0);
}

/* Save, load, and the loaded key gives the same public key and signs. */
static void
check_save_load(const struct vc_key *key)
{
  static uint8_t saved[BUFSZ], saved2[BUFSZ], pub1[BUFSZ], pub2[BUFSZ];
  size_t slen = 0, slen2 = 0, p1 = 0, p2 = 0;
  struct vc_key *copy = NULL;

  CHECK_OK(vc_key_save(key, saved, sizeof saved, &slen));
  CHECK_ERR(vc_key_save(key, saved2, slen - 1, &slen2), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_OK(vc_key_load(saved, slen, &copy));
  if (!copy)
    return;
  CHECK_OK(vc_key_save(copy, saved2, sizeof saved2, &slen2));
  CHECK_MEM(saved2, slen2, saved, slen);
  CHECK_OK(vc_key_public(key, pub1, sizeof pub1, &p1));
  CHECK_OK(vc_key_public(copy, pub2, sizeof pub2, &p2));
  CHECK_MEM(pub2, p2, pub1, p1);
  CHECK(!memcmp(vc_key_algo(copy), vc_key_algo(key), sizeof(struct vc_algo)));
  vc_key_free(copy);
}

/* ECDH: libgcrypt encrypts to the public key DO; the card must find the
   same shared secret from the ephemeral point alone. */
static void
check_ecdh(const struct vc_key *key)
{
  const struct vc_algo *a = vc_key_algo(key);
  gcry_sexp_t pub = pub_sexp(key), data = NULL, enc = NULL, ts = NULL, te = NULL;
  const uint8_t *s, *e;
  size_t slen = 0, elen = 0, len = 0, fl = field_len(a->curve);
  uint8_t k[32], out[200];
  int x = a->curve == VC_CURVE_CV25519;

  gcry_randomize(k, sizeof k, GCRY_STRONG_RANDOM);
  k[0] &= 0x7F;
  CHECK_OK(gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", 32, k));
  CHECK_OK(gcry_pk_encrypt(&enc, data, pub));
  ts = gcry_sexp_find_token(enc, "s", 0);
  te = gcry_sexp_find_token(enc, "e", 0);
  s = (const uint8_t *)gcry_sexp_nth_data(ts, 1, &slen);
  e = (const uint8_t *)gcry_sexp_nth_data(te, 1, &elen);
  CHECK(s && e);
  if (s && e)
    {
      /* libgcrypt marks both 25519 points with 0x40, NIST ones with 04. */
      CHECK_INT(s[0], x ? 0x40 : 0x04);
      CHECK_OK(vc_key_decipher(key, e + x, elen - (size_t)x, out, sizeof out, &len));
      CHECK_MEM(out, len, s + 1, fl);
      CHECK_ERR(vc_key_decipher(key, e + x, elen - (size_t)x - 1, out, sizeof out, &len),
                GPG_ERR_INV_VALUE);
      CHECK_ERR(vc_key_decipher(key, e + x, elen - (size_t)x, out, fl - 1, &len),
                GPG_ERR_BUFFER_TOO_SHORT);
    }
  gcry_sexp_release(pub);
  gcry_sexp_release(data);
  gcry_sexp_release(enc);
  gcry_sexp_release(ts);
  gcry_sexp_release(te);
}

/* The public key DO's exact layout: 7F49 then 86 with the point size, or
   81 with the modulus size and 82 01 00 01. */
static void
check_public_format(const struct vc_key *key)
{
  const struct vc_algo *a = vc_key_algo(key);
  uint8_t pubdo[BUFSZ];
  size_t len = 0, vlen = 0, pl;
  const uint8_t *v;
  static const size_t publens[] = { 0, 65, 97, 133, 32, 32 };

  CHECK_OK(vc_key_public(key, pubdo, sizeof pubdo, &len));
  CHECK(len > 4 && pubdo[0] == 0x7F && pubdo[1] == 0x49);
  if (a->id == VC_ALGO_RSA)
    {
      v = pub_part(pubdo, len, 0x81, &vlen);
      CHECK(v && vlen == a->rsa_bits / 8 && (v[0] & 0x80));
      v = pub_part(pubdo, len, 0x82, &vlen);
      CHECK_MEM(v, vlen, "\x01\x00\x01", 3);
      CHECK_INT(len, 5 + 4 + a->rsa_bits / 8 + 5); /* 7F49 82 xxxx, 81 82 xxxx */
      CHECK_ERR(vc_key_public(key, pubdo, len - 1, &vlen), GPG_ERR_BUFFER_TOO_SHORT);
      return;
    }
  pl = publens[a->curve];
  v = pub_part(pubdo, len, 0x86, &vlen);
  CHECK(v && vlen == pl);
  CHECK_INT(pubdo[len - pl - (pl > 127 ? 3 : 2)], 0x86);
  if (v && pl > 32)
    CHECK_INT(v[0], 0x04);
  CHECK_INT(len, pl + (pl > 127 ? 3 : 2) + (pl + 3 > 127 ? 4 : 3));
}

/* Everything for one algorithm, from generation on. */
static void
check_generated(struct vc_algo a)
{
  struct vc_key *key = NULL;

  CHECK_OK(vc_key_generate(&a, &key));
  if (!key)
    return;
  CHECK(!memcmp(vc_key_algo(key), &a, sizeof a));
  check_public_format(key);
  if (a.id == VC_ALGO_ECDH)
    {
      uint8_t sig[200];
      size_t len = 0;

      check_ecdh(key);
      CHECK_ERR(vc_key_sign(key, (const uint8_t *)"x", 1, sig, sizeof sig, &len),
                GPG_ERR_WRONG_KEY_USAGE);
    }
  else
    check_sign_auth(key);
  check_save_load(key);
  vc_key_free(key);
}

/* ---- Algorithm attributes ---------------------------------------------- */

static const struct
{
  const char *hex;
  enum vc_keyref ref;
  enum vc_algo_id id;
  unsigned int bits;
  unsigned int format;
  enum vc_curve curve;
  int with_pub;
} good_attrs[] = {
  { "010800002000", VC_KEY_SIG, VC_ALGO_RSA, 2048, 0, VC_CURVE_NONE, 0 },
  { "010C00002001", VC_KEY_DEC, VC_ALGO_RSA, 3072, 1, VC_CURVE_NONE, 0 },
  { "011000002002", VC_KEY_AUT, VC_ALGO_RSA, 4096, 2, VC_CURVE_NONE, 0 },
  { "010800002003", VC_KEY_DEC, VC_ALGO_RSA, 2048, 3, VC_CURVE_NONE, 0 },
  { "132A8648CE3D030107", VC_KEY_SIG, VC_ALGO_ECDSA, 0, 0, VC_CURVE_P256, 0 },
  { "132B81040022", VC_KEY_AUT, VC_ALGO_ECDSA, 0, 0, VC_CURVE_P384, 0 },
  { "132B81040023FF", VC_KEY_SIG, VC_ALGO_ECDSA, 0, 0, VC_CURVE_P521, 1 },
  { "122A8648CE3D030107", VC_KEY_DEC, VC_ALGO_ECDH, 0, 0, VC_CURVE_P256, 0 },
  { "122B81040022FF", VC_KEY_DEC, VC_ALGO_ECDH, 0, 0, VC_CURVE_P384, 1 },
  { "122B81040023", VC_KEY_DEC, VC_ALGO_ECDH, 0, 0, VC_CURVE_P521, 0 },
  { "162B06010401DA470F01", VC_KEY_SIG, VC_ALGO_EDDSA, 0, 0, VC_CURVE_ED25519, 0 },
  { "162B06010401DA470F01", VC_KEY_AUT, VC_ALGO_EDDSA, 0, 0, VC_CURVE_ED25519, 0 },
  { "122B060104019755010501", VC_KEY_DEC, VC_ALGO_ECDH, 0, 0, VC_CURVE_CV25519, 0 },
  { "122B060104019755010501FF", VC_KEY_DEC, VC_ALGO_ECDH, 0, 0, VC_CURVE_CV25519, 1 },
};

static void
test_attr_good(void)
{
  uint8_t attr[32], out[32];
  size_t i, len, olen = 0;
  struct vc_algo a;

  for (i = 0; i < sizeof good_attrs / sizeof good_attrs[0]; i++)
    {
      len = unhex(good_attrs[i].hex, attr, sizeof attr);
      CHECK_OK(vc_algo_parse(attr, len, good_attrs[i].ref, &a));
      CHECK_INT(a.id, good_attrs[i].id);
      CHECK_INT(a.rsa_bits, good_attrs[i].bits);
      CHECK_INT(a.rsa_e_bits, good_attrs[i].bits ? 32 : 0);
      CHECK_INT(a.rsa_format, good_attrs[i].format);
      CHECK_INT(a.curve, good_attrs[i].curve);
      CHECK_INT(a.ecc_with_pub, good_attrs[i].with_pub);
      CHECK_OK(vc_algo_encode(&a, out, sizeof out, &olen));
      CHECK_MEM(out, olen, attr, len);
      CHECK_ERR(vc_algo_encode(&a, out, len - 1, &olen), GPG_ERR_BUFFER_TOO_SHORT);
      CHECK_INT(olen, 0);
    }
}

static const struct
{
  const char *hex;
  enum vc_keyref ref;
} bad_attrs[] = {
  { "", VC_KEY_SIG },
  { "01", VC_KEY_SIG },
  { "010400002000", VC_KEY_SIG },       /* RSA 1024 */
  { "010800001100", VC_KEY_SIG },       /* e of 17 bits: GnuPG says 32 */
  { "010800002004", VC_KEY_SIG },       /* format 4 */
  { "0108000020", VC_KEY_SIG },         /* v1 length */
  { "01080000200000", VC_KEY_SIG },     /* one too many */
  { "010801002000", VC_KEY_SIG },       /* 2049 bits */
  { "011800002000", VC_KEY_SIG },       /* 6144 bits */
  { "122A8648CE3D030107", VC_KEY_SIG }, /* ECDH in the signature slot */
  { "132A8648CE3D030107", VC_KEY_DEC }, /* ECDSA in the decryption slot */
  { "162B06010401DA470F01", VC_KEY_DEC },
  { "122B06010401DA470F01", VC_KEY_DEC },   /* ECDH on Ed25519 */
  { "162B060104019755010501", VC_KEY_SIG }, /* EdDSA on Cv25519 */
  { "132B060104019755010501", VC_KEY_AUT },
  { "162A8648CE3D030107", VC_KEY_SIG },     /* EdDSA on P-256 */
  { "132B2403030208010107", VC_KEY_SIG },   /* brainpoolP256r1 */
  { "122B240303020801010B", VC_KEY_DEC },   /* brainpoolP384r1 */
  { "132B8104000A", VC_KEY_SIG },           /* secp256k1 */
  { "132A8648CE3D0301", VC_KEY_SIG },       /* OID cut short */
  { "132A8648CE3D03010700", VC_KEY_SIG },   /* trailing 00, not FF */
  { "132A8648CE3D030107FFFF", VC_KEY_SIG }, /* two FF */
  { "142A8648CE3D030107", VC_KEY_SIG },     /* unknown algorithm 14 */
  { "002A8648CE3D030107", VC_KEY_SIG },
  { "16", VC_KEY_SIG },
  { "010800002000", (enum vc_keyref)0 },
  { "010800002000", (enum vc_keyref)4 },
};

static void
test_attr_bad(void)
{
  uint8_t attr[32];
  size_t i, len;
  struct vc_algo a;

  for (i = 0; i < sizeof bad_attrs / sizeof bad_attrs[0]; i++)
    {
      len = unhex(bad_attrs[i].hex, attr, sizeof attr);
      a.id = VC_ALGO_ECDH;
      CHECK_ERR(vc_algo_parse(attr, len, bad_attrs[i].ref, &a), GPG_ERR_INV_VALUE);
      CHECK_INT(a.id, 0);
    }
}

static void
test_attr_encode_bad(void)
{
  uint8_t out[32];
  size_t len = 9;
  struct vc_algo a = rsa_algo(1024);

  CHECK_ERR(vc_algo_encode(&a, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_INT(len, 0);
  a = rsa_algo(2048);
  a.rsa_e_bits = 17;
  CHECK_ERR(vc_algo_encode(&a, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  a = ecc_algo(VC_ALGO_EDDSA, VC_CURVE_P256);
  CHECK_ERR(vc_algo_encode(&a, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  a = ecc_algo(VC_ALGO_ECDSA, VC_CURVE_NONE);
  CHECK_ERR(vc_algo_encode(&a, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  a = ecc_algo(VC_ALGO_ECDSA, (enum vc_curve)99);
  CHECK_ERR(vc_algo_encode(&a, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_generate(&a, &(struct vc_key *){ NULL }), GPG_ERR_INV_VALUE);
}

/* ---- Generated keys ---------------------------------------------------- */

static void
test_gen_rsa2048(void)
{
  check_generated(rsa_algo(2048));
}

static void
test_gen_ecdsa(void)
{
  check_generated(ecc_algo(VC_ALGO_ECDSA, VC_CURVE_P256));
  check_generated(ecc_algo(VC_ALGO_ECDSA, VC_CURVE_P384));
  check_generated(ecc_algo(VC_ALGO_ECDSA, VC_CURVE_P521));
}

static void
test_gen_eddsa(void)
{
  check_generated(ecc_algo(VC_ALGO_EDDSA, VC_CURVE_ED25519));
}

static void
test_gen_ecdh(void)
{
  check_generated(ecc_algo(VC_ALGO_ECDH, VC_CURVE_P256));
  check_generated(ecc_algo(VC_ALGO_ECDH, VC_CURVE_P384));
  check_generated(ecc_algo(VC_ALGO_ECDH, VC_CURVE_P521));
  check_generated(ecc_algo(VC_ALGO_ECDH, VC_CURVE_CV25519));
}

/* ---- Imported known keys ----------------------------------------------- */

static const char rsa_p[]
    = "e2a4db28b72ba0aa5d757c3a1684c0812f2d053dae12940c368b055a3c098b0f"
      "8cfc4f32a89e60039c978b3c799826717440de8b59178483cc56283db58e019e"
      "5004d3ae5cd9c1ad5c10a6ca10a2cba11fc5dcae283b18ab996ea8be88b1522d"
      "49b88da6b66b525ed84c6be5191a9af944030edd5a9df4d6a29fea6f0ac342e7";
static const char rsa_q[]
    = "c112133c03680537ff2fde1a887f9541d4b8cf3564cae4aca2ae06bf85f09ad2"
      "f1dac4b375d4eeb4411aec34fdf948afee6e9d37506385275ab6e72f60bed578"
      "ca79ab5db05be4faababc05e25a684982b4431cd7bd3a4a007b3de4ae411db19"
      "5548e83a0a69f3a94f0364eb36591a21877589d4502c984083c3bf9d5d8ba7e3";
static const char rsa_n[]
    = "aaee49d878e02e7e35e5d6eade3477bdccf6430961ddd0e5f2ae9bb3099e6f4b"
      "5bb8770d4e09352633a93bee85604445931cfb7290ce2fd37cffa5984d16bbac"
      "5f3898a4640dbc9e21a0d9808b4b008f50aeebe0f6f60beacb90905f511dedc2"
      "5126ee0eeb1dc6a8b6bf30330e6cf9664fa407b569337c06093cd64e1f85ba0d"
      "af66b5e2adbbd321cbcdcf757a64678629e53454f4a9c6add0c9106f87f8acc2"
      "46d650f3beffded1999e6dbae16a14227a23c5c5d71da08b5539cc8c9e47c116"
      "1a3cfaf2d8105a8012ad8674f6914dd5a697a0c3408c02354815e41d3e9099d5"
      "d56760dbeb32d977dd4d3d8fa7d84c66f17898c20fb722409a8e787a2a3603d5";

/* Builds 5F48 data from the parts E, P, Q and N (N may be NULL) as GnuPG
   does: e on 4 bytes, p and q on half the modulus each. */
static size_t
rsa_data(uint8_t *data, const char *p, const char *q, const char *n)
{
  size_t len = 4;

  memcpy(data, "\x00\x01\x00\x01", 4);
  len += unhex(p, data + len, 600);
  len += unhex(q, data + len, 600);
  if (n)
    len += unhex(n, data + len, 600);
  return len;
}

static void
test_import_rsa(void)
{
  static uint8_t data[1200], pubdo[600], n[256];
  static const uint8_t tmpl[] = { 0x91, 0x04, 0x92, 0x81, 0x80, 0x93, 0x81, 0x80 };
  static const uint8_t tmpl_n[]
      = { 0x91, 0x04, 0x92, 0x81, 0x80, 0x93, 0x81, 0x80, 0x97, 0x82, 0x01, 0x00 };
  struct vc_algo a = rsa_algo(2048);
  struct vc_key *key = NULL;
  size_t len = rsa_data(data, rsa_p, rsa_q, NULL), plen = 0, vlen = 0;
  const uint8_t *v;

  CHECK_OK(vc_key_import(&a, tmpl, sizeof tmpl, data, len, &key));
  if (!key)
    return;
  CHECK_OK(vc_key_public(key, pubdo, sizeof pubdo, &plen));
  v = pub_part(pubdo, plen, 0x81, &vlen);
  CHECK_MEM(v, vlen, n, unhex(rsa_n, n, sizeof n));
  check_sign_auth(key);
  check_save_load(key);
  vc_key_free(key);

  /* q before p, and with a matching n (format 1). */
  len = rsa_data(data, rsa_q, rsa_p, rsa_n);
  CHECK_OK(vc_key_import(&a, tmpl_n, sizeof tmpl_n, data, len, &key));
  vc_key_free(key);
  data[len - 1] ^= 2;
  CHECK_ERR(vc_key_import(&a, tmpl_n, sizeof tmpl_n, data, len, &key), GPG_ERR_INV_VALUE);
  CHECK(!key);
}

static void
test_import_rsa_bad(void)
{
  static uint8_t data[1200];
  static const uint8_t tmpl[] = { 0x91, 0x04, 0x92, 0x81, 0x80, 0x93, 0x81, 0x80 };
  static const uint8_t dup[] = { 0x91, 0x04, 0x92, 0x81, 0x80, 0x92, 0x81, 0x80 };
  static const uint8_t unknown[] = { 0x91, 0x04, 0x92, 0x81, 0x80, 0x9A, 0x81, 0x80 };
  static const uint8_t cut[] = { 0x91, 0x04, 0x92, 0x81, 0x80, 0x93, 0x81 };
  static const uint8_t no_q[] = { 0x91, 0x04, 0x92, 0x82, 0x01, 0x00 };
  struct vc_algo a = rsa_algo(2048), a3 = rsa_algo(3072);
  struct vc_key *key = NULL;
  size_t len = rsa_data(data, rsa_p, rsa_q, NULL);

  CHECK_ERR(vc_key_import(&a, dup, sizeof dup, data, len, &key), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_import(&a, unknown, sizeof unknown, data, len, &key),
            GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_import(&a, cut, sizeof cut, data, len, &key), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_import(&a, no_q, sizeof no_q, data, len, &key), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_import(&a, tmpl, sizeof tmpl, data, len - 1, &key), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_import(&a, tmpl, sizeof tmpl, data, len + 1, &key), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_import(&a, tmpl, 0, data, len, &key), GPG_ERR_INV_VALUE);
  /* Wrong size for the attributes, p = q, even e, p not prime. */
  CHECK_ERR(vc_key_import(&a3, tmpl, sizeof tmpl, data, len, &key), GPG_ERR_INV_VALUE);
  len = rsa_data(data, rsa_p, rsa_p, NULL);
  CHECK_ERR(vc_key_import(&a, tmpl, sizeof tmpl, data, len, &key), GPG_ERR_INV_VALUE);
  len = rsa_data(data, rsa_p, rsa_q, NULL);
  data[3] = 0;
  CHECK_ERR(vc_key_import(&a, tmpl, sizeof tmpl, data, len, &key), GPG_ERR_INV_VALUE);
  data[3] = 1;
  data[4 + 127] ^= 2;
  CHECK_ERR(vc_key_import(&a, tmpl, sizeof tmpl, data, len, &key), GPG_ERR_INV_VALUE);
  CHECK(!key);
}

/* Imports the secret D (hex) with template 92 len [99 len] and returns
   the key, checking the 86 value against PUB (hex). */
static struct vc_key *
import_ecc(struct vc_algo a, const char *d, const char *pub)
{
  uint8_t data[300], tmpl[8], pubdo[300], want[200];
  size_t dlen = unhex(d, data, sizeof data), wlen = unhex(pub, want, sizeof want);
  size_t plen = 0, vlen = 0, tlen = 0;
  struct vc_key *key = NULL;
  const uint8_t *v;

  tmpl[tlen++] = 0x92;
  tmpl[tlen++] = (uint8_t)dlen;
  if (a.ecc_with_pub)
    {
      tmpl[tlen++] = 0x99;
      tmpl[tlen++] = (uint8_t)wlen;
      memcpy(data + dlen, want, wlen);
    }
  CHECK_OK(vc_key_import(&a, tmpl, tlen, data, dlen + (a.ecc_with_pub ? wlen : 0), &key));
  if (!key)
    return NULL;
  CHECK_OK(vc_key_public(key, pubdo, sizeof pubdo, &plen));
  v = pub_part(pubdo, plen, 0x86, &vlen);
  CHECK_MEM(v, vlen, want, wlen);
  return key;
}

static const char p256_d[]
    = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
static const char p256_q[]
    = "04"
      "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
      "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";

static void
test_import_p256(void)
{
  struct vc_algo a = ecc_algo(VC_ALGO_ECDSA, VC_CURVE_P256);
  struct vc_key *key = import_ecc(a, p256_d, p256_q);

  if (key)
    {
      check_sign_auth(key);
      check_save_load(key);
    }
  vc_key_free(key);
  a.ecc_with_pub = 1;
  vc_key_free(import_ecc(a, p256_d, p256_q));
  a = ecc_algo(VC_ALGO_ECDH, VC_CURVE_P256);
  key = import_ecc(a, p256_d, p256_q);
  if (key)
    check_ecdh(key);
  vc_key_free(key);
}

static void
test_import_ecc_bad(void)
{
  static const uint8_t t92[] = { 0x92, 0x20 }, t92_33[] = { 0x92, 0x21 };
  static const uint8_t t92_99[] = { 0x92, 0x20, 0x99, 0x41 };
  static const uint8_t t91[] = { 0x92, 0x20, 0x91, 0x01 };
  struct vc_algo a = ecc_algo(VC_ALGO_ECDSA, VC_CURVE_P256);
  uint8_t data[200];
  struct vc_key *key = NULL;

  memset(data, 0, sizeof data);
  CHECK_ERR(vc_key_import(&a, t92, 2, data, 32, &key), GPG_ERR_INV_VALUE); /* d = 0 */
  /* d = n, the group order */
  unhex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", data, 32);
  CHECK_ERR(vc_key_import(&a, t92, 2, data, 32, &key), GPG_ERR_INV_VALUE);
  data[31] = 0x50; /* n - 1 is fine */
  CHECK_OK(vc_key_import(&a, t92, 2, data, 32, &key));
  vc_key_free(key);
  CHECK_ERR(vc_key_import(&a, t92_33, 2, data, 33, &key), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_import(&a, t91, 4, data, 33, &key), GPG_ERR_INV_VALUE);
  /* a public key that is not this one's */
  unhex(p256_d, data, 32);
  unhex(p256_q, data + 32, 65);
  data[40] ^= 1;
  CHECK_ERR(vc_key_import(&a, t92_99, 4, data, 32 + 65, &key), GPG_ERR_INV_VALUE);
  data[40] ^= 1;
  CHECK_OK(vc_key_import(&a, t92_99, 4, data, 32 + 65, &key));
  vc_key_free(key);
  key = NULL;
  /* a short d (leading zero stripped) is padded */
  CHECK_OK(vc_key_import(&a, (const uint8_t *)"\x92\x01", 2, (const uint8_t *)"\x07", 1,
                         &key));
  CHECK(key != NULL);
  vc_key_free(key);
}

/* RFC 8032 7.1, test 2: deterministic, so the signature is known. */
static void
test_import_ed25519(void)
{
  struct vc_algo a = ecc_algo(VC_ALGO_EDDSA, VC_CURVE_ED25519);
  struct vc_key *key;
  uint8_t sig[64], want[64];
  size_t len = 0;

  vc_key_free(
      import_ecc(a, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  key = import_ecc(a, "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                   "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  if (!key)
    return;
  CHECK_OK(vc_key_sign(key, (const uint8_t *)"\x72", 1, sig, sizeof sig, &len));
  unhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        want, sizeof want);
  CHECK_MEM(sig, len, want, 64);
  check_sign_auth(key);
  check_save_load(key);
  vc_key_free(key);
  a.ecc_with_pub = 1;
  vc_key_free(
      import_ecc(a, "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                 "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"));
}

/* RFC 7748 6.1.  GnuPG sends the secret big-endian (libgcrypt's MPI d),
   so Alice's native scalar 77076d0a...2c2a arrives reversed. */
static void
test_import_x25519(void)
{
  struct vc_algo a = ecc_algo(VC_ALGO_ECDH, VC_CURVE_CV25519);
  struct vc_key *key;
  uint8_t bob[32], out[64], want[32], zero[32];
  size_t len = 0;

  key = import_ecc(a, "2a2cb91da5fb77b12a99c0eb872f4cdf4566b25172c1163c7da518730a6d0777",
                   "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  if (!key)
    return;
  unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", bob,
        sizeof bob);
  CHECK_OK(vc_key_decipher(key, bob, 32, out, sizeof out, &len));
  unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want,
        sizeof want);
  CHECK_MEM(out, len, want, 32);
  /* u = 0 has small order: the all-zero result must be refused */
  memset(zero, 0, sizeof zero);
  CHECK_ERR(vc_key_decipher(key, zero, 32, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_decipher(key, bob, 33, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  check_ecdh(key);
  check_save_load(key);
  vc_key_free(key);
}

/* A key that libgcrypt generates as gpg-agent does, sent to the card as
   scd/app-openpgp.c's ecc_writekey sends it (d as libgcrypt's big-endian
   MPI padded to the field size; 99 the q as stored, 0x40 prefix kept),
   must give the card the very public key and, for ECDH, the very shared
   secret the agent would compute in software. */
static void
check_agent_key(struct vc_algo a, const char *genkey)
{
  gcry_sexp_t parms = NULL, pair = NULL, sec = NULL, tq = NULL, td = NULL;
  gcry_sexp_t data = NULL, enc = NULL, te = NULL, plain = NULL, tv = NULL;
  uint8_t buf[200], tmpl[4] = { 0x92, 0, 0x99, 0 }, out[100];
  const uint8_t *q, *e, *v, *dv;
  size_t fl = field_len(a.curve), qlen = 0, elen = 0, vlen = 0, len = 0, dlen = 0;
  struct vc_key *key = NULL;

  CHECK_OK(gcry_sexp_build(&parms, NULL, genkey));
  CHECK_OK(gcry_pk_genkey(&pair, parms));
  sec = gcry_sexp_find_token(pair, "private-key", 0);
  td = gcry_sexp_find_token(sec, "d", 0);
  dv = (const uint8_t *)gcry_sexp_nth_data(td, 1, &dlen);
  tq = gcry_sexp_find_token(sec, "q", 0);
  q = (const uint8_t *)gcry_sexp_nth_data(tq, 1, &qlen);
  /* like ecc_writekey: leading zeros of d stripped, then padded to the
     field size in build_ecc_privkey_template */
  for (; dv && dlen && !*dv; dlen--)
    dv++;
  CHECK(dv && q && dlen <= fl && qlen <= sizeof buf - fl);
  if (!dv || !q || dlen > fl || qlen > sizeof buf - fl)
    goto leave;
  memset(buf, 0, fl);
  memcpy(buf + fl - dlen, dv, dlen);
  memcpy(buf + fl, q, qlen);
  tmpl[1] = (uint8_t)fl;
  tmpl[3] = (uint8_t)qlen;
  CHECK_OK(vc_key_import(&a, tmpl, 4, buf, fl + qlen, &key));
  if (!key || a.id != VC_ALGO_ECDH)
    goto leave;
  /* the agent's own decryption of an ephemeral point */
  CHECK_OK(gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", 31, buf + 1));
  CHECK_OK(gcry_pk_encrypt(&enc, data, sec));
  te = gcry_sexp_find_token(enc, "e", 0);
  e = (const uint8_t *)gcry_sexp_nth_data(te, 1, &elen);
  gcry_sexp_release(data);
  data = NULL;
  CHECK_OK(gcry_sexp_build(&data, NULL, "(enc-val(ecdh(e%b)))", (int)elen, e));
  CHECK_OK(gcry_pk_decrypt(&plain, data, sec));
  tv = gcry_sexp_find_token(plain, "value", 0);
  v = (const uint8_t *)gcry_sexp_nth_data(tv, 1, &vlen);
  CHECK(e && v && vlen > fl);
  if (!e || !v || vlen <= fl)
    goto leave;
  /* GnuPG strips the 0x40 before sending, and prepends it to the answer */
  CHECK_OK(
      vc_key_decipher(key, e + (*e == 0x40), elen - (*e == 0x40), out, sizeof out, &len));
  CHECK_MEM(out, len, v + 1, fl);
leave:
  vc_key_free(key);
  gcry_sexp_release(td);
  gcry_sexp_release(parms);
  gcry_sexp_release(pair);
  gcry_sexp_release(sec);
  gcry_sexp_release(tq);
  gcry_sexp_release(data);
  gcry_sexp_release(enc);
  gcry_sexp_release(te);
  gcry_sexp_release(plain);
  gcry_sexp_release(tv);
}

static void
test_import_agent_keys(void)
{
  int i;

  for (i = 0; i < 4; i++)
    {
      check_agent_key(ecc_algo(VC_ALGO_ECDH, VC_CURVE_CV25519),
                      "(genkey(ecc(curve Curve25519)(flags djb-tweak comp)))");
      check_agent_key(ecc_algo(VC_ALGO_EDDSA, VC_CURVE_ED25519),
                      "(genkey(ecc(curve Ed25519)(flags eddsa)))");
      check_agent_key(ecc_algo(VC_ALGO_ECDH, VC_CURVE_P384),
                      "(genkey(ecc(curve \"NIST P-384\")))");
    }
}

/* ---- Input sizes and bad cryptograms ----------------------------------- */

static struct vc_key *rsa_key; /* one 2048-bit key for the RSA checks */

static void
test_rsa_limits(void)
{
  static uint8_t in[600], out[600];
  size_t len = 0;

  memset(in, 0x5A, sizeof in);
  CHECK_OK(vc_key_sign(rsa_key, in, 256 - 11, out, sizeof out, &len));
  CHECK_INT(len, 256);
  CHECK_ERR(vc_key_sign(rsa_key, in, 256 - 10, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_OK(vc_key_auth(rsa_key, in, 102, out, sizeof out, &len)); /* 40% of 256 */
  CHECK_ERR(vc_key_auth(rsa_key, in, 103, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_decipher(rsa_key, in, 0, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_decipher(rsa_key, in, 257, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  memset(in, 0xFF, 256); /* above n */
  CHECK_ERR(vc_key_decipher(rsa_key, in, 256, out, sizeof out, &len), GPG_ERR_INV_VALUE);
}

/* Encrypts M to the public key with a raw RSA operation on the block EM. */
static size_t
rsa_raw_encrypt(const uint8_t *em, uint8_t *out)
{
  gcry_sexp_t pub = pub_sexp(rsa_key), data = NULL, enc = NULL, tok = NULL;
  const uint8_t *a;
  size_t alen = 0;

  gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", 256, em);
  if (gcry_pk_encrypt(&enc, data, pub))
    alen = 0;
  else if ((tok = gcry_sexp_find_token(enc, "a", 0))
           && (a = (const uint8_t *)gcry_sexp_nth_data(tok, 1, &alen)))
    {
      /* libgcrypt may put a sign byte 00 before a; the card takes at
         most the modulus size */
      for (; alen > 256 && !*a; alen--)
        a++;
      memcpy(out, a, alen);
    }
  gcry_sexp_release(pub);
  gcry_sexp_release(data);
  gcry_sexp_release(enc);
  gcry_sexp_release(tok);
  return alen;
}

/* Builds 00 02 PS 00 M with PS of nonzero random bytes. */
static void
type2_block(uint8_t *em, const uint8_t *m, size_t mlen)
{
  size_t i;

  em[0] = 0;
  em[1] = 2;
  gcry_randomize(em + 2, 256 - 2 - mlen - 1, GCRY_STRONG_RANDOM);
  for (i = 2; i < 256 - mlen - 1; i++)
    em[i] |= (uint8_t)(em[i] == 0);
  em[255 - mlen] = 0;
  memcpy(em + 256 - mlen, m, mlen);
}

static void
test_rsa_decipher(void)
{
  static uint8_t em[256], c[300], padded[256], out[300];
  static const uint8_t msg[] = "a 32-byte AES session key here!";
  size_t clen, len = 0, i;

  type2_block(em, msg, sizeof msg);
  clen = rsa_raw_encrypt(em, c);
  CHECK(clen > 0 && clen <= 256);
  CHECK_OK(vc_key_decipher(rsa_key, c, clen, out, sizeof out, &len));
  CHECK_MEM(out, len, msg, sizeof msg);
  /* a cryptogram with leading zeros stripped is left-padded */
  memset(padded, 0, sizeof padded);
  memcpy(padded + 256 - clen, c, clen);
  CHECK_OK(vc_key_decipher(rsa_key, padded, 256, out, sizeof out, &len));
  CHECK_MEM(out, len, msg, sizeof msg);
  CHECK_ERR(vc_key_decipher(rsa_key, padded, 256, out, sizeof msg - 1, &len),
            GPG_ERR_BUFFER_TOO_SHORT);

  /* Bad padding: block type 1, a zero in the first 8 padding bytes, no
     separator, a leading byte other than 00. */
  for (i = 0; i < 4; i++)
    {
      type2_block(em, msg, sizeof msg);
      if (i == 0)
        em[1] = 1;
      else if (i == 1)
        em[6] = 0;
      else if (i == 2)
        memset(em + 2, 0x11, 256 - 2);
      else
        em[0] = 1;
      clen = rsa_raw_encrypt(em, c);
      CHECK(clen > 0);
      CHECK_ERR(vc_key_decipher(rsa_key, c, clen, out, sizeof out, &len),
                GPG_ERR_DECRYPT_FAILED);
      CHECK_INT(len, 0);
    }
  /* The longest message, with exactly 8 padding bytes, is fine */
  memset(out, 0x33, 256 - 11);
  type2_block(em, out, 256 - 11);
  clen = rsa_raw_encrypt(em, c);
  CHECK_OK(vc_key_decipher(rsa_key, c, clen, out, sizeof out, &len));
  CHECK_INT(len, 256 - 11);
}

static void
test_ecc_limits(void)
{
  struct vc_algo a = ecc_algo(VC_ALGO_ECDSA, VC_CURVE_P256);
  struct vc_algo b = ecc_algo(VC_ALGO_ECDH, VC_CURVE_P256);
  struct vc_key *k1 = NULL, *k2 = NULL;
  uint8_t in[200], out[200];
  size_t len = 0;

  CHECK_OK(vc_key_generate(&a, &k1));
  CHECK_OK(vc_key_generate(&b, &k2));
  if (!k1 || !k2)
    goto leave;
  memset(in, 1, sizeof in);
  CHECK_OK(vc_key_sign(k1, in, 64, out, sizeof out, &len));
  CHECK_ERR(vc_key_sign(k1, in, 65, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_decipher(k1, in, 65, out, sizeof out, &len), GPG_ERR_WRONG_KEY_USAGE);
  /* a point off the curve, a compressed point, wrong sizes */
  unhex(p256_q, in, sizeof in);
  in[64] ^= 1;
  CHECK_ERR(vc_key_decipher(k2, in, 65, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  in[64] ^= 1;
  CHECK_OK(vc_key_decipher(k2, in, 65, out, sizeof out, &len));
  CHECK_INT(len, 32);
  in[0] = 0x02;
  CHECK_ERR(vc_key_decipher(k2, in, 33, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_decipher(k2, in, 65, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  in[0] = 0x04;
  CHECK_ERR(vc_key_decipher(k2, in, 66, out, sizeof out, &len), GPG_ERR_INV_VALUE);
  CHECK_ERR(vc_key_decipher(k2, in, 0, out, sizeof out, &len), GPG_ERR_INV_VALUE);
leave:
  vc_key_free(k1);
  vc_key_free(k2);
}

/* ---- Serialization ----------------------------------------------------- */

/* Every truncation, extension and single-bit flip of a saved key is
   refused, but for flips of the attributes that make another valid key
   from the same secret (which then saves back to the same bytes). */
static void
check_corruption(const struct vc_key *key, size_t step)
{
  static uint8_t saved[BUFSZ], again[BUFSZ];
  size_t slen = 0, alen = 0, i;
  struct vc_key *copy = NULL;
  unsigned int accepted = 0;

  CHECK_OK(vc_key_save(key, saved, sizeof saved, &slen));
  for (i = 0; i < slen; i++)
    {
      CHECK_ERR(vc_key_load(saved, i, &copy), GPG_ERR_INV_VALUE);
      CHECK(!copy);
    }
  for (i = 0; i < slen; i += step)
    {
      saved[i] ^= 0x01;
      if (!vc_key_load(saved, slen, &copy))
        {
          /* Only the attributes may change into others just as valid:
             ECDSA 13 and ECDH 12 on one curve, RSA import formats. */
          if (i < 5 || i >= 5 + (size_t)saved[4])
            {
              printf("# flip at %zu of %zu accepted\n", i, slen);
              accepted++;
            }
          vc_key_save(copy, again, sizeof again, &alen);
          CHECK_MEM(again, alen, saved, slen);
          vc_key_free(copy);
          copy = NULL;
        }
      saved[i] ^= 0x01;
    }
  CHECK_INT(accepted, 0);
  saved[slen] = 0;
  CHECK_ERR(vc_key_load(saved, slen + 1, &copy), GPG_ERR_INV_VALUE);
}

static void
test_load_corrupt(void)
{
  struct vc_algo algos[] = { ecc_algo(VC_ALGO_ECDSA, VC_CURVE_P256),
                             ecc_algo(VC_ALGO_EDDSA, VC_CURVE_ED25519),
                             ecc_algo(VC_ALGO_ECDH, VC_CURVE_CV25519),
                             ecc_algo(VC_ALGO_ECDH, VC_CURVE_P521) };
  struct vc_key *key = NULL;
  size_t i;

  for (i = 0; i < sizeof algos / sizeof algos[0]; i++)
    {
      CHECK_OK(vc_key_generate(&algos[i], &key));
      if (key)
        check_corruption(key, 1);
      vc_key_free(key);
      key = NULL;
    }
  check_corruption(rsa_key, 23);
}

static void
test_load_garbage(void)
{
  static const char *const bad[] = {
    "",
    "800101",
    "80010281060108000020008200",
    "800101810601080000200082023A28",
    "8001018109132A8648CE3D030107820328313A",
    "8001018109132A8648CE3D03010782023A28" /* sexp "(:" */,
  };
  uint8_t buf[64];
  struct vc_key *key = NULL;
  size_t i, len;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      len = unhex(bad[i], buf, sizeof buf);
      CHECK_ERR(vc_key_load(buf, len, &key), GPG_ERR_INV_VALUE);
      CHECK(!key);
    }
  vc_key_free(NULL);
}

static void
test_random(void)
{
  uint8_t a[64], b[64];

  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  vc_random(a, sizeof a);
  vc_random(b, sizeof b);
  CHECK(memcmp(a, b, sizeof a));
  vc_random(a, 0);
}

int
main(void)
{
  struct vc_algo a = rsa_algo(2048);

  if (vc_crypto_init())
    {
      printf("Bail out! libgcrypt too old\n");
      return 1;
    }
  RUN(test_attr_good);
  RUN(test_attr_bad);
  RUN(test_attr_encode_bad);
  RUN(test_gen_rsa2048);
  RUN(test_gen_ecdsa);
  RUN(test_gen_eddsa);
  RUN(test_gen_ecdh);
  RUN(test_import_rsa);
  RUN(test_import_rsa_bad);
  RUN(test_import_p256);
  RUN(test_import_ecc_bad);
  RUN(test_import_ed25519);
  RUN(test_import_x25519);
  RUN(test_import_agent_keys);
  if (vc_key_generate(&a, &rsa_key))
    {
      printf("Bail out! RSA 2048 generation failed\n");
      return 1;
    }
  RUN(test_rsa_limits);
  RUN(test_rsa_decipher);
  RUN(test_ecc_limits);
  RUN(test_load_corrupt);
  RUN(test_load_garbage);
  RUN(test_random);
  vc_key_free(rsa_key);
  return check_done();
}
