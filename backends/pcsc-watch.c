/* pcsc-watch.c - waiting for pcscd to appear, without polling
 *
 * When pcscd is not running, SCardEstablishContext fails at once and there
 * is no PC/SC event to wait for.  Retrying on a timer would wake an idle
 * daemon for nothing; instead the monitor thread sleeps in inotify on the
 * directory of pcscd's socket and wakes when pcscd binds it.  (With
 * systemd's pcscd.socket the socket always exists and this is never
 * needed.)
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcsc-watch.h"

#define DEFAULT_SOCKET "/run/pcscd/pcscd.comm"
#define WATCH_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

const char *
pcsc_socket_path(void)
{
  const char *p = getenv("PCSCLITE_CSOCK_NAME");

  return p && *p ? p : DEFAULT_SOCKET;
}

/* Cuts DIR (a writable copy of a path) to its nearest existing ancestor
 * directory; returns 0, or -1 when nothing exists (not even "/"). */
static int
existing_dir(char *dir)
{
  struct stat st;
  char *slash;

  for (;;)
    {
      slash = strrchr(dir, '/');
      if (!slash)
        return -1;
      if (slash == dir)
        slash[1] = 0; /* "/" */
      else
        *slash = 0;
      if (!stat(dir, &st) && S_ISDIR(st.st_mode))
        return 0;
      if (slash == dir)
        return -1;
    }
}

/* Waits on inotify descriptor FD and CANCEL_FD. */
static gpg_error_t
wait_events(int fd, int cancel_fd, int timeout_ms)
{
  struct pollfd p[2] = { { fd, POLLIN, 0 }, { cancel_fd, POLLIN, 0 } };
  char buf[sizeof(struct inotify_event) + NAME_MAX + 1];
  int rc;

  do
    rc = poll(p, cancel_fd >= 0 ? 2 : 1, timeout_ms);
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    return gpg_error_from_syserror();
  if (rc == 0)
    return gpg_error(GPG_ERR_TIMEOUT);
  if (cancel_fd >= 0 && (p[1].revents & POLLIN))
    {
      if (read(cancel_fd, buf, 1) < 0)
        return gpg_error_from_syserror();
      return gpg_error(GPG_ERR_CANCELED);
    }
  return read(fd, buf, sizeof buf) < 0 ? gpg_error_from_syserror() : 0;
}

gpg_error_t
pcsc_watch_socket(const char *path, int cancel_fd, int stale_ms)
{
  gpg_error_t err;
  char *dir;
  int fd;

  if (!path || path[0] != '/')
    return gpg_error(GPG_ERR_INV_ARG);
  dir = strdup(path);
  if (!dir)
    return gpg_error_from_syserror();
  fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0)
    err = gpg_error_from_syserror();
  else if (existing_dir(dir) || inotify_add_watch(fd, dir, WATCH_EVENTS) < 0)
    err = gpg_error_from_syserror();
  else
    err = wait_events(fd, cancel_fd, access(path, F_OK) ? -1 : stale_ms);
  if (fd >= 0)
    close(fd);
  free(dir);
  return err;
}
