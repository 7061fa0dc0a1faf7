/* sw.c - ISO 7816-4 status words: meaning, error code, PIN retry counter */
#include "sw.h"

/* A row matches SW when (SW & MASK) == VALUE.  The masks keep bits above
 * 0xFFFF, so no row but the last matches a value that is not a status
 * word. */
#define EXACT 0xFFFFFFFFu
#define ANY_NIBBLE 0xFFFFFFF0u /* SW2 low nibble is a parameter (63Cx) */
#define ANY_SW2 0xFFFFFF00u    /* SW2 is a parameter or unassigned (61xx) */

struct sw_entry
{
  unsigned int value;
  unsigned int mask;
  gpg_err_code_t code;
  const char *text;
};

/* The first matching row wins, so the rows run from the most to the least
 * specific mask.  Texts are ISO 7816-4's (table 6 of the 2005 edition);
 * codes follow scdaemon-protocol.md section 7, else GnuPG's map_sw. */
static const struct sw_entry sw_table[] = {
  { 0x9000, EXACT, GPG_ERR_NO_ERROR, "Success" },
  { 0x6281, EXACT, GPG_ERR_CARD, "Part of returned data may be corrupted" },
  { 0x6282, EXACT, GPG_ERR_CARD,
    "End of file or record reached before reading Le bytes" },
  { 0x6283, EXACT, GPG_ERR_CARD, "Selected file deactivated" },
  { 0x6284, EXACT, GPG_ERR_CARD, "File control information not correctly formatted" },
  { 0x6285, EXACT, GPG_ERR_OBJ_TERM_STATE, "Selected file in termination state" },
  { 0x6286, EXACT, GPG_ERR_CARD, "No input data available from a sensor on the card" },
  { 0x6300, EXACT, GPG_ERR_CARD, "Verification failed, no further information" },
  { 0x6381, EXACT, GPG_ERR_CARD, "File filled up by the last write" },
  { 0x6581, EXACT, GPG_ERR_HARDWARE, "Memory failure" },
  /* OpenPGP card 3.x: user interaction (touch) not confirmed in time. */
  { 0x6600, EXACT, GPG_ERR_TIMEOUT,
    "Security-related issue (user interaction timed out)" },
  { 0x6700, EXACT, GPG_ERR_INV_VALUE, "Wrong length" },
  { 0x6881, EXACT, GPG_ERR_CARD, "Logical channel not supported" },
  { 0x6882, EXACT, GPG_ERR_NOT_SUPPORTED, "Secure messaging not supported" },
  { 0x6883, EXACT, GPG_ERR_CARD, "Last command of the chain expected" },
  { 0x6884, EXACT, GPG_ERR_NOT_SUPPORTED, "Command chaining not supported" },
  { 0x6981, EXACT, GPG_ERR_CARD, "Command incompatible with file structure" },
  { 0x6982, EXACT, GPG_ERR_BAD_PIN, "Security status not satisfied" },
  { 0x6983, EXACT, GPG_ERR_PIN_BLOCKED, "Authentication method blocked" },
  { 0x6984, EXACT, GPG_ERR_CARD, "Reference data not usable" },
  { 0x6985, EXACT, GPG_ERR_USE_CONDITIONS, "Conditions of use not satisfied" },
  { 0x6986, EXACT, GPG_ERR_ENOENT, "Command not allowed (no current EF)" },
  { 0x6987, EXACT, GPG_ERR_CARD, "Expected secure messaging data objects missing" },
  { 0x6988, EXACT, GPG_ERR_CARD, "Incorrect secure messaging data objects" },
  { 0x6A80, EXACT, GPG_ERR_INV_VALUE, "Incorrect parameters in the command data field" },
  { 0x6A81, EXACT, GPG_ERR_NOT_SUPPORTED, "Function not supported" },
  { 0x6A82, EXACT, GPG_ERR_ENOENT, "File or application not found" },
  { 0x6A83, EXACT, GPG_ERR_NOT_FOUND, "Record not found" },
  { 0x6A84, EXACT, GPG_ERR_CARD, "Not enough memory space in the file" },
  { 0x6A85, EXACT, GPG_ERR_CARD, "Lc inconsistent with TLV structure" },
  { 0x6A86, EXACT, GPG_ERR_INV_VALUE, "Incorrect parameters P1-P2" },
  { 0x6A87, EXACT, GPG_ERR_CARD, "Lc inconsistent with parameters P1-P2" },
  { 0x6A88, EXACT, GPG_ERR_NO_OBJ, "Referenced data or reference data not found" },
  { 0x6A89, EXACT, GPG_ERR_CARD, "File already exists" },
  { 0x6A8A, EXACT, GPG_ERR_CARD, "DF name already exists" },
  { 0x6B00, EXACT, GPG_ERR_INV_VALUE, "Wrong parameters P1-P2" },
  { 0x6D00, EXACT, GPG_ERR_CARD, "Instruction code not supported or invalid" },
  { 0x6E00, EXACT, GPG_ERR_CARD, "Class not supported" },
  { 0x6F00, EXACT, GPG_ERR_CARD, "No precise diagnosis" },

  { 0x63C0, ANY_NIBBLE, GPG_ERR_BAD_PIN, "Wrong PIN, retry counter in SW2" },

  /* Not a failure: the caller is to fetch the rest with GET RESPONSE. */
  { 0x6100, ANY_SW2, GPG_ERR_NO_ERROR, "More data available" },
  { 0x6200, ANY_SW2, GPG_ERR_CARD, "Warning, state of memory unchanged" },
  { 0x6300, ANY_SW2, GPG_ERR_CARD, "Warning, state of memory changed" },
  { 0x6400, ANY_SW2, GPG_ERR_CARD, "Execution error, state of memory unchanged" },
  { 0x6500, ANY_SW2, GPG_ERR_CARD, "Execution error, state of memory changed" },
  { 0x6600, ANY_SW2, GPG_ERR_CARD, "Security-related issue" },
  { 0x6700, ANY_SW2, GPG_ERR_CARD, "Wrong length" },
  { 0x6800, ANY_SW2, GPG_ERR_CARD, "Functions in CLA not supported" },
  { 0x6900, ANY_SW2, GPG_ERR_CARD, "Command not allowed" },
  { 0x6A00, ANY_SW2, GPG_ERR_CARD, "Wrong parameters P1-P2" },
  { 0x6B00, ANY_SW2, GPG_ERR_CARD, "Wrong parameters P1-P2" },
  /* GnuPG maps only 6C00; every 6Cxx says the same thing about Le. */
  { 0x6C00, ANY_SW2, GPG_ERR_INV_VALUE, "Wrong Le field, exact length in SW2" },
  { 0x6D00, ANY_SW2, GPG_ERR_CARD, "Instruction code not supported or invalid" },
  { 0x6E00, ANY_SW2, GPG_ERR_CARD, "Class not supported" },
  { 0x6F00, ANY_SW2, GPG_ERR_CARD, "No precise diagnosis" },

  { 0x0000, 0xFFFF0000u, GPG_ERR_CARD, "Unknown status word" },
  { 0x0000, 0, GPG_ERR_INV_VALUE, "Not a status word" },
};

/* Never fails: the last row matches everything. */
static const struct sw_entry *
sw_lookup(unsigned int sw)
{
  size_t i;

  for (i = 0; i < sizeof sw_table / sizeof sw_table[0] - 1; i++)
    if ((sw & sw_table[i].mask) == sw_table[i].value)
      break;
  return &sw_table[i];
}

gpg_error_t
sw_to_error(unsigned int sw)
{
  return gpg_error(sw_lookup(sw)->code);
}

const char *
sw_describe(unsigned int sw)
{
  return sw_lookup(sw)->text;
}

int
sw_pin_retries(unsigned int sw)
{
  if ((sw & ANY_NIBBLE) != SW_WRONG_PIN)
    return -1;
  return (int)(sw & 0x0F);
}
