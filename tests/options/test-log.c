/* test-log.c - log.c: line format, file mode, categories, APDU redaction, threads */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static char tmpdir[] = "/tmp/dualscd-log-XXXXXX";
static char logpath[512];

/* Starts a fresh log file with CATS enabled. */
static void
fresh_log(unsigned int cats, int allow_pins)
{
  unlink(logpath);
  CHECK_OK(log_setup(logpath, cats, allow_pins));
}

static char *
read_log(void)
{
  FILE *fp = fopen(logpath, "r");
  char *buf;
  long len;

  if (!fp)
    return calloc(1, 1);
  fseek(fp, 0, SEEK_END);
  len = ftell(fp);
  rewind(fp);
  buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
  if (buf && len > 0 && fread(buf, 1, (size_t)len, fp) != (size_t)len)
    buf[0] = 0;
  fclose(fp);
  return buf;
}

static int
count_lines(const char *text)
{
  int n = 0;

  for (; *text; text++)
    n += *text == '\n';
  return n;
}

static void
line_format_and_mode(void)
{
  struct stat st;
  regex_t re;
  char *text;
  mode_t old = umask(0);

  fresh_log(0, 0);
  umask(old);
  log_msg(LOG_INFO, LOG_CAT_APP, "reader %s opened", "Virtual PCD 00 00");
  log_msg(LOG_ERROR, LOG_CAT_APP, "trailing newline is not doubled\n");
  CHECK_INT(stat(logpath, &st), 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  text = read_log();
  CHECK_INT(
      regcomp(
          &re,
          "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} dualscd\\[[0-9]+\\] "
          "reader Virtual PCD 00 00 opened\n"
          "[0-9-]{10} [0-9:]{8} dualscd\\[[0-9]+\\] trailing newline is not doubled\n$",
          REG_EXTENDED),
      0);
  CHECK(regexec(&re, text, 0, NULL, 0) == 0);
  if (regexec(&re, text, 0, NULL, 0))
    printf("# log: %s", text);
  regfree(&re);
  free(text);
}

static void
appends(void)
{
  char *text;

  fresh_log(0, 0);
  log_msg(LOG_INFO, 0, "first");
  CHECK_OK(log_setup(logpath, 0, 0)); /* reopening must not truncate */
  log_msg(LOG_INFO, 0, "second");
  text = read_log();
  CHECK(strstr(text, "first\n") && strstr(text, "second\n"));
  free(text);
  CHECK_ERR(log_setup("/nonexistent/dir/log", 0, 0), GPG_ERR_ENOENT);
  log_msg(LOG_INFO, 0, "third"); /* the old target stays */
  text = read_log();
  CHECK(strstr(text, "third\n") != NULL);
  free(text);
}

static void
categories(void)
{
  char *text;

  fresh_log(LOG_CAT_IPC | LOG_CAT_PCSC, 0);
  CHECK(log_enabled(LOG_CAT_IPC));
  CHECK(log_enabled(LOG_CAT_PCSC));
  CHECK(!log_enabled(LOG_CAT_CARD_IO));
  CHECK(!log_enabled(LOG_CAT_APP));
  log_msg(LOG_DEBUG, LOG_CAT_IPC, "<- SERIALNO");
  log_msg(LOG_DEBUG, LOG_CAT_APP, "hidden app detail");
  log_msg(LOG_DEBUG, LOG_CAT_PCSC, "SCardConnect done");
  log_msg(LOG_INFO, LOG_CAT_APP, "info is always shown");
  log_apdu(1, (const uint8_t *)"\x00\xA4\x04\x00", 4);
  text = read_log();
  CHECK(strstr(text, "] DBG: ipc: <- SERIALNO\n") != NULL);
  CHECK(strstr(text, "] DBG: pcsc: SCardConnect done\n") != NULL);
  CHECK(strstr(text, "hidden app detail") == NULL);
  CHECK(strstr(text, "info is always shown") != NULL);
  CHECK(strstr(text, "A4") == NULL);
  CHECK_INT(count_lines(text), 3);
  free(text);
}

static void
control_chars_escaped(void)
{
  char *text;

  fresh_log(0, 0);
  log_msg(LOG_INFO, 0, "evil\n2026-01-01 00:00:00 dualscd[1] forged\x1b[0m");
  text = read_log();
  CHECK_INT(count_lines(text), 1);
  CHECK(strstr(text, "evil\\x0a2026") != NULL);
  CHECK(strstr(text, "\\x1b[0m") != NULL);
  free(text);
}

static void
long_message_cut(void)
{
  char big[5000];
  char *text;

  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  fresh_log(0, 0);
  log_msg(LOG_INFO, 0, "%s", big);
  text = read_log();
  CHECK_INT(count_lines(text), 1);
  CHECK(strstr(text, "xxx...\n") != NULL);
  free(text);
}

/* Whether NEEDLE occurs in the message part of any line of TEXT: after
 * the "] " that ends the timestamp and pid prefix. */
static int
dump_contains(const char *text, const char *needle)
{
  const char *line, *end, *msg, *hit;

  for (line = text; *line; line = *end ? end + 1 : end)
    {
      end = strchr(line, '\n');
      if (!end)
        end = line + strlen(line);
      msg = strstr(line, "] ");
      if (!msg || msg > end)
        msg = line;
      hit = strstr(msg, needle);
      if (hit && hit < end)
        return 1;
    }
  return 0;
}

/* VERIFY PW1 (81) with PIN "123456" = 31 32 33 34 35 36. */
static const uint8_t verify_apdu[]
    = { 0x00, 0x20, 0x00, 0x81, 0x06, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36 };

static void
verify_redacted(void)
{
  char *text;

  fresh_log(LOG_CAT_CARD_IO, 0);
  log_apdu(1, verify_apdu, sizeof verify_apdu);
  log_apdu(0, (const uint8_t *)"\x90\x00", 2);
  text = read_log();
  CHECK(strstr(text, "] DBG: card-io: -> 00 20 00 81 [7 bytes hidden]\n") != NULL);
  CHECK(strstr(text, "] DBG: card-io: <- 90 00\n") != NULL);
  /* No PIN byte in what the dump says (the timestamp and pid before it may
   * contain any digits). */
  CHECK(!dump_contains(text, "31 32"));
  CHECK(!dump_contains(text, "36"));
  CHECK(!dump_contains(text, "123456"));
  free(text);
}

static void
verify_with_pin_logging(void)
{
  char *text;

  fresh_log(LOG_CAT_CARD_IO, 1);
  log_apdu(1, verify_apdu, sizeof verify_apdu);
  text = read_log();
  CHECK(strstr(text, "-> 00 20 00 81 06 31 32 33 34 35 36\n") != NULL);
  free(text);
}

static void
secret_commands_redacted(void)
{
  static const struct
  {
    const char *hex_shown;
    uint8_t apdu[9];
  } cases[] = {
    { "-> 00 24 00 83 [5 bytes hidden]",
      { 0x00, 0x24, 0x00, 0x83, 0x04, 0xAA, 0xBB, 0xCC, 0xDD } },
    { "-> 00 2C 02 81 [5 bytes hidden]",
      { 0x00, 0x2C, 0x02, 0x81, 0x04, 0xAA, 0xBB, 0xCC, 0xDD } },
    { "-> 00 DA 00 D3 [5 bytes hidden]",
      { 0x00, 0xDA, 0x00, 0xD3, 0x04, 0xAA, 0xBB, 0xCC, 0xDD } },
    { "-> 00 DA 00 F9 [5 bytes hidden]",
      { 0x00, 0xDA, 0x00, 0xF9, 0x04, 0xAA, 0xBB, 0xCC, 0xDD } },
    { "-> 10 DB 3F FF [5 bytes hidden]",
      { 0x10, 0xDB, 0x3F, 0xFF, 0x04, 0x4D, 0xBB, 0xCC, 0xDD } },
    { "-> 00 DA 00 5B 04 AA BB CC DD",
      { 0x00, 0xDA, 0x00, 0x5B, 0x04, 0xAA, 0xBB, 0xCC, 0xDD } },
  };
  char *text;
  size_t i;

  fresh_log(LOG_CAT_CARD_IO, 0);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    log_apdu(1, cases[i].apdu, sizeof cases[i].apdu);
  text = read_log();
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      CHECK(strstr(text, cases[i].hex_shown) != NULL);
      if (!strstr(text, cases[i].hex_shown))
        printf("#   missing: %s\n", cases[i].hex_shown);
    }
  CHECK_INT(count_lines(text), 6);
  free(text);
}

static void
decipher_response_hidden(void)
{
  static const uint8_t pso[] = { 0x00, 0x2A, 0x80, 0x86, 0x03, 0x00, 0x01, 0x02, 0x00 };
  static const uint8_t answer[] = { 0xDE, 0xAD, 0xBE, 0xEF, 0x61, 0x02 };
  static const uint8_t rest[] = { 0xCA, 0xFE, 0x90, 0x00 };
  static const uint8_t get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x02 };
  char *text;

  fresh_log(LOG_CAT_CARD_IO, 0);
  log_apdu(1, pso, sizeof pso);
  log_apdu(0, answer, sizeof answer);
  log_apdu(1, get_response, sizeof get_response);
  log_apdu(0, rest, sizeof rest);
  log_apdu(1, (const uint8_t *)"\x00\xCA\x00\x6E\x00", 5);
  log_apdu(0, (const uint8_t *)"\x6E\x01\x90\x00", 4);
  text = read_log();
  CHECK(strstr(text, "<- [4 bytes hidden] 61 02\n") != NULL);
  CHECK(strstr(text, "<- [2 bytes hidden] 90 00\n") != NULL);
  CHECK(strstr(text, "DE AD") == NULL);
  CHECK(strstr(text, "CA FE") == NULL);
  CHECK(strstr(text, "<- 6E 01 90 00\n") != NULL);
  free(text);
}

static void
long_apdu_split(void)
{
  uint8_t apdu[300];
  char *text;
  size_t i;

  for (i = 0; i < sizeof apdu; i++)
    apdu[i] = (uint8_t)i;
  fresh_log(LOG_CAT_CARD_IO, 0);
  log_apdu(1, apdu, sizeof apdu);
  log_apdu(1, NULL, 0);
  log_apdu(0, apdu, 1);
  text = read_log();
  CHECK_INT(count_lines(text), 10 + 1 + 1);
  CHECK(strstr(text, "-> 00 01 02") != NULL);
  CHECK(strstr(text, "   20 21 22") != NULL);
  CHECK(strstr(text, " 2B\n") != NULL); /* byte 299 = 0x2B, last line */
  free(text);
}

static void *
writer(void *arg)
{
  int i;

  for (i = 0; i < 200; i++)
    log_msg(LOG_INFO, 0, "thread %d line %d %s", (int)(size_t)arg, i,
            "padding padding padding padding padding padding padding padding");
  return NULL;
}

static void
threads_whole_lines(void)
{
  pthread_t th[4];
  char *text, *line, *save = NULL;
  int i, good = 0;

  fresh_log(0, 0);
  for (i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, writer, (void *)(size_t)i);
  for (i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  text = read_log();
  CHECK_INT(count_lines(text), 800);
  for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    good += strstr(line, "] thread ") && !strcmp(line + strlen(line) - 7, "padding");
  CHECK_INT(good, 800);
  free(text);
}

int
main(void)
{
  if (!mkdtemp(tmpdir))
    return 99;
  snprintf(logpath, sizeof logpath, "%s/scd.log", tmpdir);
  RUN(line_format_and_mode);
  RUN(appends);
  RUN(categories);
  RUN(control_chars_escaped);
  RUN(long_message_cut);
  RUN(verify_redacted);
  RUN(verify_with_pin_logging);
  RUN(secret_commands_redacted);
  RUN(decipher_response_hidden);
  RUN(long_apdu_split);
  RUN(threads_whole_lines);
  log_close();
  unlink(logpath);
  rmdir(tmpdir);
  return check_done();
}
