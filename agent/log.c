/* log.c - dualscd's one logging call, its categories and the APDU dump
 *
 * A line is "YYYY-MM-DD HH:MM:SS dualscd[PID] message", built in a local
 * buffer and written with one write(2) under a mutex, so lines of several
 * threads never interleave and an O_APPEND log file shared with an older
 * daemon stays line-ordered.  Control characters in messages are escaped:
 * card data and Assuan input must not be able to forge log lines.
 */
#define _DEFAULT_SOURCE
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 2048
/* APDU bytes per dump line; longer APDUs continue on further lines. */
#define APDU_PER_LINE 32

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* -1: stderr */
static unsigned int log_cats;
static int log_pins;

/* Set by a command whose response carries secrets (PSO:DECIPHER returns
 * the session key); its response and GET RESPONSE chain are hidden too. */
static _Thread_local int hide_next_response;

static const struct
{
  enum log_cat cat;
  const char *name;
} cat_names[] = {
  { LOG_CAT_IPC, "ipc" },   { LOG_CAT_CARD_IO, "card-io" }, { LOG_CAT_USB, "usb" },
  { LOG_CAT_PCSC, "pcsc" }, { LOG_CAT_APP, "app" },         { LOG_CAT_READER, "reader" },
};

static const char *
cat_name(enum log_cat cat)
{
  size_t i;

  for (i = 0; i < sizeof cat_names / sizeof cat_names[0]; i++)
    if (cat_names[i].cat == cat)
      return cat_names[i].name;
  return "?";
}

gpg_error_t
log_setup(const char *file, unsigned int debug_cats, int allow_pin_logging)
{
  gpg_error_t err = 0;
  int fd = -1;

  if (file && *file)
    {
      fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
      if (fd == -1)
        err = gpg_error_from_syserror();
    }
  pthread_mutex_lock(&log_lock);
  if (!err)
    {
      if (log_fd != -1)
        close(log_fd);
      log_fd = fd;
    }
  log_cats = debug_cats;
  log_pins = allow_pin_logging;
  pthread_mutex_unlock(&log_lock);
  return err;
}

void
log_close(void)
{
  pthread_mutex_lock(&log_lock);
  if (log_fd != -1)
    close(log_fd);
  log_fd = -1;
  pthread_mutex_unlock(&log_lock);
}

int
log_enabled(enum log_cat cat)
{
  int on;

  pthread_mutex_lock(&log_lock);
  on = !!(log_cats & (unsigned int)cat);
  pthread_mutex_unlock(&log_lock);
  return on;
}

/* "YYYY-MM-DD HH:MM:SS dualscd[PID] " plus "DBG: CAT: " for debug lines. */
static size_t
line_prefix(char *buf, size_t size, enum log_level level, enum log_cat cat)
{
  struct tm tm;
  time_t now = time(NULL);
  size_t n;
  int r;

  if (!localtime_r(&now, &tm))
    memset(&tm, 0, sizeof tm);
  n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
  r = snprintf(buf + n, size - n, " dualscd[%ld] %s%s%s", (long)getpid(),
               level == LOG_DEBUG ? "DBG: " : "", level == LOG_DEBUG ? cat_name(cat) : "",
               level == LOG_DEBUG ? ": " : "");
  return r < 0 ? n : n + (size_t)r < size ? n + (size_t)r : size - 1;
}

/* Copies MSG after the prefix, escaping control characters, and ends the
 * line; a message too long for the buffer is cut with "...". */
static size_t
line_body(char *buf, size_t pos, size_t size, const char *msg)
{
  const unsigned char *p;
  size_t room = size - 5; /* "...\n" and NUL */

  for (p = (const unsigned char *)msg; *p && pos < room; p++)
    {
      if (*p == '\n' && !p[1])
        break;
      if (*p >= 0x20 && *p != 0x7f)
        buf[pos++] = (char)*p;
      else if (pos + 4 < room)
        pos += (size_t)snprintf(buf + pos, size - pos, "\\x%02x", *p);
      else
        break;
    }
  if (*p && !(*p == '\n' && !p[1]))
    {
      memcpy(buf + pos, "...", 3);
      pos += 3;
    }
  buf[pos++] = '\n';
  buf[pos] = 0;
  return pos;
}

/* Caller holds log_lock.  One write per line: O_APPEND keeps it whole. */
static void
write_line_locked(const char *buf, size_t len)
{
  int fd = log_fd == -1 ? STDERR_FILENO : log_fd;
  ssize_t n;

  while (len)
    {
      n = write(fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      buf += n;
      len -= (size_t)n;
    }
}

static void
emit_locked(enum log_level level, enum log_cat cat, const char *msg)
{
  char buf[LINE_MAX_LEN];
  size_t pos;

  pos = line_prefix(buf, sizeof buf, level, cat);
  pos = line_body(buf, pos, sizeof buf, msg);
  write_line_locked(buf, pos);
  explicit_bzero(buf, sizeof buf);
}

void
log_msg(enum log_level level, enum log_cat cat, const char *fmt, ...)
{
  char msg[LINE_MAX_LEN];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&log_lock);
  if (level != LOG_DEBUG || (log_cats & (unsigned int)cat))
    emit_locked(level, cat, msg);
  pthread_mutex_unlock(&log_lock);
  explicit_bzero(msg, sizeof msg);
}

/* PUT DATA (DA) objects whose value is a secret: SM keys D1/D2, the
 * Reset Code D3, the AES key D5, the KDF-DO F9 (PIN hashes and salts) and
 * the private key templates E0..EB of version 1.x cards. */
static int
secret_put_data(unsigned int tag)
{
  static const unsigned int secret_tags[] = { 0xD1, 0xD2, 0xD3, 0xD5, 0xF9 };
  size_t i;

  if (tag >= 0xE0 && tag <= 0xEB)
    return 1;
  for (i = 0; i < sizeof secret_tags / sizeof secret_tags[0]; i++)
    if (tag == secret_tags[i])
      return 1;
  return 0;
}

/* Does the command APDU carry secret data?  VERIFY, CHANGE REFERENCE
 * DATA and RESET RETRY COUNTER always; PUT DATA odd (DB) is key import
 * (4D template); PUT DATA (DA) for the objects above. */
static int
secret_command(const uint8_t *apdu, size_t len)
{
  unsigned int ins, p1p2;

  if (len < 4)
    return 0;
  ins = apdu[1];
  p1p2 = ((unsigned int)apdu[2] << 8) | apdu[3];
  if (ins == 0x20 || ins == 0x24 || ins == 0x2C || ins == 0xDB)
    return 1;
  return ins == 0xDA && secret_put_data(p1p2);
}

/* PSO:DECIPHER answers with the plaintext session key. */
static int
secret_response_follows(const uint8_t *apdu, size_t len)
{
  if (len < 4)
    return 0;
  if (apdu[1] == 0xC0) /* GET RESPONSE continues the previous answer */
    return hide_next_response;
  return apdu[1] == 0x2A && apdu[2] == 0x80 && apdu[3] == 0x86;
}

/* Writes "-> 00 A4 ..." lines of up to APDU_PER_LINE bytes each; with
 * HIDE_FROM set, the bytes from there on are replaced by a count. */
static void
dump_locked(const char *arrow, const uint8_t *data, size_t len, size_t hide_from)
{
  char msg[16 + APDU_PER_LINE * 3 + 32];
  size_t shown = hide_from < len ? hide_from : len;
  size_t i = 0, pos;

  do
    {
      pos = (size_t)snprintf(msg, sizeof msg, "%s", i ? "  " : arrow);
      for (; i < shown && pos < APDU_PER_LINE * 3; i++)
        pos += (size_t)snprintf(msg + pos, sizeof msg - pos, " %02X", data[i]);
      if (i == shown && shown < len)
        snprintf(msg + pos, sizeof msg - pos, " [%zu bytes hidden]", len - shown);
      emit_locked(LOG_DEBUG, LOG_CAT_CARD_IO, msg);
    }
  while (i < shown);
  explicit_bzero(msg, sizeof msg);
}

void
log_apdu(int outgoing, const uint8_t *data, size_t len)
{
  size_t hide_from = (size_t)-1;

  if (!data)
    len = 0;
  pthread_mutex_lock(&log_lock);
  if (outgoing)
    {
      if (!log_pins && len > 4 && secret_command(data, len))
        hide_from = 4;
      hide_next_response = !log_pins && secret_response_follows(data, len);
    }
  else if (hide_next_response && len > 2)
    hide_from = 0;
  if (log_cats & LOG_CAT_CARD_IO)
    {
      if (hide_from == 0)
        {
          /* Keep the status word: it is what one reads a dump for. */
          char arrow[48];

          snprintf(arrow, sizeof arrow, "<- [%zu bytes hidden]", len - 2);
          dump_locked(arrow, data + len - 2, 2, (size_t)-1);
        }
      else
        dump_locked(outgoing ? "->" : "<-", data, len, hide_from);
    }
  pthread_mutex_unlock(&log_lock);
}
