/* app-key.c - key attributes, public keys and keygrips, GENKEY, WRITEKEY */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "app-int.h"
#include "apdu.h"
#include "hex.h"
#include "tlv.h"

static const uint8_t oid_ed25519[]
    = { 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01 };
static const uint8_t oid_cv25519[]
    = { 0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01 };
static const uint8_t oid_p256[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x2B, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x2B, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_bp256[]
    = { 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07 };
static const uint8_t oid_bp384[]
    = { 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0B };
static const uint8_t oid_bp512[]
    = { 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0D };
static const uint8_t oid_k256[] = { 0x2B, 0x81, 0x04, 0x00, 0x0A };

/* GnuPG's curve table (common/openpgp-oid.c): canonical name, alias. */
static const struct app_curve curves[] = {
  { "Curve25519", "cv25519", oid_cv25519, sizeof oid_cv25519, 1 },
  { "Ed25519", "ed25519", oid_ed25519, sizeof oid_ed25519, 1 },
  { "NIST P-256", "nistp256", oid_p256, sizeof oid_p256, 0 },
  { "NIST P-384", "nistp384", oid_p384, sizeof oid_p384, 0 },
  { "NIST P-521", "nistp521", oid_p521, sizeof oid_p521, 0 },
  { "brainpoolP256r1", "brainpoolP256r1", oid_bp256, sizeof oid_bp256, 0 },
  { "brainpoolP384r1", "brainpoolP384r1", oid_bp384, sizeof oid_bp384, 0 },
  { "brainpoolP512r1", "brainpoolP512r1", oid_bp512, sizeof oid_bp512, 0 },
  { "secp256k1", "secp256k1", oid_k256, sizeof oid_k256, 0 },
};
#define NCURVES (sizeof curves / sizeof curves[0])

static const struct app_curve *
curve_by_oid(const uint8_t *oid, size_t len)
{
  size_t i;

  for (i = 0; i < NCURVES; i++)
    if (curves[i].oidlen == len && !memcmp(curves[i].oid, oid, len))
      return &curves[i];
  return NULL;
}

static const struct app_curve *
curve_by_name(const char *name)
{
  size_t i;

  for (i = 0; i < NCURVES; i++)
    if (!strcmp(curves[i].name, name) || !strcmp(curves[i].alias, name))
      return &curves[i];
  return NULL;
}

/* Parses DO C1+KEYNO as GnuPG's parse_algorithm_attribute does. */
gpg_error_t
app_key_attr(struct app *app, int keyno, struct key_attr *a)
{
  const uint8_t *v;
  size_t n;
  gpg_error_t err;

  memset(a, 0, sizeof *a);
  err = app_get_do(app, 0xC1 + (unsigned int)keyno, &v, &n);
  if (err)
    return err;
  if (!n)
    return gpg_error(GPG_ERR_CARD);
  a->algo = v[0];
  if (v[0] == 1 && (n == 5 || n == 6))
    {
      a->type = KEY_RSA;
      a->nbits = (unsigned int)v[1] << 8 | v[2];
      a->ebits = (unsigned int)v[3] << 8 | v[4];
      a->fmt = n == 6 && v[5] <= 3 ? v[5] : 0;
    }
  else if (v[0] == 18 || v[0] == 19 || v[0] == 22)
    {
      /* A trailing 00 or FF is the "public key required" byte. */
      if (n > 2 && (v[n - 1] == 0x00 || v[n - 1] == 0xFF))
        n--;
      a->curve = curve_by_oid(v + 1, n - 1);
      if (!a->curve)
        return gpg_error(GPG_ERR_CARD);
      a->type = KEY_ECC;
    }
  return 0;
}

/* 1..3 from "1".."3" or "OPENPGP.1".."OPENPGP.3"; 0 otherwise. */
int
app_keyref_no(const char *keyref)
{
  if (!keyref)
    return 0;
  if (!strncmp(keyref, "OPENPGP.", 8))
    keyref += 8;
  if (keyref[0] >= '1' && keyref[0] <= '3' && !keyref[1])
    return keyref[0] - '0';
  return 0;
}

/* Copies the LEN bytes at V after a 00 when the top bit is set, as GnuPG
 * does for the RSA modulus and exponent (a positive MPI): the keygrip
 * hashes these bytes, so they must be GnuPG's. */
static uint8_t *
positive(const struct tlv *t, size_t *r_len)
{
  size_t z = t->value[0] >> 7;
  uint8_t *p = malloc(t->len + z);

  *r_len = t->len + z;
  if (p)
    {
      p[0] = 0;
      memcpy(p + z, t->value, t->len);
    }
  return p;
}

static gpg_error_t
rsa_sexp(const struct tlv *n, const struct tlv *e, gcry_sexp_t *r_s)
{
  size_t nl, el;
  uint8_t *nb = positive(n, &nl), *eb = positive(e, &el);
  gpg_error_t err;

  if (!nb || !eb)
    err = gpg_error_from_syserror();
  else
    err = gcry_sexp_build(r_s, NULL, "(public-key(rsa(n%b)(e%b)))", (int)nl, nb, (int)el,
                          eb);
  free(nb);
  free(eb);
  return err;
}

/* Whether Q has the form the card must give for curve C: the 32 bytes of
 * an Ed25519 / X25519 point (GnuPG prefixes 40 itself), or 04 X Y.  What
 * else a card might send never reaches libgcrypt, whose keygrip code
 * aborts the process on some malformed points. */
static int
point_ok(const struct app_curve *c, const struct tlv *q)
{
  size_t coord = strstr(c->name, "521")   ? 66
                 : strstr(c->name, "512") ? 64
                 : strstr(c->name, "384") ? 48
                                          : 32;

  if (c->djb)
    return q->len == 32;
  return q->len == 1 + 2 * coord && q->value[0] == 0x04;
}

/* Builds the public key S-expression from the value of a DO 7F49, as
 * GnuPG 2.2.40's rsa_read_pubkey / ecc_read_pubkey do, so the keygrips
 * agree with gpg-agent's. */
static gpg_error_t
pubkey_sexp(const struct key_attr *a, int keyno, const uint8_t *d, size_t dlen,
            gcry_sexp_t *r_s)
{
  struct tlv n, e, q;
  uint8_t *qbuf;
  gpg_error_t err;

  *r_s = NULL;
  if (a->type == KEY_RSA)
    {
      if (tlv_find(d, dlen, 0x81, &n) || tlv_find(d, dlen, 0x82, &e) || !n.len || !e.len)
        return gpg_error(GPG_ERR_CARD);
      return rsa_sexp(&n, &e, r_s);
    }
  if (a->type != KEY_ECC)
    return gpg_error(GPG_ERR_NOT_IMPLEMENTED);
  if (tlv_find(d, dlen, 0x86, &q) || !point_ok(a->curve, &q))
    return gpg_error(GPG_ERR_CARD);
  qbuf = malloc(q.len + 1);
  if (!qbuf)
    return gpg_error_from_syserror();
  qbuf[0] = 0x40;
  memcpy(qbuf + !!a->curve->djb, q.value, q.len);
  err = gcry_sexp_build(r_s, NULL,
                        !a->curve->djb ? "(public-key(ecc(curve%s)(q%b)))"
                        : keyno == 1 ? "(public-key(ecc(curve%s)(flags djb-tweak)(q%b)))"
                                     : "(public-key(ecc(curve%s)(flags eddsa)(q%b)))",
                        a->curve->name, (int)(q.len + !!a->curve->djb), qbuf);
  free(qbuf);
  return err;
}

/* Keeps the public key of KEYNO from the response BUF (holding 7F49). */
static gpg_error_t
store_pubkey(struct app *app, int keyno, const uint8_t *buf, size_t len)
{
  struct app_pubkey *pk = &app->pk[keyno];
  struct key_attr a;
  struct tlv t;
  gcry_sexp_t s = NULL;
  uint8_t grip[20];
  size_t n;
  gpg_error_t err;

  err = app_key_attr(app, keyno, &a);
  if (!err && tlv_find(buf, len, 0x7F49, &t))
    err = gpg_error(GPG_ERR_CARD);
  if (!err)
    err = pubkey_sexp(&a, keyno, t.value, t.len, &s);
  if (!err && !gcry_pk_get_keygrip(s, grip))
    err = gpg_error(GPG_ERR_INV_OBJ);
  n = err ? 0 : gcry_sexp_sprint(s, GCRYSEXP_FMT_CANON, NULL, 0);
  free(pk->sexp);
  pk->sexp = n ? malloc(n) : NULL;
  if (!err && !pk->sexp)
    err = gpg_error_from_syserror();
  if (!err)
    {
      pk->sexplen = gcry_sexp_sprint(s, GCRYSEXP_FMT_CANON, pk->sexp, n);
      hex_encode(grip, 20, pk->grip);
      pk->read_done = 1;
    }
  gcry_sexp_release(s);
  return err;
}

static const uint8_t crt_tags[3] = { 0xB6, 0xB8, 0xA4 };

/* Reads the public key of KEYNO (0..2) once: the card's keys change only
 * through our own GENKEY / WRITEKEY or behind a reset (app_invalidate).  An
 * all-zero fingerprint means an empty slot, which costs no APDU. */
gpg_error_t
app_get_pubkey(struct app *app, int keyno)
{
  static const uint8_t zero[20];
  uint8_t crt[2] = { crt_tags[keyno], 0x00 };
  const uint8_t *v, *out;
  size_t n, outlen;
  gpg_error_t err;

  if (app->pk[keyno].read_done)
    return 0;
  err = app_get_do(app, 0xC5, &v, &n);
  if (!err && n >= 60 && !memcmp(v + 20 * keyno, zero, 20))
    {
      app->pk[keyno].read_done = 1;
      return 0;
    }
  err = app_cmd(app, 0x47, 0x81, 0x00, crt, 2, APDU_LE_MAX, &out, &outlen, NULL);
  if (err)
    return gpg_error(GPG_ERR_NO_OBJ);
  return store_pubkey(app, keyno, out, outlen);
}

/* KEYID as OPENPGP.n or a keygrip of one of the card's keys -> 0..2. */
gpg_error_t
app_parse_keyid(struct app *app, const char *keyid, int *r_keyno)
{
  int i, n = app_keyref_no(keyid);
  gpg_error_t err;

  *r_keyno = -1;
  if (keyid && !strncmp(keyid, "OPENPGP.", 8) && n)
    {
      *r_keyno = n - 1;
      return 0;
    }
  if (!keyid || strlen(keyid) != 40 || strspn(keyid, "0123456789abcdefABCDEF") != 40)
    return gpg_error(GPG_ERR_INV_ID);
  for (i = 0; i < 3; i++)
    {
      err = app_get_pubkey(app, i);
      if (!err && app->pk[i].sexp && !strcasecmp(app->pk[i].grip, keyid))
        {
          *r_keyno = i;
          return 0;
        }
    }
  return gpg_error(GPG_ERR_INV_ID);
}

gpg_error_t
app_readkey(struct app *app, const char *keyid, uint8_t **r_pk, size_t *r_pklen)
{
  int keyno;
  gpg_error_t err;

  *r_pk = NULL;
  *r_pklen = 0;
  err = app_ensure_selected(app);
  if (!err)
    err = app_parse_keyid(app, keyid, &keyno);
  if (!err)
    err = app_get_pubkey(app, keyno);
  if (!err && !app->pk[keyno].sexp)
    err = gpg_error(GPG_ERR_NO_SECKEY);
  if (!err && !(*r_pk = malloc(app->pk[keyno].sexplen)))
    err = gpg_error_from_syserror();
  if (err)
    return gpg_err_code(err) == GPG_ERR_NO_OBJ ? gpg_error(GPG_ERR_NO_SECKEY) : err;
  memcpy(*r_pk, app->pk[keyno].sexp, app->pk[keyno].sexplen);
  *r_pklen = app->pk[keyno].sexplen;
  return 0;
}

gpg_error_t
app_keygrip(struct app *app, int keyno, char grip[41])
{
  gpg_error_t err;

  grip[0] = 0;
  if (keyno < 1 || keyno > 3)
    return gpg_error(GPG_ERR_INV_ID);
  err = app_ensure_selected(app);
  if (!err)
    err = app_get_pubkey(app, keyno - 1);
  if (gpg_err_code(err) == GPG_ERR_NO_OBJ || (!err && !app->pk[keyno - 1].sexp))
    return gpg_error(GPG_ERR_NO_SECKEY);
  if (!err)
    memcpy(grip, app->pk[keyno - 1].grip, 41);
  return err;
}

/* ---- attributes ---- */

/* The DO C1..C3 value for ALGO ("rsa2048", "ed25519", "nistp256" ...). */
static gpg_error_t
attr_for_algo(const char *algo, int keyno, uint8_t *out, size_t *outlen)
{
  const struct app_curve *c;
  unsigned long bits;
  char *end;

  if (!strncmp(algo, "rsa", 3))
    {
      bits = strtoul(algo + 3, &end, 10);
      if (*end || bits < 1024 || bits > 4096)
        return gpg_error(GPG_ERR_INV_VALUE);
      out[0] = 1;
      out[1] = (uint8_t)(bits >> 8);
      out[2] = (uint8_t)bits;
      out[3] = 0;
      out[4] = 32;
      out[5] = 0;
      *outlen = 6;
      return 0;
    }
  c = curve_by_name(algo);
  if (!c)
    return gpg_error(GPG_ERR_INV_VALUE);
  out[0] = keyno == 1 ? 18 : c->djb ? 22 : 19;
  memcpy(out + 1, c->oid, c->oidlen);
  *outlen = 1 + c->oidlen;
  return 0;
}

/* Changes key slot KEYNO's attributes to ALGO unless they already match. */
static gpg_error_t
change_attr(struct app *app, const struct app_io *io, int keyno, const char *algo)
{
  uint8_t val[16];
  const uint8_t *cur;
  size_t len, curlen;
  gpg_error_t err;

  err = attr_for_algo(algo, keyno, val, &len);
  if (!err)
    err = app_get_do(app, 0xC1 + (unsigned int)keyno, &cur, &curlen);
  if (err || (curlen >= 5 && len >= 5 && !memcmp(cur, val, 5) && val[0] == 1)
      || (curlen == len && !memcmp(cur, val, len)))
    return err;
  err = app_verify_pw3(app, io);
  if (!err)
    err = app_put_do(app, 0xC1 + (unsigned int)keyno, val, len);
  return err;
}

/* SETATTR KEY-ATTR "--force N 1 rsaBITS" or "--force N ALGO CURVE". */
gpg_error_t app_set_key_attr(struct app *app, const struct app_io *io,
                             const uint8_t *value, size_t len);
gpg_error_t
app_set_key_attr(struct app *app, const struct app_io *io, const uint8_t *value,
                 size_t len)
{
  char buf[64], algo[32];
  int keyno, algoid;

  if (len >= sizeof buf)
    return gpg_error(GPG_ERR_INV_VALUE);
  memcpy(buf, value, len);
  buf[len] = 0;
  if (sscanf(buf, "--force %d %d %31s", &keyno, &algoid, algo) != 3 || keyno < 1
      || keyno > 3)
    return gpg_error(GPG_ERR_INV_DATA);
  return change_attr(app, io, keyno - 1, algo);
}

/* ---- fingerprints (RFC 4880 v4) ---- */

/* The ECDH KDF parameters GnuPG uses for CURVE (RFC 6637: SHA-256 and
 * AES-128 up to 256 bits, SHA-384 / AES-192 up to 384, else SHA-512 /
 * AES-256); they are part of the fingerprint of an encryption key. */
static const uint8_t *
ecdh_params(const struct app_curve *c)
{
  if (strstr(c->name, "384"))
    return (const uint8_t *)"\x03\x01\x09\x08";
  if (strstr(c->name, "521") || strstr(c->name, "512"))
    return (const uint8_t *)"\x03\x01\x0a\x09";
  return (const uint8_t *)"\x03\x01\x08\x07";
}

static void
md_mpi(gcry_md_hd_t md, const uint8_t *v, size_t n)
{
  unsigned int bits;
  uint8_t hdr[2];

  for (; n && !*v; n--, v++)
    ;
  bits = n ? (unsigned int)(n - 1) * 8u : 0;
  if (n)
    for (hdr[0] = v[0]; hdr[0]; hdr[0] >>= 1)
      bits++;
  hdr[0] = (uint8_t)(bits >> 8);
  hdr[1] = (uint8_t)bits;
  gcry_md_write(md, hdr, 2);
  gcry_md_write(md, v, n);
}

static size_t
mpi_len(const uint8_t *v, size_t n)
{
  for (; n && !*v; n--, v++)
    ;
  return 2 + n;
}

/* The v4 fingerprint of KEYNO's public key in the cached S-expression's
 * source DO, computed from the parts PARTS (RSA: n, e; ECC: q). */
static gpg_error_t
compute_fpr(const struct key_attr *a, int keyno, uint32_t created, const uint8_t *d,
            size_t dlen, uint8_t fpr[20])
{
  struct tlv n, e, q;
  gcry_md_hd_t md;
  uint8_t hdr[9], qbuf[200];
  size_t body, qlen = 0;

  if (a->type == KEY_RSA && (tlv_find(d, dlen, 0x81, &n) || tlv_find(d, dlen, 0x82, &e)))
    return gpg_error(GPG_ERR_CARD);
  if (a->type == KEY_ECC)
    {
      if (tlv_find(d, dlen, 0x86, &q) || q.len + 1 > sizeof qbuf)
        return gpg_error(GPG_ERR_CARD);
      qbuf[0] = 0x40;
      memcpy(qbuf + !!a->curve->djb, q.value, q.len);
      qlen = q.len + !!a->curve->djb;
    }
  body = 6
         + (a->type == KEY_RSA
                ? mpi_len(n.value, n.len) + mpi_len(e.value, e.len)
                : 1 + a->curve->oidlen + mpi_len(qbuf, qlen) + (keyno == 1 ? 4 : 0));
  if (gcry_md_open(&md, GCRY_MD_SHA1, 0))
    return gpg_error(GPG_ERR_ENOMEM);
  hdr[0] = 0x99;
  hdr[1] = (uint8_t)(body >> 8);
  hdr[2] = (uint8_t)body;
  hdr[3] = 4;
  hdr[4] = (uint8_t)(created >> 24);
  hdr[5] = (uint8_t)(created >> 16);
  hdr[6] = (uint8_t)(created >> 8);
  hdr[7] = (uint8_t)created;
  hdr[8] = a->type == KEY_RSA ? 1 : keyno == 1 ? 18 : a->curve->djb ? 22 : 19;
  gcry_md_write(md, hdr, 9);
  if (a->type == KEY_RSA)
    {
      md_mpi(md, n.value, n.len);
      md_mpi(md, e.value, e.len);
    }
  else
    {
      hdr[0] = (uint8_t)a->curve->oidlen;
      gcry_md_write(md, hdr, 1);
      gcry_md_write(md, a->curve->oid, a->curve->oidlen);
      md_mpi(md, qbuf, qlen);
      if (keyno == 1)
        gcry_md_write(md, ecdh_params(a->curve), 4);
    }
  memcpy(fpr, gcry_md_read(md, GCRY_MD_SHA1), 20);
  gcry_md_close(md);
  return 0;
}

/* Emits KEY-DATA NAME HEX in 768-digit chunks, "-" marking all but the
 * last. */
static gpg_error_t
send_key_data(const struct app_io *io, const char *name, const uint8_t *v, size_t n)
{
  char *hex = malloc(2 * n + 1), *p, line[800];
  size_t left;
  gpg_error_t err = 0;

  if (!hex)
    return gpg_error_from_syserror();
  hex_encode(v, n, hex);
  for (p = hex, left = 2 * n; !err && left > 768; left -= 768, p += 768)
    {
      snprintf(line, sizeof line, "- %.768s", p);
      err = io->status(io->opaque, "KEY-DATA", line);
    }
  if (!err)
    {
      snprintf(line, sizeof line, "%s %s", name, p);
      err = io->status(io->opaque, "KEY-DATA", line);
    }
  free(hex);
  return err;
}

static gpg_error_t
send_pubkey_data(const struct app_io *io, const struct key_attr *a, int keyno,
                 const uint8_t *d, size_t dlen)
{
  uint8_t qbuf[200];
  struct tlv t, q;
  gpg_error_t err;

  if (a->type == KEY_RSA)
    {
      err = tlv_find(d, dlen, 0x81, &t);
      if (!err)
        err = send_key_data(io, "n", t.value, t.len);
      if (!err && !(err = tlv_find(d, dlen, 0x82, &t)))
        err = send_key_data(io, "e", t.value, t.len);
      return err;
    }
  if (tlv_find(d, dlen, 0x86, &q) || q.len + 1 > sizeof qbuf)
    return gpg_error(GPG_ERR_CARD);
  qbuf[0] = 0x40;
  memcpy(qbuf + !!a->curve->djb, q.value, q.len);
  err = send_key_data(io, "q", qbuf, q.len + !!a->curve->djb);
  if (!err)
    err = send_key_data(io, "curve", a->curve->oid, a->curve->oidlen);
  if (!err && keyno == 1)
    err = send_key_data(io, "kdf/kek", ecdh_params(a->curve), 4);
  return err;
}

/* After GENKEY or WRITEKEY: store fingerprint and date, report them. */
static gpg_error_t
finish_new_key(struct app *app, const struct app_io *io, int keyno, uint32_t created,
               const uint8_t *resp, size_t resplen, int genkey)
{
  struct key_attr a;
  struct tlv t;
  uint8_t fpr[20], date[4];
  char line[41];
  gpg_error_t err;

  err = app_key_attr(app, keyno, &a);
  if (!err && tlv_find(resp, resplen, 0x7F49, &t))
    err = gpg_error(GPG_ERR_CARD);
  if (!err && genkey)
    err = send_pubkey_data(io, &a, keyno, t.value, t.len);
  if (!err)
    err = compute_fpr(&a, keyno, created, t.value, t.len, fpr);
  if (!err)
    err = app_put_do(app, 0xC7 + (unsigned int)keyno, fpr, 20);
  date[0] = (uint8_t)(created >> 24);
  date[1] = (uint8_t)(created >> 16);
  date[2] = (uint8_t)(created >> 8);
  date[3] = (uint8_t)created;
  if (!err)
    err = app_put_do(app, 0xCE + (unsigned int)keyno, date, 4);
  if (!err && genkey)
    err = io->status(io->opaque, "KEY-FPR", hex_encode(fpr, 20, line));
  if (!err)
    err = store_pubkey(app, keyno, resp, resplen);
  /* Generating or importing the signature key resets the card's
   * signature counter (the OpenPGP card does it itself): read it again. */
  if (keyno == 0)
    app_cache_drop(app, 0x93);
  return err;
}

gpg_error_t
app_genkey(struct app *app, const struct app_io *io, const char *keyref, const char *algo,
           unsigned int flags, time_t created_at)
{
  int keyno = app_keyref_no(keyref) - 1;
  uint8_t crt[2] = { 0, 0 };
  uint8_t *copy = NULL;
  const uint8_t *out;
  size_t outlen = 0;
  char line[24];
  gpg_error_t err;

  if (keyno < 0)
    return gpg_error(GPG_ERR_INV_ID);
  crt[0] = crt_tags[keyno];
  err = app_ensure_selected(app);
  if (!err && !(flags & APP_GENKEY_FORCE) && !app_get_pubkey(app, keyno)
      && app->pk[keyno].sexp)
    err = gpg_error(GPG_ERR_EEXIST);
  if (!err && algo)
    err = change_attr(app, io, keyno, algo);
  if (!err)
    err = app_verify_pw3(app, io);
  if (!err)
    err = app_cmd(app, 0x47, 0x80, 0x00, crt, 2, APDU_LE_MAX, &out, &outlen, NULL);
  if (!err && !(copy = malloc(outlen ? outlen : 1)))
    err = gpg_error_from_syserror();
  if (!err)
    {
      memcpy(copy, out, outlen);
      app->pk[keyno].read_done = 0;
      snprintf(line, sizeof line, "%lu", (unsigned long)created_at);
      err = io->status(io->opaque, "KEY-CREATED-AT", line);
    }
  if (!err)
    err = finish_new_key(app, io, keyno, (uint32_t)created_at, copy, outlen, 1);
  free(copy);
  return err;
}

/* ---- WRITEKEY ---- */

/* The parts of a private key S-expression the card takes. */
struct keyparts
{
  gcry_sexp_t top;
  const char *names[3]; /* RSA: e p q; ECC: d */
  unsigned long created;
  const struct app_curve *curve;
  int rsa;
};

static gpg_error_t
find_created(gcry_sexp_t top, unsigned long *r_created)
{
  gcry_sexp_t c = gcry_sexp_find_token(top, "created-at", 0);
  size_t n;
  const char *v;
  char buf[16];

  *r_created = 0;
  if (!c)
    return gpg_error(GPG_ERR_INV_VALUE);
  v = gcry_sexp_nth_data(c, 1, &n);
  if (v && n && n < sizeof buf)
    {
      memcpy(buf, v, n);
      buf[n] = 0;
      *r_created = strtoul(buf, NULL, 10);
    }
  gcry_sexp_release(c);
  return *r_created ? 0 : gpg_error(GPG_ERR_INV_VALUE);
}

/* Appends the value of token NAME of KEY to B (into a 7F48 length list
 * when TMPL, into 5F48 otherwise). */
static gpg_error_t
put_part(struct tlv_builder *b, gcry_sexp_t key, const char *name, unsigned int tag,
         int tmpl, size_t pad)
{
  gcry_sexp_t t = gcry_sexp_find_token(key, name, 0);
  const char *v;
  size_t n, len;
  uint8_t zero[66] = { 0 }, hdr[4];

  if (!t)
    return gpg_error(GPG_ERR_INV_VALUE);
  v = gcry_sexp_nth_data(t, 1, &n);
  for (; v && n && !*v; n--, v++)
    ;
  len = pad > n ? pad : n;
  if (tmpl)
    {
      hdr[0] = (uint8_t)tag;
      hdr[1] = 0x82;
      hdr[2] = (uint8_t)(len >> 8);
      hdr[3] = (uint8_t)len;
      tlv_put_raw(b, hdr, 4);
    }
  else if (v)
    {
      tlv_put_raw(b, zero, len - n < sizeof zero ? len - n : 0);
      tlv_put_raw(b, v, n);
    }
  gcry_sexp_release(t);
  return v ? 0 : gpg_error(GPG_ERR_INV_VALUE);
}

static gpg_error_t
build_import(int keyno, gcry_sexp_t key, int rsa, uint8_t *buf, size_t size,
             size_t *r_len)
{
  static const char *const rsa_parts[] = { "e", "p", "q" };
  static const unsigned int rsa_tags[] = { 0x91, 0x92, 0x93 };
  struct tlv_builder b;
  size_t i, nparts = rsa ? 3 : 1;
  gpg_error_t err = 0;
  int pass;

  tlv_builder_init(&b, buf, size);
  tlv_begin(&b, 0x4D);
  tlv_put(&b, crt_tags[keyno], NULL, 0);
  for (pass = 0; pass < 2 && !err; pass++)
    {
      tlv_begin(&b, pass == 0 ? 0x7F48 : 0x5F48);
      for (i = 0; i < nparts && !err; i++)
        err = put_part(&b, key, rsa ? rsa_parts[i] : "d", rsa ? rsa_tags[i] : 0x92,
                       pass == 0, rsa && i == 0 ? 4 : 0);
      tlv_end(&b);
    }
  tlv_end(&b);
  return err ? err : tlv_builder_finish(&b, r_len);
}

gpg_error_t
app_writekey(struct app *app, const struct app_io *io, const char *keyref,
             unsigned int flags, const uint8_t *keydata, size_t keydatalen)
{
  int keyno = app_keyref_no(keyref) - 1;
  gcry_sexp_t top = NULL, key = NULL, pub = NULL;
  unsigned long created = 0;
  uint8_t *buf = NULL;
  size_t len = 0;
  const uint8_t *out;
  size_t outlen;
  const char *algo = NULL;
  char algobuf[16];
  gpg_error_t err;

  if (keyno < 0)
    return gpg_error(GPG_ERR_INV_ID);
  err = app_ensure_selected(app);
  if (!err && !(flags & APP_GENKEY_FORCE) && !app_get_pubkey(app, keyno)
      && app->pk[keyno].sexp)
    err = gpg_error(GPG_ERR_EEXIST);
  if (!err)
    err = gcry_sexp_sscan(&top, NULL, (const char *)keydata, keydatalen);
  if (!err)
    err = find_created(top, &created);
  if (!err && (key = gcry_sexp_find_token(top, "rsa", 0)))
    {
      gcry_mpi_t n = NULL;
      gcry_sexp_t nt = gcry_sexp_find_token(key, "n", 0);
      n = nt ? gcry_sexp_nth_mpi(nt, 1, GCRYMPI_FMT_USG) : NULL;
      snprintf(algobuf, sizeof algobuf, "rsa%u", n ? gcry_mpi_get_nbits(n) : 0);
      algo = algobuf;
      gcry_mpi_release(n);
      gcry_sexp_release(nt);
    }
  else if (!err && (key = gcry_sexp_find_token(top, "ecc", 0)))
    {
      gcry_sexp_t c = gcry_sexp_find_token(key, "curve", 0);
      char *name = c ? gcry_sexp_nth_string(c, 1) : NULL;
      const struct app_curve *cv = name ? curve_by_name(name) : NULL;
      algo = cv ? cv->name : NULL;
      gcry_free(name);
      gcry_sexp_release(c);
    }
  if (!err && !algo)
    err = gpg_error(GPG_ERR_UNSUPPORTED_ALGORITHM);
  if (!err)
    err = change_attr(app, io, keyno, algo);
  if (!err)
    err = app_verify_pw3(app, io);
  buf = err ? NULL : gcry_malloc_secure(8192);
  if (!err && !buf)
    err = gpg_error_from_syserror();
  if (!err)
    err = build_import(keyno, key, !strncmp(algo, "rsa", 3), buf, 8192, &len);
  if (!err)
    err = app_cmd(app, 0xDB, 0x3F, 0xFF, buf, len, APDU_LE_NONE, &out, &outlen, NULL);
  if (buf)
    {
      explicit_bzero(buf, 8192);
      gcry_free(buf);
    }
  /* The card holds the key now: read its public part for the fingerprint. */
  if (!err)
    {
      uint8_t crt[2] = { crt_tags[keyno], 0x00 };
      uint8_t *copy;
      err = app_cmd(app, 0x47, 0x81, 0x00, crt, 2, APDU_LE_MAX, &out, &outlen, NULL);
      copy = err ? NULL : malloc(outlen ? outlen : 1);
      if (!err && copy)
        {
          memcpy(copy, out, outlen);
          err = finish_new_key(app, io, keyno, (uint32_t)created, copy, outlen, 0);
        }
      else if (!err)
        err = gpg_error_from_syserror();
      free(copy);
    }
  gcry_sexp_release(pub);
  gcry_sexp_release(key);
  gcry_sexp_release(top);
  return err;
}

/* ---- READKEY --format=ssh ---- */

/* An SSH wire-format blob being built, bounded. */
struct ssh_blob
{
  uint8_t buf[2048];
  size_t len;
  int overflow;
};

static void
ssh_put(struct ssh_blob *b, const void *p, size_t n)
{
  if (b->overflow || n > sizeof b->buf - b->len)
    {
      b->overflow = 1;
      return;
    }
  memcpy(b->buf + b->len, p, n);
  b->len += n;
}

/* An SSH "string": 32-bit big-endian length, then the bytes. */
static void
ssh_put_string(struct ssh_blob *b, const void *p, size_t n)
{
  uint8_t len[4]
      = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

  ssh_put(b, len, 4);
  ssh_put(b, p, n);
}

/* Element NAME of KEY as an SSH mpint (libgcrypt's GCRYMPI_FMT_SSH). */
static gpg_error_t
ssh_put_mpi(struct ssh_blob *b, gcry_sexp_t key, const char *name)
{
  gcry_sexp_t l = gcry_sexp_find_token(key, name, 0);
  gcry_mpi_t m = l ? gcry_sexp_nth_mpi(l, 1, GCRYMPI_FMT_USG) : NULL;
  size_t n = 0;
  gpg_error_t err = m ? 0 : gpg_error(GPG_ERR_INV_SEXP);

  if (!err)
    err = gcry_mpi_print(GCRYMPI_FMT_SSH, NULL, 0, &n, m);
  if (!err && n > sizeof b->buf - b->len)
    b->overflow = 1;
  else if (!err)
    err = gcry_mpi_print(GCRYMPI_FMT_SSH, b->buf + b->len, n, &n, m);
  if (!err && !b->overflow)
    b->len += n;
  gcry_mpi_release(m);
  gcry_sexp_release(l);
  return err;
}

/* Element "q" of an EdDSA key, without the 0x40 prefix of GnuPG's form. */
static gpg_error_t
ssh_put_eddsa_q(struct ssh_blob *b, gcry_sexp_t key)
{
  gcry_sexp_t l = gcry_sexp_find_token(key, "q", 0);
  size_t n = 0;
  const char *q = l ? gcry_sexp_nth_data(l, 1, &n) : NULL;

  if (!q)
    {
      gcry_sexp_release(l);
      return gpg_error(GPG_ERR_INV_SEXP);
    }
  if ((n & 1) && q[0] == 0x40)
    ssh_put_string(b, q + 1, n - 1);
  else
    ssh_put_string(b, q, n);
  gcry_sexp_release(l);
  return 0;
}

/* The SSH key type for KEY's algorithm and curve, as GnuPG 2.4's
 * common/ssh-utils.c names them; NULL when SSH has none. */
static const char *
ssh_key_type(gcry_sexp_t key, const char **r_curve)
{
  static const struct
  {
    const char *curve, *type;
  } types[] = {
    { "Ed25519", "ssh-ed25519" },
    { "Ed448", "ssh-ed448" },
    { "NIST P-256", "ecdsa-sha2-nistp256" },
    { "NIST P-384", "ecdsa-sha2-nistp384" },
    { "NIST P-521", "ecdsa-sha2-nistp521" },
  };
  gcry_sexp_t rsa = gcry_sexp_find_token(key, "rsa", 0);
  size_t i;

  *r_curve = NULL;
  if (rsa)
    {
      gcry_sexp_release(rsa);
      return "ssh-rsa";
    }
  *r_curve = gcry_pk_get_curve(key, 0, NULL);
  for (i = 0; *r_curve && i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(types[i].curve, *r_curve))
      return types[i].type;
  return NULL;
}

static void
base64(const uint8_t *in, size_t n, char *out)
{
  static const char abc[]
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;

  for (i = 0; i + 2 < n; i += 3, out += 4)
    {
      out[0] = abc[in[i] >> 2];
      out[1] = abc[(in[i] & 3) << 4 | in[i + 1] >> 4];
      out[2] = abc[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
      out[3] = abc[in[i + 2] & 63];
    }
  if (i < n)
    {
      out[0] = abc[in[i] >> 2];
      out[1] = abc[(in[i] & 3) << 4 | (i + 1 < n ? in[i + 1] >> 4 : 0)];
      out[2] = i + 1 < n ? abc[(in[i + 1] & 15) << 2] : '=';
      out[3] = '=';
      out += 4;
    }
  *out = 0;
}

/* The blob: type, then (ECDSA) the curve as GnuPG 2.4 writes it (its
 * libgcrypt name, "NIST P-256", not SSH's "nistp256"), then the key. */
static gpg_error_t
ssh_blob_of(gcry_sexp_t key, const char *type, const char *curve, struct ssh_blob *b)
{
  gpg_error_t err;

  ssh_put_string(b, type, strlen(type));
  if (!strcmp(type, "ssh-rsa"))
    {
      err = ssh_put_mpi(b, key, "e");
      return err ? err : ssh_put_mpi(b, key, "n");
    }
  if (!strncmp(type, "ssh-ed", 6))
    return ssh_put_eddsa_q(b, key);
  ssh_put_string(b, curve, strlen(curve));
  return ssh_put_mpi(b, key, "q");
}

gpg_error_t
app_ssh_pubkey(const uint8_t *sexp, size_t sexplen, char **r_text)
{
  gcry_sexp_t key = NULL;
  struct ssh_blob *b = NULL;
  const char *type, *curve;
  gpg_error_t err;

  *r_text = NULL;
  err = gcry_sexp_new(&key, sexp, sexplen, 0);
  if (err)
    goto leave;
  type = ssh_key_type(key, &curve);
  if (!type)
    {
      err = gpg_error(curve ? GPG_ERR_UNKNOWN_CURVE : GPG_ERR_PUBKEY_ALGO);
      goto leave;
    }
  b = calloc(1, sizeof *b);
  if (!b)
    err = gpg_error_from_syserror();
  if (!err)
    err = ssh_blob_of(key, type, curve, b);
  if (!err && b->overflow)
    err = gpg_error(GPG_ERR_TOO_LARGE);
  if (!err && !(*r_text = malloc(strlen(type) + 1 + (b->len + 2) / 3 * 4 + 8)))
    err = gpg_error_from_syserror();
  if (err)
    goto leave;
  /* GnuPG's comment for a key read from a card: "(none)". */
  strcpy(*r_text, type);
  strcat(*r_text, " ");
  base64(b->buf, b->len, *r_text + strlen(*r_text));
  strcat(*r_text, " (none)");
leave:
  free(b);
  gcry_sexp_release(key);
  return err;
}
