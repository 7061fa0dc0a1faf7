/* test-t1.c - T=1 block codec, and the engine against a simulated card */
#include "check.h"
#include "t1.h"

/*
 * Block codec.
 */

static void
test_edc(void)
{
  static const uint8_t block[] = { 0x00, 0x40, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05 };

  CHECK_INT(t1_lrc(block, sizeof block), 0x44);
  CHECK_INT(t1_lrc(block, 0), 0x00);
  /* The catalogued check value of CRC-16/MCRF4XX. */
  CHECK_INT(t1_crc((const uint8_t *)"123456789", 9), 0x6f91);
  CHECK_INT(t1_crc(block, 0), 0xffff);
  CHECK_INT(t1_crc(block, sizeof block), 0x4296);
  CHECK_INT(t1_edc_size(T1_EDC_LRC), 1);
  CHECK_INT(t1_edc_size(T1_EDC_CRC), 2);
}

static struct t1_block
mk(enum t1_block_type type, uint8_t nad, unsigned int seq, const void *inf, size_t len)
{
  struct t1_block b;

  memset(&b, 0, sizeof b);
  b.type = type;
  b.nad = nad;
  b.seq = seq;
  b.inf = inf;
  b.inflen = len;
  return b;
}

static struct t1_block
mk_s(enum t1_s_type stype, int response, const void *inf, size_t len)
{
  struct t1_block b = mk(T1_BLOCK_S, 0, 0, inf, len);

  b.stype = stype;
  b.response = response;
  return b;
}

/* Encodes B and compares with WANT. */
static void
check_encode(struct t1_block b, enum t1_edc edc, const char *want, size_t wantlen)
{
  uint8_t out[T1_MAX_BLOCK];
  size_t n = 99;

  CHECK_OK(t1_block_encode(&b, edc, out, sizeof out, &n));
  CHECK_MEM(out, n, want, wantlen);
}

static void
test_encode_i(void)
{
  struct t1_block b = mk(T1_BLOCK_I, 0, 0, "\x01\x02\x03\x04\x05", 5);

  check_encode(b, T1_EDC_LRC, "\x00\x00\x05\x01\x02\x03\x04\x05\x04", 9);
  b.seq = 1;
  check_encode(b, T1_EDC_CRC, "\x00\x40\x05\x01\x02\x03\x04\x05\x42\x96", 10);
  b.more = 1;
  b.nad = 0x12;
  check_encode(b, T1_EDC_LRC, "\x12\x60\x05\x01\x02\x03\x04\x05\x76", 9);
  b = mk(T1_BLOCK_I, 0, 0, NULL, 0);
  check_encode(b, T1_EDC_LRC, "\x00\x00\x00\x00", 4);
}

static void
test_encode_r(void)
{
  struct t1_block b = mk(T1_BLOCK_R, 0, 1, NULL, 0);

  b.rerr = T1_R_EDC;
  check_encode(b, T1_EDC_LRC, "\x00\x91\x00\x91", 4);
  b.seq = 0;
  b.rerr = T1_R_OTHER;
  check_encode(b, T1_EDC_LRC, "\x00\x82\x00\x82", 4);
  b.rerr = T1_R_OK;
  b.nad = 0x12;
  check_encode(b, T1_EDC_CRC, "\x12\x80\x00\x85\xd2", 5);
}

static void
test_encode_s(void)
{
  check_encode(mk_s(T1_S_IFS, 0, "\xfe", 1), T1_EDC_LRC, "\x00\xc1\x01\xfe\x3e", 5);
  check_encode(mk_s(T1_S_IFS, 0, "\xfe", 1), T1_EDC_CRC, "\x00\xc1\x01\xfe\x54\x4e", 6);
  check_encode(mk_s(T1_S_IFS, 1, "\x20", 1), T1_EDC_LRC, "\x00\xe1\x01\x20\xc0", 5);
  check_encode(mk_s(T1_S_WTX, 1, "\x05", 1), T1_EDC_LRC, "\x00\xe3\x01\x05\xe7", 5);
  check_encode(mk_s(T1_S_WTX, 0, "\x00", 1), T1_EDC_LRC, "\x00\xc3\x01\x00\xc2", 5);
  check_encode(mk_s(T1_S_RESYNCH, 0, NULL, 0), T1_EDC_LRC, "\x00\xc0\x00\xc0", 4);
  check_encode(mk_s(T1_S_RESYNCH, 1, NULL, 0), T1_EDC_LRC, "\x00\xe0\x00\xe0", 4);
  check_encode(mk_s(T1_S_ABORT, 0, NULL, 0), T1_EDC_LRC, "\x00\xc2\x00\xc2", 4);
  check_encode(mk_s(T1_S_ABORT, 1, NULL, 0), T1_EDC_CRC, "\x00\xe2\x00\xe3\x1a", 5);
}

static void
test_encode_errors(void)
{
  static uint8_t big[T1_MAX_INF + 1];
  uint8_t out[T1_MAX_BLOCK];
  struct t1_block b;
  size_t n;

  b = mk(T1_BLOCK_I, 0, 2, NULL, 0);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk(T1_BLOCK_I, 0x80, 0, NULL, 0);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk(T1_BLOCK_I, 0x08, 0, NULL, 0);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk(T1_BLOCK_I, 0, 0, big, sizeof big);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_LENGTH);
  b = mk(T1_BLOCK_I, 0, 0, NULL, 3);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_ARG);
  b = mk(T1_BLOCK_I, 0, 0, big, T1_MAX_INF);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_CRC, out, T1_MAX_BLOCK - 1, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
  CHECK_OK(t1_block_encode(&b, T1_EDC_CRC, out, T1_MAX_BLOCK, &n));
  CHECK_INT(n, T1_MAX_BLOCK);
  CHECK_ERR(t1_block_encode(&b, (enum t1_edc)2, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk(T1_BLOCK_R, 0, 0, "\x00", 1);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_LENGTH);
  b = mk(T1_BLOCK_R, 0, 0, NULL, 0);
  b.rerr = (enum t1_r_error)3;
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk(T1_BLOCK_R, 0, 5, NULL, 0);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk_s((enum t1_s_type)4, 0, NULL, 0);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk_s(T1_S_IFS, 0, "\x00", 1);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk_s(T1_S_IFS, 0, "\xff", 1);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  b = mk_s(T1_S_IFS, 0, NULL, 0);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_LENGTH);
  b = mk_s(T1_S_WTX, 1, "\x01\x02", 2);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_LENGTH);
  b = mk_s(T1_S_ABORT, 0, "\x01", 1);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_LENGTH);
  b = mk((enum t1_block_type)3, 0, 0, NULL, 0);
  CHECK_ERR(t1_block_encode(&b, T1_EDC_LRC, out, sizeof out, &n), GPG_ERR_INV_VALUE);
  CHECK_INT(n, 0);
}

/* Parses BLOCK, re-encodes the result and checks it comes out unchanged. */
static struct t1_block
parse_ok(const char *block, size_t len, enum t1_edc edc)
{
  struct t1_block b;
  uint8_t out[T1_MAX_BLOCK];
  size_t n = 0;

  CHECK_OK(t1_block_parse((const uint8_t *)block, len, edc, T1_MAX_INF, &b));
  CHECK_OK(t1_block_encode(&b, edc, out, sizeof out, &n));
  CHECK_MEM(out, n, block, len);
  return b;
}

static void
test_parse(void)
{
  static const char iblk[] = "\x12\x60\x05\x01\x02\x03\x04\x05\x76";
  struct t1_block b;

  b = parse_ok(iblk, 9, T1_EDC_LRC);
  CHECK_INT(b.type, T1_BLOCK_I);
  CHECK_INT(b.nad, 0x12);
  CHECK_INT(b.seq, 1);
  CHECK_INT(b.more, 1);
  CHECK(b.inf == (const uint8_t *)iblk + 3);
  CHECK_MEM(b.inf, b.inflen, "\x01\x02\x03\x04\x05", 5);
  b = parse_ok("\x00\x40\x05\x01\x02\x03\x04\x05\x42\x96", 10, T1_EDC_CRC);
  CHECK_INT(b.seq, 1);
  CHECK_INT(b.more, 0);
  b = parse_ok("\x00\x91\x00\x91", 4, T1_EDC_LRC);
  CHECK_INT(b.type, T1_BLOCK_R);
  CHECK_INT(b.seq, 1);
  CHECK_INT(b.rerr, T1_R_EDC);
  b = parse_ok("\x00\x82\x00\x82", 4, T1_EDC_LRC);
  CHECK_INT(b.seq, 0);
  CHECK_INT(b.rerr, T1_R_OTHER);
  b = parse_ok("\x00\xc1\x01\xfe\x54\x4e", 6, T1_EDC_CRC);
  CHECK_INT(b.type, T1_BLOCK_S);
  CHECK_INT(b.stype, T1_S_IFS);
  CHECK_INT(b.response, 0);
  CHECK_INT(b.inf[0], 0xfe);
  b = parse_ok("\x00\xe3\x01\x05\xe7", 5, T1_EDC_LRC);
  CHECK_INT(b.stype, T1_S_WTX);
  CHECK_INT(b.response, 1);
  b = parse_ok("\x00\xe0\x00\xe0", 4, T1_EDC_LRC);
  CHECK_INT(b.stype, T1_S_RESYNCH);
  b = parse_ok("\x00\xc2\x00\xc2", 4, T1_EDC_LRC);
  CHECK_INT(b.stype, T1_S_ABORT);
  CHECK_INT(b.response, 0);
}

/* Checks that BLOCK is rejected with WANT and leaves nothing behind. */
#define CHECK_PARSE_ERR(block, len, edc, maxinf, want)                                   \
  do                                                                                     \
    {                                                                                    \
      struct t1_block b_;                                                                \
      memset(&b_, 0x55, sizeof b_);                                                      \
      CHECK_ERR(t1_block_parse((const uint8_t *)(block), (len), (edc), (maxinf), &b_),   \
                (want));                                                                 \
      CHECK(b_.inf == NULL && b_.inflen == 0);                                           \
    }                                                                                    \
  while (0)

static void
test_parse_errors(void)
{
  static uint8_t blk[T1_MAX_BLOCK + 8];

  CHECK_PARSE_ERR("", 0, T1_EDC_LRC, 254, GPG_ERR_TOO_SHORT);
  CHECK_PARSE_ERR("\x00\x00", 2, T1_EDC_LRC, 254, GPG_ERR_TOO_SHORT);
  CHECK_PARSE_ERR("\x00\x00\x00", 3, T1_EDC_LRC, 254, GPG_ERR_TOO_SHORT);
  CHECK_PARSE_ERR("\x00\x00\x00\x00", 4, T1_EDC_CRC, 254, GPG_ERR_TOO_SHORT);
  /* LEN promises more than arrived, or less. */
  CHECK_PARSE_ERR("\x00\x00\x05\x01\x02\x03\x04", 7, T1_EDC_LRC, 254, GPG_ERR_TOO_SHORT);
  CHECK_PARSE_ERR("\x00\x00\x01\x01\x01\x00", 6, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  CHECK_PARSE_ERR("\x00\x00\x00\x00\x00", 5, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  /* LEN 255 is reserved, whatever follows. */
  CHECK_PARSE_ERR("\x00\x00\xff\xff", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  memset(blk, 0, sizeof blk);
  blk[2] = 0xff;
  CHECK_PARSE_ERR(blk, 3 + 255 + 1, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  /* Wrong epilogue. */
  CHECK_PARSE_ERR("\x00\x00\x00\x01", 4, T1_EDC_LRC, 254, GPG_ERR_CHECKSUM);
  CHECK_PARSE_ERR("\x00\xc1\x01\xfe\x4e\x54", 6, T1_EDC_CRC, 254, GPG_ERR_CHECKSUM);
  CHECK_PARSE_ERR("\x00\xc1\x01\xfe\x54\x4f", 6, T1_EDC_CRC, 254, GPG_ERR_CHECKSUM);
  CHECK_PARSE_ERR("\x00\xc1\x01\xfe\x3e", 5, T1_EDC_CRC, 254, GPG_ERR_TOO_SHORT);
  CHECK_PARSE_ERR("\x00\x00\x00\x00", 4, (enum t1_edc)7, 254, GPG_ERR_INV_VALUE);
  /* Reserved bits: NAD b8/b4, I-block b5..b1, R-block b6, R codes 3..15. */
  CHECK_PARSE_ERR("\x80\x00\x00\x80", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x08\x00\x00\x08", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\x01\x00\x01", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\x10\x00\x10", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\xa0\x00\xa0", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\x83\x00\x83", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\x8f\x00\x8f", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  /* R-blocks carry no INF. */
  CHECK_PARSE_ERR("\x00\x80\x01\x00\x81", 5, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  /* Unknown S functions (0x04 was the old Vpp error), bad INF lengths. */
  CHECK_PARSE_ERR("\x00\xe4\x00\xe4", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\xdf\x00\xdf", 4, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\xc1\x00\xc1", 4, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  CHECK_PARSE_ERR("\x00\xc1\x02\x20\x20\xc3", 6, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  CHECK_PARSE_ERR("\x00\xc3\x00\xc3", 4, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  CHECK_PARSE_ERR("\x00\xc0\x01\x00\xc1", 5, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  CHECK_PARSE_ERR("\x00\xe2\x01\x00\xe3", 5, T1_EDC_LRC, 254, GPG_ERR_INV_LENGTH);
  /* S(IFS) values 0 and 255 are reserved. */
  CHECK_PARSE_ERR("\x00\xc1\x01\x00\xc0", 5, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  CHECK_PARSE_ERR("\x00\xe1\x01\xff\x1f", 5, T1_EDC_LRC, 254, GPG_ERR_INV_VALUE);
  /* An I-block longer than our IFSD, and one just fitting. */
  CHECK_PARSE_ERR("\x00\x00\x05\x01\x02\x03\x04\x05\x04", 9, T1_EDC_LRC, 4,
                  GPG_ERR_TOO_LARGE);
  {
    struct t1_block b;
    CHECK_OK(t1_block_parse((const uint8_t *)"\x00\x00\x05\x01\x02\x03\x04\x05\x04", 9,
                            T1_EDC_LRC, 5, &b));
  }
}

/*
 * A card on the other side of the engine: the card's half of ISO 7816-3
 * clause 11, with its own IFSC and idea of IFSD, plus scripted requests and
 * faults injected on the wire between the two.
 */

#define CARD_BUF 70000
#define LOG_SIZE 4096
#define MAX_EXCHANGES 4096

struct card
{
  enum t1_edc edc;
  uint8_t nad;           /* NAD of the card's blocks */
  unsigned int ifsc;     /* longest I-block the card accepts */
  unsigned int ifsd;     /* longest I-block the card sends */
  unsigned int ns;       /* N(S) of the card's current I-block */
  unsigned int nr;       /* N(S) expected from the reader */
  uint8_t cmd[CARD_BUF]; /* the command being received, or last received */
  size_t cmdlen;
  unsigned int cmdblocks; /* I-blocks of the current command */
  uint8_t resp[CARD_BUF];
  size_t resplen, respoff, chunk;
  int responding;             /* sending the response; cleared by a new command */
  uint8_t last[T1_MAX_BLOCK]; /* the card's last block, for repeats */
  size_t lastlen;
  int last_sreq;                 /* LAST is an S-request awaiting its response */
  uint8_t pending[T1_MAX_BLOCK]; /* held back behind an S-request */
  size_t pendinglen;
  unsigned int resyncs; /* S(RESYNCH request)s answered */
  /* Script. */
  size_t datalen;         /* response = pattern of DATALEN bytes, 90 00 */
  unsigned int wtx_count; /* S(WTX request)s before the response */
  uint8_t wtx;
  unsigned int ifs_after; /* ask for IFSC IFS_VALUE after this command block */
  uint8_t ifs_value;
  unsigned int ifs_reply_at; /* same, before this response block (1-based) */
  unsigned int abort_after;  /* S(ABORT request) after this command block */
  int bad_ns;                /* I-blocks carry the wrong N(S) */
  int ack_final;             /* acknowledge the last command block with R */
  int wtx_forever;           /* keep asking for more time */
  int silent;                /* never answer */
  int deaf_resynch;          /* never answer S(RESYNCH request) */
};

enum fault
{
  F_NONE,
  F_DROP_CMD,      /* the reader's block never reaches the card */
  F_CORRUPT_CMD,   /* it arrives with a bad EDC */
  F_DROP_REPLY,    /* the card's block is lost */
  F_CORRUPT_REPLY, /* it arrives with a bad EDC */
  F_DUP_REPLY,     /* the card misses our block; its previous one comes again */
  F_REPLACE,       /* the card's block is replaced by BYTES */
  F_TRANSPORT,     /* the transport fails */
  F_LIE            /* the transport claims a reply longer than the buffer */
};

struct fault_at
{
  unsigned int at; /* exchange number, from 1 */
  enum fault fault;
  const char *bytes;
  size_t len;
};

struct link
{
  struct card card;
  const struct fault_at *faults;
  size_t nfaults;
  unsigned int exchanges;
  unsigned int wtx[MAX_EXCHANGES + 1]; /* the multiplier each exchange got */
  uint8_t prev[T1_MAX_BLOCK + 16];
  size_t prevlen;
  char log[LOG_SIZE];
  size_t loglen;
  int log_overflow;
};

static void
card_pattern(uint8_t *buf, size_t len)
{
  size_t i;

  for (i = 0; i < len; i++)
    buf[i] = (uint8_t)(i * 7 + 3);
}

/* Builds a block of the card's into OUT; returns its length. */
static size_t
card_block(const struct card *c, struct t1_block b, uint8_t *out)
{
  size_t n = 0;

  b.nad = c->nad;
  if (t1_block_encode(&b, c->edc, out, T1_MAX_BLOCK, &n))
    abort();
  return n;
}

static size_t
card_r(const struct card *c, enum t1_r_error rerr, uint8_t *out)
{
  struct t1_block b = mk(T1_BLOCK_R, 0, c->nr, NULL, 0);

  b.rerr = rerr;
  return card_block(c, b, out);
}

static size_t
card_sreq(const struct card *c, enum t1_s_type stype, const uint8_t *value, uint8_t *out)
{
  return card_block(c, mk_s(stype, 0, value, value ? 1 : 0), out);
}

/* The card's current response block. */
static size_t
card_i(struct card *c, uint8_t *out)
{
  size_t left = c->resplen - c->respoff;
  struct t1_block b;

  c->chunk = left < c->ifsd ? left : c->ifsd;
  b = mk(T1_BLOCK_I, 0, c->bad_ns ? !c->ns : c->ns, c->resp + c->respoff, c->chunk);
  b.more = c->chunk < left;
  return card_block(c, b, out);
}

/* Sends OUT, unless an S-request of the script goes first. */
static size_t
card_send(struct card *c, size_t n, const uint8_t *out, uint8_t *reply,
          enum t1_s_type stype, const uint8_t *value)
{
  memcpy(c->pending, out, n);
  c->pendinglen = n;
  c->last_sreq = 1;
  return card_sreq(c, stype, value, reply);
}

static size_t
card_command_done(struct card *c, uint8_t *out)
{
  uint8_t blk[T1_MAX_BLOCK];
  size_t n;

  c->resplen = c->datalen + 2;
  card_pattern(c->resp, c->datalen);
  c->resp[c->datalen] = 0x90;
  c->resp[c->datalen + 1] = 0x00;
  c->respoff = 0;
  c->responding = 1;
  if (c->ack_final)
    return card_r(c, T1_R_OK, out);
  n = card_i(c, blk);
  if (c->wtx_count || c->wtx_forever)
    return card_send(c, n, blk, out, T1_S_WTX, &c->wtx);
  memcpy(out, blk, n);
  return n;
}

static size_t
card_on_i(struct card *c, const struct t1_block *b, uint8_t *out)
{
  uint8_t blk[T1_MAX_BLOCK];
  size_t n;

  if (b->seq != c->nr)
    return card_r(c, T1_R_OTHER, out);
  if (c->responding)
    {
      /* A new command acknowledges the end of our last response. */
      c->responding = 0;
      c->ns ^= 1;
      c->cmdlen = 0;
      c->cmdblocks = 0;
    }
  c->nr ^= 1;
  memcpy(c->cmd + c->cmdlen, b->inf, b->inflen);
  c->cmdlen += b->inflen;
  c->cmdblocks++;
  if (!b->more)
    return card_command_done(c, out);
  n = card_r(c, T1_R_OK, blk);
  if (c->cmdblocks == c->abort_after)
    return card_send(c, n, blk, out, T1_S_ABORT, NULL);
  if (c->cmdblocks == c->ifs_after)
    return card_send(c, n, blk, out, T1_S_IFS, &c->ifs_value);
  memcpy(out, blk, n);
  return n;
}

static size_t
card_on_r(struct card *c, const struct t1_block *b, uint8_t *out)
{
  uint8_t blk[T1_MAX_BLOCK];
  size_t n;

  if (c->last_sreq
      || (c->responding && (b->seq == c->ns || c->respoff + c->chunk == c->resplen)))
    {
      memcpy(out, c->last, c->lastlen);
      return c->lastlen;
    }
  if (!c->responding)
    return card_r(c, T1_R_OK, out);
  c->respoff += c->chunk;
  c->ns ^= 1;
  n = card_i(c, blk);
  if (c->ifs_reply_at && c->ifs_reply_at == 1 + c->respoff / c->ifsd)
    {
      c->ifs_reply_at = 0;
      return card_send(c, n, blk, out, T1_S_IFS, &c->ifs_value);
    }
  memcpy(out, blk, n);
  return n;
}

/* The reader answered our S-request: go on with what it held back. */
static size_t
card_on_sresp(struct card *c, const struct t1_block *b, uint8_t *out)
{
  struct t1_block req;

  if (!c->last_sreq || t1_block_parse(c->last, c->lastlen, c->edc, 254, &req)
      || req.stype != b->stype || (b->inflen && b->inf[0] != req.inf[0]))
    return card_r(c, T1_R_OTHER, out);
  if (b->stype == T1_S_ABORT)
    {
      /* Rule 9: the chain is dropped; an R-block hands back the turn. */
      c->last_sreq = 0;
      c->cmdlen = 0;
      c->cmdblocks = 0;
      return card_r(c, T1_R_OK, out);
    }
  if (b->stype == T1_S_IFS)
    c->ifsc = b->inf[0];
  if (b->stype == T1_S_WTX && (c->wtx_forever || --c->wtx_count))
    {
      memcpy(out, c->last, c->lastlen);
      return c->lastlen;
    }
  c->last_sreq = 0;
  memcpy(out, c->pending, c->pendinglen);
  return c->pendinglen;
}

static size_t
card_on_s(struct card *c, const struct t1_block *b, uint8_t *out)
{
  if (b->response)
    return card_on_sresp(c, b, out);
  if (b->stype == T1_S_RESYNCH)
    {
      if (c->deaf_resynch)
        return 0;
      c->ns = c->nr = 0;
      c->responding = 0;
      c->last_sreq = 0;
      c->cmdlen = 0;
      c->cmdblocks = 0;
      c->resyncs++;
      return card_block(c, mk_s(T1_S_RESYNCH, 1, NULL, 0), out);
    }
  if (b->stype == T1_S_IFS)
    {
      c->ifsd = b->inf[0];
      return card_block(c, mk_s(T1_S_IFS, 1, b->inf, 1), out);
    }
  return card_r(c, T1_R_OTHER, out);
}

/* One block in, one block out (0: the card stays silent). */
static size_t
card_process(struct card *c, const uint8_t *in, size_t inlen, uint8_t *out)
{
  struct t1_block b;
  gpg_error_t err;
  size_t n;

  if (c->silent)
    return 0;
  err = t1_block_parse(in, inlen, c->edc, c->ifsc, &b);
  if (!err && b.nad != (uint8_t)((c->nad >> 4) | (c->nad & 7) << 4))
    err = gpg_error(GPG_ERR_INV_VALUE);
  if (err && c->last_sreq)
    {
      /* Rule 7.3: repeat the request. */
      memcpy(out, c->last, c->lastlen);
      return c->lastlen;
    }
  if (err)
    n = card_r(c, gpg_err_code(err) == GPG_ERR_CHECKSUM ? T1_R_EDC : T1_R_OTHER, out);
  else if (b.type == T1_BLOCK_I)
    n = card_on_i(c, &b, out);
  else if (b.type == T1_BLOCK_R)
    n = card_on_r(c, &b, out);
  else
    n = card_on_s(c, &b, out);
  if (n)
    {
      memcpy(c->last, out, n);
      c->lastlen = n;
      if (t1_block_parse(out, n, c->edc, 254, &b) || b.type != T1_BLOCK_S || b.response)
        c->last_sreq = 0;
    }
  return n;
}

static void
log_add(struct link *l, const char *s)
{
  size_t n = strlen(s);

  if (l->loglen + n + 2 > sizeof l->log)
    {
      l->log_overflow = 1;
      return;
    }
  if (l->loglen)
    l->log[l->loglen++] = ' ';
  memcpy(l->log + l->loglen, s, n + 1);
  l->loglen += n;
}

/* Writes a short name of a block: I0+, R1e, WTX?5, IFS!32, ... */
static void
describe(const uint8_t *blk, size_t len, enum t1_edc edc, char *out, size_t outsize)
{
  static const char *const snames[] = { "RSYN", "IFS", "ABRT", "WTX" };
  static const char rcodes[] = { '\0', 'e', 'x' };
  struct t1_block b;

  if (t1_block_parse(blk, len, edc, T1_MAX_INF, &b))
    snprintf(out, outsize, "??");
  else if (b.type == T1_BLOCK_I)
    snprintf(out, outsize, "I%u%s", b.seq, b.more ? "+" : "");
  else if (b.type == T1_BLOCK_R)
    snprintf(out, outsize, "R%u%.1s", b.seq, &rcodes[b.rerr]);
  else if (b.inflen)
    snprintf(out, outsize, "%s%c%u", snames[b.stype], b.response ? '!' : '?',
             (unsigned int)b.inf[0]);
  else
    snprintf(out, outsize, "%s%c", snames[b.stype], b.response ? '!' : '?');
}

static void
log_block(struct link *l, char dir, const uint8_t *blk, size_t len, const char *mark)
{
  char name[32], entry[48];

  describe(blk, len, l->card.edc, name, sizeof name);
  snprintf(entry, sizeof entry, "%c %s%s", dir, name, mark);
  log_add(l, entry);
}

static const struct fault_at *
find_fault(const struct link *l)
{
  size_t i;

  for (i = 0; i < l->nfaults; i++)
    if (l->faults[i].at == l->exchanges)
      return &l->faults[i];
  return NULL;
}

static gpg_error_t
deliver(struct link *l, const uint8_t *out, size_t n, uint8_t *reply, size_t replysize,
        size_t *replylen)
{
  if (n > replysize)
    return gpg_error(GPG_ERR_CHECKSUM);
  memcpy(reply, out, n);
  *replylen = n;
  memcpy(l->prev, out, n);
  l->prevlen = n;
  return 0;
}

static gpg_error_t
link_exchange(void *opaque, const uint8_t *block, size_t blocklen, uint8_t *reply,
              size_t replysize, size_t *replylen, unsigned int wtx)
{
  struct link *l = opaque;
  const struct fault_at *f;
  enum fault fault;
  uint8_t in[T1_MAX_BLOCK], out[T1_MAX_BLOCK + 16];
  size_t n;

  *replylen = 0;
  if (++l->exchanges > MAX_EXCHANGES || blocklen > T1_MAX_BLOCK)
    abort();
  l->wtx[l->exchanges] = wtx;
  f = find_fault(l);
  fault = f ? f->fault : F_NONE;
  log_block(l, '>', block, blocklen,
            fault == F_DROP_CMD      ? "~"
            : fault == F_CORRUPT_CMD ? "#"
                                     : "");
  if (fault == F_TRANSPORT)
    {
      log_add(l, "< EIO");
      return gpg_error(GPG_ERR_EIO);
    }
  if (fault == F_DUP_REPLY)
    {
      log_block(l, '<', l->prev, l->prevlen, "=");
      return deliver(l, l->prev, l->prevlen, reply, replysize, replylen);
    }
  memcpy(in, block, blocklen);
  if (fault == F_CORRUPT_CMD)
    in[blocklen - 1] ^= 0x01;
  n = fault == F_DROP_CMD ? 0 : card_process(&l->card, in, blocklen, out);
  if (!n)
    {
      log_add(l, "< -");
      return gpg_error(GPG_ERR_TIMEOUT);
    }
  log_block(l, '<', out, n,
            fault == F_DROP_REPLY      ? "~"
            : fault == F_LIE           ? "!"
            : fault == F_CORRUPT_REPLY ? "#"
            : fault == F_REPLACE       ? "*"
                                       : "");
  if (fault == F_DROP_REPLY)
    return gpg_error(GPG_ERR_TIMEOUT);
  if (fault == F_CORRUPT_REPLY)
    out[n - 1] ^= 0x01;
  if (fault == F_REPLACE)
    {
      n = f->len;
      memcpy(out, f->bytes, n);
    }
  if (fault == F_LIE)
    {
      *replylen = replysize + 1;
      return 0;
    }
  return deliver(l, out, n, reply, replysize, replylen);
}

/* A reader and a card with the same settings, talking LRC through L. */
static void
setup(struct link *l, struct t1_ctx *ctx)
{
  memset(l, 0, sizeof *l);
  l->card.edc = T1_EDC_LRC;
  l->card.ifsc = T1_DEFAULT_IFS;
  l->card.ifsd = T1_DEFAULT_IFS;
  l->card.datalen = 8;
  l->card.wtx = 1;
  t1_init(ctx, link_exchange, l);
}

static void
set_faults(struct link *l, const struct fault_at *faults, size_t n)
{
  l->faults = faults;
  l->nfaults = n;
}

/* A command APDU of LEN bytes with recognisable content. */
static void
make_apdu(uint8_t *apdu, size_t len)
{
  size_t i;

  for (i = 0; i < len; i++)
    apdu[i] = (uint8_t)(0xa0 ^ i ^ (i >> 8));
}

/* Sends an APDU of APDULEN bytes and checks that the card got it whole and
 * that the response is the card's pattern of DATALEN bytes plus 90 00. */
static void
check_transceive(struct link *l, struct t1_ctx *ctx, size_t apdulen)
{
  static uint8_t apdu[CARD_BUF], resp[CARD_BUF], want[CARD_BUF];
  size_t n = 12345;

  make_apdu(apdu, apdulen);
  CHECK_OK(t1_transceive(ctx, apdu, apdulen, resp, sizeof resp, &n));
  CHECK_MEM(l->card.cmd, l->card.cmdlen, apdu, apdulen);
  card_pattern(want, l->card.datalen);
  want[l->card.datalen] = 0x90;
  want[l->card.datalen + 1] = 0x00;
  CHECK_MEM(resp, n, want, l->card.datalen + 2);
}

static void
log_clear(struct link *l)
{
  l->loglen = 0;
  l->log[0] = '\0';
  l->log_overflow = 0;
}

#define CHECK_LOG(l, want)                                                               \
  do                                                                                     \
    {                                                                                    \
      CHECK(!(l)->log_overflow);                                                         \
      CHECK_STR((l)->log, (want));                                                       \
      log_clear(l);                                                                      \
    }                                                                                    \
  while (0)

/*
 * Engine: settings and the ordinary cases.
 */

static void
test_settings(void)
{
  struct link l;
  struct t1_ctx ctx;

  setup(&l, &ctx);
  CHECK_INT(ctx.ifsc, 32);
  CHECK_INT(ctx.ifsd, 32);
  CHECK_INT(ctx.edc, T1_EDC_LRC);
  CHECK_INT(ctx.retries, 3);
  CHECK_INT(ctx.link, T1_LINK_OK);
  CHECK_ERR(t1_set_ifsc(&ctx, 0), GPG_ERR_INV_VALUE);
  CHECK_ERR(t1_set_ifsc(&ctx, 255), GPG_ERR_INV_VALUE);
  CHECK_OK(t1_set_ifsc(&ctx, 254));
  CHECK_INT(ctx.ifsc, 254);
  CHECK_ERR(t1_set_edc(&ctx, (enum t1_edc)2), GPG_ERR_INV_VALUE);
  CHECK_OK(t1_set_edc(&ctx, T1_EDC_CRC));
  CHECK_INT(ctx.edc, T1_EDC_CRC);
  CHECK_ERR(t1_set_nad(&ctx, 8, 0), GPG_ERR_INV_VALUE);
  CHECK_ERR(t1_set_nad(&ctx, 0, 8), GPG_ERR_INV_VALUE);
  CHECK_OK(t1_set_nad(&ctx, 1, 2));
  CHECK_INT(ctx.nad, 0x12);
  CHECK_ERR(t1_set_retries(&ctx, 16), GPG_ERR_INV_VALUE);
  CHECK_OK(t1_set_retries(&ctx, 0));
  CHECK_ERR(t1_negotiate_ifsd(&ctx, 0), GPG_ERR_INV_VALUE);
  CHECK_ERR(t1_negotiate_ifsd(&ctx, 255), GPG_ERR_INV_VALUE);
  ctx.ns = ctx.nr = 1;
  ctx.ifsc = 10;
  ctx.ifsd = 100;
  ctx.link = T1_LINK_DEAD;
  t1_reset(&ctx);
  CHECK_INT(ctx.ns, 0);
  CHECK_INT(ctx.nr, 0);
  CHECK_INT(ctx.ifsc, 254);
  CHECK_INT(ctx.ifsd, 32);
  CHECK_INT(ctx.link, T1_LINK_OK);
  CHECK_INT(ctx.edc, T1_EDC_CRC);
  CHECK_INT(l.exchanges, 0);
}

static void
test_simple(void)
{
  static const uint8_t apdu[] = { 0x00, 0xa4, 0x04, 0x00 };
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[16];
  size_t n;

  setup(&l, &ctx);
  l.card.datalen = 0;
  CHECK_OK(t1_transceive(&ctx, apdu, sizeof apdu, resp, sizeof resp, &n));
  CHECK_MEM(resp, n, "\x90\x00", 2);
  CHECK_MEM(l.card.cmd, l.card.cmdlen, apdu, sizeof apdu);
  CHECK_LOG(&l, "> I0 < I0");
  CHECK_INT(ctx.ns, 1);
  CHECK_INT(ctx.nr, 1);
  /* Sequence numbers alternate from one APDU to the next. */
  check_transceive(&l, &ctx, 5);
  CHECK_LOG(&l, "> I1 < I1");
  check_transceive(&l, &ctx, 5);
  CHECK_LOG(&l, "> I0 < I0");
  CHECK_INT(l.wtx[1] | l.wtx[2] | l.wtx[3], 0);
  CHECK_ERR(t1_transceive(&ctx, apdu, 0, resp, sizeof resp, &n), GPG_ERR_INV_ARG);
  CHECK_INT(l.exchanges, 3);
}

static void
test_simple_crc_nad(void)
{
  struct link l;
  struct t1_ctx ctx;

  setup(&l, &ctx);
  l.card.edc = T1_EDC_CRC;
  l.card.nad = 0x21;
  CHECK_OK(t1_set_edc(&ctx, T1_EDC_CRC));
  CHECK_OK(t1_set_nad(&ctx, 1, 2));
  check_transceive(&l, &ctx, 20);
  CHECK_LOG(&l, "> I0 < I0");
  check_transceive(&l, &ctx, 20);
  CHECK_LOG(&l, "> I1 < I1");
}

static void
test_negotiate_ifsd(void)
{
  struct link l;
  struct t1_ctx ctx;

  setup(&l, &ctx);
  CHECK_OK(t1_negotiate_ifsd(&ctx, 254));
  CHECK_INT(ctx.ifsd, 254);
  CHECK_INT(l.card.ifsd, 254);
  CHECK_LOG(&l, "> IFS?254 < IFS!254");
  /* The negotiation does not touch the sequence numbers. */
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0");
}

static void
test_negotiate_ifsd_errors(void)
{
  static const struct fault_at faults[] = {
    { 1, F_DROP_CMD, NULL, 0 },
    { 2, F_CORRUPT_REPLY, NULL, 0 },
    /* An answer with another value is no answer. */
    { 3, F_REPLACE, "\x00\xe1\x01\x20\xc0", 5 },
  };
  struct link l;
  struct t1_ctx ctx;

  setup(&l, &ctx);
  set_faults(&l, faults, 3);
  CHECK_OK(t1_negotiate_ifsd(&ctx, 254));
  CHECK_INT(ctx.ifsd, 254);
  /* Rule 7.3: the request itself is repeated. */
  CHECK_LOG(&l, "> IFS?254~ < - > IFS?254 < IFS!254# > IFS?254 < IFS!254* > IFS?254 "
                "< IFS!254");

  /* A card that never answers: 1 + 3 requests, then 3 resynchs. */
  setup(&l, &ctx);
  l.card.silent = 1;
  CHECK_ERR(t1_negotiate_ifsd(&ctx, 254), GPG_ERR_CARD_RESET);
  CHECK_INT(ctx.ifsd, 32);
  CHECK_INT(l.exchanges, 7);
  CHECK_INT(ctx.link, T1_LINK_DEAD);
  CHECK_ERR(t1_negotiate_ifsd(&ctx, 254), GPG_ERR_CARD_RESET);
  CHECK_INT(l.exchanges, 7);

  /* A card that answers with garbage but resynchronises. */
  setup(&l, &ctx);
  {
    static const struct fault_at garbage[] = {
      { 1, F_REPLACE, "\x00\xe1\x01", 3 },
      { 2, F_REPLACE, "\x00\xe1\x01", 3 },
      { 3, F_REPLACE, "\x00\xe1\x01", 3 },
      { 4, F_REPLACE, "\x00\xe1\x01", 3 },
    };
    set_faults(&l, garbage, 4);
  }
  CHECK_ERR(t1_negotiate_ifsd(&ctx, 100), GPG_ERR_PROTOCOL_VIOLATION);
  CHECK_INT(ctx.ifsd, 32);
  CHECK_INT(ctx.link, T1_LINK_OK);
  CHECK_LOG(&l, "> IFS?100 < IFS!100* > IFS?100 < IFS!100* > IFS?100 < IFS!100* "
                "> IFS?100 < IFS!100* > RSYN? < RSYN!");
}

static void
test_chaining_out(void)
{
  struct link l;
  struct t1_ctx ctx;

  /* 300 bytes in blocks of 32: nine full ones and 12 bytes. */
  setup(&l, &ctx);
  check_transceive(&l, &ctx, 300);
  CHECK_LOG(&l, "> I0+ < R1 > I1+ < R0 > I0+ < R1 > I1+ < R0 > I0+ < R1 > I1+ < R0 "
                "> I0+ < R1 > I1+ < R0 > I0+ < R1 > I1 < I0");
  CHECK_INT(l.card.cmdblocks, 10);
  CHECK_INT(ctx.ns, 0);
  CHECK_INT(ctx.nr, 1);

  /* And with IFSC 254: 254 + 46. */
  setup(&l, &ctx);
  l.card.ifsc = 254;
  CHECK_OK(t1_set_ifsc(&ctx, 254));
  check_transceive(&l, &ctx, 300);
  CHECK_LOG(&l, "> I0+ < R1 > I1 < I0");
  /* Exactly one IFSC is one block, one more byte is two. */
  check_transceive(&l, &ctx, 254);
  CHECK_LOG(&l, "> I0 < I1");
  check_transceive(&l, &ctx, 255);
  CHECK_LOG(&l, "> I1+ < R0 > I0 < I0");
}

static void
test_chaining_in(void)
{
  struct link l;
  struct t1_ctx ctx;

  /* 1002 response bytes in blocks of 254 after announcing IFSD 254. */
  setup(&l, &ctx);
  l.card.datalen = 1000;
  CHECK_OK(t1_negotiate_ifsd(&ctx, 254));
  log_clear(&l);
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0+ > R1 < I1+ > R0 < I0+ > R1 < I1");
  CHECK_INT(ctx.nr, 0);

  /* Without the negotiation the card keeps to 32 bytes: 32 blocks. */
  setup(&l, &ctx);
  l.card.datalen = 1000;
  check_transceive(&l, &ctx, 4);
  CHECK_INT(l.exchanges, 32);
  CHECK_INT(ctx.nr, 0);

  /* Both directions at once, then a longest-possible response. */
  setup(&l, &ctx);
  l.card.datalen = 65536;
  l.card.ifsc = 254;
  CHECK_OK(t1_set_ifsc(&ctx, 254));
  CHECK_OK(t1_negotiate_ifsd(&ctx, 254));
  check_transceive(&l, &ctx, 600);
  CHECK_INT(l.exchanges, 1 + 2 + 259);
}

static void
test_ifs_request_from_card(void)
{
  struct link l;
  struct t1_ctx ctx;

  /* While we chain: after the first block the card shrinks its IFSC. */
  setup(&l, &ctx);
  l.card.ifs_after = 1;
  l.card.ifs_value = 16;
  check_transceive(&l, &ctx, 100);
  CHECK_LOG(&l, "> I0+ < IFS?16 > IFS!16 < R1 > I1+ < R0 > I0+ < R1 > I1+ < R0 "
                "> I0+ < R1 > I1 < I0");
  CHECK_INT(ctx.ifsc, 16);
  /* 32 + 4 * 16 + 4, each within the IFSC in force. */
  CHECK_INT(l.card.cmdblocks, 6);

  /* While the card chains: the new IFSC applies to our next command. */
  setup(&l, &ctx);
  l.card.datalen = 100;
  l.card.ifs_reply_at = 2;
  l.card.ifs_value = 200;
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0+ > R1 < IFS?200 > IFS!200 < I1+ > R0 < I0+ > R1 < I1");
  CHECK_INT(ctx.ifsc, 200);
  l.card.ifsc = 200;
  l.card.datalen = 8;
  check_transceive(&l, &ctx, 200);
  CHECK_LOG(&l, "> I1 < I0");
}

static void
test_wtx(void)
{
  struct link l;
  struct t1_ctx ctx;

  setup(&l, &ctx);
  l.card.wtx_count = 2;
  l.card.wtx = 5;
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < WTX?5 > WTX!5 < WTX?5 > WTX!5 < I0");
  /* The multiplier goes with the answer to each request, and no further. */
  CHECK_INT(l.wtx[1], 0);
  CHECK_INT(l.wtx[2], 5);
  CHECK_INT(l.wtx[3], 5);
  check_transceive(&l, &ctx, 4);
  CHECK_INT(l.wtx[4], 0);

  /* A damaged reply after our answer: the R-block waits without WTX. */
  {
    static const struct fault_at faults[] = { { 2, F_CORRUPT_REPLY, NULL, 0 } };
    setup(&l, &ctx);
    set_faults(&l, faults, 1);
  }
  l.card.wtx_count = 1;
  l.card.wtx = 9;
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < WTX?9 > WTX!9 < I0# > R0e < I0");
  CHECK_INT(l.wtx[2], 9);
  CHECK_INT(l.wtx[3], 0);
}

static void
test_wtx_forever(void)
{
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[8];
  size_t n = 1;

  setup(&l, &ctx);
  l.card.wtx_forever = 1;
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\x84\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_TIMEOUT);
  CHECK_INT(n, 0);
  /* T1_MAX_STALLS exchanges, then one resynchronisation. */
  CHECK_INT(l.exchanges, T1_MAX_STALLS + 1);
  CHECK_INT(l.card.resyncs, 1);
  CHECK_INT(ctx.link, T1_LINK_OK);
  l.card.wtx_forever = 0;
  log_clear(&l);
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0");
}

/*
 * Engine: error recovery, by phase (ISO 7816-3 rule 7, Annex A).
 */

static void
run_faults(const struct fault_at *faults, size_t nfaults, size_t apdulen, size_t datalen,
           const char *want)
{
  struct link l;
  struct t1_ctx ctx;

  setup(&l, &ctx);
  set_faults(&l, faults, nfaults);
  l.card.datalen = datalen;
  check_transceive(&l, &ctx, apdulen);
  CHECK_LOG(&l, want);
  CHECK_INT(l.card.resyncs, 0);
  /* In step afterwards: the next APDU needs nothing but two blocks. */
  set_faults(&l, NULL, 0);
  l.exchanges = 0;
  l.card.datalen = 8;
  check_transceive(&l, &ctx, 4);
  CHECK_INT(l.exchanges, 1);
}

static void
test_lost_single(void)
{
  /* Our I-block lost: the R-block makes the card ask for it (rule 7.1). */
  static const struct fault_at f1[] = { { 1, F_DROP_CMD, NULL, 0 } };
  /* Our I-block damaged: the card asks for it again. */
  static const struct fault_at f2[] = { { 1, F_CORRUPT_CMD, NULL, 0 } };
  /* The response lost or damaged: our R-block asks for it again. */
  static const struct fault_at f3[] = { { 1, F_DROP_REPLY, NULL, 0 } };
  static const struct fault_at f4[] = { { 1, F_CORRUPT_REPLY, NULL, 0 } };
  /* Both. */
  static const struct fault_at f5[] = { { 1, F_DROP_CMD, NULL, 0 },
                                        { 2, F_CORRUPT_CMD, NULL, 0 },
                                        { 3, F_CORRUPT_REPLY, NULL, 0 } };

  run_faults(f1, 1, 4, 8, "> I0~ < - > R0x < R0 > I0 < I0");
  run_faults(f2, 1, 4, 8, "> I0# < R0e > I0 < I0");
  run_faults(f3, 1, 4, 8, "> I0 < I0~ > R0x < I0");
  run_faults(f4, 1, 4, 8, "> I0 < I0# > R0e < I0");
  run_faults(f5, 3, 4, 8, "> I0~ < - > R0x# < R0e > I0 < I0# > R0e < I0");
}

static void
test_lost_chaining_out(void)
{
  /* The card's acknowledgement lost: it repeats it (rule 7.2). */
  static const struct fault_at f1[] = { { 1, F_DROP_REPLY, NULL, 0 } };
  /* Our second block damaged: the card asks for it with R(1). */
  static const struct fault_at f2[] = { { 2, F_CORRUPT_CMD, NULL, 0 } };
  /* The acknowledgement damaged. */
  static const struct fault_at f3[] = { { 2, F_CORRUPT_REPLY, NULL, 0 } };
  /* Our last block lost, then the card's answer to the R-block lost. */
  static const struct fault_at f4[]
      = { { 3, F_DROP_CMD, NULL, 0 }, { 4, F_DROP_REPLY, NULL, 0 } };

  run_faults(f1, 1, 70, 8, "> I0+ < R1~ > R0x < R1 > I1+ < R0 > I0 < I0");
  run_faults(f2, 1, 70, 8, "> I0+ < R1 > I1+# < R1e > I1+ < R0 > I0 < I0");
  run_faults(f3, 1, 70, 8, "> I0+ < R1 > I1+ < R0# > R0e < R0 > I0 < I0");
  run_faults(f4, 2, 70, 8,
             "> I0+ < R1 > I1+ < R0 > I0~ < - > R0x < R0~ > R0x < R0 "
             "> I0 < I0");
}

static void
test_lost_chaining_in(void)
{
  /* A chained block of the card damaged or lost. */
  static const struct fault_at f1[] = { { 2, F_CORRUPT_REPLY, NULL, 0 } };
  static const struct fault_at f2[] = { { 2, F_DROP_REPLY, NULL, 0 } };
  /* Our acknowledgement lost: the R-block that follows acknowledges too. */
  static const struct fault_at f3[] = { { 2, F_DROP_CMD, NULL, 0 } };
  /* Our acknowledgement damaged: the card asks for it, we repeat it. */
  static const struct fault_at f4[] = { { 2, F_CORRUPT_CMD, NULL, 0 } };
  /* The card's block arrives twice: it is stored once. */
  static const struct fault_at f5[] = { { 2, F_DUP_REPLY, NULL, 0 } };
  /* The last block of the chain lost. */
  static const struct fault_at f6[] = { { 3, F_DROP_REPLY, NULL, 0 } };

  run_faults(f1, 1, 4, 70, "> I0 < I0+ > R1 < I1+# > R1e < I1+ > R0 < I0");
  run_faults(f2, 1, 4, 70, "> I0 < I0+ > R1 < I1+~ > R1x < I1+ > R0 < I0");
  run_faults(f3, 1, 4, 70, "> I0 < I0+ > R1~ < - > R1x < I1+ > R0 < I0");
  run_faults(f4, 1, 4, 70, "> I0 < I0+ > R1# < R1e > R1 < I1+ > R0 < I0");
  run_faults(f5, 1, 4, 70, "> I0 < I0+ > R1 < I0+= > R1x < I1+ > R0 < I0");
  run_faults(f6, 1, 4, 70, "> I0 < I0+ > R1 < I1+ > R0 < I0~ > R0x < I0");
}

static void
test_bad_blocks_from_card(void)
{
  /* LEN 255, a block longer than our IFSD, a truncated one, an R-block
   * with INF, a wrong NAD, an S-response nobody asked for, a RESYNCH
   * request (cards may not send one): each answered by R(N(R)) with
   * "other error", and the card repeats its block. */
  static const struct fault_at f[] = {
    { 1, F_REPLACE, "\x00\x00\xff\x00\xff", 5 },
  };
  static const char big[] = "\x00\x00\x21"
                            "0123456789abcdef0123456789abcdefX"
                            "\x79";
  static const struct fault_at f2[] = {
    { 1, F_REPLACE, big, 37 },
    { 2, F_REPLACE, "\x00\x00\x05\x01", 4 },
    { 3, F_REPLACE, "\x00\x80\x01\x00\x81", 5 },
  };
  static const struct fault_at f3[] = {
    { 1, F_REPLACE, "\x20\x00\x00\x20", 4 },
    { 2, F_REPLACE, "\x00\xe3\x01\x01\xe3", 5 },
    { 3, F_REPLACE, "\x00\xc0\x00\xc0", 4 },
  };

  run_faults(f, 1, 4, 8, "> I0 < I0* > R0x < I0");
  run_faults(f2, 3, 4, 8, "> I0 < I0* > R0x < I0* > R0x < I0* > R0x < I0");
  run_faults(f3, 3, 4, 8, "> I0 < I0* > R0x < I0* > R0x < I0* > R0x < I0");
}

static void
test_oversized_reply(void)
{
  static char huge[T1_MAX_BLOCK + 5];
  static const struct fault_at f[] = { { 1, F_REPLACE, huge, sizeof huge } };
  static const struct fault_at f2[] = { { 1, F_LIE, NULL, 0 } };

  /* The transport reports a reply that does not fit as damaged. */
  run_faults(f, 1, 4, 8, "> I0 < I0* > R0e < I0");
  /* A transport that claims more than the buffer holds is not believed. */
  run_faults(f2, 1, 4, 8, "> I0 < I0! > R0x < I0");
}

static void
test_unexpected_blocks(void)
{
  /* An I-block while we still chain: the card gets an R-block and sends
   * the acknowledgement it owed. */
  static const struct fault_at f1[] = { { 1, F_REPLACE, "\x00\x00\x00\x00", 4 } };
  /* R-blocks from the card in the middle of its own chain: we repeat our
   * acknowledgement each time, and resynchronise after the fourth. */
  static const struct fault_at f2[] = {
    { 2, F_REPLACE, "\x00\x80\x00\x80", 4 },
    { 3, F_REPLACE, "\x00\x91\x00\x91", 4 },
    { 4, F_REPLACE, "\x00\x80\x00\x80", 4 },
    { 5, F_REPLACE, "\x00\x80\x00\x80", 4 },
  };
  /* Wrong answers to S(RESYNCH request): an I-block, a request. */
  static const struct fault_at f3[] = {
    { 5, F_REPLACE, "\x00\x00\x00\x00", 4 },
    { 6, F_REPLACE, "\x00\xc0\x00\xc0", 4 },
  };
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[128];
  size_t n;

  run_faults(f1, 1, 70, 8, "> I0+ < R1* > R0x < R1 > I1+ < R0 > I0 < I0");
  run_faults(f2, 3, 4, 70,
             "> I0 < I0+ > R1 < I1+* > R1 < I1+* > R1 < I1+* > R1 < I1+ "
             "> R0 < I0");

  setup(&l, &ctx);
  set_faults(&l, f2, 4);
  l.card.datalen = 100;
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_PROTOCOL_VIOLATION);
  CHECK_LOG(&l, "> I0 < I0+ > R1 < I1+* > R1 < I1+* > R1 < I1+* > R1 < I1+* > RSYN? "
                "< RSYN!");

  setup(&l, &ctx);
  l.card.bad_ns = 1;
  set_faults(&l, f3, 2);
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_PROTOCOL_VIOLATION);
  CHECK_LOG(&l, "> I0 < I1 > R0x < I1 > R0x < I1 > R0x < I1 > RSYN? < RSYN!* > RSYN? "
                "< RSYN!* > RSYN? < RSYN!");
  CHECK_INT(l.card.resyncs, 3);
  CHECK_INT(ctx.link, T1_LINK_OK);
}

/*
 * Engine: unrecoverable cases.
 */

static void
test_wrong_sequence_resync(void)
{
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[64];
  size_t n = 7;

  /* The card's I-blocks always carry the wrong N(S). */
  setup(&l, &ctx);
  l.card.bad_ns = 1;
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_PROTOCOL_VIOLATION);
  CHECK_INT(n, 0);
  CHECK_LOG(&l, "> I0 < I1 > R0x < I1 > R0x < I1 > R0x < I1 > RSYN? < RSYN!");
  CHECK_INT(ctx.link, T1_LINK_OK);
  CHECK_INT(ctx.ns, 0);
  CHECK_INT(ctx.nr, 0);
  /* The card behaves again: the link is in step. */
  l.card.bad_ns = 0;
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0");

  /* Sequence numbers of a resynchronised link start at 0 again. */
  setup(&l, &ctx);
  check_transceive(&l, &ctx, 4);
  CHECK_OK(t1_resync(&ctx));
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0 > RSYN? < RSYN! > I0 < I0");

  /* A card that acknowledges our last block with an R-block. */
  setup(&l, &ctx);
  l.card.ack_final = 1;
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_PROTOCOL_VIOLATION);
  CHECK_LOG(&l, "> I0 < R1 > R0x < R1 > R0x < R1 > R0x < R1 > RSYN? < RSYN!");
}

static void
test_damaged_resync(void)
{
  static const struct fault_at f[] = {
    { 1, F_CORRUPT_REPLY, NULL, 0 }, { 2, F_CORRUPT_REPLY, NULL, 0 },
    { 3, F_CORRUPT_REPLY, NULL, 0 }, { 4, F_CORRUPT_REPLY, NULL, 0 },
    { 5, F_CORRUPT_REPLY, NULL, 0 },
  };
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[64];
  size_t n;

  /* Four damaged answers, then the first S(RESYNCH response) too. */
  setup(&l, &ctx);
  set_faults(&l, f, 5);
  l.card.datalen = 100;
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_CHECKSUM);
  CHECK_LOG(&l, "> I0 < I0+# > R0e < I0+# > R0e < I0+# > R0e < I0+# > RSYN? < RSYN!# "
                "> RSYN? < RSYN!");
  CHECK_INT(l.card.resyncs, 2);
  /* Nothing of the partial response is left in RESP. */
  l.card.datalen = 8;
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0");
}

static void
test_dead_card(void)
{
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[64];
  size_t n;

  /* The card stops answering in the middle of our chain. */
  setup(&l, &ctx);
  l.card.deaf_resynch = 1;
  {
    static const struct fault_at f[] = {
      { 2, F_DROP_CMD, NULL, 0 },
      { 3, F_DROP_CMD, NULL, 0 },
      { 4, F_DROP_CMD, NULL, 0 },
      { 5, F_DROP_CMD, NULL, 0 },
    };
    set_faults(&l, f, 4);
  }
  CHECK_ERR(t1_transceive(&ctx,
                          (const uint8_t *)"0123456789012345678901234567890123456789", 40,
                          resp, sizeof resp, &n),
            GPG_ERR_CARD_RESET);
  CHECK_LOG(&l, "> I0+ < R1 > I1~ < - > R0x~ < - > R0x~ < - > R0x~ < - > RSYN? < - "
                "> RSYN? < - > RSYN? < -");
  CHECK_INT(ctx.link, T1_LINK_DEAD);
  /* Dead until reset; nothing reaches the card meanwhile. */
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_CARD_RESET);
  CHECK_ERR(t1_resync(&ctx), GPG_ERR_CARD_RESET);
  CHECK_INT(l.exchanges, 8);
  /* After a power cycle (the card starts afresh too) all is well. */
  l.card.ns = 0;
  l.card.nr = 0;
  l.card.responding = 0;
  l.card.cmdlen = 0;
  l.card.deaf_resynch = 0;
  log_clear(&l);
  t1_reset(&ctx);
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0");
}

static void
test_no_retries(void)
{
  static const struct fault_at f[] = { { 1, F_CORRUPT_REPLY, NULL, 0 } };
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[64];
  size_t n;

  /* With no retries the first failure resynchronises, tried once. */
  setup(&l, &ctx);
  set_faults(&l, f, 1);
  CHECK_OK(t1_set_retries(&ctx, 0));
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_CHECKSUM);
  CHECK_LOG(&l, "> I0 < I0# > RSYN? < RSYN!");
}

static void
test_response_too_long(void)
{
  static uint8_t resp[300];
  struct link l;
  struct t1_ctx ctx;
  size_t n = 5;

  /* 1002 bytes for a 300-byte buffer: the whole chain is taken in and
   * dropped, so the link stays in step. */
  setup(&l, &ctx);
  l.card.datalen = 1000;
  memset(resp, 0xee, sizeof resp);
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
  CHECK_INT(l.exchanges, 32);
  CHECK_INT(l.card.resyncs, 0);
  /* The 288 bytes that did fit are wiped, the rest untouched. */
  CHECK(resp[0] == 0 && resp[287] == 0 && resp[288] == 0xee);
  l.card.datalen = 8;
  log_clear(&l);
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I1 < I0");

  /* Exactly fitting is fine; one byte less is not. */
  setup(&l, &ctx);
  l.card.datalen = 298;
  CHECK_OK(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n));
  CHECK_INT(n, 300);
  CHECK_ERR(t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, 299, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_ERR(t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, NULL, 0, &n),
            GPG_ERR_BUFFER_TOO_SHORT);
}

static void
test_endless_chain(void)
{
  static uint8_t resp[300];
  struct link l;
  struct t1_ctx ctx;
  size_t n;

  /* A card whose chain is longer than any response APDU. */
  setup(&l, &ctx);
  CHECK_OK(t1_negotiate_ifsd(&ctx, 254));
  l.card.datalen = T1_MAX_RESPONSE + 1000;
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(l.card.resyncs, 1);
  CHECK_INT(ctx.link, T1_LINK_OK);
  /* 1 + 258 blocks of 254 bytes fit within T1_MAX_RESPONSE, the next not. */
  CHECK_INT(l.exchanges, 1 + 1 + 258 + 1);
}

static void
test_abort_from_card(void)
{
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[64];
  size_t n;

  setup(&l, &ctx);
  l.card.abort_after = 2;
  CHECK_ERR(t1_transceive(&ctx,
                          (const uint8_t *)"0123456789012345678901234567890123456789"
                                           "0123456789012345678901234567890123456789",
                          80, resp, sizeof resp, &n),
            GPG_ERR_CANCELED);
  CHECK_LOG(&l, "> I0+ < R1 > I1+ < ABRT? > ABRT! < R0 > RSYN? < RSYN!");
  CHECK_INT(ctx.link, T1_LINK_OK);
  l.card.abort_after = 0;
  check_transceive(&l, &ctx, 80);
  CHECK_LOG(&l, "> I0+ < R1 > I1+ < R0 > I0 < I0");
}

static void
test_transport_error(void)
{
  static const struct fault_at f[] = { { 2, F_TRANSPORT, NULL, 0 } };
  struct link l;
  struct t1_ctx ctx;
  uint8_t resp[64];
  size_t n;

  setup(&l, &ctx);
  set_faults(&l, f, 1);
  l.card.datalen = 100;
  CHECK_ERR(
      t1_transceive(&ctx, (const uint8_t *)"\x00\xb0\x00\x00", 4, resp, sizeof resp, &n),
      GPG_ERR_EIO);
  CHECK_INT(ctx.link, T1_LINK_LOST);
  /* The next operation resynchronises first. */
  l.card.datalen = 8;
  check_transceive(&l, &ctx, 4);
  CHECK_LOG(&l, "> I0 < I0+ > R1 < EIO > RSYN? < RSYN! > I0 < I0");

  /* A transport error during the resynchronisation is passed on too. */
  {
    static const struct fault_at f2[]
        = { { 1, F_TRANSPORT, NULL, 0 }, { 2, F_TRANSPORT, NULL, 0 } };
    setup(&l, &ctx);
    set_faults(&l, f2, 2);
  }
  CHECK_ERR(t1_negotiate_ifsd(&ctx, 254), GPG_ERR_EIO);
  CHECK_ERR(t1_negotiate_ifsd(&ctx, 254), GPG_ERR_EIO);
  CHECK_INT(ctx.link, T1_LINK_LOST);
  CHECK_OK(t1_negotiate_ifsd(&ctx, 254));
  CHECK_LOG(&l, "> IFS?254 < EIO > RSYN? < EIO > RSYN? < RSYN! > IFS?254 < IFS!254");
}

int
main(void)
{
  RUN(test_edc);
  RUN(test_encode_i);
  RUN(test_encode_r);
  RUN(test_encode_s);
  RUN(test_encode_errors);
  RUN(test_parse);
  RUN(test_parse_errors);
  RUN(test_settings);
  RUN(test_simple);
  RUN(test_simple_crc_nad);
  RUN(test_negotiate_ifsd);
  RUN(test_negotiate_ifsd_errors);
  RUN(test_chaining_out);
  RUN(test_chaining_in);
  RUN(test_ifs_request_from_card);
  RUN(test_wtx);
  RUN(test_wtx_forever);
  RUN(test_lost_single);
  RUN(test_lost_chaining_out);
  RUN(test_lost_chaining_in);
  RUN(test_bad_blocks_from_card);
  RUN(test_oversized_reply);
  RUN(test_unexpected_blocks);
  RUN(test_wrong_sequence_resync);
  RUN(test_damaged_resync);
  RUN(test_dead_card);
  RUN(test_no_retries);
  RUN(test_response_too_long);
  RUN(test_endless_chain);
  RUN(test_abort_from_card);
  RUN(test_transport_error);
  return check_done();
}
