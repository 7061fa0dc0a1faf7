/* test-pcsc-world.c - the PC/SC backend against the real test world
 *
 * Run by run-world.sh, which starts a private pcscd + vpcd + dualscd-vcard
 * and exports its environment.  The cases run in order and share one
 * backend, which is never recreated: that is part of what is tested.
 */
#define _GNU_SOURCE /* gettid via syscall, pthread_timedjoin_np */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pcsc.h"

static const uint8_t select_openpgp[]
    = { 0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01, 0x00 };

static struct reader_backend *be;
static struct reader_conn *conn;
static char reader[READER_NAME_MAX];

static double
now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs "$VAR ARG" and returns its first output line in OUT. */
static int
run_env(const char *var, const char *arg, char *out, size_t outsize)
{
  char cmd[1024];
  FILE *f;
  int rc;

  out[0] = 0;
  snprintf(cmd, sizeof cmd, "%s %s", getenv(var) ? getenv(var) : "false", arg);
  f = popen(cmd, "r");
  if (!f)
    return -1;
  if (!fgets(out, (int)outsize, f))
    out[0] = 0;
  out[strcspn(out, "\n")] = 0;
  rc = pclose(f);
  return rc;
}

static int
world(const char *what)
{
  char out[256];

  return run_env("DUALSCD_PCSC_CTL", what, out, sizeof out);
}

/* SELECT in one transaction; returns the SW or -1 (error in *ERR).
 * *BEGIN_ERR gets what begin said: GPG_ERR_CARD_RESET still holds the
 * transaction. */
static int
select_app_begin(struct reader_conn *c, gpg_error_t *begin_err, gpg_error_t *err)
{
  uint8_t resp[258];
  size_t len = 0;

  *begin_err = *err = be->ops->begin(c);
  if (*err && gpg_err_code(*err) != GPG_ERR_CARD_RESET)
    return -1;
  *err = be->ops->transmit(c, select_openpgp, sizeof select_openpgp, resp, sizeof resp,
                           &len);
  be->ops->end(c);
  if (*err || len < 2)
    return -1;
  return resp[len - 2] << 8 | resp[len - 1];
}

static int
select_app(struct reader_conn *c, gpg_error_t *err)
{
  gpg_error_t begin_err;

  return select_app_begin(c, &begin_err, err);
}

/* The world's reader as list shows it, 1 if found. */
static int
find_reader(struct reader_info *out)
{
  struct reader_info infos[READER_MAX];
  size_t n = 0, i;

  if (be->ops->list(be, infos, READER_MAX, &n))
    return 0;
  for (i = 0; i < n; i++)
    if (!strcmp(infos[i].name, reader))
      {
        *out = infos[i];
        return 1;
      }
  return 0;
}

/* Waits up to SECONDS for the card to be present (1) or absent (0). */
static int
await_card(int present, double seconds)
{
  struct reader_info info;
  double end = now() + seconds;

  while (now() < end)
    {
      if (find_reader(&info) && info.card_present == present)
        return 1;
      usleep(50000);
    }
  return 0;
}

static void
test_list_shows_card(void)
{
  struct reader_info info;
  char hex[2 * READER_ATR_MAX + 1];
  size_t i;

  snprintf(reader, sizeof reader, "%s", getenv("DUALSCD_WORLD_READER"));
  CHECK(find_reader(&info));
  CHECK(info.card_present);
  CHECK(!info.exclusive);
  for (i = 0; i < info.atrlen; i++)
    snprintf(hex + 2 * i, 3, "%02X", info.atr[i]);
  hex[2 * info.atrlen] = 0;
  CHECK_STR(hex, getenv("DUALSCD_WORLD_ATR"));
}

static void
test_connect_shared_select(void)
{
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen = 0;
  gpg_error_t err;

  CHECK_OK(be->ops->connect(be, reader, READER_SHARED, &conn, atr, &atrlen));
  CHECK(atrlen > 0);
  CHECK_INT(select_app(conn, &err), 0x9000);
  CHECK_OK(err);
}

static void
test_bad_lengths_rejected(void)
{
  uint8_t resp[2];
  size_t len = 1;

  CHECK_ERR(be->ops->transmit(conn, select_openpgp, 3, resp, sizeof resp, &len),
            GPG_ERR_INV_ARG);
  CHECK_INT(len, 0);
  CHECK_ERR(be->ops->transmit(conn, select_openpgp, sizeof select_openpgp, resp, 1, &len),
            GPG_ERR_INV_ARG);
  CHECK_ERR(be->ops->connect(be, "no such reader", READER_SHARED,
                             &(struct reader_conn *){ NULL }, resp, &len),
            GPG_ERR_ENODEV);
}

static void
test_neighbour_between_transactions(void)
{
  char out[256];
  gpg_error_t err;

  CHECK_INT(run_env("DUALSCD_PCSC_NEIGHBOUR", "select", out, sizeof out), 0);
  CHECK_STR(out, "SW 9000");
  CHECK_INT(select_app(conn, &err), 0x9000);
  CHECK_INT(run_env("DUALSCD_PCSC_NEIGHBOUR", "select", out, sizeof out), 0);
  CHECK_STR(out, "SW 9000");
  CHECK_INT(select_app(conn, &err), 0x9000);
}

static void
test_reset_by_neighbour(void)
{
  char out[256];
  gpg_error_t err;

  CHECK_INT(run_env("DUALSCD_PCSC_NEIGHBOUR", "reset", out, sizeof out), 0);
  gpg_error_t begin_err;

  CHECK_STR(out, "RESET");
  /* The reset is reported with the transaction held: the neighbour cannot
   * slip in between it and our re-select. */
  CHECK_INT(select_app_begin(conn, &begin_err, &err), 0x9000);
  CHECK_ERR(begin_err, GPG_ERR_CARD_RESET);
  CHECK_OK(err);
  CHECK_INT(select_app(conn, &err), 0x9000);
  CHECK_OK(err);
}

static void
test_exclusive(void)
{
  struct reader_conn *excl = NULL, *second = NULL;
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;
  char out[256];
  gpg_error_t err;

  be->ops->disconnect(conn);
  conn = NULL;
  CHECK_OK(be->ops->connect(be, reader, READER_EXCLUSIVE, &excl, atr, &atrlen));
  CHECK_INT(run_env("DUALSCD_PCSC_NEIGHBOUR", "exclusive", out, sizeof out), 0);
  CHECK_STR(out, "ERR SCARD_E_SHARING_VIOLATION");
  CHECK_INT(run_env("DUALSCD_PCSC_NEIGHBOUR", "select", out, sizeof out) != 0, 1);
  CHECK_STR(out, "ERR SCARD_E_SHARING_VIOLATION");
  CHECK_ERR(be->ops->connect(be, reader, READER_EXCLUSIVE, &second, atr, &atrlen),
            GPG_ERR_EBUSY);
  CHECK(second == NULL);
  CHECK_INT(select_app(excl, &err), 0x9000);
  be->ops->disconnect(excl);
  CHECK_OK(be->ops->connect(be, reader, READER_SHARED, &conn, atr, &atrlen));
}

/* The monitor thread of the wait tests. */
struct waiter
{
  pthread_t thread;
  pid_t tid;
  volatile int done;
  double woke;
  gpg_error_t err;
};

static void *
waiter_main(void *arg)
{
  struct waiter *w = arg;

  w->tid = (pid_t)syscall(SYS_gettid);
  w->err = be->ops->wait_change(be);
  w->woke = now();
  w->done = 1;
  return NULL;
}

static void
waiter_start(struct waiter *w)
{
  struct reader_info info;

  find_reader(&info); /* what the manager knows now */
  memset(w, 0, sizeof *w);
  pthread_create(&w->thread, NULL, waiter_main, w);
  usleep(300000); /* into the blocking wait */
}

/* Joins W within SECONDS; 0 if it did not return in time (then cancels). */
static int
waiter_join(struct waiter *w, double seconds)
{
  double end = now() + seconds;

  while (!w->done && now() < end)
    usleep(5000);
  if (!w->done)
    be->ops->cancel_wait(be);
  pthread_join(w->thread, NULL);
  return w->done && w->woke <= end;
}

static long
voluntary_switches(pid_t tid)
{
  char path[64], line[256];
  long n = -1;
  FILE *f;

  snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
  f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
      break;
  fclose(f);
  return n;
}

static void
test_wait_blocks_then_cancel(void)
{
  struct waiter w;
  long before, after;
  double t;

  waiter_start(&w);
  before = voluntary_switches(w.tid);
  sleep(3);
  after = voluntary_switches(w.tid);
  CHECK(!w.done);
  printf("# waiting thread: %ld voluntary context switches in 3 s\n", after - before);
  CHECK(before >= 0 && after - before <= 2);
  t = now();
  be->ops->cancel_wait(be);
  CHECK(waiter_join(&w, 1.0));
  printf("# cancel_wait returned the wait in %.1f ms\n", (w.woke - t) * 1e3);
  CHECK_ERR(w.err, GPG_ERR_CANCELED);
}

static void
test_card_removed(void)
{
  struct reader_conn *c = NULL;
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;
  gpg_error_t err;
  struct waiter w;
  double t;

  waiter_start(&w);
  CHECK_INT(world("card-stop"), 0);
  t = now();
  CHECK(waiter_join(&w, 1.0));
  CHECK_OK(w.err);
  printf("# woke %.1f ms after the card was stopped\n", (w.woke - t) * 1e3);
  CHECK(await_card(0, 5));
  CHECK_INT(select_app(conn, &err), -1);
  CHECK(gpg_err_code(err) == GPG_ERR_CARD_REMOVED
        || gpg_err_code(err) == GPG_ERR_CARD_NOT_PRESENT);
  CHECK_ERR(be->ops->connect(be, reader, READER_SHARED, &c, atr, &atrlen),
            GPG_ERR_CARD_NOT_PRESENT);
  be->ops->disconnect(conn);
  conn = NULL;
}

static void
test_card_inserted(void)
{
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;
  gpg_error_t err;
  struct waiter w;
  double t;

  waiter_start(&w);
  t = now();
  CHECK_INT(world("card-start"), 0);
  CHECK(waiter_join(&w, 3.0));
  CHECK_OK(w.err);
  printf("# woke %.1f ms after the card program was started\n", (w.woke - t) * 1e3);
  CHECK(await_card(1, 5));
  CHECK_OK(be->ops->connect(be, reader, READER_SHARED, &conn, atr, &atrlen));
  CHECK_INT(select_app(conn, &err), 0x9000);
}

static void
test_pcscd_restart(void)
{
  gpg_error_t err, begin_err;
  struct waiter w;

  waiter_start(&w);
  CHECK_INT(world("pcscd-restart"), 0);
  CHECK(waiter_join(&w, 10.0));
  /* pcscd went away under the wait: the backend slept until its socket
   * came back and reports that as a change. */
  CHECK_OK(w.err);
  CHECK(await_card(1, 10));
  /* The same connection object: begin re-opens it, as after a reset. */
  CHECK_INT(select_app_begin(conn, &begin_err, &err), 0x9000);
  CHECK_ERR(begin_err, GPG_ERR_CARD_RESET);
  CHECK_INT(select_app(conn, &err), 0x9000);
  CHECK_OK(err);
}

static void
test_wait_after_restart(void)
{
  struct waiter w;

  waiter_start(&w);
  CHECK(!w.done);
  be->ops->cancel_wait(be);
  CHECK(waiter_join(&w, 1.0));
  CHECK_ERR(w.err, GPG_ERR_CANCELED);
  /* A cancel with nobody waiting is kept for the next wait. */
  be->ops->cancel_wait(be);
  CHECK_ERR(be->ops->wait_change(be), GPG_ERR_CANCELED);
}

int
main(void)
{
  CHECK_OK(pcsc_backend_new(&be));
  RUN(test_list_shows_card);
  RUN(test_connect_shared_select);
  RUN(test_bad_lengths_rejected);
  RUN(test_neighbour_between_transactions);
  RUN(test_reset_by_neighbour);
  RUN(test_exclusive);
  RUN(test_wait_blocks_then_cancel);
  RUN(test_card_removed);
  RUN(test_card_inserted);
  RUN(test_pcscd_restart);
  RUN(test_wait_after_restart);
  be->ops->disconnect(conn);
  be->ops->release(be);
  return check_done();
}
