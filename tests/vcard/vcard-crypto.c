/* vcard-crypto.c - the software card's key operations, on libgcrypt
 *
 * Every key is kept as one private-key S-expression built in libgcrypt
 * secure memory, in a single canonical form per algorithm (RSA n e d p q u
 * with p < q; ECC curve, q, d with d at its fixed field size).  Keys are
 * always made by the same two functions, rsa_from_parts and ecc_from_secret,
 * whether generated, imported or loaded from the state file; a loaded key
 * must re-serialize to exactly the bytes it was loaded from.
 *
 * Byte orders follow what GnuPG 2.2 sends to and expects from a card
 * (scd/app-openpgp.c): the Cv25519 private key 92 arrives big-endian, as
 * libgcrypt's MPI d (the native X25519 scalar reversed), while the Cv25519
 * public key 86 and the shared secret of PSO: DECIPHER are the native
 * little-endian u-coordinate (GnuPG prepends 0x40 to both itself).
 */
#define _DEFAULT_SOURCE
#include "vcard-crypto.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <gcrypt.h>

#include "tlv.h"

#define NEED_LIBGCRYPT_VERSION "1.9.0"

/* The largest public key DO value: RSA 4096 (81 82 0200 + n, 82 03 e). */
#define RSA_MAX_BYTES 512
#define ECC_MAX_FIELD 66 /* P-521 */
#define ECC_MAX_PUB (1 + 2 * ECC_MAX_FIELD)

/* The state file format version written by vc_key_save. */
#define SAVE_VERSION 1

struct vc_key
{
  struct vc_algo algo;
  gcry_sexp_t sec;          /* (private-key ...) in secure memory */
  uint8_t pub[ECC_MAX_PUB]; /* ECC: the 86 value */
  size_t publen;
};

/* The curves the card knows. */
struct curve_info
{
  enum vc_curve curve;
  const char *name;   /* libgcrypt's name */
  const uint8_t *oid; /* DER OID contents, without tag and length */
  size_t oidlen;
  size_t fieldlen; /* bytes of a scalar or coordinate */
  size_t publen;   /* bytes of the 86 value */
};

static const uint8_t oid_p256[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x2B, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x2B, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_ed25519[]
    = { 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01 };
static const uint8_t oid_cv25519[]
    = { 0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01 };

static const struct curve_info curves[] = {
  { VC_CURVE_P256, "NIST P-256", oid_p256, sizeof oid_p256, 32, 65 },
  { VC_CURVE_P384, "NIST P-384", oid_p384, sizeof oid_p384, 48, 97 },
  { VC_CURVE_P521, "NIST P-521", oid_p521, sizeof oid_p521, 66, 133 },
  { VC_CURVE_ED25519, "Ed25519", oid_ed25519, sizeof oid_ed25519, 32, 32 },
  { VC_CURVE_CV25519, "Curve25519", oid_cv25519, sizeof oid_cv25519, 32, 32 },
};

#define SLOT(k) (1u << (k))
#define SLOTS_SA (SLOT(VC_KEY_SIG) | SLOT(VC_KEY_AUT))
#define SLOTS_D SLOT(VC_KEY_DEC)

/* Which (algorithm, curve) pairs each slot accepts. */
static const struct
{
  enum vc_algo_id id;
  enum vc_curve curve;
  unsigned int slots;
} ecc_support[] = {
  { VC_ALGO_ECDSA, VC_CURVE_P256, SLOTS_SA },
  { VC_ALGO_ECDSA, VC_CURVE_P384, SLOTS_SA },
  { VC_ALGO_ECDSA, VC_CURVE_P521, SLOTS_SA },
  { VC_ALGO_EDDSA, VC_CURVE_ED25519, SLOTS_SA },
  { VC_ALGO_ECDH, VC_CURVE_P256, SLOTS_D },
  { VC_ALGO_ECDH, VC_CURVE_P384, SLOTS_D },
  { VC_ALGO_ECDH, VC_CURVE_P521, SLOTS_D },
  { VC_ALGO_ECDH, VC_CURVE_CV25519, SLOTS_D },
};

static const uint8_t x25519_base[32] = { 9 };

static void
wipe(void *p, size_t n)
{
  volatile uint8_t *v = p;

  while (n--)
    *v++ = 0;
}

static const struct curve_info *
curve_by_id(enum vc_curve curve)
{
  size_t i;

  for (i = 0; i < sizeof curves / sizeof curves[0]; i++)
    if (curves[i].curve == curve)
      return &curves[i];
  /* Unreachable: a key or an encoded algorithm passed algo_supported. */
  return &curves[0];
}

static int
ecc_supported(enum vc_algo_id id, enum vc_curve curve, unsigned int slots)
{
  size_t i;

  for (i = 0; i < sizeof ecc_support / sizeof ecc_support[0]; i++)
    if (ecc_support[i].id == id && ecc_support[i].curve == curve
        && (ecc_support[i].slots & slots))
      return 1;
  return 0;
}

static int
rsa_supported(const struct vc_algo *algo)
{
  return (algo->rsa_bits == 2048 || algo->rsa_bits == 3072 || algo->rsa_bits == 4096)
         && algo->rsa_e_bits == 32 && algo->rsa_format <= 3;
}

/* Whether ALGO is one the card supports in any of SLOTS. */
static int
algo_supported(const struct vc_algo *algo, unsigned int slots)
{
  if (algo->id == VC_ALGO_RSA)
    return algo->curve == VC_CURVE_NONE && rsa_supported(algo);
  return ecc_supported(algo->id, algo->curve, slots);
}

/* At exit, releases the entropy collector (the jitter RNG keeps 128 KiB
   reachable only from secure memory, which leak checkers do not scan) and
   wipes the secure memory pool: no key outlives the process in memory. */
static void
secmem_term(void)
{
  gcry_control(GCRYCTL_CLOSE_RANDOM_DEVICE, 0);
  gcry_control(GCRYCTL_TERM_SECMEM);
}

gpg_error_t
vc_crypto_init(void)
{
  static int done;
  struct rlimit nocore = { 0, 0 };

  if (done)
    return 0;
  if (!gcry_check_version(NEED_LIBGCRYPT_VERSION))
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  /* A core dump would carry the secure memory pool: the keys. */
  setrlimit(RLIMIT_CORE, &nocore);
  if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
    {
      /* mlock may be refused in containers: keep going without it,
         quietly; the pool grows on demand for RSA 4096. */
      gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
      gcry_control(GCRYCTL_INIT_SECMEM, 256 * 1024, 0);
      gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
      atexit(secmem_term);
    }
  done = 1;
  return 0;
}

void
vc_random(uint8_t *buf, size_t len)
{
  /* GCRY_STRONG_RANDOM is the output of libgcrypt's seeded CSPRNG, as
     unpredictable as a challenge needs and cheap (about 30 us per 256
     bytes here); VERY_STRONG gathers fresh entropy on each call (about
     18 ms per 256 bytes) and is kept for key material. */
  if (!len)
    return;
  if (vc_crypto_init())
    {
      memset(buf, 0, len); /* never uninitialized bytes on the wire */
      return;
    }
  gcry_randomize(buf, len, GCRY_STRONG_RANDOM);
}

/* ---- Algorithm attributes ---------------------------------------------- */

static gpg_error_t
rsa_attr_parse(const uint8_t *attr, size_t len, struct vc_algo *algo)
{
  if (len != 6)
    return gpg_error(GPG_ERR_INV_VALUE);
  algo->id = VC_ALGO_RSA;
  algo->rsa_bits = (unsigned int)attr[1] << 8 | attr[2];
  algo->rsa_e_bits = (unsigned int)attr[3] << 8 | attr[4];
  algo->rsa_format = attr[5];
  return rsa_supported(algo) ? 0 : gpg_error(GPG_ERR_INV_VALUE);
}

static gpg_error_t
ecc_attr_parse(const uint8_t *attr, size_t len, unsigned int slots, struct vc_algo *algo)
{
  size_t i, oidlen;

  for (i = 0; i < sizeof curves / sizeof curves[0]; i++)
    {
      oidlen = curves[i].oidlen;
      if (len < 1 + oidlen || memcmp(attr + 1, curves[i].oid, oidlen))
        continue;
      if (len == 1 + oidlen + 1 && attr[len - 1] == 0xFF)
        algo->ecc_with_pub = 1;
      else if (len != 1 + oidlen)
        continue;
      algo->id = (enum vc_algo_id)attr[0];
      algo->curve = curves[i].curve;
      return ecc_supported(algo->id, algo->curve, slots) ? 0
                                                         : gpg_error(GPG_ERR_INV_VALUE);
    }
  return gpg_error(GPG_ERR_INV_VALUE);
}

static gpg_error_t
algo_parse_slots(const uint8_t *attr, size_t len, unsigned int slots,
                 struct vc_algo *algo)
{
  gpg_error_t err;

  memset(algo, 0, sizeof *algo);
  if (!attr || !len)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (attr[0] == VC_ALGO_RSA)
    err = rsa_attr_parse(attr, len, algo);
  else
    err = ecc_attr_parse(attr, len, slots, algo);
  if (err)
    memset(algo, 0, sizeof *algo);
  return err;
}

gpg_error_t
vc_algo_parse(const uint8_t *attr, size_t len, enum vc_keyref keyref,
              struct vc_algo *algo)
{
  if (keyref < VC_KEY_SIG || keyref > VC_KEY_AUT)
    {
      memset(algo, 0, sizeof *algo);
      return gpg_error(GPG_ERR_INV_VALUE);
    }
  return algo_parse_slots(attr, len, SLOT(keyref), algo);
}

gpg_error_t
vc_algo_encode(const struct vc_algo *algo, uint8_t *out, size_t outsize, size_t *len)
{
  const struct curve_info *ci;
  size_t n;

  *len = 0;
  if (!algo_supported(algo, SLOTS_SA | SLOTS_D))
    return gpg_error(GPG_ERR_INV_VALUE);
  if (algo->id == VC_ALGO_RSA)
    {
      if (outsize < 6)
        return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
      out[0] = VC_ALGO_RSA;
      out[1] = (uint8_t)(algo->rsa_bits >> 8);
      out[2] = (uint8_t)algo->rsa_bits;
      out[3] = (uint8_t)(algo->rsa_e_bits >> 8);
      out[4] = (uint8_t)algo->rsa_e_bits;
      out[5] = (uint8_t)algo->rsa_format;
      *len = 6;
      return 0;
    }
  ci = curve_by_id(algo->curve);
  n = 1 + ci->oidlen + (algo->ecc_with_pub ? 1 : 0);
  if (outsize < n)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  out[0] = (uint8_t)algo->id;
  memcpy(out + 1, ci->oid, ci->oidlen);
  if (algo->ecc_with_pub)
    out[n - 1] = 0xFF;
  *len = n;
  return 0;
}

/* ---- Helpers on MPIs and S-expressions --------------------------------- */

/* Writes A unsigned, big-endian, left-padded to exactly LEN bytes. */
static gpg_error_t
mpi_to_fixed(gcry_mpi_t a, uint8_t *out, size_t len)
{
  gpg_error_t err;
  size_t n;

  err = gcry_mpi_print(GCRYMPI_FMT_USG, NULL, 0, &n, a);
  if (err)
    return err;
  if (n > len)
    return gpg_error(GPG_ERR_INTERNAL);
  memset(out, 0, len - n);
  return gcry_mpi_print(GCRYMPI_FMT_USG, out + len - n, n, NULL, a);
}

/* Points *DATA at the value of the (NAME value) list in SEXP. */
static gpg_error_t
sexp_bytes(gcry_sexp_t sexp, const char *name, gcry_sexp_t *r_tok, const uint8_t **data,
           size_t *len)
{
  *r_tok = gcry_sexp_find_token(sexp, name, 0);
  *data = NULL;
  *len = 0;
  if (*r_tok)
    *data = (const uint8_t *)gcry_sexp_nth_data(*r_tok, 1, len);
  if (!*data)
    {
      gcry_sexp_release(*r_tok);
      *r_tok = NULL;
      return gpg_error(GPG_ERR_INV_VALUE);
    }
  return 0;
}

/* Copies IN into secure memory so that every MPI or S-expression made
   from it stays there. */
static gpg_error_t
secure_copy(const uint8_t *in, size_t len, uint8_t **r_copy)
{
  *r_copy = gcry_malloc_secure(len ? len : 1);
  if (!*r_copy)
    return gpg_error_from_syserror();
  if (len)
    memcpy(*r_copy, in, len);
  return 0;
}

static void
secure_free(uint8_t *p, size_t len)
{
  if (p)
    wipe(p, len);
  gcry_free(p);
}

/* Makes *R_KEY for ALGO, taking SEC and the PUBLEN bytes of PUB (ECC). */
static gpg_error_t
key_new(const struct vc_algo *algo, gcry_sexp_t sec, const uint8_t *pub, size_t publen,
        struct vc_key **r_key)
{
  *r_key = gcry_calloc(1, sizeof **r_key);
  if (!*r_key)
    return gpg_error_from_syserror();
  (*r_key)->algo = *algo;
  (*r_key)->sec = sec;
  if (publen)
    memcpy((*r_key)->pub, pub, publen);
  (*r_key)->publen = publen;
  return 0;
}

void
vc_key_free(struct vc_key *key)
{
  if (!key)
    return;
  gcry_sexp_release(key->sec);
  wipe(key, sizeof *key);
  gcry_free(key);
}

const struct vc_algo *
vc_key_algo(const struct vc_key *key)
{
  return &key->algo;
}

/* ---- RSA key construction ---------------------------------------------- */

/* Checks E, P and Q for ALGO: e odd, at least 3 and at most e_bits long;
   p and q distinct primes of half the modulus size, n of exactly its size. */
static gpg_error_t
rsa_check_parts(const struct vc_algo *algo, gcry_mpi_t e, gcry_mpi_t p, gcry_mpi_t q,
                gcry_mpi_t n)
{
  unsigned int ebits = gcry_mpi_get_nbits(e);

  if (ebits < 2 || ebits > algo->rsa_e_bits || !gcry_mpi_test_bit(e, 0))
    return gpg_error(GPG_ERR_INV_VALUE);
  if (gcry_mpi_get_nbits(p) != algo->rsa_bits / 2
      || gcry_mpi_get_nbits(q) != algo->rsa_bits / 2 || !gcry_mpi_cmp(p, q))
    return gpg_error(GPG_ERR_INV_VALUE);
  gcry_mpi_mul(n, p, q);
  if (gcry_mpi_get_nbits(n) != algo->rsa_bits)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (gcry_prime_check(p, 0) || gcry_prime_check(q, 0))
    return gpg_error(GPG_ERR_INV_VALUE);
  return 0;
}

/* Computes d = e^-1 mod (p-1)(q-1) and u = p^-1 mod q, P < Q. */
static gpg_error_t
rsa_private_parts(gcry_mpi_t e, gcry_mpi_t p, gcry_mpi_t q, gcry_mpi_t d, gcry_mpi_t u)
{
  gcry_mpi_t p1 = gcry_mpi_snew(0), q1 = gcry_mpi_snew(0), phi = gcry_mpi_snew(0);
  gpg_error_t err = 0;

  gcry_mpi_sub_ui(p1, p, 1);
  gcry_mpi_sub_ui(q1, q, 1);
  gcry_mpi_mul(phi, p1, q1);
  if (!gcry_mpi_invm(d, e, phi) || !gcry_mpi_invm(u, p, q))
    err = gpg_error(GPG_ERR_INV_VALUE);
  gcry_mpi_release(p1);
  gcry_mpi_release(q1);
  gcry_mpi_release(phi);
  return err;
}

/* Builds the RSA key of ALGO from E, P and Q (in any order). */
static gpg_error_t
rsa_from_parts(const struct vc_algo *algo, gcry_mpi_t e, gcry_mpi_t p, gcry_mpi_t q,
               struct vc_key **r_key)
{
  gpg_error_t err;
  gcry_mpi_t n = gcry_mpi_new(0), d = gcry_mpi_snew(0), u = gcry_mpi_snew(0);
  gcry_sexp_t sec = NULL;

  *r_key = NULL;
  if (gcry_mpi_cmp(p, q) > 0)
    gcry_mpi_swap(p, q); /* libgcrypt's CRT wants p < q */
  err = rsa_check_parts(algo, e, p, q, n);
  if (!err)
    err = rsa_private_parts(e, p, q, d, u);
  if (!err)
    err = gcry_sexp_build(&sec, NULL, "(private-key(rsa(n%m)(e%m)(d%m)(p%m)(q%m)(u%m)))",
                          n, e, d, p, q, u);
  if (!err && gcry_pk_testkey(sec))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    err = key_new(algo, sec, NULL, 0, r_key);
  if (err)
    gcry_sexp_release(sec);
  gcry_mpi_release(n);
  gcry_mpi_release(d);
  gcry_mpi_release(u);
  return err;
}

/* ---- ECC key construction ---------------------------------------------- */

static void
reverse32(uint8_t *out, const uint8_t *in)
{
  size_t i;

  for (i = 0; i < 32; i++)
    out[i] = in[31 - i];
}

/* X25519: the public key of the big-endian secret D, native byte order. */
static gpg_error_t
x25519_public(const uint8_t *d, uint8_t *pub)
{
  uint8_t *native = gcry_malloc_secure(32);
  gpg_error_t err;

  if (!native)
    return gpg_error_from_syserror();
  reverse32(native, d);
  err = gcry_ecc_mul_point(GCRY_ECC_CURVE25519, pub, native, x25519_base);
  secure_free(native, 32);
  return err;
}

/* NIST and Ed25519: the 86 value of the secret D via libgcrypt's EC
   context, which derives q from d; D must lie in [1, n-1] for NIST. */
static gpg_error_t
ec_public(const struct curve_info *ci, const uint8_t *d, uint8_t *pub)
{
  gpg_error_t err;
  gcry_sexp_t s = NULL;
  gcry_ctx_t ctx = NULL;
  gcry_mpi_t q = NULL, dm = NULL, order = NULL;
  int eddsa = ci->curve == VC_CURVE_ED25519;
  unsigned int nbits;
  const uint8_t *raw;

  err = gcry_sexp_build(&s, NULL,
                        eddsa ? "(private-key(ecc(curve %s)(flags eddsa)(d%b)))"
                              : "(private-key(ecc(curve %s)(d%b)))",
                        ci->name, (int)ci->fieldlen, d);
  if (!err)
    err = gcry_mpi_ec_new(&ctx, s, NULL);
  if (!err && !eddsa)
    {
      dm = gcry_mpi_ec_get_mpi("d", ctx, 1);
      order = gcry_mpi_ec_get_mpi("n", ctx, 1);
      if (!dm || !order || !gcry_mpi_cmp_ui(dm, 0) || gcry_mpi_cmp(dm, order) >= 0)
        err = gpg_error(GPG_ERR_INV_VALUE);
    }
  if (!err)
    q = gcry_mpi_ec_get_mpi(eddsa ? "q@eddsa" : "q", ctx, 1);
  if (!err && !q)
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err && eddsa)
    {
      raw = gcry_mpi_get_opaque(q, &nbits);
      if (raw && nbits == 33 * 8 && raw[0] == 0x40)
        raw++, nbits -= 8;
      if (!raw || nbits != 32 * 8)
        err = gpg_error(GPG_ERR_INV_VALUE);
      else
        memcpy(pub, raw, 32);
    }
  else if (!err)
    err = mpi_to_fixed(q, pub, ci->publen);
  gcry_mpi_release(q);
  gcry_mpi_release(dm);
  gcry_mpi_release(order);
  gcry_ctx_release(ctx);
  gcry_sexp_release(s);
  return err;
}

static gpg_error_t
ecc_build_sexp(const struct curve_info *ci, const uint8_t *d, const uint8_t *pub,
               gcry_sexp_t *r_sec)
{
  uint8_t q[1 + ECC_MAX_PUB];
  size_t qlen = 0;
  const char *fmt = "(private-key(ecc(curve %s)(q%b)(d%b)))";

  /* libgcrypt marks the native 25519 encodings with a 0x40 prefix. */
  if (ci->curve == VC_CURVE_ED25519 || ci->curve == VC_CURVE_CV25519)
    q[qlen++] = 0x40;
  memcpy(q + qlen, pub, ci->publen);
  qlen += ci->publen;
  if (ci->curve == VC_CURVE_ED25519)
    fmt = "(private-key(ecc(curve %s)(flags eddsa)(q%b)(d%b)))";
  else if (ci->curve == VC_CURVE_CV25519)
    fmt = "(private-key(ecc(curve %s)(flags djb-tweak)(q%b)(d%b)))";
  return gcry_sexp_build(r_sec, NULL, fmt, ci->name, (int)qlen, q, (int)ci->fieldlen, d);
}

/* Builds the ECC key of ALGO from the secret D (the curve's field size,
   big-endian; the Ed25519 seed).  A Cv25519 secret is clamped here, as
   X25519 would use it anyway, so that one key has one serialization. */
static gpg_error_t
ecc_from_secret(const struct vc_algo *algo, uint8_t *d, struct vc_key **r_key)
{
  const struct curve_info *ci = curve_by_id(algo->curve);
  uint8_t pub[ECC_MAX_PUB];
  gcry_sexp_t sec = NULL;
  gpg_error_t err;

  *r_key = NULL;
  if (ci->curve == VC_CURVE_CV25519)
    {
      d[0] = (uint8_t)((d[0] & 0x7F) | 0x40);
      d[31] &= 0xF8;
      err = x25519_public(d, pub);
    }
  else
    err = ec_public(ci, d, pub);
  if (!err)
    err = ecc_build_sexp(ci, d, pub, &sec);
  if (!err)
    err = key_new(algo, sec, pub, ci->publen, r_key);
  if (err)
    gcry_sexp_release(sec);
  return err;
}

/* ---- Generation -------------------------------------------------------- */

static gpg_error_t
rsa_generate(const struct vc_algo *algo, struct vc_key **r_key)
{
  gpg_error_t err;
  gcry_sexp_t parms = NULL, pair = NULL;
  gcry_mpi_t e = NULL, p = NULL, q = NULL;

  err = gcry_sexp_build(&parms, NULL, "(genkey(rsa(nbits %u)(rsa-use-e 5:65537)))",
                        algo->rsa_bits);
  if (!err)
    err = gcry_pk_genkey(&pair, parms);
  if (!err)
    err = gcry_sexp_extract_param(pair, "private-key", "epq", &e, &p, &q, NULL);
  if (!err)
    err = rsa_from_parts(algo, e, p, q, r_key);
  gcry_mpi_release(e);
  gcry_mpi_release(p);
  gcry_mpi_release(q);
  gcry_sexp_release(parms);
  gcry_sexp_release(pair);
  return err;
}

/* Draws the secret of an ECC key: libgcrypt's own generator for the NIST
   curves (d uniform in [1, n-1]), 32 random bytes for 25519. */
static gpg_error_t
ecc_random_secret(const struct curve_info *ci, uint8_t *d)
{
  gpg_error_t err;
  gcry_sexp_t parms = NULL, pair = NULL;
  gcry_mpi_t dm = NULL;

  if (ci->curve == VC_CURVE_ED25519 || ci->curve == VC_CURVE_CV25519)
    {
      gcry_randomize(d, 32, GCRY_VERY_STRONG_RANDOM);
      return 0;
    }
  err = gcry_sexp_build(&parms, NULL, "(genkey(ecc(curve %s)))", ci->name);
  if (!err)
    err = gcry_pk_genkey(&pair, parms);
  if (!err)
    err = gcry_sexp_extract_param(pair, "private-key", "d", &dm, NULL);
  if (!err)
    err = mpi_to_fixed(dm, d, ci->fieldlen);
  gcry_mpi_release(dm);
  gcry_sexp_release(parms);
  gcry_sexp_release(pair);
  return err;
}

gpg_error_t
vc_key_generate(const struct vc_algo *algo, struct vc_key **r_key)
{
  gpg_error_t err;
  uint8_t *d = NULL;

  *r_key = NULL;
  err = vc_crypto_init();
  if (!err && !algo_supported(algo, SLOTS_SA | SLOTS_D))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (err)
    return err;
  if (algo->id == VC_ALGO_RSA)
    return rsa_generate(algo, r_key);
  d = gcry_malloc_secure(ECC_MAX_FIELD);
  if (!d)
    return gpg_error_from_syserror();
  err = ecc_random_secret(curve_by_id(algo->curve), d);
  if (!err)
    err = ecc_from_secret(algo, d, r_key);
  secure_free(d, ECC_MAX_FIELD);
  return err;
}

/* ---- Import ------------------------------------------------------------ */

/* The parts of a 5F48 value, indexed by tag - 0x91 (91 to 99). */
struct import_parts
{
  const uint8_t *v[9];
  size_t len[9];
};

/* Reads one BER length (1 to 3 bytes) at *P, advancing it. */
static gpg_error_t
template_len(const uint8_t **p, const uint8_t *end, size_t *len)
{
  size_t i, nbytes;

  if (*p >= end)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (**p < 0x80)
    {
      *len = *(*p)++;
      return 0;
    }
  nbytes = (size_t)(*(*p)++ & 0x7F);
  if (nbytes < 1 || nbytes > 2 || (size_t)(end - *p) < nbytes)
    return gpg_error(GPG_ERR_INV_VALUE);
  for (*len = 0, i = 0; i < nbytes; i++)
    *len = *len << 8 | *(*p)++;
  return 0;
}

/* Splits DATA along the 7F48 template TMPL: one-byte tags 91-99, each at
   most once, whose lengths add up to exactly DATALEN. */
static gpg_error_t
template_split(const uint8_t *tmpl, size_t tmpllen, const uint8_t *data, size_t datalen,
               struct import_parts *parts)
{
  const uint8_t *p = tmpl, *end = tmpl + tmpllen;
  size_t used = 0, len, idx;
  gpg_error_t err;

  memset(parts, 0, sizeof *parts);
  if (!tmpl || !tmpllen)
    return gpg_error(GPG_ERR_INV_VALUE);
  while (p < end)
    {
      if (*p < 0x91 || *p > 0x99)
        return gpg_error(GPG_ERR_INV_VALUE);
      idx = (size_t)(*p++ - 0x91);
      err = template_len(&p, end, &len);
      if (err)
        return err;
      if (parts->v[idx] || !len || len > datalen - used)
        return gpg_error(GPG_ERR_INV_VALUE);
      parts->v[idx] = data + used;
      parts->len[idx] = len;
      used += len;
    }
  return used == datalen ? 0 : gpg_error(GPG_ERR_INV_VALUE);
}

#define PART(tag) ((tag)-0x91)

static gpg_error_t
rsa_import(const struct vc_algo *algo, const struct import_parts *parts,
           struct vc_key **r_key)
{
  gpg_error_t err;
  gcry_mpi_t e = NULL, p = NULL, q = NULL, n = NULL;
  size_t half = algo->rsa_bits / 16;
  const int ie = PART(0x91), ip = PART(0x92), iq = PART(0x93), in = PART(0x97);

  if (!parts->v[ie] || !parts->v[ip] || !parts->v[iq] || parts->v[PART(0x98)]
      || parts->v[PART(0x99)] || parts->len[ie] > algo->rsa_e_bits / 8
      || parts->len[ip] > half || parts->len[iq] > half)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = gcry_mpi_scan(&e, GCRYMPI_FMT_USG, parts->v[ie], parts->len[ie], NULL);
  if (!err)
    err = gcry_mpi_scan(&p, GCRYMPI_FMT_USG, parts->v[ip], parts->len[ip], NULL);
  if (!err)
    err = gcry_mpi_scan(&q, GCRYMPI_FMT_USG, parts->v[iq], parts->len[iq], NULL);
  if (!err)
    err = rsa_from_parts(algo, e, p, q, r_key);
  if (!err && parts->v[in])
    {
      /* The card recomputes n; a given one must agree. */
      err = gcry_mpi_scan(&n, GCRYMPI_FMT_USG, parts->v[in], parts->len[in], NULL);
      if (!err)
        gcry_mpi_mul(p, p, q);
      if (!err && gcry_mpi_cmp(n, p))
        err = gpg_error(GPG_ERR_INV_VALUE);
      if (err)
        {
          vc_key_free(*r_key);
          *r_key = NULL;
        }
    }
  gcry_mpi_release(e);
  gcry_mpi_release(p);
  gcry_mpi_release(q);
  gcry_mpi_release(n);
  return err ? gpg_error(GPG_ERR_INV_VALUE) : 0;
}

/* Whether the 99 value PUB (32 native bytes for 25519, with or without
   libgcrypt's 0x40; 04||x||y for NIST) is the public key of KEY. */
static int
ecc_pub_matches(const struct vc_key *key, const uint8_t *pub, size_t len)
{
  if (len == key->publen + 1 && key->publen == 32 && pub[0] == 0x40)
    pub++, len--;
  return len == key->publen && !memcmp(pub, key->pub, len);
}

static gpg_error_t
ecc_import(const struct vc_algo *algo, const struct import_parts *parts,
           struct vc_key **r_key)
{
  const struct curve_info *ci = curve_by_id(algo->curve);
  const int id = PART(0x92), iq = PART(0x99);
  uint8_t *d;
  gpg_error_t err;
  size_t i, len = parts->len[id];

  for (i = 0; i < 9; i++)
    if (parts->v[i] && (int)i != id && (int)i != iq)
      return gpg_error(GPG_ERR_INV_VALUE);
  /* GnuPG pads d to the field size; others strip its leading zeros. */
  if (!parts->v[id] || len > ci->fieldlen)
    return gpg_error(GPG_ERR_INV_VALUE);
  d = gcry_calloc_secure(1, ci->fieldlen);
  if (!d)
    return gpg_error_from_syserror();
  memcpy(d + ci->fieldlen - len, parts->v[id], len);
  err = ecc_from_secret(algo, d, r_key);
  secure_free(d, ci->fieldlen);
  if (!err && parts->v[iq] && !ecc_pub_matches(*r_key, parts->v[iq], parts->len[iq]))
    {
      vc_key_free(*r_key);
      *r_key = NULL;
      err = gpg_error(GPG_ERR_INV_VALUE);
    }
  return err ? gpg_error(GPG_ERR_INV_VALUE) : 0;
}

gpg_error_t
vc_key_import(const struct vc_algo *algo, const uint8_t *tmpl, size_t tmpllen,
              const uint8_t *data, size_t datalen, struct vc_key **r_key)
{
  gpg_error_t err;
  struct import_parts parts;
  uint8_t *sdata = NULL;

  *r_key = NULL;
  err = vc_crypto_init();
  if (!err && !algo_supported(algo, SLOTS_SA | SLOTS_D))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    err = secure_copy(data, datalen, &sdata);
  if (!err)
    err = template_split(tmpl, tmpllen, sdata, datalen, &parts);
  if (!err && algo->id == VC_ALGO_RSA)
    err = rsa_import(algo, &parts, r_key);
  else if (!err)
    err = ecc_import(algo, &parts, r_key);
  secure_free(sdata, datalen);
  return err;
}

/* ---- Public key DO ----------------------------------------------------- */

gpg_error_t
vc_key_public(const struct vc_key *key, uint8_t *out, size_t outsize, size_t *len)
{
  gpg_error_t err = 0;
  struct tlv_builder b;
  gcry_mpi_t n = NULL, e = NULL;
  uint8_t nbuf[RSA_MAX_BYTES], ebuf[8];
  size_t nlen = key->algo.rsa_bits / 8, elen = 0;

  *len = 0;
  tlv_builder_init(&b, out, outsize);
  tlv_begin(&b, 0x7F49);
  if (key->algo.id == VC_ALGO_RSA)
    {
      err = gcry_sexp_extract_param(key->sec, "private-key", "ne", &n, &e, NULL);
      if (!err)
        err = mpi_to_fixed(n, nbuf, nlen);
      if (!err)
        err = gcry_mpi_print(GCRYMPI_FMT_USG, ebuf, sizeof ebuf, &elen, e);
      tlv_put(&b, 0x81, nbuf, nlen);
      tlv_put(&b, 0x82, ebuf, elen);
    }
  else
    tlv_put(&b, 0x86, key->pub, key->publen);
  tlv_end(&b);
  if (!err)
    err = tlv_builder_finish(&b, len);
  gcry_mpi_release(n);
  gcry_mpi_release(e);
  return err;
}

/* ---- Signatures -------------------------------------------------------- */

static size_t
rsa_bytes(const struct vc_key *key)
{
  return key->algo.rsa_bits / 8;
}

/* PKCS#1 v1.5 block type 1 over IN, which libgcrypt pads ("pkcs1-raw"). */
static gpg_error_t
rsa_sign(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
         size_t *len)
{
  gpg_error_t err;
  gcry_sexp_t data = NULL, sig = NULL;
  gcry_mpi_t s = NULL;

  err = gcry_sexp_build(&data, NULL, "(data(flags pkcs1-raw)(value %b))", (int)inlen, in);
  if (!err)
    err = gcry_pk_sign(&sig, data, key->sec);
  if (!err)
    err = gcry_sexp_extract_param(sig, "sig-val", "s", &s, NULL);
  if (!err)
    err = mpi_to_fixed(s, out, rsa_bytes(key));
  if (!err)
    *len = rsa_bytes(key);
  gcry_mpi_release(s);
  gcry_sexp_release(data);
  gcry_sexp_release(sig);
  return err;
}

/* ECDSA over the hash IN, cut to the order's size as ECDSA prescribes
   (whole bytes suffice: hashes of at most 64 bytes, and P-521's order
   has more bits than that). */
static gpg_error_t
ecdsa_sign(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
           size_t *len)
{
  const struct curve_info *ci = curve_by_id(key->algo.curve);
  gpg_error_t err;
  gcry_sexp_t data = NULL, sig = NULL;
  gcry_mpi_t r = NULL, s = NULL;

  if (inlen > ci->fieldlen)
    inlen = ci->fieldlen;
  err = gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", (int)inlen, in);
  if (!err)
    err = gcry_pk_sign(&sig, data, key->sec);
  if (!err)
    err = gcry_sexp_extract_param(sig, "sig-val", "rs", &r, &s, NULL);
  if (!err)
    err = mpi_to_fixed(r, out, ci->fieldlen);
  if (!err)
    err = mpi_to_fixed(s, out + ci->fieldlen, ci->fieldlen);
  if (!err)
    *len = 2 * ci->fieldlen;
  gcry_mpi_release(r);
  gcry_mpi_release(s);
  gcry_sexp_release(data);
  gcry_sexp_release(sig);
  return err;
}

/* Ed25519 (PureEdDSA) over the message IN: R||S, 64 bytes. */
static gpg_error_t
eddsa_sign(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
           size_t *len)
{
  gpg_error_t err;
  gcry_sexp_t data = NULL, sig = NULL, tok = NULL;
  const char *names[2] = { "r", "s" };
  const uint8_t *v;
  size_t i, vlen;

  err = gcry_sexp_build(&data, NULL, "(data(flags eddsa)(hash-algo sha512)(value %b))",
                        (int)inlen, in);
  if (!err)
    err = gcry_pk_sign(&sig, data, key->sec);
  for (i = 0; !err && i < 2; i++)
    {
      err = sexp_bytes(sig, names[i], &tok, &v, &vlen);
      if (!err && vlen != 32)
        err = gpg_error(GPG_ERR_INTERNAL);
      if (!err)
        memcpy(out + 32 * i, v, 32);
      gcry_sexp_release(tok);
    }
  if (!err)
    *len = 64;
  gcry_sexp_release(data);
  gcry_sexp_release(sig);
  return err;
}

/* The output size of a signature by KEY. */
static size_t
sig_size(const struct vc_key *key)
{
  if (key->algo.id == VC_ALGO_RSA)
    return rsa_bytes(key);
  return 2 * curve_by_id(key->algo.curve)->fieldlen;
}

/* Signs for PSO: CDS or, if AUTH, INTERNAL AUTHENTICATE.  RSA takes a
   DigestInfo up to the PKCS#1 v1.5 limit (00 01, eight FF, 00 around it)
   for a signature, and at most 40% of the modulus to authenticate. */
static gpg_error_t
key_sign(const struct vc_key *key, int auth, const uint8_t *in, size_t inlen,
         uint8_t *out, size_t outsize, size_t *len)
{
  size_t k = rsa_bytes(key);

  *len = 0;
  if (key->algo.id == VC_ALGO_ECDH)
    return gpg_error(GPG_ERR_WRONG_KEY_USAGE);
  if (!inlen || (key->algo.id == VC_ALGO_RSA && inlen > (auth ? k * 4 / 10 : k - 11))
      || (key->algo.id == VC_ALGO_ECDSA && inlen > 64))
    return gpg_error(GPG_ERR_INV_VALUE);
  if (outsize < sig_size(key))
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  if (key->algo.id == VC_ALGO_RSA)
    return rsa_sign(key, in, inlen, out, len);
  if (key->algo.id == VC_ALGO_ECDSA)
    return ecdsa_sign(key, in, inlen, out, len);
  return eddsa_sign(key, in, inlen, out, len);
}

gpg_error_t
vc_key_sign(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
            size_t outsize, size_t *len)
{
  return key_sign(key, 0, in, inlen, out, outsize, len);
}

gpg_error_t
vc_key_auth(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
            size_t outsize, size_t *len)
{
  return key_sign(key, 1, in, inlen, out, outsize, len);
}

/* ---- Decipher ---------------------------------------------------------- */

/* Finds the message of the PKCS#1 v1.5 type 2 block EM (K bytes), looking
   at every byte whatever the padding holds, so that timing says little
   about where it went wrong.  Returns the message offset or 0 if bad. */
static size_t
pkcs1_type2_offset(const uint8_t *em, size_t k)
{
  size_t i, zero_at = 0;
  unsigned int found = 0, bad;

  bad = (unsigned int)(em[0] | (em[1] ^ 2));
  for (i = 2; i < k; i++)
    {
      unsigned int is_zero = ((unsigned int)em[i] - 1u) >> 8 & 1u;
      unsigned int first = is_zero & ~found & 1u;

      zero_at |= (size_t)(0u - first) & i;
      found |= is_zero;
    }
  bad |= ~found & 1u;
  bad |= (unsigned int)(zero_at < 10); /* at least 8 padding bytes */
  return bad ? 0 : zero_at + 1;
}

static gpg_error_t
rsa_decipher(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
             size_t outsize, size_t *len)
{
  size_t k = rsa_bytes(key), off;
  gpg_error_t err;
  gcry_mpi_t c = NULL, n = NULL, m = NULL;
  gcry_sexp_t data = NULL, plain = NULL;
  uint8_t *em = NULL;

  if (!inlen || inlen > k)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = gcry_mpi_scan(&c, GCRYMPI_FMT_USG, in, inlen, NULL);
  if (!err)
    err = gcry_sexp_extract_param(key->sec, "private-key", "n", &n, NULL);
  if (!err && gcry_mpi_cmp(c, n) >= 0)
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    err = gcry_sexp_build(&data, NULL, "(enc-val(flags raw)(rsa(a%m)))", c);
  if (!err)
    err = gcry_pk_decrypt(&plain, data, key->sec);
  if (!err)
    err = gcry_sexp_extract_param(plain, NULL, "'value'", &m, NULL);
  if (!err && !(em = gcry_malloc_secure(k)))
    err = gpg_error_from_syserror();
  if (!err)
    err = mpi_to_fixed(m, em, k);
  if (!err && !(off = pkcs1_type2_offset(em, k)))
    err = gpg_error(GPG_ERR_DECRYPT_FAILED);
  if (!err && k - off > outsize)
    err = gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  if (!err)
    {
      memcpy(out, em + off, k - off);
      *len = k - off;
    }
  if (em)
    secure_free(em, k);
  gcry_mpi_release(c);
  gcry_mpi_release(n);
  gcry_mpi_release(m);
  gcry_sexp_release(data);
  gcry_sexp_release(plain);
  return err;
}

/* ECDH on a NIST curve: the x coordinate of d times the point IN. */
static gpg_error_t
nist_ecdh(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
          size_t *len)
{
  const struct curve_info *ci = curve_by_id(key->algo.curve);
  gpg_error_t err;
  gcry_sexp_t data = NULL, plain = NULL, tok = NULL;
  const uint8_t *v;
  size_t vlen;

  if (inlen != ci->publen || in[0] != 0x04)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = gcry_sexp_build(&data, NULL, "(enc-val(ecdh(e%b)))", (int)inlen, in);
  if (!err)
    err = gcry_pk_decrypt(&plain, data, key->sec);
  if (err) /* a point off the curve */
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    err = sexp_bytes(plain, "value", &tok, &v, &vlen);
  if (!err && (vlen != ci->publen || v[0] != 0x04))
    err = gpg_error(GPG_ERR_INTERNAL);
  if (!err)
    {
      memcpy(out, v + 1, ci->fieldlen);
      *len = ci->fieldlen;
    }
  gcry_sexp_release(tok);
  gcry_sexp_release(data);
  gcry_sexp_release(plain);
  return err;
}

/* X25519 with the sender's native u-coordinate IN. */
static gpg_error_t
x25519_ecdh(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
            size_t *len)
{
  gpg_error_t err;
  gcry_sexp_t tok = NULL;
  const uint8_t *d;
  uint8_t *native = NULL;
  size_t dlen, i;
  unsigned int acc = 0;

  if (inlen != 32)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = sexp_bytes(key->sec, "d", &tok, &d, &dlen);
  if (!err && dlen != 32)
    err = gpg_error(GPG_ERR_INTERNAL);
  if (!err && !(native = gcry_malloc_secure(32)))
    err = gpg_error_from_syserror();
  if (!err)
    {
      reverse32(native, d);
      err = gcry_ecc_mul_point(GCRY_ECC_CURVE25519, out, native, in);
    }
  /* A low-order point gives all zeros: no secret shared (RFC 7748 6.1). */
  for (i = 0; !err && i < 32; i++)
    acc |= out[i];
  if (!err && !acc)
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    *len = 32;
  if (native)
    secure_free(native, 32);
  gcry_sexp_release(tok);
  return err;
}

gpg_error_t
vc_key_decipher(const struct vc_key *key, const uint8_t *in, size_t inlen, uint8_t *out,
                size_t outsize, size_t *len)
{
  *len = 0;
  if (key->algo.id == VC_ALGO_RSA)
    return rsa_decipher(key, in, inlen, out, outsize, len);
  if (key->algo.id != VC_ALGO_ECDH)
    return gpg_error(GPG_ERR_WRONG_KEY_USAGE);
  if (outsize < curve_by_id(key->algo.curve)->fieldlen)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  if (key->algo.curve == VC_CURVE_CV25519)
    return x25519_ecdh(key, in, inlen, out, len);
  return nist_ecdh(key, in, inlen, out, len);
}

/* ---- State file serialization ------------------------------------------ */

/* The canonical form of SEXP in a new secure buffer *R_BUF of *R_LEN
   bytes.  (Asked for the size, gcry_sexp_sprint counts a trailing NUL that
   it does not write in canonical form.) */
static gpg_error_t
sexp_canon(gcry_sexp_t sexp, uint8_t **r_buf, size_t *r_len)
{
  size_t size = gcry_sexp_sprint(sexp, GCRYSEXP_FMT_CANON, NULL, 0);

  *r_len = 0;
  *r_buf = size ? gcry_malloc_secure(size) : NULL;
  if (!*r_buf)
    return size ? gpg_error_from_syserror() : gpg_error(GPG_ERR_INTERNAL);
  *r_len = gcry_sexp_sprint(sexp, GCRYSEXP_FMT_CANON, *r_buf, size);
  if (!*r_len)
    {
      gcry_free(*r_buf);
      *r_buf = NULL;
      return gpg_error(GPG_ERR_INTERNAL);
    }
  return 0;
}

/* Serialized: 80 version | 81 algorithm attributes | 82 canonical
   S-expression of the private key. */
gpg_error_t
vc_key_save(const struct vc_key *key, uint8_t *out, size_t outsize, size_t *len)
{
  gpg_error_t err;
  struct tlv_builder b;
  uint8_t attr[16], version = SAVE_VERSION;
  size_t attrlen, n = 0;
  uint8_t *canon = NULL;

  *len = 0;
  err = vc_algo_encode(&key->algo, attr, sizeof attr, &attrlen);
  if (!err)
    err = sexp_canon(key->sec, &canon, &n);
  if (err)
    return err;
  tlv_builder_init(&b, out, outsize);
  tlv_put(&b, 0x80, &version, 1);
  tlv_put(&b, 0x81, attr, attrlen);
  tlv_put(&b, 0x82, canon, n);
  err = tlv_builder_finish(&b, len);
  if (err)
    wipe(out, outsize);
  secure_free(canon, n);
  return err;
}

/* Rebuilds the key of ALGO from the parts of SEC that define it. */
static gpg_error_t
key_rebuild(const struct vc_algo *algo, gcry_sexp_t sec, struct vc_key **r_key)
{
  gpg_error_t err;
  gcry_mpi_t e = NULL, p = NULL, q = NULL;
  gcry_sexp_t tok = NULL;
  const uint8_t *d;
  uint8_t *dcopy = NULL;
  size_t dlen = 0;

  if (algo->id == VC_ALGO_RSA)
    {
      err = gcry_sexp_extract_param(sec, "private-key", "epq", &e, &p, &q, NULL);
      if (!err)
        err = rsa_from_parts(algo, e, p, q, r_key);
      gcry_mpi_release(e);
      gcry_mpi_release(p);
      gcry_mpi_release(q);
      return err;
    }
  err = sexp_bytes(sec, "d", &tok, &d, &dlen);
  if (!err && dlen != curve_by_id(algo->curve)->fieldlen)
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    err = secure_copy(d, dlen, &dcopy);
  if (!err)
    err = ecc_from_secret(algo, dcopy, r_key);
  secure_free(dcopy, dlen);
  gcry_sexp_release(tok);
  return err;
}

/* Whether KEY serializes to exactly CANON (LEN bytes). */
static int
key_is_canon(const struct vc_key *key, const uint8_t *canon, size_t len)
{
  uint8_t *buf = NULL;
  size_t n = 0;
  int same;

  if (sexp_canon(key->sec, &buf, &n))
    return 0;
  same = n == len && !memcmp(buf, canon, n);
  secure_free(buf, n);
  return same;
}

static gpg_error_t
load_fields(const uint8_t *in, size_t inlen, struct tlv *f)
{
  struct tlv_iter it;
  gpg_error_t err = 0;
  unsigned int i;

  const uint8_t *pos = in;

  /* Exactly three objects, back to back: the TLV parser's tolerance of
     00/FF padding has no place in a file this program writes itself. */
  tlv_iter_init(&it, in, inlen);
  for (i = 0; !err && i < 3; i++)
    {
      err = tlv_iter_next(&it, &f[i]);
      if (!err && (f[i].tag != 0x80 + i || f[i].value - f[i].hdrlen != pos))
        err = gpg_error(GPG_ERR_INV_VALUE);
      if (!err)
        pos = f[i].value + f[i].len;
    }
  if (!err && pos != in + inlen)
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err && (f[0].len != 1 || f[0].value[0] != SAVE_VERSION))
    err = gpg_error(GPG_ERR_INV_VALUE);
  return err ? gpg_error(GPG_ERR_INV_VALUE) : 0;
}

gpg_error_t
vc_key_load(const uint8_t *in, size_t inlen, struct vc_key **r_key)
{
  gpg_error_t err;
  struct tlv f[3];
  struct vc_algo algo;
  uint8_t *canon = NULL;
  size_t canonlen = 0;
  gcry_sexp_t sec = NULL;

  *r_key = NULL;
  err = vc_crypto_init();
  if (!err)
    err = load_fields(in, inlen, f);
  if (!err)
    err = algo_parse_slots(f[1].value, f[1].len, SLOTS_SA | SLOTS_D, &algo);
  if (!err)
    err = secure_copy(f[2].value, f[2].len, &canon);
  if (!err)
    canonlen = f[2].len;
  if (!err && gcry_sexp_new(&sec, canon, canonlen, 0))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    err = key_rebuild(&algo, sec, r_key);
  if (!err && !key_is_canon(*r_key, canon, canonlen))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (err)
    {
      vc_key_free(*r_key);
      *r_key = NULL;
    }
  secure_free(canon, canonlen);
  gcry_sexp_release(sec);
  return err ? gpg_error(GPG_ERR_INV_VALUE) : 0;
}
