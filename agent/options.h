/* options.h - dualscd's options: command line and scdaemon.conf
 *
 * The names are GnuPG scdaemon's (../shared/docs/scdaemon-protocol.md
 * section 8), so an existing scdaemon.conf works unchanged.  One table
 * describes every option (name, argument kind, where it may appear, help);
 * the parser, --help, --gpgconf-list and the documentation all come from
 * it.
 */
#ifndef DUALSCD_AGENT_OPTIONS_H
#define DUALSCD_AGENT_OPTIONS_H

#include <stdio.h>

#include <gpg-error.h>

enum opt_mode
{
  OPT_MODE_NONE = 0,
  OPT_MODE_SERVER,       /* --server: one Assuan session on stdin/stdout */
  OPT_MODE_MULTI_SERVER, /* --multi-server: that plus a socket (gpg-agent) */
  OPT_MODE_DAEMON,       /* --daemon: socket only, prints SCDAEMON_INFO */
  OPT_MODE_GPGCONF_LIST,
  OPT_MODE_GPGCONF_TEST,
  OPT_MODE_VERSION,
  OPT_MODE_HELP
};

struct options
{
  enum opt_mode mode;
  char *homedir;      /* absolute: --homedir, else GNUPGHOME, else ~/.gnupg */
  char *config_file;  /* --options FILE, else HOMEDIR/scdaemon.conf */
  int no_options;     /* --no-options */
  char *log_file;     /* log-file, NULL: stderr */
  unsigned int debug; /* debug flags (DBG_* in log.h) from debug-level / debug */
  int debug_level;    /* 0 none, 1 basic, 2 advanced, 3 expert, 4 guru */
  int debug_allow_pin_logging;
  int debug_allow_core_dump;
  int debug_ccid_driver;
  int verbose;
  int quiet;
  char *reader_port; /* reader-port */
  char *pcsc_driver; /* pcsc-driver (accepted; libpcsclite is linked) */
  int pcsc_shared;   /* 1 (default) shared; pcsc-exclusive sets 0 */
  int disable_ccid;
  int card_timeout; /* seconds, 0 = never release */
  int deny_admin;
  int disable_pinpad;
  int enable_pinpad_varlen;
  char *disable_application; /* comma-separated list */
  char *application_priority;
  int listen_backlog;
  /* Private to options.c: one bit per table entry given on the command
   * line, so that the config file read afterwards does not override it. */
  unsigned long long argv_set;
};

/* Sets defaults; resolves the home directory from GNUPGHOME or HOME. */
gpg_error_t options_init(struct options *opt);

/* Parses ARGV (argv[0] skipped).  Errors name the bad argument on ERRFP. */
gpg_error_t options_parse_argv(struct options *opt, int argc, char **argv, FILE *errfp);

/* Reads PATH (scdaemon.conf syntax: "name [value]" per line, long options
 * without dashes, '#' comments).  A missing file is not an error.  Unknown
 * or malformed lines are reported on ERRFP as "PATH:LINE: ..." and skipped;
 * *R_BADLINES gets their count.  Command-line values set before win over
 * the file (call options_parse_argv, then this, as GnuPG does). */
gpg_error_t options_read_file(struct options *opt, const char *path, FILE *errfp,
                              unsigned int *r_badlines);

/* Writes the --gpgconf-list output (GnuPG's format) to FP. */
void options_print_gpgconf_list(const struct options *opt, FILE *fp);

/* Writes --help to FP, generated from the table. */
void options_print_help(FILE *fp);

/* Frees the strings. */
void options_release(struct options *opt);

#endif /* DUALSCD_AGENT_OPTIONS_H */
