/* test-apdu.c - command encoding, chaining, response parsing, 61xx/6Cxx */
#include "apdu.h"
#include "check.h"

#define B(s) ((const uint8_t *)(s))

/* Encodes CMD in FORM into a scratch buffer and compares with WANT. */
static void
check_encoding(const struct apdu_cmd *cmd, enum apdu_form form, const char *want,
               size_t wantlen, int line)
{
  static uint8_t buf[APDU_EXTENDED_MAX];
  size_t n = 99;
  gpg_error_t err;

  err = apdu_encode(cmd, form, buf, sizeof buf, &n);
  if (err)
    printf("# line %d: %s\n", line, gpg_strerror(err));
  CHECK_OK(err);
  if (n != wantlen || memcmp(buf, want, n))
    printf("# line %d\n", line);
  CHECK_MEM(buf, n, want, wantlen);
}

#define ENC(cmd, form, want)                                                             \
  check_encoding((cmd), (form), want, sizeof want - 1, __LINE__)

static void
test_encode_case1_2(void)
{
  struct apdu_cmd c = { 0x00, 0xCA, 0x00, 0x6E, NULL, 0, APDU_LE_NONE };

  ENC(&c, APDU_FORM_AUTO, "\x00\xCA\x00\x6E");
  ENC(&c, APDU_FORM_SHORT, "\x00\xCA\x00\x6E");
  ENC(&c, APDU_FORM_EXTENDED, "\x00\xCA\x00\x6E");
  c.le = 1;
  ENC(&c, APDU_FORM_AUTO, "\x00\xCA\x00\x6E\x01");
  ENC(&c, APDU_FORM_EXTENDED, "\x00\xCA\x00\x6E\x00\x00\x01");
  c.le = 255;
  ENC(&c, APDU_FORM_SHORT, "\x00\xCA\x00\x6E\xFF");
  c.le = 256;
  ENC(&c, APDU_FORM_AUTO, "\x00\xCA\x00\x6E\x00");
  ENC(&c, APDU_FORM_EXTENDED, "\x00\xCA\x00\x6E\x00\x01\x00");
  c.le = APDU_LE_MAX;
  ENC(&c, APDU_FORM_AUTO, "\x00\xCA\x00\x6E\x00");
  ENC(&c, APDU_FORM_SHORT, "\x00\xCA\x00\x6E\x00");
  ENC(&c, APDU_FORM_EXTENDED, "\x00\xCA\x00\x6E\x00\x00\x00");
  c.le = 257;
  ENC(&c, APDU_FORM_AUTO, "\x00\xCA\x00\x6E\x00\x01\x01");
  c.le = 65535;
  ENC(&c, APDU_FORM_AUTO, "\x00\xCA\x00\x6E\x00\xFF\xFF");
  c.le = 65536;
  ENC(&c, APDU_FORM_AUTO, "\x00\xCA\x00\x6E\x00\x00\x00");
}

static void
test_encode_case3_4(void)
{
  static uint8_t data[65535];
  static uint8_t buf[APDU_EXTENDED_MAX + 1];
  struct apdu_cmd c = { 0x00, 0x20, 0x00, 0x81, B("123456"), 6, APDU_LE_NONE };
  size_t n;

  ENC(&c, APDU_FORM_AUTO,
      "\x00\x20\x00\x81\x06"
      "123456");
  ENC(&c, APDU_FORM_EXTENDED,
      "\x00\x20\x00\x81\x00\x00\x06"
      "123456");
  c.le = 256;
  ENC(&c, APDU_FORM_SHORT,
      "\x00\x20\x00\x81\x06"
      "123456\x00");
  c.le = 65536;
  ENC(&c, APDU_FORM_AUTO,
      "\x00\x20\x00\x81\x00\x00\x06"
      "123456\x00\x00");
  c.le = 2;
  ENC(&c, APDU_FORM_EXTENDED,
      "\x00\x20\x00\x81\x00\x00\x06"
      "123456\x00\x02");
  c.le = APDU_LE_MAX;
  ENC(&c, APDU_FORM_EXTENDED,
      "\x00\x20\x00\x81\x00\x00\x06"
      "123456\x00\x00");
  /* Lc 0 means no data, whatever DATA points at. */
  c.lc = 0;
  c.le = APDU_LE_NONE;
  ENC(&c, APDU_FORM_AUTO, "\x00\x20\x00\x81");

  /* The largest short and extended commands. */
  memset(data, 0xA5, sizeof data);
  c.data = data;
  c.lc = 255;
  c.le = 256;
  CHECK_OK(apdu_encode(&c, APDU_FORM_SHORT, buf, sizeof buf, &n));
  CHECK_INT(n, APDU_SHORT_MAX);
  CHECK_INT(buf[4], 0xFF);
  CHECK_INT(buf[n - 1], 0x00);
  c.lc = 256;
  CHECK_OK(apdu_encode(&c, APDU_FORM_AUTO, buf, sizeof buf, &n));
  CHECK_INT(n, 4 + 3 + 256 + 2);
  CHECK_MEM(buf + 4, 3, "\x00\x01\x00", 3);
  CHECK_MEM(buf + n - 2, 2, "\x01\x00", 2);
  c.lc = 65535;
  c.le = 65536;
  CHECK_OK(apdu_encode(&c, APDU_FORM_AUTO, buf, sizeof buf, &n));
  CHECK_INT(n, APDU_EXTENDED_MAX);
  CHECK_MEM(buf + 4, 3, "\x00\xFF\xFF", 3);
  CHECK_MEM(buf + n - 2, 2, "\x00\x00", 2);
  CHECK_INT(buf[7], 0xA5);
  CHECK_INT(buf[n - 3], 0xA5);
}

static void
test_encode_errors(void)
{
  static const uint8_t data[300];
  uint8_t buf[16];
  struct apdu_cmd c = { 0x00, 0xDA, 0x00, 0xC4, data, 3, APDU_LE_NONE };
  size_t n = 99;

  /* Exactly fitting and one byte short. */
  CHECK_OK(apdu_encode(&c, APDU_FORM_AUTO, buf, 8, &n));
  CHECK_INT(n, 8);
  CHECK_ERR(apdu_encode(&c, APDU_FORM_AUTO, buf, 7, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
  CHECK_ERR(apdu_encode(&c, APDU_FORM_EXTENDED, buf, 9, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_ERR(apdu_encode(&c, APDU_FORM_AUTO, NULL, 100, &n), GPG_ERR_BUFFER_TOO_SHORT);
  c.le = 1;
  CHECK_ERR(apdu_encode(&c, APDU_FORM_EXTENDED, buf, 11, &n), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_OK(apdu_encode(&c, APDU_FORM_EXTENDED, buf, 12, &n));

  /* Impossible commands. */
  c.le = 65537;
  CHECK_ERR(apdu_encode(&c, APDU_FORM_AUTO, buf, sizeof buf, &n), GPG_ERR_INV_VALUE);
  c.le = APDU_LE_MAX - 1;
  CHECK_ERR(apdu_encode(&c, APDU_FORM_AUTO, buf, sizeof buf, &n), GPG_ERR_INV_VALUE);
  c.le = APDU_LE_NONE;
  c.lc = 65536;
  CHECK_ERR(apdu_encode(&c, APDU_FORM_EXTENDED, buf, sizeof buf, &n), GPG_ERR_INV_VALUE);
  c.lc = 1;
  c.data = NULL;
  CHECK_ERR(apdu_encode(&c, APDU_FORM_AUTO, buf, sizeof buf, &n), GPG_ERR_INV_VALUE);
  c.data = data;
  CHECK_ERR(apdu_encode(&c, (enum apdu_form)3, buf, sizeof buf, &n), GPG_ERR_INV_VALUE);

  /* Extended needed but forbidden. */
  c.lc = 256;
  CHECK_ERR(apdu_encode(&c, APDU_FORM_SHORT, buf, sizeof buf, &n), GPG_ERR_TOO_LARGE);
  c.lc = 1;
  c.le = 257;
  CHECK_ERR(apdu_encode(&c, APDU_FORM_SHORT, buf, sizeof buf, &n), GPG_ERR_TOO_LARGE);
  CHECK_INT(n, 0);
}

static void
test_chain(void)
{
  static uint8_t data[600];
  struct apdu_cmd c = { 0x00, 0xDB, 0x3F, 0xFF, data, sizeof data, 256 };
  struct apdu_chain ch;
  struct apdu_cmd part;
  size_t i;

  for (i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)i;
  CHECK_OK(apdu_chain_init(&ch, &c, 255));
  CHECK_INT(apdu_chain_next(&ch, &part), 1);
  CHECK_INT(part.cla, 0x10);
  CHECK_INT(part.ins, 0xDB);
  CHECK_INT(part.p1, 0x3F);
  CHECK_INT(part.p2, 0xFF);
  CHECK(part.data == data);
  CHECK_INT(part.lc, 255);
  CHECK_INT(part.le, APDU_LE_NONE);
  CHECK_INT(apdu_chain_next(&ch, &part), 1);
  CHECK_INT(part.cla, 0x10);
  CHECK(part.data == data + 255);
  CHECK_INT(part.lc, 255);
  CHECK_INT(part.le, APDU_LE_NONE);
  CHECK_INT(apdu_chain_next(&ch, &part), 1);
  CHECK_INT(part.cla, 0x00);
  CHECK(part.data == data + 510);
  CHECK_INT(part.lc, 90);
  CHECK_INT(part.le, 256);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);
  CHECK(part.data == NULL);
  CHECK_INT(part.lc, 0);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);

  /* An exact multiple: the last part is a full one. */
  c.lc = 510;
  c.cla = 0x0C;
  CHECK_OK(apdu_chain_init(&ch, &c, 255));
  CHECK_INT(apdu_chain_next(&ch, &part), 1);
  CHECK_INT(part.cla, 0x1C);
  CHECK_INT(apdu_chain_next(&ch, &part), 1);
  CHECK_INT(part.cla, 0x0C);
  CHECK_INT(part.lc, 255);
  CHECK(part.data == data + 255);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);

  /* Short enough for one part: the command itself. */
  CHECK_OK(apdu_chain_init(&ch, &c, 510));
  CHECK_INT(apdu_chain_next(&ch, &part), 1);
  CHECK_INT(part.cla, 0x0C);
  CHECK_INT(part.lc, 510);
  CHECK_INT(part.le, 256);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);

  /* No data: one part. */
  c.lc = 0;
  c.data = NULL;
  CHECK_OK(apdu_chain_init(&ch, &c, 1));
  CHECK_INT(apdu_chain_next(&ch, &part), 1);
  CHECK_INT(part.cla, 0x0C);
  CHECK(part.data == NULL);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);

  /* Chunks of one byte. */
  c.data = data;
  c.lc = 3;
  CHECK_OK(apdu_chain_init(&ch, &c, 1));
  for (i = 0; i < 3; i++)
    {
      CHECK_INT(apdu_chain_next(&ch, &part), 1);
      CHECK_INT(part.lc, 1);
      CHECK(part.data == data + i);
      CHECK_INT(part.cla, i < 2 ? 0x1C : 0x0C);
    }
  CHECK_INT(apdu_chain_next(&ch, &part), 0);
}

static void
test_chain_errors(void)
{
  static const uint8_t data[4];
  struct apdu_cmd c = { 0x00, 0xDB, 0x3F, 0xFF, data, sizeof data, APDU_LE_NONE };
  struct apdu_chain ch;
  struct apdu_cmd part;

  CHECK_ERR(apdu_chain_init(&ch, &c, 0), GPG_ERR_INV_VALUE);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);
  CHECK_ERR(apdu_chain_init(&ch, &c, 65536), GPG_ERR_INV_VALUE);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);
  CHECK_OK(apdu_chain_init(&ch, &c, 65535));
  c.cla = 0x10;
  CHECK_ERR(apdu_chain_init(&ch, &c, 2), GPG_ERR_INV_VALUE);
  CHECK_INT(apdu_chain_next(&ch, &part), 0);
  c.cla = 0x00;
  c.data = NULL;
  CHECK_ERR(apdu_chain_init(&ch, &c, 2), GPG_ERR_INV_VALUE);
  c.data = data;
  c.lc = 65536;
  CHECK_ERR(apdu_chain_init(&ch, &c, 2), GPG_ERR_INV_VALUE);
  c.lc = 4;
  c.le = 65537;
  CHECK_ERR(apdu_chain_init(&ch, &c, 2), GPG_ERR_INV_VALUE);
}

static void
test_parse_response(void)
{
  struct apdu_resp r;
  static const uint8_t ok[] = { 0x90, 0x00 };
  static const uint8_t more[] = { 0xAA, 0xBB, 0x61, 0x10 };

  CHECK_OK(apdu_parse_response(ok, 2, &r));
  CHECK_INT(r.len, 0);
  CHECK_INT(r.sw, 0x9000);
  CHECK(r.data == ok);
  CHECK_OK(apdu_parse_response(more, 4, &r));
  CHECK_INT(r.sw, 0x6110);
  CHECK(r.data == more);
  CHECK_INT(r.len, 2);
  CHECK_ERR(apdu_parse_response(more, 1, &r), GPG_ERR_TOO_SHORT);
  CHECK_INT(r.sw, 0);
  CHECK(r.data == NULL);
  CHECK_ERR(apdu_parse_response(more, 0, &r), GPG_ERR_TOO_SHORT);
  CHECK_ERR(apdu_parse_response(NULL, 0, &r), GPG_ERR_TOO_SHORT);
  CHECK_ERR(apdu_parse_response(NULL, 2, &r), GPG_ERR_INV_VALUE);
}

/* A scripted card: answers in order, records what it was sent. */
enum
{
  MAX_STEPS = 8,
  LOG_SIZE = 300
};

struct fake_card
{
  const uint8_t *answer[MAX_STEPS];
  size_t answerlen[MAX_STEPS];
  size_t nanswers;
  int repeat_last;     /* answer the last one forever */
  gpg_error_t fail_at; /* error returned instead of answer FAIL_STEP */
  size_t fail_step;
  size_t calls;
  uint8_t sent[MAX_STEPS][LOG_SIZE];
  size_t sentlen[MAX_STEPS];
};

static gpg_error_t
fake_transmit(void *ctx, const uint8_t *apdu, size_t apdulen, const uint8_t **resp,
              size_t *resplen)
{
  struct fake_card *card = ctx;
  size_t step = card->calls++;

  if (step < MAX_STEPS)
    {
      card->sentlen[step] = apdulen;
      memcpy(card->sent[step], apdu, apdulen < LOG_SIZE ? apdulen : LOG_SIZE);
    }
  if (card->fail_at && step == card->fail_step)
    return card->fail_at;
  if (step >= card->nanswers)
    {
      if (!card->repeat_last || !card->nanswers)
        return gpg_error(GPG_ERR_CARD_REMOVED);
      step = card->nanswers - 1;
    }
  *resp = card->answer[step];
  *resplen = card->answerlen[step];
  return 0;
}

static void
card_add(struct fake_card *card, const void *answer, size_t len)
{
  card->answer[card->nanswers] = answer;
  card->answerlen[card->nanswers++] = len;
}

#define ANSWER(card, s) card_add((card), (s), sizeof(s) - 1)

static uint8_t cmdbuf[APDU_EXTENDED_MAX];

static struct apdu_io
make_io(struct fake_card *card)
{
  struct apdu_io io = { fake_transmit, card, cmdbuf, sizeof cmdbuf, 0 };

  memset(card, 0, sizeof *card);
  return io;
}

static void
test_transceive_plain(void)
{
  struct fake_card card;
  struct apdu_io io = make_io(&card);
  struct apdu_cmd c = { 0x00, 0xCA, 0x00, 0xC4, NULL, 0, APDU_LE_MAX };
  uint8_t out[16];
  size_t n;
  unsigned int sw;

  ANSWER(&card, "\x01\x7F\x7F\x7F\x03\x00\x03\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x9000);
  CHECK_MEM(out, n, "\x01\x7F\x7F\x7F\x03\x00\x03", 7);
  CHECK_INT(card.calls, 1);
  CHECK_MEM(card.sent[0], card.sentlen[0], "\x00\xCA\x00\xC4\x00", 5);

  /* An error status word is an answer, not a failure. */
  io = make_io(&card);
  ANSWER(&card, "\x6A\x88");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x6A88);
  CHECK_INT(n, 0);

  /* Extended form as asked. */
  io = make_io(&card);
  ANSWER(&card, "\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_EXTENDED, out, sizeof out, &n, &sw));
  CHECK_MEM(card.sent[0], card.sentlen[0], "\x00\xCA\x00\xC4\x00\x00\x00", 7);
}

static void
test_transceive_more_data(void)
{
  static uint8_t a1[2 + 16], a2[5 + 2], big[256 + 2];
  struct fake_card card;
  struct apdu_io io = make_io(&card);
  struct apdu_cmd c = { 0x00, 0xA4, 0x04, 0x00, B("\xD2\x76"), 2, APDU_LE_NONE };
  uint8_t out[300], want[300];
  size_t i, n;
  unsigned int sw;

  for (i = 0; i < 16; i++)
    a1[i] = want[i] = (uint8_t)i;
  a1[16] = 0x61;
  a1[17] = 0x05;
  for (i = 0; i < 5; i++)
    a2[i] = want[16 + i] = (uint8_t)(0xF0 + i);
  a2[5] = 0x90;
  a2[6] = 0x00;
  ANSWER(&card, "\x61\x10");
  card_add(&card, a1, sizeof a1);
  card_add(&card, a2, sizeof a2);
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x9000);
  CHECK_MEM(out, n, want, 21);
  CHECK_INT(card.calls, 3);
  CHECK_MEM(card.sent[0], card.sentlen[0], "\x00\xA4\x04\x00\x02\xD2\x76", 7);
  CHECK_MEM(card.sent[1], card.sentlen[1], "\x00\xC0\x00\x00\x10", 5);
  CHECK_MEM(card.sent[2], card.sentlen[2], "\x00\xC0\x00\x00\x05", 5);

  /* Data with the 61xx, and 61 00 meaning 256. */
  io = make_io(&card);
  memset(big, 0x42, 256);
  big[256] = 0x90;
  big[257] = 0x00;
  ANSWER(&card, "\xAA\xBB\x61\x00");
  card_add(&card, big, sizeof big);
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x9000);
  CHECK_INT(n, 258);
  CHECK_MEM(out, 2, "\xAA\xBB", 2);
  CHECK_INT(out[2], 0x42);
  CHECK_INT(out[257], 0x42);
  CHECK_MEM(card.sent[1], card.sentlen[1], "\x00\xC0\x00\x00\x00", 5);

  /* 62 82 from GET RESPONSE ends the sequence with its data kept. */
  io = make_io(&card);
  ANSWER(&card, "\x61\x04");
  ANSWER(&card, "\x01\x02\x62\x82");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x6282);
  CHECK_MEM(out, n, "\x01\x02", 2);

  /* An error half way keeps what came before. */
  io = make_io(&card);
  ANSWER(&card, "\xAA\x61\x04");
  ANSWER(&card, "\x6F\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x6F00);
  CHECK_MEM(out, n, "\xAA", 1);
  CHECK_INT(card.calls, 2);
}

/* GET RESPONSE takes the command's class, less the chaining bit. */
static void
test_transceive_get_response_cla(void)
{
  static const struct
  {
    uint8_t cla, want;
  } cases[] = { { 0x00, 0x00 }, { 0x10, 0x00 }, { 0x0C, 0x0C }, { 0x1C, 0x0C },
                { 0x51, 0x41 }, { 0x80, 0x80 }, { 0x90, 0x90 } };
  struct fake_card card;
  struct apdu_io io;
  struct apdu_cmd c = { 0, 0xCA, 0x00, 0x6E, NULL, 0, 256 };
  uint8_t out[8];
  size_t i, n;
  unsigned int sw;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      io = make_io(&card);
      ANSWER(&card, "\x61\x01");
      ANSWER(&card, "\x07\x90\x00");
      c.cla = cases[i].cla;
      CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
      CHECK_INT(card.sent[1][0], cases[i].want);
      CHECK_MEM(card.sent[1] + 1, card.sentlen[1] - 1, "\xC0\x00\x00\x01", 4);
    }
}

static void
test_transceive_exact_length(void)
{
  struct fake_card card;
  struct apdu_io io = make_io(&card);
  struct apdu_cmd c = { 0x00, 0xCA, 0x00, 0x65, NULL, 0, 256 };
  uint8_t out[16];
  size_t n;
  unsigned int sw;

  ANSWER(&card, "\x6C\x03");
  ANSWER(&card, "\x01\x02\x03\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x9000);
  CHECK_MEM(out, n, "\x01\x02\x03", 3);
  CHECK_INT(card.calls, 2);
  CHECK_MEM(card.sent[1], card.sentlen[1], "\x00\xCA\x00\x65\x03", 5);

  /* Only once: a second 6Cxx is the answer. */
  io = make_io(&card);
  ANSWER(&card, "\x6C\x03");
  ANSWER(&card, "\x6C\x02");
  ANSWER(&card, "\x01\x02\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x6C02);
  CHECK_INT(n, 0);
  CHECK_INT(card.calls, 2);

  /* 6Cxx to a command without Le: the resend carries one. */
  io = make_io(&card);
  c.data = B("\x5F\x50");
  c.lc = 2;
  c.le = APDU_LE_NONE;
  ANSWER(&card, "\x6C\x00");
  ANSWER(&card, "\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_MEM(card.sent[0], card.sentlen[0], "\x00\xCA\x00\x65\x02\x5F\x50", 7);
  CHECK_MEM(card.sent[1], card.sentlen[1], "\x00\xCA\x00\x65\x02\x5F\x50\x00", 8);

  /* In the extended form the resend stays extended; then 61xx. */
  io = make_io(&card);
  ANSWER(&card, "\x6C\x04");
  ANSWER(&card, "\x01\x02\x61\x02");
  ANSWER(&card, "\x03\x04\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_EXTENDED, out, sizeof out, &n, &sw));
  CHECK_INT(sw, 0x9000);
  CHECK_MEM(out, n, "\x01\x02\x03\x04", 4);
  CHECK_MEM(card.sent[1], card.sentlen[1], "\x00\xCA\x00\x65\x00\x00\x02\x5F\x50\x00\x04",
            11);
  CHECK_MEM(card.sent[2], card.sentlen[2], "\x00\xC0\x00\x00\x02", 5);

  /* Whatever came with the 6Cxx is dropped. */
  io = make_io(&card);
  ANSWER(&card, "\xEE\x6C\x01");
  ANSWER(&card, "\x01\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));
  CHECK_MEM(out, n, "\x01", 1);
}

/* A card that sends more than it announced. */
static void
test_transceive_lies(void)
{
  struct fake_card card;
  struct apdu_io io = make_io(&card);
  struct apdu_cmd c = { 0x00, 0xCA, 0x00, 0x6E, NULL, 0, 256 };
  uint8_t out[64];
  size_t n = 99;
  unsigned int sw = 99;

  ANSWER(&card, "\x61\x02");
  ANSWER(&card, "\x01\x02\x03\x90\x00");
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_INV_RESPONSE);
  CHECK_INT(n, 0);
  CHECK_INT(sw, 0);

  io = make_io(&card);
  ANSWER(&card, "\x6C\x01");
  ANSWER(&card, "\x01\x02\x90\x00");
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_INV_RESPONSE);

  /* Exactly what was announced is fine. */
  io = make_io(&card);
  ANSWER(&card, "\x61\x02");
  ANSWER(&card, "\x01\x02\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw));

  /* Answers too short to hold a status word. */
  io = make_io(&card);
  ANSWER(&card, "\x90");
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_TOO_SHORT);
  io = make_io(&card);
  ANSWER(&card, "");
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_TOO_SHORT);
  io = make_io(&card);
  ANSWER(&card, "\x61\x10");
  ANSWER(&card, "\x00");
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_TOO_SHORT);
  io = make_io(&card);
  card_add(&card, NULL, 2);
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_INV_VALUE);
}

/* A card that answers 61xx forever. */
static void
test_transceive_endless(void)
{
  struct fake_card card;
  struct apdu_io io = make_io(&card);
  struct apdu_cmd c = { 0x00, 0xCA, 0x00, 0x6E, NULL, 0, 256 };
  uint8_t out[64];
  size_t n;
  unsigned int sw;

  io.max_rounds = 5;
  ANSWER(&card, "\x61\x00");
  card.repeat_last = 1;
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_LIMIT_REACHED);
  CHECK_INT(card.calls, 1 + 5);

  io = make_io(&card);
  ANSWER(&card, "\x61\x01");
  card.repeat_last = 1;
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_LIMIT_REACHED);
  CHECK_INT(card.calls, 1 + APDU_DEFAULT_MAX_ROUNDS);

  /* With data each round, the buffer ends it first. */
  io = make_io(&card);
  ANSWER(&card, "\x61\x01");
  ANSWER(&card, "\x55\x61\x01");
  card.repeat_last = 1;
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(card.calls, 1 + sizeof out + 1);
  CHECK_INT(n, 0);
}

static void
test_transceive_buffer(void)
{
  struct fake_card card;
  struct apdu_io io = make_io(&card);
  struct apdu_cmd c = { 0x00, 0xCA, 0x00, 0x6E, NULL, 0, 256 };
  uint8_t out[4];
  size_t n;
  unsigned int sw;

  ANSWER(&card, "\x01\x02\x61\x02");
  ANSWER(&card, "\x03\x04\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, 4, &n, &sw));
  CHECK_MEM(out, n, "\x01\x02\x03\x04", 4);

  io = make_io(&card);
  ANSWER(&card, "\x01\x02\x61\x02");
  ANSWER(&card, "\x03\x04\x90\x00");
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, 3, &n, &sw),
            GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_INT(n, 0);
  CHECK_INT(sw, 0);

  /* Data that comes with a 6Cxx is dropped, so it cannot overflow. */
  io = make_io(&card);
  ANSWER(&card, "\xEE\xEE\xEE\xEE\xEE\x6C\x01");
  ANSWER(&card, "\x01\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, 3, &n, &sw));
  CHECK_MEM(out, n, "\x01", 1);

  io = make_io(&card);
  ANSWER(&card, "\x01\x90\x00");
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, NULL, 0, &n, &sw),
            GPG_ERR_BUFFER_TOO_SHORT);
  io = make_io(&card);
  ANSWER(&card, "\x90\x00");
  CHECK_OK(apdu_transceive(&io, &c, APDU_FORM_AUTO, NULL, 0, &n, &sw));
  CHECK_INT(sw, 0x9000);
}

static void
test_transceive_errors(void)
{
  struct fake_card card;
  struct apdu_io io = make_io(&card);
  struct apdu_cmd c = { 0x00, 0xCA, 0x00, 0x6E, NULL, 0, 256 };
  uint8_t out[8], small[4];
  size_t n;
  unsigned int sw;

  /* The transport's error comes back as it is, at any step. */
  ANSWER(&card, "\x61\x02");
  card.fail_at = gpg_error(GPG_ERR_CARD_NOT_PRESENT);
  card.fail_step = 1;
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_CARD_NOT_PRESENT);
  CHECK_INT(card.calls, 2);
  io = make_io(&card);
  card.fail_at = gpg_error(GPG_ERR_EIO);
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_EIO);

  /* Encoding errors reach no card. */
  io = make_io(&card);
  io.cmdbuf = small;
  io.cmdbufsize = sizeof small;
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_BUFFER_TOO_SHORT);
  io = make_io(&card);
  c.le = 257;
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_SHORT, out, sizeof out, &n, &sw),
            GPG_ERR_TOO_LARGE);
  CHECK_INT(card.calls, 0);
  io.transmit = NULL;
  CHECK_ERR(apdu_transceive(&io, &c, APDU_FORM_AUTO, out, sizeof out, &n, &sw),
            GPG_ERR_INV_VALUE);
}

/* Decodes WANTLEN bytes and compares every field. */
static void
check_decode(const char *apdu, size_t len, size_t lc, size_t le, int ext, int line)
{
  struct apdu_cmd c;
  int extended = -1;
  gpg_error_t err;

  err = apdu_decode_command(B(apdu), len, &c, &extended);
  if (err || c.lc != lc || c.le != le || extended != ext)
    printf("# line %d\n", line);
  CHECK_OK(err);
  CHECK_INT(c.cla, (uint8_t)apdu[0]);
  CHECK_INT(c.ins, (uint8_t)apdu[1]);
  CHECK_INT(c.p1, (uint8_t)apdu[2]);
  CHECK_INT(c.p2, (uint8_t)apdu[3]);
  CHECK_INT(c.lc, lc);
  CHECK_INT(c.le, le);
  CHECK_INT(extended, ext);
  CHECK(lc ? c.data != NULL : c.data == NULL);
}

#define DEC(apdu, lc, le, ext) check_decode(apdu, sizeof apdu - 1, lc, le, ext, __LINE__)

static void
test_decode_cases(void)
{
  static uint8_t big[4 + 3 + 65535 + 2];
  struct apdu_cmd c;
  int ext;

  DEC("\x00\xCA\x00\x6E", 0, APDU_LE_NONE, 0);             /* 1 */
  DEC("\x00\xCA\x00\x6E\x10", 0, 16, 0);                   /* 2S */
  DEC("\x00\xCA\x00\x6E\x00", 0, 256, 0);                  /* 2S, 256 */
  DEC("\x00\x20\x00\x81\x02\x31\x32", 2, APDU_LE_NONE, 0); /* 3S */
  DEC("\x00\x2A\x9E\x9A\x01\xAA\x00", 1, 256, 0);          /* 4S */
  DEC("\x00\x2A\x9E\x9A\x01\xAA\x05", 1, 5, 0);
  DEC("\x00\xCA\x00\x6E\x00\x01\x00", 0, 256, 1);                   /* 2E */
  DEC("\x00\xCA\x00\x6E\x00\x00\x00", 0, 65536, 1);                 /* 2E, 65536 */
  DEC("\x00\xDA\x00\x5B\x00\x00\x01\x41", 1, APDU_LE_NONE, 1);      /* 3E */
  DEC("\x00\x2A\x9E\x9A\x00\x00\x02\xAA\xBB\x00\x00", 2, 65536, 1); /* 4E */
  DEC("\x00\x2A\x9E\x9A\x00\x00\x02\xAA\xBB\x02\x00", 2, 512, 1);

  /* The largest extended command: Lc FFFF, Le 0000. */
  memset(big, 0x5A, sizeof big);
  big[4] = 0;
  big[5] = 0xFF;
  big[6] = 0xFF;
  big[sizeof big - 2] = 0;
  big[sizeof big - 1] = 0;
  CHECK_OK(apdu_decode_command(big, sizeof big, &c, &ext));
  CHECK_INT(c.lc, 65535);
  CHECK_INT(c.le, 65536);
  CHECK(c.data == big + 7);
  CHECK_INT(ext, 1);
}

/* Every APDU here is malformed: GPG_ERR_INV_LENGTH, outputs zeroed. */
static void
check_bad(const char *apdu, size_t len, int line)
{
  struct apdu_cmd c;
  int ext = -1;
  gpg_error_t err;

  err = apdu_decode_command(B(apdu), len, &c, &ext);
  if (gpg_err_code(err) != GPG_ERR_INV_LENGTH)
    printf("# line %d\n", line);
  CHECK_ERR(err, GPG_ERR_INV_LENGTH);
  CHECK_INT(ext, 0);
  CHECK_INT(c.ins, 0);
  CHECK_INT(c.lc, 0);
  CHECK(c.data == NULL);
}

#define BAD(apdu) check_bad(apdu, sizeof apdu - 1, __LINE__)

static void
test_decode_errors(void)
{
  struct apdu_cmd c;
  int ext;

  check_bad("", 0, __LINE__);
  BAD("\x00");
  BAD("\x00\xCA\x00");
  /* Short Lc with too few or too many bytes behind it. */
  BAD("\x00\x20\x00\x81\x03\x31\x32");
  BAD("\x00\x20\x00\x81\x01\x31\x32\x33");
  BAD("\x00\x20\x00\x81\xFF\x31");
  /* Short Lc 00 followed by data reads as extended, which it is not. */
  BAD("\x00\xCA\x00\x6E\x00\x00");
  BAD("\x00\xDA\x00\x5B\x00\x41");
  /* Extended Lc 0000 with more bytes: no case has that shape. */
  BAD("\x00\xDA\x00\x5B\x00\x00\x00\x41");
  BAD("\x00\xDA\x00\x5B\x00\x00\x00\x00\x00");
  /* Extended Lc with missing data. */
  BAD("\x00\xDA\x00\x5B\x00\x00\x03\x41\x42");
  BAD("\x00\xDA\x00\x5B\x00\x01\x00\x41");
  /* Extended with a one-byte Le, or a trailing byte, or three Le bytes. */
  BAD("\x00\x2A\x9E\x9A\x00\x00\x01\xAA\x00");
  BAD("\x00\x2A\x9E\x9A\x00\x00\x01\xAA\x00\x00\x00");
  /* Short Le of two bytes. */
  BAD("\x00\x2A\x9E\x9A\x01\xAA\x00\x00");
  CHECK_ERR(apdu_decode_command(NULL, 4, &c, &ext), GPG_ERR_INV_VALUE);
}

/* Every command apdu_encode writes decodes to itself. */
static void
test_decode_round_trip(void)
{
  static uint8_t data[300], buf[APDU_EXTENDED_MAX];
  static const size_t lcs[] = { 0, 1, 255, 256, 300 };
  static const size_t les[] = { APDU_LE_NONE, 1, 256, 257, 65536 };
  struct apdu_cmd c = { 0x10, 0xDB, 0x3F, 0xFF, data, 0, 0 }, d;
  size_t i, j, n;
  int ext;

  for (i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)i;
  for (i = 0; i < sizeof lcs / sizeof *lcs; i++)
    for (j = 0; j < sizeof les / sizeof *les; j++)
      {
        c.lc = lcs[i];
        c.le = les[j];
        CHECK_OK(apdu_encode(&c, APDU_FORM_AUTO, buf, sizeof buf, &n));
        CHECK_OK(apdu_decode_command(buf, n, &d, &ext));
        CHECK_INT(d.cla, c.cla);
        CHECK_INT(d.p2, c.p2);
        CHECK_INT(d.lc, c.lc);
        CHECK_INT(d.le, c.le);
        CHECK_INT(ext, c.lc > 255 || c.le > 256);
        CHECK(!c.lc || !memcmp(d.data, data, c.lc));
      }
}

int
main(void)
{
  RUN(test_encode_case1_2);
  RUN(test_encode_case3_4);
  RUN(test_encode_errors);
  RUN(test_chain);
  RUN(test_chain_errors);
  RUN(test_parse_response);
  RUN(test_transceive_plain);
  RUN(test_transceive_more_data);
  RUN(test_transceive_get_response_cla);
  RUN(test_transceive_exact_length);
  RUN(test_transceive_lies);
  RUN(test_transceive_endless);
  RUN(test_transceive_buffer);
  RUN(test_transceive_errors);
  RUN(test_decode_cases);
  RUN(test_decode_errors);
  RUN(test_decode_round_trip);
  return check_done();
}
