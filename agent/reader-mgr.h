/* reader-mgr.h - which reader and card the daemon uses, and who may use it now
 *
 * One manager per process.  It owns the backend, the connection to the card
 * and the card's application (shared by every Assuan session, so a warm
 * daemon answers from the app's cache), serialises card access between the
 * sessions (a mutex held from rmgr_begin to rmgr_end, with the backend's
 * transaction inside), keeps the LOCK that gives one session exclusive
 * use, and runs the monitor thread that blocks in wait_change and signals
 * the agents that asked for card events.
 */
#ifndef DUALSCD_AGENT_READER_MGR_H
#define DUALSCD_AGENT_READER_MGR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gpg-error.h>

#include "options.h"

struct app;
struct rmgr_session;

/* Flags of rmgr_begin. */
#define RMGR_NEED_APP 1 /* open the OpenPGP application when not yet open */
#define RMGR_RESELECT 2 /* SERIALNO: clears the session's card-removed state */

/* Creates the backends (the CCID driver unless disable-ccid, then PC/SC)
 * and starts their monitor threads and the card-timeout thread.  OPT must live
 * until rmgr_shutdown. */
gpg_error_t rmgr_init(const struct options *opt);

/* Stops the monitor, closes the app and the connection. */
void rmgr_shutdown(void);

/* A session (one per Assuan connection); NULL when out of memory. */
struct rmgr_session *rmgr_session_new(void);
void rmgr_session_free(struct rmgr_session *s);
unsigned int rmgr_session_count(void);

/* Card events go to PID as signal SIGNO (0: none). */
void rmgr_set_event_signal(struct rmgr_session *s, pid_t pid, int signo);

/* LOCK [--wait] / UNLOCK. */
gpg_error_t rmgr_lock(struct rmgr_session *s, int wait);
gpg_error_t rmgr_unlock(struct rmgr_session *s);

/* RESTART / RESET: the session lets go of the card (and of the LOCK unless
 * KEEP_LOCK).  The app stays cached for the next session. */
void rmgr_restart(struct rmgr_session *s, int keep_lock);

/* Starts using the card: waits for the other sessions, refuses when another
 * session holds the LOCK, connects when needed, begins the backend's
 * transaction (handling a card reset by invalidating the app) and, with
 * RMGR_NEED_APP, opens the application; DEMAND (NULL: any) is the serial
 * number the card must have.  On success *R_APP is the app (NULL without
 * RMGR_NEED_APP) and the caller must call rmgr_end. */
gpg_error_t rmgr_begin(struct rmgr_session *s, unsigned int flags, const char *demand,
                       struct app **r_app);

/* Ends what rmgr_begin started; ERR is the command's result (a card gone
 * drops the app and marks every session card-removed). */
void rmgr_end(struct rmgr_session *s, gpg_error_t err);

/* Between begin and end: one raw APDU (the APDU command, RANDOM). */
gpg_error_t rmgr_transmit(const uint8_t *apdu, size_t apdulen, uint8_t *resp,
                          size_t respsize, size_t *resplen);

/* Between begin and end: the ATR of the connected card. */
void rmgr_atr(uint8_t *atr, size_t atrsize, size_t *atrlen);

/* Between begin and end: the raw APDUs may have changed what the app
 * cached. */
void rmgr_invalidate_app(void);

/* DISCONNECT: drops the connection; the next command reconnects. */
void rmgr_disconnect(struct rmgr_session *s);

/* The readers every backend lists, one per line, into BUF: the name, a
 * tab, the backend ("ccid", "pcsc") and, for a reader that cannot be used
 * (another program holds it), a tab and why. */
gpg_error_t rmgr_reader_list(char *buf, size_t bufsize);

/* Why the last connect found no usable reader because one was busy (the
 * sentence naming the holder), "" when that was not the reason. */
void rmgr_conflict(char *buf, size_t bufsize);

/* 'u' when the session may use a card, 'r' when it was removed. */
int rmgr_status_char(struct rmgr_session *s);

/* Name of the backend of the connected reader, else of the first one. */
const char *rmgr_backend_name(void);

#endif /* DUALSCD_AGENT_READER_MGR_H */
