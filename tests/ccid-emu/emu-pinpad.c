/* emu-pinpad.c - PC_to_RDR_Secure: the reader "types" a configured PIN
 *
 * The PIN verification and modification data structures (CCID 1.1 tables
 * 6.1-11 and 6.1-12) describe where the PIN goes in the APDU template.
 * The emulator supports byte positions (bmFormatString bit 7), the three
 * codings and fixed or variable PIN blocks, which covers what libccid and
 * GnuPG send to OpenPGP cards.  TPDU readers do not get a pinpad.
 */

#include "emu.h"

#include <string.h>

/* Offsets into the data of PC_to_RDR_Secure (after bPINOperation). */
#define PV_FORMAT 2
#define PV_BLOCK 3
#define PV_APDU 15 /* verify: the APDU after bTeoPrologue */
#define PM_OFFSET_OLD 5
#define PM_OFFSET_NEW 6
#define PM_CONFIRM 9
#define PM_MSG_INDEX 14

/* Encodes the digits of PIN per bmFormatString coding into OUT; returns
 * the length. */
static size_t
encode_pin(const char *pin, uint8_t format, uint8_t *out, size_t outsize)
{
  size_t n = strlen(pin), i;
  unsigned int coding = format & 3;

  if (coding == 1) /* BCD, two digits a byte, padded with F */
    {
      size_t len = (n + 1) / 2;

      if (len > outsize)
        return 0;
      memset(out, 0xFF, len);
      for (i = 0; i < n; i++)
        {
          unsigned int d = (unsigned int)(pin[i] - '0') & 0xF;
          out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] & 0xF0) | d : (d << 4) | 0x0F);
        }
      return len;
    }
  if (n > outsize)
    return 0;
  for (i = 0; i < n; i++)
    out[i] = coding == 2 ? (uint8_t)pin[i] : (uint8_t)(pin[i] - '0');
  return n;
}

/* Builds the APDU from TEMPLATE: the header, then the PIN(s) at their
 * offsets in a data field of at least the template's data, with Lc. */
static size_t
build_apdu(struct emu_cmd *c, const uint8_t *tmpl, size_t tmpllen, int modify,
           uint8_t *apdu, size_t apdusize)
{
  const uint8_t *d = c->data;
  uint8_t format = d[PV_FORMAT], block = d[PV_BLOCK] & 0x0F;
  uint8_t pins[2][32];
  size_t plen[2], datalen, offs[2];
  unsigned int pos = (format & 0x80) ? (format >> 3) & 0x0F : 0;
  uint8_t *data = apdu + 5;

  plen[0] = encode_pin(c->r->pin, format, pins[0], sizeof pins[0]);
  plen[1] = encode_pin(c->r->new_pin, format, pins[1], sizeof pins[1]);
  if (tmpllen < 4 || apdusize < 5 + 255)
    return 0;
  memcpy(apdu, tmpl, 4);
  datalen = tmpllen > 5 ? tmpllen - 5 : 0;
  memset(data, 0xFF, 250);
  if (datalen)
    memcpy(data, tmpl + 5, datalen > 250 ? 250 : datalen);
  /* Verify: the PIN at pos.  Modify: old and new at their offsets; with a
   * variable block, one after the other. */
  offs[0] = pos + (modify ? d[PM_OFFSET_OLD] : 0);
  offs[1] = pos + (block ? d[PM_OFFSET_NEW] : plen[0]);
  if (modify && !(d[PM_CONFIRM] & 2)) /* no old PIN asked for */
    offs[1] = pos, plen[0] = 0;
  if (offs[0] + plen[0] > 250 || offs[1] + plen[1] > 250)
    return 0;
  memcpy(data + offs[0], pins[0], plen[0]);
  if (modify)
    memcpy(data + offs[1], pins[1], plen[1]);
  if (offs[0] + (block ? block : plen[0]) > datalen)
    datalen = offs[0] + (block ? block : plen[0]);
  if (modify && offs[1] + (block ? block : plen[1]) > datalen)
    datalen = offs[1] + (block ? block : plen[1]);
  apdu[4] = (uint8_t)datalen;
  return 5 + datalen;
}

/* Where the APDU starts in a modify structure: after 1, 2 or 3 message
 * indices (CCID 1.1 ties their number to bNumberMessage, libccid always
 * sends 3 for 0xFF); the APDU's INS tells which. */
static size_t
modify_apdu_offset(const struct emu_cmd *c)
{
  size_t k;

  for (k = 3; k >= 1; k--)
    {
      size_t off = PM_MSG_INDEX + k + 3;

      if (off + 4 <= c->datalen && (c->data[off + 1] == 0x24 || c->data[off + 1] == 0x2C))
        return off;
    }
  return PM_MSG_INDEX + 1 + 3;
}

void
emu_pinpad_secure(struct emu_cmd *c)
{
  uint8_t apdu[5 + 256];
  size_t off, len;
  int modify;

  if (!c->r->emu->opt.pinpad || c->r->emu->opt.mode == EMU_MODE_TPDU || c->datalen < 1
      || (c->data[0] != CCID_PIN_OP_VERIFY && c->data[0] != CCID_PIN_OP_MODIFY))
    {
      emu_reply_fail(c, ERR_CMD_NOT_SUPPORTED);
      return;
    }
  if (!c->slot->present || !c->slot->powered)
    {
      emu_reply_fail(c, ERR_ICC_MUTE);
      return;
    }
  if (c->r->pin_cancel)
    {
      c->r->pin_cancel = 0;
      emu_reply_fail(c, ERR_PIN_CANCELLED);
      return;
    }
  modify = c->data[0] == CCID_PIN_OP_MODIFY;
  off = modify ? modify_apdu_offset(c) : PV_APDU;
  if (c->datalen < off + 4)
    {
      emu_reply_fail(c, ERR_BAD_LENGTH);
      return;
    }
  len = build_apdu(c, c->data + off, c->datalen - off, modify, apdu, sizeof apdu);
  if (!len)
    {
      emu_reply_fail(c, ERR_BAD_LENGTH);
      return;
    }
  emu_run_apdu(c->slot, apdu, len);
  explicit_bzero(apdu, sizeof apdu);
  emu_reply_ok(c, CCID_RDR_TO_PC_DATA_BLOCK, 0, c->slot->resp, c->slot->resplen);
  c->slot->resplen = 0;
}
