/* pcsc-err.h - the PC/SC backend's one mapping of SCARD_* codes */
#ifndef DUALSCD_BACKENDS_PCSC_ERR_H
#define DUALSCD_BACKENDS_PCSC_ERR_H

#include <gpg-error.h>

/* SC is a pcsc-lite LONG (long on every platform pcsc-lite runs on), so
 * tests need not include winscard.h.  Success maps to 0; a code not in the
 * table to GPG_ERR_EIO. */
gpg_error_t pcsc_error(long sc);

/* The SCARD_* name of SC for log messages, "SCARD_?" when unknown. */
const char *pcsc_error_name(long sc);

/* Did SC say that pcscd went away (its context is dead and must be
 * established again)? */
int pcsc_error_is_service_gone(long sc);

#endif /* DUALSCD_BACKENDS_PCSC_ERR_H */
