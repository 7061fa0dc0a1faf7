/* emu-desc.c - USB descriptors and control requests of the emulated reader */

#include "emu.h"

#include <string.h>

#include "ccid-desc.h"

/* Clock and data rate the reader claims; the CCID 1.1 defaults. */
#define EMU_CLOCK_KHZ 4000
#define EMU_DATA_RATE 10752
/* dwMaxCCIDMessageLength: 10 + 261, a short APDU with Le and SW.  Small
 * enough that extended APDUs need wLevelParameter chaining. */
#define EMU_MAX_MESSAGE 271

static const char emu_manufacturer[] = "dualscd";

static void
put16(uint8_t *p, unsigned int v)
{
  p[0] = (uint8_t)(v & 0xFF);
  p[1] = (uint8_t)((v >> 8) & 0xFF);
}

static void
put32(uint8_t *p, uint32_t v)
{
  put16(p, v & 0xFFFF);
  put16(p + 2, v >> 16);
}

/* dwFeatures per mode.  APDU levels negotiate parameters themselves (0x40
 * automatic parameter negotiation, 0x80 automatic PPS); the TPDU reader
 * leaves PPS and SetParameters to the host. */
static uint32_t
features(enum emu_mode mode)
{
  static const uint32_t table[] = {
    [EMU_MODE_APDU] = CCID_DESC_FEAT_LEVEL_SHORT_APDU | 0xFE,
    [EMU_MODE_EXT] = CCID_DESC_FEAT_LEVEL_EXT_APDU | 0xFE,
    [EMU_MODE_TPDU] = CCID_DESC_FEAT_LEVEL_TPDU | 0x3E,
  };
  return table[mode];
}

static size_t
ccid_class_desc(const struct emu_reader *r, uint8_t *p)
{
  memset(p, 0, CCID_DESC_LEN);
  p[0] = CCID_DESC_LEN;
  p[1] = CCID_DESC_TYPE;
  put16(p + 2, 0x0110);
  p[4] = (uint8_t)(r->nslots - 1);
  p[5] = CCID_DESC_VOLTAGE_5V | CCID_DESC_VOLTAGE_3V | CCID_DESC_VOLTAGE_1_8V;
  put32(p + 6, CCID_DESC_PROTO_T1);
  put32(p + 10, EMU_CLOCK_KHZ);
  put32(p + 14, EMU_CLOCK_KHZ);
  put32(p + 19, EMU_DATA_RATE);
  put32(p + 23, EMU_DATA_RATE);
  put32(p + 28, 254);
  put32(p + 40, features(r->emu->opt.mode));
  put32(p + 44, EMU_MAX_MESSAGE);
  p[48] = 0xFF;
  p[49] = 0xFF;
  p[52] = r->emu->opt.pinpad ? (CCID_DESC_PIN_VERIFY | CCID_DESC_PIN_MODIFY) : 0;
  p[53] = 1;
  return CCID_DESC_LEN;
}

static size_t
endpoint(uint8_t *p, uint8_t addr, uint8_t attr, unsigned int maxpkt, uint8_t interval)
{
  p[0] = 7;
  p[1] = 5;
  p[2] = addr;
  p[3] = attr;
  put16(p + 4, maxpkt);
  p[6] = interval;
  return 7;
}

size_t
emu_desc_build(const struct emu_reader *r, uint8_t *out, size_t outsize)
{
  uint8_t *c;
  size_t n;

  if (outsize < 18 + 9 + 9 + CCID_DESC_LEN + 3 * 7)
    return 0;
  memset(out, 0, 18);
  out[0] = 18;
  out[1] = 1;
  put16(out + 2, 0x0200);
  out[7] = 64;
  put16(out + 8, r->emu->opt.vid);
  put16(out + 10, r->emu->opt.pid);
  put16(out + 12, 0x0100);
  out[14] = 1; /* iManufacturer */
  out[15] = 2; /* iProduct */
  out[16] = 3; /* iSerialNumber */
  out[17] = 1;
  c = out + 18;
  n = 9;
  c[0] = 9;
  c[1] = 2;
  c[4] = 1;
  c[5] = 1;
  c[6] = 0;
  c[7] = 0x80;
  c[8] = 50;
  c[n++] = 9; /* interface */
  c[n++] = 4;
  c[n++] = 0;
  c[n++] = 0;
  c[n++] = r->emu->opt.intr ? 3 : 2;
  c[n++] = 0x0B;
  c[n++] = 0;
  c[n++] = 0;
  c[n++] = 0;
  n += ccid_class_desc(r, c + n);
  n += endpoint(c + n, 0x02, 2, 64, 0);
  n += endpoint(c + n, 0x81, 2, 64, 0);
  if (r->emu->opt.intr)
    n += endpoint(c + n, 0x83, 3, 8, 16);
  put16(c + 2, (unsigned int)n);
  return 18 + n;
}

/* A string descriptor: UTF-16LE of the ASCII S. */
static int
string_desc(const char *s, uint8_t *data, size_t datalen)
{
  size_t len = strlen(s), i;
  uint8_t buf[2 + 2 * 126];

  if (len > 126)
    len = 126;
  buf[0] = (uint8_t)(2 + 2 * len);
  buf[1] = 3;
  for (i = 0; i < len; i++)
    {
      buf[2 + 2 * i] = (uint8_t)s[i];
      buf[3 + 2 * i] = 0;
    }
  len = 2 + 2 * len;
  if (len > datalen)
    len = datalen;
  memcpy(data, buf, len);
  return (int)len;
}

static int
get_descriptor(struct emu_reader *r, unsigned int value, uint8_t *data, size_t datalen)
{
  uint8_t desc[256];
  size_t n = emu_desc_build(r, desc, sizeof desc);
  unsigned int type = value >> 8, index = value & 0xFF;
  static const uint8_t langs[] = { 4, 3, 0x09, 0x04 };
  /* iManufacturer 1, iProduct 2, iSerialNumber 3 of the device descriptor. */
  const char *const strings[]
      = { NULL, emu_manufacturer, r->emu->opt.product, r->serial };

  if (type == 1 || type == 2)
    {
      const uint8_t *src = type == 1 ? desc : desc + 18;
      size_t len = type == 1 ? 18 : n - 18;

      if (index != 0)
        return -1;
      if (len > datalen)
        len = datalen;
      memcpy(data, src, len);
      return (int)len;
    }
  if (type != 3)
    return -1;
  if (index == 0) /* the language table: English (US) only */
    {
      size_t len = datalen < sizeof langs ? datalen : sizeof langs;

      memcpy(data, langs, len);
      return (int)len;
    }
  if (index >= G_N_ELEMENTS(strings))
    return -1;
  return string_desc(strings[index], data, datalen);
}

/* The class requests' answers: GET_CLOCK_FREQUENCIES and GET_DATA_RATES
 * each list the one value the descriptor announces. */
static int
class_request(uint8_t request, uint8_t *data, size_t datalen)
{
  uint32_t v;

  if (request == CCID_REQ_ABORT)
    return 0;
  if (request == CCID_REQ_GET_CLOCK_FREQUENCIES)
    v = EMU_CLOCK_KHZ;
  else if (request == CCID_REQ_GET_DATA_RATES)
    v = EMU_DATA_RATE;
  else
    return -1;
  if (datalen < 4)
    return -1;
  put32(data, v);
  return 4;
}

int
emu_desc_control(struct emu_reader *r, const uint8_t *setup, uint8_t *data,
                 size_t datalen)
{
  uint8_t reqtype = setup[0], request = setup[1];
  unsigned int value = (unsigned int)(setup[2] | setup[3] << 8);
  size_t wlength = (size_t)(setup[6] | setup[7] << 8);

  if (wlength < datalen)
    datalen = wlength;
  if ((reqtype & 0x60) == 0x20)
    return class_request(request, data, datalen);
  if ((reqtype & 0x60) != 0)
    return -1;
  switch (request)
    {
    case 0x06: /* GET_DESCRIPTOR */
      return get_descriptor(r, value, data, datalen);
    case 0x00: /* GET_STATUS */
      if (datalen < 2)
        return -1;
      data[0] = 0;
      data[1] = 0;
      return 2;
    case 0x08: /* GET_CONFIGURATION */
      if (datalen < 1)
        return -1;
      data[0] = 1;
      return 1;
    case 0x09: /* SET_CONFIGURATION */
    case 0x0B: /* SET_INTERFACE */
    case 0x01: /* CLEAR_FEATURE */
      return 0;
    default:
      return -1;
    }
}
