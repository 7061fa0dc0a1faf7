/* app-crypt.c - PKSIGN, PKAUTH, PKDECRYPT and the cardholder certificate */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "app-int.h"
#include "apdu.h"
#include "tlv.h"

/* Copies the LEN bytes at OUT into a new buffer (secure memory if SECURE). */
static gpg_error_t
copy_out(const uint8_t *out, size_t len, int secure, uint8_t **r, size_t *rlen)
{
  *r = secure ? gcry_malloc_secure(len ? len : 1) : malloc(len ? len : 1);
  if (!*r)
    return gpg_error_from_syserror();
  memcpy(*r, out, len);
  *rlen = len;
  return 0;
}

/* DigestInfo lengths GnuPG accepts for RSA: the prefix (15 or 19 bytes)
 * plus the hash of the given algorithm. */
static int
digestinfo_ok(int hashalgo, size_t len)
{
  unsigned int hl = hashalgo ? gcry_md_get_algo_dlen(hashalgo) : 0;

  return hl && (len == hl + 15 || len == hl + 19);
}

/* gpg-agent 2.2 wraps every hash in a DigestInfo before PKSIGN, ECC keys
 * included; ECDSA and EdDSA cards take the bare hash, so a DigestInfo of
 * HASHALGO is cut down to its hash, as GnuPG's scdaemon does.  Anything
 * else is left for the length check to judge. */
static void
strip_digestinfo(int hashalgo, const uint8_t **data, size_t *datalen)
{
  uint8_t prefix[32];
  size_t plen = sizeof prefix;
  unsigned int hl = gcry_md_get_algo_dlen(hashalgo);

  if (!hl || gcry_md_algo_info(hashalgo, GCRYCTL_GET_ASNOID, prefix, &plen))
    return;
  if (*datalen == plen + hl && !memcmp(*data, prefix, plen))
    {
      *data += plen;
      *datalen = hl;
    }
}

/* The input of INTERNAL AUTHENTICATE as GnuPG's scdaemon prepares it
 * (do_auth): gpg-agent prefixes even ECC input with a DigestInfo header,
 * 19 bytes for a SHA-2 hash on NIST curves; for everything else on an ECC
 * key (EdDSA over the raw ssh message) it is 15 bytes, dropped unseen.
 * RSA input is limited to what a 2048-bit key can take (40%). */
static gpg_error_t
auth_input(const struct key_attr *a, const uint8_t **data, size_t *datalen)
{
  size_t cut = 0;

  if (!*data || !*datalen)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (a->type == KEY_RSA)
    return *datalen > 101 ? gpg_error(GPG_ERR_INV_VALUE) : 0;
  if (!a->curve->djb && (*datalen == 51 || *datalen == 67 || *datalen == 83))
    cut = 19;
  else
    cut = 15;
  if (*datalen <= cut)
    return gpg_error(GPG_ERR_INV_VALUE);
  *data += cut;
  *datalen -= cut;
  return 0;
}

static gpg_error_t
internal_auth(struct app *app, const struct app_io *io, const uint8_t *data, size_t len,
              uint8_t **r_sig, size_t *r_siglen)
{
  const uint8_t *out;
  size_t outlen;
  gpg_error_t err = app_verify_pw1(app, io, 2);

  if (!err)
    err = app_cmd(app, 0x88, 0x00, 0x00, data, len, APDU_LE_MAX, &out, &outlen, NULL);
  return err ? err : copy_out(out, outlen, 0, r_sig, r_siglen);
}

gpg_error_t
app_sign(struct app *app, const struct app_io *io, const char *keyid, int hashalgo,
         const uint8_t *data, size_t datalen, uint8_t **r_sig, size_t *r_siglen)
{
  struct key_attr a;
  const uint8_t *out;
  size_t outlen;
  int keyno;
  gpg_error_t err;

  *r_sig = NULL;
  *r_siglen = 0;
  err = app_ensure_selected(app);
  if (!err)
    err = app_parse_keyid(app, keyid, &keyno);
  if (!err && keyno == 1)
    err = gpg_error(GPG_ERR_INV_ID);
  if (!err)
    err = app_key_attr(app, keyno, &a);
  if (err)
    return err;
  if (keyno == 2)
    {
      err = auth_input(&a, &data, &datalen);
      return err ? err : internal_auth(app, io, data, datalen, r_sig, r_siglen);
    }
  if (a.type == KEY_ECC && data && hashalgo)
    strip_digestinfo(hashalgo, &data, &datalen);
  if (!data || !datalen || datalen > 512
      || (a.type == KEY_RSA && !digestinfo_ok(hashalgo, datalen))
      || (a.type == KEY_ECC && hashalgo && datalen != gcry_md_get_algo_dlen(hashalgo)))
    return gpg_error(GPG_ERR_INV_VALUE);
  err = app_verify_pw1(app, io, 1);
  if (!err)
    err = app_cmd(app, 0x2A, 0x9E, 0x9A, data, datalen, APDU_LE_MAX, &out, &outlen, NULL);
  if (err)
    return err;
  err = copy_out(out, outlen, 0, r_sig, r_siglen);
  app_bump_sig_counter(app);
  {
    const uint8_t *c4;
    size_t n;
    if (!app_get_do(app, 0xC4, &c4, &n) && n && !c4[0])
      app->did_chv1 = 0; /* PW1 valid for one signature only */
  }
  return err;
}

gpg_error_t
app_auth(struct app *app, const struct app_io *io, const char *keyid, const uint8_t *data,
         size_t datalen, uint8_t **r_sig, size_t *r_siglen)
{
  struct key_attr a;
  int keyno;
  gpg_error_t err;

  *r_sig = NULL;
  *r_siglen = 0;
  err = app_ensure_selected(app);
  if (!err)
    err = app_parse_keyid(app, keyid, &keyno);
  if (!err && keyno != 2)
    err = gpg_error(GPG_ERR_INV_ID);
  if (!err)
    err = app_key_attr(app, 2, &a);
  if (!err)
    err = auth_input(&a, &data, &datalen);
  return err ? err : internal_auth(app, io, data, datalen, r_sig, r_siglen);
}

/* The PSO:DECIPHER input, as GnuPG 2.2.40's do_decipher builds it: RSA
 * gets the padding indicator 00 and its lost leading zeroes back; ECDH
 * gets the Cipher DO A6 { 7F49 { 86 point } }. */
static gpg_error_t
build_decipher_input(const struct key_attr *a, const uint8_t *d, size_t n, uint8_t *buf,
                     size_t size, size_t *r_len)
{
  struct tlv_builder b;
  size_t k = (a->nbits + 7) / 8;

  *r_len = 0;
  if (a->type == KEY_RSA)
    {
      if (n == k + 1 && !d[0])
        d++, n--;
      if (n > k || k + 1 > size || n + 16 < k)
        return gpg_error(GPG_ERR_INV_VALUE);
      memset(buf, 0, k + 1 - n);
      memcpy(buf + k + 1 - n, d, n);
      *r_len = k + 1;
      return 0;
    }
  if (a->curve->djb && n > 32 && (n % 2))
    d++, n--; /* the 0x40 prefix */
  tlv_builder_init(&b, buf, size);
  tlv_begin(&b, 0xA6);
  tlv_begin(&b, 0x7F49);
  tlv_put(&b, 0x86, d, n);
  tlv_end(&b);
  tlv_end(&b);
  return tlv_builder_finish(&b, r_len);
}

gpg_error_t
app_decipher(struct app *app, const struct app_io *io, const char *keyid,
             const uint8_t *data, size_t datalen, uint8_t **r_out, size_t *r_outlen,
             int *r_padding)
{
  struct key_attr a;
  uint8_t buf[1100];
  const uint8_t *out;
  size_t outlen, len = 0;
  int keyno;
  gpg_error_t err;

  *r_out = NULL;
  *r_outlen = 0;
  *r_padding = -1;
  err = app_ensure_selected(app);
  if (!err)
    err = app_parse_keyid(app, keyid, &keyno);
  if (!err && keyno != 1)
    err = gpg_error(GPG_ERR_INV_ID);
  if (!err && (!data || !datalen || datalen > 1024))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (!err)
    err = app_key_attr(app, 1, &a);
  if (!err && a.type == KEY_NONE)
    err = gpg_error(GPG_ERR_UNSUPPORTED_ALGORITHM);
  if (!err)
    err = build_decipher_input(&a, data, datalen, buf, sizeof buf, &len);
  if (!err)
    err = app_verify_pw1(app, io, 2);
  if (!err)
    err = app_cmd(app, 0x2A, 0x80, 0x86, buf, len, APDU_LE_MAX, &out, &outlen, NULL);
  explicit_bzero(buf, sizeof buf);
  if (err)
    return err;
  *r_padding = 0;
  if (a.type == KEY_ECC && (a.curve->djb || outlen % 2 == 0))
    {
      /* GnuPG prefixes 40 (X25519) or 41 (x only) to the shared point. */
      *r_out = gcry_malloc_secure(outlen + 1);
      if (!*r_out)
        return gpg_error_from_syserror();
      (*r_out)[0] = a.curve->djb ? 0x40 : 0x41;
      memcpy(*r_out + 1, out, outlen);
      *r_outlen = outlen + 1;
      return 0;
    }
  return copy_out(out, outlen, 1, r_out, r_outlen);
}

gpg_error_t
app_readcert(struct app *app, const char *certid, uint8_t **r_cert, size_t *r_certlen)
{
  const uint8_t *v;
  size_t n;
  gpg_error_t err;

  *r_cert = NULL;
  *r_certlen = 0;
  if (!certid || strcmp(certid, "OPENPGP.3"))
    return gpg_error(GPG_ERR_INV_ID);
  err = app_ensure_selected(app);
  if (!err)
    err = app_get_do(app, 0x7F21, &v, &n);
  if (!err && !n)
    err = gpg_error(GPG_ERR_NOT_FOUND);
  return err ? err : copy_out(v, n, 0, r_cert, r_certlen);
}

gpg_error_t
app_writecert(struct app *app, const struct app_io *io, const char *certid,
              const uint8_t *cert, size_t certlen)
{
  gpg_error_t err;

  if (!certid || strcmp(certid, "OPENPGP.3"))
    return gpg_error(GPG_ERR_INV_ID);
  if (!cert || !certlen || certlen > 65535)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = app_ensure_selected(app);
  if (!err)
    err = app_verify_pw3(app, io);
  return err ? err : app_put_do(app, 0x7F21, cert, certlen);
}
