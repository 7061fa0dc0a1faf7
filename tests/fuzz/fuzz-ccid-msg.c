/* fuzz-ccid-msg.c - CCID bulk-IN / interrupt decoders and the encoders
 *
 * The first input byte picks what is fuzzed:
 *   0: a bulk-IN reply; bytes 1-2 are MAX_DATA (little-endian, 0xFFFF for
 *      no limit), the rest is the message.  A decoded reply must lie in
 *      the input, re-encode to the same bytes, and agree with the status
 *      and matching helpers.
 *   1: interrupt-IN messages; byte 1 is the slot count - 1, the rest is a
 *      transfer walked message by message.  A NotifySlotChange is rebuilt
 *      from the slot accessors and compared.
 *   2: a command encoder with fuzzed arguments; the header must be right.
 *   3: the PIN structure encoders with fuzzed fields.
 */
#include <stdlib.h>
#include <string.h>

#include "ccid-msg.h"
#include "fuzz.h"

static const uint8_t command_types[] = {
  0x61, 0x62, 0x63, 0x65, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x71, 0x72, 0x73,
};

static size_t
le32(const uint8_t *p)
{
  return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
}

static int
inside(const uint8_t *p, size_t len, const uint8_t *base, size_t size)
{
  return p >= base && p <= base + size && len <= (size_t)(base + size - p);
}

static void
check_match(const struct ccid_reply *r)
{
  size_t i;

  for (i = 0; i < sizeof command_types; i++)
    {
      gpg_error_t err = ccid_reply_match(command_types[i], r->slot, r->seq, r);

      if (ccid_expected_reply(command_types[i]) == r->type)
        FUZZ_ASSERT(!err);
      FUZZ_ASSERT(gpg_err_code(ccid_reply_match(command_types[i], r->slot,
                                                (uint8_t)(r->seq + 1), r))
                  == GPG_ERR_UNEXPECTED_MSG);
    }
}

static void
check_params(const struct ccid_reply *r)
{
  uint8_t out[8];
  size_t n;
  gpg_error_t err;

  if (!r->has_params)
    return;
  err = ccid_params_encode(&r->params, out, sizeof out, &n);
  if (!err)
    FUZZ_ASSERT(n == r->datalen && !memcmp(out, r->data, n));
  else
    FUZZ_ASSERT(gpg_err_code(err) == GPG_ERR_INV_VALUE);
}

static void
fuzz_reply(const uint8_t *data, size_t size)
{
  struct ccid_reply r;
  size_t max, n;
  uint8_t *out;
  char text[96];
  gpg_error_t err;

  if (size < 2)
    return;
  max = (size_t)(data[0] | data[1] << 8);
  if (max == 0xFFFF)
    max = (size_t)-1;
  data += 2;
  size -= 2;
  if (ccid_reply_decode(data, size, max, &r))
    {
      FUZZ_ASSERT(r.type == 0 && r.data == NULL && r.datalen == 0);
      return;
    }
  FUZZ_ASSERT(r.data == data + CCID_HEADER_LEN);
  FUZZ_ASSERT(inside(r.data, r.datalen, data, size));
  FUZZ_ASSERT(r.datalen == size - CCID_HEADER_LEN && r.datalen <= max);
  FUZZ_ASSERT(r.icc_status == (data[7] & 3) && r.cmd_status == data[7] >> 6);

  out = malloc(size);
  FUZZ_ASSERT(out);
  FUZZ_ASSERT(!ccid_reply_encode(&r, out, size, &n));
  FUZZ_ASSERT(n == size && !memcmp(out, data, size));
  FUZZ_ASSERT(ccid_reply_encode(&r, out, size - 1, &n));
  free(out);

  check_params(&r);
  check_match(&r);
  err = ccid_reply_status_error(&r);
  if (r.cmd_status == CCID_CMD_OK && r.icc_status != CCID_ICC_RFU)
    FUZZ_ASSERT(!err);
  else
    FUZZ_ASSERT(err);
  err = ccid_error_describe(command_types[data[9] % sizeof command_types], r.error, text,
                            sizeof text);
  FUZZ_ASSERT(strlen(text) < sizeof text);
  FUZZ_ASSERT(!err || gpg_err_code(err) == GPG_ERR_BUFFER_TOO_SHORT);
  ccid_error_describe(0x62, r.error, text, 5);
  FUZZ_ASSERT(strlen(text) < 5);
}

/* Rebuilds a NotifySlotChange from the accessors. */
static void
check_notify(const struct ccid_intr *in, const uint8_t *msg)
{
  uint8_t bits[64];
  unsigned int slot;

  FUZZ_ASSERT(in->slot_bits == msg + 1 && in->slot_bits_len == (in->nslots + 3) / 4);
  memset(bits, 0, sizeof bits);
  for (slot = 0; slot < in->nslots; slot++)
    bits[slot / 4] |= (uint8_t)((ccid_intr_slot_present(in, slot)
                                 | ccid_intr_slot_changed(in, slot) << 1)
                                << (2 * (slot % 4)));
  FUZZ_ASSERT(!memcmp(bits, in->slot_bits, in->slot_bits_len));
  FUZZ_ASSERT(!ccid_intr_slot_present(in, in->nslots)
              && !ccid_intr_slot_changed(in, 9999));
}

static void
fuzz_intr(const uint8_t *data, size_t size)
{
  struct ccid_intr in;
  unsigned int nslots;
  size_t used, pos = 0;

  if (size < 1)
    return;
  nslots = data[0] + 1u;
  data++;
  size--;
  /* Every message is at least 2 bytes long, so this ends. */
  while (pos < size && !ccid_intr_decode(data + pos, size - pos, nslots, &in, &used))
    {
      FUZZ_ASSERT(used >= 2 && used <= size - pos);
      if (in.type == CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE)
        check_notify(&in, data + pos);
      else
        FUZZ_ASSERT(in.type == CCID_RDR_TO_PC_HARDWARE_ERROR && used == 4
                    && in.slot < nslots && in.hw_error == data[pos + 3]);
      pos += used;
    }
}

/* Runs encoder number WHICH with arguments taken from P (at least 8 bytes)
 * and data D of DLEN bytes. */
static gpg_error_t
encode_one(unsigned int which, const uint8_t *p, const uint8_t *d, size_t dlen,
           uint8_t *out, size_t outsize, size_t *n)
{
  struct ccid_params params;
  uint16_t level = (uint16_t)(p[3] | p[4] << 8);

  memset(&params, 0, sizeof params);
  params.protocol = (uint8_t)(p[2] & 1);
  params.t1 = (struct ccid_params_t1){ p[3], p[4], p[5], p[6], p[7], p[2], p[3] };
  switch (which % 14)
    {
    case 0:
      return ccid_cmd_icc_power_on(p[0], p[1], (enum ccid_power_select)(p[2] % 5), out,
                                   outsize, n);
    case 1:
      return ccid_cmd_icc_power_off(p[0], p[1], out, outsize, n);
    case 2:
      return ccid_cmd_get_slot_status(p[0], p[1], out, outsize, n);
    case 3:
      return ccid_cmd_xfr_block(p[0], p[1], p[2], level, d, dlen, out, outsize, n);
    case 4:
      return ccid_cmd_get_parameters(p[0], p[1], out, outsize, n);
    case 5:
      return ccid_cmd_reset_parameters(p[0], p[1], out, outsize, n);
    case 6:
      return ccid_cmd_set_parameters(p[0], p[1], &params, out, outsize, n);
    case 7:
      return ccid_cmd_escape(p[0], p[1], d, dlen, out, outsize, n);
    case 8:
      return ccid_cmd_icc_clock(p[0], p[1], (enum ccid_clock_command)(p[2] % 3), out,
                                outsize, n);
    case 9:
      return ccid_cmd_t0_apdu(p[0], p[1], p[2], p[3], p[4], out, outsize, n);
    case 10:
      return ccid_cmd_secure(p[0], p[1], p[2], level, d, dlen, out, outsize, n);
    case 11:
      return ccid_cmd_mechanical(p[0], p[1], (enum ccid_mechanical)(p[2] % 7), out,
                                 outsize, n);
    case 12:
      return ccid_cmd_abort(p[0], p[1], out, outsize, n);
    default:
      return ccid_cmd_set_data_rate_and_clock(p[0], p[1], level, p[5], out, outsize, n);
    }
}

static void
fuzz_commands(const uint8_t *data, size_t size)
{
  uint8_t out[300];
  size_t n, dlen, outsize;
  gpg_error_t err;

  if (size < 10)
    return;
  dlen = size - 10;
  outsize = data[9] + 10u < sizeof out ? data[9] + 10u : sizeof out;
  err = encode_one(data[8], data, data + 10, dlen, out, outsize, &n);
  if (err)
    {
      FUZZ_ASSERT(n == 0);
      return;
    }
  FUZZ_ASSERT(n >= CCID_HEADER_LEN && n <= outsize);
  FUZZ_ASSERT(ccid_expected_reply(out[0]) != 0);
  FUZZ_ASSERT(le32(out + 1) == n - CCID_HEADER_LEN);
  FUZZ_ASSERT(out[5] == data[0] && out[6] == data[1]);
}

static void
fuzz_pin(const uint8_t *data, size_t size)
{
  struct ccid_pin_verify pv;
  struct ccid_pin_modify pm;
  uint8_t out[300];
  size_t n, outsize;

  if (size < 24)
    return;
  outsize = data[0]; /* at most 255, below sizeof out */
  pv = (struct ccid_pin_verify){ data[1],
                                 data[2],
                                 data[3],
                                 data[4],
                                 data[5],
                                 data[6],
                                 data[7],
                                 data[8],
                                 (uint16_t)(data[9] | data[10] << 8),
                                 data[11],
                                 { data[12], data[13], data[14] } };
  if (!ccid_pin_verify_encode(&pv, data + 24, size - 24, out, outsize, &n))
    FUZZ_ASSERT(n == 15 + size - 24 && out[0] == 0 && out[5] == pv.max_digits
                && !memcmp(out + 15, data + 24, size - 24));
  else
    FUZZ_ASSERT(n == 0);

  pm = (struct ccid_pin_modify){ data[1],
                                 data[2],
                                 data[3],
                                 data[4],
                                 data[5],
                                 data[6],
                                 data[7],
                                 data[8],
                                 (uint8_t)(data[9] & 3),
                                 data[10],
                                 data[11],
                                 (uint16_t)(data[12] | data[13] << 8),
                                 { data[14], data[15], data[16] },
                                 { data[17], data[18], data[19] } };
  if (!ccid_pin_modify_encode(&pm, data + 24, size - 24, out, outsize, &n))
    FUZZ_ASSERT(n >= 18 + size - 24 && n <= 20 + size - 24 && out[0] == 1
                && !memcmp(out + n - (size - 24), data + 24, size - 24)
                && !memcmp(out + n - (size - 24) - 3, pm.teo_prologue, 3));
  else
    FUZZ_ASSERT(n == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  switch (data[0] & 3)
    {
    case 0:
      fuzz_reply(data + 1, size - 1);
      break;
    case 1:
      fuzz_intr(data + 1, size - 1);
      break;
    case 2:
      fuzz_commands(data + 1, size - 1);
      break;
    default:
      fuzz_pin(data + 1, size - 1);
      break;
    }
  return 0;
}
