/* test-ccid-emu.c - the CCID driver against the emulated reader (dualscd-ccid-emu)
 *
 * Usage: test-ccid-emu SCENARIO, run by run-emu.sh inside the emulator's
 * environment (UMOCKDEV_DIR, LD_PRELOAD) with DUALSCD_EMU_DIR pointing at
 * its directory (control socket).  Scenarios match the emulator options
 * the runner starts it with: apdu, ext, tpdu, no-intr, pinpad, slots.
 * Prints TAP without a plan; the runner numbers and counts.
 */
#define _DEFAULT_SOURCE

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ccid.h"
#include "check.h"
#include "log.h"

static const uint8_t select_openpgp[]
    = { 0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01, 0x00 };
static const uint8_t get_aid[] = { 0x00, 0xCA, 0x00, 0x4F, 0x00 };
static const uint8_t verify_pw3[]
    = { 0x00, 0x20, 0x00, 0x83, 0x08, '1', '2', '3', '4', '5', '6', '7', '8' };

/* The software card's largest certificate (tests/vcard, VC_MAX_CERT):
 * an extended APDU of 2055 bytes, eight XfrBlocks at 261 bytes each. */
#define CERT_LEN 2048

static const char *scenario;
static struct reader_backend *be;
static struct reader_conn *conn;
static char rname[READER_NAME_MAX];
static uint8_t resp[65538 + 16];
static size_t resplen;

/* The control socket. */

static int
ctl(const char *cmd, char *reply, size_t size)
{
  struct sockaddr_un sa;
  const char *dir = getenv("DUALSCD_EMU_DIR");
  char buf[512];
  ssize_t n;
  size_t got = 0;
  int fd;

  if (reply && size)
    reply[0] = 0;
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || !dir)
    return -1;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control", dir);
  snprintf(buf, sizeof buf, "%s\n", cmd);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa)
      || write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
    {
      close(fd);
      return -1;
    }
  while (got + 1 < sizeof buf && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
    {
      got += (size_t)n;
      if (memchr(buf, '\n', got))
        break;
    }
  close(fd);
  buf[got] = 0;
  if (reply)
    snprintf(reply, size, "%s", buf);
  return strncmp(buf, "ok", 2) ? -1 : 0;
}

/* A number from "stats R": key=N. */
static long
stat_of(const char *key)
{
  char reply[512], pat[64];
  const char *p;

  if (ctl("stats 1", reply, sizeof reply))
    return -1;
  snprintf(pat, sizeof pat, " %s=", key);
  p = strstr(reply, pat);
  return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/* The text of "stats R" after KEY=, up to the next blank. */
static void
stat_str(const char *key, char *out, size_t size)
{
  char reply[512], pat[64];
  const char *p;

  out[0] = 0;
  snprintf(pat, sizeof pat, " %s=", key);
  if (ctl("stats 1", reply, sizeof reply) || !(p = strstr(reply, pat)))
    return;
  snprintf(out, size, "%.*s", (int)strcspn(p + strlen(pat), " \n"), p + strlen(pat));
}

static double
now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An error's code as a plain int, for CHECK_INT. */
static int
code_of(gpg_error_t err)
{
  gpg_err_code_t code = gpg_err_code(err);

  return (int)code;
}

static int
xmit(const uint8_t *apdu, size_t len)
{
  gpg_error_t err = be->ops->transmit(conn, apdu, len, resp, sizeof resp, &resplen);

  gpg_err_code_t code = gpg_err_code(err);

  return (int)code;
}

static int
sw_ok(void)
{
  return resplen >= 2 && resp[resplen - 2] == 0x90 && resp[resplen - 1] == 0x00;
}

/* wait_change in its own thread. */

struct waiter
{
  pthread_t th;
  gpg_error_t err;
  int done;
};

static void *
wait_main(void *arg)
{
  struct waiter *w = arg;

  w->err = be->ops->wait_change(be);
  __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void
wait_start(struct waiter *w)
{
  memset(w, 0, sizeof *w);
  pthread_create(&w->th, NULL, wait_main, w);
  usleep(100000);
}

/* Joins W within SECS, cancelling after that.  Returns its error code,
 * or -1 if it had to be cancelled. */
static long
wait_finish(struct waiter *w, double secs)
{
  double end = now_s() + secs;
  int cancelled = 0;

  while (!__atomic_load_n(&w->done, __ATOMIC_SEQ_CST) && now_s() < end)
    usleep(10000);
  if (!__atomic_load_n(&w->done, __ATOMIC_SEQ_CST))
    {
      cancelled = 1;
      be->ops->cancel_wait(be);
    }
  pthread_join(w->th, NULL);
  gpg_err_code_t code = gpg_err_code(w->err);

  return cancelled ? -1 : (long)code;
}

static void t_select(void);

/* Cases.  Those that need the connection say so: a failed connect must
 * not turn into a crash of the test. */
#define NEED_CONN()                                                                      \
  do                                                                                     \
    {                                                                                    \
      CHECK(conn != NULL);                                                               \
      if (!conn)                                                                         \
        return;                                                                          \
    }                                                                                    \
  while (0)

static void
t_list(void)
{
  struct reader_info infos[READER_MAX];
  size_t n = 0;
  unsigned int want = !strcmp(scenario, "slots") ? 2 : 1;

  CHECK_ERR(be->ops->list(be, infos, READER_MAX, &n), 0);
  CHECK_INT(n, want);
  if (n < 1)
    return;
  snprintf(rname, sizeof rname, "%s", infos[0].name);
  printf("# reader: %s (%s, serial %s, bus %u dev %u)\n", infos[0].name,
         infos[0].usb.product, infos[0].usb.serial, infos[0].usb.busnum,
         infos[0].usb.devnum);
  CHECK(infos[0].usb.valid);
  CHECK_INT(infos[0].state, 0);
  CHECK(infos[0].card_present);
  CHECK(strstr(infos[0].name, ":0") != NULL);
  if (want == 2)
    CHECK(n == 2 && strlen(infos[1].name) == strlen(infos[0].name) + 2
          && !strcmp(infos[1].name + strlen(infos[1].name) - 2, ":1"));
}

static void
t_connect(void)
{
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen = 0;

  CHECK_ERR(be->ops->connect(be, rname, READER_SHARED, &conn, atr, &atrlen), 0);
  CHECK(atrlen >= 2 && atr[0] == 0x3B);
  CHECK_ERR(be->ops->begin(conn), 0);
  if (!strcmp(scenario, "tpdu"))
    {
      char params[128];

      /* TPDU level without automatic negotiation: SetParameters. */
      stat_str("set_params", params, sizeof params);
      printf("# SetParameters sent: %s\n", params);
      CHECK(params[0] && strcmp(params, "-"));
    }
}

/* Connected: list shows the ATR, the claim stays ours. */
static void
t_list_connected(void)
{
  struct reader_info infos[READER_MAX];
  size_t n = 0;

  CHECK_ERR(be->ops->list(be, infos, READER_MAX, &n), 0);
  CHECK(n >= 1 && infos[0].state == 0 && infos[0].card_present && infos[0].atrlen >= 2);
}

/* Disconnecting releases the claim: another program can take the reader. */
static void
t_release_on_disconnect(void)
{
  struct reader_backend *other = NULL;
  struct reader_conn *c2 = NULL;
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;

  NEED_CONN();
  be->ops->disconnect(conn);
  conn = NULL;
  CHECK_ERR(ccid_backend_new(&other), 0);
  if (!other)
    return;
  CHECK_ERR(other->ops->connect(other, rname, READER_SHARED, &c2, atr, &atrlen), 0);
  other->ops->disconnect(c2);
  other->ops->release(other);
  CHECK_ERR(be->ops->connect(be, rname, READER_SHARED, &conn, atr, &atrlen), 0);
  if (conn)
    CHECK_ERR(be->ops->begin(conn), 0);
  t_select(); /* the card was powered anew */
}

static void
t_select(void)
{
  NEED_CONN();
  CHECK_INT(xmit(select_openpgp, sizeof select_openpgp), 0);
  CHECK(sw_ok());
  CHECK_INT(xmit(get_aid, sizeof get_aid), 0);
  CHECK(sw_ok() && resplen == 18 && resp[0] == 0xD2);
}

/* The second slot of a two-slot reader is a reader of its own. */
static void
t_second_slot(void)
{
  struct reader_conn *c2 = NULL;
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;
  char name[READER_NAME_MAX + 2];

  snprintf(name, sizeof name, "%s:1", rname);
  CHECK_ERR(be->ops->connect(be, name, READER_SHARED, &c2, atr, &atrlen), 0);
  if (!c2)
    return;
  CHECK_ERR(be->ops->transmit(c2, select_openpgp, sizeof select_openpgp, resp,
                              sizeof resp, &resplen),
            0);
  CHECK(sw_ok());
  be->ops->disconnect(c2);
  t_select();
}

/* One APDU = one bulk-out + one bulk-in; begin costs nothing. */
static void
t_transfer_counts(void)
{
  long out, in;

  NEED_CONN();
  CHECK_INT(ctl("stats-reset 1", NULL, 0), 0);
  CHECK_ERR(be->ops->begin(conn), 0);
  CHECK_INT(xmit(get_aid, sizeof get_aid), 0);
  be->ops->end(conn);
  out = stat_of("bulk_out");
  in = stat_of("bulk_in");
  /* Without an interrupt endpoint begin asks GetSlotStatus. */
  CHECK_INT(out, strcmp(scenario, "no-intr") ? 1 : 2);
  CHECK_INT(in, strcmp(scenario, "no-intr") ? 1 : 2);
  CHECK_INT(ctl("stats-reset 1", NULL, 0), 0);
  CHECK_INT(xmit(get_aid, sizeof get_aid), 0);
  CHECK_INT(stat_of("bulk_out"), 1);
  CHECK_INT(stat_of("bulk_in"), 1);
}

static void
t_extended(void)
{
  static uint8_t put[7 + CERT_LEN];
  static const uint8_t get[] = { 0x00, 0xCA, 0x7F, 0x21, 0x00, 0x00, 0x00 };
  size_t i;

  NEED_CONN();
  CHECK_INT(xmit(verify_pw3, sizeof verify_pw3), 0);
  CHECK(sw_ok());
  memcpy(
      put,
      (const uint8_t[]){ 0x00, 0xDA, 0x7F, 0x21, 0x00, CERT_LEN >> 8, CERT_LEN & 0xFF },
      7);
  for (i = 0; i < CERT_LEN; i++)
    put[7 + i] = (uint8_t)(i * 7);
  CHECK_INT(ctl("stats-reset 1", NULL, 0), 0);
  CHECK_INT(xmit(put, sizeof put), 0);
  CHECK(sw_ok());
  if (resplen >= 2)
    printf("# PUT DATA SW %02X%02X\n", resp[resplen - 2], resp[resplen - 1]);
  printf("# %d-byte PUT DATA: bulk_out=%ld bulk_in=%ld\n", CERT_LEN, stat_of("bulk_out"),
         stat_of("bulk_in"));
  CHECK_INT(xmit(get, sizeof get), 0);
  CHECK(sw_ok() && resplen == CERT_LEN + 2 && !memcmp(resp, put + 7, CERT_LEN));
}

/* A card removed and inserted while connected. */
static void
t_remove_insert(void)
{
  struct waiter w;
  double t0;

  NEED_CONN();
  wait_start(&w);
  t0 = now_s();
  CHECK_INT(ctl("remove 1 0", NULL, 0), 0);
  CHECK_INT(wait_finish(&w, 5), 0);
  printf("# removal seen after %.0f ms\n", (now_s() - t0) * 1000);
  CHECK_ERR(be->ops->begin(conn), GPG_ERR_CARD_REMOVED);
  wait_start(&w);
  CHECK_INT(ctl("insert 1 0", NULL, 0), 0);
  CHECK_INT(wait_finish(&w, 5), 0);
  CHECK_ERR(be->ops->begin(conn), GPG_ERR_CARD_RESET);
  t_select();
  be->ops->end(conn);
}

static void
t_cancel(void)
{
  struct waiter w;

  wait_start(&w);
  be->ops->cancel_wait(be);
  CHECK_INT(wait_finish(&w, 3), GPG_ERR_CANCELED);
}

/* A second program (a second backend) meets the claim. */
static void
t_busy(void)
{
  struct reader_backend *other = NULL;
  struct reader_conn *c2 = NULL;
  struct reader_info infos[READER_MAX];
  uint8_t atr[READER_ATR_MAX];
  size_t n = 0, atrlen;

  CHECK_ERR(ccid_backend_new(&other), 0);
  if (!other)
    return;
  CHECK_ERR(other->ops->list(other, infos, READER_MAX, &n), 0);
  CHECK(n >= 1 && gpg_err_code(infos[0].state) == GPG_ERR_EBUSY);
  if (n >= 1)
    printf("# detail: %s\n", infos[0].detail);
  CHECK_ERR(other->ops->connect(other, rname, READER_SHARED, &c2, atr, &atrlen),
            GPG_ERR_EBUSY);
  other->ops->release(other);
}

/* A claim refused once (another program got there first): EBUSY, never
 * ENODEV; the next connect works. */
static void
t_fault_busy(void)
{
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;

  NEED_CONN();
  be->ops->disconnect(conn);
  conn = NULL;
  CHECK_INT(ctl("fault 1 busy", NULL, 0), 0);
  CHECK_ERR(be->ops->connect(be, rname, READER_SHARED, &conn, atr, &atrlen),
            GPG_ERR_EBUSY);
  CHECK(conn == NULL);
  CHECK_ERR(be->ops->connect(be, rname, READER_SHARED, &conn, atr, &atrlen), 0);
  if (conn)
    CHECK_ERR(be->ops->begin(conn), 0);
  t_select();
}

/* Each fault, then a normal exchange. */
static void
fault_case(const char *fault, int want1, int exact)
{
  char cmd[64];
  int got;
  double t0 = now_s();

  NEED_CONN();
  snprintf(cmd, sizeof cmd, "fault 1 %s", fault);
  CHECK_INT(ctl(cmd, NULL, 0), 0);
  got = xmit(get_aid, sizeof get_aid);
  printf("# fault %s: %s after %.0f ms\n", fault,
         gpg_strerror(gpg_error((gpg_err_code_t)got)), (now_s() - t0) * 1000);
  if (exact)
    CHECK_INT(got, want1);
  got = xmit(get_aid, sizeof get_aid);
  if (got == GPG_ERR_CARD_RESET)
    {
      CHECK_ERR(be->ops->begin(conn), GPG_ERR_CARD_RESET);
      xmit(select_openpgp, sizeof select_openpgp);
      got = xmit(get_aid, sizeof get_aid);
    }
  CHECK_INT(got, 0);
  CHECK(sw_ok());
}

static void
t_fault_stall(void)
{
  fault_case("stall", 0, 1);
}

static void
t_fault_wtx(void)
{
  fault_case("wtx 3", 0, 1);
}

static void
t_fault_timeout(void)
{
  fault_case("timeout", GPG_ERR_TIMEOUT, 1);
}

static void
t_fault_lie(void)
{
  fault_case("lie-length", GPG_ERR_EIO, 1);
}

static void
t_fault_seq(void)
{
  fault_case("bad-seq", 0, 0);
}

static void
t_fault_oversize(void)
{
  fault_case("oversize", GPG_ERR_EIO, 1);
}

static void
t_fault_corrupt_t1(void)
{
  fault_case("corrupt-t1", 0, 1);
}

/* The cost of one short APDU round trip through the driver. */
static void
t_perf(void)
{
  double t0;
  int i, bad = 0;

  NEED_CONN();
  t0 = now_s();
  for (i = 0; i < 200; i++)
    bad += xmit(get_aid, sizeof get_aid) != 0 || !sw_ok();
  CHECK_INT(bad, 0);
  printf("# 200 GET DATA round trips: %.3f ms each\n", (now_s() - t0) * 1000 / 200);
}

/* Unplugged: clean errors; replugged: works again. */
static void
t_unplug_replug(void)
{
  struct reader_info infos[READER_MAX];
  size_t n = 99;
  int i;
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;
  struct waiter w;
  int got;

  NEED_CONN();
  wait_start(&w);
  CHECK_INT(ctl("unplug 1", NULL, 0), 0);
  printf("# wait_change after unplug: %ld\n", wait_finish(&w, 3));
  got = xmit(get_aid, sizeof get_aid);
  CHECK(got == GPG_ERR_CARD_REMOVED || got == GPG_ERR_ENODEV);
  got = code_of(be->ops->begin(conn));
  CHECK(got == GPG_ERR_CARD_REMOVED || got == GPG_ERR_ENODEV);
  be->ops->disconnect(conn);
  conn = NULL;
  CHECK_ERR(be->ops->list(be, infos, READER_MAX, &n), 0);
  CHECK_INT(n, 0);
  wait_start(&w);
  CHECK_INT(ctl("replug 1", NULL, 0), 0);
  CHECK_INT(wait_finish(&w, 3), 0); /* the reader's arrival (or the removal's news) */
  /* libusb learns of the arrival in its own udev thread: allow it a moment. */
  for (i = 0; i < 30 && !n; i++)
    {
      usleep(100000);
      CHECK_ERR(be->ops->list(be, infos, READER_MAX, &n), 0);
    }
  printf("# reader back in the list after %d ms\n", i * 100);
  CHECK_INT(n, 1);
  usleep(200000);
  CHECK_ERR(be->ops->connect(be, rname, READER_SHARED, &conn, atr, &atrlen), 0);
  if (conn)
    {
      CHECK_ERR(be->ops->begin(conn), 0);
      t_select();
    }
}

static void
t_fault_disconnect(void)
{
  int got;

  NEED_CONN();
  CHECK_INT(ctl("fault 1 disconnect", NULL, 0), 0);
  got = xmit(get_aid, sizeof get_aid);
  CHECK(got == GPG_ERR_CARD_REMOVED || got == GPG_ERR_ENODEV);
  be->ops->disconnect(conn);
  conn = NULL;
}

static void
t_pinpad(void)
{
  static const uint8_t hdr[] = { 0x00, 0x20, 0x00, 0x81 };
  struct reader_pinpad pp = { 0, 6, 8, 0 };

  NEED_CONN();
  CHECK(be->ops->pinpad_caps(conn) & READER_PINPAD_VERIFY);
  CHECK_ERR(be->ops->pinpad(conn, &pp, hdr, sizeof hdr, resp, sizeof resp, &resplen), 0);
  CHECK(sw_ok());
  CHECK_INT(ctl("pinpad-cancel", NULL, 0), 0);
  CHECK_ERR(be->ops->pinpad(conn, &pp, hdr, sizeof hdr, resp, sizeof resp, &resplen),
            GPG_ERR_CANCELED);
  CHECK_INT(ctl("pinpad-pin 999999", NULL, 0), 0);
  CHECK_ERR(be->ops->pinpad(conn, &pp, hdr, sizeof hdr, resp, sizeof resp, &resplen), 0);
  printf("# wrong PIN on the pinpad: SW %02X%02X\n", resplen == 2 ? resp[0] : 0u,
         resplen == 2 ? resp[1] : 0u);
  CHECK(resplen == 2 && (resp[0] == 0x63 || (resp[0] == 0x69 && resp[1] == 0x82)));
  CHECK_INT(ctl("pinpad-pin 123456", NULL, 0), 0);
  CHECK_ERR(be->ops->pinpad(conn, &pp, hdr, sizeof hdr, resp, sizeof resp, &resplen), 0);
  CHECK(sw_ok());
}

static void
t_idle(void)
{
  long before = stat_of("bulk_out"), intr = stat_of("intr");
  struct waiter w;
  struct rusage r0, r1;

  wait_start(&w);
  getrusage(RUSAGE_SELF, &r0);
  usleep(1500000);
  getrusage(RUSAGE_SELF, &r1);
  CHECK_INT(wait_finish(&w, 0), -1);
  printf("# idle 1.5 s in wait_change: bulk_out +%ld, intr +%ld, cpu %ld us, "
         "context switches %ld\n",
         stat_of("bulk_out") - before, stat_of("intr") - intr,
         (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000L
             + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec)
             + (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000L
             + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec),
         (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw));
  CHECK_INT(stat_of("bulk_out") - before, 0);
}

/* A kernel driver holds the interface: listed as busy, connect refused
 * with EBUSY (not ENODEV), and the driver is not detached. */
static void
t_kernel_driver(void)
{
  struct reader_info infos[READER_MAX];
  uint8_t atr[READER_ATR_MAX];
  size_t n = 0, atrlen;

  CHECK_ERR(be->ops->list(be, infos, READER_MAX, &n), 0);
  CHECK_INT(n, 1);
  if (n < 1)
    return;
  snprintf(rname, sizeof rname, "%s", infos[0].name);
  CHECK_ERR(infos[0].state, GPG_ERR_EBUSY);
  printf("# detail: %s\n", infos[0].detail);
  CHECK_ERR(be->ops->connect(be, rname, READER_SHARED, &conn, atr, &atrlen),
            GPG_ERR_EBUSY);
  CHECK(conn == NULL);
}

int
main(int argc, char **argv)
{
  scenario = argc > 1 ? argv[1] : "apdu";
  if (getenv("DUALSCD_TEST_LOG"))
    log_setup(getenv("DUALSCD_TEST_LOG"), 0xFF, 0);
  CHECK_ERR(ccid_backend_new(&be), 0);
  if (!strcmp(scenario, "kdrv"))
    {
      RUN(t_kernel_driver);
      be->ops->release(be);
      return check_done();
    }
  RUN(t_list);
  RUN(t_connect);
  RUN(t_select);
  RUN(t_transfer_counts);
  RUN(t_list_connected);
  RUN(t_perf);
  if (!strcmp(scenario, "slots"))
    RUN(t_second_slot);
  if (!strcmp(scenario, "ext") || !strcmp(scenario, "tpdu"))
    RUN(t_extended);
  if (!strcmp(scenario, "pinpad"))
    RUN(t_pinpad);
  RUN(t_remove_insert);
  RUN(t_cancel);
  if (strcmp(scenario, "no-intr"))
    RUN(t_idle);
  RUN(t_busy);
  RUN(t_release_on_disconnect);
  if (!strcmp(scenario, "apdu"))
    {
      RUN(t_fault_busy);
      RUN(t_fault_stall);
      RUN(t_fault_wtx);
      RUN(t_fault_timeout);
      RUN(t_fault_lie);
      RUN(t_fault_seq);
      RUN(t_fault_oversize);
      RUN(t_unplug_replug);
      RUN(t_fault_disconnect);
    }
  if (!strcmp(scenario, "tpdu"))
    RUN(t_fault_corrupt_t1);
  be->ops->disconnect(conn);
  be->ops->release(be);
  return check_done();
}
