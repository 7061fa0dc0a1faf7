/* emu-main.c - dualscd-ccid-emu: emulated USB CCID readers for libusb programs
 *
 * Usage: dualscd-ccid-emu --dir DIR [options]; see usage() below.  Creates a
 * umockdev testbed with the readers, writes DIR/env (the environment a
 * client needs), DIR/pid and the control socket DIR/control, prints READY
 * and serves until SIGTERM or SIGINT.
 */

#include "emu.h"

#include <errno.h>
#include <getopt.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PRELOAD_LIB "libumockdev-preload.so.0"
#define CONTROL_MAX_LINE 4096

static struct emu the_emu;
static const char *opt_dir;

static void
usage(FILE *fp)
{
  fputs("usage: dualscd-ccid-emu --dir DIR [--mode apdu|ext|tpdu] [--no-intr]\n"
        "         [--pinpad] [--slots 1|2] [--readers N] [--vid-pid VVVV:PPPP]\n"
        "         [--serial S] [--product NAME] [--card-state FILE]\n"
        "         [--card-version V] [--apdu-log FILE] [--no-card]\n"
        "         [--kernel-driver NAME]\n",
        fp);
}

static int
set_mode(const char *arg)
{
  static const char *const names[]
      = { [EMU_MODE_APDU] = "apdu", [EMU_MODE_EXT] = "ext", [EMU_MODE_TPDU] = "tpdu" };
  size_t i;

  for (i = 0; i < G_N_ELEMENTS(names); i++)
    if (!strcmp(arg, names[i]))
      {
        the_emu.opt.mode = (enum emu_mode)i;
        return 0;
      }
  return -1;
}

static int
set_int(const char *arg, int min, int max, int *v)
{
  char *end;
  long n = strtol(arg, &end, 10);

  if (*end || n < min || n > max)
    return -1;
  *v = (int)n;
  return 0;
}

static int
set_vid_pid(const char *arg)
{
  unsigned int vid, pid;
  char tail;

  if (sscanf(arg, "%4x:%4x%c", &vid, &pid, &tail) != 2)
    return -1;
  the_emu.opt.vid = (uint16_t)vid;
  the_emu.opt.pid = (uint16_t)pid;
  return 0;
}

/* The application versions the software card can present. */
static int
set_card_version(const char *arg)
{
  static const struct
  {
    const char *name;
    unsigned int version;
  } versions[] = {
    { "3.4", VCARD_VERSION_3_4 },
    { "3.3", VCARD_VERSION_3_3 },
    { "2.1", VCARD_VERSION_2_1 },
  };
  size_t i;

  for (i = 0; i < G_N_ELEMENTS(versions); i++)
    if (!strcmp(arg, versions[i].name))
      {
        the_emu.opt.card_version = versions[i].version;
        return 0;
      }
  return -1;
}

static int
parse_option(int c, const char *arg)
{
  struct emu_options *o = &the_emu.opt;

  switch (c)
    {
    case 'd':
      opt_dir = arg;
      return 0;
    case 'm':
      return set_mode(arg);
    case 'i':
      o->intr = 0;
      return 0;
    case 'p':
      o->pinpad = 1;
      return 0;
    case 's':
      return set_int(arg, 1, EMU_MAX_SLOTS, &o->nslots);
    case 'r':
      return set_int(arg, 1, EMU_MAX_READERS, &o->nreaders);
    case 'v':
      return set_vid_pid(arg);
    case 'S':
      o->serial = arg;
      return 0;
    case 'P':
      o->product = arg;
      return 0;
    case 'c':
      o->card_state = arg;
      return 0;
    case 'V':
      return set_card_version(arg);
    case 'l':
      o->apdu_log = arg;
      return 0;
    case 'n':
      o->no_card = 1;
      return 0;
    case 'k':
      o->kernel_driver = arg;
      return 0;
    default:
      return -1;
    }
}

static int
parse_args(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "dir", required_argument, NULL, 'd' },
    { "mode", required_argument, NULL, 'm' },
    { "no-intr", no_argument, NULL, 'i' },
    { "pinpad", no_argument, NULL, 'p' },
    { "slots", required_argument, NULL, 's' },
    { "readers", required_argument, NULL, 'r' },
    { "vid-pid", required_argument, NULL, 'v' },
    { "serial", required_argument, NULL, 'S' },
    { "product", required_argument, NULL, 'P' },
    { "card-state", required_argument, NULL, 'c' },
    { "card-version", required_argument, NULL, 'V' },
    { "apdu-log", required_argument, NULL, 'l' },
    { "no-card", no_argument, NULL, 'n' },
    { "kernel-driver", required_argument, NULL, 'k' },
    { NULL, 0, NULL, 0 },
  };
  struct emu_options *o = &the_emu.opt;
  int c;

  o->intr = 1;
  o->nslots = 1;
  o->nreaders = 1;
  o->vid = 0x1050; /* Yubico YubiKey OTP+FIDO+CCID, in libccid's list */
  o->pid = 0x0407;
  o->product = "dualscd emulated CCID reader";
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
    if (parse_option(c, optarg))
      {
        if (c != '?')
          fprintf(stderr, "dualscd-ccid-emu: bad value '%s'\n", optarg);
        usage(stderr);
        return -1;
      }
  if (!opt_dir || optind != argc)
    {
      usage(stderr);
      return -1;
    }
  return 0;
}

static gpg_error_t
setup_reader(struct emu_reader *r, unsigned int index)
{
  struct emu_options *o = &the_emu.opt;
  gpg_error_t err;

  r->emu = &the_emu;
  r->index = index;
  r->busnum = 1;
  r->devnum = index + 1;
  r->nslots = (unsigned int)o->nslots;
  r->fifo_fd = -1;
  if (o->serial && o->nreaders == 1)
    r->serial = g_strdup(o->serial);
  else
    r->serial = g_strdup_printf("%s%u", o->serial ? o->serial : "S", index);
  r->kernel_driver = g_strdup(o->kernel_driver);
  r->stats.set_params = g_string_new(NULL);
  g_strlcpy(r->pin, "123456", sizeof r->pin);
  g_strlcpy(r->new_pin, "123456", sizeof r->new_pin);
  g_queue_init(&r->responses);
  g_queue_init(&r->pending_in);
  g_queue_init(&r->pending_intr);
  err = emu_ccid_init(r, index == 1);
  if (!err)
    err = emu_usb_add(r);
  return err;
}

static void
teardown_reader(struct emu_reader *r)
{
  emu_ccid_free(r);
  if (r->stats.set_params)
    g_string_free(r->stats.set_params, TRUE);
  g_free(r->serial);
  g_free(r->kernel_driver);
  g_free(r->syspath);
  g_free(r->ifpath);
  g_free(r->devnode);
  g_free(r->fifo_path);
  if (r->fifo_fd >= 0)
    close(r->fifo_fd);
}

/* A connection to the control socket. */
struct conn
{
  int fd;
  GString *in;
};

static void
conn_lines(struct conn *c)
{
  char *nl;
  GString *reply = g_string_new(NULL);

  while ((nl = memchr(c->in->str, '\n', c->in->len)))
    {
      *nl = 0;
      emu_control_line(&the_emu, c->in->str, reply);
      g_string_append_c(reply, '\n');
      if (write(c->fd, reply->str, reply->len) < 0)
        break;
      g_string_erase(c->in, 0, nl - c->in->str + 1);
    }
  g_string_free(reply, TRUE);
}

static gboolean
on_conn(gint fd, GIOCondition cond, gpointer opaque)
{
  struct conn *c = opaque;
  char buf[1024];
  ssize_t n;

  (void)cond;
  n = read(fd, buf, sizeof buf);
  if (n < 0 && errno == EINTR)
    return G_SOURCE_CONTINUE;
  if (n > 0 && c->in->len + (size_t)n <= CONTROL_MAX_LINE)
    {
      g_string_append_len(c->in, buf, n);
      conn_lines(c);
      return G_SOURCE_CONTINUE;
    }
  close(c->fd);
  g_string_free(c->in, TRUE);
  g_free(c);
  return G_SOURCE_REMOVE;
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer opaque)
{
  struct conn *c;
  int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

  (void)cond;
  (void)opaque;
  if (cfd < 0)
    return G_SOURCE_CONTINUE;
  c = g_new0(struct conn, 1);
  c->fd = cfd;
  c->in = g_string_new(NULL);
  g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_conn, c);
  return G_SOURCE_CONTINUE;
}

static int
control_listen(const char *path)
{
  struct sockaddr_un sa = { 0 };
  int fd;

  if (strlen(path) >= sizeof sa.sun_path)
    return -1;
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  unlink(path);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 8))
    {
      close(fd);
      return -1;
    }
  return fd;
}

/* Writes NAME in DIR atomically enough for readers that wait for READY. */
static int
write_file(const char *name, const char *text)
{
  char *path = g_build_filename(opt_dir, name, NULL);
  gboolean ok = g_file_set_contents(path, text, -1, NULL);

  g_free(path);
  return ok ? 0 : -1;
}

static int
write_files(void)
{
  char *env, *pid, *preload;
  int rc;

  preload = g_strdup(PRELOAD_LIB);
  env = g_strdup_printf("export UMOCKDEV_DIR=%s\nexport LD_PRELOAD=%s\n", the_emu.root,
                        preload);
  pid = g_strdup_printf("%ld\n", (long)getpid());
  rc = write_file("env", env) || write_file("pid", pid) ? -1 : 0;
  g_free(env);
  g_free(pid);
  g_free(preload);
  return rc;
}

static gboolean
on_signal(gpointer loop)
{
  g_main_loop_quit(loop);
  return G_SOURCE_CONTINUE;
}

static int
serve(void)
{
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  char *sock = g_build_filename(opt_dir, "control", NULL);
  int lfd = control_listen(sock), rc = 1;

  if (lfd < 0)
    fprintf(stderr, "dualscd-ccid-emu: cannot listen on %s\n", sock);
  else if (write_files())
    fprintf(stderr, "dualscd-ccid-emu: cannot write %s/env\n", opt_dir);
  else
    {
      g_unix_fd_add(lfd, G_IO_IN, on_accept, NULL);
      g_unix_signal_add(SIGTERM, on_signal, loop);
      g_unix_signal_add(SIGINT, on_signal, loop);
      printf("READY\n");
      fflush(stdout);
      g_main_loop_run(loop);
      rc = 0;
    }
  if (lfd >= 0)
    close(lfd);
  unlink(sock);
  g_free(sock);
  g_main_loop_unref(loop);
  return rc;
}

/* umockdev synthesizes uevents (and checks parent devices) through the
 * emulated /sys, which only a preloaded process sees: without the preload
 * pcscd would never hear of an unplug.  So the emulator runs itself under
 * the preload, as umockdev's own test programs do.  ASan must then be told
 * that its runtime is not first in the library list. */
static void
reexec_preloaded(char **argv)
{
  const char *preload = getenv("LD_PRELOAD");
  const char *asan = getenv("ASAN_OPTIONS");
  char *value;

  if (preload && strstr(preload, "libumockdev-preload"))
    return;
  value = preload && *preload ? g_strconcat(PRELOAD_LIB, ":", preload, NULL)
                              : g_strdup(PRELOAD_LIB);
  setenv("LD_PRELOAD", value, 1);
  g_free(value);
  value = g_strconcat(asan && *asan ? asan : "", asan && *asan ? ":" : "",
                      "verify_asan_link_order=0", NULL);
  setenv("ASAN_OPTIONS", value, 1);
  g_free(value);
  execv("/proc/self/exe", argv);
  fprintf(stderr, "dualscd-ccid-emu: cannot re-execute under %s: %s\n", PRELOAD_LIB,
          strerror(errno));
  exit(1);
}

int
main(int argc, char **argv)
{
  gpg_error_t err = 0;
  int i, rc = 1;

  reexec_preloaded(argv);
  signal(SIGPIPE, SIG_IGN);
  g_rec_mutex_init(&the_emu.lock);
  if (parse_args(argc, argv))
    return 2;
  if (g_mkdir_with_parents(opt_dir, 0700))
    {
      fprintf(stderr, "dualscd-ccid-emu: cannot create %s: %s\n", opt_dir,
              strerror(errno));
      return 1;
    }
  if (the_emu.opt.apdu_log && !(the_emu.apdu_log = fopen(the_emu.opt.apdu_log, "a")))
    {
      fprintf(stderr, "dualscd-ccid-emu: cannot open %s: %s\n", the_emu.opt.apdu_log,
              strerror(errno));
      return 1;
    }
  the_emu.testbed = umockdev_testbed_new();
  the_emu.root = umockdev_testbed_get_root_dir(the_emu.testbed);
  for (i = 0; i < the_emu.opt.nreaders && !err; i++)
    err = setup_reader(&the_emu.reader[i], (unsigned int)i + 1);
  if (err)
    fprintf(stderr, "dualscd-ccid-emu: setting up the readers: %s\n", gpg_strerror(err));
  else
    rc = serve();
  g_rec_mutex_lock(&the_emu.lock);
  for (i = 0; i < the_emu.opt.nreaders; i++)
    teardown_reader(&the_emu.reader[i]);
  g_rec_mutex_unlock(&the_emu.lock);
  g_object_unref(the_emu.testbed);
  g_free(the_emu.root);
  if (the_emu.apdu_log)
    fclose(the_emu.apdu_log);
  return rc;
}
