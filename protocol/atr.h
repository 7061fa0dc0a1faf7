/* atr.h - ISO 7816-3 Answer To Reset: structure, checks and derived parameters
 *
 * atr_parse takes the bytes a reader reports after a reset and fills a
 * self-contained struct atr_info: a copy of the ATR, every interface byte
 * with the meaning ISO 7816-3 gives it at its position, the historical bytes,
 * the protocols offered, and the transmission parameters derived from the
 * interface bytes.  Each derived parameter is either set by the ATR (its
 * ATR_SET_* bit is in INFO->SET) or holds the ISO 7816-3 default.
 *
 * A malformed ATR yields an error code and, if the caller asks for it, the
 * offset of the offending byte and a sentence saying what is wrong, ready to
 * be shown to a user.  Pure code: no I/O, no allocation, no global state.
 */
#ifndef DUALSCD_PROTOCOL_ATR_H
#define DUALSCD_PROTOCOL_ATR_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* TS plus at most 32 further bytes (ISO 7816-3, 8.2.1). */
#define ATR_MAX_LEN 33

/* Interface bytes sit between T0 and the historical bytes. */
#define ATR_MAX_IBYTES (ATR_MAX_LEN - 2)

/* T is a 4-bit field; T=15 is never listed as a protocol. */
#define ATR_MAX_PROTOCOLS 15

/* Room for atr_error.reason, terminating NUL included. */
#define ATR_REASON_SIZE 160

enum atr_convention
{
  ATR_CONV_DIRECT,  /* TS = 3B */
  ATR_CONV_INVERSE, /* TS = 3F */
};

/* Which of TAi, TBi, TCi, TDi an interface byte is. */
enum atr_kind
{
  ATR_TA,
  ATR_TB,
  ATR_TC,
  ATR_TD,
};

/* What an interface byte means, decided by atr_parse from its position and
 * the protocol the preceding TD named. */
enum atr_meaning
{
  ATR_M_FI_DI,       /* TA1: Fi, f(max) and Di */
  ATR_M_VPP,         /* TB1, TB2: programming voltage, deprecated, ignored */
  ATR_M_GUARD_TIME,  /* TC1: extra guard time N */
  ATR_M_MODE,        /* TA2: specific mode */
  ATR_M_WI,          /* TC2: waiting time integer WI for T=0 */
  ATR_M_STRUCTURE,   /* TDi: which bytes follow, and a protocol T */
  ATR_M_IFSC,        /* first TA for T=1 */
  ATR_M_BWI_CWI,     /* first TB for T=1 */
  ATR_M_EDC,         /* first TC for T=1 */
  ATR_M_CLOCK_CLASS, /* first TA for T=15: clock stop and classes */
  ATR_M_SPU,         /* first TB for T=15: use of contact C6 (SPU) */
  ATR_M_OTHER,       /* not interpreted: other protocols, repeated or RFU bytes */
};

/* One interface byte. */
struct atr_ibyte
{
  enum atr_kind kind;
  unsigned int index; /* the i of TAi, 1 for TA1 */
  int t;              /* T named by TD(i-1); -1 for i = 1 */
  enum atr_meaning meaning;
  uint8_t value;
  size_t offset; /* position in the ATR */
};

/* Bits of atr_info.set: which derived values the ATR set explicitly. */
enum atr_set
{
  ATR_SET_FI = 1 << 0,         /* fi and fmax_khz, from TA1 */
  ATR_SET_DI = 1 << 1,         /* di, from TA1 */
  ATR_SET_GUARD_TIME = 1 << 2, /* guard_time_n, from TC1 */
  ATR_SET_MODE = 1 << 3,       /* specific_mode and its details, from TA2 */
  ATR_SET_WI = 1 << 4,         /* t0.wi, from TC2 */
  ATR_SET_IFSC = 1 << 5,       /* t1.ifsc */
  ATR_SET_BWI = 1 << 6,        /* t1.bwi */
  ATR_SET_CWI = 1 << 7,        /* t1.cwi */
  ATR_SET_EDC = 1 << 8,        /* t1.edc */
  ATR_SET_CLOCK_STOP = 1 << 9, /* t15.clock_stop */
  ATR_SET_CLASSES = 1 << 10,   /* t15.classes */
  ATR_SET_SPU = 1 << 11,       /* t15.spu */
};

enum atr_edc
{
  ATR_EDC_LRC = 0,
  ATR_EDC_CRC = 1,
};

/* The values of bits 8-7 of the first TA for T=15. */
enum atr_clock_stop
{
  ATR_CLOCK_STOP_NO = 0,  /* clock stop not supported */
  ATR_CLOCK_STOP_L = 1,   /* only in state L */
  ATR_CLOCK_STOP_H = 2,   /* only in state H */
  ATR_CLOCK_STOP_ANY = 3, /* no preference */
};

/* Bits 3-1 of atr_info.t15.classes; bits 6-4 are RFU. */
#define ATR_CLASS_A 0x01 /* 5 V */
#define ATR_CLASS_B 0x02 /* 3 V */
#define ATR_CLASS_C 0x04 /* 1.8 V */

struct atr_info
{
  uint8_t bytes[ATR_MAX_LEN]; /* the ATR as parsed, TS first */
  size_t len;
  enum atr_convention convention;

  struct atr_ibyte ibytes[ATR_MAX_IBYTES]; /* in ATR order */
  size_t n_ibytes;

  size_t hist_offset; /* historical bytes: bytes[hist_offset..+hist_len) */
  size_t hist_len;
  int has_tck; /* the last byte is a TCK (and it is correct) */

  /* Protocols offered, in the order the TDi name them, without repeats;
   * just T=0 when there is no TD1. */
  uint8_t protocols[ATR_MAX_PROTOCOLS];
  size_t n_protocols;
  int has_t15; /* a TDi names T=15: global bytes follow */

  unsigned int set; /* ATR_SET_* */

  unsigned int fi;           /* clock rate conversion factor; 0 if TA1 codes RFU */
  unsigned int fmax_khz;     /* maximum clock frequency in kHz; 0 if RFU */
  unsigned int di;           /* baud rate adjustment factor; 0 if RFU */
  unsigned int guard_time_n; /* extra guard time N in etu; 255 is special */

  /* TA2 present: the card starts in the specific mode. */
  int specific_mode;
  unsigned int specific_t; /* protocol of the specific mode */
  int implicit_params;     /* Fi/Di are implicit, not those of TA1 */
  int mode_fixed;          /* the card cannot change to negotiable mode */

  struct
  {
    unsigned int wi; /* waiting time integer, default 10 */
  } t0;

  struct
  {
    unsigned int ifsc; /* 1..254, default 32 */
    unsigned int bwi;  /* default 4 */
    unsigned int cwi;  /* default 13 */
    enum atr_edc edc;  /* default LRC */
  } t1;

  /* Valid only with the matching ATR_SET_* bit; otherwise ISO 7816-3's
   * assumption for a card that says nothing: no clock stop, class A. */
  struct
  {
    enum atr_clock_stop clock_stop;
    unsigned int classes; /* bits 6-1 of the first TA for T=15 */
    uint8_t spu;          /* first TB for T=15 */
  } t15;
};

/* Where and why atr_parse rejected an ATR. */
struct atr_error
{
  size_t offset;                /* offending byte; the length if one is missing */
  char reason[ATR_REASON_SIZE]; /* one sentence, no trailing newline */
};

/* Parses the LEN bytes at ATR into INFO.  On error INFO is cleared and, if
 * ERROR is not NULL, ERROR gets the position and a readable reason.
 * Errors: GPG_ERR_TOO_SHORT (the ATR ends before what T0 and the TDi
 * announce), GPG_ERR_INV_VALUE (TS not 3B/3F, T=15 in TD1, IFSC 00 or FF),
 * GPG_ERR_INV_LENGTH (bytes beyond the announced end, or more than
 * ATR_MAX_LEN announced), GPG_ERR_CHECKSUM (TCK wrong). */
gpg_error_t atr_parse(const uint8_t *atr, size_t len, struct atr_info *info,
                      struct atr_error *error);

/* Returns 1 if INFO offers protocol T, else 0. */
int atr_offers(const struct atr_info *info, unsigned int t);

/* Returns interface byte KIND with index I (TC1: ATR_TC, 1) of INFO, or
 * NULL if the ATR does not have it. */
const struct atr_ibyte *atr_find(const struct atr_info *info, enum atr_kind kind,
                                 unsigned int i);

/* Returns "A", "B", "A and B", "C", "B and C" or "A, B and C" for a class
 * indicator CLASSES (bits 6-1), or NULL for the combinations ISO 7816-3
 * leaves RFU. */
const char *atr_classes_name(unsigned int classes);

/* Returns "not supported", "state L", "state H" or "no preference"; "?"
 * for a value outside the enum. */
const char *atr_clock_stop_name(enum atr_clock_stop clock_stop);

#endif /* DUALSCD_PROTOCOL_ATR_H */
