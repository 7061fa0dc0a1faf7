/* dualscd-check.c - the diagnostic command: global options and subcommands */
#include <stdio.h>
#include <string.h>

#include "config.h"

#include "check.h"

struct subcommand
{
  const char *name;
  int (*run)(int argc, char **argv);
  const char *args;
  const char *summary;
};

/* One row per subcommand; usage text and dispatch both come from here. */
static const struct subcommand subcommands[] = {
  { "diagnose", check_diagnose_main, "[--json] [--fix [--yes]] [--homedir DIR]",
    "who holds the readers, what conflicts, how to fix it (the default)" },
  { "atr", check_atr_main, "[--json] HEX...", "explain an Answer To Reset given in hex" },
};

#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void
usage(FILE *fp)
{
  size_t k;

  fprintf(fp,
          "Usage: %s [--help|--version] [SUBCOMMAND] [ARGS...]\n\n"
          "Without a subcommand (or with options only) it runs \"diagnose\".\n\n"
          "Subcommands:\n",
          CHECK_PROGRAM);
  for (k = 0; k < N_SUBCOMMANDS; k++)
    fprintf(fp, "  %s %-18s %s\n", subcommands[k].name, subcommands[k].args,
            subcommands[k].summary);
  fprintf(fp, "\n\"%s SUBCOMMAND --help\" describes a subcommand.\n", CHECK_PROGRAM);
}

static const struct subcommand *
find_subcommand(const char *name)
{
  size_t k;

  for (k = 0; k < N_SUBCOMMANDS; k++)
    if (!strcmp(subcommands[k].name, name))
      return &subcommands[k];
  return NULL;
}

int
main(int argc, char **argv)
{
  const struct subcommand *sub;

  /* No subcommand, or options only: the diagnosis. */
  if (argc < 2)
    return check_diagnose_main(argc, argv);
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
    {
      usage(stdout);
      return CHECK_EXIT_OK;
    }
  if (!strcmp(argv[1], "--version"))
    {
      printf("%s (%s) %s\n", CHECK_PROGRAM, PACKAGE_NAME, PACKAGE_VERSION);
      return CHECK_EXIT_OK;
    }
  if (argv[1][0] == '-')
    return check_diagnose_main(argc, argv);
  sub = find_subcommand(argv[1]);
  if (!sub)
    {
      fprintf(stderr, "%s: unknown subcommand \"%s\"; try \"%s --help\"\n", CHECK_PROGRAM,
              argv[1], CHECK_PROGRAM);
      return CHECK_EXIT_USAGE;
    }
  return sub->run(argc - 1, argv + 1);
}
