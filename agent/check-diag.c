/* check-diag.c - "dualscd-check [diagnose]": who holds the readers, what is
 * configured, what conflicts, and the one safe fix
 *
 * Exit status: 0 no finding, 1 findings, 2 the check itself failed or the
 * command line is wrong.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check-diag.h"
#include "check.h"

#define CMD CHECK_PROGRAM

struct diag_args
{
  int json;
  int fix;
  int yes;
};

static void
usage(FILE *fp)
{
  fprintf(fp,
          "Usage: %s [diagnose] [--json] [--fix [--yes]] [--homedir DIR] "
          "[--ignore-pid PID]...\n\n"
          "Lists the USB CCID readers and who holds them, pcscd and its readers, the\n"
          "card daemons that run and the configuration, then one finding per\n"
          "conflict with a command that fixes it.\n\n"
          "  --json            print one JSON object instead of text\n"
          "  --fix             add disable-ccid to scdaemon.conf (after a backup) and\n"
          "                    run gpgconf --kill scdaemon, if a finding calls for it\n"
          "  --yes             do not ask before --fix changes anything\n"
          "  --homedir DIR     GnuPG home directory (default: GNUPGHOME, ~/.gnupg)\n"
          "  --ignore-pid PID  do not report process PID (a test harness)\n\n"
          "Exit status: 0 no conflict, 1 conflicts found, 2 the check failed.\n",
          CMD);
}

static int
parse_pid(const char *text, pid_t *pid)
{
  char *end;
  long value;

  errno = 0;
  value = strtol(text, &end, 10);
  if (errno || *end || end == text || value <= 0 || value > INT_MAX)
    return -1;
  *pid = (pid_t)value;
  return 0;
}

/* Returns 0, 1 for --help, -1 for a bad command line. */
static int
parse_args(int argc, char **argv, struct diag *d, struct diag_args *a)
{
  int i;

  for (i = 1; i < argc; i++)
    {
      if (!strcmp(argv[i], "--json"))
        a->json = 1;
      else if (!strcmp(argv[i], "--fix"))
        a->fix = 1;
      else if (!strcmp(argv[i], "--yes") || !strcmp(argv[i], "-y"))
        a->yes = 1;
      else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
        return 1;
      else if (!strcmp(argv[i], "--homedir") && i + 1 < argc)
        d->homedir_arg = argv[++i];
      else if (!strcmp(argv[i], "--ignore-pid") && i + 1 < argc
               && d->n_ignored < DIAG_MAX_IGNORED
               && !parse_pid(argv[i + 1], &d->ignored[d->n_ignored]))
        {
          d->n_ignored++;
          i++;
        }
      else
        {
          fprintf(stderr, "%s: bad argument \"%s\"; try \"%s --help\"\n", CMD, argv[i],
                  CMD);
          return -1;
        }
    }
  return 0;
}

static long
now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static gpg_error_t
collect(struct diag *d)
{
  long t0 = now_ms();
  gpg_error_t err;

  err = diag_collect_config(d);
  if (err)
    fprintf(stderr, "%s: cannot read the configuration: %s\n", CMD, gpg_strerror(err));
  if (!err && (err = diag_collect_daemons(d)))
    fprintf(stderr, "%s: cannot list processes: %s\n", CMD, gpg_strerror(err));
  if (!err)
    err = diag_collect_usb(d);
  if (!err)
    err = diag_collect_pcsc(d);
  d->elapsed_ms = now_ms() - t0;
  if (!err)
    diag_judge(d);
  return err;
}

static int
any_fixable(const struct diag *d)
{
  size_t i;

  for (i = 0; i < d->n_findings; i++)
    if (d->findings[i].fixable)
      return 1;
  return 0;
}

static int
confirm(const struct diag *d, FILE *log)
{
  char answer[16];

  fprintf(log, "Add disable-ccid to %s and run \"gpgconf --kill scdaemon\"? [y/N] ",
          d->config.scdaemon_conf);
  fflush(log);
  if (!fgets(answer, sizeof answer, stdin))
    return 0;
  return answer[0] == 'y' || answer[0] == 'Y';
}

/* Applies the fix if a finding calls for it; then judges again from the
 * new configuration.  Returns an error only if the fix failed. */
static gpg_error_t
fix(struct diag *d, const struct diag_args *a)
{
  FILE *log = a->json ? stderr : stdout;
  gpg_error_t err;
  int changed;

  if (!any_fixable(d))
    {
      fprintf(log, "%s: nothing for --fix to do\n", CMD);
      return 0;
    }
  if (!a->yes && !confirm(d, log))
    {
      fprintf(log, "%s: nothing changed\n", CMD);
      return 0;
    }
  err = diag_fix_disable_ccid(d, &changed, log);
  if (err)
    {
      fprintf(stderr, "%s: cannot change %s: %s\n", CMD, d->config.scdaemon_conf,
              gpg_strerror(err));
      return err;
    }
  if (!changed)
    fprintf(log, "%s: %s already sets disable-ccid; nothing changed\n", CMD,
            d->config.scdaemon_conf);
  if (!(err = diag_collect_config(d)))
    diag_judge(d);
  return err;
}

/* Prints the report; with --fix, text shows the findings before and
 * after, JSON only the state after the fix. */
static int
report(struct diag *d, const struct diag_args *a)
{
  if (!a->json)
    diag_print_text(d, stdout);
  if (a->fix)
    {
      if (fix(d, a))
        return CHECK_EXIT_ERROR;
      if (!a->json)
        {
          printf("\nAfter --fix:");
          diag_print_findings(d, stdout);
        }
    }
  if (a->json)
    diag_print_json(d, stdout);
  return d->n_findings ? CHECK_EXIT_FINDINGS : CHECK_EXIT_OK;
}

int
check_diagnose_main(int argc, char **argv)
{
  struct diag_args a = { 0, 0, 0 };
  struct diag *d;
  int rc, status = CHECK_EXIT_ERROR;

  d = calloc(1, sizeof *d);
  if (!d)
    {
      fprintf(stderr, "%s: out of memory\n", CMD);
      return CHECK_EXIT_ERROR;
    }
  rc = parse_args(argc, argv, d, &a);
  if (rc)
    {
      usage(rc > 0 ? stdout : stderr);
      status = rc > 0 ? CHECK_EXIT_OK : CHECK_EXIT_USAGE;
    }
  else if (!collect(d))
    status = report(d, &a);
  if (fflush(stdout))
    status = CHECK_EXIT_ERROR;
  free(d);
  return status;
}
