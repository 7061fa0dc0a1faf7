/* check.h - what dualscd-check's subcommands share with its main */
#ifndef DUALSCD_AGENT_CHECK_H
#define DUALSCD_AGENT_CHECK_H

/* Exit statuses of dualscd-check and every subcommand. */
enum check_exit
{
  CHECK_EXIT_OK = 0,
  CHECK_EXIT_FAIL = 1,  /* the input is bad or the check failed */
  CHECK_EXIT_USAGE = 2, /* the command line is bad */
};

/* The program name used in messages. */
#define CHECK_PROGRAM "dualscd-check"

/* Runs "dualscd-check atr ARGS..."; ARGV[0] is "atr".  Returns an exit status. */
int check_atr_main(int argc, char **argv);

#endif /* DUALSCD_AGENT_CHECK_H */
