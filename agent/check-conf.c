/* check-conf.c - dualscd-check: the configuration that decides who drives
 * the readers, and the one fix applied to it
 *
 * scdaemon.conf is read by dualscd's own loader (options.c), so the check
 * sees exactly what the daemon will.  The fix only ever appends a line to
 * the user's scdaemon.conf after saving a copy, so comments and everything
 * else stay as they were.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check-diag.h"
#include "check.h"
#include "options.h"

/* Config files are a few lines; refuse to rewrite anything huge. */
#define MAX_CONF_SIZE (1024 * 1024)

static void
copy_str(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src ? src : "");
}

/* Reads "scdaemon-program VALUE" from gpg-agent.conf (last one wins, as
 * in GnuPG). */
static void
read_agent_conf(struct diag_config *c)
{
  char line[DIAG_PATH_SIZE + 64], *p, *end;
  static const char key[] = "scdaemon-program";
  FILE *fp;

  fp = fopen(c->agent_conf, "r");
  if (!fp)
    return;
  c->agent_conf_exists = 1;
  while (fgets(line, sizeof line, fp))
    {
      p = line + strspn(line, " \t");
      if (strncmp(p, key, sizeof key - 1) || !strchr(" \t", p[sizeof key - 1]))
        continue;
      p += sizeof key - 1;
      p += strspn(p, " \t");
      end = p + strlen(p);
      while (end > p && strchr(" \t\r\n", end[-1]))
        *--end = 0;
      copy_str(c->scdaemon_program, sizeof c->scdaemon_program, p);
    }
  fclose(fp);
}

static gpg_error_t
load_options(struct diag *d, struct options *opt)
{
  char arg0[] = CHECK_PROGRAM, arg1[] = "--homedir";
  char *argv[4];
  gpg_error_t err;

  err = options_init(opt);
  if (err || !d->homedir_arg)
    return err;
  argv[0] = arg0;
  argv[1] = arg1;
  argv[2] = strdup(d->homedir_arg);
  argv[3] = NULL;
  if (!argv[2])
    return gpg_error_from_syserror();
  err = options_parse_argv(opt, 3, argv, stderr);
  free(argv[2]);
  return err;
}

gpg_error_t
diag_collect_config(struct diag *d)
{
  struct diag_config *c = &d->config;
  struct options opt;
  gpg_error_t err;

  err = load_options(d, &opt);
  if (!err)
    {
      copy_str(c->homedir, sizeof c->homedir, opt.homedir);
      copy_str(c->scdaemon_conf, sizeof c->scdaemon_conf, opt.config_file);
      c->scdaemon_conf_exists = !access(c->scdaemon_conf, F_OK);
      err = options_read_file(&opt, opt.config_file, stderr, &c->bad_lines);
    }
  if (!err)
    {
      c->disable_ccid = opt.disable_ccid;
      c->pcsc_shared = opt.pcsc_shared;
      c->card_timeout = opt.card_timeout;
      copy_str(c->reader_port, sizeof c->reader_port, opt.reader_port);
      int len = snprintf(c->agent_conf, sizeof c->agent_conf, "%s/gpg-agent.conf",
                         c->homedir);

      if (len < 0 || (size_t)len >= sizeof c->agent_conf)
        err = gpg_error(GPG_ERR_ENAMETOOLONG); /* never read a cut path */
      else
        read_agent_conf(c);
    }
  options_release(&opt);
  return err;
}

/* ------------------------------------------------------------------ */
/* --fix                                                                */

/* Reads PATH whole into a malloc'd buffer; a missing file is empty. */
static gpg_error_t
slurp(const char *path, char **r_buf, size_t *r_len, mode_t *r_mode)
{
  struct stat st;
  gpg_error_t err = 0;
  FILE *fp;

  *r_len = 0;
  *r_buf = NULL;
  *r_mode = 0600;
  fp = fopen(path, "r");
  if (!fp)
    return errno == ENOENT ? 0 : gpg_error_from_syserror();
  if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_CONF_SIZE)
    err = gpg_error(GPG_ERR_INV_OBJ);
  else if (!(*r_buf = malloc((size_t)st.st_size + 1)))
    err = gpg_error_from_syserror();
  else
    {
      *r_len = fread(*r_buf, 1, (size_t)st.st_size, fp);
      (*r_buf)[*r_len] = 0;
      *r_mode = st.st_mode & 07777;
    }
  fclose(fp);
  return err;
}

/* Does the text set disable-ccid on a line of its own? */
static int
has_disable_ccid(const char *text)
{
  const char *line, *next, *p;
  size_t len = sizeof "disable-ccid" - 1;

  for (line = text; line; line = next)
    {
      next = strchr(line, '\n');
      next = next ? next + 1 : NULL;
      p = line + strspn(line, " \t");
      if (!strncmp(p, "disable-ccid", len) && strchr(" \t\r\n", p[len]))
        return 1;
    }
  return 0;
}

/* Writes LEN bytes of DATA to a new file PATH with MODE. */
static gpg_error_t
write_new(const char *path, const char *data, size_t len, mode_t mode, int excl)
{
  gpg_error_t err = 0;
  int fd;

  fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode);
  if (fd < 0)
    return gpg_error_from_syserror();
  if (len && write(fd, data, len) != (ssize_t)len)
    err = gpg_error_from_syserror();
  if (!err && fsync(fd))
    err = gpg_error_from_syserror();
  if (close(fd) && !err)
    err = gpg_error_from_syserror();
  return err;
}

/* Saves the current file as PATH.bak-YYYYMMDDHHMMSS (then -1, -2... if
 * that name is taken). */
static gpg_error_t
backup(const char *path, const char *data, size_t len, mode_t mode, FILE *log)
{
  char name[PATH_MAX + 64], stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gpg_error_t err = 0;
  int n, len_ok;

  strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", localtime_r(&now, &tm));
  for (n = 0; n < 100; n++)
    {
      len_ok = n ? snprintf(name, sizeof name, "%s.bak-%s-%d", path, stamp, n)
                 : snprintf(name, sizeof name, "%s.bak-%s", path, stamp);
      if (len_ok < 0 || (size_t)len_ok >= sizeof name)
        return gpg_error(GPG_ERR_TOO_LARGE);
      err = write_new(name, data, len, mode, 1);
      if (gpg_err_code(err) != GPG_ERR_EEXIST)
        break;
    }
  if (!err)
    fprintf(log, "saved %s as %s\n", path, name);
  return err;
}

/* Writes the old text plus the disable-ccid line to PATH, atomically. */
static gpg_error_t
append_line(const char *path, const char *old, size_t len, mode_t mode)
{
  static const char line[] = "# Added by dualscd-check --fix: let pcscd drive the "
                             "USB readers.\ndisable-ccid\n";
  char tmp[PATH_MAX + 32];
  gpg_error_t err;
  char *text;
  size_t n = 0;
  int len_ok;

  text = malloc(len + sizeof line + 1);
  if (!text)
    return gpg_error_from_syserror();
  memcpy(text, old ? old : "", len);
  n = len;
  if (n && text[n - 1] != '\n')
    text[n++] = '\n';
  memcpy(text + n, line, sizeof line - 1);
  n += sizeof line - 1;
  len_ok = snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
  if (len_ok < 0 || (size_t)len_ok >= sizeof tmp)
    {
      free(text);
      return gpg_error(GPG_ERR_TOO_LARGE);
    }
  err = write_new(tmp, text, n, mode, 1);
  if (!err && rename(tmp, path))
    err = gpg_error_from_syserror();
  if (err)
    unlink(tmp);
  free(text);
  return err;
}

/* Runs "gpgconf --homedir HOME --kill scdaemon"; a failure is reported,
 * not fatal: the change still takes effect at the next start. */
static void
kill_scdaemon(const char *home, FILE *log)
{
  int status = 0;
  pid_t pid;

  fprintf(log, "running: gpgconf --homedir %s --kill scdaemon\n", home);
  fflush(log);
  pid = fork();
  if (!pid)
    {
      execlp("gpgconf", "gpgconf", "--homedir", home, "--kill", "scdaemon", (char *)NULL);
      _exit(127);
    }
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
      || WEXITSTATUS(status))
    fprintf(log, "gpgconf --kill scdaemon failed; restart gpg-agent by hand\n");
}

gpg_error_t
diag_fix_disable_ccid(const struct diag *d, int *r_changed, FILE *log)
{
  const char *path = d->config.scdaemon_conf;
  char real[PATH_MAX];
  gpg_error_t err;
  char *old = NULL;
  size_t len;
  mode_t mode;

  *r_changed = 0;
  /* A symlinked scdaemon.conf (dotfile managers) stays a symlink. */
  if (realpath(path, real))
    path = real;
  err = slurp(path, &old, &len, &mode);
  if (err || (old && has_disable_ccid(old)))
    goto leave;
  if (!old && mkdir(d->config.homedir, 0700) && errno != EEXIST)
    {
      err = gpg_error_from_syserror();
      goto leave;
    }
  if (old)
    err = backup(path, old, len, mode, log);
  if (!err)
    err = append_line(path, old, len, mode);
  if (err)
    goto leave;
  *r_changed = 1;
  fprintf(log, "added disable-ccid to %s\n", path);
  kill_scdaemon(d->config.homedir, log);

leave:
  free(old);
  return err;
}
