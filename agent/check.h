/* check.h - what dualscd-check's subcommands share with its main */
#ifndef DUALSCD_AGENT_CHECK_H
#define DUALSCD_AGENT_CHECK_H

/* Exit statuses of dualscd-check and every subcommand. */
enum check_exit
{
  CHECK_EXIT_OK = 0,
  CHECK_EXIT_FAIL = 1,  /* the input is bad or the check failed */
  CHECK_EXIT_USAGE = 2, /* the command line is bad */
  /* The diagnosis (check-diag.c) reads 1 and 2 its own way: */
  CHECK_EXIT_FINDINGS = 1, /* conflicts were found */
  CHECK_EXIT_ERROR = 2,    /* the check itself failed */
};

/* The program name used in messages. */
#define CHECK_PROGRAM "dualscd-check"

/* Runs "dualscd-check atr ARGS..."; ARGV[0] is "atr".  Returns an exit status. */
int check_atr_main(int argc, char **argv);

/* Runs the diagnosis, "dualscd-check [diagnose] [OPTIONS]"; ARGV[0] is
 * "diagnose" or the program name.  Returns an exit status: 0 no conflict,
 * 1 conflicts found, 2 the check failed or the command line is bad. */
int check_diagnose_main(int argc, char **argv);

#endif /* DUALSCD_AGENT_CHECK_H */
