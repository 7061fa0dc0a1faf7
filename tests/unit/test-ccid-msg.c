/* test-ccid-msg.c - CCID message encoders, decoders and error tables
 *
 * Expected bytes are written out by hand from the CCID 1.1 message layouts
 * (and from what GnuPG's ccid-driver.c sends), never produced by the
 * encoder under test.
 */
#include "check.h"
#include "ccid-msg.h"

#define NOMAX ((size_t)-1)

static void
test_power_and_status(void)
{
  uint8_t out[32];
  size_t n;

  CHECK_OK(ccid_cmd_icc_power_on(0, 1, CCID_POWER_5V, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x62\x00\x00\x00\x00\x00\x01\x01\x00\x00", 10);
  CHECK_OK(ccid_cmd_icc_power_on(2, 0xFF, CCID_POWER_AUTO, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x62\x00\x00\x00\x00\x02\xFF\x00\x00\x00", 10);
  CHECK_OK(ccid_cmd_icc_power_on(0, 1, CCID_POWER_1_8V, out, sizeof out, &n));
  CHECK_INT(out[7], 3);
  CHECK_ERR(ccid_cmd_icc_power_on(0, 1, (enum ccid_power_select)4, out, sizeof out, &n),
            GPG_ERR_INV_VALUE);
  CHECK_INT(n, 0);

  CHECK_OK(ccid_cmd_icc_power_off(0, 2, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x63\x00\x00\x00\x00\x00\x02\x00\x00\x00", 10);
  CHECK_OK(ccid_cmd_get_slot_status(1, 3, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x65\x00\x00\x00\x00\x01\x03\x00\x00\x00", 10);
  CHECK_OK(ccid_cmd_get_parameters(0, 4, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x6C\x00\x00\x00\x00\x00\x04\x00\x00\x00", 10);
  CHECK_OK(ccid_cmd_reset_parameters(0, 5, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x6D\x00\x00\x00\x00\x00\x05\x00\x00\x00", 10);
  CHECK_OK(ccid_cmd_abort(0, 0x0D, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x72\x00\x00\x00\x00\x00\x0D\x00\x00\x00", 10);
  CHECK_INT(ccid_abort_request_value(0, 0x0D), 0x0D00);
  CHECK_INT(ccid_abort_request_value(3, 0xA5), 0xA503);
}

static void
test_xfr_block(void)
{
  uint8_t out[32];
  size_t n;

  CHECK_OK(ccid_cmd_xfr_block(0, 4, 0, CCID_CHAIN_BEGIN_END,
                              (const uint8_t *)"\x00\xA4\x04\x00", 4, out, sizeof out,
                              &n));
  CHECK_MEM(out, n, "\x6F\x04\x00\x00\x00\x00\x04\x00\x00\x00\x00\xA4\x04\x00", 14);
  /* wLevelParameter is little-endian in bytes 8 and 9. */
  CHECK_OK(ccid_cmd_xfr_block(1, 5, 7, 0x0102, NULL, 0, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x6F\x00\x00\x00\x00\x01\x05\x07\x02\x01", 10);
  CHECK_OK(
      ccid_cmd_xfr_block(0, 6, 0, CCID_CHAIN_EMPTY_MORE, NULL, 0, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x6F\x00\x00\x00\x00\x00\x06\x00\x10\x00", 10);

  /* Built in place: the data already sits after the header. */
  memcpy(out + 10, "\x00\x0E\x00\x00", 4);
  CHECK_OK(ccid_cmd_xfr_block(0, 7, 0, 0, out + 10, 4, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x6F\x04\x00\x00\x00\x00\x07\x00\x00\x00\x00\x0E\x00\x00", 14);

  /* Exactly full, one byte short, no room for the header. */
  CHECK_OK(ccid_cmd_xfr_block(0, 8, 0, 0, (const uint8_t *)"abcd", 4, out, 14, &n));
  CHECK_INT(n, 14);
  CHECK_ERR(ccid_cmd_xfr_block(0, 8, 0, 0, (const uint8_t *)"abcd", 4, out, 13, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
  CHECK_ERR(ccid_cmd_get_slot_status(0, 0, out, 9, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_ERR(ccid_cmd_xfr_block(0, 8, 0, 0, NULL, 1, out, sizeof out, &n),
            GPG_ERR_INV_VALUE);
}

static void
test_set_parameters(void)
{
  struct ccid_params p;
  uint8_t out[32];
  size_t n;

  /* GnuPG's default T=1 parameters. */
  memset(&p, 0, sizeof p);
  p.protocol = CCID_PROTOCOL_T1;
  p.t1 = (struct ccid_params_t1){ 0x11, 0x10, 0x00, 0x4D, 0x00, 0x20, 0x00 };
  CHECK_OK(ccid_cmd_set_parameters(0, 6, &p, out, sizeof out, &n));
  CHECK_MEM(out, n,
            "\x61\x07\x00\x00\x00\x00\x06\x01\x00\x00"
            "\x11\x10\x00\x4D\x00\x20\x00",
            17);
  CHECK_OK(ccid_params_encode(&p, out, 7, &n));
  CHECK_MEM(out, n, "\x11\x10\x00\x4D\x00\x20\x00", 7);
  CHECK_ERR(ccid_params_encode(&p, out, 6, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);

  p.t1.tcckst = 0x13; /* CRC, inverse convention */
  CHECK_OK(ccid_params_encode(&p, out, sizeof out, &n));
  p.t1.tcckst = 0x00;
  CHECK_ERR(ccid_cmd_set_parameters(0, 6, &p, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  CHECK_INT(n, 0);
  p.t1.tcckst = 0x14;
  CHECK_ERR(ccid_params_encode(&p, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  p.t1.tcckst = 0x10;
  p.t1.ifsc = 0;
  CHECK_ERR(ccid_params_encode(&p, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  p.t1.ifsc = 0xFF;
  CHECK_ERR(ccid_params_encode(&p, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  p.t1.ifsc = 0xFE;
  p.t1.clock_stop = 4;
  CHECK_ERR(ccid_params_encode(&p, out, sizeof out, &n), GPG_ERR_INV_VALUE);

  memset(&p, 0, sizeof p);
  p.protocol = CCID_PROTOCOL_T0;
  p.t0 = (struct ccid_params_t0){ 0x11, 0x02, 0x00, 0x0A, 0x03 };
  CHECK_OK(ccid_cmd_set_parameters(0, 7, &p, out, sizeof out, &n));
  CHECK_MEM(out, n,
            "\x61\x05\x00\x00\x00\x00\x07\x00\x00\x00"
            "\x11\x02\x00\x0A\x03",
            15);
  p.t0.tcckst = 0x01;
  CHECK_ERR(ccid_params_encode(&p, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  p.t0.tcckst = 0x00;
  p.t0.clock_stop = 4;
  CHECK_ERR(ccid_params_encode(&p, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  p.protocol = 2;
  CHECK_ERR(ccid_cmd_set_parameters(0, 7, &p, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  /* The header must fit too. */
  p.protocol = CCID_PROTOCOL_T0;
  p.t0.clock_stop = 0;
  CHECK_ERR(ccid_cmd_set_parameters(0, 7, &p, out, 14, &n), GPG_ERR_BUFFER_TOO_SHORT);
}

static void
test_other_commands(void)
{
  uint8_t out[32];
  size_t n;

  /* GnuPG's escape for the Vega Alpha pinpad. */
  CHECK_OK(ccid_cmd_escape(0, 8, (const uint8_t *)"\xB5\x01\x00\x03\x00", 5, out,
                           sizeof out, &n));
  CHECK_MEM(out, n, "\x6B\x05\x00\x00\x00\x00\x08\x00\x00\x00\xB5\x01\x00\x03\x00", 15);

  CHECK_OK(ccid_cmd_icc_clock(0, 9, CCID_CLOCK_STOP, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x6E\x00\x00\x00\x00\x00\x09\x01\x00\x00", 10);
  CHECK_OK(ccid_cmd_icc_clock(0, 9, CCID_CLOCK_RESTART, out, sizeof out, &n));
  CHECK_INT(out[7], 0);
  CHECK_ERR(ccid_cmd_icc_clock(0, 9, (enum ccid_clock_command)2, out, sizeof out, &n),
            GPG_ERR_INV_VALUE);

  CHECK_OK(ccid_cmd_t0_apdu(0, 10, 0x03, 0x00, 0x80, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x6A\x00\x00\x00\x00\x00\x0A\x03\x00\x80", 10);
  CHECK_ERR(ccid_cmd_t0_apdu(0, 10, 0x04, 0, 0, out, sizeof out, &n), GPG_ERR_INV_VALUE);

  CHECK_OK(ccid_cmd_mechanical(0, 12, CCID_MECHANICAL_EJECT, out, sizeof out, &n));
  CHECK_MEM(out, n, "\x71\x00\x00\x00\x00\x00\x0C\x02\x00\x00", 10);
  CHECK_OK(ccid_cmd_mechanical(0, 12, CCID_MECHANICAL_UNLOCK, out, sizeof out, &n));
  CHECK_INT(out[7], 5);
  CHECK_ERR(ccid_cmd_mechanical(0, 12, (enum ccid_mechanical)0, out, sizeof out, &n),
            GPG_ERR_INV_VALUE);
  CHECK_ERR(ccid_cmd_mechanical(0, 12, (enum ccid_mechanical)6, out, sizeof out, &n),
            GPG_ERR_INV_VALUE);

  /* 4000 kHz = 0x0FA0, 10752 bps = 0x2A00. */
  CHECK_OK(ccid_cmd_set_data_rate_and_clock(0, 14, 4000, 10752, out, sizeof out, &n));
  CHECK_MEM(out, n,
            "\x73\x08\x00\x00\x00\x00\x0E\x00\x00\x00"
            "\xA0\x0F\x00\x00\x00\x2A\x00\x00",
            18);
  CHECK_ERR(ccid_cmd_set_data_rate_and_clock(0, 14, 1, 1, out, 17, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
}

/* A PIN verify structure as GnuPG fills it for VERIFY on a pinpad. */
static struct ccid_pin_verify
gnupg_verify(void)
{
  struct ccid_pin_verify pv;

  memset(&pv, 0, sizeof pv);
  pv.format_string = 0x82; /* bytes, position 0, left, ASCII */
  pv.min_digits = 6;
  pv.max_digits = 8;
  pv.entry_validation = CCID_PIN_VALID_KEY;
  pv.number_message = 1;
  pv.lang_id = 0x0409;
  return pv;
}

static void
test_pin_verify(void)
{
  struct ccid_pin_verify pv = gnupg_verify();
  uint8_t data[64], out[80];
  size_t n, m;

  CHECK_OK(ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data,
                                  sizeof data, &n));
  CHECK_MEM(data, n,
            "\x00\x00\x82\x00\x00\x08\x06\x02\x01\x09\x04\x00\x00\x00\x00"
            "\x00\x20\x00\x81",
            19);
  CHECK_OK(ccid_cmd_secure(0, 11, 0, 0, data, n, out, sizeof out, &m));
  CHECK_MEM(out, m,
            "\x69\x13\x00\x00\x00\x00\x0B\x00\x00\x00"
            "\x00\x00\x82\x00\x00\x08\x06\x02\x01\x09\x04\x00\x00\x00\x00"
            "\x00\x20\x00\x81",
            29);
  CHECK_ERR(ccid_cmd_secure(0, 11, 0, 0, NULL, 3, out, sizeof out, &m),
            GPG_ERR_INV_VALUE);

  pv.timeout = 30;
  pv.msg_index = 0;
  pv.teo_prologue[0] = 0x00;
  pv.teo_prologue[1] = 0x40;
  pv.teo_prologue[2] = 0x00;
  CHECK_OK(
      ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data, 19, &n));
  CHECK_MEM(data, 15, "\x00\x1E\x82\x00\x00\x08\x06\x02\x01\x09\x04\x00\x00\x40\x00", 15);
  CHECK_ERR(
      ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data, 18, &n),
      GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);

  pv = gnupg_verify();
  pv.min_digits = 9;
  CHECK_ERR(ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data,
                                   sizeof data, &n),
            GPG_ERR_INV_VALUE);
  pv = gnupg_verify();
  pv.entry_validation = 0;
  CHECK_ERR(ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data,
                                   sizeof data, &n),
            GPG_ERR_INV_VALUE);
  pv.entry_validation = 0x08;
  CHECK_ERR(ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data,
                                   sizeof data, &n),
            GPG_ERR_INV_VALUE);
  pv = gnupg_verify();
  pv.number_message = 2;
  CHECK_ERR(ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data,
                                   sizeof data, &n),
            GPG_ERR_INV_VALUE);
  pv.number_message = 0xFF;
  CHECK_OK(ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00\x81", 4, data,
                                  sizeof data, &n));
  CHECK_ERR(ccid_pin_verify_encode(&pv, (const uint8_t *)"\x00\x20\x00", 3, data,
                                   sizeof data, &n),
            GPG_ERR_INV_VALUE);
  CHECK_ERR(ccid_pin_verify_encode(&pv, NULL, 4, data, sizeof data, &n),
            GPG_ERR_INV_VALUE);
}

static struct ccid_pin_modify
gnupg_modify(void)
{
  struct ccid_pin_modify pm;

  memset(&pm, 0, sizeof pm);
  pm.format_string = 0x82;
  pm.insertion_offset_old = 0;
  pm.insertion_offset_new = 8;
  pm.min_digits = 6;
  pm.max_digits = 8;
  pm.confirm_pin = 0x03;
  pm.entry_validation = CCID_PIN_VALID_KEY;
  pm.number_message = 3;
  pm.lang_id = 0x0409;
  pm.msg_index[0] = 0;
  pm.msg_index[1] = 1;
  pm.msg_index[2] = 2;
  return pm;
}

static void
test_pin_modify(void)
{
  static const uint8_t apdu[] = { 0x00, 0x24, 0x00, 0x81 };
  struct ccid_pin_modify pm = gnupg_modify();
  uint8_t data[64];
  size_t n;

  CHECK_OK(ccid_pin_modify_encode(&pm, apdu, 4, data, sizeof data, &n));
  CHECK_MEM(data, n,
            "\x01\x00\x82\x00\x00\x00\x08\x08\x06\x03\x02\x03\x09\x04"
            "\x00\x01\x02\x00\x00\x00\x00\x24\x00\x81",
            24);
  CHECK_ERR(ccid_pin_modify_encode(&pm, apdu, 4, data, 23, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);

  /* No message: only bMsgIndex1. */
  pm.number_message = 0;
  CHECK_OK(ccid_pin_modify_encode(&pm, apdu, 4, data, sizeof data, &n));
  CHECK_MEM(data, n,
            "\x01\x00\x82\x00\x00\x00\x08\x08\x06\x03\x02\x00\x09\x04"
            "\x00\x00\x00\x00\x00\x24\x00\x81",
            22);
  /* One or two messages, or the default ones: bMsgIndex1 and 2. */
  pm.number_message = 1;
  CHECK_OK(ccid_pin_modify_encode(&pm, apdu, 4, data, sizeof data, &n));
  CHECK_MEM(data, n,
            "\x01\x00\x82\x00\x00\x00\x08\x08\x06\x03\x02\x01\x09\x04"
            "\x00\x01\x00\x00\x00\x00\x24\x00\x81",
            23);
  pm.number_message = 0xFF;
  CHECK_OK(ccid_pin_modify_encode(&pm, apdu, 4, data, sizeof data, &n));
  CHECK_INT(n, 23);

  pm.number_message = 4;
  CHECK_ERR(ccid_pin_modify_encode(&pm, apdu, 4, data, sizeof data, &n),
            GPG_ERR_INV_VALUE);
  pm = gnupg_modify();
  pm.confirm_pin = 4;
  CHECK_ERR(ccid_pin_modify_encode(&pm, apdu, 4, data, sizeof data, &n),
            GPG_ERR_INV_VALUE);
  pm = gnupg_modify();
  pm.max_digits = 5;
  CHECK_ERR(ccid_pin_modify_encode(&pm, apdu, 4, data, sizeof data, &n),
            GPG_ERR_INV_VALUE);
  pm = gnupg_modify();
  CHECK_ERR(ccid_pin_modify_encode(&pm, apdu, 2, data, sizeof data, &n),
            GPG_ERR_INV_VALUE);
}

static void
test_decode_data_block(void)
{
  static const uint8_t msg[] = { 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01,
                                 0x00, 0x00, 0x00, 0x3B, 0x02, 0x14, 0x50 };
  struct ccid_reply r;

  CHECK_OK(ccid_reply_decode(msg, sizeof msg, 261, &r));
  CHECK_INT(r.type, CCID_RDR_TO_PC_DATA_BLOCK);
  CHECK_INT(r.slot, 0);
  CHECK_INT(r.seq, 1);
  CHECK_INT(r.icc_status, CCID_ICC_ACTIVE);
  CHECK_INT(r.cmd_status, CCID_CMD_OK);
  CHECK_INT(r.specific, CCID_CHAIN_BEGIN_END);
  CHECK(r.data == msg + 10);
  CHECK_MEM(r.data, r.datalen, "\x3B\x02\x14\x50", 4);
  CHECK_OK(ccid_reply_status_error(&r));
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_ICC_POWER_ON, 0, 1, &r));
  /* dwLength exactly at the maximum is fine. */
  CHECK_OK(ccid_reply_decode(msg, sizeof msg, 4, &r));
}

static void
test_decode_errors(void)
{
  uint8_t msg[] = { 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01,
                    0x00, 0x00, 0x00, 0x3B, 0x02, 0x14, 0x50 };
  struct ccid_reply r;

  CHECK_ERR(ccid_reply_decode(msg, 9, NOMAX, &r), GPG_ERR_TOO_SHORT);
  CHECK_ERR(ccid_reply_decode(msg, 0, NOMAX, &r), GPG_ERR_TOO_SHORT);
  /* The transfer lost a byte: dwLength says more than there is. */
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg - 1, NOMAX, &r), GPG_ERR_TOO_SHORT);
  CHECK_INT(r.type, 0);
  CHECK(r.data == NULL);
  /* dwLength lying up and down. */
  msg[1] = 5;
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, NOMAX, &r), GPG_ERR_TOO_SHORT);
  msg[1] = 3;
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, NOMAX, &r), GPG_ERR_INV_LENGTH);
  msg[1] = 4;
  msg[4] = 0x01; /* 16 MiB + 4 */
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, NOMAX, &r), GPG_ERR_TOO_SHORT);
  msg[1] = msg[2] = msg[3] = msg[4] = 0xFF;
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, 271 - 10, &r), GPG_ERR_TOO_LARGE);
  msg[1] = 4;
  msg[2] = msg[3] = msg[4] = 0;
  /* Above the reader's maximum, even though the bytes are there. */
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, 3, &r), GPG_ERR_TOO_LARGE);
  CHECK_INT(r.datalen, 0);
  /* Not a bulk-IN reply. */
  msg[0] = CCID_PC_TO_RDR_XFR_BLOCK;
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, NOMAX, &r), GPG_ERR_INV_RESPONSE);
  msg[0] = CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE;
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, NOMAX, &r), GPG_ERR_INV_RESPONSE);
  msg[0] = 0x85;
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, NOMAX, &r), GPG_ERR_INV_RESPONSE);
  msg[0] = 0x00;
  CHECK_ERR(ccid_reply_decode(msg, sizeof msg, NOMAX, &r), GPG_ERR_INV_RESPONSE);
}

static void
test_decode_slot_status(void)
{
  struct ccid_reply r;

  /* No card: bmICCStatus 2, command failed, ICC_MUTE. */
  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x81\x00\x00\x00\x00\x00\x02\x42\xFE\x00",
                             10, 0, &r));
  CHECK_INT(r.icc_status, CCID_ICC_ABSENT);
  CHECK_INT(r.cmd_status, CCID_CMD_FAILED);
  CHECK_INT(r.error, 0xFE);
  CHECK_INT(r.datalen, 0);
  CHECK_ERR(ccid_reply_status_error(&r), GPG_ERR_CARD_NOT_PRESENT);
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_GET_SLOT_STATUS, 0, 2, &r));

  /* Card present, clock stopped high. */
  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x81\x00\x00\x00\x00\x01\x03\x01\x00\x02",
                             10, 0, &r));
  CHECK_INT(r.slot, 1);
  CHECK_INT(r.icc_status, CCID_ICC_INACTIVE);
  CHECK_INT(r.cmd_status, CCID_CMD_OK);
  CHECK_INT(r.specific, CCID_CLOCK_STOPPED_H);
  CHECK_OK(ccid_reply_status_error(&r));

  /* A slot status carries no data. */
  CHECK_ERR(
      ccid_reply_decode((const uint8_t *)"\x81\x01\x00\x00\x00\x00\x02\x00\x00\x00\x99",
                        11, NOMAX, &r),
      GPG_ERR_INV_LENGTH);
}

static void
test_decode_parameters(void)
{
  struct ccid_reply r;

  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x82\x07\x00\x00\x00\x00\x06\x00\x00\x01"
                                              "\x11\x10\x00\x4D\x00\x20\x00",
                             17, 261, &r));
  CHECK(r.has_params);
  CHECK_INT(r.params.protocol, CCID_PROTOCOL_T1);
  CHECK_INT(r.params.t1.findex_dindex, 0x11);
  CHECK_INT(r.params.t1.tcckst, 0x10);
  CHECK_INT(r.params.t1.guard_time, 0x00);
  CHECK_INT(r.params.t1.waiting_integers, 0x4D);
  CHECK_INT(r.params.t1.clock_stop, 0);
  CHECK_INT(r.params.t1.ifsc, 0x20);
  CHECK_INT(r.params.t1.nad, 0);
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_SET_PARAMETERS, 0, 6, &r));

  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x82\x05\x00\x00\x00\x00\x07\x00\x00\x00"
                                              "\x96\x02\x01\x0A\x03",
                             15, 261, &r));
  CHECK(r.has_params);
  CHECK_INT(r.params.protocol, CCID_PROTOCOL_T0);
  CHECK_INT(r.params.t0.findex_dindex, 0x96);
  CHECK_INT(r.params.t0.tcckst, 0x02);
  CHECK_INT(r.params.t0.guard_time, 0x01);
  CHECK_INT(r.params.t0.waiting_integer, 0x0A);
  CHECK_INT(r.params.t0.clock_stop, 0x03);

  /* T=1 data of T=0 size, and the other way round. */
  CHECK_ERR(ccid_reply_decode((const uint8_t *)"\x82\x05\x00\x00\x00\x00\x07\x00\x00\x01"
                                               "\x96\x02\x01\x0A\x03",
                              15, 261, &r),
            GPG_ERR_INV_LENGTH);
  CHECK_INT(r.has_params, 0);
  CHECK_ERR(ccid_reply_decode((const uint8_t *)"\x82\x07\x00\x00\x00\x00\x06\x00\x00\x00"
                                               "\x11\x10\x00\x4D\x00\x20\x00",
                              17, 261, &r),
            GPG_ERR_INV_LENGTH);
  /* 2-wire protocol: not ours. */
  CHECK_ERR(ccid_reply_decode((const uint8_t *)"\x82\x05\x00\x00\x00\x00\x07\x00\x00\x80"
                                               "\x96\x02\x01\x0A\x03",
                              15, 261, &r),
            GPG_ERR_UNSUPPORTED_PROTOCOL);
  /* A failed SetParameters may come back without data... */
  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x82\x00\x00\x00\x00\x00\x08\x40\x0A\x01",
                             10, 261, &r));
  CHECK_INT(r.has_params, 0);
  CHECK_INT(r.params.protocol, 1);
  CHECK_ERR(ccid_reply_status_error(&r), GPG_ERR_INV_VALUE);
  /* ...a successful one may not. */
  CHECK_ERR(ccid_reply_decode((const uint8_t *)"\x82\x00\x00\x00\x00\x00\x08\x00\x00\x01",
                              10, 261, &r),
            GPG_ERR_INV_LENGTH);
}

static void
test_decode_escape_and_rate(void)
{
  struct ccid_reply r;

  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x83\x02\x00\x00\x00\x00\x09\x00\x00\x00"
                                              "\x90\x00",
                             12, 261, &r));
  CHECK_INT(r.type, CCID_RDR_TO_PC_ESCAPE);
  CHECK_MEM(r.data, r.datalen, "\x90\x00", 2);
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_ESCAPE, 0, 9, &r));

  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x84\x08\x00\x00\x00\x00\x0A\x00\x00\x00"
                                              "\xA0\x0F\x00\x00\x00\x2A\x00\x00",
                             18, 261, &r));
  CHECK(r.has_rate);
  CHECK_INT(r.clock_khz, 4000);
  CHECK_INT(r.data_rate_bps, 10752);
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK, 0, 10, &r));
  CHECK_ERR(ccid_reply_decode((const uint8_t *)"\x84\x04\x00\x00\x00\x00\x0A\x00\x00\x00"
                                               "\xA0\x0F\x00\x00",
                              14, 261, &r),
            GPG_ERR_INV_LENGTH);
  CHECK_OK(ccid_reply_decode((const uint8_t *)"\x84\x00\x00\x00\x00\x00\x0A\x40\x00\x00",
                             10, 261, &r));
  CHECK_INT(r.has_rate, 0);
  CHECK_ERR(ccid_reply_status_error(&r), GPG_ERR_NOT_SUPPORTED);
  CHECK_ERR(ccid_reply_decode((const uint8_t *)"\x84\x00\x00\x00\x00\x00\x0A\x00\x00\x00",
                              10, 261, &r),
            GPG_ERR_INV_LENGTH);
}

/* A reply of TYPE for slot 0, seq 7 with bStatus STATUS, decoded. */
static struct ccid_reply
reply_of(uint8_t type, uint8_t status, uint8_t error)
{
  uint8_t msg[10] = { type, 0, 0, 0, 0, 0, 7, status, error, 0 };
  struct ccid_reply r;

  if (ccid_reply_decode(msg, sizeof msg, 0, &r))
    memset(&r, 0, sizeof r);
  r.data = NULL;
  return r;
}

static void
test_expected_reply(void)
{
  static const uint8_t pairs[][2] = {
    { 0x62, 0x80 }, { 0x63, 0x81 }, { 0x65, 0x81 }, { 0x6F, 0x80 }, { 0x6C, 0x82 },
    { 0x6D, 0x82 }, { 0x61, 0x82 }, { 0x6B, 0x83 }, { 0x6E, 0x81 }, { 0x6A, 0x81 },
    { 0x69, 0x80 }, { 0x71, 0x81 }, { 0x72, 0x81 }, { 0x73, 0x84 },
  };
  size_t i;

  for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
    CHECK_INT(ccid_expected_reply(pairs[i][0]), pairs[i][1]);
  CHECK_INT(ccid_expected_reply(0x80), 0);
  CHECK_INT(ccid_expected_reply(0x50), 0);
  CHECK_INT(ccid_expected_reply(0x64), 0);
}

static void
test_match(void)
{
  struct ccid_reply r = reply_of(CCID_RDR_TO_PC_DATA_BLOCK, 0x00, 0);

  CHECK_INT(r.type, CCID_RDR_TO_PC_DATA_BLOCK);
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_XFR_BLOCK, 0, 7, &r));
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_SECURE, 0, 7, &r));
  CHECK_ERR(ccid_reply_match(CCID_PC_TO_RDR_XFR_BLOCK, 0, 6, &r), GPG_ERR_UNEXPECTED_MSG);
  CHECK_ERR(ccid_reply_match(CCID_PC_TO_RDR_XFR_BLOCK, 1, 7, &r), GPG_ERR_INV_RESPONSE);
  CHECK_ERR(ccid_reply_match(CCID_PC_TO_RDR_ESCAPE, 0, 7, &r), GPG_ERR_INV_RESPONSE);
  CHECK_ERR(ccid_reply_match(CCID_PC_TO_RDR_GET_SLOT_STATUS, 0, 7, &r),
            GPG_ERR_INV_RESPONSE);
  CHECK_ERR(ccid_reply_match(CCID_RDR_TO_PC_DATA_BLOCK, 0, 7, &r), GPG_ERR_INV_VALUE);
  CHECK_ERR(ccid_reply_match(0x00, 0, 7, &r), GPG_ERR_INV_VALUE);

  /* A time extension of another type still belongs to the command. */
  r = reply_of(CCID_RDR_TO_PC_SLOT_STATUS, 0x80, 2);
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_SECURE, 0, 7, &r));
  CHECK_ERR(ccid_reply_status_error(&r), GPG_ERR_EAGAIN);
  /* A failed SlotStatus answers anything; a successful one does not. */
  r = reply_of(CCID_RDR_TO_PC_SLOT_STATUS, 0x40, 0x00);
  CHECK_OK(ccid_reply_match(CCID_PC_TO_RDR_XFR_BLOCK, 0, 7, &r));
  CHECK_ERR(ccid_reply_status_error(&r), GPG_ERR_NOT_SUPPORTED);
  r = reply_of(CCID_RDR_TO_PC_SLOT_STATUS, 0x00, 0x00);
  CHECK_ERR(ccid_reply_match(CCID_PC_TO_RDR_XFR_BLOCK, 0, 7, &r), GPG_ERR_INV_RESPONSE);
  CHECK_ERR(ccid_reply_match(CCID_PC_TO_RDR_XFR_BLOCK, 0, 8, &r), GPG_ERR_UNEXPECTED_MSG);
}

static void
test_status_error(void)
{
  static const struct
  {
    uint8_t status, error;
    gpg_err_code_t want;
  } cases[] = {
    { 0x00, 0x00, GPG_ERR_NO_ERROR },
    { 0x01, 0x00, GPG_ERR_NO_ERROR }, /* inactive, command fine */
    { 0x02, 0x00, GPG_ERR_NO_ERROR }, /* no card, command fine */
    { 0x80, 0x00, GPG_ERR_EAGAIN },   /* time extension */
    { 0x82, 0x05, GPG_ERR_EAGAIN },
    { 0x42, 0xFE, GPG_ERR_CARD_NOT_PRESENT },
    { 0x42, 0xFB, GPG_ERR_CARD_NOT_PRESENT },
    { 0x40, 0xFE, GPG_ERR_TIMEOUT }, /* mute, not absent */
    { 0x41, 0xFE, GPG_ERR_TIMEOUT },
    { 0x40, 0xFF, GPG_ERR_CANCELED },
    { 0x40, 0xFD, GPG_ERR_EIO },
    { 0x40, 0xFC, GPG_ERR_EIO },
    { 0x40, 0xFB, GPG_ERR_HARDWARE },
    { 0x41, 0xF8, GPG_ERR_INV_CARD },
    { 0x41, 0xF7, GPG_ERR_CHECKSUM },
    { 0x41, 0xF6, GPG_ERR_UNSUPPORTED_PROTOCOL },
    { 0x41, 0xF5, GPG_ERR_NOT_SUPPORTED },
    { 0x40, 0xF4, GPG_ERR_PROTOCOL_VIOLATION },
    { 0x40, 0xF3, GPG_ERR_INV_STATE },
    { 0x40, 0xF2, GPG_ERR_EBUSY },
    { 0x40, 0xF0, GPG_ERR_TIMEOUT },
    { 0x40, 0xEF, GPG_ERR_CANCELED },
    { 0x40, 0xE0, GPG_ERR_EBUSY },
    { 0x40, 0x00, GPG_ERR_NOT_SUPPORTED },
    { 0x40, 0x07, GPG_ERR_INV_VALUE },
    { 0x40, 0x7F, GPG_ERR_INV_VALUE },
    { 0x40, 0x81, GPG_ERR_CARD },
    { 0x40, 0xC0, GPG_ERR_CARD },
    { 0x40, 0x80, GPG_ERR_CARD }, /* RFU codes */
    { 0x40, 0xE5, GPG_ERR_CARD },
    { 0x40, 0xF1, GPG_ERR_CARD },
    { 0xC0, 0x00, GPG_ERR_INV_RESPONSE }, /* bmCommandStatus 3 */
    { 0x03, 0x00, GPG_ERR_INV_RESPONSE }, /* bmICCStatus 3 */
    { 0x43, 0xFE, GPG_ERR_INV_RESPONSE },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct ccid_reply r
          = reply_of(CCID_RDR_TO_PC_DATA_BLOCK, cases[i].status, cases[i].error);

      CHECK_INT(r.status, cases[i].status);
      CHECK_ERR(ccid_reply_status_error(&r), cases[i].want);
      if (gpg_err_code(ccid_reply_status_error(&r)) != cases[i].want)
        printf("#   case %zu: bStatus %02X bError %02X\n", i, cases[i].status,
               cases[i].error);
    }
}

static void
test_error_table(void)
{
  static const struct
  {
    uint8_t code;
    const char *name;
  } names[] = {
    { 0xFF, "CMD_ABORTED" },
    { 0xFE, "ICC_MUTE" },
    { 0xFD, "XFR_PARITY_ERROR" },
    { 0xFC, "XFR_OVERRUN" },
    { 0xFB, "HW_ERROR" },
    { 0xF8, "BAD_ATR_TS" },
    { 0xF7, "BAD_ATR_TCK" },
    { 0xF6, "ICC_PROTOCOL_NOT_SUPPORTED" },
    { 0xF5, "ICC_CLASS_NOT_SUPPORTED" },
    { 0xF4, "PROCEDURE_BYTE_CONFLICT" },
    { 0xF3, "DEACTIVATED_PROTOCOL" },
    { 0xF2, "BUSY_WITH_AUTO_SEQUENCE" },
    { 0xF0, "PIN_TIMEOUT" },
    { 0xEF, "PIN_CANCELLED" },
    { 0xE0, "CMD_SLOT_BUSY" },
    { 0x00, "CMD_NOT_SUPPORTED" },
    { 0x01, "BAD_PARAMETER" },
    { 0x7F, "BAD_PARAMETER" },
    { 0x81, "USER_DEFINED" },
    { 0xC0, "USER_DEFINED" },
    { 0x80, "RFU" },
    { 0xC1, "RFU" },
    { 0xDF, "RFU" },
    { 0xE1, "RFU" },
    { 0xEE, "RFU" },
    { 0xF1, "RFU" },
    { 0xF9, "RFU" },
    { 0xFA, "RFU" },
  };
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    CHECK_STR(ccid_error_info(names[i].code)->name, names[i].name);
  CHECK_STR(ccid_error_info(0xFE)->desc, "no answer from the card");
  CHECK_INT(ccid_error_info(0xFE)->code, GPG_ERR_TIMEOUT);
}

static void
test_field_names(void)
{
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_ICC_POWER_ON, 7), "bPowerSelect");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_XFR_BLOCK, 7), "bBWI");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_XFR_BLOCK, 8), "wLevelParameter");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_XFR_BLOCK, 1), "dwLength");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_ABORT, 5), "bSlot");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_ABORT, 6), "bSeq");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_SET_PARAMETERS, 7), "bProtocolNum");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_SET_PARAMETERS, 15), "bIFSC");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_T0_APDU, 9), "bClassEnvelope");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_SECURE, 10), "bPINOperation");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_MECHANICAL, 7), "bFunction");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_ICC_CLOCK, 7), "bClockCommand");
  CHECK_STR(ccid_field_name(CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK, 14), "dwDataRate");
  CHECK(ccid_field_name(CCID_PC_TO_RDR_ICC_POWER_OFF, 7) == NULL);
  CHECK(ccid_field_name(CCID_PC_TO_RDR_XFR_BLOCK, 0) == NULL);
  CHECK(ccid_field_name(CCID_PC_TO_RDR_XFR_BLOCK, 2) == NULL);
}

static void
test_describe(void)
{
  char buf[128];

  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0xFE, buf, sizeof buf));
  CHECK_STR(buf, "ICC_MUTE (0xFE): no answer from the card");
  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_ICC_POWER_ON, 0x07, buf, sizeof buf));
  CHECK_STR(buf, "reader rejected bPowerSelect (offset 7) of PC_to_RDR_IccPowerOn");
  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_SECURE, 0x0B, buf, sizeof buf));
  CHECK_STR(buf, "reader rejected bTimeOut (offset 11) of PC_to_RDR_Secure");
  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0x14, buf, sizeof buf));
  CHECK_STR(buf, "reader rejected abData[10] (offset 20) of PC_to_RDR_XfrBlock");
  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0x02, buf, sizeof buf));
  CHECK_STR(buf, "reader rejected offset 2 of PC_to_RDR_XfrBlock");
  CHECK_OK(ccid_error_describe(0, 0x05, buf, sizeof buf));
  CHECK_STR(buf, "reader rejected bSlot (offset 5) of the command");
  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0x00, buf, sizeof buf));
  CHECK_STR(buf, "CMD_NOT_SUPPORTED (0x00): command not supported by the reader");
  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0x90, buf, sizeof buf));
  CHECK_STR(buf, "USER_DEFINED (0x90): vendor-specific reader error");
  CHECK_OK(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0xFA, buf, sizeof buf));
  CHECK_STR(buf, "RFU (0xFA): reserved error code");

  CHECK_ERR(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0xFE, buf, 9),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_STR(buf, "ICC_MUTE");
  CHECK_ERR(ccid_error_describe(CCID_PC_TO_RDR_XFR_BLOCK, 0xFE, NULL, 0),
            GPG_ERR_BUFFER_TOO_SHORT);
}

static void
test_type_names(void)
{
  static const struct
  {
    uint8_t type;
    const char *name;
  } names[] = {
    { 0x62, "PC_to_RDR_IccPowerOn" },
    { 0x63, "PC_to_RDR_IccPowerOff" },
    { 0x65, "PC_to_RDR_GetSlotStatus" },
    { 0x6F, "PC_to_RDR_XfrBlock" },
    { 0x6C, "PC_to_RDR_GetParameters" },
    { 0x6D, "PC_to_RDR_ResetParameters" },
    { 0x61, "PC_to_RDR_SetParameters" },
    { 0x6B, "PC_to_RDR_Escape" },
    { 0x6E, "PC_to_RDR_IccClock" },
    { 0x6A, "PC_to_RDR_T0APDU" },
    { 0x69, "PC_to_RDR_Secure" },
    { 0x71, "PC_to_RDR_Mechanical" },
    { 0x72, "PC_to_RDR_Abort" },
    { 0x73, "PC_to_RDR_SetDataRateAndClockFrequency" },
    { 0x80, "RDR_to_PC_DataBlock" },
    { 0x81, "RDR_to_PC_SlotStatus" },
    { 0x82, "RDR_to_PC_Parameters" },
    { 0x83, "RDR_to_PC_Escape" },
    { 0x84, "RDR_to_PC_DataRateAndClockFrequency" },
    { 0x50, "RDR_to_PC_NotifySlotChange" },
    { 0x51, "RDR_to_PC_HardwareError" },
  };
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    CHECK_STR(ccid_msg_type_name(names[i].type), names[i].name);
  CHECK(ccid_msg_type_name(0x64) == NULL);
  CHECK(ccid_msg_type_name(0x00) == NULL);
}

static void
test_reply_encode(void)
{
  static const uint8_t msg[]
      = { 0x80, 0x02, 0x00, 0x00, 0x00, 0x01, 0x09, 0x40, 0xFE, 0x03, 0x90, 0x00 };
  struct ccid_reply r;
  uint8_t out[16];
  size_t n;

  CHECK_OK(ccid_reply_decode(msg, sizeof msg, NOMAX, &r));
  CHECK_OK(ccid_reply_encode(&r, out, sizeof out, &n));
  CHECK_MEM(out, n, msg, sizeof msg);
  CHECK_ERR(ccid_reply_encode(&r, out, 11, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
  r.type = CCID_PC_TO_RDR_XFR_BLOCK;
  CHECK_ERR(ccid_reply_encode(&r, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  r.type = CCID_RDR_TO_PC_HARDWARE_ERROR;
  CHECK_ERR(ccid_reply_encode(&r, out, sizeof out, &n), GPG_ERR_INV_VALUE);
}

static void
test_notify_slot_change(void)
{
  struct ccid_intr in;
  size_t used;

  /* One slot: card present and changed (a card was just inserted). */
  CHECK_OK(ccid_intr_decode((const uint8_t *)"\x50\x03", 2, 1, &in, &used));
  CHECK_INT(used, 2);
  CHECK_INT(in.type, CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE);
  CHECK_INT(in.nslots, 1);
  CHECK_INT(in.slot_bits_len, 1);
  CHECK_INT(ccid_intr_slot_present(&in, 0), 1);
  CHECK_INT(ccid_intr_slot_changed(&in, 0), 1);
  CHECK_INT(ccid_intr_slot_present(&in, 1), 0);
  /* Removed. */
  CHECK_OK(ccid_intr_decode((const uint8_t *)"\x50\x02", 2, 1, &in, &used));
  CHECK_INT(ccid_intr_slot_present(&in, 0), 0);
  CHECK_INT(ccid_intr_slot_changed(&in, 0), 1);
  /* Bits of a slot that does not exist must be 0. */
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50\x04", 2, 1, &in, &used),
            GPG_ERR_INV_VALUE);
  CHECK_INT(used, 0);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50\x80", 2, 1, &in, &used),
            GPG_ERR_INV_VALUE);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50", 1, 1, &in, &used),
            GPG_ERR_TOO_SHORT);

  /* Two slots: 0 present unchanged, 1 present and changed: 1101b. */
  CHECK_OK(ccid_intr_decode((const uint8_t *)"\x50\x0D", 2, 2, &in, &used));
  CHECK_INT(ccid_intr_slot_present(&in, 0), 1);
  CHECK_INT(ccid_intr_slot_changed(&in, 0), 0);
  CHECK_INT(ccid_intr_slot_present(&in, 1), 1);
  CHECK_INT(ccid_intr_slot_changed(&in, 1), 1);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50\x1D", 2, 2, &in, &used),
            GPG_ERR_INV_VALUE);

  /* Four slots fill the byte: 11 00 01 10. */
  CHECK_OK(ccid_intr_decode((const uint8_t *)"\x50\xC6", 2, 4, &in, &used));
  CHECK_INT(used, 2);
  CHECK_INT(ccid_intr_slot_present(&in, 0), 0);
  CHECK_INT(ccid_intr_slot_changed(&in, 0), 1);
  CHECK_INT(ccid_intr_slot_present(&in, 1), 1);
  CHECK_INT(ccid_intr_slot_changed(&in, 1), 0);
  CHECK_INT(ccid_intr_slot_present(&in, 2), 0);
  CHECK_INT(ccid_intr_slot_changed(&in, 2), 0);
  CHECK_INT(ccid_intr_slot_present(&in, 3), 1);
  CHECK_INT(ccid_intr_slot_changed(&in, 3), 1);

  /* Five slots take two bytes. */
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50\x00", 2, 5, &in, &used),
            GPG_ERR_TOO_SHORT);
  CHECK_OK(ccid_intr_decode((const uint8_t *)"\x50\x00\x03", 3, 5, &in, &used));
  CHECK_INT(used, 3);
  CHECK_INT(in.slot_bits_len, 2);
  CHECK_INT(ccid_intr_slot_present(&in, 3), 0);
  CHECK_INT(ccid_intr_slot_present(&in, 4), 1);
  CHECK_INT(ccid_intr_slot_changed(&in, 4), 1);
  CHECK_INT(ccid_intr_slot_present(&in, 5), 0);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50\x00\x07", 3, 5, &in, &used),
            GPG_ERR_INV_VALUE);
}

static void
test_hardware_error(void)
{
  static const uint8_t two[] = { 0x50, 0x03, 0x51, 0x00, 0x05, 0x01 };
  struct ccid_intr in;
  size_t used;

  CHECK_OK(ccid_intr_decode((const uint8_t *)"\x51\x00\x05\x01", 4, 1, &in, &used));
  CHECK_INT(used, 4);
  CHECK_INT(in.type, CCID_RDR_TO_PC_HARDWARE_ERROR);
  CHECK_INT(in.slot, 0);
  CHECK_INT(in.seq, 5);
  CHECK_INT(in.hw_error, CCID_HW_ERROR_OVERCURRENT);
  CHECK_INT(ccid_intr_slot_present(&in, 0), 0);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x51\x00\x05", 3, 1, &in, &used),
            GPG_ERR_TOO_SHORT);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x51\x01\x05\x01", 4, 1, &in, &used),
            GPG_ERR_INV_VALUE);
  CHECK_OK(ccid_intr_decode((const uint8_t *)"\x51\x01\x05\x01", 4, 2, &in, &used));
  CHECK_INT(in.slot, 1);

  /* Two messages in one transfer, as GnuPG's driver walks them. */
  CHECK_OK(ccid_intr_decode(two, sizeof two, 1, &in, &used));
  CHECK_INT(used, 2);
  CHECK_OK(ccid_intr_decode(two + used, sizeof two - used, 1, &in, &used));
  CHECK_INT(used, 4);
  CHECK_INT(in.seq, 5);

  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x52\x00\x00\x00", 4, 1, &in, &used),
            GPG_ERR_INV_RESPONSE);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x80\x00\x00\x00", 4, 1, &in, &used),
            GPG_ERR_INV_RESPONSE);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"", 0, 1, &in, &used), GPG_ERR_TOO_SHORT);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50\x03", 2, 0, &in, &used),
            GPG_ERR_INV_VALUE);
  CHECK_ERR(ccid_intr_decode((const uint8_t *)"\x50\x03", 2, 257, &in, &used),
            GPG_ERR_INV_VALUE);
  CHECK_INT(in.type, 0);
}

int
main(void)
{
  RUN(test_power_and_status);
  RUN(test_xfr_block);
  RUN(test_set_parameters);
  RUN(test_other_commands);
  RUN(test_pin_verify);
  RUN(test_pin_modify);
  RUN(test_decode_data_block);
  RUN(test_decode_errors);
  RUN(test_decode_slot_status);
  RUN(test_decode_parameters);
  RUN(test_decode_escape_and_rate);
  RUN(test_expected_reply);
  RUN(test_match);
  RUN(test_status_error);
  RUN(test_error_table);
  RUN(test_field_names);
  RUN(test_describe);
  RUN(test_type_names);
  RUN(test_reply_encode);
  RUN(test_notify_slot_change);
  RUN(test_hardware_error);
  return check_done();
}
