/* server.c - Assuan sessions: the pipe session and the socket sessions
 *
 * gpg-agent talks to us on fd 0/1 and, for further sessions, on a Unix
 * socket it learns with GETINFO socket_name.  Each socket session runs in
 * a thread of its own; the card is shared through the reader manager.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <assuan.h>
#include <gcrypt.h>

#include "server.h"

#include "command.h"
#include "log.h"

static char socket_name[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static unsigned int nsocket_sessions;
static unsigned int nsessions;
static int kill_requested;

const char *
server_socket_name(void)
{
  return socket_name;
}

unsigned int
server_connection_count(void)
{
  unsigned int n;

  pthread_mutex_lock(&mu);
  n = nsessions;
  pthread_mutex_unlock(&mu);
  return n;
}

void
server_request_kill(void)
{
  pthread_mutex_lock(&mu);
  kill_requested = 1;
  pthread_cond_broadcast(&idle_cv);
  pthread_mutex_unlock(&mu);
}

static void
count_session(int is_socket, int delta)
{
  pthread_mutex_lock(&mu);
  nsessions = (unsigned int)((int)nsessions + delta);
  if (is_socket)
    nsocket_sessions = (unsigned int)((int)nsocket_sessions + delta);
  pthread_cond_broadcast(&idle_cv);
  pthread_mutex_unlock(&mu);
}

void
server_wait_idle(int forever)
{
  pthread_mutex_lock(&mu);
  while ((forever || nsocket_sessions) && !kill_requested)
    pthread_cond_wait(&idle_cv, &mu);
  pthread_mutex_unlock(&mu);
}

/* libassuan ends the session on a line past its 1000-byte limit without
 * telling the client why; we say so before closing.  (Going on is no
 * option: the rest of the line would be read as further commands.) */
static gpg_error_t
process_lines(assuan_context_t ctx)
{
  gpg_error_t err = assuan_process(ctx);
  char line[160];

  if (gpg_err_code(err) == GPG_ERR_ASS_LINE_TOO_LONG)
    {
      snprintf(line, sizeof line,
               "ERR %u %s <SCD> - command line longer than the Assuan limit of 1000"
               " bytes; closing the session",
               err, gpg_strerror(err));
      assuan_write_line(ctx, line);
    }
  return err;
}

/* Accept, process until the client leaves; KILLSCD is remembered. */
static gpg_error_t
run_session(assuan_context_t ctx, pid_t peer_pid, int is_socket)
{
  gpg_error_t err;

  err = command_session_start(ctx, peer_pid);
  if (err)
    return err;
  count_session(is_socket, 1);
  /* One client per context: accept its greeting, serve it until BYE/EOF. */
  err = assuan_accept(ctx);
  if (!err)
    err = process_lines(ctx);
  if (gpg_err_code(err) == GPG_ERR_EOF || err == (gpg_error_t)-1)
    err = 0;
  if (err)
    log_msg(LOG_INFO, 0, "Assuan session ended: %s", gpg_strerror(err));
  if (command_session_end(ctx))
    server_request_kill();
  count_session(is_socket, -1);
  if (is_socket && kill_requested)
    {
      /* KILLSCD on a socket session: the pipe session may still be
       * blocked reading from the agent, so end the process from here. */
      log_msg(LOG_INFO, 0, "KILLSCD: exiting");
      server_cleanup();
      exit(0);
    }
  return err;
}

/* The agent's PID for event-signal in the pipe session. */
static pid_t
pipe_peer_pid(void)
{
  const char *s = getenv("_assuan_pipe_connect_pid");
  long pid = s ? strtol(s, NULL, 10) : 0;

  return pid > 1 ? (pid_t)pid : getppid();
}

gpg_error_t
server_run_pipe(void)
{
  assuan_context_t ctx = NULL;
  assuan_fd_t fds[2] = { 0, 1 };
  gpg_error_t err;

  err = assuan_new(&ctx);
  if (!err)
    err = assuan_init_pipe_server(ctx, fds);
  if (!err)
    err = run_session(ctx, pipe_peer_pid(), 0);
  if (err)
    log_msg(LOG_ERROR, 0, "pipe session failed: %s", gpg_strerror(err));
  assuan_release(ctx);
  return err;
}

static void *
socket_session_main(void *arg)
{
  int fd = (int)(intptr_t)arg;
  assuan_context_t ctx = NULL;
  gpg_error_t err;

  err = assuan_new(&ctx);
  if (!err)
    err = assuan_init_socket_server(ctx, fd, ASSUAN_SOCKET_SERVER_ACCEPTED);
  if (!err)
    err = run_session(ctx, assuan_get_pid(ctx), 1);
  if (err)
    log_msg(LOG_INFO, 0, "socket session failed: %s", gpg_strerror(err));
  if (ctx)
    assuan_release(ctx);
  else
    close(fd);
  return NULL;
}

/* Only our own user may talk to us. */
static int
peer_is_us(int fd)
{
  struct ucred cred;
  socklen_t len = sizeof cred;

  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof cred)
    return 0;
  return cred.uid == getuid();
}

static void *
listener_main(void *arg)
{
  int lfd = (int)(intptr_t)arg;
  pthread_t th;
  pthread_attr_t attr;

  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;)
    {
      int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          log_msg(LOG_ERROR, 0, "accept on %s failed: %s", socket_name, strerror(errno));
          break;
        }
      if (!peer_is_us(fd))
        {
          log_msg(LOG_ERROR, 0, "refused a socket client of another user");
          close(fd);
          continue;
        }
      if (pthread_create(&th, &attr, socket_session_main, (void *)(intptr_t)fd))
        close(fd);
    }
  pthread_attr_destroy(&attr);
  return NULL;
}

gpg_error_t
server_start_listener(int fd)
{
  pthread_t th;

  if (pthread_create(&th, NULL, listener_main, (void *)(intptr_t)fd))
    return gpg_error(GPG_ERR_GENERAL);
  pthread_detach(th);
  return 0;
}

/* GnuPG's socket directory: /run/user/UID/gnupg for the default home,
 * /run/user/UID/gnupg/d.<zbase32(sha1(home))[0..24]> for another one. */
static void
socket_dir(const struct options *opt, char *buf, size_t bufsize)
{
  static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
  unsigned char sha1[20];
  char suffix[25], def[1024];
  const char *home = getenv("HOME");
  struct stat st;
  unsigned int i, bit;

  snprintf(buf, bufsize, "/run/user/%u", (unsigned int)getuid());
  if (stat(buf, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
    {
      snprintf(buf, bufsize, "%s", opt->homedir);
      return;
    }
  snprintf(def, sizeof def, "%s/.gnupg", home ? home : "");
  strncat(buf, "/gnupg", bufsize - strlen(buf) - 1);
  mkdir(buf, 0700);
  if (home && !strcmp(def, opt->homedir))
    return;
  gcry_md_hash_buffer(GCRY_MD_SHA1, sha1, opt->homedir, strlen(opt->homedir));
  for (i = 0; i < 24; i++)
    {
      unsigned int v = 0;
      for (bit = 0; bit < 5; bit++)
        {
          unsigned int pos = i * 5 + bit;
          unsigned int byte = sha1[pos / 8];
          v = (v << 1) | ((byte >> (7 - pos % 8)) & 1u);
        }
      suffix[i] = zb32[v];
    }
  suffix[24] = 0;
  snprintf(buf + strlen(buf), bufsize - strlen(buf), "/d.%s", suffix);
  mkdir(buf, 0700);
}

/* Is a daemon listening on PATH?  Then the socket is not stale. */
static int
socket_alive(const struct sockaddr_un *addr)
{
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int alive;

  if (fd < 0)
    return 0;
  alive = !connect(fd, (const struct sockaddr *)addr, sizeof *addr);
  close(fd);
  return alive;
}

static gpg_error_t
socket_address(const struct options *opt, struct sockaddr_un *addr)
{
  char dir[sizeof addr->sun_path];
  int len;

  socket_dir(opt, dir, sizeof dir - 32);
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  len = snprintf(addr->sun_path, sizeof addr->sun_path, "%s/S.scdaemon", dir);
  /* Another daemon of this home directory (a second gpg-agent, a test)
   * keeps its socket; we take a name of our own. */
  if (len > 0 && (size_t)len < sizeof addr->sun_path && socket_alive(addr))
    len = snprintf(addr->sun_path, sizeof addr->sun_path, "%s/S.scdaemon.%lu", dir,
                   (unsigned long)getpid());
  if (len < 0 || (size_t)len >= sizeof addr->sun_path)
    return gpg_error(GPG_ERR_ENAMETOOLONG);
  return 0;
}

gpg_error_t
server_create_socket(const struct options *opt, int *r_fd)
{
  struct sockaddr_un addr;
  gpg_error_t err;
  int fd;

  *r_fd = -1;
  err = socket_address(opt, &addr);
  if (err)
    return err;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return gpg_error_from_syserror();
  unlink(addr.sun_path); /* stale: nobody answered on it */
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) || chmod(addr.sun_path, 0600)
      || listen(fd, opt->listen_backlog > 0 ? opt->listen_backlog : 64))
    {
      err = gpg_error_from_syserror();
      log_msg(LOG_ERROR, 0, "cannot listen on %s: %s", addr.sun_path, gpg_strerror(err));
      close(fd);
      return err;
    }
  snprintf(socket_name, sizeof socket_name, "%s", addr.sun_path);
  *r_fd = fd;
  return 0;
}

void
server_cleanup(void)
{
  if (*socket_name)
    unlink(socket_name);
}
