/* vcard-crypto.h - the software card's key operations, on libgcrypt
 *
 * The card core (vcard.c and friends) parses APDUs and enforces access
 * conditions; everything that touches key material happens behind this
 * interface.  Secret keys live in libgcrypt secure memory and are never
 * returned except in vc_key_save's serialization for the state file.
 *
 * Formats are those of the OpenPGP card specification 3.4:
 *  - algorithm attributes (DO C1/C2/C3): RSA 01 | n bits (2) | e bits (2) |
 *    import format (1); ECC algo id (12 ECDH, 13 ECDSA, 16 EdDSA) | curve
 *    OID [| FF when the import format carries the public key];
 *  - public key DO 7F49: 81 modulus, 82 exponent (RSA); 86 point (ECC:
 *    04||x||y for NIST curves, the 32 native bytes for Ed25519/X25519);
 *  - key import: the 7F48 header list and the 5F48 concatenated data of
 *    the extended header list (DO 4D).
 */
#ifndef DUALSCD_VCARD_CRYPTO_H
#define DUALSCD_VCARD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* Key references: the three key slots of the card. */
enum vc_keyref
{
  VC_KEY_SIG = 1, /* C1, PSO: COMPUTE DIGITAL SIGNATURE */
  VC_KEY_DEC = 2, /* C2, PSO: DECIPHER */
  VC_KEY_AUT = 3  /* C3, INTERNAL AUTHENTICATE */
};

enum vc_algo_id
{
  VC_ALGO_RSA = 0x01,
  VC_ALGO_ECDH = 0x12,
  VC_ALGO_ECDSA = 0x13,
  VC_ALGO_EDDSA = 0x16
};

enum vc_curve
{
  VC_CURVE_NONE = 0,
  VC_CURVE_P256,
  VC_CURVE_P384,
  VC_CURVE_P521,
  VC_CURVE_ED25519,
  VC_CURVE_CV25519
};

struct vc_algo
{
  enum vc_algo_id id;
  unsigned int rsa_bits;   /* RSA: 2048, 3072 or 4096 */
  unsigned int rsa_e_bits; /* RSA: length of e in bits, 32 (e = 65537 is 17) */
  unsigned int rsa_format; /* RSA import format: 0 standard, 1 with n, 2 crt, 3 crt+n */
  enum vc_curve curve;     /* ECC */
  int ecc_with_pub;        /* ECC: attribute ends with FF */
};

/* Parses the algorithm attributes ATTR (LEN bytes, the value of C1, C2 or
 * C3) for key slot KEYREF and checks the card supports them there (RSA
 * 2048/3072/4096 in every slot; ECDSA and EdDSA only for signature and
 * authentication, ECDH only for decryption; curves P-256, P-384, P-521,
 * Ed25519 (EdDSA), Cv25519 (ECDH)).  Errors: GPG_ERR_INV_VALUE for
 * anything malformed or unsupported (the card answers 6A80). */
gpg_error_t vc_algo_parse(const uint8_t *attr, size_t len, enum vc_keyref keyref,
                          struct vc_algo *algo);

/* Writes ALGO as algorithm attributes into OUT; *LEN gets the length. */
gpg_error_t vc_algo_encode(const struct vc_algo *algo, uint8_t *out, size_t outsize,
                           size_t *len);

/* A key pair in one slot. */
struct vc_key;

/* Generates a key pair for ALGO. */
gpg_error_t vc_key_generate(const struct vc_algo *algo, struct vc_key **r_key);

/* Imports a private key for ALGO from the 7F48 header list TMPL (the
 * value: tag/length pairs without values) and the 5F48 DATA (values in the
 * order of TMPL).  RSA takes 91 e, 92 p, 93 q (and ignores 94-97 CRT parts
 * and 97 n if present, checking n = p*q when given); ECC takes 92 private
 * key and optionally 99 public key (checked against the private key).
 * Errors: GPG_ERR_INV_VALUE for a template or data the algorithm does not
 * match (wrong sizes, p*q not of the announced size...), answered 6A80. */
gpg_error_t vc_key_import(const struct vc_algo *algo, const uint8_t *tmpl, size_t tmpllen,
                          const uint8_t *data, size_t datalen, struct vc_key **r_key);

/* Writes the complete public key DO (7F49 tag, length and contents) of KEY
 * into OUT; *LEN gets its length. */
gpg_error_t vc_key_public(const struct vc_key *key, uint8_t *out, size_t outsize,
                          size_t *len);

/* PSO: COMPUTE DIGITAL SIGNATURE.  RSA: IN is a DigestInfo, signed with
 * PKCS#1 v1.5 (block type 1); ECDSA: IN is the hash, the result r||s, each
 * padded to the field size; EdDSA: IN is the message, the result R||S.
 * Errors: GPG_ERR_INV_VALUE for an input the algorithm cannot take (too
 * long for the modulus, empty), answered 6700 by the core. */
gpg_error_t vc_key_sign(const struct vc_key *key, const uint8_t *in, size_t inlen,
                        uint8_t *out, size_t outsize, size_t *len);

/* INTERNAL AUTHENTICATE: RSA signs IN (at most 40% of the modulus) with
 * PKCS#1 v1.5 padding, ECDSA and EdDSA as vc_key_sign. */
gpg_error_t vc_key_auth(const struct vc_key *key, const uint8_t *in, size_t inlen,
                        uint8_t *out, size_t outsize, size_t *len);

/* PSO: DECIPHER.  RSA: IN is the cryptogram without the padding indicator
 * byte (the core strips the 00); the result is the PKCS#1 v1.5 (block type
 * 2) unpadded plaintext.  ECDH: IN is the sender's public point (the 86
 * value of A6/7F49); the result is the shared secret: the x coordinate for
 * NIST curves, the 32-byte X25519 output for Cv25519.  Errors:
 * GPG_ERR_INV_VALUE for a bad length or point, GPG_ERR_DECRYPT_FAILED for
 * bad padding (both answered 6A80 by the core). */
gpg_error_t vc_key_decipher(const struct vc_key *key, const uint8_t *in, size_t inlen,
                            uint8_t *out, size_t outsize, size_t *len);

/* The algorithm KEY was made for. */
const struct vc_algo *vc_key_algo(const struct vc_key *key);

/* Serializes KEY (algorithm and secret key) for the state file into OUT;
 * *LEN gets its length.  vc_key_load reverses it, checking everything. */
gpg_error_t vc_key_save(const struct vc_key *key, uint8_t *out, size_t outsize,
                        size_t *len);
gpg_error_t vc_key_load(const uint8_t *in, size_t inlen, struct vc_key **r_key);

/* Frees KEY, wiping its secrets.  NULL is allowed. */
void vc_key_free(struct vc_key *key);

/* Fills BUF with LEN random bytes (GET CHALLENGE). */
void vc_random(uint8_t *buf, size_t len);

/* Initialises libgcrypt once (secure memory, no core dumps of secrets);
 * every vc_* function calls it.  Returns an error if libgcrypt is too old. */
gpg_error_t vc_crypto_init(void);

#endif /* DUALSCD_VCARD_CRYPTO_H */
