/* usb-owner.c - who holds a USB device: kernel driver via sysfs, processes
 * via /proc/PID/fd compared by (st_dev, st_ino) */
#define _DEFAULT_SOURCE /* fdopendir, fstatat, readlinkat, getpwuid_r */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usb-owner.h"

/* Longest path built here: roots are caller-given, entries are short. */
#define PATH_SIZE 4096

/* /proc/PID/maps of a large program runs to megabytes; the libraries we
 * look for are mapped early, so stop after this much. */
#define MAPS_MAX_BYTES (4u * 1024u * 1024u)
#define MAPS_CHUNK 8192

/* Small files (comm, status lines, sysfs attributes). */
#define SMALL_FILE_SIZE 512

/* Bound on the /sys/bus/usb/devices entries looked at. */
#define MAX_SYS_ENTRIES 4096

/* Program names (comm, at most 15 characters) of the well-known holders.
 * gnupg-pkcs11-scd shows as "gnupg-pkcs11-sc" in comm: matched by
 * prefix. */
static const struct
{
  const char *comm;
  int prefix;
  enum usb_owner_kind kind;
} known_programs[] = {
  { "pcscd", 0, USB_OWNER_PCSCD },         { "scdaemon", 0, USB_OWNER_SCDAEMON },
  { "dualscd", 0, USB_OWNER_DUALSCD },     { "gnupg-pkcs11-sc", 1, USB_OWNER_PKCS11_SCD },
  { "gpg-agent", 0, USB_OWNER_GPG_AGENT },
};

static const struct
{
  enum usb_owner_kind kind;
  const char *name;
  int card_daemon;
} kind_table[] = {
  { USB_OWNER_KERNEL, "kernel driver", 0 },
  { USB_OWNER_PCSCD, "pcscd", 0 },
  { USB_OWNER_SCDAEMON, "GnuPG's scdaemon", 1 },
  { USB_OWNER_DUALSCD, "dualscd", 1 },
  { USB_OWNER_PKCS11_SCD, "gnupg-pkcs11-scd", 1 },
  { USB_OWNER_GPG_AGENT, "gpg-agent", 0 },
  { USB_OWNER_PCSC_CLIENT, "PC/SC client", 0 },
  { USB_OWNER_OTHER, "program", 0 },
};

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

const char *
usb_owner_kind_name(enum usb_owner_kind kind)
{
  size_t i;

  for (i = 0; i < DIM(kind_table); i++)
    if (kind_table[i].kind == kind)
      return kind_table[i].name;
  return "program";
}

int
usb_owner_is_card_daemon(enum usb_owner_kind kind)
{
  size_t i;

  for (i = 0; i < DIM(kind_table); i++)
    if (kind_table[i].kind == kind)
      return kind_table[i].card_daemon;
  return 0;
}

void
usb_owner_query_init(struct usb_owner_query *q, unsigned int busnum, unsigned int devnum,
                     int interface)
{
  memset(q, 0, sizeof *q);
  q->busnum = busnum;
  q->devnum = devnum;
  q->interface = interface;
}

/* snprintf into a path buffer; 0 on success, -1 when it does not fit. */
static int make_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
make_path(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  int len;

  va_start(ap, fmt);
  len = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return len < 0 || (size_t)len >= size ? -1 : 0;
}

/* Reads at most SIZE-1 bytes of PATH into BUF, NUL-terminated.  Returns
 * the byte count or -1 with errno set. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
  ssize_t len, total = 0;
  int fd;

  buf[0] = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  while ((size_t)total < size - 1)
    {
      len = read(fd, buf + total, size - 1 - (size_t)total);
      if (len < 0 && errno == EINTR)
        continue;
      if (len <= 0)
        break;
      total += len;
    }
  close(fd);
  buf[total] = 0;
  return total;
}

/* Reads the first line of PATH into BUF without its newline. */
static int
read_line(const char *path, char *buf, size_t size)
{
  ssize_t len = read_small(path, buf, size);

  if (len < 0)
    return -1;
  buf[strcspn(buf, "\n")] = 0;
  return 0;
}

/* Copies SRC into DST of SIZE bytes, always terminated. */
static void
copy_str(char *dst, size_t size, const char *src)
{
  size_t len = strlen(src);

  if (len >= size)
    len = size - 1;
  memcpy(dst, src, len);
  dst[len] = 0;
}

/* ------------------------------------------------------------------ */
/* Kernel driver: SYS/bus/usb/devices/NAME:CFG.IF/driver               */

/* Finds the sysfs name ("1-1.2") of BUSNUM/DEVNUM by their attributes. */
static int
find_sysname(const char *sys, unsigned int busnum, unsigned int devnum, char *name,
             size_t size)
{
  char path[PATH_SIZE], buf[SMALL_FILE_SIZE];
  struct dirent *de;
  unsigned int count = 0;
  int found = -1;
  DIR *dir;

  if (make_path(path, sizeof path, "%s/bus/usb/devices", sys) || !(dir = opendir(path)))
    return -1;
  while (found && count++ < MAX_SYS_ENTRIES && (de = readdir(dir)))
    {
      if (de->d_name[0] == '.' || strchr(de->d_name, ':'))
        continue;
      if (make_path(path, sizeof path, "%s/bus/usb/devices/%s/busnum", sys, de->d_name)
          || read_line(path, buf, sizeof buf) || strtoul(buf, NULL, 10) != busnum)
        continue;
      if (make_path(path, sizeof path, "%s/bus/usb/devices/%s/devnum", sys, de->d_name)
          || read_line(path, buf, sizeof buf) || strtoul(buf, NULL, 10) != devnum)
        continue;
      copy_str(name, size, de->d_name);
      found = 0;
    }
  closedir(dir);
  return found;
}

/* Stores the last component of the symlink PATH in OUT; -1 if none. */
static int
link_basename(const char *path, char *out, size_t size)
{
  char target[PATH_SIZE];
  const char *base;
  ssize_t len;

  /* readlinkat, not readlink: with _FORTIFY_SOURCE the latter may become
   * __readlink_chk, which umockdev's preload (the emulated reader of the
   * tests) does not wrap, while it wraps both forms of readlinkat. */
  len = readlinkat(AT_FDCWD, path, target, sizeof target - 1);
  if (len <= 0)
    return -1;
  target[len] = 0;
  base = strrchr(target, '/');
  base = base ? base + 1 : target;
  if (!*base)
    return -1;
  copy_str(out, size, base);
  return 0;
}

/* Fills O if a kernel driver other than usbfs is bound to the interface;
 * returns 1 then, else 0. */
static int
find_driver(const struct usb_owner_query *q, const char *sys, struct usb_owner *o)
{
  char name[USB_OWNER_NAME_SIZE], path[PATH_SIZE], buf[SMALL_FILE_SIZE];
  unsigned long config = 1;

  if (q->interface < 0)
    return 0;
  if (q->sysname)
    copy_str(name, sizeof name, q->sysname);
  else if (find_sysname(sys, q->busnum, q->devnum, name, sizeof name))
    return 0;
  if (!make_path(path, sizeof path, "%s/bus/usb/devices/%s/bConfigurationValue", sys,
                 name)
      && !read_line(path, buf, sizeof buf) && *buf)
    config = strtoul(buf, NULL, 10);
  memset(o, 0, sizeof *o);
  if (make_path(path, sizeof path, "%s/bus/usb/devices/%s:%lu.%d/driver", sys, name,
                config, q->interface)
      || link_basename(path, o->name, sizeof o->name) || !strcmp(o->name, "usbfs"))
    return 0;
  o->kind = USB_OWNER_KERNEL;
  if (!make_path(path, sizeof path, "%s/bus/usb/devices/%s:%lu.%d/driver/module", sys,
                 name, config, q->interface))
    link_basename(path, o->module, sizeof o->module);
  return 1;
}

/* ------------------------------------------------------------------ */
/* Process identity                                                     */

/* Reads /proc/PID/cmdline into O->cmdline, NULs as spaces, cut with
 * "..." when longer than the room. */
static void
read_cmdline(const char *path, struct usb_owner *o)
{
  char buf[USB_OWNER_CMDLINE_SIZE + 1];
  ssize_t len, i;

  len = read_small(path, buf, sizeof buf);
  if (len <= 0)
    return;
  while (len > 0 && !buf[len - 1])
    len--;
  for (i = 0; i < len; i++)
    if (!buf[i] || buf[i] == '\n')
      buf[i] = ' ';
  buf[len] = 0;
  if ((size_t)len >= sizeof o->cmdline)
    memcpy(buf + sizeof o->cmdline - 4, "...", 4);
  copy_str(o->cmdline, sizeof o->cmdline, buf);
}

/* Reads the real uid from the "Uid:" line of /proc/PID/status. */
static int
read_uid(const char *path, uid_t *uid)
{
  char buf[2048], *line;
  unsigned long value;
  char *end;

  if (read_small(path, buf, sizeof buf) < 0)
    return -1;
  line = strstr(buf, "\nUid:");
  if (!line)
    return -1;
  value = strtoul(line + 5, &end, 10);
  if (end == line + 5 || value > (unsigned long)(uid_t)-1)
    return -1;
  *uid = (uid_t)value;
  return 0;
}

static void
user_name(uid_t uid, char *out, size_t size)
{
  struct passwd pw, *res = NULL;
  char buf[1024];

  if (!getpwuid_r(uid, &pw, buf, sizeof buf, &res) && res && res->pw_name)
    copy_str(out, size, res->pw_name);
  else
    snprintf(out, size, "%lu", (unsigned long)uid);
}

/* Does the file at PATH contain NEEDLE (shorter than 64 bytes) within its
 * first MAPS_MAX_BYTES?  A match across two reads is found by keeping the
 * tail of the previous chunk. */
static int
file_contains(const char *path, const char *needle)
{
  char buf[MAPS_CHUNK + 64];
  size_t keep = 0, have, nlen = strlen(needle), total = 0;
  ssize_t len;
  int fd, found = 0;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  while (!found && total < MAPS_MAX_BYTES)
    {
      len = read(fd, buf + keep, MAPS_CHUNK);
      if (len < 0 && errno == EINTR)
        continue;
      if (len <= 0)
        break;
      total += (size_t)len;
      have = keep + (size_t)len;
      buf[have] = 0;
      found = strstr(buf, needle) != NULL;
      keep = have < nlen - 1 ? have : nlen - 1;
      memmove(buf, buf + have - keep, keep);
    }
  close(fd);
  return found;
}

enum usb_owner_kind
usb_owner_classify_comm(const char *comm)
{
  size_t i, len;

  for (i = 0; i < DIM(known_programs); i++)
    {
      len = strlen(known_programs[i].comm);
      if (known_programs[i].prefix ? !strncmp(comm, known_programs[i].comm, len)
                                   : !strcmp(comm, known_programs[i].comm))
        return known_programs[i].kind;
    }
  return USB_OWNER_OTHER;
}

static enum usb_owner_kind
classify(const struct usb_owner *o)
{
  enum usb_owner_kind kind = usb_owner_classify_comm(o->name);

  if (kind == USB_OWNER_OTHER && o->with_pcsclite)
    kind = USB_OWNER_PCSC_CLIENT;
  return kind;
}

gpg_error_t
usb_owner_probe_pid(const char *proc_root, pid_t pid, struct usb_owner *o)
{
  char path[PATH_SIZE];
  const char *proc = proc_root ? proc_root : "/proc";

  memset(o, 0, sizeof *o);
  o->pid = pid;
  if (make_path(path, sizeof path, "%s/%ld/comm", proc, (long)pid))
    return gpg_error(GPG_ERR_TOO_LARGE);
  if (read_line(path, o->name, sizeof o->name))
    return gpg_error_from_syserror();
  snprintf(path, sizeof path, "%s/%ld/cmdline", proc, (long)pid);
  read_cmdline(path, o);
  snprintf(path, sizeof path, "%s/%ld/status", proc, (long)pid);
  if (!read_uid(path, &o->uid))
    {
      o->has_uid = 1;
      user_name(o->uid, o->user, sizeof o->user);
    }
  snprintf(path, sizeof path, "%s/%ld/maps", proc, (long)pid);
  o->with_libccid = file_contains(path, "libccid");
  o->with_pcsclite = file_contains(path, "libpcsclite");
  o->kind = classify(o);
  return 0;
}

/* ------------------------------------------------------------------ */
/* The /proc scan                                                       */

struct scan
{
  const struct usb_owner_query *q;
  const char *proc;
  dev_t dev;
  ino_t ino;
  unsigned int max_fds;
  struct usb_owner *owners;
  size_t max, n;
  struct usb_owner_scan_stats *stats;
};

/* Parses a /proc entry name as a pid; 0 if it is not all digits. */
static pid_t
entry_pid(const char *name)
{
  char *end;
  long value;

  if (*name < '0' || *name > '9')
    return 0;
  errno = 0;
  value = strtol(name, &end, 10);
  if (*end || errno || value <= 0 || value > INT_MAX)
    return 0;
  return (pid_t)value;
}

static int
excluded(const struct usb_owner_query *q, pid_t pid)
{
  size_t i;

  if (pid == (q->self ? q->self : getpid()))
    return 1;
  for (i = 0; i < q->n_exclude; i++)
    if (q->exclude && q->exclude[i] == pid)
      return 1;
  return 0;
}

/* Returns 1 if process PID has the node open, 0 if not, -1 if it is gone
 * or may not be read (counted in the stats). */
static int
pid_holds(struct scan *s, pid_t pid)
{
  char path[PATH_SIZE];
  struct dirent *de;
  struct stat st;
  unsigned int count = 0;
  int fd_dir, holds = 0;
  DIR *dir;

  snprintf(path, sizeof path, "%s/%ld/fd", s->proc, (long)pid);
  fd_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_dir < 0 || !(dir = fdopendir(fd_dir)))
    {
      if (errno == EACCES || errno == EPERM)
        s->stats->denied++;
      else
        s->stats->vanished++;
      if (fd_dir >= 0)
        close(fd_dir);
      return -1;
    }
  while (!holds && (de = readdir(dir)))
    {
      if (de->d_name[0] == '.')
        continue;
      if (count++ >= s->max_fds)
        {
          s->stats->truncated++;
          break;
        }
      s->stats->fds++;
      /* fstatat follows the magic link to the open file itself; a closed
       * fd (ENOENT) or a loop (ELOOP) simply does not match. */
      if (!fstatat(fd_dir, de->d_name, &st, 0) && st.st_dev == s->dev
          && st.st_ino == s->ino)
        holds = 1;
    }
  closedir(dir);
  return holds;
}

static void
add_holder(struct scan *s, pid_t pid)
{
  struct usb_owner o;

  if (usb_owner_probe_pid(s->proc, pid, &o))
    {
      s->stats->vanished++;
      return;
    }
  s->stats->found++;
  if (s->n < s->max)
    s->owners[s->n++] = o;
}

static gpg_error_t
scan_proc(struct scan *s)
{
  unsigned int max_pids = s->q->max_pids ? s->q->max_pids : USB_OWNER_MAX_PIDS;
  struct dirent *de;
  DIR *dir;
  pid_t pid;

  dir = opendir(s->proc);
  if (!dir)
    return gpg_error_from_syserror();
  while ((de = readdir(dir)))
    {
      pid = entry_pid(de->d_name);
      if (!pid || excluded(s->q, pid))
        continue;
      if (s->stats->pids >= max_pids)
        {
          s->stats->truncated++;
          break;
        }
      s->stats->pids++;
      if (pid_holds(s, pid) == 1)
        add_holder(s, pid);
    }
  closedir(dir);
  return 0;
}

gpg_error_t
usb_owner_find(const struct usb_owner_query *q, struct usb_owner *owners, size_t max,
               size_t *n, struct usb_owner_scan_stats *stats)
{
  const char *sys = q->sys_root ? q->sys_root : "/sys";
  const char *dev = q->dev_root ? q->dev_root : "/dev";
  struct usb_owner_scan_stats local;
  struct usb_owner driver;
  char node[PATH_SIZE];
  gpg_error_t err;
  struct stat st;
  struct scan s;

  *n = 0;
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  memset(&s, 0, sizeof s);
  s.q = q;
  s.proc = q->proc_root ? q->proc_root : "/proc";
  s.max_fds = q->max_fds ? q->max_fds : USB_OWNER_MAX_FDS;
  s.owners = owners;
  s.max = max;
  s.stats = stats;
  if (find_driver(q, sys, &driver))
    {
      stats->found++;
      if (s.n < max)
        owners[s.n++] = driver;
    }
  if (make_path(node, sizeof node, "%s/bus/usb/%03u/%03u", dev, q->busnum, q->devnum))
    return gpg_error(GPG_ERR_TOO_LARGE);
  if (stat(node, &st))
    {
      *n = s.n;
      return s.n ? 0 : gpg_error_from_syserror();
    }
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  err = scan_proc(&s);
  *n = s.n;
  return err;
}

/* ------------------------------------------------------------------ */
/* Sentences                                                            */

void
usb_owner_reader_label(char *buf, size_t size, unsigned int vid, unsigned int pid,
                       const char *product)
{
  if (product && *product)
    snprintf(buf, size, "%04x:%04x (%s)", vid & 0xffffu, pid & 0xffffu, product);
  else
    snprintf(buf, size, "%04x:%04x", vid & 0xffffu, pid & 0xffffu);
}

/* Appends printf output to BUF at *POS, never past SIZE. */
static void append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
  va_list ap;
  int len;

  if (*pos >= size)
    return;
  va_start(ap, fmt);
  len = vsnprintf(buf + *pos, size - *pos, fmt, ap);
  va_end(ap);
  if (len > 0)
    *pos = *pos + (size_t)len < size ? *pos + (size_t)len : size - 1;
}

static void
describe_one(char *buf, size_t size, size_t *pos, const struct usb_owner *o)
{
  if (o->kind == USB_OWNER_KERNEL)
    {
      append(buf, size, pos, "the kernel driver %s", o->name);
      if (*o->module && strcmp(o->module, o->name))
        append(buf, size, pos, " (module %s)", o->module);
      return;
    }
  append(buf, size, pos, "%s pid %ld (user %s", o->name, (long)o->pid,
         o->has_uid ? o->user : "unknown");
  if (o->kind == USB_OWNER_PCSCD)
    append(buf, size, pos, "%s", o->with_libccid ? ", with libccid" : "");
  else if (o->kind == USB_OWNER_PCSC_CLIENT)
    append(buf, size, pos, ", a PC/SC client");
  append(buf, size, pos, ")");
}

void
usb_owner_describe(char *buf, size_t size, const char *label,
                   const struct usb_owner *owners, size_t n,
                   const struct usb_owner_scan_stats *stats)
{
  size_t pos = 0, i;

  if (!size)
    return;
  buf[0] = 0;
  append(buf, size, &pos, "reader %s is ", label);
  if (!n && stats && stats->denied)
    append(buf, size, &pos,
           "held by a process of another user; run dualscd-check "
           "as root to name it");
  else if (!n)
    append(buf, size, &pos, "not held by any process");
  for (i = 0; i < n; i++)
    {
      append(buf, size, &pos, "%s", !i ? "held by " : i + 1 == n ? " and " : ", ");
      describe_one(buf, size, &pos, &owners[i]);
    }
}

size_t
usb_owner_explain(const struct usb_owner_query *q, const char *label, char *buf,
                  size_t size, struct usb_owner *r_first)
{
  struct usb_owner owners[4];
  struct usb_owner_scan_stats stats;
  gpg_error_t err;
  size_t n = 0;

  if (r_first)
    {
      memset(r_first, 0, sizeof *r_first);
      r_first->kind = USB_OWNER_OTHER;
    }
  err = usb_owner_find(q, owners, sizeof owners / sizeof owners[0], &n, &stats);
  if (err)
    {
      if (size)
        snprintf(buf, size,
                 "reader %s is held by another program (its holder could not be "
                 "found: %s)",
                 label, gpg_strerror(err));
      return 0;
    }
  usb_owner_describe(buf, size, label, owners, n, &stats);
  if (n && r_first)
    *r_first = owners[0];
  return stats.found;
}
