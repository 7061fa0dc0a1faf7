/* test-usb-owner.c - the USB holder finder on fake /proc, /sys and /dev trees
 *
 * Each case builds its trees under one temporary directory: a device node
 * (a plain file whose identity the test knows), process directories whose
 * fd entries are symlinks to it or elsewhere, and hostile contents:
 * processes gone mid-scan, dangling links, symlink loops, non-numeric
 * entries, an over-long cmdline, an fd directory that "nobody" may not read
 * (the scan then runs in a child that dropped root).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "usb-owner.h"

#include "check.h"

static char root[64];

/* Makes the directories above PATH, which lies under ROOT. */
static void
make_parents(char *path)
{
  char *slash;

  for (slash = strchr(path + strlen(root) + 1, '/'); slash;
       slash = strchr(slash + 1, '/'))
    {
      *slash = 0;
      mkdir(path, 0755);
      *slash = '/';
    }
}

/* Writes LEN bytes of DATA to ROOT/REL, making the parent directories. */
static void
put(const char *rel, const void *data, size_t len)
{
  char path[512];
  FILE *fp;

  snprintf(path, sizeof path, "%s/%s", root, rel);
  make_parents(path);
  fp = fopen(path, "wb");
  if (!fp)
    {
      printf("# cannot write %s: %s\n", path, strerror(errno));
      return;
    }
  fwrite(data, 1, len, fp);
  fclose(fp);
}

static void
put_str(const char *rel, const char *text)
{
  put(rel, text, strlen(text));
}

/* Makes ROOT/REL a symlink to TARGET. */
static void
link_to(const char *target, const char *rel)
{
  char path[512];

  snprintf(path, sizeof path, "%s/%s", root, rel);
  make_parents(path);
  if (symlink(target, path))
    printf("# symlink %s: %s\n", path, strerror(errno));
}

/* A process PID named COMM run by UID; FD N links to the node if
 * HOLDS. */
static void
fake_process(int pid, const char *comm, unsigned int uid, const char *maps, int holds)
{
  char rel[128], text[256], node[512];

  snprintf(rel, sizeof rel, "proc/%d/comm", pid);
  snprintf(text, sizeof text, "%s\n", comm);
  put_str(rel, text);
  snprintf(rel, sizeof rel, "proc/%d/cmdline", pid);
  snprintf(text, sizeof text, "/usr/bin/%s%c--flag%c", comm, 0, 0);
  put(rel, text, strlen(comm) + 9 + 8);
  snprintf(rel, sizeof rel, "proc/%d/status", pid);
  snprintf(text, sizeof text, "Name:\t%s\nUmask:\t0022\nUid:\t%u\t%u\t%u\t%u\n", comm,
           uid, uid, uid, uid);
  put_str(rel, text);
  snprintf(rel, sizeof rel, "proc/%d/maps", pid);
  put_str(rel, maps);
  snprintf(rel, sizeof rel, "proc/%d/fd/0", pid);
  link_to("/dev/null", rel);
  if (holds)
    {
      snprintf(node, sizeof node, "%s/dev/bus/usb/001/002", root);
      snprintf(rel, sizeof rel, "proc/%d/fd/7", pid);
      link_to(node, rel);
    }
}

static void
make_root(void)
{
  char cmd[300];

  if (*root)
    {
      snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' && rm -rf '%s'", root, root);
      if (system(cmd))
        printf("# cleanup of %s failed\n", root);
    }
  snprintf(root, sizeof root, "/tmp/test-usb-owner-XXXXXX");
  if (!mkdtemp(root))
    abort();
  chmod(root, 0755);
  put_str("dev/bus/usb/001/002", "node");
  put_str("dev/bus/usb/001/003", "other node");
}

static void
query(struct usb_owner_query *q, char *proc, char *sys, char *dev)
{
  snprintf(proc, 300, "%s/proc", root);
  snprintf(sys, 300, "%s/sys", root);
  snprintf(dev, 300, "%s/dev", root);
  usb_owner_query_init(q, 1, 2, 0);
  q->proc_root = proc;
  q->sys_root = sys;
  q->dev_root = dev;
}

static const char ccid_maps[]
    = "7f00-7f01 r-xp 0 08:01 1 /usr/sbin/pcscd\n"
      "7f02-7f03 r-xp 0 08:01 2 /usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Linux/"
      "libccid.so\n";
static const char plain_maps[] = "7f00-7f01 r-xp 0 08:01 1 /usr/bin/cat\n";
static const char pcsc_maps[] = "7f00-7f01 r-xp 0 08:01 1 /usr/lib/libpcsclite.so.1\n";

static void
holders_named(void)
{
  char proc[300], sys[300], dev[300], buf[512], label[128];
  struct usb_owner owners[8];
  struct usb_owner_scan_stats st;
  struct usb_owner_query q;
  size_t n = 99, i;

  make_root();
  fake_process(812, "pcscd", 0, ccid_maps, 1);
  fake_process(4711, "scdaemon", 0, plain_maps, 1);
  fake_process(900, "cat", 0, plain_maps, 0);
  fake_process(901, "opensc-tool", 0, pcsc_maps, 1);
  query(&q, proc, sys, dev);
  CHECK_OK(usb_owner_find(&q, owners, 8, &n, &st));
  CHECK_INT(n, 3);
  CHECK_INT(st.pids, 4);
  CHECK_INT(st.vanished, 0);
  CHECK_INT(st.denied, 0);
  for (i = 0; i < n; i++)
    {
      if (owners[i].pid == 812)
        {
          CHECK_INT(owners[i].kind, USB_OWNER_PCSCD);
          CHECK(owners[i].with_libccid);
          CHECK_STR(owners[i].user, "root");
          CHECK_STR(owners[i].cmdline, "/usr/bin/pcscd --flag");
        }
      else if (owners[i].pid == 4711)
        CHECK_INT(owners[i].kind, USB_OWNER_SCDAEMON);
      else
        {
          CHECK_INT(owners[i].pid, 901);
          CHECK_INT(owners[i].kind, USB_OWNER_PCSC_CLIENT);
        }
    }
  usb_owner_reader_label(label, sizeof label, 0x1050, 0x407, "YubiKey");
  CHECK_STR(label, "1050:0407 (YubiKey)");
  usb_owner_describe(buf, sizeof buf, label, owners, 1, &st);
  if (owners[0].pid == 812)
    CHECK_STR(buf, "reader 1050:0407 (YubiKey) is held by pcscd pid 812 (user root, with "
                   "libccid)");
  /* The exclude list and the caller itself are never reported. */
  q.exclude = (pid_t[]){ 812, 901 };
  q.n_exclude = 2;
  CHECK_OK(usb_owner_find(&q, owners, 8, &n, &st));
  CHECK_INT(n, 1);
  CHECK_INT(owners[0].pid, 4711);
  usb_owner_describe(buf, sizeof buf, label, owners, n, &st);
  CHECK_STR(buf, "reader 1050:0407 (YubiKey) is held by scdaemon pid 4711 (user root)");
  /* The one-call form for a failed claim. */
  CHECK_INT(usb_owner_explain(&q, label, buf, sizeof buf, &owners[1]), 1);
  CHECK_STR(buf, "reader 1050:0407 (YubiKey) is held by scdaemon pid 4711 (user root)");
  CHECK_INT(owners[1].pid, 4711);
  q.devnum = 99;
  CHECK_INT(usb_owner_explain(&q, label, buf, sizeof buf, &owners[1]), 0);
  CHECK_STR(buf, "reader 1050:0407 (YubiKey) is held by another program (its holder "
                 "could not be found: No such file or directory)");
  CHECK_INT(owners[1].pid, 0);
  q.devnum = 2;
  q.self = 4711;
  CHECK_OK(usb_owner_find(&q, owners, 8, &n, &st));
  CHECK_INT(n, 0);
  usb_owner_describe(buf, sizeof buf, "1050:0407", owners, n, &st);
  CHECK_STR(buf, "reader 1050:0407 is not held by any process");
}

static void
kernel_driver(void)
{
  char proc[300], sys[300], dev[300], buf[512];
  struct usb_owner owners[4];
  struct usb_owner_query q;
  size_t n;

  make_root();
  fake_process(10, "bash", 0, plain_maps, 0);
  put_str("sys/bus/usb/devices/1-1/busnum", "1\n");
  put_str("sys/bus/usb/devices/1-1/devnum", "2\n");
  put_str("sys/bus/usb/devices/1-1/bConfigurationValue", "1\n");
  put_str("sys/bus/usb/drivers/pn533_usb/bind", "");
  link_to("../../../../module/pn533_usb", "sys/bus/usb/drivers/pn533_usb/module");
  link_to("../../drivers/pn533_usb", "sys/bus/usb/devices/1-1:1.0/driver");
  put_str("sys/bus/usb/devices/1-2/busnum", "1\n");
  put_str("sys/bus/usb/devices/1-2/devnum", "3\n");
  put_str("sys/bus/usb/drivers/usbfs/bind", "");
  link_to("../../drivers/usbfs", "sys/bus/usb/devices/1-2:1.0/driver");
  put_str("sys/bus/usb/devices/usb1/busnum", "1\n");
  put_str("sys/bus/usb/devices/usb1/devnum", "1\n");
  query(&q, proc, sys, dev);
  CHECK_OK(usb_owner_find(&q, owners, 4, &n, NULL));
  CHECK_INT(n, 1);
  CHECK_INT(owners[0].kind, USB_OWNER_KERNEL);
  CHECK_STR(owners[0].name, "pn533_usb");
  CHECK_STR(owners[0].module, "pn533_usb");
  usb_owner_describe(buf, sizeof buf, "072f:2200", owners, n, NULL);
  CHECK_STR(buf, "reader 072f:2200 is held by the kernel driver pn533_usb");
  /* usbfs stands for a user-space claim: not a kernel holder. */
  q.devnum = 3;
  CHECK_OK(usb_owner_find(&q, owners, 4, &n, NULL));
  CHECK_INT(n, 0);
  /* The interface number is honoured, and -1 skips the driver check. */
  q.devnum = 2;
  q.interface = 1;
  CHECK_OK(usb_owner_find(&q, owners, 4, &n, NULL));
  CHECK_INT(n, 0);
  q.interface = -1;
  CHECK_OK(usb_owner_find(&q, owners, 4, &n, NULL));
  CHECK_INT(n, 0);
  /* A sysname given by the caller skips the search by busnum/devnum. */
  q.interface = 0;
  q.sysname = "1-1";
  q.busnum = 7;
  CHECK_OK(usb_owner_find(&q, owners, 4, &n, NULL));
  CHECK_INT(n, 1);
}

static void
hostile_proc(void)
{
  char proc[300], sys[300], dev[300], node[512], longcmd[1000];
  struct usb_owner owners[8];
  struct usb_owner_scan_stats st;
  struct usb_owner_query q;
  size_t n, i;

  make_root();
  snprintf(node, sizeof node, "%s/dev/bus/usb/001/002", root);
  /* 300: only a dangling fd (the file went away); 301: no fd directory
   * (exited between readdir and open); 302: holds the node but its comm
   * is gone (exited before we could name it). */
  link_to("/nonexistent/file", "proc/300/fd/3");
  put_str("proc/301/comm", "x\n");
  link_to(node, "proc/302/fd/4");
  /* 400: a symlink loop among its fds. */
  link_to("5", "proc/400/fd/6");
  link_to("6", "proc/400/fd/5");
  put_str("proc/400/comm", "loop\n");
  /* Non-numeric and odd entries. */
  put_str("proc/self/comm", "self\n");
  link_to(node, "proc/self/fd/1");
  put_str("proc/12abc/comm", "x\n");
  link_to(node, "proc/12abc/fd/1");
  put_str("proc/0/comm", "x\n");
  link_to(node, "proc/0/fd/1");
  put_str("proc/-5/comm", "x\n");
  put_str("proc/99999999999999999999/comm", "x\n");
  put_str("proc/uptime", "1.0 1.0\n");
  /* 500: an over-long cmdline full of NULs. */
  fake_process(500, "gnupg-pkcs11-sc", 1, plain_maps, 1);
  for (i = 0; i < sizeof longcmd; i++)
    longcmd[i] = i % 10 ? 'a' : 0;
  put("proc/500/cmdline", longcmd, sizeof longcmd);
  query(&q, proc, sys, dev);
  CHECK_OK(usb_owner_find(&q, owners, 8, &n, &st));
  CHECK_INT(n, 1);
  CHECK_INT(owners[0].pid, 500);
  CHECK_INT(owners[0].kind, USB_OWNER_PKCS11_SCD);
  CHECK_INT(strlen(owners[0].cmdline), USB_OWNER_CMDLINE_SIZE - 1);
  CHECK(!strcmp(owners[0].cmdline + USB_OWNER_CMDLINE_SIZE - 4, "..."));
  CHECK(!memchr(owners[0].cmdline, '\n', strlen(owners[0].cmdline)));
  CHECK_INT(st.vanished, 2);
  CHECK_INT(st.found, 1);
  CHECK_INT(st.pids, 5);
  /* No node: an error, not a crash. */
  q.devnum = 9;
  CHECK_ERR(usb_owner_find(&q, owners, 8, &n, &st), GPG_ERR_ENOENT);
  CHECK_INT(n, 0);
  /* No /proc at all. */
  q.devnum = 2;
  q.proc_root = "/nonexistent-proc";
  CHECK_ERR(usb_owner_find(&q, owners, 8, &n, &st), GPG_ERR_ENOENT);
}

static void
bounds(void)
{
  char proc[300], sys[300], dev[300], rel[64];
  struct usb_owner owners[2];
  struct usb_owner_scan_stats st;
  struct usb_owner_query q;
  size_t n;
  int pid;

  make_root();
  for (pid = 1; pid <= 5; pid++)
    fake_process(pid, "scdaemon", 0, plain_maps, 1);
  for (pid = 10; pid < 30; pid++)
    {
      snprintf(rel, sizeof rel, "proc/1/fd/%d", pid);
      link_to("/dev/null", rel);
    }
  query(&q, proc, sys, dev);
  /* MAX smaller than the holders: the count still says how many. */
  CHECK_OK(usb_owner_find(&q, owners, 2, &n, &st));
  CHECK_INT(n, 2);
  CHECK_INT(st.found, 5);
  q.max_pids = 3;
  CHECK_OK(usb_owner_find(&q, owners, 2, &n, &st));
  CHECK_INT(st.pids, 3);
  CHECK(st.truncated >= 1);
  q.max_pids = 0;
  q.max_fds = 1;
  CHECK_OK(usb_owner_find(&q, owners, 2, &n, &st));
  CHECK(st.fds <= 5);
  CHECK(st.truncated >= 1);
}

/* Runs FN in a child that became "nobody"; returns the child's status. */
static int
as_nobody(int (*fn)(void))
{
  pid_t pid = fork();
  int status = -1;

  if (!pid)
    {
      if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
        _exit(100);
      _exit(fn());
    }
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

static int
scan_denied(void)
{
  char proc[300], sys[300], dev[300], buf[512];
  struct usb_owner owners[4];
  struct usb_owner_scan_stats st;
  struct usb_owner_query q;
  size_t n;

  query(&q, proc, sys, dev);
  if (usb_owner_find(&q, owners, 4, &n, &st))
    return 1;
  if (n != 1 || owners[0].pid != 20 || st.denied != 1)
    return 2;
  q.exclude = (pid_t[]){ 20 };
  q.n_exclude = 1;
  if (usb_owner_find(&q, owners, 4, &n, &st) || n || st.denied != 1)
    return 3;
  usb_owner_describe(buf, sizeof buf, "1050:0407 (YubiKey)", owners, n, &st);
  if (strcmp(buf, "reader 1050:0407 (YubiKey) is held by a process of another user; run "
                  "dualscd-check as root to name it"))
    return 4;
  return 0;
}

static void
unreadable_fds(void)
{
  char path[400];

  make_root();
  fake_process(20, "scdaemon", 65534, plain_maps, 1);
  fake_process(21, "pcscd", 0, ccid_maps, 1);
  snprintf(path, sizeof path, "%s/proc/21/fd", root);
  CHECK_INT(chmod(path, 0), 0);
  CHECK_INT(as_nobody(scan_denied), 0);
}

static double
now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
speed(void)
{
  char proc[300], sys[300], dev[300], rel[64];
  struct usb_owner owners[4];
  struct usb_owner_scan_stats st;
  struct usb_owner_query q;
  double t0, ms;
  size_t n;
  int pid, fd;

  make_root();
  for (pid = 1000; pid < 1400; pid++)
    {
      fake_process(pid, "worker", 0, plain_maps, pid == 1399);
      for (fd = 10; fd < 30; fd++)
        {
          snprintf(rel, sizeof rel, "proc/%d/fd/%d", pid, fd);
          link_to("/dev/null", rel);
        }
    }
  query(&q, proc, sys, dev);
  t0 = now_ms();
  CHECK_OK(usb_owner_find(&q, owners, 4, &n, &st));
  ms = now_ms() - t0;
  CHECK_INT(n, 1);
  printf("# fake /proc: %u processes, %u fds scanned in %.2f ms\n", st.pids, st.fds, ms);
  CHECK(ms < 100.0);
  /* The real /proc, looking for a file nobody has open. */
  q.proc_root = NULL;
  t0 = now_ms();
  CHECK_OK(usb_owner_find(&q, owners, 4, &n, &st));
  ms = now_ms() - t0;
  CHECK_INT(n, 0);
  printf("# real /proc: %u processes, %u fds scanned in %.2f ms\n", st.pids, st.fds, ms);
  CHECK(ms < 100.0);
}

int
main(void)
{
  char cmd[300];

  RUN(holders_named);
  RUN(kernel_driver);
  RUN(hostile_proc);
  RUN(bounds);
  if (geteuid() == 0)
    RUN(unreadable_fds);
  else
    printf("# unreadable_fds needs root to drop to nobody; skipped\n");
  RUN(speed);
  snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' && rm -rf '%s'", root, root);
  if (system(cmd))
    printf("# cleanup of %s failed\n", root);
  return check_done();
}
