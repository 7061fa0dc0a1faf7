/* ccid-msg.h - USB CCID bulk and interrupt messages (CCID 1.1)
 *
 * Encoders for every PC_to_RDR bulk-OUT command and for the PIN verify /
 * modify structures of PC_to_RDR_Secure; decoders for every RDR_to_PC
 * bulk-IN reply and interrupt-IN notification; the bStatus / bError tables.
 *
 * Pure code: no I/O, no allocation.  Every encoder writes into a caller
 * buffer and reports the length in *OUTLEN (0 on error).  Decoded messages
 * point into the caller's input and are valid as long as it is.  All
 * multi-byte fields are little-endian on the wire.
 *
 * Every bulk message starts with a 10-byte header:
 *   [0] bMessageType  [1..4] dwLength (bytes after the header)
 *   [5] bSlot  [6] bSeq  [7..9] three message-specific bytes
 * In replies the three bytes are bStatus, bError and one specific byte.
 */
#ifndef DUALSCD_PROTOCOL_CCID_MSG_H
#define DUALSCD_PROTOCOL_CCID_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* Size of the header of every bulk message. */
#define CCID_HEADER_LEN 10

/* bMessageType values (CCID 1.1, 6.1, 6.2, 6.3). */
enum ccid_msg_type
{
  /* Bulk-OUT, host to reader. */
  CCID_PC_TO_RDR_SET_PARAMETERS = 0x61,
  CCID_PC_TO_RDR_ICC_POWER_ON = 0x62,
  CCID_PC_TO_RDR_ICC_POWER_OFF = 0x63,
  CCID_PC_TO_RDR_GET_SLOT_STATUS = 0x65,
  CCID_PC_TO_RDR_SECURE = 0x69,
  CCID_PC_TO_RDR_T0_APDU = 0x6A,
  CCID_PC_TO_RDR_ESCAPE = 0x6B,
  CCID_PC_TO_RDR_GET_PARAMETERS = 0x6C,
  CCID_PC_TO_RDR_RESET_PARAMETERS = 0x6D,
  CCID_PC_TO_RDR_ICC_CLOCK = 0x6E,
  CCID_PC_TO_RDR_XFR_BLOCK = 0x6F,
  CCID_PC_TO_RDR_MECHANICAL = 0x71,
  CCID_PC_TO_RDR_ABORT = 0x72,
  CCID_PC_TO_RDR_SET_DATA_RATE_AND_CLOCK = 0x73,
  /* Bulk-IN, reader to host. */
  CCID_RDR_TO_PC_DATA_BLOCK = 0x80,
  CCID_RDR_TO_PC_SLOT_STATUS = 0x81,
  CCID_RDR_TO_PC_PARAMETERS = 0x82,
  CCID_RDR_TO_PC_ESCAPE = 0x83,
  CCID_RDR_TO_PC_DATA_RATE_AND_CLOCK = 0x84,
  /* Interrupt-IN, reader to host. */
  CCID_RDR_TO_PC_NOTIFY_SLOT_CHANGE = 0x50,
  CCID_RDR_TO_PC_HARDWARE_ERROR = 0x51
};

/* Class-specific control requests (CCID 1.1, 5.3), bRequest values.  ABORT
 * goes host-to-interface (bmRequestType CCID_REQTYPE_OUT) with wValue from
 * ccid_abort_request_value and no data; the two GET requests go
 * interface-to-host (CCID_REQTYPE_IN) and return arrays of little-endian
 * dwords (kHz resp. bps). */
enum ccid_class_request
{
  CCID_REQ_ABORT = 0x01,
  CCID_REQ_GET_CLOCK_FREQUENCIES = 0x02,
  CCID_REQ_GET_DATA_RATES = 0x03
};
#define CCID_REQTYPE_OUT 0x21
#define CCID_REQTYPE_IN 0xA1

/* bPowerSelect of PC_to_RDR_IccPowerOn. */
enum ccid_power_select
{
  CCID_POWER_AUTO = 0,
  CCID_POWER_5V = 1,
  CCID_POWER_3V = 2,
  CCID_POWER_1_8V = 3
};

/* wLevelParameter of XfrBlock / Secure and bChainParameter of DataBlock
 * for APDU-level chaining.  At character level wLevelParameter is instead
 * the number of bytes expected back; at TPDU and short APDU level it is 0. */
enum ccid_chain
{
  CCID_CHAIN_BEGIN_END = 0x00,     /* the whole APDU */
  CCID_CHAIN_BEGIN_MORE = 0x01,    /* first part, more follows */
  CCID_CHAIN_CONTINUE_END = 0x02,  /* last part */
  CCID_CHAIN_CONTINUE_MORE = 0x03, /* middle part */
  CCID_CHAIN_EMPTY_MORE = 0x10     /* no data, asks for the next response part */
};

/* bClockCommand of PC_to_RDR_IccClock. */
enum ccid_clock_command
{
  CCID_CLOCK_RESTART = 0,
  CCID_CLOCK_STOP = 1
};

/* bFunction of PC_to_RDR_Mechanical. */
enum ccid_mechanical
{
  CCID_MECHANICAL_ACCEPT = 1,
  CCID_MECHANICAL_EJECT = 2,
  CCID_MECHANICAL_CAPTURE = 3,
  CCID_MECHANICAL_LOCK = 4,
  CCID_MECHANICAL_UNLOCK = 5
};

/* bClockStatus of RDR_to_PC_SlotStatus. */
enum ccid_clock_status
{
  CCID_CLOCK_RUNNING = 0,
  CCID_CLOCK_STOPPED_L = 1,
  CCID_CLOCK_STOPPED_H = 2,
  CCID_CLOCK_STOPPED_UNKNOWN = 3
};

/* bmICCStatus, bits 0-1 of bStatus. */
enum ccid_icc_status
{
  CCID_ICC_ACTIVE = 0,   /* present and active */
  CCID_ICC_INACTIVE = 1, /* present, not powered */
  CCID_ICC_ABSENT = 2,   /* no card in the slot */
  CCID_ICC_RFU = 3
};

/* bmCommandStatus, bits 6-7 of bStatus. */
enum ccid_cmd_status
{
  CCID_CMD_OK = 0,
  CCID_CMD_FAILED = 1,         /* bError holds the slot error */
  CCID_CMD_TIME_EXTENSION = 2, /* bError holds a BWT multiplier */
  CCID_CMD_RFU = 3
};

/* bHardwareErrorCode of RDR_to_PC_HardwareError. */
#define CCID_HW_ERROR_OVERCURRENT 0x01

/* bProtocolNum of SetParameters / Parameters. */
enum ccid_protocol
{
  CCID_PROTOCOL_T0 = 0,
  CCID_PROTOCOL_T1 = 1
};

/* abProtocolDataStructure for T=0 (5 bytes, CCID 1.1 table 6.1-8). */
struct ccid_params_t0
{
  uint8_t findex_dindex;   /* bmFindexDindex: Fi high nibble, Di low */
  uint8_t tcckst;          /* bmTCCKST0: 0x00 direct, 0x02 inverse convention */
  uint8_t guard_time;      /* bGuardTimeT0: extra guard time (TC1) */
  uint8_t waiting_integer; /* bWaitingIntegerT0: WI (TC2) */
  uint8_t clock_stop;      /* bClockStop: 0 not allowed, 1 low, 2 high, 3 either */
};

/* abProtocolDataStructure for T=1 (7 bytes, CCID 1.1 table 6.1-9). */
struct ccid_params_t1
{
  uint8_t findex_dindex;    /* bmFindexDindex */
  uint8_t tcckst;           /* bmTCCKST1: 0x10 | bit1 inverse | bit0 CRC (else LRC) */
  uint8_t guard_time;       /* bGuardTimeT1 */
  uint8_t waiting_integers; /* bmWaitingIntegersT1: BWI high nibble, CWI low */
  uint8_t clock_stop;       /* bClockStop */
  uint8_t ifsc;             /* bIFSC: 1..254 */
  uint8_t nad;              /* bNadValue */
};

/* The protocol number with its data structure. */
struct ccid_params
{
  uint8_t protocol; /* enum ccid_protocol */
  union
  {
    struct ccid_params_t0 t0;
    struct ccid_params_t1 t1;
  };
};

/* A decoded bulk-IN reply.  The specific byte and the data structures are
 * kept raw except where stated: their RFU values are the driver's business,
 * and the diagnostic command must be able to show them. */
struct ccid_reply
{
  uint8_t type;                    /* bMessageType, one of CCID_RDR_TO_PC_* */
  uint8_t slot;                    /* bSlot */
  uint8_t seq;                     /* bSeq */
  uint8_t status;                  /* bStatus as received */
  uint8_t error;                   /* bError: slot error if CMD_FAILED, BWT multiplier if
                     CMD_TIME_EXTENSION, else meaningless */
  uint8_t specific;                /* byte 9: bChainParameter (DataBlock), bClockStatus
                       (SlotStatus), bProtocolNum (Parameters), else RFU */
  enum ccid_icc_status icc_status; /* from bStatus */
  enum ccid_cmd_status cmd_status; /* from bStatus */
  const uint8_t *data;             /* abData: the input at offset 10 */
  size_t datalen;                  /* dwLength */
  int has_params;                  /* Parameters reply carrying a data structure */
  struct ccid_params params;       /* decoded abProtocolDataStructure */
  int has_rate;                    /* DataRateAndClockFrequency carrying its data */
  uint32_t clock_khz;              /* dwClockFrequency, kHz */
  uint32_t data_rate_bps;          /* dwDataRate, bps */
};

/* A decoded interrupt-IN message. */
struct ccid_intr
{
  uint8_t type; /* NOTIFY_SLOT_CHANGE or HARDWARE_ERROR */
  /* NotifySlotChange: 2 bits per slot (bit 0 present, bit 1 changed). */
  const uint8_t *slot_bits; /* bmSlotICCState, points into the input */
  size_t slot_bits_len;
  unsigned int nslots;
  /* HardwareError. */
  uint8_t slot;     /* bSlot */
  uint8_t seq;      /* bSeq of the command that was running */
  uint8_t hw_error; /* bHardwareErrorCode, CCID_HW_ERROR_* bits */
};

/* bPINOperation, the first byte of PC_to_RDR_Secure's data. */
enum ccid_pin_operation
{
  CCID_PIN_OP_VERIFY = 0,
  CCID_PIN_OP_MODIFY = 1,
  CCID_PIN_OP_TRANSFER = 2,
  CCID_PIN_OP_WAIT_ICC_RESPONSE = 3,
  CCID_PIN_OP_CANCEL = 4,
  CCID_PIN_OP_RESEND_IBLOCK = 5,
  CCID_PIN_OP_SEND_NEXT_APDU = 6
};

/* bEntryValidationCondition bits. */
#define CCID_PIN_VALID_MAX_SIZE 0x01
#define CCID_PIN_VALID_KEY 0x02
#define CCID_PIN_VALID_TIMEOUT 0x04

/* The PIN verification data structure (CCID 1.1 table 6.1-11).
 * bmFormatString: bit 7 unit of the position (1 bytes, 0 bits), bits 6-3
 * position of the PIN in the APDU data, bit 2 right justify, bits 1-0
 * coding (0 binary, 1 BCD, 2 ASCII).  bmPINBlockString: bits 7-4 size of
 * the PIN length field in bits, bits 3-0 PIN block size in bytes.
 * bmPINLengthFormat: bit 4 unit, bits 3-0 position of the length field. */
struct ccid_pin_verify
{
  uint8_t timeout;           /* bTimeOut: seconds, 0 = reader default */
  uint8_t format_string;     /* bmFormatString */
  uint8_t pin_block_string;  /* bmPINBlockString */
  uint8_t pin_length_format; /* bmPINLengthFormat */
  uint8_t min_digits;        /* wPINMaxExtraDigit, high byte */
  uint8_t max_digits;        /* wPINMaxExtraDigit, low byte */
  uint8_t entry_validation;  /* bEntryValidationCondition, 1..7 */
  uint8_t number_message;    /* bNumberMessage: 0, 1 or 0xFF (default) */
  uint16_t lang_id;          /* wLangId, e.g. 0x0409 */
  uint8_t msg_index;         /* bMsgIndex */
  uint8_t teo_prologue[3];   /* bTeoPrologue: T=1 NAD PCB LEN, else 0 */
};

/* The PIN modification data structure (CCID 1.1 table 6.1-12). */
struct ccid_pin_modify
{
  uint8_t timeout;
  uint8_t format_string;
  uint8_t pin_block_string;
  uint8_t pin_length_format;
  uint8_t insertion_offset_old; /* bInsertionOffsetOld, bytes into the data */
  uint8_t insertion_offset_new; /* bInsertionOffsetNew */
  uint8_t min_digits;
  uint8_t max_digits;
  uint8_t confirm_pin;      /* bConfirmPIN: bit 0 confirm new, bit 1 enter old */
  uint8_t entry_validation; /* 1..7 */
  uint8_t number_message;   /* 0..3 or 0xFF */
  uint16_t lang_id;
  uint8_t msg_index[3]; /* bMsgIndex1..3; 2 and 3 sent as the spec says */
  uint8_t teo_prologue[3];
};

/* Slot error register (bError) meaning, one row per code or code range. */
struct ccid_error_info
{
  uint8_t first, last; /* the codes this row covers */
  const char *name;    /* spec name, e.g. "ICC_MUTE" */
  const char *desc;    /* short English description */
  gpg_err_code_t code; /* what a failed command with this bError means */
};

/*
 * Commands.  Each writes one complete PC_to_RDR message for SLOT with
 * sequence number SEQ into OUT (OUTSIZE bytes; pass the reader's
 * dwMaxCCIDMessageLength to enforce its limit) and sets *OUTLEN.  Data may
 * point at OUT + CCID_HEADER_LEN to build a message in place.  Errors:
 * GPG_ERR_BUFFER_TOO_SHORT if OUT is too small, GPG_ERR_INV_VALUE for a
 * parameter out of range or DATALEN without DATA.
 */

/* PC_to_RDR_IccPowerOn; the reply is a DataBlock carrying the ATR. */
gpg_error_t ccid_cmd_icc_power_on(uint8_t slot, uint8_t seq, enum ccid_power_select power,
                                  uint8_t *out, size_t outsize, size_t *outlen);

/* PC_to_RDR_IccPowerOff; the reply is a SlotStatus. */
gpg_error_t ccid_cmd_icc_power_off(uint8_t slot, uint8_t seq, uint8_t *out,
                                   size_t outsize, size_t *outlen);

/* PC_to_RDR_GetSlotStatus; the reply is a SlotStatus. */
gpg_error_t ccid_cmd_get_slot_status(uint8_t slot, uint8_t seq, uint8_t *out,
                                     size_t outsize, size_t *outlen);

/* PC_to_RDR_XfrBlock with block waiting time multiplier BWI (0 = reader
 * default) and wLevelParameter LEVEL (enum ccid_chain at APDU level, the
 * expected reply length at character level, else 0). */
gpg_error_t ccid_cmd_xfr_block(uint8_t slot, uint8_t seq, uint8_t bwi, uint16_t level,
                               const uint8_t *data, size_t datalen, uint8_t *out,
                               size_t outsize, size_t *outlen);

/* PC_to_RDR_GetParameters; the reply is a Parameters message. */
gpg_error_t ccid_cmd_get_parameters(uint8_t slot, uint8_t seq, uint8_t *out,
                                    size_t outsize, size_t *outlen);

/* PC_to_RDR_ResetParameters; the reply is a Parameters message. */
gpg_error_t ccid_cmd_reset_parameters(uint8_t slot, uint8_t seq, uint8_t *out,
                                      size_t outsize, size_t *outlen);

/* PC_to_RDR_SetParameters with PARAMS, checked as ccid_params_encode does. */
gpg_error_t ccid_cmd_set_parameters(uint8_t slot, uint8_t seq,
                                    const struct ccid_params *params, uint8_t *out,
                                    size_t outsize, size_t *outlen);

/* PC_to_RDR_Escape with vendor-specific DATA. */
gpg_error_t ccid_cmd_escape(uint8_t slot, uint8_t seq, const uint8_t *data,
                            size_t datalen, uint8_t *out, size_t outsize, size_t *outlen);

/* PC_to_RDR_IccClock; COMMAND is CCID_CLOCK_RESTART or CCID_CLOCK_STOP. */
gpg_error_t ccid_cmd_icc_clock(uint8_t slot, uint8_t seq, enum ccid_clock_command command,
                               uint8_t *out, size_t outsize, size_t *outlen);

/* PC_to_RDR_T0APDU.  CHANGES (bmChanges) bit 0 makes the reader use
 * CLASS_GET_RESPONSE, bit 1 CLASS_ENVELOPE; 0xFF in either means "echo the
 * APDU's class".  Other bits of CHANGES are GPG_ERR_INV_VALUE. */
gpg_error_t ccid_cmd_t0_apdu(uint8_t slot, uint8_t seq, uint8_t changes,
                             uint8_t class_get_response, uint8_t class_envelope,
                             uint8_t *out, size_t outsize, size_t *outlen);

/* PC_to_RDR_Secure; DATA starts with bPINOperation, e.g. the output of
 * ccid_pin_verify_encode or ccid_pin_modify_encode.  BWI and LEVEL as for
 * XfrBlock. */
gpg_error_t ccid_cmd_secure(uint8_t slot, uint8_t seq, uint8_t bwi, uint16_t level,
                            const uint8_t *data, size_t datalen, uint8_t *out,
                            size_t outsize, size_t *outlen);

/* PC_to_RDR_Mechanical with bFunction FUNCTION (1..5). */
gpg_error_t ccid_cmd_mechanical(uint8_t slot, uint8_t seq, enum ccid_mechanical function,
                                uint8_t *out, size_t outsize, size_t *outlen);

/* PC_to_RDR_Abort.  Send it after the class-specific ABORT request with the
 * same SLOT and SEQ (CCID 1.1, 5.3.1). */
gpg_error_t ccid_cmd_abort(uint8_t slot, uint8_t seq, uint8_t *out, size_t outsize,
                           size_t *outlen);

/* PC_to_RDR_SetDataRateAndClockFrequency: CLOCK_KHZ and DATA_RATE_BPS. */
gpg_error_t ccid_cmd_set_data_rate_and_clock(uint8_t slot, uint8_t seq,
                                             uint32_t clock_khz, uint32_t data_rate_bps,
                                             uint8_t *out, size_t outsize,
                                             size_t *outlen);

/* wValue of the class-specific ABORT request: bSeq in the high byte, bSlot
 * in the low byte. */
uint16_t ccid_abort_request_value(uint8_t slot, uint8_t seq);

/* Writes abProtocolDataStructure of PARAMS (5 bytes for T=0, 7 for T=1)
 * into OUT.  GPG_ERR_INV_VALUE for another protocol, a bmTCCKST other than
 * 0x00/0x02 (T=0) or 0x10..0x13 (T=1), bClockStop above 3, or bIFSC 0 or
 * 255; GPG_ERR_BUFFER_TOO_SHORT if OUT is too small. */
gpg_error_t ccid_params_encode(const struct ccid_params *params, uint8_t *out,
                               size_t outsize, size_t *outlen);

/* Writes the PIN verification data structure, bPINOperation first, then
 * the APDU template (at least the 4-byte header), for ccid_cmd_secure.
 * GPG_ERR_INV_VALUE if MIN_DIGITS > MAX_DIGITS, ENTRY_VALIDATION is not
 * 1..7, NUMBER_MESSAGE is not 0, 1 or 0xFF, or the APDU is shorter than 4
 * bytes. */
gpg_error_t ccid_pin_verify_encode(const struct ccid_pin_verify *pv, const uint8_t *apdu,
                                   size_t apdulen, uint8_t *out, size_t outsize,
                                   size_t *outlen);

/* Writes the PIN modification data structure like ccid_pin_verify_encode.
 * bMsgIndex2 is sent only if NUMBER_MESSAGE is not 0 and bMsgIndex3 only if
 * it is 3, as CCID 1.1 says (libccid also sends bMsgIndex3 for 0xFF).
 * GPG_ERR_INV_VALUE also for CONFIRM_PIN above 3 or NUMBER_MESSAGE not
 * 0..3 / 0xFF. */
gpg_error_t ccid_pin_modify_encode(const struct ccid_pin_modify *pm, const uint8_t *apdu,
                                   size_t apdulen, uint8_t *out, size_t outsize,
                                   size_t *outlen);

/*
 * Replies.
 */

/* Decodes the bulk-IN message MSG of MSGLEN bytes (one complete USB
 * transfer) into *REPLY.  MAX_DATA is the largest dwLength accepted: the
 * reader's dwMaxCCIDMessageLength - 10 (ccid_desc's max_data_len).
 * Errors: GPG_ERR_TOO_SHORT for less than a header or fewer data bytes than
 * dwLength says (a truncated transfer); GPG_ERR_TOO_LARGE for dwLength
 * above MAX_DATA; GPG_ERR_INV_LENGTH for bytes beyond dwLength (exact
 * equality, as libccid requires), a SlotStatus with data, a Parameters data
 * structure of the wrong size for its protocol or a DataRateAndClockFrequency
 * that is not 8 bytes (Parameters and DataRateAndClockFrequency may carry
 * no data when the command failed); GPG_ERR_UNSUPPORTED_PROTOCOL for
 * Parameters of a protocol other than T=0/T=1; GPG_ERR_INV_RESPONSE for a
 * bMessageType that is not a bulk-IN reply.  *REPLY is all zero on error. */
gpg_error_t ccid_reply_decode(const uint8_t *msg, size_t msglen, size_t max_data,
                              struct ccid_reply *reply);

/* Writes REPLY's header fields (type, slot, seq, status, error, specific)
 * and DATA/DATALEN as a bulk-IN message; the decoded fields are ignored.
 * For test doubles of a reader.  GPG_ERR_INV_VALUE if TYPE is not a bulk-IN
 * reply, GPG_ERR_BUFFER_TOO_SHORT if OUT is too small. */
gpg_error_t ccid_reply_encode(const struct ccid_reply *reply, uint8_t *out,
                              size_t outsize, size_t *outlen);

/* Returns the reply type CCID 1.1 defines for command REQUEST_TYPE, or 0 if
 * REQUEST_TYPE is not a PC_to_RDR command. */
uint8_t ccid_expected_reply(uint8_t request_type);

/* Checks that REPLY answers the command REQUEST_TYPE sent to SLOT with SEQ.
 * GPG_ERR_UNEXPECTED_MSG if bSeq differs (a stale reply to an earlier
 * command: drop it and read again, as GnuPG and libccid do);
 * GPG_ERR_INV_RESPONSE if bSlot differs or the type is wrong;
 * GPG_ERR_INV_VALUE if REQUEST_TYPE is not a command.  Besides the expected
 * type, a time extension of any type is accepted (GnuPG notes Cherry
 * keyboards send one per key press) and so is a failed SlotStatus (readers
 * answer commands they cannot run that way; GnuPG accepts SlotStatus for
 * any request). */
gpg_error_t ccid_reply_match(uint8_t request_type, uint8_t slot, uint8_t seq,
                             const struct ccid_reply *reply);

/* Turns REPLY's bStatus/bError into an error: 0 if the command was
 * processed (whatever the card state: a GetSlotStatus reporting no card
 * succeeded; look at icc_status); GPG_ERR_EAGAIN for a time extension (wait
 * bError times the BWT, 0 meaning once, and read again; GnuPG's driver
 * treats 0xFF from Gnuk as "waiting for the user's touch");
 * GPG_ERR_CARD_NOT_PRESENT for a failed command with no card; otherwise the
 * bError mapping of ccid_error_info; GPG_ERR_INV_RESPONSE for RFU status
 * values. */
gpg_error_t ccid_reply_status_error(const struct ccid_reply *reply);

/*
 * Interrupt-IN.
 */

/* Decodes the interrupt message at MSG for a reader with NSLOTS slots
 * (1..256) into *INTR; *USED gets its length so that a caller can walk a
 * transfer that carries several messages.  NotifySlotChange is 1 + (NSLOTS
 * + 3) / 4 bytes and its bits beyond the last slot must be 0; HardwareError
 * is 4 bytes and names an existing slot.  Errors: GPG_ERR_TOO_SHORT for a
 * truncated message, GPG_ERR_INV_VALUE for bad NSLOTS, padding bits or
 * slot, GPG_ERR_INV_RESPONSE for another bMessageType. */
gpg_error_t ccid_intr_decode(const uint8_t *msg, size_t msglen, unsigned int nslots,
                             struct ccid_intr *intr, size_t *used);

/* For a decoded NotifySlotChange: 1 if a card is in SLOT, else 0 (also for
 * other messages and slots out of range). */
int ccid_intr_slot_present(const struct ccid_intr *intr, unsigned int slot);

/* For a decoded NotifySlotChange: 1 if SLOT changed since the previous
 * notification, else 0. */
int ccid_intr_slot_changed(const struct ccid_intr *intr, unsigned int slot);

/*
 * Names and errors.
 */

/* The spec name of bMessageType TYPE ("PC_to_RDR_IccPowerOn"), or NULL. */
const char *ccid_msg_type_name(uint8_t type);

/* The row of the slot error table for bError BERROR (never NULL; codes the
 * spec reserves get a row named "RFU"). */
const struct ccid_error_info *ccid_error_info(uint8_t berror);

/* For bError 0x01..0x7F (offset of the field the reader rejected): the
 * field at OFFSET of command REQUEST_TYPE ("bPowerSelect"), or NULL. */
const char *ccid_field_name(uint8_t request_type, uint8_t offset);

/* Writes a one-line English explanation of bError BERROR in the reply to
 * REQUEST_TYPE, e.g. "ICC_MUTE (0xFE): no answer from the card" or
 * "reader rejected bPowerSelect (offset 7) of PC_to_RDR_IccPowerOn", into
 * BUF (always NUL-terminated if BUFSIZE > 0).  GPG_ERR_BUFFER_TOO_SHORT if
 * it was truncated. */
gpg_error_t ccid_error_describe(uint8_t request_type, uint8_t berror, char *buf,
                                size_t bufsize);

#endif /* DUALSCD_PROTOCOL_CCID_MSG_H */
