/* app-kdf.c - PINs hashed as the card's KDF-DO (F9) says
 *
 * With a KDF-DO set to "iterated and salted S2K" (81 01 03) the card
 * stores and compares hashes of the PINs, never the PINs: every VERIFY,
 * CHANGE REFERENCE DATA, RESET RETRY COUNTER and the Reset Code's PUT DATA
 * carry S2K(PIN) with the hash algorithm (82), iteration count (83) and
 * the salt of that PIN (84 PW1, 85 Reset Code, 86 PW3; a card with one
 * salt has only 84) - OpenPGP card 3.4, 4.3.2, as GnuPG's scdaemon does
 * it.  F9 comes from the app's DO cache: one GET DATA per card session.
 */
#define _DEFAULT_SOURCE
#include <string.h>

#include <gcrypt.h>

#include "app-int.h"
#include "tlv.h"

/* Iteration counts beyond this take seconds per PIN; a card asking for
 * more is refused rather than obeyed. */
#define KDF_MAX_ITERATIONS 0x10000000UL

/* Hash algorithm ids of tag 82 and libgcrypt's. */
static const struct
{
  uint8_t id;
  int algo;
  size_t len;
} kdf_hashes[] = {
  { 0x08, GCRY_MD_SHA256, 32 },
  { 0x0A, GCRY_MD_SHA512, 64 },
};

/* The value of TAG inside F9's value V/N of exactly LEN bytes (0: any). */
static const uint8_t *
kdf_field(const uint8_t *v, size_t n, unsigned int tag, size_t len, size_t *r_len)
{
  struct tlv t;

  if (tlv_find(v, n, tag, &t) || (len && t.len != len))
    return NULL;
  *r_len = t.len;
  return t.value;
}

/* The KDF-DO's value in *V / *N when the card has one set to iterated and
 * salted S2K (81 01 03); 0 when PINs go to the card as they are. */
static int
active_kdf_do(struct app *app, const uint8_t **v, size_t *n)
{
  if (app_get_do(app, 0xC0, v, n) || !*n || !((*v)[0] & 0x01))
    return 0;
  return !app_get_do(app, 0xF9, v, n) && *n >= 3 && (*v)[0] == 0x81 && (*v)[1] == 0x01
         && (*v)[2] == 0x03;
}

int
app_kdf_in_use(struct app *app)
{
  const uint8_t *v;
  size_t n;

  return active_kdf_do(app, &v, &n);
}

/* S2K of PIN with F9's parameters for WHICH into OUT (room for 64). */
static gpg_error_t
kdf_derive(const uint8_t *v, size_t n, enum app_pin_kind which, const char *pin,
           uint8_t *out, size_t *r_len)
{
  static const unsigned int salt_tag[] = { 0x84, 0x85, 0x86 };
  const uint8_t *algo, *iter, *salt;
  size_t len, i, saltlen;
  unsigned long count;

  algo = kdf_field(v, n, 0x82, 1, &len);
  iter = kdf_field(v, n, 0x83, 4, &len);
  salt = kdf_field(v, n, salt_tag[which], 0, &saltlen);
  if (!salt)
    salt = kdf_field(v, n, 0x84, 0, &saltlen); /* one salt for every PIN */
  if (!algo || !iter || !salt || !saltlen || saltlen > 32)
    return gpg_error(GPG_ERR_INV_DATA);
  for (i = 0; i < sizeof kdf_hashes / sizeof *kdf_hashes; i++)
    if (kdf_hashes[i].id == algo[0])
      break;
  if (i == sizeof kdf_hashes / sizeof *kdf_hashes)
    return gpg_error(GPG_ERR_UNSUPPORTED_ALGORITHM);
  count = (unsigned long)iter[0] << 24 | (unsigned long)iter[1] << 16
          | (unsigned long)iter[2] << 8 | iter[3];
  if (!count || count > KDF_MAX_ITERATIONS)
    return gpg_error(GPG_ERR_INV_DATA);
  *r_len = kdf_hashes[i].len;
  return gcry_kdf_derive(pin, strlen(pin), GCRY_KDF_ITERSALTED_S2K, kdf_hashes[i].algo,
                         salt, saltlen, count, *r_len, out);
}

gpg_error_t
app_kdf_pin(struct app *app, enum app_pin_kind which, const char *pin, uint8_t **r_out,
            size_t *r_len)
{
  const uint8_t *v;
  size_t n, len = strlen(pin);
  uint8_t *out;
  gpg_error_t err = 0;

  *r_out = NULL;
  *r_len = 0;
  out = gcry_malloc_secure(len > 64 ? len : 64);
  if (!out)
    return gpg_error_from_syserror();
  if (active_kdf_do(app, &v, &n))
    err = kdf_derive(v, n, which, pin, out, &len);
  else
    memcpy(out, pin, len);
  if (err)
    {
      explicit_bzero(out, 64);
      gcry_free(out);
      return err;
    }
  *r_out = out;
  *r_len = len;
  return 0;
}

void
app_kdf_free(uint8_t *buf, size_t len)
{
  if (buf)
    {
      explicit_bzero(buf, len > 64 ? len : 64);
      gcry_free(buf);
    }
}
