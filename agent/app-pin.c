/* app-pin.c - PIN prompts, VERIFY, PASSWD and CHECKPIN */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "app-int.h"
#include "apdu.h"
#include "sw.h"

#define PIN_SIZE 128

/* Byte I (0-based) of the PW status bytes C4, -1 when unknown. */
static int
c4_byte(struct app *app, int i)
{
  const uint8_t *v;
  size_t n;

  if (app_get_do(app, 0xC4, &v, &n) || n < 7)
    return -1;
  return v[i];
}

/* Retry counter of PW1 (C4 byte 5), the Reset Code (6) or PW3 (7). */
static int
remaining(struct app *app, int idx)
{
  return c4_byte(app, 4 + idx);
}

/* GnuPG's prompt: FIRST, the card's number and holder, the signature
 * counter for PW1 when signing, and the tries left when fewer than 3. */
static char *
build_prompt(struct app *app, const char *first, int counter, int idx)
{
  char sn[16], *name = app_disp_name(app), *p;
  int left = remaining(app, idx);
  size_t size = strlen(first) + (name ? strlen(name) : 0) + 160;

  p = malloc(size);
  if (p)
    {
      app_disp_serialno(app, sn);
      snprintf(p, size, "%s%%0A%%0A\x1eNumber\x1f: %s%%0AHolder\x1f: %s", first, sn,
               name ? name : "");
      if (counter)
        snprintf(p + strlen(p), size - strlen(p), "%%0ACounter\x1f: %lu",
                 app_sig_counter(app));
      if (left >= 0 && left < 3)
        snprintf(p + strlen(p), size - strlen(p), "%%0A%%0ARemaining attempts: %d", left);
    }
  free(name);
  return p;
}

/* Asks for a PIN of at least MINLEN bytes; the buffer is secure memory. */
static gpg_error_t
ask_pin(const struct app_io *io, const char *prompt, size_t minlen, char **r_pin)
{
  char *pin = gcry_calloc_secure(1, PIN_SIZE);
  gpg_error_t err;

  *r_pin = NULL;
  if (!pin)
    return gpg_error_from_syserror();
  err = prompt ? io->getpin(io->opaque, prompt, pin, PIN_SIZE)
               : gpg_error(GPG_ERR_ENOMEM);
  pin[PIN_SIZE - 1] = 0;
  if (!err && strlen(pin) < minlen)
    err = gpg_error(GPG_ERR_BAD_PIN);
  if (err)
    gcry_free(pin);
  else
    *r_pin = pin;
  return err;
}

static void
free_pin(char *pin)
{
  if (pin)
    {
      explicit_bzero(pin, PIN_SIZE);
      gcry_free(pin);
    }
}

/* VERIFY P2 with PIN (hashed when the KDF-DO says so); a failure changes
 * the retry counters in C4. */
static gpg_error_t
verify(struct app *app, uint8_t p2, const char *pin)
{
  const uint8_t *out;
  uint8_t *data = NULL;
  size_t outlen, len = 0;
  gpg_error_t err;

  if (strlen(pin) > 127)
    return gpg_error(GPG_ERR_BAD_PIN);
  err = app_kdf_pin(app, p2 == 0x83 ? APP_PIN_PW3 : APP_PIN_PW1, pin, &data, &len);
  if (!err)
    err = app_cmd(app, 0x20, 0x00, p2, data, len, APDU_LE_NONE, &out, &outlen, NULL);
  app_kdf_free(data, len);
  if (err)
    app_cache_drop(app, 0xC4);
  return err;
}

/* Whether to use the reader's pinpad for OP (APP_PINPAD_*): the reader
 * offers it (the manager hides it under disable-pinpad), the client can
 * show the pinpad prompt, and no KDF-DO needs the PIN hashed. */
static int
use_pinpad(struct app *app, const struct app_io *io, unsigned int op)
{
  if (!app->ch.pinpad_caps || !app->ch.pinpad || !io->pinpad_prompt)
    return 0;
  return (app->ch.pinpad_caps(app->ch.opaque) & op) && !app_kdf_in_use(app);
}

/* The longest PIN the card takes: C4 bytes 2 (PW1), 3 (Reset Code) and 4
 * (PW3) for IDX 0, 1, 2. */
static unsigned int
max_pin_len(struct app *app, int idx)
{
  int len = c4_byte(app, 1 + idx);

  return len > 0 ? (unsigned int)len : 127;
}

/* The pinpad request for a PIN of MINLEN..: variable length when
 * enable-pinpad-varlen says the reader ends the entry itself (OK key),
 * else exactly MINLEN characters, the card's shortest PIN. */
static void
pinpad_req(struct app *app, int modify, unsigned int minlen, int idx,
           struct app_pinpad_req *req)
{
  req->modify = modify;
  req->minlen = minlen;
  req->maxlen = max_pin_len(app, idx);
  req->fixedlen = app->ch.pinpad_varlen ? 0 : minlen;
}

/* VERIFY P2 or CHANGE REFERENCE DATA P2 (MODIFY) on the pinpad, with the
 * user told so by PROMPT and the message taken down afterwards. */
static gpg_error_t
pinpad_op(struct app *app, const struct app_io *io, int modify, uint8_t p2,
          const char *prompt, unsigned int minlen, int idx)
{
  uint8_t header[4] = { 0x00, modify ? 0x24 : 0x20, 0x00, p2 };
  struct app_pinpad_req req;
  gpg_error_t err, derr;

  pinpad_req(app, modify, minlen, idx, &req);
  err = prompt ? io->pinpad_prompt(io->opaque, prompt) : gpg_error(GPG_ERR_ENOMEM);
  if (err)
    return err;
  err = app_pinpad_cmd(app, &req, header);
  derr = io->pinpad_prompt(io->opaque, NULL);
  app_cache_drop(app, 0xC4);
  return err ? err : derr;
}

static gpg_error_t
verify_with_prompt(struct app *app, const struct app_io *io, uint8_t p2,
                   const char *first, int counter, int idx, size_t minlen)
{
  char *prompt = build_prompt(app, first, counter, idx), *pin = NULL;
  gpg_error_t err;

  if (remaining(app, idx) == 0)
    err = gpg_error(GPG_ERR_PIN_BLOCKED);
  else if (use_pinpad(app, io, APP_PINPAD_VERIFY))
    err = pinpad_op(app, io, 0, p2, prompt, (unsigned int)minlen, idx);
  else
    {
      err = ask_pin(io, prompt, minlen, &pin);
      if (!err)
        err = verify(app, p2, pin);
    }
  free_pin(pin);
  free(prompt);
  return err;
}

/* PW1 for signing (CHVNO 1, mode 81) or for the other operations (2, 82). */
gpg_error_t
app_verify_pw1(struct app *app, const struct app_io *io, int chvno)
{
  gpg_error_t err;
  const uint8_t *c4;
  size_t n;
  int oneshot = !app_get_do(app, 0xC4, &c4, &n) && n && !c4[0];

  if (chvno == 1 ? app->did_chv1 && !oneshot : app->did_chv2)
    return 0;
  err = verify_with_prompt(app, io, (uint8_t)(0x80 + chvno), "||Please unlock the card",
                           chvno == 1, 0, 6);
  if (!err && chvno == 1)
    app->did_chv1 = 1;
  else if (!err)
    app->did_chv2 = 1;
  return err;
}

gpg_error_t
app_verify_pw3(struct app *app, const struct app_io *io)
{
  gpg_error_t err;

  if (app->did_chv3)
    return 0;
  err = verify_with_prompt(app, io, 0x83, "|A|Please enter the Admin PIN", 0, 2, 8);
  if (!err)
    app->did_chv3 = 1;
  return err;
}

gpg_error_t
app_check_pin(struct app *app, const struct app_io *io, const char *idstr)
{
  size_t n = strlen(app->serial);
  gpg_error_t err = app_ensure_selected(app);

  if (err)
    return err;
  if (!idstr || strncmp(idstr, app->serial, n))
    return gpg_error(GPG_ERR_INV_ID);
  if (!strcmp(idstr + n, "[CHV3]"))
    return app_verify_pw3(app, io);
  err = app_verify_pw1(app, io, 2);
  return err;
}

/* CHANGE REFERENCE DATA (24) or RESET RETRY COUNTER (2C) with the old PIN
 * or Reset Code A (may be NULL) and the new PIN B, each hashed with its own
 * salt when the KDF-DO says so: A is PW3's for P2 83, the Reset Code's for
 * 2C P1 00, else PW1's; B is PW3's for P2 83, else PW1's. */
static gpg_error_t
send_change(struct app *app, uint8_t ins, uint8_t p1, uint8_t p2, const char *a,
            const char *b)
{
  enum app_pin_kind kb = p2 == 0x83 ? APP_PIN_PW3 : APP_PIN_PW1;
  enum app_pin_kind ka = ins == 0x2C && p1 == 0x00 ? APP_PIN_RC : kb;
  uint8_t *ha = NULL, *hb = NULL, *buf = NULL;
  size_t la = 0, lb = 0, outlen;
  const uint8_t *out;
  gpg_error_t err = 0;

  if (a)
    err = app_kdf_pin(app, ka, a, &ha, &la);
  if (!err)
    err = app_kdf_pin(app, kb, b, &hb, &lb);
  if (!err && !(buf = gcry_malloc_secure(la + lb + 1)))
    err = gpg_error_from_syserror();
  if (!err)
    {
      if (la)
        memcpy(buf, ha, la);
      memcpy(buf + la, hb, lb);
      err = app_cmd(app, ins, p1, p2, buf, la + lb, APDU_LE_NONE, &out, &outlen, NULL);
      explicit_bzero(buf, la + lb + 1);
    }
  gcry_free(buf);
  app_kdf_free(ha, la);
  app_kdf_free(hb, lb);
  app_cache_drop(app, 0xC4);
  return err;
}

/* PUT DATA D3, the new Reset Code (hashed when the KDF-DO says so). */
static gpg_error_t
put_reset_code(struct app *app, const char *code)
{
  uint8_t *data = NULL;
  size_t len = 0;
  gpg_error_t err = app_kdf_pin(app, APP_PIN_RC, code, &data, &len);

  if (!err)
    err = app_put_do(app, 0xD3, data, len);
  app_kdf_free(data, len);
  return err;
}

gpg_error_t
app_change_pin(struct app *app, const struct app_io *io, const char *chvno,
               unsigned int flags)
{
  int n = app_keyref_no(chvno);
  char *old = NULL, *new = NULL, *prompt = NULL;
  gpg_error_t err = app_ensure_selected(app);

  if (!err && !n)
    err = gpg_error(GPG_ERR_INV_ID);
  if (err)
    return err;
  if (n == 2 && (flags & APP_PASSWD_CLEAR))
    {
      err = app_verify_pw3(app, io);
      return err ? err : app_put_do(app, 0xD3, NULL, 0);
    }
  if (flags & APP_PASSWD_RESET)
    {
      /* As GnuPG's scdaemon: --reset always asks for the Admin PIN, then
       * sets a new PW1 (chvno 1) or a new Reset Code (chvno 2). */
      if (n == 3)
        return gpg_error(GPG_ERR_INV_ID);
      app->did_chv3 = 0;
      err = app_verify_pw3(app, io);
      if (!err)
        err = ask_pin(io, n == 2 ? "|RN|New Reset Code" : "|N|New PIN", n == 2 ? 8 : 6,
                      &new);
      if (!err && n == 2)
        err = put_reset_code(app, new);
      else if (!err)
        err = send_change(app, 0x2C, 0x02, 0x81, NULL, new);
    }
  else if (n != 2 && use_pinpad(app, io, APP_PINPAD_MODIFY))
    {
      /* Old and new PIN on the pinpad (CHANGE REFERENCE DATA). */
      prompt = build_prompt(
          app, n == 3 ? "|A|Please enter the Admin PIN" : "||Please enter the PIN", 0,
          n == 3 ? 2 : 0);
      err = pinpad_op(app, io, 1, n == 3 ? 0x83 : 0x81, prompt, n == 3 ? 8 : 6,
                      n == 3 ? 2 : 0);
      app->did_chv1 = app->did_chv2 = app->did_chv3 = 0;
    }
  else if (n == 3)
    {
      err = ask_pin(io, prompt = build_prompt(app, "|A|Please enter the Admin PIN", 0, 2),
                    8, &old);
      if (!err)
        err = ask_pin(io, "|AN|New Admin PIN", 8, &new);
      if (!err)
        err = send_change(app, 0x24, 0x00, 0x83, old, new);
      app->did_chv3 = 0;
    }
  else if (n == 2)
    {
      /* chvno 2 without --reset: unblock PW1 with the Reset Code. */
      err = ask_pin(
          io,
          prompt = build_prompt(app, "||Please enter the Reset Code for the card", 0, 1),
          8, &old);
      if (!err)
        err = ask_pin(io, "|N|New PIN", 6, &new);
      if (!err)
        err = send_change(app, 0x2C, 0x00, 0x81, old, new);
    }
  else
    {
      err = ask_pin(io, prompt = build_prompt(app, "||Please enter the PIN", 0, 0), 6,
                    &old);
      if (!err)
        err = ask_pin(io, "|N|New PIN", 6, &new);
      if (!err)
        err = send_change(app, 0x24, 0x00, 0x81, old, new);
      app->did_chv1 = app->did_chv2 = 0;
    }
  free_pin(old);
  free_pin(new);
  free(prompt);
  return err;
}
