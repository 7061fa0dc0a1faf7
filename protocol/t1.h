/* t1.h - the T=1 block transmission protocol (ISO/IEC 7816-3:2006, clause 11)
 *
 * Two layers.  The block codec builds and checks single blocks (prologue
 * NAD PCB LEN, up to 254 bytes of INF, an LRC or CRC epilogue).  The engine
 * runs the half-duplex protocol for one APDU at a time: chaining in both
 * directions, S(IFS), S(WTX), S(ABORT), error recovery with R-blocks and
 * resynchronisation.  It knows nothing of the transport: the caller supplies
 * a function that sends one block and returns the card's reply (for a CCID
 * reader, one XfrBlock), so the same engine serves every reader type and the
 * tests can put a simulated card behind it.
 *
 * Nothing here allocates memory, keeps global state or logs.
 */
#ifndef DUALSCD_PROTOCOL_T1_H
#define DUALSCD_PROTOCOL_T1_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* Largest INF field of any block; LEN 255 is reserved. */
#define T1_MAX_INF 254
/* Largest block: prologue, INF, two bytes of CRC. */
#define T1_MAX_BLOCK (3 + T1_MAX_INF + 2)
/* IFSC and IFSD until the ATR or an S(IFS) says otherwise. */
#define T1_DEFAULT_IFS 32
/* Retransmissions of one block before a resynchronisation. */
#define T1_DEFAULT_RETRIES 3
/* Longest response APDU (65536 data bytes and SW1-SW2); a card chain
 * longer than this and than the caller's buffer is not drained further. */
#define T1_MAX_RESPONSE 65538
/* Consecutive exchanges without a byte of progress (WTX and IFS requests,
 * empty chained blocks, retransmissions) before the engine gives up. */
#define T1_MAX_STALLS 1024

/* The epilogue, chosen by the first TC for T=1 in the ATR (bit 1). */
enum t1_edc
{
  T1_EDC_LRC = 0, /* one byte, XOR of the prologue and INF */
  T1_EDC_CRC = 1  /* two bytes, see t1_crc */
};

enum t1_block_type
{
  T1_BLOCK_I = 0, /* information: a piece of an APDU */
  T1_BLOCK_R = 1, /* receive ready: acknowledgement or error report */
  T1_BLOCK_S = 2  /* supervisory: control requests and responses */
};

/* The error code of an R-block (PCB bits 4..1). */
enum t1_r_error
{
  T1_R_OK = 0,   /* error-free acknowledgement */
  T1_R_EDC = 1,  /* EDC or parity error */
  T1_R_OTHER = 2 /* any other error */
};

/* The function of an S-block (PCB bits 5..1). */
enum t1_s_type
{
  T1_S_RESYNCH = 0, /* INF empty; only the interface device requests it */
  T1_S_IFS = 1,     /* INF one byte, the new IFS, 1..254 */
  T1_S_ABORT = 2,   /* INF empty */
  T1_S_WTX = 3      /* INF one byte, the BWT multiplier */
};

/* One block, decoded.  Only the fields of its type mean anything. */
struct t1_block
{
  enum t1_block_type type;
  uint8_t nad;          /* DAD in bits 7..5, SAD in bits 3..1 */
  unsigned int seq;     /* I: N(S); R: N(R); 0 or 1 */
  int more;             /* I: the M bit, another block follows */
  enum t1_r_error rerr; /* R */
  enum t1_s_type stype; /* S */
  int response;         /* S: 1 for a response, 0 for a request */
  const uint8_t *inf;   /* INF; points into the parsed buffer */
  size_t inflen;        /* 0..254 */
};

/* Returns the XOR of LEN bytes at DATA: the LRC epilogue. */
uint8_t t1_lrc(const uint8_t *data, size_t len);

/* Returns the CRC epilogue over LEN bytes at DATA, sent high byte first.
 * ISO 7816-3 refers to the CRC of ISO/IEC 13239; as in the CCID and OpenCT
 * drivers that is x^16 + x^12 + x^5 + 1 processed low bit first (0x8408),
 * initial value 0xFFFF and no final complement (catalogued as
 * CRC-16/MCRF4XX: "123456789" gives 0x6F91). */
uint16_t t1_crc(const uint8_t *data, size_t len);

/* Returns the size of the epilogue: 1 for LRC, 2 for CRC. */
size_t t1_edc_size(enum t1_edc edc);

/* Writes BLK as a complete block with epilogue EDC into OUT (room for
 * OUTSIZE bytes; T1_MAX_BLOCK always suffices); *OUTLEN gets its length.
 * Errors: GPG_ERR_INV_VALUE for a field out of range (a type, R error
 * code or S function not listed above, a sequence number other than 0 or
 * 1, the reserved NAD bits 8 or 4, an S(IFS) value outside 1..254, an
 * unknown EDC), GPG_ERR_INV_LENGTH for an INF length its type does not
 * allow (more than 254 bytes, any on an R-block, other than exactly one
 * byte for S(IFS) and S(WTX) and none for the other S-blocks),
 * GPG_ERR_INV_ARG for INFLEN bytes at a NULL INF, GPG_ERR_BUFFER_TOO_SHORT
 * if OUT is too small. */
gpg_error_t t1_block_encode(const struct t1_block *blk, enum t1_edc edc, uint8_t *out,
                            size_t outsize, size_t *outlen);

/* Checks and decodes the LEN bytes at BUF as one block with epilogue EDC;
 * I-blocks may carry at most MAXINF bytes (our IFSD).  On success BLK->inf
 * points into BUF; on error BLK is zeroed.  Errors, in the order checked:
 * GPG_ERR_INV_VALUE for an unknown EDC; GPG_ERR_TOO_SHORT without a whole
 * prologue; GPG_ERR_INV_VALUE for LEN 255; GPG_ERR_TOO_SHORT if BUF ends
 * before the epilogue that LEN announces; GPG_ERR_INV_LENGTH if bytes
 * follow it; GPG_ERR_CHECKSUM for a wrong epilogue; GPG_ERR_INV_VALUE for
 * a malformed NAD or PCB (reserved bits set, unknown R error code or S
 * type) or an S(IFS) value of 0 or 255; GPG_ERR_INV_LENGTH for an INF
 * length that the block type does not allow; GPG_ERR_TOO_LARGE for an
 * I-block longer than MAXINF. */
gpg_error_t t1_block_parse(const uint8_t *buf, size_t len, enum t1_edc edc, size_t maxinf,
                           struct t1_block *blk);

/* Sends BLOCK (BLOCKLEN bytes) to the card and receives its reply into
 * REPLY (room for REPLYSIZE bytes, always T1_MAX_BLOCK), setting *REPLYLEN.
 * WTX is 0 for the normal block waiting time, or the multiplier of BWT
 * that the card asked for with S(WTX request); it applies to this one
 * exchange.  Returns 0, or
 *   GPG_ERR_TIMEOUT   no reply within the waiting time (a lost block),
 *   GPG_ERR_CHECKSUM  a reply arrived damaged (the reader reported a parity
 *                     error, or it did not fit REPLY),
 * which the engine recovers from; any other error is a transport failure
 * and ends the current operation. */
typedef gpg_error_t (*t1_exchange_fn)(void *opaque, const uint8_t *block, size_t blocklen,
                                      uint8_t *reply, size_t replysize, size_t *replylen,
                                      unsigned int wtx);

/* Where the link stands between two operations. */
enum t1_link
{
  T1_LINK_OK = 0, /* in step with the card */
  T1_LINK_LOST,   /* a transport error interrupted an exchange: the next
                     operation starts with a resynchronisation */
  T1_LINK_DEAD    /* resynchronisation failed: power-cycle the card, then
                     t1_reset */
};

/* The state of the protocol with one card.  Set it up with t1_init and the
 * t1_set_* functions; the fields are readable but written only here. */
struct t1_ctx
{
  t1_exchange_fn exchange;
  void *opaque;
  enum t1_edc edc;
  uint8_t nad;          /* NAD of our blocks */
  uint8_t ifsc_atr;     /* IFSC from the ATR, restored by resynchronisation */
  uint8_t ifsc;         /* the card's current IFSC: our I-blocks' limit */
  uint8_t ifsd;         /* our IFSD as the card knows it */
  uint8_t ns;           /* N(S) of our next I-block */
  uint8_t nr;           /* N(S) expected in the card's next I-block */
  unsigned int retries; /* retransmissions of one block before resynch */
  enum t1_link link;
};

/* Prepares CTX for a card just reset: LRC, NAD 0, IFSC and IFSD 32,
 * sequence numbers 0, T1_DEFAULT_RETRIES; blocks go through EXCHANGE, which
 * gets OPAQUE as its first argument. */
void t1_init(struct t1_ctx *ctx, t1_exchange_fn exchange, void *opaque);

/* Returns CTX to the state after an ATR (sequence numbers 0, IFSC the value
 * last given to t1_set_ifsc, IFSD 32, link OK), keeping the settings.  Call
 * it after every card reset. */
void t1_reset(struct t1_ctx *ctx);

/* Sets the IFSC announced by the ATR (TA for T=1), 1..254; it also becomes
 * the current IFSC.  GPG_ERR_INV_VALUE otherwise. */
gpg_error_t t1_set_ifsc(struct t1_ctx *ctx, unsigned int ifsc);

/* Sets the epilogue announced by the ATR.  GPG_ERR_INV_VALUE if unknown. */
gpg_error_t t1_set_edc(struct t1_ctx *ctx, enum t1_edc edc);

/* Sets the node addresses of our blocks, DAD and SAD 0..7 (0 and 0 when
 * addressing is not used); the card's blocks must carry them swapped.
 * GPG_ERR_INV_VALUE otherwise. */
gpg_error_t t1_set_nad(struct t1_ctx *ctx, unsigned int dad, unsigned int sad);

/* Sets how often one block is retransmitted (or an R-block sent for it)
 * before the engine resynchronises, 0..15; the resynchronisation itself is
 * tried max(RETRIES, 1) times.  GPG_ERR_INV_VALUE otherwise. */
gpg_error_t t1_set_retries(struct t1_ctx *ctx, unsigned int retries);

/* Announces IFSD (1..254) with S(IFS request) and waits for the card's
 * S(IFS response); on success CTX->ifsd is IFSD.  Call it once after the
 * ATR, before the first APDU.  Errors as for t1_transceive, and
 * GPG_ERR_INV_VALUE for an IFSD out of range. */
gpg_error_t t1_negotiate_ifsd(struct t1_ctx *ctx, unsigned int ifsd);

/* Sends S(RESYNCH request) until the card confirms (at most max(retries,
 * 1) times), then sets both sequence numbers to 0 and the IFSC to its ATR
 * value; IFSD stays as negotiated.  Returns 0, GPG_ERR_CARD_RESET if the
 * card never confirmed (the link is then dead) or the link was dead
 * already, or a transport error. */
gpg_error_t t1_resync(struct t1_ctx *ctx);

/* Sends the command APDU (APDULEN >= 1 bytes) and writes the card's
 * response APDU into RESP (room for RESPSIZE bytes); *RESPLEN gets its
 * length.  Lost and damaged blocks are recovered as ISO 7816-3 rule 7
 * prescribes; when a block still fails after CTX->retries attempts the
 * engine resynchronises and reports what went wrong:
 *   GPG_ERR_TIMEOUT            the card stopped answering, or kept asking
 *                              for more time (T1_MAX_STALLS),
 *   GPG_ERR_CHECKSUM           blocks kept arriving damaged,
 *   GPG_ERR_PROTOCOL_VIOLATION the card kept sending malformed or
 *                              unexpected blocks.
 * After these the link is in step again but whether the card executed the
 * command is unknown: the caller may repeat it if that is safe (it is not
 * for a VERIFY).  The engine never repeats a command on its own.  Other
 * errors:
 *   GPG_ERR_BUFFER_TOO_SHORT   the response did not fit RESP; the rest of
 *                              the card's chain was received and dropped,
 *   GPG_ERR_CANCELED           the card aborted the chain (S(ABORT)); the
 *                              engine answered and resynchronised,
 *   GPG_ERR_CARD_RESET         resynchronisation failed, or had failed
 *                              before: the link is dead (see T1_LINK_DEAD),
 *   GPG_ERR_INV_ARG            APDULEN is 0,
 *   a transport error          from the exchange function, unchanged; the
 *                              next operation resynchronises first.
 * On every error *RESPLEN is 0 and whatever was written to RESP is wiped. */
gpg_error_t t1_transceive(struct t1_ctx *ctx, const uint8_t *apdu, size_t apdulen,
                          uint8_t *resp, size_t respsize, size_t *resplen);

#endif /* DUALSCD_PROTOCOL_T1_H */
