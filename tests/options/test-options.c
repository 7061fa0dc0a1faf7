/* test-options.c - options.c: argv, scdaemon.conf, precedence, homedir, gpgconf, help
 *
 * Argument 1 (from meson) is the source root: the man page and
 * scdaemon.conf.example are checked to name every option --help lists.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "options.h"

static const char *source_root = ".";
static char tmpdir[] = "/tmp/dualscd-opts-XXXXXX";

/* Everything written to FP so far, as a malloced string. */
static char *
slurp(FILE *fp)
{
  long len;
  char *buf;

  fflush(fp);
  len = ftell(fp);
  buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
  rewind(fp);
  if (buf && len > 0 && fread(buf, 1, (size_t)len, fp) != (size_t)len)
    buf[0] = 0;
  return buf;
}

static char *
write_conf(const char *name, const char *text)
{
  static char path[512];
  FILE *fp;

  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  fp = fopen(path, "w");
  if (fp)
    {
      fputs(text, fp);
      fclose(fp);
    }
  return path;
}

static gpg_error_t
parse(struct options *opt, FILE *errfp, int argc, const char *const *args)
{
  static char storage[32][256]; /* argv is char **; keep the literals intact */
  char *argv[33];
  int i;

  snprintf(storage[0], sizeof storage[0], "dualscd");
  argv[0] = storage[0];
  for (i = 0; i < argc && i < 30; i++)
    {
      snprintf(storage[i + 1], sizeof storage[i + 1], "%s", args[i]);
      argv[i + 1] = storage[i + 1];
    }
  argv[i + 1] = NULL;
  return options_parse_argv(opt, i + 1, argv, errfp);
}

#define PARSE(opt, errfp, ...)                                                           \
  parse((opt), (errfp),                                                                  \
        (int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)),      \
        (const char *const[]){ __VA_ARGS__ })

static void
defaults(void)
{
  struct options opt;

  setenv("GNUPGHOME", "/tmp/gh", 1);
  CHECK_OK(options_init(&opt));
  CHECK_STR(opt.homedir, "/tmp/gh");
  CHECK_STR(opt.config_file, "/tmp/gh/scdaemon.conf");
  CHECK_INT(opt.pcsc_shared, 1);
  CHECK_INT(opt.listen_backlog, 64);
  CHECK_INT(opt.mode, OPT_MODE_NONE);
  CHECK(!opt.log_file);
  CHECK_INT(opt.debug, 0);
  options_release(&opt);
}

static void
homedir_resolution(void)
{
  struct options opt;
  char cwd[512], want[600];

  setenv("GNUPGHOME", "/tmp/x//", 1);
  CHECK_OK(options_init(&opt));
  CHECK_STR(opt.homedir, "/tmp/x");
  options_release(&opt);

  unsetenv("GNUPGHOME");
  setenv("HOME", "/home/someone", 1);
  CHECK_OK(options_init(&opt));
  CHECK_STR(opt.homedir, "/home/someone/.gnupg");
  CHECK_STR(opt.config_file, "/home/someone/.gnupg/scdaemon.conf");
  CHECK_OK(PARSE(&opt, stderr, "--homedir", "rel/dir"));
  CHECK(getcwd(cwd, sizeof cwd) != NULL);
  snprintf(want, sizeof want, "%s/rel/dir", cwd);
  CHECK_STR(opt.homedir, want);
  snprintf(want, sizeof want, "%s/rel/dir/scdaemon.conf", cwd);
  CHECK_STR(opt.config_file, want);
  CHECK_OK(PARSE(&opt, stderr, "--homedir=~/g"));
  CHECK_STR(opt.homedir, "/home/someone/g");
  options_release(&opt);

  /* --options wins over the homedir's scdaemon.conf, in either order. */
  CHECK_OK(options_init(&opt));
  CHECK_OK(PARSE(&opt, stderr, "--options", "/etc/x.conf", "--homedir", "/h"));
  CHECK_STR(opt.homedir, "/h");
  CHECK_STR(opt.config_file, "/etc/x.conf");
  options_release(&opt);
}

static void
argv_kinds(void)
{
  struct options opt;

  CHECK_OK(options_init(&opt));
  CHECK_OK(PARSE(&opt, stderr, "--multi-server", "-vv", "--quiet", "--card-timeout", "30",
                 "--log-file=/tmp/l", "--debug-level", "guru", "--pcsc-exclusive",
                 "--deny-admin", "--reader-port", "Virtual PCD 00 00",
                 "--disable-application", "piv", "--disable-application=nks",
                 "--listen-backlog", "5", "--no-options", "--debug-allow-pin-logging",
                 "--debug-allow-core-dump", "--disable-pinpad", "--enable-pinpad-varlen",
                 "--disable-ccid", "--application-priority", "openpgp", "--pcsc-driver",
                 "x.so", "--debug-ccid-driver"));
  CHECK_INT(opt.mode, OPT_MODE_MULTI_SERVER);
  CHECK_INT(opt.verbose, 2);
  CHECK_INT(opt.quiet, 1);
  CHECK_INT(opt.card_timeout, 30);
  CHECK_STR(opt.log_file, "/tmp/l");
  CHECK_INT(opt.debug_level, 4);
  CHECK_INT(opt.debug & 0x3f, 0x3f);
  CHECK_INT(opt.pcsc_shared, 0);
  CHECK_INT(opt.deny_admin, 1);
  CHECK_STR(opt.reader_port, "Virtual PCD 00 00");
  CHECK_STR(opt.disable_application, "piv,nks");
  CHECK_INT(opt.listen_backlog, 5);
  CHECK_INT(opt.no_options, 1);
  CHECK_INT(opt.debug_allow_pin_logging, 1);
  CHECK_INT(opt.debug_allow_core_dump, 1);
  CHECK_INT(opt.disable_pinpad, 1);
  CHECK_INT(opt.enable_pinpad_varlen, 1);
  CHECK_INT(opt.disable_ccid, 1);
  CHECK_STR(opt.application_priority, "openpgp");
  CHECK_STR(opt.pcsc_driver, "x.so");
  CHECK_INT(opt.debug_ccid_driver, 1);
  options_release(&opt);
}

static void
argv_modes(void)
{
  struct options opt;

  CHECK_OK(options_init(&opt));
  CHECK_OK(PARSE(&opt, stderr, "--server"));
  CHECK_INT(opt.mode, OPT_MODE_SERVER);
  CHECK_OK(PARSE(&opt, stderr, "--daemon"));
  CHECK_INT(opt.mode, OPT_MODE_DAEMON);
  CHECK_OK(PARSE(&opt, stderr, "--gpgconf-list", "--multi-server"));
  CHECK_INT(opt.mode, OPT_MODE_GPGCONF_LIST);
  CHECK_OK(PARSE(&opt, stderr, "--gpgconf-test"));
  CHECK_INT(opt.mode, OPT_MODE_GPGCONF_TEST);
  CHECK_OK(PARSE(&opt, stderr, "--version"));
  CHECK_INT(opt.mode, OPT_MODE_VERSION);
  CHECK_OK(PARSE(&opt, stderr, "-h"));
  CHECK_INT(opt.mode, OPT_MODE_HELP);
  options_release(&opt);
  CHECK_OK(options_init(&opt));
  CHECK_OK(PARSE(&opt, stderr, "--multi"));
  CHECK_INT(opt.mode, OPT_MODE_MULTI_SERVER);
  options_release(&opt);
}

static void
argv_errors(void)
{
  struct options opt;
  FILE *errfp = tmpfile();
  char *text;

  CHECK_OK(options_init(&opt));
  CHECK_ERR(PARSE(&opt, errfp, "--frobnicate"), GPG_ERR_UNKNOWN_OPTION);
  CHECK_ERR(PARSE(&opt, errfp, "--card-timeout", "ten"), GPG_ERR_INV_VALUE);
  CHECK_ERR(PARSE(&opt, errfp, "--card-timeout"), GPG_ERR_MISSING_VALUE);
  CHECK_ERR(PARSE(&opt, errfp, "--verbose=3"), GPG_ERR_INV_ARG);
  CHECK_ERR(PARSE(&opt, errfp, "--debug-level", "loud"), GPG_ERR_INV_VALUE);
  CHECK_ERR(PARSE(&opt, errfp, "--debug", "ipc,bogus"), GPG_ERR_INV_VALUE);
  CHECK_ERR(PARSE(&opt, errfp, "-x"), GPG_ERR_UNKNOWN_OPTION);
  CHECK_ERR(PARSE(&opt, errfp, "stray"), GPG_ERR_INV_ARG);
  CHECK_ERR(PARSE(&opt, errfp, "--d"), GPG_ERR_UNKNOWN_OPTION);
  CHECK_INT(opt.card_timeout, 0);
  CHECK_INT(opt.debug, 0);
  text = slurp(errfp);
  CHECK(text && strstr(text, "unknown option \"--frobnicate\""));
  CHECK(text && strstr(text, "option \"--card-timeout\" needs a number"));
  CHECK(text && strstr(text, "option \"--verbose=3\" takes no argument"));
  CHECK(text && strstr(text, "option \"--debug\" has an unknown debug flag"));
  CHECK(text && strstr(text, "unknown option \"-x\""));
  CHECK(text && strstr(text, "unexpected argument \"stray\""));
  CHECK(text && strstr(text, "ambiguous option \"--d\""));
  free(text);
  fclose(errfp);
  options_release(&opt);
}

static void
file_kinds(void)
{
  struct options opt;
  unsigned int bad = 99;
  char *path
      = write_conf("kinds.conf", "# a comment\n"
                                 "\n"
                                 "   verbose   \n"
                                 "verbose\n"
                                 "\tlog-file /var/log/my scd.log  \n"
                                 "debug-level basic\n"
                                 "debug cardio,reader\n"
                                 "card-timeout 5\n"
                                 "reader-port \"Virtual PCD 00 01\"\n"
                                 "pcsc-shared\n"
                                 "deny-admin\n"
                                 "application-priority openpgp piv\n"
                                 "disable-application nks\n"
                                 "disable-application piv\n"
                                 "debug-allow-pin-logging\n"
                                 "listen-backlog 10\n"
                                 "pcsc-driver libpcsclite.so.1"); /* no final newline */

  CHECK_OK(options_init(&opt));
  CHECK_OK(options_read_file(&opt, path, stderr, &bad));
  CHECK_INT(bad, 0);
  CHECK_INT(opt.verbose, 2);
  CHECK_STR(opt.log_file, "/var/log/my scd.log");
  CHECK_INT(opt.debug_level, 1);
  CHECK_INT(opt.debug, LOG_CAT_IPC | LOG_CAT_CARD_IO | LOG_CAT_READER | LOG_CAT_PCSC);
  CHECK_INT(opt.card_timeout, 5);
  CHECK_STR(opt.reader_port, "Virtual PCD 00 01");
  CHECK_INT(opt.deny_admin, 1);
  CHECK_STR(opt.application_priority, "openpgp piv");
  CHECK_STR(opt.disable_application, "nks,piv");
  CHECK_INT(opt.debug_allow_pin_logging, 1);
  CHECK_INT(opt.listen_backlog, 10);
  CHECK_STR(opt.pcsc_driver, "libpcsclite.so.1");
  options_release(&opt);
}

static void
file_bad_lines(void)
{
  struct options opt;
  unsigned int bad = 0;
  FILE *errfp = tmpfile();
  char *text, *path;

  path = write_conf("bad.conf", "verbose\n"
                                "frobnicate 3\n"
                                "card-timeout ten\n"
                                "card-timeout\n"
                                "quiet yes\n"
                                "server\n"
                                "debug-level loud\n"
                                "scdaemon-program /usr/bin/x\n"
                                "ctapi-driver libtowitoko.so\n"
                                "deny-admin # trailing comments are values in GnuPG\n"
                                "disable-pinpad\n");
  CHECK_OK(options_init(&opt));
  CHECK_OK(options_read_file(&opt, path, errfp, &bad));
  CHECK_INT(bad, 8);
  CHECK_INT(opt.verbose, 1);
  CHECK_INT(opt.disable_pinpad, 1);
  CHECK_INT(opt.card_timeout, 0);
  CHECK_INT(opt.quiet, 0);
  CHECK_INT(opt.mode, OPT_MODE_NONE);
  text = slurp(errfp);
  CHECK(text && strstr(text, "bad.conf:2: unknown option \"frobnicate\"\n"));
  CHECK(text && strstr(text, "bad.conf:3: option \"card-timeout\" needs a number\n"));
  CHECK(text && strstr(text, "bad.conf:4: option \"card-timeout\" needs a number\n"));
  CHECK(text && strstr(text, "bad.conf:5: option \"quiet\" takes no argument\n"));
  CHECK(text
        && strstr(text,
                  "bad.conf:6: option \"server\" is only allowed on the command line\n"));
  CHECK(text && strstr(text, "bad.conf:7: option \"debug-level\" needs none, basic"));
  CHECK(text && strstr(text, "bad.conf:8: unknown option \"scdaemon-program\"\n"));
  CHECK(
      text
      && strstr(text, "bad.conf:9: option \"ctapi-driver\" has no effect in dualscd\n"));
  CHECK(text && strstr(text, "bad.conf:10: option \"deny-admin\" takes no argument\n"));
  CHECK(text && strstr(text, path) == text);
  free(text);
  fclose(errfp);
  options_release(&opt);
}

static void
file_missing_and_binary(void)
{
  struct options opt;
  unsigned int bad = 7;
  FILE *fp;
  char path[512];

  CHECK_OK(options_init(&opt));
  CHECK_OK(options_read_file(&opt, "/nonexistent/scdaemon.conf", stderr, &bad));
  CHECK_INT(bad, 0);
  snprintf(path, sizeof path, "%s/nul.conf", tmpdir);
  fp = fopen(path, "w");
  if (fp)
    {
      fwrite("verbose\nquiet\0x\nverbose\n", 1, 24, fp);
      fclose(fp);
    }
  CHECK_OK(options_read_file(&opt, path, fopen("/dev/null", "w"), &bad));
  CHECK_INT(bad, 1);
  CHECK_INT(opt.verbose, 2);
  CHECK_INT(opt.quiet, 0);
  options_release(&opt);
}

static void
precedence(void)
{
  struct options opt;
  unsigned int bad = 0;
  char *path = write_conf("prec.conf", "card-timeout 99\n"
                                       "log-file /from/file\n"
                                       "pcsc-shared\n"
                                       "verbose\nverbose\nverbose\n"
                                       "debug-level guru\n"
                                       "reader-port from-file\n");

  CHECK_OK(options_init(&opt));
  CHECK_OK(PARSE(&opt, stderr, "--card-timeout", "7", "--log-file", "/from/argv",
                 "--pcsc-exclusive", "-v", "--debug-level", "none"));
  CHECK_OK(options_read_file(&opt, path, stderr, &bad));
  CHECK_INT(bad, 0);
  CHECK_INT(opt.card_timeout, 7);
  CHECK_STR(opt.log_file, "/from/argv");
  CHECK_INT(opt.pcsc_shared, 0);
  CHECK_INT(opt.verbose, 1);
  CHECK_INT(opt.debug_level, 0);
  CHECK_INT(opt.debug, 0);
  CHECK_STR(opt.reader_port, "from-file"); /* not on the command line */
  options_release(&opt);
}

static void
debug_values(void)
{
  struct options opt;

  CHECK_OK(options_init(&opt));
  CHECK_OK(PARSE(&opt, stderr, "--debug", "1024"));
  CHECK_INT(opt.debug, LOG_CAT_IPC);
  CHECK_OK(PARSE(&opt, stderr, "--debug", "none", "--debug", "0x1000"));
  CHECK_INT(opt.debug, LOG_CAT_CARD_IO);
  CHECK_OK(PARSE(&opt, stderr, "--debug", "none,usb,app"));
  CHECK_INT(opt.debug, LOG_CAT_USB | LOG_CAT_APP);
  CHECK_OK(PARSE(&opt, stderr, "--debug", "none", "--debug-level", "6"));
  CHECK_INT(opt.debug_level, 3);
  CHECK(opt.debug & LOG_CAT_CARD_IO);
  CHECK_OK(PARSE(&opt, stderr, "--debug-level", "2"));
  CHECK_INT(opt.debug_level, 1);
  CHECK_OK(PARSE(&opt, stderr, "--debug", "none", "--debug-all"));
  CHECK_INT(opt.debug, 0x3f);
  options_release(&opt);
}

static void
gpgconf_list(void)
{
  struct options opt;
  FILE *fp = tmpfile();
  char *text;

  setenv("GNUPGHOME", "/tmp/a b:c%d", 1);
  CHECK_OK(options_init(&opt));
  options_print_gpgconf_list(&opt, fp);
  text = slurp(fp);
  /* Byte for byte what scdaemon 2.2.40 --gpgconf-list prints. */
  CHECK_STR(text, "gpgconf-scdaemon.conf:16:\"/tmp/a b%3ac%25d/scdaemon.conf\n"
                  "verbose:0:\n"
                  "quiet:0:\n"
                  "debug-level:16:\"none:\n"
                  "log-file:0:\n"
                  "reader-port:0:\n"
                  "ctapi-driver:0:\n"
                  "pcsc-driver:16:\"libpcsclite.so.1:\n"
                  "disable-ccid:0:\n"
                  "deny-admin:0:\n"
                  "disable-pinpad:0:\n"
                  "card-timeout:16:0:\n"
                  "enable-pinpad-varlen:0:\n");
  free(text);
  fclose(fp);
  options_release(&opt);
}

/* Option names listed by --help, one per "--name" at a line's option column. */
static int
help_names(const char *help, char names[][40], int max)
{
  const char *p = help;
  int n = 0;

  while ((p = strstr(p, "\n ")) && n < max)
    {
      const char *dash = strstr(p, "--");
      const char *eol = strchr(p + 1, '\n');
      size_t len = 0;

      p++;
      if (!dash || (eol && dash > eol) || dash - p > 6)
        continue;
      dash += 2;
      while (dash[len] && dash[len] != ' ' && dash[len] != '\n' && len < 39)
        len++;
      memcpy(names[n], dash, len);
      names[n++][len] = 0;
    }
  return n;
}

/* "--card-timeout" as roff writes it: every '-' escaped. */
static void
man_name(char *buf, size_t size, const char *name)
{
  size_t pos = 0;

  snprintf(buf, size, "\\-\\-");
  pos = strlen(buf);
  for (; *name && pos + 3 < size; name++)
    {
      if (*name == '-')
        buf[pos++] = '\\';
      buf[pos++] = *name;
    }
  buf[pos] = 0;
}

static char *
read_source(const char *rel)
{
  char path[1024];
  FILE *fp;
  char *text;

  snprintf(path, sizeof path, "%s/%s", source_root, rel);
  fp = fopen(path, "r");
  if (!fp)
    return NULL;
  fseek(fp, 0, SEEK_END);
  text = slurp(fp);
  fclose(fp);
  return text;
}

static void
help_and_docs(void)
{
  FILE *fp = tmpfile();
  char names[80][40], key[64];
  char *help, *man, *example;
  int n, i;

  options_print_help(fp);
  help = slurp(fp);
  CHECK(help && strstr(help, " -v, --verbose "));
  CHECK(help && strstr(help, "     --card-timeout N "));
  CHECK(help && strstr(help, "Options controlling the security:\n"));
  n = help_names(help ? help : "", names, 80);
  CHECK(n >= 40);
  man = read_source("doc/dualscd.8");
  example = read_source("scdaemon.conf.example");
  CHECK(man != NULL);
  CHECK(example != NULL);
  for (i = 0; i < n && man && example; i++)
    {
      man_name(key, sizeof key, names[i]);
      if (!strstr(man, key))
        printf("# %s missing from doc/dualscd.8\n", names[i]);
      CHECK(strstr(man, key));
      snprintf(key, sizeof key, "\n#%.39s", names[i]);
      if (!strstr(example, key))
        {
          snprintf(key, sizeof key, "--%.39s", names[i]);
          if (!strstr(example, key))
            printf("# %s missing from scdaemon.conf.example\n", names[i]);
          CHECK(strstr(example, key));
        }
    }
  free(help);
  free(man);
  free(example);
  fclose(fp);
}

static void
remove_tmpdir(void)
{
  static const char *const files[]
      = { "kinds.conf", "bad.conf", "nul.conf", "prec.conf" };
  char path[512];
  size_t i;

  for (i = 0; i < sizeof files / sizeof files[0]; i++)
    {
      snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
      unlink(path);
    }
  rmdir(tmpdir);
}

int
main(int argc, char **argv)
{
  if (argc > 1)
    source_root = argv[1];
  if (!mkdtemp(tmpdir))
    return 99;
  RUN(defaults);
  RUN(homedir_resolution);
  RUN(argv_kinds);
  RUN(argv_modes);
  RUN(argv_errors);
  RUN(file_kinds);
  RUN(file_bad_lines);
  RUN(file_missing_and_binary);
  RUN(precedence);
  RUN(debug_values);
  RUN(gpgconf_list);
  RUN(help_and_docs);
  remove_tmpdir();
  return check_done();
}
