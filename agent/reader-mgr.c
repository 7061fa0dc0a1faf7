/* reader-mgr.c - the reader manager: backend, connection, app, LOCK, events
 *
 * Other PC/SC programs and our cached card state.  We connect SHARED, so
 * between our transactions another program may SELECT another application,
 * VERIFY (wrong) PINs or re-select OpenPGP, each of which changes what the
 * card has selected or verified without telling us.  pcsc-lite reports
 * only a reset (SCARD_W_RESET_CARD on our next call: begin_locked then
 * invalidates the app, which re-selects before its first APDU); its event
 * counter (upper 16 bits of dwEventState) moves on insertion and removal
 * only, and nothing counts other clients' transactions or APDUs.  Checking
 * the state with an APDU at each transaction would break the APDU budget
 * (a warm --card-status costs at most one).  So the detection is
 * reactive: the app flags a status word that contradicts its belief
 * (6982/6985 while it holds a verified PIN, 6D00/6E00/6A82 while selected:
 * app_state_lost), and command.c's with_app then invalidates the app
 * (fresh SELECT, PIN state forgotten, caches dropped) and runs the command
 * once more, provided nothing reached the client yet: a PIN is never
 * re-sent automatically, a PIN prompt of the retry goes through the normal
 * NEEDPIN inquiry. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "reader-mgr.h"

#include "app.h"
#include "ccid.h"
#include "log.h"
#include "pcsc.h"

/* The internal CCID driver first (unless disable-ccid), then PC/SC for the
 * readers it did not take. */
#define MAX_BACKENDS 2

/* A reader as listed, with the backend that listed it. */
struct listed
{
  struct reader_info info;
  struct reader_backend *be;
};

struct rmgr_session
{
  struct rmgr_session *next;
  pid_t event_pid;
  int event_signo;
  int card_removed; /* until SERIALNO succeeds again */
};

static struct
{
  pthread_mutex_t mu;      /* the card: held from rmgr_begin to rmgr_end */
  pthread_cond_t unlocked; /* LOCK released */
  pthread_mutex_t evmu;    /* stops the monitor's back-off early */
  pthread_cond_t evcv;
  const struct options *opt;
  struct reader_backend *bes[MAX_BACKENDS];
  size_t nbes;
  struct reader_backend *be; /* the backend of CONN */
  struct reader_conn *conn;
  char reader[READER_NAME_MAX];
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;
  struct app *app;
  struct card_channel ch;
  struct rmgr_session *sessions;
  struct rmgr_session *lock_owner;
  unsigned int nsessions;
  pthread_t monitors[MAX_BACKENDS];
  size_t nmonitors;
  pthread_t idler; /* releases an idle USB reader after card-timeout */
  int idler_running;
  struct timespec idle_deadline; /* CLOCK_MONOTONIC; 0: nothing to release */
  int stopping;
  unsigned long presence;             /* hash of readers and card presence, last seen */
  char conflict[4 * READER_NAME_MAX]; /* why the last connect found a reader busy */
} mgr = { .mu = PTHREAD_MUTEX_INITIALIZER,
          .unlocked = PTHREAD_COND_INITIALIZER,
          .evmu = PTHREAD_MUTEX_INITIALIZER,
          .evcv = PTHREAD_COND_INITIALIZER };

static void arm_idle_locked(void);

static gpg_error_t
channel_transmit(void *opaque, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                 size_t respsize, size_t *resplen)
{
  (void)opaque;
  return rmgr_transmit(apdu, apdulen, resp, respsize, resplen);
}

static size_t
channel_max_apdu(void *opaque)
{
  (void)opaque;
  if (!mgr.conn || !mgr.be->ops->max_apdu)
    return 0;
  return mgr.be->ops->max_apdu(mgr.conn);
}

static unsigned int
channel_pinpad_caps(void *opaque)
{
  unsigned int caps, out = 0;

  (void)opaque;
  if (!mgr.conn || !mgr.be->ops->pinpad_caps || !mgr.be->ops->pinpad)
    return 0;
  caps = mgr.be->ops->pinpad_caps(mgr.conn);
  if (caps & READER_PINPAD_VERIFY)
    out |= APP_PINPAD_VERIFY;
  if (caps & READER_PINPAD_MODIFY)
    out |= APP_PINPAD_MODIFY;
  return out;
}

static gpg_error_t
channel_pinpad(void *opaque, const struct app_pinpad_req *req, const uint8_t *header,
               uint8_t *resp, size_t respsize, size_t *resplen)
{
  struct reader_pinpad pp = { req->modify, req->minlen, req->maxlen, req->fixedlen };

  (void)opaque;
  *resplen = 0;
  if (!mgr.conn || !mgr.be->ops->pinpad)
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  log_msg(LOG_DEBUG, LOG_CAT_CARD_IO, "pinpad %s %02X %02X %02X %02X (%u..%u%s)",
          req->modify ? "modify" : "verify", header[0], header[1], header[2], header[3],
          req->minlen, req->maxlen, req->fixedlen ? ", fixed length" : "");
  return mgr.be->ops->pinpad(mgr.conn, &pp, header, 4, resp, respsize, resplen);
}

gpg_error_t
rmgr_transmit(const uint8_t *apdu, size_t apdulen, uint8_t *resp, size_t respsize,
              size_t *resplen)
{
  gpg_error_t err;

  *resplen = 0;
  if (!mgr.conn)
    return gpg_error(GPG_ERR_CARD_NOT_PRESENT);
  log_apdu(1, apdu, apdulen);
  err = mgr.be->ops->transmit(mgr.conn, apdu, apdulen, resp, respsize, resplen);
  if (err)
    log_msg(LOG_DEBUG, LOG_CAT_CARD_IO, "transmit failed: %s", gpg_strerror(err));
  else
    log_apdu(0, resp, *resplen);
  return err;
}

/* The card is gone: forget the app and the connection; every session
 * gets GPG_ERR_CARD_REMOVED until its next successful SERIALNO. */
static void
drop_card_locked(void)
{
  struct rmgr_session *s;

  if (!mgr.conn && !mgr.app)
    return;
  log_msg(LOG_INFO, 0, "card in reader \"%s\" removed or unreachable", mgr.reader);
  app_close(mgr.app);
  mgr.app = NULL;
  if (mgr.conn)
    mgr.be->ops->disconnect(mgr.conn);
  mgr.conn = NULL;
  mgr.atrlen = 0;
  for (s = mgr.sessions; s; s = s->next)
    s->card_removed = 1;
}

static void
signal_sessions_locked(void)
{
  struct rmgr_session *s;

  for (s = mgr.sessions; s; s = s->next)
    if (s->event_signo > 0 && s->event_pid > 0)
      {
        log_msg(LOG_DEBUG, LOG_CAT_READER, "card event: signal %d to pid %ld",
                s->event_signo, (long)s->event_pid);
        kill(s->event_pid, s->event_signo);
      }
}

/* Does reader INFO fit the reader-port option (a name prefix)? */
static int
reader_wanted(const struct reader_info *info)
{
  const char *port = mgr.opt->reader_port;

  if (port && *port)
    return !strncmp(info->name, port, strlen(port));
  return info->card_present;
}

/* Lists the readers of every backend, CCID's first, into OUT (room for
 * MAX).  A backend that fails to list is skipped (pcscd not running must
 * not hide the USB readers); the error is returned only when every
 * backend failed. */
static gpg_error_t
list_all_locked(struct listed *out, size_t max, size_t *r_n)
{
  struct reader_info *infos = calloc(READER_MAX, sizeof *infos);
  gpg_error_t err = 0, lerr;
  size_t b, i, n, failed = 0;

  *r_n = 0;
  if (!infos)
    return gpg_error_from_syserror();
  for (b = 0; b < mgr.nbes; b++)
    {
      n = 0;
      lerr = mgr.bes[b]->ops->list(mgr.bes[b], infos, READER_MAX, &n);
      if (lerr)
        {
          log_msg(LOG_DEBUG, LOG_CAT_READER, "listing %s readers: %s",
                  mgr.bes[b]->ops->name, gpg_strerror(lerr));
          err = lerr;
          failed++;
          continue;
        }
      for (i = 0; i < n && *r_n < max; i++)
        {
          out[*r_n].info = infos[i];
          out[*r_n].be = mgr.bes[b];
          ++*r_n;
        }
    }
  free(infos);
  return failed == mgr.nbes ? err : 0;
}

/* Connects to reader R and, with NEED_APP, opens the app inside a
 * transaction (to find out whether it is an OpenPGP card). */
static gpg_error_t
try_reader_locked(const struct listed *r, int need_app)
{
  gpg_error_t err;
  enum reader_share share = mgr.opt->pcsc_shared ? READER_SHARED : READER_EXCLUSIVE;

  mgr.atrlen = 0;
  err = r->be->ops->connect(r->be, r->info.name, share, &mgr.conn, mgr.atr, &mgr.atrlen);
  if (err)
    return err;
  mgr.be = r->be;
  snprintf(mgr.reader, sizeof mgr.reader, "%s", r->info.name);
  if (!need_app)
    return 0;
  err = mgr.be->ops->begin(mgr.conn);
  if (gpg_err_code(err) == GPG_ERR_CARD_RESET)
    err = 0;
  if (!err)
    {
      err = app_open(&mgr.ch, &mgr.app);
      mgr.be->ops->end(mgr.conn);
    }
  if (err)
    {
      mgr.be->ops->disconnect(mgr.conn);
      mgr.conn = NULL;
    }
  return err;
}

/* The reader of another backend at the same USB location as BUSY (a CCID
 * reader whose claim failed): pcscd holds it, and it is the way in. */
static const struct listed *
same_reader_elsewhere(const struct listed *busy, const struct listed *all, size_t n)
{
  struct reader_usb_id id;
  size_t i;

  if (!busy->info.usb.valid)
    return NULL;
  for (i = 0; i < n; i++)
    {
      if (all[i].be == busy->be || !all[i].be->ops->locate)
        continue;
      if (all[i].be->ops->locate(all[i].be, all[i].info.name, &id))
        continue;
      if (id.valid && id.busnum == busy->info.usb.busnum
          && id.devnum == busy->info.usb.devnum)
        return &all[i];
    }
  return NULL;
}

/* The sentence that says who holds busy reader R: the backend writes it
 * (reader.h); a backend that knows nothing gets a plain one. */
static void
conflict_sentence(const struct listed *r, char *buf, size_t size)
{
  if (*r->info.detail)
    snprintf(buf, size, "%s", r->info.detail);
  else
    snprintf(buf, size, "reader %s is held by another program", r->info.name);
}

/* A CCID reader another program has claimed.  When pcscd holds it, the same
 * reader is used through PC/SC (*R_ALT); otherwise the conflict is noted
 * in mgr.conflict and the reader skipped. */
static void
busy_reader_locked(const struct listed *r, const struct listed *all, size_t n,
                   const struct listed **r_alt)
{
  const struct listed *alt = same_reader_elsewhere(r, all, n);
  char why[sizeof mgr.conflict];

  *r_alt = alt;
  conflict_sentence(r, why, sizeof why);
  if (!alt)
    {
      snprintf(mgr.conflict, sizeof mgr.conflict, "%s", why);
      log_msg(LOG_ERROR, 0, "%s", why);
      return;
    }
  log_msg(LOG_INFO, 0,
          "%s; using it through pcscd as \"%s\" "
          "(add disable-ccid to scdaemon.conf to skip the USB attempt)",
          why, alt->info.name);
}

/* Picks the reader: the reader-port prefix, else the first reader whose
 * card has an OpenPGP application (or any card, without NEED_APP).  A USB
 * reader that pcscd holds is used through PC/SC; one that another program
 * holds makes the result GPG_ERR_EBUSY when no other reader serves. */
static gpg_error_t
connect_locked(int need_app)
{
  gpg_error_t err;
  struct listed *all;
  const struct listed *r, *alt;
  size_t n = 0, i;
  int busy = 0;

  mgr.conflict[0] = 0;
  all = calloc(MAX_BACKENDS * READER_MAX, sizeof *all);
  if (!all)
    return gpg_error_from_syserror();
  err = list_all_locked(all, MAX_BACKENDS * READER_MAX, &n);
  if (!err)
    err = gpg_error(GPG_ERR_ENODEV);
  for (i = 0; i < n && gpg_err_code(err) != 0; i++)
    {
      r = &all[i];
      if (gpg_err_code(r->info.state) == GPG_ERR_EBUSY)
        {
          if (mgr.opt->reader_port && *mgr.opt->reader_port && !reader_wanted(&r->info))
            continue;
          busy_reader_locked(r, all, n, &alt);
          if (!alt)
            {
              busy = 1;
              continue;
            }
          r = alt;
        }
      else if (r->info.state || !reader_wanted(&r->info))
        continue;
      err = try_reader_locked(r, need_app);
      log_msg(LOG_DEBUG, LOG_CAT_READER, "reader \"%s\" (%s): %s", r->info.name,
              r->be->ops->name, gpg_strerror(err));
      if (gpg_err_code(err) == GPG_ERR_EBUSY)
        {
          busy = 1;
          if (!mgr.conflict[0])
            snprintf(mgr.conflict, sizeof mgr.conflict,
                     "reader %s is used exclusively by another program", r->info.name);
        }
    }
  if (gpg_err_code(err) == GPG_ERR_CARD_NOT_PRESENT
      || gpg_err_code(err) == GPG_ERR_NO_SERVICE || gpg_err_code(err) == GPG_ERR_ENODEV)
    err = gpg_error(busy ? GPG_ERR_EBUSY : GPG_ERR_ENODEV);
  free(all);
  return err;
}

/* Inside the mutex: a connection with a running transaction. */
static gpg_error_t
begin_locked(unsigned int flags)
{
  gpg_error_t err;
  int attempt;

  for (attempt = 0; attempt < 2; attempt++)
    {
      if (!mgr.conn)
        {
          err = connect_locked(flags & RMGR_NEED_APP);
          if (err)
            return err;
        }
      err = mgr.be->ops->begin(mgr.conn);
      if (gpg_err_code(err) == GPG_ERR_CARD_RESET)
        {
          /* Someone reset the card: the app re-selects and the PIN is
           * asked for again on the next operation that needs it. */
          log_msg(LOG_INFO, 0, "card was reset by another program; re-selecting");
          if (mgr.app)
            app_invalidate(mgr.app);
          err = 0;
        }
      if (!err)
        return 0;
      if (gpg_err_code(err) != GPG_ERR_CARD_REMOVED
          && gpg_err_code(err) != GPG_ERR_CARD_NOT_PRESENT)
        return err;
      drop_card_locked();
      if (!(flags & RMGR_RESELECT))
        return gpg_error(GPG_ERR_CARD_REMOVED);
    }
  return err;
}

static gpg_error_t
open_app_locked(const char *demand)
{
  gpg_error_t err = 0;

  if (!mgr.app)
    err = app_open(&mgr.ch, &mgr.app);
  if (!err && demand && strcasecmp(demand, app_serialno(mgr.app)))
    err = gpg_error(GPG_ERR_WRONG_CARD);
  return err;
}

/* After SERIALNO: a success clears the card-removed state of every
 * session (as GnuPG does), a failure sets it for the asking one. */
static void
clear_removed_locked(struct rmgr_session *s, gpg_error_t err)
{
  struct rmgr_session *p;

  if (err)
    s->card_removed = 1;
  else
    for (p = mgr.sessions; p; p = p->next)
      p->card_removed = 0;
}

gpg_error_t
rmgr_begin(struct rmgr_session *s, unsigned int flags, const char *demand,
           struct app **r_app)
{
  gpg_error_t err;

  *r_app = NULL;
  pthread_mutex_lock(&mgr.mu);
  if (mgr.lock_owner && mgr.lock_owner != s)
    {
      pthread_mutex_unlock(&mgr.mu);
      return gpg_error(GPG_ERR_LOCKED); /* changes no session state */
    }
  if (s->card_removed && !(flags & RMGR_RESELECT))
    err = gpg_error(GPG_ERR_CARD_REMOVED);
  else
    err = begin_locked(flags);
  if (!err && (flags & RMGR_NEED_APP))
    {
      err = open_app_locked(demand);
      if (err)
        mgr.be->ops->end(mgr.conn);
      if (gpg_err_code(err) == GPG_ERR_CARD_REMOVED
          || gpg_err_code(err) == GPG_ERR_CARD_NOT_PRESENT)
        drop_card_locked();
    }
  if (flags & RMGR_RESELECT)
    clear_removed_locked(s, err);
  if (err)
    {
      pthread_mutex_unlock(&mgr.mu);
      return err;
    }
  *r_app = mgr.app;
  return 0;
}

void
rmgr_end(struct rmgr_session *s, gpg_error_t err)
{
  (void)s;
  if (mgr.conn)
    mgr.be->ops->end(mgr.conn);
  if (gpg_err_code(err) == GPG_ERR_CARD_REMOVED
      || gpg_err_code(err) == GPG_ERR_CARD_NOT_PRESENT)
    drop_card_locked();
  arm_idle_locked();
  pthread_mutex_unlock(&mgr.mu);
}

void
rmgr_atr(uint8_t *atr, size_t atrsize, size_t *atrlen)
{
  *atrlen = mgr.atrlen <= atrsize ? mgr.atrlen : 0;
  memcpy(atr, mgr.atr, *atrlen);
}

void
rmgr_invalidate_app(void)
{
  if (mgr.app)
    app_invalidate(mgr.app);
}

void
rmgr_disconnect(struct rmgr_session *s)
{
  (void)s;
  pthread_mutex_lock(&mgr.mu);
  if (mgr.app)
    app_invalidate(mgr.app);
  if (mgr.conn)
    mgr.be->ops->disconnect(mgr.conn);
  mgr.conn = NULL;
  pthread_mutex_unlock(&mgr.mu);
}

/* A hash of the reader names and which of them hold a card: agents are
 * signalled only when it changes, not for every wake-up of the backend. */
static unsigned long
presence_hash(const struct listed *all, size_t n)
{
  unsigned long h = 5381;
  size_t i;
  const char *p;

  for (i = 0; i < n; i++)
    {
      for (p = all[i].info.name; *p; p++)
        h = h * 33 + (unsigned char)*p;
      h = h * 33 + (all[i].info.card_present ? 2u : 1u);
    }
  return h;
}

/* Lists the readers; *R_OURS tells whether our card's reader still has a
 * card.  Returns the presence hash (0 when the list failed). */
static unsigned long
survey_locked(int *r_ours)
{
  struct listed *all = calloc(MAX_BACKENDS * READER_MAX, sizeof *all);
  unsigned long h = 0;
  size_t n = 0, i;

  *r_ours = 1;
  if (all && !list_all_locked(all, MAX_BACKENDS * READER_MAX, &n))
    {
      *r_ours = 0;
      for (i = 0; i < n; i++)
        if (all[i].be == mgr.be && !strcmp(all[i].info.name, mgr.reader)
            && all[i].info.card_present)
          *r_ours = 1;
      h = presence_hash(all, n);
    }
  free(all);
  return h;
}

/* The monitor reacts to a change: a card gone from our reader is dropped
 * at once (not at the next command), and agents are told. */
static void
handle_change(void)
{
  unsigned long h;
  int ours;

  pthread_mutex_lock(&mgr.mu);
  h = survey_locked(&ours);
  if (mgr.conn && !ours)
    drop_card_locked();
  if (h && h != mgr.presence)
    {
      mgr.presence = h;
      signal_sessions_locked();
    }
  pthread_mutex_unlock(&mgr.mu);
}

/* Waits a little (pcscd gone) unless the daemon stops meanwhile. */
static void
backoff(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += 2;
  pthread_mutex_lock(&mgr.evmu);
  if (!mgr.stopping)
    pthread_cond_timedwait(&mgr.evcv, &mgr.evmu, &ts);
  pthread_mutex_unlock(&mgr.evmu);
}

/* One monitor thread per backend, each blocked in its wait_change. */
static void *
monitor_main(void *arg)
{
  struct reader_backend *be = arg;
  gpg_error_t err;
  int ours;

  pthread_mutex_lock(&mgr.mu);
  mgr.presence = survey_locked(&ours);
  pthread_mutex_unlock(&mgr.mu);
  for (;;)
    {
      err = be->ops->wait_change(be);
      if (mgr.stopping || gpg_err_code(err) == GPG_ERR_CANCELED)
        break;
      if (err)
        {
          log_msg(LOG_DEBUG, LOG_CAT_READER, "waiting for %s card events: %s",
                  be->ops->name, gpg_strerror(err));
          backoff();
          continue;
        }
      handle_change();
    }
  return NULL;
}

/* card-timeout: a USB reader we hold is released after that many seconds
 * without a command, so pcscd or another program can claim it; the next
 * command claims it again.  (PC/SC connections are shared and need no
 * release.)  The idler sleeps without a deadline while there is nothing to
 * release: an idle daemon makes no wake-ups. */
static int
releasable_locked(void)
{
  return mgr.conn && mgr.be && !strcmp(mgr.be->ops->name, "ccid")
         && mgr.opt->card_timeout > 0 && !mgr.lock_owner;
}

/* Called with mgr.mu held after each command: restarts the countdown. */
static void
arm_idle_locked(void)
{
  pthread_mutex_lock(&mgr.evmu);
  if (releasable_locked())
    {
      clock_gettime(CLOCK_MONOTONIC, &mgr.idle_deadline);
      mgr.idle_deadline.tv_sec += mgr.opt->card_timeout;
    }
  else
    mgr.idle_deadline.tv_sec = 0;
  pthread_cond_broadcast(&mgr.evcv);
  pthread_mutex_unlock(&mgr.evmu);
}

static int
deadline_passed(const struct timespec *d)
{
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

static void
release_idle(void)
{
  pthread_mutex_lock(&mgr.mu);
  pthread_mutex_lock(&mgr.evmu);
  if (mgr.idle_deadline.tv_sec && deadline_passed(&mgr.idle_deadline)
      && releasable_locked())
    {
      mgr.idle_deadline.tv_sec = 0;
      pthread_mutex_unlock(&mgr.evmu);
      log_msg(LOG_INFO, 0, "releasing reader %s after %d s without use (card-timeout)",
              mgr.reader, mgr.opt->card_timeout);
      if (mgr.app)
        app_invalidate(mgr.app); /* others may use the card meanwhile */
      mgr.be->ops->disconnect(mgr.conn);
      mgr.conn = NULL;
    }
  else
    pthread_mutex_unlock(&mgr.evmu);
  pthread_mutex_unlock(&mgr.mu);
}

static void *
idler_main(void *arg)
{
  int timed_out;

  (void)arg;
  pthread_mutex_lock(&mgr.evmu);
  while (!mgr.stopping)
    {
      timed_out = 0;
      if (!mgr.idle_deadline.tv_sec)
        pthread_cond_wait(&mgr.evcv, &mgr.evmu);
      else
        timed_out = pthread_cond_timedwait(&mgr.evcv, &mgr.evmu, &mgr.idle_deadline)
                    == ETIMEDOUT;
      if (!timed_out || mgr.stopping)
        continue;
      pthread_mutex_unlock(&mgr.evmu);
      release_idle(); /* takes mgr.mu before evmu, as everyone does */
      pthread_mutex_lock(&mgr.evmu);
    }
  pthread_mutex_unlock(&mgr.evmu);
  return NULL;
}

static gpg_error_t
start_thread(pthread_t *t, void *(*fn)(void *), void *arg, const char *what)
{
  int rc = pthread_create(t, NULL, fn, arg);

  if (rc)
    {
      log_msg(LOG_ERROR, 0, "cannot start the %s thread: %s", what, strerror(rc));
      return gpg_error(GPG_ERR_GENERAL);
    }
  return 0;
}

/* The backends, CCID first unless disable-ccid.  A CCID driver that cannot
 * start (no USB support) is logged and left out: PC/SC still serves. */
static gpg_error_t
create_backends(const struct options *opt)
{
  gpg_error_t err;

  if (opt->disable_ccid)
    log_msg(LOG_DEBUG, LOG_CAT_READER, "disable-ccid: PC/SC only, no USB access");
  else
    {
      err = ccid_backend_new(&mgr.bes[mgr.nbes]);
      if (err)
        log_msg(LOG_INFO, 0, "internal CCID driver not available: %s; using PC/SC only",
                gpg_strerror(err));
      else
        mgr.nbes++;
    }
  err = pcsc_backend_new(&mgr.bes[mgr.nbes]);
  if (err)
    return err;
  mgr.nbes++;
  return 0;
}

gpg_error_t
rmgr_init(const struct options *opt)
{
  gpg_error_t err;
  pthread_condattr_t ca;
  size_t b;

  mgr.opt = opt;
  mgr.ch.transmit = channel_transmit;
  mgr.ch.opaque = &mgr;
  mgr.ch.reader_name = mgr.reader;
  mgr.ch.max_apdu = channel_max_apdu;
  if (!opt->disable_pinpad)
    {
      mgr.ch.pinpad_caps = channel_pinpad_caps;
      mgr.ch.pinpad = channel_pinpad;
    }
  mgr.ch.pinpad_varlen = opt->enable_pinpad_varlen;
  /* The back-off and idle waits measure monotonic time. */
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_destroy(&mgr.evcv);
  pthread_cond_init(&mgr.evcv, &ca);
  pthread_condattr_destroy(&ca);
  err = create_backends(opt);
  if (err)
    return err;
  for (b = 0; b < mgr.nbes; b++)
    {
      err = start_thread(&mgr.monitors[b], monitor_main, mgr.bes[b], "card monitor");
      if (err)
        return err;
      mgr.nmonitors++;
    }
  err = start_thread(&mgr.idler, idler_main, NULL, "card-timeout");
  if (!err)
    mgr.idler_running = 1;
  return err;
}

void
rmgr_shutdown(void)
{
  size_t b;

  if (!mgr.nbes)
    return;
  pthread_mutex_lock(&mgr.evmu);
  mgr.stopping = 1;
  pthread_cond_broadcast(&mgr.evcv);
  pthread_mutex_unlock(&mgr.evmu);
  for (b = 0; b < mgr.nmonitors; b++)
    {
      mgr.bes[b]->ops->cancel_wait(mgr.bes[b]);
      pthread_join(mgr.monitors[b], NULL);
    }
  mgr.nmonitors = 0;
  if (mgr.idler_running)
    pthread_join(mgr.idler, NULL);
  mgr.idler_running = 0;
  pthread_mutex_lock(&mgr.mu);
  app_close(mgr.app);
  mgr.app = NULL;
  if (mgr.conn)
    mgr.be->ops->disconnect(mgr.conn);
  mgr.conn = NULL;
  for (b = 0; b < mgr.nbes; b++)
    mgr.bes[b]->ops->release(mgr.bes[b]);
  mgr.nbes = 0;
  mgr.be = NULL;
  pthread_mutex_unlock(&mgr.mu);
}

struct rmgr_session *
rmgr_session_new(void)
{
  struct rmgr_session *s = calloc(1, sizeof *s);

  if (!s)
    return NULL;
  pthread_mutex_lock(&mgr.mu);
  s->next = mgr.sessions;
  mgr.sessions = s;
  mgr.nsessions++;
  pthread_mutex_unlock(&mgr.mu);
  return s;
}

void
rmgr_session_free(struct rmgr_session *s)
{
  struct rmgr_session **p;

  if (!s)
    return;
  pthread_mutex_lock(&mgr.mu);
  for (p = &mgr.sessions; *p; p = &(*p)->next)
    if (*p == s)
      {
        *p = s->next;
        mgr.nsessions--;
        break;
      }
  if (mgr.lock_owner == s)
    {
      mgr.lock_owner = NULL;
      pthread_cond_broadcast(&mgr.unlocked);
    }
  pthread_mutex_unlock(&mgr.mu);
  free(s);
}

unsigned int
rmgr_session_count(void)
{
  unsigned int n;

  pthread_mutex_lock(&mgr.mu);
  n = mgr.nsessions;
  pthread_mutex_unlock(&mgr.mu);
  return n;
}

void
rmgr_set_event_signal(struct rmgr_session *s, pid_t pid, int signo)
{
  pthread_mutex_lock(&mgr.mu);
  s->event_pid = pid;
  s->event_signo = signo;
  pthread_mutex_unlock(&mgr.mu);
}

gpg_error_t
rmgr_lock(struct rmgr_session *s, int wait)
{
  gpg_error_t err = 0;

  pthread_mutex_lock(&mgr.mu);
  while (wait && mgr.lock_owner && mgr.lock_owner != s)
    pthread_cond_wait(&mgr.unlocked, &mgr.mu);
  if (mgr.lock_owner && mgr.lock_owner != s)
    err = gpg_error(GPG_ERR_LOCKED);
  else
    mgr.lock_owner = s;
  pthread_mutex_unlock(&mgr.mu);
  return err;
}

gpg_error_t
rmgr_unlock(struct rmgr_session *s)
{
  gpg_error_t err = 0;

  pthread_mutex_lock(&mgr.mu);
  if (mgr.lock_owner != s)
    err = gpg_error(GPG_ERR_NOT_LOCKED);
  else
    {
      mgr.lock_owner = NULL;
      pthread_cond_broadcast(&mgr.unlocked);
    }
  pthread_mutex_unlock(&mgr.mu);
  return err;
}

void
rmgr_restart(struct rmgr_session *s, int keep_lock)
{
  pthread_mutex_lock(&mgr.mu);
  if (!keep_lock && mgr.lock_owner == s)
    {
      mgr.lock_owner = NULL;
      pthread_cond_broadcast(&mgr.unlocked);
    }
  pthread_mutex_unlock(&mgr.mu);
}

/* One line per reader: its name (what reader-port takes), then, after a
 * tab, the backend and, for a reader that cannot be used, why. */
gpg_error_t
rmgr_reader_list(char *buf, size_t bufsize)
{
  gpg_error_t err;
  struct listed *all = calloc(MAX_BACKENDS * READER_MAX, sizeof *all);
  size_t n = 0, i, off = 0;
  int len;

  if (!all)
    return gpg_error_from_syserror();
  buf[0] = 0;
  pthread_mutex_lock(&mgr.mu);
  err = list_all_locked(all, MAX_BACKENDS * READER_MAX, &n);
  pthread_mutex_unlock(&mgr.mu);
  for (i = 0; !err && i < n; i++)
    {
      const struct reader_info *r = &all[i].info;

      if (r->state)
        len = snprintf(buf + off, bufsize - off, "%s\t%s\t%s\n", r->name,
                       all[i].be->ops->name,
                       *r->detail ? r->detail : gpg_strerror(r->state));
      else
        len = snprintf(buf + off, bufsize - off, "%s\t%s\n", r->name,
                       all[i].be->ops->name);
      if (len < 0 || (size_t)len >= bufsize - off)
        err = gpg_error(GPG_ERR_TOO_LARGE);
      else
        off += (size_t)len;
    }
  free(all);
  return err;
}

/* The last claim conflict that made a connect fail, "" when none. */
void
rmgr_conflict(char *buf, size_t bufsize)
{
  pthread_mutex_lock(&mgr.mu);
  snprintf(buf, bufsize, "%s", mgr.conflict);
  pthread_mutex_unlock(&mgr.mu);
}

int
rmgr_status_char(struct rmgr_session *s)
{
  int c;

  pthread_mutex_lock(&mgr.mu);
  c = s->card_removed ? 'r' : 'u';
  pthread_mutex_unlock(&mgr.mu);
  return c;
}

const char *
rmgr_backend_name(void)
{
  if (mgr.be)
    return mgr.be->ops->name;
  return mgr.nbes ? mgr.bes[0]->ops->name : "none";
}
