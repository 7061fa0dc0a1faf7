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
#include "log.h"
#include "pcsc.h"

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
  struct reader_backend *be;
  struct reader_conn *conn;
  char reader[READER_NAME_MAX];
  uint8_t atr[READER_ATR_MAX];
  size_t atrlen;
  struct app *app;
  struct card_channel ch;
  struct rmgr_session *sessions;
  struct rmgr_session *lock_owner;
  unsigned int nsessions;
  pthread_t monitor;
  int monitor_running;
  int stopping;
  unsigned long presence; /* hash of readers and card presence, last seen */
} mgr = { .mu = PTHREAD_MUTEX_INITIALIZER,
          .unlocked = PTHREAD_COND_INITIALIZER,
          .evmu = PTHREAD_MUTEX_INITIALIZER,
          .evcv = PTHREAD_COND_INITIALIZER };

static gpg_error_t
channel_transmit(void *opaque, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                 size_t respsize, size_t *resplen)
{
  (void)opaque;
  return rmgr_transmit(apdu, apdulen, resp, respsize, resplen);
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

/* Connects to reader NAME and, with NEED_APP, opens the app inside a
 * transaction (to find out whether it is an OpenPGP card). */
static gpg_error_t
try_reader_locked(const char *name, int need_app)
{
  gpg_error_t err;
  enum reader_share share = mgr.opt->pcsc_shared ? READER_SHARED : READER_EXCLUSIVE;

  mgr.atrlen = 0;
  err = mgr.be->ops->connect(mgr.be, name, share, &mgr.conn, mgr.atr, &mgr.atrlen);
  if (err)
    return err;
  snprintf(mgr.reader, sizeof mgr.reader, "%s", name);
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

/* Picks the reader: the reader-port prefix, else the first reader whose
 * card has an OpenPGP application (or any card, without NEED_APP). */
static gpg_error_t
connect_locked(int need_app)
{
  gpg_error_t err;
  struct reader_info *infos;
  size_t n = 0, i;

  infos = calloc(READER_MAX, sizeof *infos);
  if (!infos)
    return gpg_error_from_syserror();
  err = mgr.be->ops->list(mgr.be, infos, READER_MAX, &n);
  if (!err)
    err = gpg_error(GPG_ERR_ENODEV);
  for (i = 0; i < n && gpg_err_code(err) != 0; i++)
    {
      if (!reader_wanted(&infos[i]))
        continue;
      err = try_reader_locked(infos[i].name, need_app);
      log_msg(LOG_DEBUG, LOG_CAT_READER, "reader \"%s\": %s", infos[i].name,
              gpg_strerror(err));
    }
  if (gpg_err_code(err) == GPG_ERR_CARD_NOT_PRESENT
      || gpg_err_code(err) == GPG_ERR_NO_SERVICE)
    err = gpg_error(GPG_ERR_ENODEV);
  free(infos);
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
presence_hash(const struct reader_info *infos, size_t n)
{
  unsigned long h = 5381;
  size_t i;
  const char *p;

  for (i = 0; i < n; i++)
    {
      for (p = infos[i].name; *p; p++)
        h = h * 33 + (unsigned char)*p;
      h = h * 33 + (infos[i].card_present ? 2u : 1u);
    }
  return h;
}

/* Lists the readers; *R_OURS tells whether our card's reader still has a
 * card.  Returns the presence hash (0 when the list failed). */
static unsigned long
survey_locked(int *r_ours)
{
  struct reader_info *infos = calloc(READER_MAX, sizeof *infos);
  unsigned long h = 0;
  size_t n = 0, i;

  *r_ours = 1;
  if (infos && !mgr.be->ops->list(mgr.be, infos, READER_MAX, &n))
    {
      h = presence_hash(infos, n);
      *r_ours = 0;
      for (i = 0; i < n; i++)
        if (!strcmp(infos[i].name, mgr.reader) && infos[i].card_present)
          *r_ours = 1;
    }
  free(infos);
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

  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 2;
  pthread_mutex_lock(&mgr.evmu);
  if (!mgr.stopping)
    pthread_cond_timedwait(&mgr.evcv, &mgr.evmu, &ts);
  pthread_mutex_unlock(&mgr.evmu);
}

static void *
monitor_main(void *arg)
{
  gpg_error_t err;
  int ours;

  (void)arg;
  pthread_mutex_lock(&mgr.mu);
  mgr.presence = survey_locked(&ours);
  pthread_mutex_unlock(&mgr.mu);
  for (;;)
    {
      err = mgr.be->ops->wait_change(mgr.be);
      if (mgr.stopping || gpg_err_code(err) == GPG_ERR_CANCELED)
        break;
      if (err)
        {
          log_msg(LOG_DEBUG, LOG_CAT_READER, "waiting for card events: %s",
                  gpg_strerror(err));
          backoff();
          continue;
        }
      handle_change();
    }
  return NULL;
}

gpg_error_t
rmgr_init(const struct options *opt)
{
  gpg_error_t err;

  mgr.opt = opt;
  mgr.ch.transmit = channel_transmit;
  mgr.ch.opaque = &mgr;
  mgr.ch.reader_name = mgr.reader;
  if (opt->disable_ccid)
    log_msg(LOG_DEBUG, LOG_CAT_READER, "disable-ccid: the CCID driver is not built yet");
  err = pcsc_backend_new(&mgr.be);
  if (err)
    return err;
  if (pthread_create(&mgr.monitor, NULL, monitor_main, NULL))
    {
      log_msg(LOG_ERROR, 0, "cannot start the card monitor thread: %s", strerror(errno));
      return gpg_error(GPG_ERR_GENERAL);
    }
  mgr.monitor_running = 1;
  return 0;
}

void
rmgr_shutdown(void)
{
  if (!mgr.be)
    return;
  pthread_mutex_lock(&mgr.evmu);
  mgr.stopping = 1;
  pthread_cond_broadcast(&mgr.evcv);
  pthread_mutex_unlock(&mgr.evmu);
  if (mgr.monitor_running)
    {
      mgr.be->ops->cancel_wait(mgr.be);
      pthread_join(mgr.monitor, NULL);
      mgr.monitor_running = 0;
    }
  pthread_mutex_lock(&mgr.mu);
  app_close(mgr.app);
  mgr.app = NULL;
  if (mgr.conn)
    mgr.be->ops->disconnect(mgr.conn);
  mgr.conn = NULL;
  mgr.be->ops->release(mgr.be);
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

gpg_error_t
rmgr_reader_list(char *buf, size_t bufsize)
{
  gpg_error_t err;
  struct reader_info *infos = calloc(READER_MAX, sizeof *infos);
  size_t n = 0, i, off = 0;

  if (!infos)
    return gpg_error_from_syserror();
  buf[0] = 0;
  pthread_mutex_lock(&mgr.mu);
  err = mgr.be->ops->list(mgr.be, infos, READER_MAX, &n);
  pthread_mutex_unlock(&mgr.mu);
  for (i = 0; !err && i < n; i++)
    {
      int len = snprintf(buf + off, bufsize - off, "%s\n", infos[i].name);
      if (len < 0 || (size_t)len >= bufsize - off)
        err = gpg_error(GPG_ERR_TOO_LARGE);
      else
        off += (size_t)len;
    }
  free(infos);
  return err;
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
  return mgr.be ? mgr.be->ops->name : "none";
}
