/* pcsc.c - the PC/SC backend: reader.h over pcsc-lite
 *
 * Two PC/SC contexts: one for the operations (list, connect, transactions),
 * one for the monitor thread.  pcsc-lite holds a context's lock for the
 * whole of an SCardGetStatusChange, so an infinite wait on the operations'
 * context would block every other call.  A context that pcscd no longer
 * knows (it was restarted) is dropped and established again on next use;
 * connections made on the old one are re-opened by begin, which then
 * reports GPG_ERR_CARD_RESET because the card lost its state.
 */
#define _GNU_SOURCE /* explicit_bzero, pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/reader.h>

#include "log.h"
#include "pcsc-err.h"
#include "pcsc-watch.h"
#include "pcsc.h"

#define PNP_READER "\\\\?PnP?\\Notification"

/* Short APDUs answer at most 256 + 2 bytes, extended ones 65536 + 2. */
#define RESP_MAX 65538
/* Extended case 4: header, 3-byte Lc, 65535 bytes, 2-byte Le. */
#define APDU_MAX (4 + 3 + 65535 + 2)
/* The multi-string of SCardListReaders: every name plus the final NUL. */
#define LIST_BUF (PCSCLITE_MAX_READERS_CONTEXTS * (MAX_READERNAME + 1) + 1)
/* SCardGetStatusChange takes at most PCSCLITE_MAX_READERS_CONTEXTS
 * entries, and the monitor needs one of them for the PnP reader. */
#define MON_MAX                                                                          \
  (READER_MAX < PCSCLITE_MAX_READERS_CONTEXTS - 1 ? READER_MAX                           \
                                                  : PCSCLITE_MAX_READERS_CONTEXTS - 1)
/* What counts as a change: presence, usability and the insertion/removal
 * counter pcsc-lite keeps in the upper 16 bits.  INUSE / EXCLUSIVE flip
 * whenever a program connects, which is no event for the manager. */
#define STATE_KEY(s)                                                                     \
  ((s) & (0xFFFF0000u | SCARD_STATE_PRESENT | SCARD_STATE_MUTE | SCARD_STATE_UNAVAILABLE))
/* cancel_wait repeats SCardCancel until the waiter has returned: pcsc-lite
 * ignores a cancel that arrives just before the wait starts. */
#define CANCEL_RETRY_MS 20
#define CANCEL_TRIES 250
/* While pcscd's socket exists but nobody answers on it, look again this
 * often (a pcscd that crashed leaves it behind). */
#define STALE_SOCKET_MS 10000

/* pcsc-lite's ATR buffers fit in reader.h's. */
_Static_assert(MAX_ATR_SIZE <= READER_ATR_MAX, "ATR sizes");

/* A reader's state as last reported to the manager. */
struct known_reader
{
  char name[READER_NAME_MAX];
  DWORD state;
};

struct pcsc_backend
{
  struct reader_backend base; /* first: the manager sees only this */
  SCARDCONTEXT ctx;           /* operations */
  int have_ctx;
  unsigned long generation; /* bumped at every (re-)establishment of ctx */
  SCARDCONTEXT mon_ctx;     /* the monitor thread's */
  int have_mon;
  pthread_mutex_t lock; /* guards everything below */
  pthread_cond_t cond;  /* signalled when a wait ends */
  int waiting;          /* the monitor is in SCardGetStatusChange */
  int cancel_requested;
  struct known_reader known[READER_MAX];
  size_t nknown;
  DWORD pnp_state;    /* pcsc-lite >= 2.3 counts reader events here */
  int cancel_pipe[2]; /* wakes the monitor while it waits for pcscd */
};

struct reader_conn
{
  struct pcsc_backend *be;
  SCARDHANDLE handle;
  int have_handle;
  unsigned long generation; /* of the context the handle belongs to */
  DWORD protocol;
  DWORD share;
  char name[READER_NAME_MAX];
};

/* The reader names of one SCardListReaders call. */
struct name_list
{
  char buf[LIST_BUF];
  const char *names[READER_MAX];
  size_t n;
};

static LONG
log_sc(const char *what, LONG sc)
{
  if (sc != SCARD_S_SUCCESS)
    log_msg(LOG_DEBUG, LOG_CAT_PCSC, "%s: %s (0x%08lx)", what, pcsc_error_name(sc),
            (unsigned long)sc);
  return sc;
}

/* Contexts. */

static void
ctx_drop(struct pcsc_backend *be)
{
  if (be->have_ctx)
    SCardReleaseContext(be->ctx);
  be->have_ctx = 0;
}

/* Establishes the operations' context unless a valid one exists. */
static LONG
ctx_ensure(struct pcsc_backend *be)
{
  LONG sc;

  if (be->have_ctx && SCardIsValidContext(be->ctx) == SCARD_S_SUCCESS)
    return SCARD_S_SUCCESS;
  ctx_drop(be);
  sc = log_sc("SCardEstablishContext",
              SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &be->ctx));
  if (sc != SCARD_S_SUCCESS)
    return sc;
  be->have_ctx = 1;
  be->generation++;
  log_msg(LOG_DEBUG, LOG_CAT_PCSC, "PC/SC context established (generation %lu)",
          be->generation);
  return sc;
}

/* After an error that says pcscd forgot us, drop the context so that the
 * next call establishes a new one.  Returns whether it did. */
static int
ctx_check_gone(struct pcsc_backend *be, LONG sc)
{
  if (!pcsc_error_is_service_gone(sc))
    return 0;
  /* Said once per loss, not for every call while pcscd is not running
   * (a machine that uses only the CCID driver has no pcscd at all). */
  log_msg(be->have_ctx ? LOG_INFO : LOG_DEBUG, LOG_CAT_PCSC,
          "pcscd went away (%s); reconnecting to it", pcsc_error_name(sc));
  ctx_drop(be);
  return 1;
}

/* Reader lists. */

/* Lists the reader names of CTX into L, checking the multi-string: its
 * length within the buffer and the double NUL at its end. */
static LONG
names_get(SCARDCONTEXT ctx, struct name_list *l)
{
  DWORD len = sizeof l->buf;
  const char *p;
  size_t nlen;
  LONG sc;

  l->n = 0;
  sc = SCardListReaders(ctx, NULL, l->buf, &len);
  if (sc != SCARD_S_SUCCESS)
    return sc;
  if (len < 2 || len > sizeof l->buf || l->buf[len - 1] || l->buf[len - 2])
    {
      log_msg(LOG_ERROR, LOG_CAT_PCSC,
              "pcscd returned a malformed reader list (%lu bytes)", (unsigned long)len);
      return SCARD_E_NO_READERS_AVAILABLE;
    }
  for (p = l->buf; *p && l->n < READER_MAX; p += nlen + 1)
    {
      nlen = strlen(p);
      if (nlen < READER_NAME_MAX)
        l->names[l->n++] = p;
      else
        log_msg(LOG_INFO, LOG_CAT_PCSC, "reader name of %zu bytes ignored", nlen);
    }
  return SCARD_S_SUCCESS;
}

static int
sc_no_readers(LONG sc)
{
  return sc == SCARD_E_NO_READERS_AVAILABLE || sc == SCARD_E_NO_SERVICE;
}

/* The current state of the first N readers of L, without waiting. */
static LONG
states_get(SCARDCONTEXT ctx, const struct name_list *l, size_t n, SCARD_READERSTATE *st)
{
  size_t i;

  memset(st, 0, n * sizeof *st);
  for (i = 0; i < n; i++)
    {
      st[i].szReader = l->names[i];
      st[i].dwCurrentState = SCARD_STATE_UNAWARE;
    }
  if (!n)
    return SCARD_S_SUCCESS;
  return SCardGetStatusChange(ctx, 0, st, (DWORD)n);
}

/* Records ST as what the manager knows; returns whether it differs from
 * what it knew (a reader came or went, a card was inserted or removed). */
static int
known_update(struct pcsc_backend *be, const SCARD_READERSTATE *st, size_t n)
{
  int changed = n != be->nknown;
  size_t i;

  pthread_mutex_lock(&be->lock);
  for (i = 0; i < n; i++)
    {
      if (!changed
          && (strcmp(be->known[i].name, st[i].szReader)
              || STATE_KEY(be->known[i].state) != STATE_KEY(st[i].dwEventState)))
        changed = 1;
      strcpy(be->known[i].name, st[i].szReader); /* < READER_NAME_MAX: names_get */
      be->known[i].state = st[i].dwEventState;
    }
  be->nknown = n;
  pthread_mutex_unlock(&be->lock);
  return changed;
}

static void
info_fill(struct reader_info *info, const SCARD_READERSTATE *st)
{
  memset(info, 0, sizeof *info);
  strcpy(info->name, st->szReader); /* < READER_NAME_MAX: names_get */
  info->card_present = !!(st->dwEventState & SCARD_STATE_PRESENT);
  info->exclusive = !!(st->dwEventState & SCARD_STATE_EXCLUSIVE);
  if (info->card_present && st->cbAtr <= sizeof st->rgbAtr)
    {
      memcpy(info->atr, st->rgbAtr, st->cbAtr);
      info->atrlen = st->cbAtr;
    }
}

/* One attempt at listing: context, names, states. */
static LONG
list_once(struct pcsc_backend *be, struct name_list *l, SCARD_READERSTATE *st)
{
  LONG sc;

  sc = ctx_ensure(be);
  if (sc == SCARD_S_SUCCESS)
    sc = log_sc("SCardListReaders", names_get(be->ctx, l));
  if (sc == SCARD_S_SUCCESS)
    sc = log_sc("SCardGetStatusChange", states_get(be->ctx, l, l->n, st));
  return sc;
}

static gpg_error_t
pcsc_list(struct reader_backend *rbe, struct reader_info *infos, size_t max, size_t *n)
{
  struct pcsc_backend *be = (struct pcsc_backend *)rbe;
  struct name_list *l;
  SCARD_READERSTATE st[READER_MAX];
  gpg_error_t err = 0;
  size_t i;
  LONG sc;

  *n = 0;
  l = malloc(sizeof *l);
  if (!l)
    return gpg_error_from_syserror();
  sc = list_once(be, l, st);
  if (ctx_check_gone(be, sc))
    sc = list_once(be, l, st);
  if (sc_no_readers(sc))
    l->n = 0;
  else if (sc != SCARD_S_SUCCESS)
    {
      err = pcsc_error(sc);
      goto leave;
    }
  known_update(be, st, l->n);
  for (i = 0; i < l->n && i < max; i++)
    info_fill(&infos[i], &st[i]);
  *n = i;

leave:
  free(l);
  return err;
}

/* Connections. */

/* Reads the ATR of CONN's card into ATR / *ATRLEN. */
static LONG
conn_atr(struct reader_conn *conn, uint8_t *atr, size_t *atrlen)
{
  char rname[MAX_READERNAME + 1];
  BYTE buf[MAX_ATR_SIZE];
  DWORD rlen = sizeof rname, alen = sizeof buf, state = 0, proto = 0;
  LONG sc;

  sc = SCardStatus(conn->handle, rname, &rlen, &state, &proto, buf, &alen);
  if (sc != SCARD_S_SUCCESS)
    return log_sc("SCardStatus", sc);
  if (alen > sizeof buf)
    return SCARD_E_INVALID_ATR;
  memcpy(atr, buf, alen);
  *atrlen = alen;
  return sc;
}

/* Connects CONN->handle on the backend's context, once more after
 * establishing a new context if pcscd forgot the old one. */
static LONG
conn_open(struct reader_conn *conn)
{
  struct pcsc_backend *be = conn->be;
  LONG sc;
  int tries;

  for (tries = 0; tries < 2; tries++)
    {
      sc = ctx_ensure(be);
      if (sc == SCARD_S_SUCCESS)
        sc = log_sc("SCardConnect", SCardConnect(be->ctx, conn->name, conn->share,
                                                 SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                                                 &conn->handle, &conn->protocol));
      if (!ctx_check_gone(be, sc))
        break;
    }
  if (sc != SCARD_S_SUCCESS)
    return sc;
  conn->have_handle = 1;
  conn->generation = be->generation;
  return sc;
}

/* Does CONN's handle belong to the current context? */
static int
conn_live(const struct reader_conn *conn)
{
  return conn->have_handle && conn->be->have_ctx
         && conn->generation == conn->be->generation;
}

static void
conn_close(struct reader_conn *conn)
{
  if (conn_live(conn))
    log_sc("SCardDisconnect", SCardDisconnect(conn->handle, SCARD_LEAVE_CARD));
  conn->have_handle = 0;
}

static void
pcsc_disconnect(struct reader_conn *conn)
{
  if (!conn)
    return;
  conn_close(conn);
  free(conn);
}

/* The connect errors reader.h promises. */
static gpg_error_t
connect_error(LONG sc)
{
  if (sc == SCARD_E_NO_SMARTCARD || sc == SCARD_W_REMOVED_CARD)
    return gpg_error(GPG_ERR_CARD_NOT_PRESENT);
  if (sc == SCARD_E_NO_READERS_AVAILABLE || sc == SCARD_E_READER_UNAVAILABLE)
    return gpg_error(GPG_ERR_ENODEV);
  return pcsc_error(sc);
}

static gpg_error_t
pcsc_connect(struct reader_backend *rbe, const char *name, enum reader_share share,
             struct reader_conn **r_conn, uint8_t *atr, size_t *atrlen)
{
  struct pcsc_backend *be = (struct pcsc_backend *)rbe;
  struct reader_conn *conn = NULL;
  gpg_error_t err = 0;
  LONG sc;

  *r_conn = NULL;
  *atrlen = 0;
  if (!name || strlen(name) >= READER_NAME_MAX)
    return gpg_error(GPG_ERR_ENODEV);
  conn = calloc(1, sizeof *conn);
  if (!conn)
    return gpg_error_from_syserror();
  conn->be = be;
  conn->share = share == READER_EXCLUSIVE ? SCARD_SHARE_EXCLUSIVE : SCARD_SHARE_SHARED;
  strcpy(conn->name, name);
  sc = conn_open(conn);
  if (sc == SCARD_S_SUCCESS)
    sc = conn_atr(conn, atr, atrlen);
  if (sc != SCARD_S_SUCCESS)
    {
      err = connect_error(sc);
      log_msg(LOG_INFO, LOG_CAT_PCSC, "connecting to reader '%s' failed: %s (%s)", name,
              gpg_strerror(err), pcsc_error_name(sc));
      goto leave;
    }
  log_msg(LOG_DEBUG, LOG_CAT_PCSC, "connected to '%s' %s, T=%d", name,
          share == READER_EXCLUSIVE ? "exclusively" : "shared",
          conn->protocol == SCARD_PROTOCOL_T0 ? 0 : 1);
  *r_conn = conn;
  conn = NULL;

leave:
  pcsc_disconnect(conn);
  return err;
}

/* Transactions. */

/* After another program reset the card: accept the reset (our handle
 * stays ours) and tell the caller, who must re-select. */
static gpg_error_t
conn_after_reset(struct reader_conn *conn)
{
  LONG sc;

  log_msg(LOG_INFO, LOG_CAT_PCSC,
          "the card in '%s' was reset by another program; its state is lost", conn->name);
  sc = log_sc("SCardReconnect", SCardReconnect(conn->handle, conn->share,
                                               SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                                               SCARD_LEAVE_CARD, &conn->protocol));
  if (sc == SCARD_W_REMOVED_CARD || sc == SCARD_E_NO_SMARTCARD)
    return gpg_error(GPG_ERR_CARD_REMOVED);
  if (sc != SCARD_S_SUCCESS)
    return pcsc_error(sc);
  return gpg_error(GPG_ERR_CARD_RESET);
}

/* A handle from a context pcscd has forgotten (it was restarted): connect
 * again.  The card was powered down meanwhile, so this is a reset. */
static gpg_error_t
conn_reopen(struct reader_conn *conn)
{
  LONG sc;

  conn->have_handle = 0;
  sc = conn_open(conn);
  if (sc == SCARD_E_NO_SMARTCARD || sc == SCARD_W_REMOVED_CARD
      || sc == SCARD_E_UNKNOWN_READER)
    return gpg_error(GPG_ERR_CARD_REMOVED);
  if (sc != SCARD_S_SUCCESS)
    return pcsc_error(sc);
  log_msg(LOG_INFO, LOG_CAT_PCSC, "reconnected to '%s' after pcscd restarted",
          conn->name);
  return gpg_error(GPG_ERR_CARD_RESET);
}

/* Turns the SC of a call on CONN into reader.h's error, recovering what
 * can be recovered: a reset, and pcscd's restart (the next begin
 * re-opens). */
static gpg_error_t
conn_error(struct reader_conn *conn, LONG sc)
{
  if (sc == SCARD_W_RESET_CARD || sc == SCARD_W_UNPOWERED_CARD)
    return conn_after_reset(conn);
  if (ctx_check_gone(conn->be, sc))
    return gpg_error(GPG_ERR_NO_SERVICE);
  return pcsc_error(sc);
}

/* The transaction after a reset was accepted: reader.h's begin reports
 * GPG_ERR_CARD_RESET with the transaction held, so the caller re-selects
 * inside it before anybody else can touch the card. */
static gpg_error_t
begin_after_reset(struct reader_conn *conn)
{
  LONG sc;

  sc = log_sc("SCardBeginTransaction", SCardBeginTransaction(conn->handle));
  if (sc == SCARD_S_SUCCESS)
    return gpg_error(GPG_ERR_CARD_RESET);
  if (sc == SCARD_W_REMOVED_CARD || sc == SCARD_E_NO_SMARTCARD
      || sc == SCARD_W_RESET_CARD)
    return gpg_error(GPG_ERR_CARD_REMOVED); /* a second reset at once: start over */
  return pcsc_error(sc);
}

static gpg_error_t
pcsc_begin(struct reader_conn *conn)
{
  gpg_error_t err;
  LONG sc;

  if (!conn_live(conn))
    err = conn_reopen(conn);
  else
    {
      sc = log_sc("SCardBeginTransaction", SCardBeginTransaction(conn->handle));
      if (sc == SCARD_S_SUCCESS)
        return 0;
      if (sc == SCARD_W_REMOVED_CARD || sc == SCARD_E_NO_SMARTCARD)
        return gpg_error(GPG_ERR_CARD_REMOVED);
      err = conn_error(conn, sc);
      /* pcscd is back already: reopen now, the caller sees one reset. */
      if (gpg_err_code(err) == GPG_ERR_NO_SERVICE)
        err = conn_reopen(conn);
    }
  if (gpg_err_code(err) == GPG_ERR_CARD_RESET)
    err = begin_after_reset(conn);
  return err;
}

static void
pcsc_end(struct reader_conn *conn)
{
  if (conn && conn_live(conn))
    log_sc("SCardEndTransaction", SCardEndTransaction(conn->handle, SCARD_LEAVE_CARD));
}

static gpg_error_t
pcsc_transmit(struct reader_conn *conn, const uint8_t *apdu, size_t apdulen,
              uint8_t *resp, size_t respsize, size_t *resplen)
{
  const SCARD_IO_REQUEST *pci;
  DWORD rlen;
  gpg_error_t err = 0;
  LONG sc;

  *resplen = 0;
  if (!apdu || apdulen < 4 || apdulen > APDU_MAX || !resp || respsize < 2)
    return gpg_error(GPG_ERR_INV_ARG);
  if (!conn_live(conn))
    return gpg_error(GPG_ERR_CARD_RESET); /* begin re-opens */
  pci = conn->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
  rlen = (DWORD)(respsize < RESP_MAX ? respsize : RESP_MAX);
  sc = log_sc("SCardTransmit",
              SCardTransmit(conn->handle, pci, apdu, (DWORD)apdulen, NULL, resp, &rlen));
  if (sc == SCARD_S_SUCCESS && (rlen < 2 || rlen > respsize || rlen > RESP_MAX))
    {
      log_msg(LOG_ERROR, LOG_CAT_PCSC, "reader '%s' returned a response of %lu bytes",
              conn->name, (unsigned long)rlen);
      err = gpg_error(GPG_ERR_EIO);
    }
  else if (sc != SCARD_S_SUCCESS)
    err = conn_error(conn, sc);
  if (err)
    {
      /* A partial answer may hold secrets (a decrypted session key). */
      explicit_bzero(resp, respsize < RESP_MAX ? respsize : RESP_MAX);
      return err;
    }
  *resplen = rlen;
  return 0;
}

/* Monitoring. */

static void
mon_drop(struct pcsc_backend *be)
{
  if (be->have_mon)
    SCardReleaseContext(be->mon_ctx);
  be->have_mon = 0;
}

static gpg_error_t
mon_error(struct pcsc_backend *be, LONG sc)
{
  if (pcsc_error_is_service_gone(sc))
    {
      mon_drop(be);
      return gpg_error(GPG_ERR_NO_SERVICE);
    }
  return pcsc_error(sc);
}

/* Fills ST (room for MON_MAX + 1) with every reader's current state plus
 * the PnP pseudo-reader; *N gets the count without PnP.  Returns 1 in
 * *CHANGED when that state is already news to the manager. */
static LONG
mon_prepare(struct pcsc_backend *be, struct name_list *l, SCARD_READERSTATE *st,
            size_t *n, int *changed)
{
  size_t i;
  LONG sc;

  *n = 0;
  *changed = 0;
  if (!be->have_mon)
    {
      sc = log_sc("SCardEstablishContext (monitor)",
                  SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &be->mon_ctx));
      if (sc != SCARD_S_SUCCESS)
        return sc;
      be->have_mon = 1;
    }
  sc = names_get(be->mon_ctx, l);
  if (sc == SCARD_E_NO_READERS_AVAILABLE)
    sc = SCARD_S_SUCCESS;
  if (sc == SCARD_S_SUCCESS)
    sc = states_get(be->mon_ctx, l, l->n < MON_MAX ? l->n : MON_MAX, st);
  if (sc != SCARD_S_SUCCESS)
    return log_sc("monitor: reading reader states", sc);
  *n = l->n < MON_MAX ? l->n : MON_MAX;
  *changed = known_update(be, st, *n);
  for (i = 0; i < *n; i++)
    st[i].dwCurrentState = st[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
  memset(&st[*n], 0, sizeof st[*n]);
  st[*n].szReader = PNP_READER;
  st[*n].dwCurrentState = be->pnp_state & ~(DWORD)SCARD_STATE_CHANGED;
  return sc;
}

/* One infinite wait, bracketed so that cancel_wait knows when to call
 * SCardCancel.  Returns SCARD_E_CANCELLED when a cancel was requested. */
static LONG
mon_block(struct pcsc_backend *be, SCARD_READERSTATE *st, size_t n)
{
  LONG sc = SCARD_E_CANCELLED;

  pthread_mutex_lock(&be->lock);
  if (!be->cancel_requested)
    {
      be->waiting = 1;
      pthread_mutex_unlock(&be->lock);
      sc = SCardGetStatusChange(be->mon_ctx, INFINITE, st, (DWORD)n + 1);
      pthread_mutex_lock(&be->lock);
      be->waiting = 0;
      pthread_cond_broadcast(&be->cond);
    }
  if (be->cancel_requested)
    sc = SCARD_E_CANCELLED;
  be->cancel_requested = 0;
  pthread_mutex_unlock(&be->lock);
  return sc;
}

/* Did the wait end for an event the manager cares about?  If not, ST is
 * re-armed with the new states. */
static int
mon_is_event(struct pcsc_backend *be, SCARD_READERSTATE *st, size_t n)
{
  int event = 0;
  size_t i;

  be->pnp_state = st[n].dwEventState;
  if (st[n].dwEventState & SCARD_STATE_CHANGED)
    event = 1;
  for (i = 0; i < n; i++)
    {
      if (STATE_KEY(st[i].dwEventState) != STATE_KEY(st[i].dwCurrentState)
          || (st[i].dwEventState & SCARD_STATE_UNKNOWN))
        event = 1;
      st[i].dwCurrentState = st[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
    }
  st[n].dwCurrentState = be->pnp_state & ~(DWORD)SCARD_STATE_CHANGED;
  if (event)
    known_update(be, st, n);
  return event;
}

/* pcscd is not running: sleep until its socket appears (no timer while
 * there is none), then report a change so the manager lists again. */
static gpg_error_t
wait_for_service(struct pcsc_backend *be)
{
  gpg_error_t err;

  char junk[16];
  int cancelled;

  /* Bytes of cancels that found no wait to end were counted by the flag;
   * only a cancel from now on may end this wait through the pipe. */
  while (read(be->cancel_pipe[0], junk, sizeof junk) > 0)
    ;
  pthread_mutex_lock(&be->lock);
  cancelled = be->cancel_requested;
  be->cancel_requested = 0;
  pthread_mutex_unlock(&be->lock);
  if (cancelled)
    return gpg_error(GPG_ERR_CANCELED);
  log_msg(LOG_DEBUG, LOG_CAT_PCSC, "waiting for pcscd's socket %s", pcsc_socket_path());
  err = pcsc_watch_socket(pcsc_socket_path(), be->cancel_pipe[0], STALE_SOCKET_MS);
  if (gpg_err_code(err) == GPG_ERR_CANCELED)
    {
      pthread_mutex_lock(&be->lock);
      be->cancel_requested = 0;
      pthread_mutex_unlock(&be->lock);
    }
  if (!err || gpg_err_code(err) == GPG_ERR_TIMEOUT)
    return 0;
  if (gpg_err_code(err) != GPG_ERR_CANCELED)
    return gpg_error(GPG_ERR_NO_SERVICE); /* the manager backs off */
  return err;
}

static gpg_error_t
pcsc_wait_change(struct reader_backend *rbe)
{
  struct pcsc_backend *be = (struct pcsc_backend *)rbe;
  SCARD_READERSTATE st[MON_MAX + 1];
  struct name_list *l;
  gpg_error_t err = 0;
  size_t n;
  int changed;
  LONG sc;

  l = malloc(sizeof *l);
  if (!l)
    return gpg_error_from_syserror();
  sc = mon_prepare(be, l, st, &n, &changed);
  while (sc == SCARD_S_SUCCESS && !changed)
    {
      sc = mon_block(be, st, n);
      if (sc == SCARD_S_SUCCESS)
        changed = mon_is_event(be, st, n);
    }
  if (sc == SCARD_E_UNKNOWN_READER) /* it went away before the wait */
    sc = SCARD_S_SUCCESS;
  if (sc != SCARD_S_SUCCESS)
    err = mon_error(be, log_sc("monitor: SCardGetStatusChange", sc));
  free(l);
  if (gpg_err_code(err) == GPG_ERR_NO_SERVICE)
    err = wait_for_service(be);
  return err;
}

static void
pcsc_cancel_wait(struct reader_backend *rbe)
{
  struct pcsc_backend *be = (struct pcsc_backend *)rbe;
  struct timespec ts;
  int tries;

  pthread_mutex_lock(&be->lock);
  be->cancel_requested = 1;
  /* Wakes a wait for pcscd's socket (the flag is set first: see there). */
  if (write(be->cancel_pipe[1], "", 1) < 0)
    log_msg(LOG_DEBUG, LOG_CAT_PCSC, "waking the monitor: %s", strerror(errno));
  for (tries = 0; be->waiting && tries < CANCEL_TRIES; tries++)
    {
      SCARDCONTEXT ctx = be->mon_ctx; /* fixed while waiting */

      pthread_mutex_unlock(&be->lock);
      log_sc("SCardCancel", SCardCancel(ctx));
      pthread_mutex_lock(&be->lock);
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += CANCEL_RETRY_MS * 1000000L;
      if (ts.tv_nsec >= 1000000000L)
        {
          ts.tv_sec++;
          ts.tv_nsec -= 1000000000L;
        }
      if (be->waiting)
        pthread_cond_timedwait(&be->cond, &be->lock, &ts);
    }
  pthread_mutex_unlock(&be->lock);
}

/* The backend. */

static void
pcsc_release(struct reader_backend *rbe)
{
  struct pcsc_backend *be = (struct pcsc_backend *)rbe;

  if (!be)
    return;
  ctx_drop(be);
  mon_drop(be);
  close(be->cancel_pipe[0]);
  close(be->cancel_pipe[1]);
  pthread_cond_destroy(&be->cond);
  pthread_mutex_destroy(&be->lock);
  free(be);
}

/* A reader's USB location from its driver: libccid answers
 * SCARD_ATTR_CHANNEL_ID with 0x0020BBDD (0x0020: USB; BB bus, DD address)
 * on a direct connection, which needs no card. */
static gpg_error_t
pcsc_locate(struct reader_backend *rbe, const char *name, struct reader_usb_id *id)
{
  struct pcsc_backend *be = (struct pcsc_backend *)rbe;
  SCARDHANDLE h;
  DWORD proto = 0, len;
  BYTE val[8];
  uint32_t chan;
  LONG sc;

  memset(id, 0, sizeof *id);
  sc = ctx_ensure(be);
  if (sc == SCARD_S_SUCCESS)
    sc = log_sc("SCardConnect (direct)",
                SCardConnect(be->ctx, name, SCARD_SHARE_DIRECT, 0, &h, &proto));
  if (sc != SCARD_S_SUCCESS)
    return connect_error(sc);
  len = sizeof val;
  sc = log_sc("SCardGetAttrib", SCardGetAttrib(h, SCARD_ATTR_CHANNEL_ID, val, &len));
  SCardDisconnect(h, SCARD_LEAVE_CARD);
  if (sc != SCARD_S_SUCCESS || len != sizeof chan)
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  memcpy(&chan, val, sizeof chan);
  if ((chan >> 16) != 0x0020)
    return gpg_error(GPG_ERR_NOT_SUPPORTED);
  id->valid = 1;
  id->busnum = (uint8_t)(chan >> 8);
  id->devnum = (uint8_t)chan;
  return 0;
}

static const struct reader_backend_ops pcsc_ops = {
  .name = "pcsc",
  .list = pcsc_list,
  .connect = pcsc_connect,
  .disconnect = pcsc_disconnect,
  .begin = pcsc_begin,
  .end = pcsc_end,
  .transmit = pcsc_transmit,
  .wait_change = pcsc_wait_change,
  .cancel_wait = pcsc_cancel_wait,
  .locate = pcsc_locate,
  .release = pcsc_release,
};

gpg_error_t
pcsc_backend_new(struct reader_backend **r_be)
{
  struct pcsc_backend *be;

  *r_be = NULL;
  be = calloc(1, sizeof *be);
  if (!be)
    return gpg_error_from_syserror();
  be->base.ops = &pcsc_ops;
  if (pipe2(be->cancel_pipe, O_CLOEXEC | O_NONBLOCK))
    {
      free(be);
      return gpg_error_from_syserror();
    }
  pthread_mutex_init(&be->lock, NULL);
  pthread_cond_init(&be->cond, NULL);
  /* No context yet: pcscd may start later; list and connect establish it. */
  *r_be = &be->base;
  return 0;
}
