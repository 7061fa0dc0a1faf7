/* fuzz-cmd-parse.c - the Assuan command-line parsers of agent/cmd-parse.c
 *
 * Input: bytes up to the first newline are one Assuan command line (at
 * most 1000 bytes, libassuan's limit; a NUL ends it as it ends the string
 * a handler gets).  Like libassuan, the first word is the command and the
 * rest, after spaces, the handler's LINE.  The LINE (and the whole line)
 * goes through every entry point of cmd-parse.h.
 *
 * Invariants: nothing crashes or leaks; every failure has a description;
 * offsets stay inside the line; results are well-formed; hex, unescaping,
 * numbers and timestamps survive a round trip through their encoding.
 */
#define _DEFAULT_SOURCE /* gmtime_r */

#include <string.h>

#include "../../agent/cmd-parse.h"
#include "fuzz.h"

#define LINE_MAX_ASSUAN 1000

static const char *const option_names[]
    = { "--force", "--hash", "--timestamp", "--algo",  "--list", "--demand",
        "--info",  "--atr",  "--reset",     "--clear", "--more" };

static const char *const allowed_lists[] = { "",
                                             "--force",
                                             "--hash",
                                             "--force --timestamp --algo",
                                             "--reset --clear --nullpin",
                                             "--atr --more --exlen --dump-atr" };

static void
fuzz_options(const char *line)
{
  char buf[16];
  size_t i, off, len = strlen(line);
  const char *desc, *v;
  gpg_error_t err;

  for (i = 0; i < sizeof option_names / sizeof *option_names; i++)
    {
      v = cmdp_option_value(line, option_names[i], buf, sizeof buf);
      FUZZ_ASSERT(!v || (v == buf && strlen(buf) < sizeof buf));
      FUZZ_ASSERT(!v == !cmdp_has_option(line, option_names[i]));
    }
  for (i = 0; i < sizeof allowed_lists / sizeof *allowed_lists; i++)
    {
      err = cmdp_check_options(line, allowed_lists[i], &off, &desc);
      FUZZ_ASSERT(err ? desc && !off : !desc && off <= len);
      FUZZ_ASSERT(err || line[off] != ' ');
    }
  FUZZ_ASSERT(cmdp_word_len(line) <= len);
}

/* Hex decoded, encoded again, decoded again: the same bytes. */
static void
fuzz_hex(const char *line)
{
  static const char digits[] = "0123456789ABCDEF";
  uint8_t *buf, *again;
  size_t len, len2, i;
  char *hex;
  const char *desc;
  gpg_error_t err = cmdp_hex_decode(line, &buf, &len, &desc);

  FUZZ_ASSERT(err ? desc && !buf && !len : !desc && buf && 2 * len <= strlen(line));
  if (err)
    return;
  hex = malloc(2 * len + 1);
  FUZZ_ASSERT(hex);
  for (i = 0; i < len; i++)
    {
      hex[2 * i] = digits[buf[i] >> 4];
      hex[2 * i + 1] = digits[buf[i] & 15];
    }
  hex[2 * len] = 0;
  FUZZ_ASSERT(!cmdp_hex_decode(hex, &again, &len2, &desc));
  FUZZ_ASSERT(len2 == len && !memcmp(again, buf, len));
  free(again);
  free(hex);
  free(buf);
}

/* Unescaped, every byte escaped as %XX, unescaped again: the same. */
static void
fuzz_unescape(const char *line)
{
  size_t n = strlen(line), len, len2, i;
  char *s = malloc(n + 1), *esc;

  FUZZ_ASSERT(s);
  memcpy(s, line, n + 1);
  len = cmdp_unescape(s);
  FUZZ_ASSERT(len <= n && !s[len]);
  esc = malloc(3 * len + 1);
  FUZZ_ASSERT(esc);
  for (i = 0; i < len; i++)
    snprintf(esc + 3 * i, 4, "%%%02x", (unsigned char)s[i]);
  esc[3 * len] = 0;
  len2 = cmdp_unescape(esc);
  FUZZ_ASSERT(len2 == len && !memcmp(esc, s, len));
  free(esc);
  free(s);
}

static void
fuzz_numbers(const char *line)
{
  unsigned long v, w;
  time_t t, t2;
  struct tm tm;
  char buf[32];
  const char *desc;

  if (!cmdp_parse_uint(line, 1, 255, &v, &desc))
    {
      FUZZ_ASSERT(v >= 1 && v <= 255);
      snprintf(buf, sizeof buf, "%lu", v);
      FUZZ_ASSERT(!cmdp_parse_uint(buf, 1, 255, &w, NULL) && w == v);
    }
  if (cmdp_parse_timestamp(line, &t, &desc))
    {
      FUZZ_ASSERT(desc && !t);
      return;
    }
  FUZZ_ASSERT(!desc && t >= 0 && (unsigned long long)t <= 0xffffffffULL);
  FUZZ_ASSERT(gmtime_r(&t, &tm));
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  FUZZ_ASSERT(!cmdp_parse_timestamp(buf, &t2, &desc) && t2 == t);
}

static void
fuzz_keyid(const char *line)
{
  const char *desc;
  int algo, slot;
  size_t n = cmdp_word_len(line);

  if (!cmdp_check_keyid(line, &desc))
    {
      FUZZ_ASSERT(!desc && (n == 9 || n == 40));
      slot = cmdp_keyid_openpgp_slot(line);
      FUZZ_ASSERT(n == 9 ? slot >= 1 && slot <= 3 : slot == 0);
    }
  else
    FUZZ_ASSERT(desc);
  FUZZ_ASSERT(cmdp_parse_hash(line, &algo, &desc) ? desc != NULL : algo >= 0);
}

static void
fuzz_getinfo(const char *line)
{
  const char *name, *arg, *desc;
  size_t n;
  char cmd[32], opt[66];

  cmdp_split_getinfo(line, &name, &n, &arg);
  FUZZ_ASSERT(name >= line && name + n <= line + strlen(line));
  FUZZ_ASSERT(arg >= name + n && arg <= line + strlen(line));
  if (!cmdp_cmd_has_option_args(arg, cmd, sizeof cmd, opt, sizeof opt, &desc))
    FUZZ_ASSERT(*cmd && !strncmp(opt, "--", 2) && opt[2] && !strchr(cmd, ' '));
  else
    FUZZ_ASSERT(desc && !*cmd && !*opt);
  (void)cmdp_keyinfo_filter(line);
}

static void
fuzz_commands(const char *line)
{
  struct cmdp_passwd pw;
  struct cmdp_genkey gk;
  const char *desc, *name;
  const uint8_t *value;
  size_t len;
  char *buf, word[16];

  if (!cmdp_parse_passwd(line, &pw, &desc))
    FUZZ_ASSERT(*pw.chvno && !strchr(pw.chvno, ' ')
                && (pw.flags & (CMDP_PASSWD_CLEAR | CMDP_PASSWD_RESET))
                       != (CMDP_PASSWD_CLEAR | CMDP_PASSWD_RESET));
  else
    FUZZ_ASSERT(desc);
  if (!cmdp_parse_genkey(line, &gk, &desc))
    FUZZ_ASSERT(*gk.keyref && strlen(gk.algo) < sizeof gk.algo);
  else
    FUZZ_ASSERT(desc);
  if (!cmdp_parse_setattr(line, &buf, &name, &value, &len, &desc))
    {
      FUZZ_ASSERT(*name && !strchr(name, ' ') && len <= strlen(line));
      free(buf);
    }
  else
    FUZZ_ASSERT(desc && !buf);
  if (!cmdp_first_word(line, word, sizeof word, &desc))
    FUZZ_ASSERT(*word && strlen(word) < sizeof word);
}

static void
run_all(const char *line)
{
  fuzz_options(line);
  fuzz_hex(line);
  fuzz_unescape(line);
  fuzz_numbers(line);
  fuzz_keyid(line);
  fuzz_getinfo(line);
  fuzz_commands(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char line[LINE_MAX_ASSUAN + 1];
  size_t n = 0, cmdlen;
  const char *rest;

  while (n < size && n < LINE_MAX_ASSUAN && data[n] != '\n')
    n++;
  memcpy(line, data, n);
  line[n] = 0;
  cmdlen = cmdp_word_len(line);
  for (rest = line + cmdlen; *rest == ' '; rest++)
    ;
  run_all(rest);
  run_all(line);
  return 0;
}
