/* app-do.c - GETATTR, SETATTR and LEARN: the data objects as one table */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app-int.h"
#include "hex.h"

/* Emits KW with the LEN bytes at V escaped the way GnuPG's scdaemon does:
 * '+', '"', '%' and bytes below 0x20 as %XX, space as '+'. */
gpg_error_t
app_status(const struct app_io *io, const char *kw, const uint8_t *v, size_t len)
{
  char *buf, *p;
  gpg_error_t err;
  size_t i;

  buf = malloc(3 * len + 1);
  if (!buf)
    return gpg_error_from_syserror();
  for (p = buf, i = 0; i < len; i++)
    if (v[i] == '+' || v[i] == '"' || v[i] == '%' || v[i] < 0x20)
      p += snprintf(p, 4, "%%%02X", v[i]);
    else
      *p++ = v[i] == ' ' ? '+' : (char)v[i];
  *p = 0;
  err = io->status(io->opaque, kw, len ? buf : NULL);
  free(buf);
  return err;
}

static gpg_error_t
status_str(const struct app_io *io, const char *kw, const char *s)
{
  return app_status(io, kw, (const uint8_t *)s, strlen(s));
}

/* "Given Sur" from DO 5B "Sur<<Given", as GnuPG shows it in prompts. */
char *
app_disp_name(struct app *app)
{
  const uint8_t *v;
  size_t n;
  char *s, *given, *res, *p;

  if (app_get_do(app, 0x5B, &v, &n) || !n)
    return NULL;
  s = strndup((const char *)v, n);
  if (!s)
    return NULL;
  given = strstr(s, "<<");
  for (p = s; *p; p++)
    if (*p == '<')
      *p = ' ';
  if (!given || !given[2])
    return s;
  *given = 0;
  res = malloc(strlen(given + 2) + strlen(s) + 2);
  if (res)
    sprintf(res, "%s %s", given + 2, s);
  free(s);
  return res;
}

/* "MMMM SSSSSSSS": manufacturer and serial number from the AID. */
void
app_disp_serialno(const struct app *app, char out[16])
{
  snprintf(out, 16, "%.4s %.8s", app->serial + 16, app->serial + 20);
}

unsigned long
app_sig_counter(struct app *app)
{
  const uint8_t *v;
  size_t n, i;
  unsigned long c = 0;

  if (app_get_do(app, 0x93, &v, &n) || n > 3)
    return 0;
  for (i = 0; i < n; i++)
    c = c << 8 | v[i];
  return c;
}

/* ---- GETATTR ---- */

struct attr_def;
typedef gpg_error_t (*attr_get_fn)(struct app *, const struct app_io *,
                                   const struct attr_def *);

struct attr_def
{
  const char *name;
  unsigned int tag;
  attr_get_fn get;
  const char *fixed; /* value of the fixed attributes */
};

static gpg_error_t
get_raw(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  const uint8_t *v;
  size_t n;
  gpg_error_t err = app_get_do(app, d->tag, &v, &n);

  return err ? err : app_status(io, d->name, v, n);
}

/* A DO read on its own (not out of a constructed one such as 65) that the
 * card returns empty gets no status line, as GnuPG's scdaemon does
 * (get_cached_data yields nothing for a zero length). */
static gpg_error_t
get_standalone(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  const uint8_t *v;
  size_t n;
  gpg_error_t err = app_get_do(app, d->tag, &v, &n);

  if (err || !n)
    return err;
  return app_status(io, d->name, v, n);
}

static gpg_error_t
get_fixed(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  (void)app;
  return status_str(io, d->name, d->fixed);
}

static gpg_error_t
get_serialno(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  return status_str(io, d->name, app->serial);
}

static gpg_error_t
get_dispserialno(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  char sn[16];

  app_disp_serialno(app, sn);
  return status_str(io, d->name, sn);
}

/* KEY-FPR / CA-FPR: "n HEX" for each non-zero fingerprint. */
static gpg_error_t
get_fprs(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  static const uint8_t zero[20];
  char line[2 + 41];
  const uint8_t *v;
  size_t n;
  gpg_error_t err = app_get_do(app, d->tag, &v, &n);
  int i;

  for (i = 0; !err && n >= 60 && i < 3; i++)
    if (memcmp(v + 20 * i, zero, 20))
      {
        snprintf(line, 3, "%d ", i + 1);
        hex_encode(v + 20 * i, 20, line + 2);
        err = io->status(io->opaque, d->name, line);
      }
  return err;
}

static gpg_error_t
get_times(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  char line[32];
  const uint8_t *v;
  size_t n;
  gpg_error_t err = app_get_do(app, d->tag, &v, &n);
  unsigned long t;
  int i;

  for (i = 0; !err && n >= 12 && i < 3; i++)
    {
      t = (unsigned long)v[4 * i] << 24 | (unsigned long)v[4 * i + 1] << 16
          | (unsigned long)v[4 * i + 2] << 8 | v[4 * i + 3];
      if (!t)
        continue;
      snprintf(line, sizeof line, "%d %lu", i + 1, t);
      err = io->status(io->opaque, d->name, line);
    }
  return err;
}

static gpg_error_t
get_chv_status(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  char line[7 * 4 + 1] = "";
  const uint8_t *v;
  size_t n, i;
  gpg_error_t err = app_get_do(app, d->tag, &v, &n);

  if (err)
    return err;
  for (i = 0; i < n && i < 7; i++)
    snprintf(line + strlen(line), sizeof line - strlen(line), "+%u", v[i]);
  return io->status(io->opaque, d->name, line);
}

static gpg_error_t
get_sig_counter(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  char line[24];
  const uint8_t *v;
  size_t n;
  gpg_error_t err = app_get_do(app, d->tag, &v, &n);

  if (err)
    return err;
  snprintf(line, sizeof line, "%lu", app_sig_counter(app));
  return io->status(io->opaque, d->name, line);
}

static gpg_error_t
get_key_attr(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  struct key_attr a;
  char line[80];
  gpg_error_t err = 0;
  int i;

  for (i = 0; !err && i < 3; i++)
    {
      err = app_key_attr(app, i, &a);
      if (err)
        break;
      if (a.type == KEY_RSA)
        /* GnuPG numbers the import format from 1 (0 = unknown). */
        snprintf(line, sizeof line, "%d 1 rsa%u %u %u", i + 1, a.nbits, a.ebits,
                 a.fmt + 1);
      else if (a.type == KEY_ECC)
        snprintf(line, sizeof line, "%d %d %s", i + 1,
                 i == 1         ? 18
                 : a.curve->djb ? 22
                                : 19,
                 a.curve->name);
      else
        snprintf(line, sizeof line, "%d 0 0 UNKNOWN", i + 1);
      err = io->status(io->opaque, d->name, line);
    }
  return err;
}

/* EXTCAP's bt=: GnuPG 2.2.40 sets it when DO 7F74 (General Feature
 * Management) exists, which costs a GET DATA of its own.  Version 3.3 of
 * the specification brought 7F74 together with the UIF DOs D6..D8, and a
 * card lists those in 73 (inside the cached 6E) exactly when it has the
 * button, so from 3.3 on the answer is free.  3.0 .. 3.2 cards are asked
 * as GnuPG asks them; v1/v2 cards have neither DO. */
static int
has_button(struct app *app)
{
  const uint8_t *v;
  size_t n;

  if (app->version < 0x0300)
    return 0;
  if (app->version >= 0x0303)
    return !app_get_do(app, 0xD6, &v, &n);
  return !app_get_do(app, 0x7F74, &v, &n);
}

/* C0 byte 1 bits and the other values of EXTCAP, in GnuPG's order. */
static gpg_error_t
get_extcap(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  const uint8_t *v, *h;
  size_t n, hn;
  char line[128];
  unsigned int sm = 0, si = 0, mcl3 = 0;
  int bt;
  gpg_error_t err = app_get_do(app, 0xC0, &v, &n);

  if (err || !n)
    return err ? err : gpg_error(GPG_ERR_CARD);
  if (n >= 6)
    mcl3 = (unsigned int)v[4] << 8 | v[5];
  if ((v[0] & 0x80) && n >= 2)
    sm = v[1] == 0 ? 2 : v[1] == 1 ? 7 : 9; /* 3DES, AES, AES256 */
  if (!app_get_do(app, 0x5F52, &h, &hn) && hn >= 4)
    si = h[hn - 3];
  bt = has_button(app);
  snprintf(line, sizeof line,
           "gc=%d ki=%d fc=%d pd=%d mcl3=%u aac=%d sm=%u si=%u dec=%d bt=%d kdf=%d",
           !!(v[0] & 0x40), !!(v[0] & 0x20), !!(v[0] & 0x10), !!(v[0] & 0x08), mcl3,
           !!(v[0] & 0x04), sm, si, !!(v[0] & 0x02), bt, !!(v[0] & 0x01));
  return status_str(io, d->name, line);
}

static gpg_error_t
get_manufacturer(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  static const struct
  {
    unsigned int id;
    const char *name;
  } names[] = {
    { 0x0001, "PPC Card Systems" },
    { 0x0002, "Prism" },
    { 0x0003, "OpenFortress" },
    { 0x0004, "Wewid" },
    { 0x0005, "ZeitControl" },
    { 0x0006, "Yubico" },
    { 0x0007, "OpenKMS" },
    { 0x0008, "LogoEmail" },
    { 0x0009, "Fidesmo" },
    { 0x000A, "VivoKey" },
    { 0x000B, "Feitian Technologies" },
    { 0x000D, "Dangerous Things" },
    { 0x000E, "Excelsecu" },
    { 0x002A, "Magrathea" },
    { 0x0042, "GnuPG e.V." },
    { 0x1337, "Warsaw Hackerspace" },
    { 0x2342, "warpzone" },
    { 0x4354, "Confidential Technologies" },
    { 0x5443, "TIF-IT e.V." },
    { 0x63AF, "Trustica" },
    { 0xBA53, "c-base e.V." },
    { 0xBD0E, "Paranoidlabs" },
    { 0xF517, "FSIJ" },
    { 0xF5EC, "F-Secure" },
    { 0x0000, "test card" },
    { 0xFFFF, "test card" },
  };
  const char *name
      = (app->manufacturer & 0xFF00) == 0xFF00 ? "unmanaged S/N range" : "unknown";
  char line[64];
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].id == app->manufacturer)
      name = names[i].name;
  snprintf(line, sizeof line, "%u %s", app->manufacturer, name);
  return io->status(io->opaque, d->name, line);
}

/* UIF: the three UIF DOs (GnuPG 2.4's shortcut for UIF-1..3), each that
 * the card has; UIF-n: that one. */
static gpg_error_t
get_uif(struct app *app, const struct app_io *io, const struct attr_def *d)
{
  static const char *const names[3] = { "UIF-1", "UIF-2", "UIF-3" };
  const uint8_t *v;
  size_t n;
  gpg_error_t err = 0;
  unsigned int i;

  for (i = 0; !err && i < 3; i++)
    if ((!d->tag || d->tag == 0xD6 + i) && !app_get_do(app, 0xD6 + i, &v, &n) && n)
      err = app_status(io, names[i], v, n);
  return err;
}

static const struct attr_def attrs[] = {
  { "DISP-NAME", 0x5B, get_raw, NULL },
  { "LOGIN-DATA", 0x5E, get_standalone, NULL },
  { "DISP-LANG", 0x5F2D, get_raw, NULL },
  { "DISP-SEX", 0x5F35, get_raw, NULL },
  { "PUBKEY-URL", 0x5F50, get_standalone, NULL },
  { "KEY-FPR", 0xC5, get_fprs, NULL },
  { "KEY-TIME", 0xCD, get_times, NULL },
  { "KEY-ATTR", 0, get_key_attr, NULL },
  { "CA-FPR", 0xC6, get_fprs, NULL },
  { "CHV-STATUS", 0xC4, get_chv_status, NULL },
  { "SIG-COUNTER", 0x93, get_sig_counter, NULL },
  { "SERIALNO", 0, get_serialno, NULL },
  { "AID", 0x4F, get_raw, NULL },
  { "APPTYPE", 0, get_fixed, "openpgp" },
  { "EXTCAP", 0, get_extcap, NULL },
  { "PRIVATE-DO-1", 0x0101, get_standalone, NULL },
  { "PRIVATE-DO-2", 0x0102, get_standalone, NULL },
  { "PRIVATE-DO-3", 0x0103, get_standalone, NULL },
  { "PRIVATE-DO-4", 0x0104, get_standalone, NULL },
  { "$AUTHKEYID", 0, get_fixed, "OPENPGP.3" },
  { "$ENCRKEYID", 0, get_fixed, "OPENPGP.2" },
  { "$SIGNKEYID", 0, get_fixed, "OPENPGP.1" },
  { "$DISPSERIALNO", 0, get_dispserialno, NULL },
  /* Binary, escaped by app_status as scdaemon's send_status_info
   * escapes every value (2.2.40 sends the F9 bytes through it). */
  { "KDF", 0xF9, get_standalone, NULL },
  { "MANUFACTURER", 0, get_manufacturer, NULL },
  { "UIF", 0, get_uif, NULL },
  { "UIF-1", 0xD6, get_uif, NULL },
  { "UIF-2", 0xD7, get_uif, NULL },
  { "UIF-3", 0xD8, get_uif, NULL },
};

static const struct attr_def *
find_attr(const char *name)
{
  size_t i;

  for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
    if (!strcmp(attrs[i].name, name))
      return &attrs[i];
  return NULL;
}

gpg_error_t
app_getattr(struct app *app, const struct app_io *io, const char *name)
{
  const struct attr_def *d = name ? find_attr(name) : NULL;
  gpg_error_t err;

  if (!d)
    return gpg_error(GPG_ERR_INV_NAME);
  err = app_ensure_selected(app);
  return err ? err : d->get(app, io, d);
}

/* ---- LEARN ---- */

/* GnuPG's order; a DO the card lacks is skipped, not an error. */
static const char *const learn_names[] = {
  "EXTCAP",     "MANUFACTURER", "DISP-NAME", "DISP-LANG", "DISP-SEX",   "PUBKEY-URL",
  "LOGIN-DATA", "KEY-FPR",      "KEY-TIME",  "CA-FPR",    "CHV-STATUS", "SIG-COUNTER",
};

static gpg_error_t
learn_optional(struct app *app, const struct app_io *io, const char *name)
{
  gpg_error_t err = app_getattr(app, io, name);

  return gpg_err_code(err) == GPG_ERR_NO_OBJ ? 0 : err;
}

/* The creation time of key KEYNO (0..2) from DO CD; 0 when unknown. */
static unsigned long
key_time(struct app *app, int keyno)
{
  const uint8_t *v;
  size_t n, o = 4 * (size_t)keyno;

  if (app_get_do(app, 0xCD, &v, &n) || n < o + 4)
    return 0;
  return (unsigned long)v[o] << 24 | (unsigned long)v[o + 1] << 16
         | (unsigned long)v[o + 2] << 8 | v[o + 3];
}

/* GnuPG's algorithm string (common/pubkey_algo_string): rsa2048, ed25519,
 * cv25519, nistp256, brainpoolP256r1 ... */
static void
key_algo(struct app *app, int keyno, char *buf, size_t size)
{
  struct key_attr a;

  if (app_key_attr(app, keyno, &a))
    snprintf(buf, size, "?");
  else if (a.type == KEY_RSA)
    snprintf(buf, size, "rsa%u", a.nbits);
  else if (a.type == KEY_ECC && a.curve)
    snprintf(buf, size, "%s", a.curve->alias);
  else
    snprintf(buf, size, "?");
}

gpg_error_t
app_keypairinfo(struct app *app, int keyno, char *buf, size_t size)
{
  static const char *const usage[3] = { "sc", "e", "sa" };
  char grip[41], algo[32];
  gpg_error_t err = app_keygrip(app, keyno, grip);

  if (err)
    return err;
  key_algo(app, keyno - 1, algo, sizeof algo);
  snprintf(buf, size, "%s OPENPGP.%d %s %lu %s", grip, keyno, usage[keyno - 1],
           key_time(app, keyno - 1), algo);
  return 0;
}

static gpg_error_t
learn_keypairs(struct app *app, const struct app_io *io)
{
  char line[APP_KEYPAIRINFO_MAX];
  gpg_error_t err = 0;
  int i;

  for (i = 1; !err && i <= 3; i++)
    {
      err = app_keypairinfo(app, i, line, sizeof line);
      if (gpg_err_code(err) == GPG_ERR_NO_SECKEY)
        {
          err = 0; /* an empty slot has no line */
          continue;
        }
      if (!err)
        err = io->status(io->opaque, "KEYPAIRINFO", line);
    }
  return err;
}

/* What the first LEARN costs on a v3.4 card, app_open included: 9 APDUs,
 * each the only source of something GnuPG 2.2.40 prints.
 *   SELECT  the application (another PC/SC client may have selected
 *           another one; the card refuses GET DATA before it).
 *   6E      AID (serial, version, manufacturer), historical bytes (chaining,
 *           extended length, life cycle), C0 (EXTCAP), C1..C3 (KEY-ATTR),
 *           C4 (CHV-STATUS), C5, C6, CD (KEY-FPR, CA-FPR, KEY-TIME), and
 *           D6 (whether the card has a button: see has_button).
 *   65      DISP-NAME, DISP-LANG, DISP-SEX in one container.
 *   5F50    PUBKEY-URL and 5E LOGIN-DATA: simple DOs in no container.
 *   7A      SIG-COUNTER (kept up to date by our own signatures).
 *   F9      KDF, only when C0 says the card has a KDF-DO.
 *   0101, 0102  PRIVATE-DO-1/2, only when C0 says the card has them.
 * Not read: 7F74 (derived from 6E on 3.3+), 0103/0104 unless the PIN they
 * need was given, and the public keys of empty slots (C5 says so); a
 * filled slot costs one READ PUBLIC KEY, once, for KEYPAIRINFO's keygrip.
 * Everything is cached: a repeated LEARN costs nothing. */
gpg_error_t
app_learn(struct app *app, const struct app_io *io, unsigned int flags)
{
  const uint8_t *c0;
  size_t n, i;
  gpg_error_t err;

  (void)flags;
  err = app_ensure_selected(app);
  if (!err && app->ch.reader_name)
    err = io->status(io->opaque, "READER", app->ch.reader_name);
  if (!err)
    err = io->status(io->opaque, "SERIALNO", app->serial);
  if (!err)
    err = io->status(io->opaque, "APPTYPE", "openpgp");
  if (!err)
    {
      /* GnuPG 2.4 sends the application version in hex (3.4 -> 304). */
      char v[8];

      snprintf(v, sizeof v, "%X", app->version);
      err = io->status(io->opaque, "APPVERSION", v);
    }
  for (i = 0; !err && i < sizeof learn_names / sizeof learn_names[0]; i++)
    err = learn_optional(app, io, learn_names[i]);
  if (!err)
    err = app_get_do(app, 0xC0, &c0, &n);
  if (!err && n && (c0[0] & 0x01))
    err = learn_optional(app, io, "KDF");
  if (!err && has_button(app))
    err = learn_optional(app, io, "UIF");
  if (!err && n && (c0[0] & 0x08))
    {
      err = learn_optional(app, io, "PRIVATE-DO-1");
      if (!err)
        err = learn_optional(app, io, "PRIVATE-DO-2");
      if (!err && app->did_chv2)
        err = learn_optional(app, io, "PRIVATE-DO-3");
      if (!err && app->did_chv3)
        err = learn_optional(app, io, "PRIVATE-DO-4");
    }
  if (!err)
    err = learn_keypairs(app, io);
  return err;
}

/* ---- SETATTR ---- */

enum need_pin
{
  NEED_PW3,
  NEED_PW1 /* PW1 in mode 82 */
};

static const struct
{
  const char *name;
  unsigned int tag;
  enum need_pin pin;
  size_t fixlen; /* 0: any length */
} set_table[] = {
  { "DISP-NAME", 0x5B, NEED_PW3, 0 },      { "LOGIN-DATA", 0x5E, NEED_PW3, 0 },
  { "DISP-LANG", 0x5F2D, NEED_PW3, 0 },    { "DISP-SEX", 0x5F35, NEED_PW3, 1 },
  { "PUBKEY-URL", 0x5F50, NEED_PW3, 0 },   { "CHV-STATUS-1", 0xC4, NEED_PW3, 1 },
  { "CA-FPR-1", 0xCA, NEED_PW3, 20 },      { "CA-FPR-2", 0xCB, NEED_PW3, 20 },
  { "CA-FPR-3", 0xCC, NEED_PW3, 20 },      { "PRIVATE-DO-1", 0x0101, NEED_PW1, 0 },
  { "PRIVATE-DO-2", 0x0102, NEED_PW3, 0 }, { "PRIVATE-DO-3", 0x0103, NEED_PW1, 0 },
  { "PRIVATE-DO-4", 0x0104, NEED_PW3, 0 }, { "CERT-3", 0x7F21, NEED_PW3, 0 },
  { "SM-KEY-ENC", 0xD1, NEED_PW3, 0 },     { "SM-KEY-MAC", 0xD2, NEED_PW3, 0 },
  { "KEY-ATTR", 0, NEED_PW3, 0 },          { "KDF", 0xF9, NEED_PW3, 0 },
  { "UIF-1", 0xD6, NEED_PW3, 2 },          { "UIF-2", 0xD7, NEED_PW3, 2 },
  { "UIF-3", 0xD8, NEED_PW3, 2 },
};

gpg_error_t app_set_key_attr(struct app *app, const struct app_io *io,
                             const uint8_t *value, size_t len);

gpg_error_t
app_setattr(struct app *app, const struct app_io *io, const char *name,
            const uint8_t *value, size_t valuelen)
{
  size_t i;
  gpg_error_t err;

  for (i = 0; name && i < sizeof set_table / sizeof set_table[0]; i++)
    if (!strcmp(set_table[i].name, name))
      break;
  if (!name || i == sizeof set_table / sizeof set_table[0])
    return gpg_error(GPG_ERR_INV_NAME);
  if (set_table[i].fixlen && valuelen != set_table[i].fixlen)
    return gpg_error(GPG_ERR_INV_VALUE);
  err = app_ensure_selected(app);
  if (!err && !set_table[i].tag)
    return app_set_key_attr(app, io, value, valuelen);
  if (!err)
    err = set_table[i].pin == NEED_PW1 ? app_verify_pw1(app, io, 2)
                                       : app_verify_pw3(app, io);
  if (!err)
    err = app_put_do(app, set_table[i].tag, value, valuelen);
  return err;
}
