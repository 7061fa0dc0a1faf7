/* options.c - dualscd's options: one table for argv, scdaemon.conf, --help, gpgconf
 *
 * Every option is one row of OPTION_TABLE: its name, argument kind, where
 * it may appear, the help text and a setter.  The command-line parser, the
 * config-file reader, --help and --gpgconf-list all walk that table, so an
 * option cannot exist in one of them and be missing from another.
 *
 * Config files follow GnuPG's argparse rules (libgpg-error src/argparse.c):
 * "keyword [argument]" per line, '#' starts a comment only as the first
 * non-blank character of a line, the argument is the rest of the line with
 * blanks trimmed, and one pair of enclosing double quotes is removed.
 */
#define _DEFAULT_SOURCE
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

enum arg_kind
{
  ARG_NONE,
  ARG_INT,
  ARG_STRING,
  ARG_LEVEL
};

/* Where an option may appear. */
#define IN_ARGV 1u
#define IN_FILE 2u
#define IN_BOTH (IN_ARGV | IN_FILE)

/* Accepted for compatibility with GnuPG but without effect: say so. */
#define F_NOEFFECT 1u

struct opt_def;
typedef gpg_error_t (*opt_setter)(struct options *opt, const struct opt_def *def,
                                  const char *arg);

struct opt_def
{
  const char *name; /* NULL: a --help group header in HELP */
  char short_name;  /* -v, -q, -h or 0 */
  enum arg_kind kind;
  unsigned int where;  /* IN_ARGV / IN_FILE */
  unsigned int flags;  /* F_* */
  const char *metavar; /* argument name in --help */
  const char *help;
  opt_setter set;
  size_t field;           /* offsetof(struct options, ...) for generic setters */
  int value;              /* what set_int_const stores, or the mode */
  unsigned int gc_rank;   /* position in --gpgconf-list, 0: not listed */
  unsigned int gc_flags;  /* GC_OPT_FLAG_NONE 0, GC_OPT_FLAG_DEFAULT 16 */
  const char *gc_default; /* default printed by --gpgconf-list, or NULL */
};

static gpg_error_t set_int_const(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_count(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_number(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_string(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_list(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_mode(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_homedir(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_debug_level(struct options *, const struct opt_def *,
                                   const char *);
static gpg_error_t set_debug_flags(struct options *, const struct opt_def *,
                                   const char *);
static gpg_error_t set_debug_all(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_ccid_debug(struct options *, const struct opt_def *, const char *);
static gpg_error_t set_ignored(struct options *, const struct opt_def *, const char *);

#define OFF(f) offsetof(struct options, f)
#define HEADER(text)                                                                     \
  {                                                                                      \
    NULL, 0, ARG_NONE, 0, 0, NULL, text, NULL, 0, 0, 0, 0, NULL                          \
  }

/* The order is --help's; gc_rank gives GnuPG 2.2.40's --gpgconf-list order. */
static const struct opt_def option_table[] = {
  HEADER("Commands"),
  { "gpgconf-list", 0, ARG_NONE, IN_ARGV, 0, NULL,
    "list the options for gpgconf and exit", set_mode, 0, OPT_MODE_GPGCONF_LIST, 0, 0,
    NULL },
  { "gpgconf-test", 0, ARG_NONE, IN_ARGV, 0, NULL, "check the configuration and exit",
    set_mode, 0, OPT_MODE_GPGCONF_TEST, 0, 0, NULL },
  { "version", 0, ARG_NONE, IN_ARGV, 0, NULL, "print the version and exit", set_mode, 0,
    OPT_MODE_VERSION, 0, 0, NULL },
  { "help", 'h', ARG_NONE, IN_ARGV, 0, NULL, "print this help and exit", set_mode, 0,
    OPT_MODE_HELP, 0, 0, NULL },
  HEADER("Options used for startup"),
  { "server", 0, ARG_NONE, IN_ARGV, 0, NULL, "run in server mode (foreground)", set_mode,
    0, OPT_MODE_SERVER, 0, 0, NULL },
  { "multi-server", 0, ARG_NONE, IN_ARGV, 0, NULL,
    "run in multi server mode (foreground)", set_mode, 0, OPT_MODE_MULTI_SERVER, 0, 0,
    NULL },
  { "daemon", 0, ARG_NONE, IN_ARGV, 0, NULL, "run in daemon mode (background)", set_mode,
    0, OPT_MODE_DAEMON, 0, 0, NULL },
  { "no-detach", 0, ARG_NONE, IN_BOTH, 0, NULL, "accepted for compatibility; no effect",
    set_ignored, 0, 0, 0, 0, NULL },
  { "sh", 's', ARG_NONE, IN_BOTH, 0, NULL, "accepted for compatibility; no effect",
    set_ignored, 0, 0, 0, 0, NULL },
  { "csh", 'c', ARG_NONE, IN_BOTH, 0, NULL, "accepted for compatibility; no effect",
    set_ignored, 0, 0, 0, 0, NULL },
  { "homedir", 0, ARG_STRING, IN_ARGV, 0, "DIR", "use DIR as the home directory",
    set_homedir, 0, 0, 0, 0, NULL },
  { "options", 0, ARG_STRING, IN_ARGV, 0, "FILE", "read options from FILE", set_string,
    OFF(config_file), 0, 0, 0, NULL },
  { "no-options", 0, ARG_NONE, IN_ARGV, 0, NULL, "do not read a config file",
    set_int_const, OFF(no_options), 1, 0, 0, NULL },
  HEADER("Options controlling the diagnostic output"),
  { "verbose", 'v', ARG_NONE, IN_BOTH, 0, NULL, "verbose", set_count, OFF(verbose), 0, 1,
    0, NULL },
  { "quiet", 'q', ARG_NONE, IN_BOTH, 0, NULL, "be somewhat more quiet", set_int_const,
    OFF(quiet), 1, 2, 0, NULL },
  { "debug-level", 0, ARG_LEVEL, IN_BOTH, 0, "LEVEL", "set the debugging level to LEVEL",
    set_debug_level, 0, 0, 3, 16, "\"none" },
  { "debug", 0, ARG_STRING, IN_BOTH, 0, "FLAGS", "enable the debug categories FLAGS",
    set_debug_flags, 0, 0, 0, 0, NULL },
  { "debug-all", 0, ARG_NONE, IN_BOTH, 0, NULL, "enable every debug category",
    set_debug_all, 0, 0, 0, 0, NULL },
  { "debug-allow-pin-logging", 0, ARG_NONE, IN_BOTH, 0, NULL,
    "show PINs and key material in APDU dumps (dangerous)", set_int_const,
    OFF(debug_allow_pin_logging), 1, 0, 0, NULL },
  { "debug-allow-core-dump", 0, ARG_NONE, IN_BOTH, 0, NULL,
    "allow core dumps (they may contain PINs)", set_int_const, OFF(debug_allow_core_dump),
    1, 0, 0, NULL },
  { "debug-ccid-driver", 0, ARG_NONE, IN_BOTH, 0, NULL,
    "debug the CCID driver (repeat for more)", set_ccid_debug, 0, 0, 0, 0, NULL },
  { "debug-wait", 0, ARG_INT, IN_BOTH, 0, "N", "accepted and ignored", set_ignored, 0, 0,
    0, 0, NULL },
  { "debug-log-tid", 0, ARG_NONE, IN_BOTH, 0, NULL, "accepted and ignored", set_ignored,
    0, 0, 0, 0, NULL },
  { "debug-assuan-log-cats", 0, ARG_STRING, IN_BOTH, 0, "N", "accepted and ignored",
    set_ignored, 0, 0, 0, 0, NULL },
  { "log-file", 0, ARG_STRING, IN_BOTH, 0, "FILE", "write a log to FILE", set_string,
    OFF(log_file), 0, 4, 0, NULL },
  HEADER("Options controlling the configuration"),
  { "reader-port", 0, ARG_STRING, IN_BOTH, 0, "N",
    "use the reader whose name starts with N", set_string, OFF(reader_port), 0, 5, 0,
    NULL },
  { "ctapi-driver", 0, ARG_STRING, IN_BOTH, F_NOEFFECT, "NAME",
    "accepted; dualscd has no CT-API support", set_ignored, 0, 0, 6, 0, NULL },
  { "pcsc-driver", 0, ARG_STRING, IN_BOTH, 0, "NAME",
    "accepted; dualscd is linked with libpcsclite", set_string, OFF(pcsc_driver), 0, 7,
    16, "\"libpcsclite.so.1" },
  { "pcsc-shared", 0, ARG_NONE, IN_BOTH, 0, NULL,
    "share the card with other PC/SC programs (the default)", set_int_const,
    OFF(pcsc_shared), 1, 0, 0, NULL },
  { "pcsc-exclusive", 0, ARG_NONE, IN_BOTH, 0, NULL,
    "hold the card exclusively, as GnuPG's scdaemon does", set_int_const,
    OFF(pcsc_shared), 0, 0, 0, NULL },
  { "disable-ccid", 0, ARG_NONE, IN_BOTH, 0, NULL, "do not use the internal CCID driver",
    set_int_const, OFF(disable_ccid), 1, 8, 0, NULL },
  { "card-timeout", 0, ARG_INT, IN_BOTH, 0, "N",
    "disconnect the card after N seconds of inactivity", set_number, OFF(card_timeout), 0,
    11, 16, "0" },
  { "disable-pinpad", 0, ARG_NONE, IN_BOTH, 0, NULL, "do not use a reader's pinpad",
    set_int_const, OFF(disable_pinpad), 1, 10, 0, NULL },
  { "disable-keypad", 0, ARG_NONE, IN_BOTH, F_NOEFFECT, NULL,
    "obsolete; use disable-pinpad", set_ignored, 0, 0, 0, 0, NULL },
  { "enable-pinpad-varlen", 0, ARG_NONE, IN_BOTH, 0, NULL,
    "use variable length input for pinpad", set_int_const, OFF(enable_pinpad_varlen), 1,
    12, 0, NULL },
  { "disable-application", 0, ARG_STRING, IN_BOTH, 0, "NAME",
    "do not use the card application NAME", set_list, OFF(disable_application), 0, 0, 0,
    NULL },
  { "application-priority", 0, ARG_STRING, IN_BOTH, 0, "LIST",
    "try the card applications in LIST first", set_string, OFF(application_priority), 0,
    0, 0, NULL },
  { "listen-backlog", 0, ARG_INT, IN_BOTH, 0, "N", "set the socket's listen backlog to N",
    set_number, OFF(listen_backlog), 0, 0, 0, NULL },
  HEADER("Options controlling the security"),
  { "allow-admin", 0, ARG_NONE, IN_BOTH, 0, NULL,
    "allow admin card commands (the default)", set_int_const, OFF(deny_admin), 0, 0, 0,
    NULL },
  { "deny-admin", 0, ARG_NONE, IN_BOTH, 0, NULL, "deny the use of admin card commands",
    set_int_const, OFF(deny_admin), 1, 9, 0, NULL },
};

#define N_OPTIONS (sizeof option_table / sizeof option_table[0])
_Static_assert(N_OPTIONS <= 64, "argv_set has one bit per table row");

/* debug-level: GnuPG's names and numeric ranges (scd/scdaemon.c set_debug),
 * mapped to our categories.  GnuPG's basic and advanced are the same; ours
 * add the card application and reader events at advanced. */
static const struct
{
  const char *name;
  int max_number; /* a number N <= this selects the level */
  unsigned int cats;
} level_table[] = {
  { "none", 0, 0 },
  { "basic", 2, LOG_CAT_IPC },
  { "advanced", 5, LOG_CAT_IPC | LOG_CAT_APP | LOG_CAT_READER },
  { "expert", 8,
    LOG_CAT_IPC | LOG_CAT_APP | LOG_CAT_READER | LOG_CAT_CARD_IO | LOG_CAT_PCSC },
  { "guru", INT_MAX, ~0u },
};

/* "debug": our category names, GnuPG's names and GnuPG's DBG_* bit values
 * (scd/scdaemon.h), so an existing "debug 4096" keeps meaning card I/O.
 * GnuPG flags without a counterpart here are accepted and select nothing. */
static const struct
{
  const char *name;
  unsigned long gnupg_bit;
  unsigned int cats;
} debug_flag_table[] = {
  { "ipc", 1024, LOG_CAT_IPC },
  { "card-io", 4096, LOG_CAT_CARD_IO },
  { "cardio", 4096, LOG_CAT_CARD_IO },
  { "usb", 0, LOG_CAT_USB },
  { "pcsc", 0, LOG_CAT_PCSC },
  { "app", 1, LOG_CAT_APP },
  { "card", 2048, LOG_CAT_APP },
  { "reader", 8192, LOG_CAT_READER | LOG_CAT_PCSC },
  { "mpi", 2, 0 },
  { "crypto", 4, 0 },
  { "memory", 32, 0 },
  { "cache", 64, 0 },
  { "memstat", 128, 0 },
  { "hashing", 512, 0 },
};

#define ALL_CATS                                                                         \
  (LOG_CAT_IPC | LOG_CAT_CARD_IO | LOG_CAT_USB | LOG_CAT_PCSC | LOG_CAT_APP              \
   | LOG_CAT_READER)

/* Why the last setter failed; printed with the option's name. */
static const char *
kind_needs(enum arg_kind kind)
{
  static const char *const needs[]
      = { "takes no argument", "needs a number", "needs an argument",
          "needs none, basic, advanced, expert, guru or a number" };
  return needs[kind];
}

static int *
int_field(struct options *opt, const struct opt_def *def)
{
  return (int *)(void *)((char *)opt + def->field);
}

static char **
str_field(struct options *opt, const struct opt_def *def)
{
  return (char **)(void *)((char *)opt + def->field);
}

static gpg_error_t
set_int_const(struct options *opt, const struct opt_def *def, const char *arg)
{
  (void)arg;
  *int_field(opt, def) = def->value;
  return 0;
}

static gpg_error_t
set_count(struct options *opt, const struct opt_def *def, const char *arg)
{
  int *field = int_field(opt, def);

  (void)arg;
  if (*field < INT_MAX)
    (*field)++;
  return 0;
}

/* Strict decimal, 0..INT_MAX: "10s" or "-1" is a mistake worth reporting. */
static gpg_error_t
parse_number(const char *arg, int *r_value)
{
  char *end;
  long val;

  *r_value = 0;
  if (!arg || !isdigit((unsigned char)*arg))
    return gpg_error(GPG_ERR_INV_VALUE);
  errno = 0;
  val = strtol(arg, &end, 10);
  if (errno || *end || val > INT_MAX)
    return gpg_error(GPG_ERR_INV_VALUE);
  *r_value = (int)val;
  return 0;
}

static gpg_error_t
set_number(struct options *opt, const struct opt_def *def, const char *arg)
{
  return parse_number(arg, int_field(opt, def));
}

static gpg_error_t
set_string(struct options *opt, const struct opt_def *def, const char *arg)
{
  char **field = str_field(opt, def);
  char *copy = strdup(arg);

  if (!copy)
    return gpg_error_from_syserror();
  free(*field);
  *field = copy;
  return 0;
}

/* Repeated options that accumulate (disable-application), comma-separated. */
static gpg_error_t
set_list(struct options *opt, const struct opt_def *def, const char *arg)
{
  char **field = str_field(opt, def);
  size_t oldlen = *field ? strlen(*field) : 0;
  char *joined;

  if (!oldlen)
    return set_string(opt, def, arg);
  joined = malloc(oldlen + 1 + strlen(arg) + 1);
  if (!joined)
    return gpg_error_from_syserror();
  memcpy(joined, *field, oldlen);
  joined[oldlen] = ',';
  strcpy(joined + oldlen + 1, arg);
  free(*field);
  *field = joined;
  return 0;
}

/* A query (--help, --version, --gpgconf-*) wins over a server mode whatever
 * the order; among server modes the last one counts. */
static gpg_error_t
set_mode(struct options *opt, const struct opt_def *def, const char *arg)
{
  enum opt_mode mode = (enum opt_mode)def->value;

  (void)arg;
  if (mode >= OPT_MODE_GPGCONF_LIST || opt->mode < OPT_MODE_GPGCONF_LIST)
    opt->mode = mode;
  return 0;
}

static gpg_error_t
set_ignored(struct options *opt, const struct opt_def *def, const char *arg)
{
  (void)opt;
  (void)def;
  (void)arg;
  return 0;
}

static gpg_error_t
set_debug_level(struct options *opt, const struct opt_def *def, const char *arg)
{
  int number = 0;
  int numeric = !parse_number(arg, &number);
  size_t i;

  (void)def;
  for (i = 0; i < sizeof level_table / sizeof level_table[0]; i++)
    if (numeric ? number <= level_table[i].max_number : !strcmp(arg, level_table[i].name))
      {
        opt->debug_level = (int)i;
        opt->debug |= level_table[i].cats;
        return 0;
      }
  return gpg_error(GPG_ERR_INV_VALUE);
}

static gpg_error_t
debug_flag_token(const char *tok, unsigned int *cats)
{
  unsigned long bits;
  char *end;
  size_t i;

  if (!strcmp(tok, "all") || !strcmp(tok, "none"))
    {
      *cats = *tok == 'a' ? ALL_CATS : 0;
      return 0;
    }
  if (isdigit((unsigned char)*tok))
    {
      errno = 0;
      bits = strtoul(tok, &end, 0);
      if (errno || *end)
        return gpg_error(GPG_ERR_INV_VALUE);
      for (i = 0; i < sizeof debug_flag_table / sizeof debug_flag_table[0]; i++)
        if (bits & debug_flag_table[i].gnupg_bit)
          *cats |= debug_flag_table[i].cats;
      return 0;
    }
  for (i = 0; i < sizeof debug_flag_table / sizeof debug_flag_table[0]; i++)
    if (!strcmp(tok, debug_flag_table[i].name))
      {
        *cats |= debug_flag_table[i].cats;
        return 0;
      }
  return gpg_error(GPG_ERR_INV_VALUE);
}

/* "debug ipc,card-io" or "debug 5120": all tokens must be valid, else the
 * whole option is rejected and nothing changes. */
static gpg_error_t
set_debug_flags(struct options *opt, const struct opt_def *def, const char *arg)
{
  gpg_error_t err = 0;
  unsigned int cats = opt->debug;
  char *copy = strdup(arg);
  char *tok, *save = NULL;

  (void)def;
  if (!copy)
    return gpg_error_from_syserror();
  for (tok = strtok_r(copy, ", \t", &save); tok && !err;
       tok = strtok_r(NULL, ", \t", &save))
    err = debug_flag_token(tok, &cats);
  if (!err)
    opt->debug = cats;
  free(copy);
  return err;
}

static gpg_error_t
set_debug_all(struct options *opt, const struct opt_def *def, const char *arg)
{
  (void)def;
  (void)arg;
  opt->debug |= ALL_CATS;
  return 0;
}

static gpg_error_t
set_ccid_debug(struct options *opt, const struct opt_def *def, const char *arg)
{
  (void)def;
  (void)arg;
  if (opt->debug_ccid_driver < INT_MAX)
    opt->debug_ccid_driver++;
  opt->debug |= LOG_CAT_USB;
  return 0;
}

/* Joins DIR and NAME with one slash; NULL when out of memory. */
static char *
path_join(const char *dir, const char *name)
{
  size_t dlen = strlen(dir), nlen = strlen(name);
  char *path = malloc(dlen + 1 + nlen + 1);

  if (!path)
    return NULL;
  memcpy(path, dir, dlen);
  path[dlen] = '/';
  memcpy(path + dlen + 1, name, nlen + 1);
  return path;
}

static const char *
home_of_user(void)
{
  const char *home = getenv("HOME");
  struct passwd *pw;

  if (home && *home)
    return home;
  pw = getpwuid(getuid());
  return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/";
}

/* Expands a leading "~", makes DIR absolute and drops trailing slashes,
 * as GnuPG's gnupg_set_homedir does. */
static gpg_error_t
absolute_dir(const char *dir, char **r_abs)
{
  char cwd[PATH_MAX];
  char *abs;
  size_t len;

  *r_abs = NULL;
  if (dir[0] == '~' && (!dir[1] || dir[1] == '/'))
    abs = path_join(home_of_user(), dir[1] ? dir + 2 : "");
  else if (dir[0] == '/')
    abs = strdup(dir);
  else if (!getcwd(cwd, sizeof cwd))
    return gpg_error_from_syserror();
  else
    abs = path_join(cwd, dir);
  if (!abs)
    return gpg_error_from_syserror();
  for (len = strlen(abs); len > 1 && abs[len - 1] == '/'; len--)
    abs[len - 1] = 0;
  *r_abs = abs;
  return 0;
}

/* HOMEDIR/scdaemon.conf unless --options named a file. */
static gpg_error_t
set_homedir_value(struct options *opt, const char *dir, int keep_config)
{
  gpg_error_t err;
  char *abs, *conf = NULL;

  err = absolute_dir(dir, &abs);
  if (err)
    return err;
  if (!keep_config && !(conf = path_join(abs, "scdaemon.conf")))
    {
      err = gpg_error_from_syserror();
      free(abs);
      return err;
    }
  free(opt->homedir);
  opt->homedir = abs;
  if (!keep_config)
    {
      free(opt->config_file);
      opt->config_file = conf;
    }
  return 0;
}

static size_t
table_index(const struct opt_def *def)
{
  return (size_t)(def - option_table);
}

static const struct opt_def *
find_by_name(const char *name)
{
  size_t i;

  for (i = 0; i < N_OPTIONS; i++)
    if (option_table[i].name && !strcmp(option_table[i].name, name))
      return &option_table[i];
  return NULL;
}

static int
given_on_argv(const struct options *opt, const struct opt_def *def)
{
  return !!(opt->argv_set & (1ull << table_index(def)));
}

static gpg_error_t
set_homedir(struct options *opt, const struct opt_def *def, const char *arg)
{
  (void)def;
  return set_homedir_value(opt, arg, given_on_argv(opt, find_by_name("options")));
}

gpg_error_t
options_init(struct options *opt)
{
  const char *env = getenv("GNUPGHOME");
  gpg_error_t err;
  char *dflt = NULL;

  memset(opt, 0, sizeof *opt);
  opt->pcsc_shared = 1;
  opt->listen_backlog = 64;
  if (env && *env)
    return set_homedir_value(opt, env, 0);
  dflt = path_join(home_of_user(), ".gnupg");
  if (!dflt)
    return gpg_error_from_syserror();
  err = set_homedir_value(opt, dflt, 0);
  free(dflt);
  return err;
}

void
options_release(struct options *opt)
{
  free(opt->homedir);
  free(opt->config_file);
  free(opt->log_file);
  free(opt->reader_port);
  free(opt->pcsc_driver);
  free(opt->disable_application);
  free(opt->application_priority);
  memset(opt, 0, sizeof *opt);
}

/* Rows that store into the same field (pcsc-shared / pcsc-exclusive,
 * allow-admin / deny-admin) count as one option for precedence. */
static int
shadowed_by_argv(const struct options *opt, const struct opt_def *def)
{
  size_t i;

  for (i = 0; i < N_OPTIONS; i++)
    if ((opt->argv_set & (1ull << i))
        && (&option_table[i] == def
            || (def->field && option_table[i].field == def->field)))
      return 1;
  return 0;
}

/* Checks the argument against the option's kind and runs the setter.
 * *R_WHY gets the complaint when the argument is wrong. */
static gpg_error_t
apply_option(struct options *opt, const struct opt_def *def, const char *arg,
             const char **r_why)
{
  gpg_error_t err;

  *r_why = NULL;
  if ((def->kind == ARG_NONE) != !arg)
    {
      *r_why = kind_needs(def->kind);
      return gpg_error(arg ? GPG_ERR_INV_ARG : GPG_ERR_MISSING_VALUE);
    }
  if (def->kind == ARG_INT)
    {
      int dummy;
      err = parse_number(arg, &dummy);
      if (err)
        {
          *r_why = kind_needs(def->kind);
          return err;
        }
    }
  err = def->set(opt, def, arg);
  if (gpg_err_code(err) == GPG_ERR_INV_VALUE)
    *r_why = def->set == set_debug_flags ? "has an unknown debug flag"
                                         : kind_needs(def->kind);
  return err;
}

/* --name, --name=value or a unique prefix of a long name, as GnuPG's
 * command line allows.  *R_AMBIGUOUS is set when several names match. */
static const struct opt_def *
find_long(const char *name, size_t len, int *r_ambiguous)
{
  const struct opt_def *found = NULL;
  size_t i;

  *r_ambiguous = 0;
  for (i = 0; i < N_OPTIONS; i++)
    {
      const char *cand = option_table[i].name;

      if (!cand || strncmp(cand, name, len))
        continue;
      if (!cand[len])
        {
          *r_ambiguous = 0;
          return &option_table[i];
        }
      *r_ambiguous = found != NULL;
      found = &option_table[i];
    }
  return *r_ambiguous ? NULL : found;
}

static const struct opt_def *
find_short(char c)
{
  size_t i;

  for (i = 0; i < N_OPTIONS; i++)
    if (option_table[i].name && option_table[i].short_name == c)
      return &option_table[i];
  return NULL;
}

static gpg_error_t
argv_apply(struct options *opt, const struct opt_def *def, const char *shown,
           const char *arg, FILE *errfp)
{
  const char *why;
  gpg_error_t err;

  if (!(def->where & IN_ARGV))
    {
      fprintf(errfp, "dualscd: option \"%s\" is only allowed in the config file\n",
              shown);
      return gpg_error(GPG_ERR_INV_ARG);
    }
  err = apply_option(opt, def, arg, &why);
  if (err)
    fprintf(errfp, "dualscd: option \"%s\" %s\n", shown, why ? why : gpg_strerror(err));
  else
    {
      opt->argv_set |= 1ull << table_index(def);
      if (def->flags & F_NOEFFECT)
        fprintf(errfp, "dualscd: option \"%s\" has no effect in dualscd\n", shown);
    }
  return err;
}

/* One "--name[=value]" at ARGV[*I]; may consume the next element. */
static gpg_error_t
argv_long(struct options *opt, int argc, char **argv, int *i, FILE *errfp)
{
  const char *shown = argv[*i];
  const char *name = shown + 2;
  const char *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  const struct opt_def *def;
  const char *arg = eq ? eq + 1 : NULL;
  int ambiguous;

  def = find_long(name, len, &ambiguous);
  if (!def)
    {
      fprintf(errfp, "dualscd: %s option \"%.*s\"\n", ambiguous ? "ambiguous" : "unknown",
              (int)len + 2, argv[*i]);
      return gpg_error(GPG_ERR_UNKNOWN_OPTION);
    }
  if (def->kind != ARG_NONE && !arg && *i + 1 < argc)
    arg = argv[++*i];
  return argv_apply(opt, def, shown, arg, errfp);
}

/* "-v", "-vv", "-qv": a cluster of argument-less short options. */
static gpg_error_t
argv_short(struct options *opt, const char *cluster, FILE *errfp)
{
  const struct opt_def *def;
  char shown[3] = { '-', 0, 0 };
  gpg_error_t err = 0;
  const char *p;

  for (p = cluster + 1; *p && !err; p++)
    {
      shown[1] = *p;
      def = find_short(*p);
      if (!def)
        {
          fprintf(errfp, "dualscd: unknown option \"%s\"\n", shown);
          return gpg_error(GPG_ERR_UNKNOWN_OPTION);
        }
      err = argv_apply(opt, def, shown, NULL, errfp);
    }
  return err;
}

gpg_error_t
options_parse_argv(struct options *opt, int argc, char **argv, FILE *errfp)
{
  gpg_error_t err = 0;
  int i;

  for (i = 1; i < argc && !err; i++)
    {
      const char *a = argv[i];

      if (a[0] == '-' && a[1] == '-' && !a[2])
        {
          if (i + 1 < argc)
            {
              fprintf(errfp, "dualscd: unexpected argument \"%s\"\n", argv[i + 1]);
              err = gpg_error(GPG_ERR_INV_ARG);
            }
          break;
        }
      if (a[0] == '-' && a[1] == '-')
        err = argv_long(opt, argc, argv, &i, errfp);
      else if (a[0] == '-' && a[1])
        err = argv_short(opt, a, errfp);
      else
        {
          fprintf(errfp, "dualscd: unexpected argument \"%s\"\n", a);
          err = gpg_error(GPG_ERR_INV_ARG);
        }
    }
  return err;
}

/* Splits a config line in place: *R_NAME is the keyword, *R_ARG the
 * trimmed, unquoted rest or NULL.  Returns 0 for blank and comment lines. */
static int
split_line(char *line, char **r_name, char **r_arg)
{
  char *p = line, *end;

  *r_name = *r_arg = NULL;
  while (isspace((unsigned char)*p))
    p++;
  if (!*p || *p == '#')
    return 0;
  *r_name = p;
  while (*p && !isspace((unsigned char)*p))
    p++;
  if (*p)
    *p++ = 0;
  while (isspace((unsigned char)*p))
    p++;
  end = p + strlen(p);
  while (end > p && isspace((unsigned char)end[-1]))
    *--end = 0;
  if (!*p)
    return 1;
  if (*p == '"')
    {
      p++;
      if (end > p && end[-1] == '"')
        end[-1] = 0;
    }
  *r_arg = p;
  return 1;
}

/* One non-blank config line.  Returns 1 when the line was bad. */
static int
file_line(struct options *opt, char *line, const char *path, unsigned long lnr,
          FILE *errfp)
{
  const struct opt_def *def;
  char *name, *arg;
  const char *why;

  if (!split_line(line, &name, &arg))
    return 0;
  def = find_by_name(name);
  if (!def)
    {
      fprintf(errfp, "%s:%lu: unknown option \"%s\"\n", path, lnr, name);
      return 1;
    }
  if (!(def->where & IN_FILE))
    {
      fprintf(errfp, "%s:%lu: option \"%s\" is only allowed on the command line\n", path,
              lnr, name);
      return 1;
    }
  if (shadowed_by_argv(opt, def))
    return 0;
  if (apply_option(opt, def, arg, &why))
    {
      fprintf(errfp, "%s:%lu: option \"%s\" %s\n", path, lnr, name, why ? why : "failed");
      return 1;
    }
  if (def->flags & F_NOEFFECT)
    fprintf(errfp, "%s:%lu: option \"%s\" has no effect in dualscd\n", path, lnr, name);
  return 0;
}

gpg_error_t
options_read_file(struct options *opt, const char *path, FILE *errfp,
                  unsigned int *r_badlines)
{
  gpg_error_t err = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned long lnr = 0;
  FILE *fp;

  *r_badlines = 0;
  fp = fopen(path, "r");
  if (!fp)
    {
      if (errno == ENOENT)
        return 0;
      err = gpg_error_from_syserror();
      fprintf(errfp, "%s: cannot read the config file: %s\n", path, gpg_strerror(err));
      return err;
    }
  while ((len = getline(&line, &cap, fp)) != -1)
    {
      lnr++;
      if (strlen(line) != (size_t)len)
        {
          fprintf(errfp, "%s:%lu: line contains a NUL byte\n", path, lnr);
          ++*r_badlines;
        }
      else if (file_line(opt, line, path, lnr, errfp))
        ++*r_badlines;
    }
  if (ferror(fp))
    {
      err = gpg_error(GPG_ERR_EIO);
      fprintf(errfp, "%s:%lu: read error\n", path, lnr);
    }
  free(line);
  fclose(fp);
  return err;
}

/* GnuPG's percent_escape (common/stringhelp.c): ':' and '%' only. */
static void
print_escaped(FILE *fp, const char *s)
{
  for (; *s; s++)
    if (*s == ':')
      fputs("%3a", fp);
    else if (*s == '%')
      fputs("%25", fp);
    else
      fputc(*s, fp);
}

void
options_print_gpgconf_list(const struct options *opt, FILE *fp)
{
  unsigned int rank;
  size_t i;

  fputs("gpgconf-scdaemon.conf:16:\"", fp);
  print_escaped(fp, opt->config_file ? opt->config_file : "scdaemon.conf");
  fputc('\n', fp);
  for (rank = 1; rank <= N_OPTIONS; rank++)
    for (i = 0; i < N_OPTIONS; i++)
      if (option_table[i].gc_rank == rank)
        fprintf(fp, "%s:%u:%s%s\n", option_table[i].name, option_table[i].gc_flags,
                option_table[i].gc_default ? option_table[i].gc_default : "",
                option_table[i].gc_default ? ":" : "");
}

void
options_print_help(FILE *fp)
{
  char left[64];
  size_t i;

  fputs("Usage: dualscd [options] (-h for help)\n"
        "Syntax: dualscd [options]\n"
        "Smart-card daemon for GnuPG (a drop-in scdaemon)\n",
        fp);
  for (i = 0; i < N_OPTIONS; i++)
    {
      const struct opt_def *d = &option_table[i];

      if (!d->name)
        {
          fprintf(fp, "\n%s:\n", d->help);
          continue;
        }
      snprintf(left, sizeof left, "--%s%s%s", d->name, d->metavar ? " " : "",
               d->metavar ? d->metavar : "");
      /* GnuPG's layout: help in column 30, or on the next line. */
      fprintf(fp, d->short_name ? " -%c, " : "%c    ",
              d->short_name ? d->short_name : ' ');
      if (strlen(left) > 24)
        fprintf(fp, "%s\n%30s%s\n", left, "", d->help);
      else
        fprintf(fp, "%-24s %s\n", left, d->help);
    }
  fputs("\nOptions may also stand in HOMEDIR/scdaemon.conf without the dashes.\n"
        "debug-level: none, basic, advanced, expert, guru or a number.\n"
        "debug: comma-separated ipc, card-io, usb, pcsc, app, reader, all, none\n"
        "or GnuPG's numeric debug flags.\n",
        fp);
}
