/* fuzz-ccid-driver.c - the CCID driver's reply handling behind a fuzzed reader
 *
 * The real slot code (backends/ccid-slot.c: reply reading with bSeq
 * matching, time extensions, aborts, power on with voltage and class
 * selection, PPS and SetParameters, the T=1 engine over XfrBlock, APDU
 * chaining, the pinpad) runs against a reader whose every bulk-IN
 * transfer comes from the input.
 *
 * Input: byte 0 selects the reader: bits 0-1 the exchange level (0 TPDU,
 * 1 short APDU, 2 extended APDU, 3 character), bit 2 auto parameters,
 * bit 3 auto voltage, bit 4 a pinpad, bit 5 auto IFSD, bit 7 "follow":
 * the harness writes the bSlot and bSeq of the last command into each
 * reply, so that mutations reach past the matching.  Byte 1 sets
 * dwMaxCCIDMessageLength (16 + 16 * byte, 65554 for 0xFF).  The rest is
 * the reader's transfers, each a 2-byte little-endian length and the
 * bytes; when they run out the reader goes mute (a timeout).
 */
#include <stdlib.h>
#include <string.h>

#include "../../backends/ccid-int.h"
#include "../../backends/reader.h"
#include "fuzz.h"
#include "log.h"

struct fake_reader
{
  const uint8_t *data;
  size_t size, pos;
  int follow;
  uint8_t slot, seq;
  uint64_t clock;
  size_t max_msg;
};

static gpg_error_t
fake_send(void *opaque, const uint8_t *msg, size_t len)
{
  struct fake_reader *f = opaque;
  size_t dw;

  /* Every command the driver builds is well formed and within limits. */
  FUZZ_ASSERT(len >= CCID_HEADER_LEN && len <= f->max_msg);
  dw = (size_t)msg[1] | (size_t)msg[2] << 8 | (size_t)msg[3] << 16 | (size_t)msg[4] << 24;
  FUZZ_ASSERT(dw == len - CCID_HEADER_LEN);
  f->slot = msg[5];
  f->seq = msg[6];
  return 0;
}

static gpg_error_t
fake_recv(void *opaque, uint8_t *buf, size_t size, size_t *len, unsigned int timeout_ms)
{
  struct fake_reader *f = opaque;
  size_t n;

  *len = 0;
  f->clock += timeout_ms / 4 + 1;
  if (f->size - f->pos < 2)
    return gpg_error(GPG_ERR_TIMEOUT);
  n = (size_t)f->data[f->pos] | (size_t)f->data[f->pos + 1] << 8;
  f->pos += 2;
  if (n > f->size - f->pos)
    n = f->size - f->pos;
  if (n > size)
    {
      f->pos += n;
      return gpg_error(GPG_ERR_EIO); /* libusb's overflow */
    }
  memcpy(buf, f->data + f->pos, n);
  f->pos += n;
  if (f->follow && n >= CCID_HEADER_LEN)
    {
      buf[5] = f->slot;
      buf[6] = f->seq;
    }
  *len = n;
  return 0;
}

static void
fake_abort(void *opaque, uint8_t slot, uint8_t seq)
{
  (void)opaque;
  (void)slot;
  (void)seq;
}

static uint64_t
fake_now(void *opaque)
{
  struct fake_reader *f = opaque;

  return f->clock += 7;
}

static const uint32_t levels[] = {
  CCID_DESC_FEAT_LEVEL_TPDU,
  CCID_DESC_FEAT_LEVEL_SHORT_APDU,
  CCID_DESC_FEAT_LEVEL_EXT_APDU,
  0,
};
static const enum ccid_exchange_level level_names[] = {
  CCID_LEVEL_TPDU,
  CCID_LEVEL_SHORT_APDU,
  CCID_LEVEL_EXT_APDU,
  CCID_LEVEL_CHARACTER,
};

static void
make_desc(uint8_t sel, uint8_t size, struct ccid_desc *d)
{
  memset(d, 0, sizeof *d);
  d->bDescriptorType = CCID_DESC_TYPE;
  d->bVoltageSupport = 7;
  d->dwProtocols = CCID_DESC_PROTO_T0 | CCID_DESC_PROTO_T1;
  d->dwMaxIFSD = 254;
  d->dwFeatures = levels[sel & 3];
  if (sel & 4)
    d->dwFeatures |= CCID_DESC_FEAT_AUTO_PARAM_ATR | CCID_DESC_FEAT_AUTO_PPS;
  if (sel & 8)
    d->dwFeatures |= CCID_DESC_FEAT_AUTO_VOLTAGE;
  if (sel & 32)
    d->dwFeatures |= CCID_DESC_FEAT_AUTO_IFSD;
  d->bPINSupport = (sel & 16) ? 3 : 0;
  d->dwMaxCCIDMessageLength = size == 0xFF ? 65554u : 16u + 16u * size;
  d->nslots = 1;
  d->exchange_level = level_names[sel & 3];
  d->max_data_len = d->dwMaxCCIDMessageLength - CCID_HEADER_LEN;
}

static void
check_transmit(struct ccid_slot *s, const uint8_t *apdu, size_t apdulen, size_t respsize)
{
  uint8_t *resp = malloc(respsize);
  size_t rlen = 99;
  gpg_error_t err;

  FUZZ_ASSERT(resp);
  err = ccid_slot_transmit(s, apdu, apdulen, resp, respsize, &rlen);
  if (err)
    FUZZ_ASSERT(rlen == 0);
  else
    FUZZ_ASSERT(rlen >= 2 && rlen <= respsize);
  free(resp);
}

static void
run(struct ccid_slot *s, int pinpad)
{
  static const uint8_t select[]
      = { 0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01, 0x00 };
  static const uint8_t verify[] = { 0x00, 0x20, 0x00, 0x81 };
  struct reader_pinpad pp = { 0, 6, 8, 0 };
  enum ccid_icc_status icc;
  uint8_t *big, resp[258];
  size_t rlen;

  ccid_slot_status(s, &icc);
  if (ccid_slot_power_on(s))
    return;
  FUZZ_ASSERT(s->atrlen >= 2 && s->atrlen <= ATR_MAX_LEN);
  check_transmit(s, select, sizeof select, 258);
  big = calloc(1, 7 + 1000);
  FUZZ_ASSERT(big);
  memcpy(big, (const uint8_t[]){ 0x00, 0xDA, 0x7F, 0x21, 0x00, 0x03, 0xE8 }, 7);
  check_transmit(s, big, 7 + 1000, 64);
  free(big);
  if (pinpad)
    {
      rlen = 99;
      if (ccid_slot_pinpad(s, &pp, verify, sizeof verify, resp, sizeof resp, &rlen))
        FUZZ_ASSERT(rlen == 0);
      else
        FUZZ_ASSERT(rlen >= 2 && rlen <= sizeof resp);
    }
  ccid_slot_power_off(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int quiet;
  struct fake_reader f;
  struct ccid_desc d;
  struct ccid_link link;
  struct ccid_slot *s;
  struct ccid_io io = { fake_send, fake_recv, fake_abort, fake_now, NULL };

  if (size < 2)
    return 0;
  if (!quiet)
    quiet = !log_setup("/dev/null", 0, 0);
  memset(&f, 0, sizeof f);
  f.data = data + 2;
  f.size = size - 2;
  f.follow = !!(data[0] & 0x80);
  make_desc(data[0], data[1], &d);
  f.max_msg = d.dwMaxCCIDMessageLength;
  io.opaque = &f;
  s = calloc(1, sizeof *s);
  FUZZ_ASSERT(s);
  if (!ccid_link_init(&link, &d, &io, "fuzz"))
    {
      s->link = &link;
      run(s, !!(data[0] & 16));
      ccid_link_free(&link);
    }
  free(s);
  return 0;
}
