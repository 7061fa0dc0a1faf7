/* ccid-msg.c - USB CCID bulk and interrupt messages (CCID 1.1) */
#include <stdio.h>
#include <string.h>

#include "ccid-msg.h"

/* Fixed sizes from CCID 1.1. */
#define PARAMS_T0_LEN 5
#define PARAMS_T1_LEN 7
#define RATE_LEN 8
#define HW_ERROR_LEN 4
#define PIN_VERIFY_FIXED_LEN 15
#define PIN_MODIFY_FIXED_LEN 15 /* without the optional bMsgIndex2/3 */
#define PIN_APDU_MIN_LEN 4      /* CLA INS P1 P2 */
#define MAX_SLOTS 256           /* bSlot is one byte */

/* Message directions in the type table. */
enum direction
{
  DIR_OUT,
  DIR_IN,
  DIR_INTR
};

/* Checks a bulk-IN reply's data beyond the header, by type. */
typedef gpg_error_t (*reply_check_fn)(struct ccid_reply *reply);

static gpg_error_t check_any(struct ccid_reply *reply);
static gpg_error_t check_empty(struct ccid_reply *reply);
static gpg_error_t check_parameters(struct ccid_reply *reply);
static gpg_error_t check_rate(struct ccid_reply *reply);

/* Every message type: its spec name, its direction, the reply a command
 * gets, and how a reply's data is checked. */
static const struct msg_row
{
  uint8_t type;
  enum direction dir;
  const char *name;
  uint8_t reply;
  reply_check_fn check;
} msg_table[] = {
  { CCID_PC_TO_RDR_SET_PARAMETERS, DIR_OUT, "PC_to_RDR_SetParameters",
    CCID_RDR_TO_PC_PARAMETERS, NULL },
  { CCID_PC_TO_RDR_ICC_POWER_ON, DIR_OUT, "PC_to_RDR_IccPowerOn",
    CCID_RDR_TO_PC_DATA_BLOCK, NULL },
  { CCID_PC_TO_RDR_ICC_POWER_OFF, DIR_OUT, "PC_to_RDR_IccPowerOff",
    CCID_RDR_TO_PC_SLOT_STATUS, NULL },
  { CCID_PC_TO_RDR_GET_SLOT_STATUS, DIR_OUT, "PC_to_RDR_GetSlotStatus",
    CCID_RDR_TO_PC_SLOT_STATUS, NULL },
  { CCID_PC_TO_RDR_SECURE, DIR_OUT, "PC_to_RDR_Secure", CCID_RDR_TO_PC_DATA_BLOCK, NULL },
  { CCID_PC_TO_RDR_T0_APDU, DIR_OUT, "PC_to_RDR_T0APDU", CCID_RDR_TO_PC_SLOT_STATUS,
    NULL },
  { CCID_PC_TO_RDR_ESCAPE, DIR_OUT, "PC_to_RDR_Escape", CCID_RDR_TO_PC_ESCAPE, NULL },
  { CCID_PC_TO_RDR_GET_PARAMETERS, DIR_OUT, "PC_to_RDR_GetParameters",
    CCID_RDR_TO_PC_PARAMETERS, NULL },
  { CCID_PC_TO_RDR_RESET_PARAMETERS, DIR_OUT, "PC_to_RDR_ResetParameters",
    CCID_RDR_TO_PC_PARAMETERS, NULL },
  { CCID_PC_TO_RDR_ICC_CLOCK, DIR_OUT, "PC_to_RDR_IccClock", CCID_RDR_TO_PC_SLOT_STATUS,
    NULL },
  { CCID_PC_TO_RDR_XFR_BLOCK, DIR_OUT, "PC_to_RDR_XfrBlock", CCID_RDR_TO_PC_DATA_BLOCK,
    NULL },
  { CCID_PC_TO_RDR_MECHANICAL, DIR_OUT, "PC_to_RDR_Mechanical",
    CCID_RDR_TO_PC_SLOT_STATUS, NULL },
  { CCID_PC_TO_RDR_ABORT, DIR_OUT, "PC_to_RDR_Abort", CCID_RDR_TO_PC_SLOT_STATUS, NULL },
  { CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK, DIR_OUT,
    "PC_to_RDR_SetDataRateAndClockFrequency", CCID_RDR_TO_PC_DATA_RATE_AND_CLOCK, NULL },
  { CCID_RDR_TO_PC_DATA_BLOCK, DIR_IN, "RDR_to_PC_DataBlock", 0, check_any },
  { CCID_RDR_TO_PC_SLOT_STATUS, DIR_IN, "RDR_to_PC_SlotStatus", 0, check_empty },
  { CCID_RDR_TO_PC_PARAMETERS, DIR_IN, "RDR_to_PC_Parameters", 0, check_parameters },
  { CCID_RDR_TO_PC_ESCAPE, DIR_IN, "RDR_to_PC_Escape", 0, check_any },
  { CCID_RDR_TO_PC_DATA_RATE_AND_CLOCK, DIR_IN, "RDR_to_PC_DataRateAndClockFrequency", 0,
    check_rate },
  { CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE, DIR_INTR, "RDR_to_PC_NotifySlotChange", 0, NULL },
  { CCID_RDR_TO_PC_HARDWARE_ERROR, DIR_INTR, "RDR_to_PC_HardwareError", 0, NULL },
};

/* The slot error register (CCID 1.1, 6.2.6).  The gpg_err_code_t column
 * says what a failure means to the user: a mute card is not an absent card
 * (absence is reported by bmICCStatus and handled before this table), so
 * ICC_MUTE is a timeout, as the spec describes it. */
static const struct ccid_error_info error_table[] = {
  { 0x00, 0x00, "CMD_NOT_SUPPORTED", "command not supported by the reader",
    GPG_ERR_NOT_SUPPORTED },
  { 0x01, 0x7F, "BAD_PARAMETER", "reader rejected a field of the command",
    GPG_ERR_INV_VALUE },
  { 0x81, 0xC0, "USER_DEFINED", "vendor-specific reader error", GPG_ERR_CARD },
  { 0xE0, 0xE0, "CMD_SLOT_BUSY", "slot busy with another command", GPG_ERR_EBUSY },
  { 0xEF, 0xEF, "PIN_CANCELLED", "PIN entry cancelled on the reader", GPG_ERR_CANCELED },
  { 0xF0, 0xF0, "PIN_TIMEOUT", "PIN entry timed out on the reader", GPG_ERR_TIMEOUT },
  { 0xF2, 0xF2, "BUSY_WITH_AUTO_SEQUENCE", "reader busy with an automatic sequence",
    GPG_ERR_EBUSY },
  { 0xF3, 0xF3, "DEACTIVATED_PROTOCOL", "protocol not active for this command",
    GPG_ERR_INV_STATE },
  { 0xF4, 0xF4, "PROCEDURE_BYTE_CONFLICT", "card sent a conflicting T=0 procedure byte",
    GPG_ERR_PROTOCOL_VIOLATION },
  { 0xF5, 0xF5, "ICC_CLASS_NOT_SUPPORTED",
    "card voltage class not supported by the reader", GPG_ERR_NOT_SUPPORTED },
  { 0xF6, 0xF6, "ICC_PROTOCOL_NOT_SUPPORTED", "card protocol not supported by the reader",
    GPG_ERR_UNSUPPORTED_PROTOCOL },
  { 0xF7, 0xF7, "BAD_ATR_TCK", "bad checksum (TCK) in the card's ATR", GPG_ERR_CHECKSUM },
  { 0xF8, 0xF8, "BAD_ATR_TS", "bad initial byte (TS) in the card's ATR",
    GPG_ERR_INV_CARD },
  { 0xFB, 0xFB, "HW_ERROR", "hardware error in the reader", GPG_ERR_HARDWARE },
  { 0xFC, 0xFC, "XFR_OVERRUN", "overrun while talking to the card", GPG_ERR_EIO },
  { 0xFD, 0xFD, "XFR_PARITY_ERROR", "parity error while talking to the card",
    GPG_ERR_EIO },
  { 0xFE, 0xFE, "ICC_MUTE", "no answer from the card", GPG_ERR_TIMEOUT },
  { 0xFF, 0xFF, "CMD_ABORTED", "command aborted by the host", GPG_ERR_CANCELED },
};

/* A failed command with a code the spec reserves: still a failure. */
static const struct ccid_error_info error_rfu
    = { 0x00, 0xFF, "RFU", "reserved error code", GPG_ERR_CARD };

/* The fields a reader may name in bError 0x01..0x7F, by byte offset in the
 * command.  Type 0 rows hold for every command. */
static const struct field_row
{
  uint8_t type;
  uint8_t offset;
  const char *name;
} field_table[] = {
  { 0, 1, "dwLength" },
  { 0, 5, "bSlot" },
  { 0, 6, "bSeq" },
  { CCID_PC_TO_RDR_ICC_POWER_ON, 7, "bPowerSelect" },
  { CCID_PC_TO_RDR_XFR_BLOCK, 7, "bBWI" },
  { CCID_PC_TO_RDR_XFR_BLOCK, 8, "wLevelParameter" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 7, "bProtocolNum" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 10, "bmFindexDindex" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 11, "bmTCCKST" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 12, "bGuardTime" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 13, "bWaitingInteger" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 14, "bClockStop" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 15, "bIFSC" },
  { CCID_PC_TO_RDR_SET_PARAMETERS, 16, "bNadValue" },
  { CCID_PC_TO_RDR_ICC_CLOCK, 7, "bClockCommand" },
  { CCID_PC_TO_RDR_T0_APDU, 7, "bmChanges" },
  { CCID_PC_TO_RDR_T0_APDU, 8, "bClassGetResponse" },
  { CCID_PC_TO_RDR_T0_APDU, 9, "bClassEnvelope" },
  { CCID_PC_TO_RDR_SECURE, 7, "bBWI" },
  { CCID_PC_TO_RDR_SECURE, 8, "wLevelParameter" },
  { CCID_PC_TO_RDR_SECURE, 10, "bPINOperation" },
  { CCID_PC_TO_RDR_SECURE, 11, "bTimeOut" },
  { CCID_PC_TO_RDR_SECURE, 12, "bmFormatString" },
  { CCID_PC_TO_RDR_SECURE, 13, "bmPINBlockString" },
  { CCID_PC_TO_RDR_SECURE, 14, "bmPINLengthFormat" },
  { CCID_PC_TO_RDR_MECHANICAL, 7, "bFunction" },
  { CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK, 10, "dwClockFrequency" },
  { CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK, 14, "dwDataRate" },
};

#define DIM(a) (sizeof(a) / sizeof(a)[0])

static uint32_t
get_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
         | (uint32_t)p[3] << 24;
}

static void
put_le16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static const struct msg_row *
find_msg(uint8_t type)
{
  size_t i;

  for (i = 0; i < DIM(msg_table); i++)
    if (msg_table[i].type == type)
      return &msg_table[i];
  return NULL;
}

/* Writes a header with the three specific bytes B7..B9 and then DATA, which
 * may overlap OUT (hence memmove). */
static gpg_error_t
put_message(uint8_t type, uint8_t slot, uint8_t seq, uint8_t b7, uint8_t b8, uint8_t b9,
            const uint8_t *data, size_t datalen, uint8_t *out, size_t outsize,
            size_t *outlen)
{
  *outlen = 0;
  if (datalen && !data)
    return gpg_error(GPG_ERR_INV_VALUE);
  if ((uint64_t)datalen > UINT32_MAX)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (outsize < CCID_HEADER_LEN || datalen > outsize - CCID_HEADER_LEN)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  out[0] = type;
  put_le32(out + 1, (uint32_t)datalen);
  out[5] = slot;
  out[6] = seq;
  out[7] = b7;
  out[8] = b8;
  out[9] = b9;
  if (datalen)
    memmove(out + CCID_HEADER_LEN, data, datalen);
  *outlen = CCID_HEADER_LEN + datalen;
  return 0;
}

/* A command made of the header alone, all specific bytes RFU. */
static gpg_error_t
put_bare(uint8_t type, uint8_t slot, uint8_t seq, uint8_t *out, size_t outsize,
         size_t *outlen)
{
  return put_message(type, slot, seq, 0, 0, 0, NULL, 0, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_icc_power_on(uint8_t slot, uint8_t seq, enum ccid_power_select power,
                      uint8_t *out, size_t outsize, size_t *outlen)
{
  *outlen = 0;
  if ((unsigned int)power > CCID_POWER_1_8V)
    return gpg_error(GPG_ERR_INV_VALUE);
  return put_message(CCID_PC_TO_RDR_ICC_POWER_ON, slot, seq, (uint8_t)power, 0, 0, NULL,
                     0, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_icc_power_off(uint8_t slot, uint8_t seq, uint8_t *out, size_t outsize,
                       size_t *outlen)
{
  return put_bare(CCID_PC_TO_RDR_ICC_POWER_OFF, slot, seq, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_get_slot_status(uint8_t slot, uint8_t seq, uint8_t *out, size_t outsize,
                         size_t *outlen)
{
  return put_bare(CCID_PC_TO_RDR_GET_SLOT_STATUS, slot, seq, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_xfr_block(uint8_t slot, uint8_t seq, uint8_t bwi, uint16_t level,
                   const uint8_t *data, size_t datalen, uint8_t *out, size_t outsize,
                   size_t *outlen)
{
  return put_message(CCID_PC_TO_RDR_XFR_BLOCK, slot, seq, bwi, (uint8_t)level,
                     (uint8_t)(level >> 8), data, datalen, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_get_parameters(uint8_t slot, uint8_t seq, uint8_t *out, size_t outsize,
                        size_t *outlen)
{
  return put_bare(CCID_PC_TO_RDR_GET_PARAMETERS, slot, seq, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_reset_parameters(uint8_t slot, uint8_t seq, uint8_t *out, size_t outsize,
                          size_t *outlen)
{
  return put_bare(CCID_PC_TO_RDR_RESET_PARAMETERS, slot, seq, out, outsize, outlen);
}

static gpg_error_t
check_params_t0(const struct ccid_params_t0 *t0)
{
  if (t0->tcckst != 0x00 && t0->tcckst != 0x02)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (t0->clock_stop > 3)
    return gpg_error(GPG_ERR_INV_VALUE);
  return 0;
}

static gpg_error_t
check_params_t1(const struct ccid_params_t1 *t1)
{
  /* Bits 7-2 are fixed at 000100; bit 1 convention, bit 0 CRC. */
  if ((t1->tcckst & 0xFC) != 0x10)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (t1->clock_stop > 3)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (t1->ifsc == 0 || t1->ifsc == 0xFF)
    return gpg_error(GPG_ERR_INV_VALUE);
  return 0;
}

gpg_error_t
ccid_params_encode(const struct ccid_params *params, uint8_t *out, size_t outsize,
                   size_t *outlen)
{
  gpg_error_t err;
  size_t need;

  *outlen = 0;
  if (params->protocol == CCID_PROTOCOL_T0)
    {
      err = check_params_t0(&params->t0);
      need = PARAMS_T0_LEN;
    }
  else if (params->protocol == CCID_PROTOCOL_T1)
    {
      err = check_params_t1(&params->t1);
      need = PARAMS_T1_LEN;
    }
  else
    return gpg_error(GPG_ERR_INV_VALUE);
  if (err)
    return err;
  if (outsize < need)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);

  if (params->protocol == CCID_PROTOCOL_T0)
    {
      out[0] = params->t0.findex_dindex;
      out[1] = params->t0.tcckst;
      out[2] = params->t0.guard_time;
      out[3] = params->t0.waiting_integer;
      out[4] = params->t0.clock_stop;
    }
  else
    {
      out[0] = params->t1.findex_dindex;
      out[1] = params->t1.tcckst;
      out[2] = params->t1.guard_time;
      out[3] = params->t1.waiting_integers;
      out[4] = params->t1.clock_stop;
      out[5] = params->t1.ifsc;
      out[6] = params->t1.nad;
    }
  *outlen = need;
  return 0;
}

gpg_error_t
ccid_cmd_set_parameters(uint8_t slot, uint8_t seq, const struct ccid_params *params,
                        uint8_t *out, size_t outsize, size_t *outlen)
{
  gpg_error_t err;
  uint8_t data[PARAMS_T1_LEN];
  size_t datalen;

  *outlen = 0;
  err = ccid_params_encode(params, data, sizeof data, &datalen);
  if (err)
    return err;
  return put_message(CCID_PC_TO_RDR_SET_PARAMETERS, slot, seq, params->protocol, 0, 0,
                     data, datalen, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_escape(uint8_t slot, uint8_t seq, const uint8_t *data, size_t datalen,
                uint8_t *out, size_t outsize, size_t *outlen)
{
  return put_message(CCID_PC_TO_RDR_ESCAPE, slot, seq, 0, 0, 0, data, datalen, out,
                     outsize, outlen);
}

gpg_error_t
ccid_cmd_icc_clock(uint8_t slot, uint8_t seq, enum ccid_clock_command command,
                   uint8_t *out, size_t outsize, size_t *outlen)
{
  *outlen = 0;
  if ((unsigned int)command > CCID_CLOCK_STOP)
    return gpg_error(GPG_ERR_INV_VALUE);
  return put_message(CCID_PC_TO_RDR_ICC_CLOCK, slot, seq, (uint8_t)command, 0, 0, NULL, 0,
                     out, outsize, outlen);
}

gpg_error_t
ccid_cmd_t0_apdu(uint8_t slot, uint8_t seq, uint8_t changes, uint8_t class_get_response,
                 uint8_t class_envelope, uint8_t *out, size_t outsize, size_t *outlen)
{
  *outlen = 0;
  if (changes & ~0x03u)
    return gpg_error(GPG_ERR_INV_VALUE);
  return put_message(CCID_PC_TO_RDR_T0_APDU, slot, seq, changes, class_get_response,
                     class_envelope, NULL, 0, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_secure(uint8_t slot, uint8_t seq, uint8_t bwi, uint16_t level,
                const uint8_t *data, size_t datalen, uint8_t *out, size_t outsize,
                size_t *outlen)
{
  return put_message(CCID_PC_TO_RDR_SECURE, slot, seq, bwi, (uint8_t)level,
                     (uint8_t)(level >> 8), data, datalen, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_mechanical(uint8_t slot, uint8_t seq, enum ccid_mechanical function,
                    uint8_t *out, size_t outsize, size_t *outlen)
{
  *outlen = 0;
  if ((unsigned int)function < CCID_MECHANICAL_ACCEPT
      || (unsigned int)function > CCID_MECHANICAL_UNLOCK)
    return gpg_error(GPG_ERR_INV_VALUE);
  return put_message(CCID_PC_TO_RDR_MECHANICAL, slot, seq, (uint8_t)function, 0, 0, NULL,
                     0, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_abort(uint8_t slot, uint8_t seq, uint8_t *out, size_t outsize, size_t *outlen)
{
  return put_bare(CCID_PC_TO_RDR_ABORT, slot, seq, out, outsize, outlen);
}

gpg_error_t
ccid_cmd_set_data_rate_and_clock(uint8_t slot, uint8_t seq, uint32_t clock_khz,
                                 uint32_t data_rate_bps, uint8_t *out, size_t outsize,
                                 size_t *outlen)
{
  uint8_t data[RATE_LEN];

  put_le32(data, clock_khz);
  put_le32(data + 4, data_rate_bps);
  return put_message(CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK, slot, seq, 0, 0, 0, data,
                     sizeof data, out, outsize, outlen);
}

uint16_t
ccid_abort_request_value(uint8_t slot, uint8_t seq)
{
  return (uint16_t)(seq << 8 | slot);
}

/* Checks shared by both PIN structures. */
static gpg_error_t
check_pin_common(uint8_t min_digits, uint8_t max_digits, uint8_t entry_validation,
                 const uint8_t *apdu, size_t apdulen)
{
  if (min_digits > max_digits)
    return gpg_error(GPG_ERR_INV_VALUE);
  /* libccid notes the Cherry XX44 crashes on 0 or on undefined bits. */
  if (!entry_validation || (entry_validation & ~0x07u))
    return gpg_error(GPG_ERR_INV_VALUE);
  if (!apdu || apdulen < PIN_APDU_MIN_LEN)
    return gpg_error(GPG_ERR_INV_VALUE);
  return 0;
}

gpg_error_t
ccid_pin_verify_encode(const struct ccid_pin_verify *pv, const uint8_t *apdu,
                       size_t apdulen, uint8_t *out, size_t outsize, size_t *outlen)
{
  gpg_error_t err;

  *outlen = 0;
  err = check_pin_common(pv->min_digits, pv->max_digits, pv->entry_validation, apdu,
                         apdulen);
  if (err)
    return err;
  if (pv->number_message > 1 && pv->number_message != 0xFF)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (outsize < PIN_VERIFY_FIXED_LEN || apdulen > outsize - PIN_VERIFY_FIXED_LEN)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);

  memmove(out + PIN_VERIFY_FIXED_LEN, apdu, apdulen);
  out[0] = CCID_PIN_OP_VERIFY;
  out[1] = pv->timeout;
  out[2] = pv->format_string;
  out[3] = pv->pin_block_string;
  out[4] = pv->pin_length_format;
  /* wPINMaxExtraDigit is 0xXXYY with XX the minimum: maximum comes first. */
  out[5] = pv->max_digits;
  out[6] = pv->min_digits;
  out[7] = pv->entry_validation;
  out[8] = pv->number_message;
  put_le16(out + 9, pv->lang_id);
  out[11] = pv->msg_index;
  memcpy(out + 12, pv->teo_prologue, 3);
  *outlen = PIN_VERIFY_FIXED_LEN + apdulen;
  return 0;
}

/* How many bMsgIndex bytes a PIN modify structure carries (CCID 1.1 table
 * 6.1-12: the second only if bNumberMessage is not 0, the third only if it
 * is 3). */
static size_t
modify_msg_count(uint8_t number_message)
{
  if (number_message == 0)
    return 1;
  return number_message == 3 ? 3 : 2;
}

gpg_error_t
ccid_pin_modify_encode(const struct ccid_pin_modify *pm, const uint8_t *apdu,
                       size_t apdulen, uint8_t *out, size_t outsize, size_t *outlen)
{
  gpg_error_t err;
  size_t nmsg, fixed;

  *outlen = 0;
  err = check_pin_common(pm->min_digits, pm->max_digits, pm->entry_validation, apdu,
                         apdulen);
  if (err)
    return err;
  if (pm->confirm_pin > 3)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (pm->number_message > 3 && pm->number_message != 0xFF)
    return gpg_error(GPG_ERR_INV_VALUE);
  nmsg = modify_msg_count(pm->number_message);
  fixed = PIN_MODIFY_FIXED_LEN - 1 + nmsg + 3;
  if (outsize < fixed || apdulen > outsize - fixed)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);

  memmove(out + fixed, apdu, apdulen);
  out[0] = CCID_PIN_OP_MODIFY;
  out[1] = pm->timeout;
  out[2] = pm->format_string;
  out[3] = pm->pin_block_string;
  out[4] = pm->pin_length_format;
  out[5] = pm->insertion_offset_old;
  out[6] = pm->insertion_offset_new;
  out[7] = pm->max_digits;
  out[8] = pm->min_digits;
  out[9] = pm->confirm_pin;
  out[10] = pm->entry_validation;
  out[11] = pm->number_message;
  put_le16(out + 12, pm->lang_id);
  memcpy(out + 14, pm->msg_index, nmsg);
  memcpy(out + 14 + nmsg, pm->teo_prologue, 3);
  *outlen = fixed + apdulen;
  return 0;
}

static gpg_error_t
check_any(struct ccid_reply *reply)
{
  (void)reply;
  return 0;
}

static gpg_error_t
check_empty(struct ccid_reply *reply)
{
  return reply->datalen ? gpg_error(GPG_ERR_INV_LENGTH) : 0;
}

/* A failed command may come back without the data its reply type has. */
static int
failed_without_data(const struct ccid_reply *reply)
{
  return reply->cmd_status == CCID_CMD_FAILED && !reply->datalen;
}

static gpg_error_t
check_parameters(struct ccid_reply *reply)
{
  const uint8_t *d = reply->data;
  struct ccid_params *p = &reply->params;

  p->protocol = reply->specific;
  if (failed_without_data(reply))
    return 0;
  if (reply->specific == CCID_PROTOCOL_T0)
    {
      if (reply->datalen != PARAMS_T0_LEN)
        return gpg_error(GPG_ERR_INV_LENGTH);
      p->t0 = (struct ccid_params_t0){ d[0], d[1], d[2], d[3], d[4] };
    }
  else if (reply->specific == CCID_PROTOCOL_T1)
    {
      if (reply->datalen != PARAMS_T1_LEN)
        return gpg_error(GPG_ERR_INV_LENGTH);
      p->t1 = (struct ccid_params_t1){ d[0], d[1], d[2], d[3], d[4], d[5], d[6] };
    }
  else
    return gpg_error(GPG_ERR_UNSUPPORTED_PROTOCOL);
  reply->has_params = 1;
  return 0;
}

static gpg_error_t
check_rate(struct ccid_reply *reply)
{
  if (failed_without_data(reply))
    return 0;
  if (reply->datalen != RATE_LEN)
    return gpg_error(GPG_ERR_INV_LENGTH);
  reply->clock_khz = get_le32(reply->data);
  reply->data_rate_bps = get_le32(reply->data + 4);
  reply->has_rate = 1;
  return 0;
}

gpg_error_t
ccid_reply_decode(const uint8_t *msg, size_t msglen, size_t max_data,
                  struct ccid_reply *reply)
{
  gpg_error_t err;
  const struct msg_row *row;
  uint32_t dwlength;

  memset(reply, 0, sizeof *reply);
  if (msglen < CCID_HEADER_LEN)
    return gpg_error(GPG_ERR_TOO_SHORT);
  row = find_msg(msg[0]);
  if (!row || row->dir != DIR_IN)
    return gpg_error(GPG_ERR_INV_RESPONSE);
  dwlength = get_le32(msg + 1);
  if (dwlength > max_data)
    return gpg_error(GPG_ERR_TOO_LARGE);
  if (dwlength > msglen - CCID_HEADER_LEN)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (dwlength < msglen - CCID_HEADER_LEN)
    return gpg_error(GPG_ERR_INV_LENGTH);

  reply->type = msg[0];
  reply->slot = msg[5];
  reply->seq = msg[6];
  reply->status = msg[7];
  reply->error = msg[8];
  reply->specific = msg[9];
  reply->icc_status = (enum ccid_icc_status)(msg[7] & 0x03);
  reply->cmd_status = (enum ccid_cmd_status)(msg[7] >> 6);
  reply->data = msg + CCID_HEADER_LEN;
  reply->datalen = dwlength;
  err = row->check(reply);
  if (err)
    memset(reply, 0, sizeof *reply);
  return err;
}

gpg_error_t
ccid_reply_encode(const struct ccid_reply *reply, uint8_t *out, size_t outsize,
                  size_t *outlen)
{
  const struct msg_row *row;

  *outlen = 0;
  row = find_msg(reply->type);
  if (!row || row->dir != DIR_IN)
    return gpg_error(GPG_ERR_INV_VALUE);
  return put_message(reply->type, reply->slot, reply->seq, reply->status, reply->error,
                     reply->specific, reply->data, reply->datalen, out, outsize, outlen);
}

uint8_t
ccid_expected_reply(uint8_t request_type)
{
  const struct msg_row *row = find_msg(request_type);

  return row && row->dir == DIR_OUT ? row->reply : 0;
}

gpg_error_t
ccid_reply_match(uint8_t request_type, uint8_t slot, uint8_t seq,
                 const struct ccid_reply *reply)
{
  uint8_t expected = ccid_expected_reply(request_type);

  if (!expected)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (reply->seq != seq)
    return gpg_error(GPG_ERR_UNEXPECTED_MSG);
  if (reply->slot != slot)
    return gpg_error(GPG_ERR_INV_RESPONSE);
  if (reply->type == expected || reply->cmd_status == CCID_CMD_TIME_EXTENSION)
    return 0;
  if (reply->type == CCID_RDR_TO_PC_SLOT_STATUS && reply->cmd_status == CCID_CMD_FAILED)
    return 0;
  return gpg_error(GPG_ERR_INV_RESPONSE);
}

gpg_error_t
ccid_reply_status_error(const struct ccid_reply *reply)
{
  if (reply->icc_status == CCID_ICC_RFU || reply->cmd_status == CCID_CMD_RFU)
    return gpg_error(GPG_ERR_INV_RESPONSE);
  if (reply->cmd_status == CCID_CMD_OK)
    return 0;
  if (reply->cmd_status == CCID_CMD_TIME_EXTENSION)
    return gpg_error(GPG_ERR_EAGAIN);
  if (reply->icc_status == CCID_ICC_ABSENT)
    return gpg_error(GPG_ERR_CARD_NOT_PRESENT);
  return gpg_error(ccid_error_info(reply->error)->code);
}

static gpg_error_t
decode_notify(const uint8_t *msg, size_t msglen, unsigned int nslots,
              struct ccid_intr *intr, size_t *used)
{
  size_t need = 1 + (nslots + 3) / 4;
  unsigned int spare = nslots % 4;

  if (msglen < need)
    return gpg_error(GPG_ERR_TOO_SHORT);
  /* CCID 1.1: the bits of slots that do not exist are 00b. */
  if (spare && (msg[need - 1] >> (2 * spare)))
    return gpg_error(GPG_ERR_INV_VALUE);
  intr->type = msg[0];
  intr->slot_bits = msg + 1;
  intr->slot_bits_len = need - 1;
  intr->nslots = nslots;
  *used = need;
  return 0;
}

static gpg_error_t
decode_hw_error(const uint8_t *msg, size_t msglen, unsigned int nslots,
                struct ccid_intr *intr, size_t *used)
{
  if (msglen < HW_ERROR_LEN)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (msg[1] >= nslots)
    return gpg_error(GPG_ERR_INV_VALUE);
  intr->type = msg[0];
  intr->slot = msg[1];
  intr->seq = msg[2];
  intr->hw_error = msg[3];
  *used = HW_ERROR_LEN;
  return 0;
}

gpg_error_t
ccid_intr_decode(const uint8_t *msg, size_t msglen, unsigned int nslots,
                 struct ccid_intr *intr, size_t *used)
{
  memset(intr, 0, sizeof *intr);
  *used = 0;
  if (nslots < 1 || nslots > MAX_SLOTS)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (msglen < 1)
    return gpg_error(GPG_ERR_TOO_SHORT);
  if (msg[0] == CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE)
    return decode_notify(msg, msglen, nslots, intr, used);
  if (msg[0] == CCID_RDR_TO_PC_HARDWARE_ERROR)
    return decode_hw_error(msg, msglen, nslots, intr, used);
  return gpg_error(GPG_ERR_INV_RESPONSE);
}

/* Bit BIT (0 present, 1 changed) of SLOT in a NotifySlotChange. */
static int
slot_bit(const struct ccid_intr *intr, unsigned int slot, unsigned int bit)
{
  if (intr->type != CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE || slot >= intr->nslots)
    return 0;
  return (intr->slot_bits[slot / 4] >> (2 * (slot % 4) + bit)) & 1;
}

int
ccid_intr_slot_present(const struct ccid_intr *intr, unsigned int slot)
{
  return slot_bit(intr, slot, 0);
}

int
ccid_intr_slot_changed(const struct ccid_intr *intr, unsigned int slot)
{
  return slot_bit(intr, slot, 1);
}

const char *
ccid_msg_type_name(uint8_t type)
{
  const struct msg_row *row = find_msg(type);

  return row ? row->name : NULL;
}

const struct ccid_error_info *
ccid_error_info(uint8_t berror)
{
  size_t i;

  for (i = 0; i < DIM(error_table); i++)
    if (berror >= error_table[i].first && berror <= error_table[i].last)
      return &error_table[i];
  return &error_rfu;
}

const char *
ccid_field_name(uint8_t request_type, uint8_t offset)
{
  size_t i;

  for (i = 0; i < DIM(field_table); i++)
    if ((!field_table[i].type || field_table[i].type == request_type)
        && field_table[i].offset == offset)
      return field_table[i].name;
  return NULL;
}

/* Describes a BAD_PARAMETER code: which field of which command. */
static int
describe_field(uint8_t request_type, uint8_t offset, char *buf, size_t bufsize)
{
  const char *field = ccid_field_name(request_type, offset);
  const char *msg = ccid_msg_type_name(request_type);

  if (!msg)
    msg = "the command";
  if (field)
    return snprintf(buf, bufsize, "reader rejected %s (offset %u) of %s", field,
                    (unsigned int)offset, msg);
  if (offset >= CCID_HEADER_LEN)
    return snprintf(buf, bufsize, "reader rejected abData[%u] (offset %u) of %s",
                    (unsigned int)(offset - CCID_HEADER_LEN), (unsigned int)offset, msg);
  return snprintf(buf, bufsize, "reader rejected offset %u of %s", (unsigned int)offset,
                  msg);
}

gpg_error_t
ccid_error_describe(uint8_t request_type, uint8_t berror, char *buf, size_t bufsize)
{
  const struct ccid_error_info *info = ccid_error_info(berror);
  int n;

  if (berror >= 0x01 && berror <= 0x7F)
    n = describe_field(request_type, berror, buf, bufsize);
  else
    n = snprintf(buf, bufsize, "%s (0x%02X): %s", info->name, (unsigned int)berror,
                 info->desc);
  if (n < 0 || (size_t)n >= bufsize)
    return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
  return 0;
}
