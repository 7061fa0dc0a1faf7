/* log.h - dualscd's one logging call, its categories and the APDU dump
 *
 * Everything logs through here (agent and backends), to the log-file or
 * stderr.  Messages at the default level are one sentence that says what
 * happened and why; debug output is grouped by category and enabled by
 * debug-level / debug.  Secrets never reach the log: log_apdu hides the
 * data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and of PUT
 * DATA for PIN-related objects unless debug-allow-pin-logging was given,
 * and nothing else in the tree formats PINs or keys.
 */
#ifndef DUALSCD_AGENT_LOG_H
#define DUALSCD_AGENT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* Debug categories (the "debug" option takes these names or a number). */
enum log_cat
{
  LOG_CAT_IPC = 1 << 0,     /* Assuan traffic */
  LOG_CAT_CARD_IO = 1 << 1, /* APDUs */
  LOG_CAT_USB = 1 << 2,     /* the CCID driver */
  LOG_CAT_PCSC = 1 << 3,    /* the PC/SC backend */
  LOG_CAT_APP = 1 << 4,     /* the OpenPGP application */
  LOG_CAT_READER = 1 << 5,  /* the reader manager, events */
};

enum log_level
{
  LOG_ERROR,
  LOG_INFO,
  LOG_DEBUG
};

#if defined(__GNUC__)
#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LOG_PRINTF(f, a)
#endif

/* Opens FILE for appending (NULL: stderr) and sets the enabled debug
 * categories (a mask of log_cat) and the PIN logging permission.  May be
 * called again (e.g. after reading the config file). */
gpg_error_t log_setup(const char *file, unsigned int debug_cats, int allow_pin_logging);

/* The one logging call.  CAT matters only for LOG_DEBUG, which is printed
 * only when CAT is enabled.  Lines carry a timestamp, "dualscd[PID]" and,
 * for debug lines, the category. */
void log_msg(enum log_level level, enum log_cat cat, const char *fmt, ...)
    LOG_PRINTF(3, 4);

/* Is debug output of CAT enabled? (To skip building expensive messages.) */
int log_enabled(enum log_cat cat);

/* Dumps a command APDU (OUTGOING = 1) or response (0) under LOG_CAT_CARD_IO,
 * hiding secret command data as described above.  A response to a hidden
 * command is dumped normally (it carries only the status word). */
void log_apdu(int outgoing, const uint8_t *data, size_t len);

/* Closes the log file. */
void log_close(void);

#endif /* DUALSCD_AGENT_LOG_H */
