/* ccid-desc.c - the USB CCID class descriptor (CCID 1.1, 5.1) */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ccid-desc.h"

#define DIM(a) (sizeof(a) / sizeof(a)[0])

/* Every named bit, in the order the summary prints them. */
static const struct ccid_desc_flag flag_table[] = {
  { CCID_DESC_FIELD_VOLTAGE, CCID_DESC_VOLTAGE_5V, "5V", "5.0 V" },
  { CCID_DESC_FIELD_VOLTAGE, CCID_DESC_VOLTAGE_3V, "3V", "3.0 V" },
  { CCID_DESC_FIELD_VOLTAGE, CCID_DESC_VOLTAGE_1_8V, "1.8V", "1.8 V" },
  { CCID_DESC_FIELD_PROTOCOLS, CCID_DESC_PROTO_T0, "T=0", "T=0" },
  { CCID_DESC_FIELD_PROTOCOLS, CCID_DESC_PROTO_T1, "T=1", "T=1" },
  { CCID_DESC_FIELD_SYNCH, CCID_DESC_SYNCH_2WIRE, "2-wire", "2-wire protocol" },
  { CCID_DESC_FIELD_SYNCH, CCID_DESC_SYNCH_3WIRE, "3-wire", "3-wire protocol" },
  { CCID_DESC_FIELD_SYNCH, CCID_DESC_SYNCH_I2C, "I2C", "I2C protocol" },
  { CCID_DESC_FIELD_MECHANICAL, CCID_DESC_MECH_ACCEPT, "accept",
    "Card accept mechanism" },
  { CCID_DESC_FIELD_MECHANICAL, CCID_DESC_MECH_EJECT, "eject",
    "Card ejection mechanism" },
  { CCID_DESC_FIELD_MECHANICAL, CCID_DESC_MECH_CAPTURE, "capture",
    "Card capture mechanism" },
  { CCID_DESC_FIELD_MECHANICAL, CCID_DESC_MECH_LOCK, "lock",
    "Card lock/unlock mechanism" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_PARAM_ATR, "auto-param-atr",
    "Automatic parameter configuration based on ATR data" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_ACTIVATION, "auto-activation",
    "Automatic activation of ICC on inserting" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_VOLTAGE, "auto-voltage",
    "Automatic ICC voltage selection" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_CLOCK, "auto-clock",
    "Automatic ICC clock frequency change according to parameters" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_BAUD, "auto-baud",
    "Automatic baud rate change according to frequency and Fi, Di" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_NEGOTIATION, "auto-negotiation",
    "Automatic parameters negotiation made by the CCID" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_PPS, "auto-pps",
    "Automatic PPS made by the CCID according to the active parameters" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_CLOCK_STOP, "clock-stop",
    "CCID can set ICC in clock stop mode" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_NAD, "nad",
    "NAD value other than 00 accepted (T=1)" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_AUTO_IFSD, "auto-ifsd",
    "Automatic IFSD exchange as first exchange (T=1)" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_ICCD, "iccd", "ICCD token" },
  { CCID_DESC_FIELD_FEATURES, CCID_DESC_FEAT_USB_WAKEUP, "usb-wakeup",
    "USB wake up signaling supported on card insertion and removal" },
  { CCID_DESC_FIELD_PIN, CCID_DESC_PIN_VERIFY, "verify", "PIN verification" },
  { CCID_DESC_FIELD_PIN, CCID_DESC_PIN_MODIFY, "modify", "PIN modification" },
};

/* The exchange level bits of dwFeatures; any other combination is
 * CCID_LEVEL_UNKNOWN. */
static const struct
{
  uint32_t bits;
  enum ccid_exchange_level level;
  const char *name;
} level_table[] = {
  { 0, CCID_LEVEL_CHARACTER, "character" },
  { CCID_DESC_FEAT_LEVEL_TPDU, CCID_LEVEL_TPDU, "TPDU" },
  { CCID_DESC_FEAT_LEVEL_SHORT_APDU, CCID_LEVEL_SHORT_APDU, "short APDU" },
  { CCID_DESC_FEAT_LEVEL_EXT_APDU, CCID_LEVEL_EXT_APDU, "extended APDU" },
};

static uint32_t
get_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
         | (uint32_t)p[3] << 24;
}

static uint16_t
get_le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static int
is_desc_type(uint8_t type)
{
  return type == CCID_DESC_TYPE || type == CCID_DESC_TYPE_VENDOR;
}

gpg_error_t
ccid_desc_find(const uint8_t *extra, size_t extralen, const uint8_t **desc,
               size_t *desclen)
{
  size_t pos = 0;

  *desc = NULL;
  *desclen = 0;
  /* Each step moves on by at least 2 bytes, so this ends. */
  while (pos < extralen)
    {
      size_t left = extralen - pos;
      uint8_t blen;

      if (left < 2)
        return gpg_error(GPG_ERR_TOO_SHORT);
      blen = extra[pos];
      if (blen < 2 || blen > left)
        return gpg_error(GPG_ERR_INV_LENGTH);
      if (blen == CCID_DESC_LEN && is_desc_type(extra[pos + 1]))
        {
          *desc = extra + pos;
          *desclen = blen;
          return 0;
        }
      pos += blen;
    }
  return gpg_error(GPG_ERR_NOT_FOUND);
}

static void
fill_fields(const uint8_t *buf, struct ccid_desc *desc)
{
  desc->bDescriptorType = buf[1];
  desc->bcdCCID = get_le16(buf + 2);
  desc->bMaxSlotIndex = buf[4];
  desc->bVoltageSupport = buf[5];
  desc->dwProtocols = get_le32(buf + 6);
  desc->dwDefaultClock = get_le32(buf + 10);
  desc->dwMaximumClock = get_le32(buf + 14);
  desc->bNumClockSupported = buf[18];
  desc->dwDataRate = get_le32(buf + 19);
  desc->dwMaxDataRate = get_le32(buf + 23);
  desc->bNumDataRatesSupported = buf[27];
  desc->dwMaxIFSD = get_le32(buf + 28);
  desc->dwSynchProtocols = get_le32(buf + 32);
  desc->dwMechanical = get_le32(buf + 36);
  desc->dwFeatures = get_le32(buf + 40);
  desc->dwMaxCCIDMessageLength = get_le32(buf + 44);
  desc->bClassGetResponse = buf[48];
  desc->bClassEnvelope = buf[49];
  desc->wLcdLayout = get_le16(buf + 50);
  desc->bPINSupport = buf[52];
  desc->bMaxCCIDBusySlots = buf[53];
}

static enum ccid_exchange_level
exchange_level(uint32_t features)
{
  uint32_t bits = features & CCID_DESC_FEAT_LEVEL_MASK;
  size_t i;

  for (i = 0; i < DIM(level_table); i++)
    if (level_table[i].bits == bits)
      return level_table[i].level;
  return CCID_LEVEL_UNKNOWN;
}

static void
derive(struct ccid_desc *desc)
{
  uint32_t max = desc->dwMaxCCIDMessageLength;

  desc->nslots = desc->bMaxSlotIndex + 1u;
  desc->exchange_level = exchange_level(desc->dwFeatures);
  if (max < 10)
    desc->max_data_len = 0;
  else if (max - 10 > CCID_DESC_MAX_DATA_LEN)
    desc->max_data_len = CCID_DESC_MAX_DATA_LEN;
  else
    desc->max_data_len = max - 10;
}

gpg_error_t
ccid_desc_parse(const uint8_t *buf, size_t buflen, struct ccid_desc *desc)
{
  memset(desc, 0, sizeof *desc);
  if (buflen < 2)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (!is_desc_type(buf[1]))
    return gpg_error(GPG_ERR_INV_VALUE);
  if (buf[0] != CCID_DESC_LEN)
    return gpg_error(GPG_ERR_INV_LENGTH);
  if (buflen < CCID_DESC_LEN)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (buflen > CCID_DESC_LEN)
    return gpg_error(GPG_ERR_INV_LENGTH);

  fill_fields(buf, desc);
  derive(desc);
  if (desc->dwMaxCCIDMessageLength < CCID_DESC_MIN_MESSAGE_LEN)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (desc->nslots > CCID_DESC_MAX_SLOTS)
    return gpg_error(GPG_ERR_INV_VALUE);
  return 0;
}

uint32_t
ccid_desc_field_value(const struct ccid_desc *desc, enum ccid_desc_field field)
{
  const uint32_t values[] = {
    [CCID_DESC_FIELD_VOLTAGE] = desc->bVoltageSupport,
    [CCID_DESC_FIELD_PROTOCOLS] = desc->dwProtocols,
    [CCID_DESC_FIELD_SYNCH] = desc->dwSynchProtocols,
    [CCID_DESC_FIELD_MECHANICAL] = desc->dwMechanical,
    [CCID_DESC_FIELD_FEATURES] = desc->dwFeatures & ~(uint32_t)CCID_DESC_FEAT_LEVEL_MASK,
    [CCID_DESC_FIELD_PIN] = desc->bPINSupport,
  };

  if ((unsigned int)field >= DIM(values))
    return 0;
  return values[field];
}

const struct ccid_desc_flag *
ccid_desc_flags(size_t *count)
{
  *count = DIM(flag_table);
  return flag_table;
}

const char *
ccid_exchange_level_name(enum ccid_exchange_level level)
{
  size_t i;

  for (i = 0; i < DIM(level_table); i++)
    if (level_table[i].level == level)
      return level_table[i].name;
  return "unknown";
}

/* Text under construction: LEN counts what the text needs even past SIZE,
 * so that the caller learns the size to ask for. */
struct text
{
  char *buf;
  size_t size;
  size_t len;
};

static void add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct text *t, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  if (t->len < t->size)
    n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
  else
    n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n > 0)
    t->len += (size_t)n;
}

/* Appends the names of FIELD's bits set in VALUE, each after SEP, then the
 * unnamed bits in hex; "none" if VALUE is 0. */
static void
add_flags(struct text *t, const struct ccid_desc *desc, enum ccid_desc_field field,
          const char *sep)
{
  uint32_t value = ccid_desc_field_value(desc, field);
  uint32_t named = 0;
  size_t i;

  if (!value)
    {
      add(t, "%snone", sep);
      return;
    }
  for (i = 0; i < DIM(flag_table); i++)
    if (flag_table[i].field == field && (value & flag_table[i].bit))
      {
        add(t, "%s%s", sep, flag_table[i].name);
        named |= flag_table[i].bit;
      }
  if (value & ~named)
    add(t, "%s+0x%08lX", sep, (unsigned long)(value & ~named));
}

static void
add_oneline(struct text *t, const struct ccid_desc *d)
{
  add(t, "CCID %X.%02X, %u slot%s, protocols", (unsigned int)(d->bcdCCID >> 8),
      (unsigned int)(d->bcdCCID & 0xFF), d->nslots, d->nslots == 1 ? "" : "s");
  add_flags(t, d, CCID_DESC_FIELD_PROTOCOLS, " ");
  add(t, ", %s level, voltages", ccid_exchange_level_name(d->exchange_level));
  add_flags(t, d, CCID_DESC_FIELD_VOLTAGE, " ");
  add(t, ", max message %lu, max IFSD %lu, PIN", (unsigned long)d->dwMaxCCIDMessageLength,
      (unsigned long)d->dwMaxIFSD);
  add_flags(t, d, CCID_DESC_FIELD_PIN, " ");
  add(t, ", features");
  add_flags(t, d, CCID_DESC_FIELD_FEATURES, " ");
  if (d->bDescriptorType == CCID_DESC_TYPE_VENDOR)
    add(t, ", vendor descriptor type 0xFF");
}

static void
add_hex_flags(struct text *t, const char *name, uint32_t value, int width,
              const struct ccid_desc *d, enum ccid_desc_field field)
{
  add(t, "%s: 0x%0*lX", name, width, (unsigned long)value);
  add_flags(t, d, field, " ");
  add(t, "\n");
}

static void
add_multiline(struct text *t, const struct ccid_desc *d)
{
  add(t, "bDescriptorType: 0x%02X\n", (unsigned int)d->bDescriptorType);
  add(t, "bcdCCID: %X.%02X\n", (unsigned int)(d->bcdCCID >> 8),
      (unsigned int)(d->bcdCCID & 0xFF));
  add(t, "bMaxSlotIndex: %u (%u slot%s)\n", (unsigned int)d->bMaxSlotIndex, d->nslots,
      d->nslots == 1 ? "" : "s");
  add_hex_flags(t, "bVoltageSupport", d->bVoltageSupport, 2, d, CCID_DESC_FIELD_VOLTAGE);
  add_hex_flags(t, "dwProtocols", d->dwProtocols, 8, d, CCID_DESC_FIELD_PROTOCOLS);
  add(t, "dwDefaultClock: %lu kHz\n", (unsigned long)d->dwDefaultClock);
  add(t, "dwMaximumClock: %lu kHz\n", (unsigned long)d->dwMaximumClock);
  add(t, "bNumClockSupported: %u\n", (unsigned int)d->bNumClockSupported);
  add(t, "dwDataRate: %lu bps\n", (unsigned long)d->dwDataRate);
  add(t, "dwMaxDataRate: %lu bps\n", (unsigned long)d->dwMaxDataRate);
  add(t, "bNumDataRatesSupported: %u\n", (unsigned int)d->bNumDataRatesSupported);
  add(t, "dwMaxIFSD: %lu\n", (unsigned long)d->dwMaxIFSD);
  add_hex_flags(t, "dwSynchProtocols", d->dwSynchProtocols, 8, d, CCID_DESC_FIELD_SYNCH);
  add_hex_flags(t, "dwMechanical", d->dwMechanical, 8, d, CCID_DESC_FIELD_MECHANICAL);
  add(t, "dwFeatures: 0x%08lX", (unsigned long)d->dwFeatures);
  add_flags(t, d, CCID_DESC_FIELD_FEATURES, " ");
  add(t, ", %s level\n", ccid_exchange_level_name(d->exchange_level));
  add(t, "dwMaxCCIDMessageLength: %lu\n", (unsigned long)d->dwMaxCCIDMessageLength);
  add(t, "bClassGetResponse: 0x%02X\n", (unsigned int)d->bClassGetResponse);
  add(t, "bClassEnvelope: 0x%02X\n", (unsigned int)d->bClassEnvelope);
  add(t, "wLcdLayout: 0x%04X (%u lines, %u columns)\n", (unsigned int)d->wLcdLayout,
      (unsigned int)(d->wLcdLayout >> 8), (unsigned int)(d->wLcdLayout & 0xFF));
  add_hex_flags(t, "bPINSupport", d->bPINSupport, 2, d, CCID_DESC_FIELD_PIN);
  add(t, "bMaxCCIDBusySlots: %u\n", (unsigned int)d->bMaxCCIDBusySlots);
}

gpg_error_t
ccid_desc_summary(const struct ccid_desc *desc, int style, char *buf, size_t bufsize,
                  size_t *outlen)
{
  struct text t = { buf, bufsize, 0 };

  *outlen = 0;
  if (bufsize)
    buf[0] = '\0';
  if (style == CCID_DESC_SUMMARY_ONELINE)
    add_oneline(&t, desc);
  else if (style == CCID_DESC_SUMMARY_MULTILINE)
    add_multiline(&t, desc);
  else
    return gpg_error(GPG_ERR_INV_VALUE);
  *outlen = t.len;
  return t.len < bufsize ? 0 : gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
}
