/* pcsc.h - the PC/SC backend (pcsc-lite) */
#ifndef DUALSCD_BACKENDS_PCSC_H
#define DUALSCD_BACKENDS_PCSC_H

#include "reader.h"

/* Creates the PC/SC backend.  A missing pcscd is not an error here: list
 * reports no readers and connect GPG_ERR_NO_SERVICE until it runs, and the
 * backend re-establishes its context by itself when pcscd restarts. */
gpg_error_t pcsc_backend_new(struct reader_backend **r_be);

#endif /* DUALSCD_BACKENDS_PCSC_H */
