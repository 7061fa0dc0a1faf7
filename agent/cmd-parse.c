/* cmd-parse.c - parsing of the Assuan command lines, without Assuan
 *
 * Everything here is bytes in, values out (cmd-parse.h).  The client is
 * gpg-agent, but the socket is the user's: every length is checked, no
 * number is trusted to strtol's leniency (signs, spaces, overflow), and a
 * failure always comes with a description for the ERR line.
 */
#define _DEFAULT_SOURCE /* timegm */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gcrypt.h>

#include "cmd-parse.h"

#define OPENPGP_TS_MAX 0xffffffffULL /* OpenPGP timestamps are 32 bits */

static gpg_error_t
failed(gpg_err_code_t code, const char *desc, const char **r_desc)
{
  if (r_desc)
    *r_desc = desc;
  return gpg_error(code);
}

static int
is_hex(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

/* The value of a hex digit that passed is_hex. */
static unsigned int
hex_value(unsigned char c)
{
  if (c <= '9')
    return (unsigned int)(c - '0');
  return (unsigned int)((c | 0x20) - 'a' + 10);
}

static const char *
skip_spaces(const char *p)
{
  while (*p == ' ')
    p++;
  return p;
}

size_t
cmdp_word_len(const char *s)
{
  return strcspn(s, " ");
}

/* Whether P starts an option: "--" followed by something, "--" alone
 * being the end of the options. */
static int
is_option(const char *p)
{
  return p[0] == '-' && p[1] == '-' && p[2] && p[2] != ' ';
}

const char *
cmdp_option_value(const char *line, const char *name, char *buf, size_t bufsize)
{
  size_t n = strlen(name);
  const char *p = skip_spaces(line);

  for (; is_option(p); p = skip_spaces(p))
    {
      size_t len = cmdp_word_len(p);

      if (!strncmp(p, name, n) && (p[n] == ' ' || p[n] == 0 || p[n] == '='))
        {
          size_t vlen = p[n] == '=' ? len - n - 1 : 0;

          if (vlen >= bufsize)
            vlen = bufsize - 1;
          memcpy(buf, p + n + (p[n] == '=' ? 1 : 0), vlen);
          buf[vlen] = 0;
          return buf;
        }
      p += len;
    }
  return NULL;
}

int
cmdp_has_option(const char *line, const char *name)
{
  char buf[2];

  return cmdp_option_value(line, name, buf, sizeof buf) != NULL;
}

int
cmdp_list_has(const char *list, const char *word, size_t wordlen)
{
  const char *p = skip_spaces(list);

  while (*p)
    {
      size_t len = cmdp_word_len(p);

      if (len == wordlen && !memcmp(p, word, len))
        return 1;
      p = skip_spaces(p + len);
    }
  return 0;
}

gpg_error_t
cmdp_check_options(const char *line, const char *allowed, size_t *r_off,
                   const char **r_desc)
{
  const char *p = skip_spaces(line);

  (void)allowed;
  *r_off = 0;
  if (r_desc)
    *r_desc = NULL;
  while (p[0] == '-' && p[1] == '-')
    {
      size_t full = cmdp_word_len(p);

      if (full == 2)
        {
          p += 2; /* "--": the end of the options */
          break;
        }
      /* An option this command does not know is skipped, as GnuPG's
       * scdaemon does (skip_options), so a newer gpg-agent's additions do
       * not break us; handlers look only for the options in ALLOWED. */
      p = skip_spaces(p + full);
    }
  *r_off = (size_t)(skip_spaces(p) - line);
  return 0;
}

gpg_error_t
cmdp_first_word(const char *s, char *buf, size_t bufsize, const char **r_desc)
{
  size_t n;

  if (bufsize)
    buf[0] = 0;
  if (r_desc)
    *r_desc = NULL;
  s = skip_spaces(s);
  n = cmdp_word_len(s);
  if (!n)
    return failed(GPG_ERR_ASS_PARAMETER, "argument missing", r_desc);
  if (n >= bufsize)
    return failed(GPG_ERR_TOO_LARGE, "argument too long", r_desc);
  memcpy(buf, s, n);
  buf[n] = 0;
  return 0;
}

gpg_error_t
cmdp_hex_decode(const char *hex, uint8_t **r_buf, size_t *r_len, const char **r_desc)
{
  size_t n = strlen(hex), i;
  uint8_t *buf;

  *r_buf = NULL;
  *r_len = 0;
  if (r_desc)
    *r_desc = NULL;
  while (n && hex[n - 1] == ' ')
    n--;
  for (i = 0; i < n; i++)
    if (!is_hex((unsigned char)hex[i]))
      return failed(GPG_ERR_ASS_PARAMETER, "invalid hex digit in argument", r_desc);
  if (n % 2)
    return failed(GPG_ERR_ASS_PARAMETER, "odd number of hex digits in argument", r_desc);
  buf = malloc(n / 2 + 1);
  if (!buf)
    return gpg_error_from_syserror();
  for (i = 0; i < n / 2; i++)
    buf[i] = (uint8_t)(hex_value((unsigned char)hex[2 * i]) << 4
                       | hex_value((unsigned char)hex[2 * i + 1]));
  *r_buf = buf;
  *r_len = n / 2;
  return 0;
}

size_t
cmdp_unescape(char *s)
{
  char *d = s;
  const char *p = s;

  while (*p)
    {
      if (*p == '%' && is_hex((unsigned char)p[1]) && is_hex((unsigned char)p[2]))
        {
          *d++ = (char)(hex_value((unsigned char)p[1]) << 4
                        | hex_value((unsigned char)p[2]));
          p += 3;
        }
      else
        {
          *d++ = *p == '+' ? ' ' : *p;
          p++;
        }
    }
  *d = 0;
  return (size_t)(d - s);
}

gpg_error_t
cmdp_check_keyid(const char *id, const char **r_desc)
{
  size_t i, n = cmdp_word_len(id);

  if (r_desc)
    *r_desc = NULL;
  if (n == 9 && !strncasecmp(id, "OPENPGP.", 8) && id[8] >= '1' && id[8] <= '3')
    return 0;
  for (i = 0; n == 40 && i < 40 && is_hex((unsigned char)id[i]); i++)
    ;
  if (n == 40 && i == 40)
    return 0;
  return failed(GPG_ERR_INV_ID, "key id must be OPENPGP.1, .2, .3 or a keygrip", r_desc);
}

int
cmdp_keyid_openpgp_slot(const char *id)
{
  if (!strncasecmp(id, "OPENPGP.", 8) && id[8] >= '1' && id[8] <= '3')
    return id[8] - '0';
  return 0;
}

static const struct
{
  const char *name;
  int algo;
} hash_table[] = {
  { "sha1", GCRY_MD_SHA1 },     { "sha224", GCRY_MD_SHA224 },
  { "sha256", GCRY_MD_SHA256 }, { "sha384", GCRY_MD_SHA384 },
  { "sha512", GCRY_MD_SHA512 }, { "rmd160", GCRY_MD_RMD160 },
  { "md5", GCRY_MD_MD5 },       { "none", 0 },
};

gpg_error_t
cmdp_parse_hash(const char *line, int *r_algo, const char **r_desc)
{
  char name[16];
  size_t i;

  *r_algo = GCRY_MD_SHA1; /* without --hash GnuPG 2.2 signs a SHA-1 DigestInfo */
  if (r_desc)
    *r_desc = NULL;
  if (!cmdp_option_value(line, "--hash", name, sizeof name))
    return 0;
  for (i = 0; i < sizeof hash_table / sizeof *hash_table; i++)
    if (!strcasecmp(name, hash_table[i].name))
      {
        *r_algo = hash_table[i].algo;
        return 0;
      }
  return failed(GPG_ERR_ASS_PARAMETER, "invalid hash algorithm", r_desc);
}

/* N digits of S as a number (the caller checked they are digits). */
static int
digits(const char *s, int n)
{
  int v = 0;

  while (n--)
    v = v * 10 + (*s++ - '0');
  return v;
}

/* ISO "YYYYMMDDTHHMMSS": sscanf's %d would take signs and spaces, so each
 * position is checked, then each field's range. */
static gpg_error_t
parse_iso(const char *s, time_t *r_t)
{
  static const struct
  {
    int off, len, min, max;
  } field[] = { { 0, 4, 1970, 2106 }, { 4, 2, 1, 12 },  { 6, 2, 1, 31 },
                { 9, 2, 0, 23 },      { 11, 2, 0, 59 }, { 13, 2, 0, 59 } };
  int v[6];
  size_t i;
  struct tm tm;
  time_t t;

  for (i = 0; i < 15; i++)
    if (i != 8 && !is_digit((unsigned char)s[i]))
      return gpg_error(GPG_ERR_INV_TIME);
  for (i = 0; i < 6; i++)
    {
      v[i] = digits(s + field[i].off, field[i].len);
      if (v[i] < field[i].min || v[i] > field[i].max)
        return gpg_error(GPG_ERR_INV_TIME);
    }
  memset(&tm, 0, sizeof tm);
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  t = timegm(&tm);
  /* timegm normalises 31 February into March: refuse what moved. */
  if (t < 0 || (unsigned long long)t > OPENPGP_TS_MAX || tm.tm_mday != v[2])
    return gpg_error(GPG_ERR_INV_TIME);
  *r_t = t;
  return 0;
}

gpg_error_t
cmdp_parse_timestamp(const char *s, time_t *r_t, const char **r_desc)
{
  unsigned long v = 0;
  gpg_error_t err;

  *r_t = 0;
  if (r_desc)
    *r_desc = NULL;
  if (strlen(s) == 15 && s[8] == 'T')
    err = parse_iso(s, r_t);
  else
    {
      err = cmdp_parse_uint(s, 0, OPENPGP_TS_MAX, &v, NULL);
      if (!err)
        *r_t = (time_t)v;
    }
  if (err)
    return failed(GPG_ERR_INV_TIME, "--timestamp: want YYYYMMDDTHHMMSS or seconds",
                  r_desc);
  return 0;
}

gpg_error_t
cmdp_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *r_val,
                const char **r_desc)
{
  unsigned long long v = 0;
  size_t i;

  *r_val = 0;
  if (r_desc)
    *r_desc = NULL;
  for (i = 0; is_digit((unsigned char)s[i]); i++)
    {
      v = v * 10 + (unsigned long long)(s[i] - '0');
      if (v > max)
        break;
    }
  if (!i || s[i] || v < min || v > max)
    return failed(GPG_ERR_ASS_PARAMETER, "number missing or out of range", r_desc);
  *r_val = (unsigned long)v;
  return 0;
}

void
cmdp_split_getinfo(const char *line, const char **r_name, size_t *r_namelen,
                   const char **r_arg)
{
  const char *p = skip_spaces(line);
  size_t n = cmdp_word_len(p);

  *r_name = p;
  *r_namelen = n;
  *r_arg = p + n + (p[n] ? 1 : 0);
}

gpg_error_t
cmdp_cmd_has_option_args(const char *arg, char *cmdbuf, size_t cmdsize, char *optbuf,
                         size_t optsize, const char **r_desc)
{
  const char *p = skip_spaces(arg);
  size_t n = cmdp_word_len(p), m;
  const char *o = skip_spaces(p + n);

  m = cmdp_word_len(o);
  if (cmdsize)
    cmdbuf[0] = 0;
  if (optsize)
    optbuf[0] = 0;
  if (r_desc)
    *r_desc = NULL;
  if (!n || !m || n >= cmdsize || m + 2 >= optsize)
    return failed(GPG_ERR_ASS_PARAMETER, "usage: cmd_has_option CMD OPT", r_desc);
  memcpy(cmdbuf, p, n);
  cmdbuf[n] = 0;
  memcpy(optbuf, "--", 2);
  memcpy(optbuf + 2, o, m);
  optbuf[m + 2] = 0;
  return 0;
}

char
cmdp_keyinfo_filter(const char *line)
{
  char what[2];

  if (!cmdp_option_value(line, "--list", what, sizeof what))
    return 0;
  return what[0];
}

/* Option name to flag, for PASSWD. */
static const struct
{
  const char *name;
  unsigned int flag;
} passwd_options[] = {
  { "--reset", CMDP_PASSWD_RESET },
  { "--clear", CMDP_PASSWD_CLEAR },
  { "--nullpin", CMDP_PASSWD_NULLPIN },
};

gpg_error_t
cmdp_parse_passwd(const char *line, struct cmdp_passwd *r_pw, const char **r_desc)
{
  size_t off, i;
  gpg_error_t err;

  memset(r_pw, 0, sizeof *r_pw);
  err = cmdp_check_options(line, "--reset --clear --nullpin", &off, r_desc);
  if (err)
    return err;
  for (i = 0; i < sizeof passwd_options / sizeof *passwd_options; i++)
    if (cmdp_has_option(line, passwd_options[i].name))
      r_pw->flags |= passwd_options[i].flag;
  if (r_pw->flags & CMDP_PASSWD_NULLPIN)
    return failed(GPG_ERR_NOT_SUPPORTED, "--nullpin: OpenPGP cards have no NullPIN",
                  r_desc);
  if (cmdp_first_word(line + off, r_pw->chvno, sizeof r_pw->chvno, NULL))
    return failed(GPG_ERR_ASS_PARAMETER, "CHV number missing", r_desc);
  if ((r_pw->flags & CMDP_PASSWD_CLEAR) && (r_pw->flags & CMDP_PASSWD_RESET))
    return failed(GPG_ERR_UNSUPPORTED_OPERATION, "--clear used with other options",
                  r_desc);
  return 0;
}

gpg_error_t
cmdp_parse_genkey(const char *line, struct cmdp_genkey *r_gk, const char **r_desc)
{
  char ts[40];
  size_t off;
  gpg_error_t err;

  memset(r_gk, 0, sizeof *r_gk);
  err = cmdp_check_options(line, "--force --timestamp --algo", &off, r_desc);
  if (err)
    return err;
  if (cmdp_option_value(line, "--timestamp", ts, sizeof ts))
    {
      err = cmdp_parse_timestamp(ts, &r_gk->created, r_desc);
      if (err)
        return err;
    }
  /* A truncated --algo names no algorithm: the app refuses it. */
  cmdp_option_value(line, "--algo", r_gk->algo, sizeof r_gk->algo);
  r_gk->force = cmdp_has_option(line, "--force");
  if (cmdp_first_word(line + off, r_gk->keyref, sizeof r_gk->keyref, NULL))
    return failed(GPG_ERR_ASS_PARAMETER, "key number missing", r_desc);
  return 0;
}

gpg_error_t
cmdp_parse_setattr(const char *line, char **r_buf, const char **r_name,
                   const uint8_t **r_value, size_t *r_valuelen, const char **r_desc)
{
  const char *p = skip_spaces(line);
  size_t n = cmdp_word_len(p);
  const char *v = skip_spaces(p + n);
  size_t vlen = strlen(v);
  char *buf;

  *r_buf = NULL;
  *r_name = NULL;
  *r_value = NULL;
  *r_valuelen = 0;
  if (r_desc)
    *r_desc = NULL;
  if (!n || !p[n])
    return failed(GPG_ERR_ASS_PARAMETER, "usage: SETATTR NAME VALUE", r_desc);
  buf = malloc(n + 1 + vlen + 1);
  if (!buf)
    return gpg_error_from_syserror();
  memcpy(buf, p, n);
  buf[n] = 0;
  memcpy(buf + n + 1, v, vlen + 1);
  *r_valuelen = cmdp_unescape(buf + n + 1);
  *r_buf = buf;
  *r_name = buf;
  *r_value = (const uint8_t *)buf + n + 1;
  return 0;
}
