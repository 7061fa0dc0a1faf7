/* vcard-pin.c - PW1, PW3 and the Reset Code: VERIFY, CHANGE REFERENCE DATA,
 * RESET RETRY COUNTER
 *
 * Every PIN has 3 tries; a wrong one costs one and is answered 6982, the
 * one that uses up the last 6983 (as CanoKey; SmartPGP answers 6982), the
 * right one restores them; a blocked PIN is 6983.  63Cx with the tries
 * left answers only VERIFY without data for a PIN not verified.  Changing
 * or resetting PW1 forgets its verification, as SmartPGP does.  A PIN whose length is outside the
 * card's bounds is refused with 6700 before any comparison and costs
 * nothing, as the ANSSI SmartPGP applet does.  Comparisons take the same
 * time wherever the first difference lies.
 */
#include <string.h>

#include "tlv.h"
#include "vcard-int.h"

/* Minimum lengths (OpenPGP card 3.4, 4.3): PW1 6, Reset Code and PW3 8. */
static const size_t pin_min[3] = { 6, 8, 8 };

void
vc_pin_default(struct vc_pin *pin, const char *value)
{
  size_t n = strlen(value);

  vc_wipe(pin, sizeof *pin);
  memcpy(pin->value, value, n);
  pin->len = n;
  pin->tries = n ? VC_PIN_TRIES : 0;
}

static int
pin_equal(const struct vc_pin *pin, const uint8_t *data, size_t len)
{
  uint8_t diff = 0;
  size_t i;

  if (len != pin->len)
    return 0;
  for (i = 0; i < len; i++)
    diff |= (uint8_t)(pin->value[i] ^ data[i]);
  return !diff;
}

static int
pin_len_ok(enum vc_pinref ref, size_t len)
{
  return len >= pin_min[ref] && len <= VC_PIN_MAX;
}

/* Compares DATA with PIN, counting a failure; returns the status word. */
static unsigned int
check_pin(struct vcard *card, struct vc_pin *pin, const uint8_t *data, size_t len)
{
  if (!pin->tries)
    return VC_SW_BLOCKED;
  if (!pin_equal(pin, data, len))
    {
      pin->tries--;
      card->dirty = 1;
      return pin->tries ? VC_SW_SECURITY : VC_SW_BLOCKED;
    }
  if (pin->tries != VC_PIN_TRIES)
    card->dirty = 1;
  pin->tries = VC_PIN_TRIES;
  return VC_SW_OK;
}

static void
set_pin(struct vcard *card, struct vc_pin *pin, const uint8_t *data, size_t len)
{
  vc_wipe(pin->value, sizeof pin->value);
  memcpy(pin->value, data, len);
  pin->len = len;
  pin->tries = VC_PIN_TRIES;
  card->dirty = 1;
}

static int *
verified_flag(struct vcard *card, uint8_t p2)
{
  if (p2 == 0x81)
    return &card->pw1_81;
  if (p2 == 0x82)
    return &card->pw1_82;
  if (p2 == 0x83)
    return &card->pw3;
  return NULL;
}

/* VERIFY: P1 00 checks the PIN (no data: asks whether it is verified);
 * P1 FF (3.x) forgets the verification. */
unsigned int
vc_cmd_verify(struct vcard *card, const struct apdu_cmd *cmd)
{
  int *flag = verified_flag(card, cmd->p2);
  enum vc_pinref ref = cmd->p2 == 0x83 ? VC_PW3 : VC_PW1;
  struct vc_pin *pin = &card->p.pin[ref];
  unsigned int sw;

  if (!flag || (cmd->p1 != 0x00 && !(cmd->p1 == 0xFF && vc_v3(card))))
    return VC_SW_BAD_P1P2;
  if (cmd->p1 == 0xFF)
    {
      if (cmd->lc)
        return VC_SW_WRONG_LENGTH;
      *flag = 0;
      return VC_SW_OK;
    }
  if (!cmd->lc)
    return *flag ? VC_SW_OK : VC_SW_WRONG_PIN | pin->tries;
  if (!pin->tries)
    return VC_SW_BLOCKED;
  if (!pin_len_ok(ref, cmd->lc))
    return VC_SW_WRONG_LENGTH;
  *flag = 0;
  sw = check_pin(card, pin, cmd->data, cmd->lc);
  if (sw == VC_SW_OK)
    *flag = 1;
  return sw;
}

/* CHANGE REFERENCE DATA: P2 81 (PW1) or 83 (PW3), data old || new, split
 * at the length of the PIN now stored. */
unsigned int
vc_cmd_change(struct vcard *card, const struct apdu_cmd *cmd)
{
  enum vc_pinref ref = cmd->p2 == 0x83 ? VC_PW3 : VC_PW1;
  struct vc_pin *pin = &card->p.pin[ref];
  size_t old = pin->len;
  unsigned int sw;

  if (cmd->p1 || (cmd->p2 != 0x81 && cmd->p2 != 0x83))
    return VC_SW_BAD_P1P2;
  if (!pin->tries)
    return VC_SW_BLOCKED;
  if (cmd->lc < old || !pin_len_ok(ref, cmd->lc - old))
    return VC_SW_WRONG_LENGTH;
  sw = check_pin(card, pin, cmd->data, old);
  if (ref == VC_PW1)
    card->pw1_81 = card->pw1_82 = 0;
  else if (sw != VC_SW_OK)
    card->pw3 = 0;
  if (sw == VC_SW_OK)
    set_pin(card, pin, cmd->data + old, cmd->lc - old);
  return sw;
}

/* RESET RETRY COUNTER of PW1: P1 00 with the Reset Code (data RC || new
 * PW1), P1 02 after PW3 (data new PW1). */
unsigned int
vc_cmd_reset_retry(struct vcard *card, const struct apdu_cmd *cmd)
{
  struct vc_pin *rc = &card->p.pin[VC_RC];
  size_t skip = 0;
  unsigned int sw;

  if ((cmd->p1 != 0x00 && cmd->p1 != 0x02) || cmd->p2 != 0x81)
    return VC_SW_BAD_P1P2;
  if (cmd->p1 == 0x02 && !card->pw3)
    return VC_SW_SECURITY;
  if (cmd->p1 == 0x00)
    {
      if (!rc->len)
        return VC_SW_SECURITY; /* no Reset Code set */
      if (!rc->tries)
        return VC_SW_BLOCKED;
      skip = rc->len;
    }
  if (cmd->lc < skip || !pin_len_ok(VC_PW1, cmd->lc - skip))
    return VC_SW_WRONG_LENGTH;
  if (cmd->p1 == 0x00)
    {
      sw = check_pin(card, rc, cmd->data, skip);
      if (sw != VC_SW_OK)
        return sw;
    }
  set_pin(card, &card->p.pin[VC_PW1], cmd->data + skip, cmd->lc - skip);
  card->pw1_81 = card->pw1_82 = 0;
  return VC_SW_OK;
}

/* PUT DATA D3: sets the Reset Code, or clears it with no data. */
unsigned int
vc_put_reset_code(struct vcard *card, const uint8_t *data, size_t len)
{
  struct vc_pin *rc = &card->p.pin[VC_RC];

  if (!len)
    {
      vc_pin_default(rc, "");
      card->dirty = 1;
      return VC_SW_OK;
    }
  if (!pin_len_ok(VC_RC, len))
    return VC_SW_WRONG_LENGTH;
  set_pin(card, rc, data, len);
  return VC_SW_OK;
}

/* The initial PIN hash TAG of the KDF-DO: 0 and *FOUND clear if absent,
 * 6A80 if its length does not fit the PIN. */
static unsigned int
kdf_initial(enum vc_pinref ref, unsigned int tag, const uint8_t *kdf, size_t len,
            struct tlv *found)
{
  if (tlv_find(kdf, len, tag, found))
    {
      found->len = 0;
      return 0;
    }
  return pin_len_ok(ref, found->len) ? 0 : VC_SW_WRONG_DATA;
}

/* Writing the KDF-DO changes what the host sends as PINs: from now on
 * their hashes, or again the plain PINs.  So, as Gnuk and YubiKeys do, PW1
 * and PW3 become the initial hashes it carries (87, 88) or, when KDF is
 * turned off, the factory PINs; the Reset Code is cleared and every
 * verification forgotten. */
unsigned int
vc_kdf_reset_pins(struct vcard *card, const uint8_t *kdf, size_t len, int on)
{
  struct tlv pw1, pw3;

  if (on
      && (kdf_initial(VC_PW1, 0x87, kdf, len, &pw1)
          || kdf_initial(VC_PW3, 0x88, kdf, len, &pw3)))
    return VC_SW_WRONG_DATA;
  if (!on)
    {
      vc_pin_default(&card->p.pin[VC_PW1], "123456");
      vc_pin_default(&card->p.pin[VC_PW3], "12345678");
    }
  if (on && pw1.len)
    set_pin(card, &card->p.pin[VC_PW1], pw1.value, pw1.len);
  if (on && pw3.len)
    set_pin(card, &card->p.pin[VC_PW3], pw3.value, pw3.len);
  vc_pin_default(&card->p.pin[VC_RC], "");
  card->pw1_81 = card->pw1_82 = card->pw3 = 0;
  card->dirty = 1;
  return VC_SW_OK;
}
