/* pcsc-watch.h - waiting for pcscd to appear, without polling */
#ifndef DUALSCD_BACKENDS_PCSC_WATCH_H
#define DUALSCD_BACKENDS_PCSC_WATCH_H

#include <gpg-error.h>

/* The socket pcsc-lite's clients connect to: PCSCLITE_CSOCK_NAME, else
 * pcsc-lite's default /run/pcscd/pcscd.comm. */
const char *pcsc_socket_path(void);

/* Called after pcscd could not be reached: blocks until something is
 * created, moved to or changed in PATH's directory (pcscd binding its
 * socket) or CANCEL_FD becomes readable.  Watches the nearest existing
 * ancestor when the directory does not exist yet (pcscd creates
 * /run/pcscd).  When PATH exists already (a stale socket of a pcscd that
 * died, or one that is just starting) the wait ends after STALE_MS too,
 * so the caller retries; when it does not exist there is no timeout.
 * Returns 0 when PATH may have appeared, GPG_ERR_TIMEOUT, GPG_ERR_CANCELED
 * when CANCEL_FD woke it (one byte is read from it), or inotify's error. */
gpg_error_t pcsc_watch_socket(const char *path, int cancel_fd, int stale_ms);

#endif /* DUALSCD_BACKENDS_PCSC_WATCH_H */
