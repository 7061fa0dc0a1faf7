/* dualscd.c - the card daemon gpg-agent spawns: start-up and modes */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <assuan.h>
#include <gcrypt.h>

#include "command.h"
#include "config.h"
#include "log.h"
#include "options.h"
#include "reader-mgr.h"
#include "server.h"

#define SECMEM_SIZE 32768

/* PINs pass through our memory: no core file may keep them. */
static void
no_core_dumps(const struct options *opt)
{
  struct rlimit rl = { 0, 0 };

  if (opt->debug_allow_core_dump)
    return;
  if (setrlimit(RLIMIT_CORE, &rl))
    log_msg(LOG_ERROR, 0, "cannot disable core dumps: %s", strerror(errno));
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
    log_msg(LOG_ERROR, 0, "cannot make the process undumpable: %s", strerror(errno));
}

/* At exit, after the last session: libgcrypt's random device is closed
 * and its secure memory pool wiped and unmapped, so sanitizer runs see no
 * leak and no key material outlives the daemon. */
static void
term_gcrypt(void)
{
  gcry_control(GCRYCTL_CLOSE_RANDOM_DEVICE, 0);
  gcry_control(GCRYCTL_TERM_SECMEM, 0);
}

static gpg_error_t
init_gcrypt(void)
{
  if (!gcry_check_version(GCRYPT_VERSION))
    return gpg_error(GPG_ERR_NOT_INITIALIZED);
  gcry_control(GCRYCTL_SUSPEND_SECMEM_WARN);
  gcry_control(GCRYCTL_INIT_SECMEM, SECMEM_SIZE, 0);
  gcry_control(GCRYCTL_RESUME_SECMEM_WARN);
  gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  return 0;
}

/* Options from the command line, then scdaemon.conf, then the log. */
static int
setup(struct options *opt, int argc, char **argv)
{
  unsigned int bad = 0;
  char *path = NULL;

  if (options_init(opt) || options_parse_argv(opt, argc, argv, stderr))
    return 2;
  if (opt->mode == OPT_MODE_VERSION || opt->mode == OPT_MODE_HELP)
    return 0;
  if (!opt->no_options)
    {
      if (!opt->config_file && asprintf(&path, "%s/scdaemon.conf", opt->homedir) < 0)
        return 2;
      options_read_file(opt, opt->config_file ? opt->config_file : path, stderr, &bad);
      free(path);
    }
  if (opt->mode == OPT_MODE_GPGCONF_TEST)
    return bad ? 1 : 0;
  if (log_setup(opt->log_file, opt->debug, opt->debug_allow_pin_logging))
    fprintf(stderr, "dualscd: cannot open log file %s\n", opt->log_file);
  return 0;
}

/* --daemon: the parent prints SCDAEMON_INFO and exits; the child serves. */
static int
daemonize(int fd)
{
  pid_t pid = fork();

  if (pid < 0)
    return -1;
  if (pid)
    {
      printf("SCDAEMON_INFO=%s:%lu:1; export SCDAEMON_INFO;\n", server_socket_name(),
             (unsigned long)pid);
      fflush(stdout);
      _exit(0);
    }
  (void)fd;
  setsid();
  /* Whoever ran us waits for EOF on these (eval $(dualscd --daemon));
   * messages go to the log-file. */
  if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout)
      || !freopen("/dev/null", "w", stderr))
    return -1;
  return 0;
}

static int
serve(struct options *opt)
{
  int fd = -1, rc = 0;

  /* --server is one pipe session; the socket is for gpg-agent's others. */
  if (opt->mode != OPT_MODE_SERVER && server_create_socket(opt, &fd)
      && opt->mode == OPT_MODE_DAEMON)
    return 2;
  if (opt->mode == OPT_MODE_DAEMON && daemonize(fd))
    return 2;
  log_msg(LOG_INFO, 0, "dualscd %s starting (GnuPG scdaemon protocol, pid %ld)",
          PACKAGE_VERSION, (long)getpid());
  command_set_options(opt);
  if (rmgr_init(opt))
    {
      log_msg(LOG_ERROR, 0, "cannot start the PC/SC backend");
      rc = 2;
    }
  if (!rc && fd >= 0 && server_start_listener(fd))
    rc = 2;
  if (!rc && opt->mode != OPT_MODE_DAEMON)
    server_run_pipe(); /* never fork here: gpg-agent waits for its child */
  if (!rc)
    server_wait_idle(opt->mode == OPT_MODE_DAEMON);
  server_cleanup();
  rmgr_shutdown();
  return rc;
}

static int
mode_version(struct options *opt)
{
  (void)opt;
  printf("dualscd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
  return 0;
}

static int
mode_help(struct options *opt)
{
  (void)opt;
  options_print_help(stdout);
  return 0;
}

static int
mode_gpgconf_list(struct options *opt)
{
  options_print_gpgconf_list(opt, stdout);
  return 0;
}

static int
mode_gpgconf_test(struct options *opt)
{
  (void)opt; /* setup() already read the file and reported its errors */
  return 0;
}

static const struct
{
  enum opt_mode mode;
  int (*run)(struct options *opt);
} mode_table[] = {
  { OPT_MODE_VERSION, mode_version },
  { OPT_MODE_HELP, mode_help },
  { OPT_MODE_GPGCONF_LIST, mode_gpgconf_list },
  { OPT_MODE_GPGCONF_TEST, mode_gpgconf_test },
  { OPT_MODE_SERVER, serve },
  { OPT_MODE_MULTI_SERVER, serve },
  { OPT_MODE_DAEMON, serve },
};

int
main(int argc, char **argv)
{
  struct options opt;
  size_t i;
  int rc;

  memset(&opt, 0, sizeof opt);
  signal(SIGPIPE, SIG_IGN);
  rc = setup(&opt, argc, argv);
  if (rc)
    goto leave;
  no_core_dumps(&opt);
  if (init_gcrypt())
    {
      fprintf(stderr, "dualscd: libgcrypt is too old\n");
      rc = 2;
      goto leave;
    }
  assuan_set_gpg_err_source(GPG_ERR_SOURCE_SCD);
  rc = 2;
  for (i = 0; i < sizeof mode_table / sizeof *mode_table; i++)
    if (mode_table[i].mode == opt.mode)
      rc = mode_table[i].run(&opt);
  if (i == sizeof mode_table / sizeof *mode_table && rc == 2 && opt.mode == OPT_MODE_NONE)
    fprintf(stderr, "dualscd: give --multi-server, --server or --daemon (see --help)\n");
  term_gcrypt();
leave:
  log_close();
  options_release(&opt);
  return rc;
}
