/* pcsc-err.c - SCARD_* codes to gpg_error_t, in one table */
#include <stddef.h>

#include <PCSC/winscard.h>

#include "pcsc-err.h"

struct pcsc_err_entry
{
  LONG sc;
  gpg_err_code_t code;
  const char *name;
};

#define E(sc, code)                                                                      \
  {                                                                                      \
    (sc), (code), #sc                                                                    \
  }

/* Codes a client of pcsc-lite can see.  Reset and removal keep their own
 * codes because the caller reacts to them (re-select, disconnect); pcscd
 * going away is GPG_ERR_NO_SERVICE whichever way the library says it; an
 * invalid handle is what a context left over from a previous pcscd gets.
 * SCARD_F_COMM_ERROR is the library's socket to pcscd failing (card-side
 * failures come back as SCARD_E_NOT_TRANSACTED / COMM_DATA_LOST). */
static const struct pcsc_err_entry pcsc_err_table[] = {
  E(SCARD_S_SUCCESS, GPG_ERR_NO_ERROR),
  E(SCARD_F_INTERNAL_ERROR, GPG_ERR_INTERNAL),
  E(SCARD_E_CANCELLED, GPG_ERR_CANCELED),
  E(SCARD_E_INVALID_HANDLE, GPG_ERR_INV_HANDLE),
  E(SCARD_E_INVALID_PARAMETER, GPG_ERR_INV_ARG),
  E(SCARD_E_INVALID_TARGET, GPG_ERR_INV_ARG),
  E(SCARD_E_NO_MEMORY, GPG_ERR_ENOMEM),
  E(SCARD_F_WAITED_TOO_LONG, GPG_ERR_TIMEOUT),
  E(SCARD_E_INSUFFICIENT_BUFFER, GPG_ERR_BUFFER_TOO_SHORT),
  E(SCARD_E_UNKNOWN_READER, GPG_ERR_ENODEV),
  E(SCARD_E_TIMEOUT, GPG_ERR_TIMEOUT),
  E(SCARD_E_SHARING_VIOLATION, GPG_ERR_EBUSY),
  E(SCARD_E_NO_SMARTCARD, GPG_ERR_CARD_NOT_PRESENT),
  E(SCARD_E_UNKNOWN_CARD, GPG_ERR_CARD),
  E(SCARD_E_CANT_DISPOSE, GPG_ERR_EIO),
  E(SCARD_E_PROTO_MISMATCH, GPG_ERR_CARD),
  E(SCARD_E_NOT_READY, GPG_ERR_EAGAIN),
  E(SCARD_E_INVALID_VALUE, GPG_ERR_INV_VALUE),
  E(SCARD_E_SYSTEM_CANCELLED, GPG_ERR_CANCELED),
  E(SCARD_F_COMM_ERROR, GPG_ERR_EIO),
  E(SCARD_F_UNKNOWN_ERROR, GPG_ERR_EIO),
  E(SCARD_E_INVALID_ATR, GPG_ERR_CARD),
  E(SCARD_E_NOT_TRANSACTED, GPG_ERR_EIO),
  E(SCARD_E_READER_UNAVAILABLE, GPG_ERR_ENODEV),
  E(SCARD_P_SHUTDOWN, GPG_ERR_NO_SERVICE),
  E(SCARD_E_PCI_TOO_SMALL, GPG_ERR_BUFFER_TOO_SHORT),
  E(SCARD_E_READER_UNSUPPORTED, GPG_ERR_NOT_SUPPORTED),
  E(SCARD_E_DUPLICATE_READER, GPG_ERR_EIO),
  E(SCARD_E_CARD_UNSUPPORTED, GPG_ERR_CARD),
  E(SCARD_E_NO_SERVICE, GPG_ERR_NO_SERVICE),
  E(SCARD_E_SERVICE_STOPPED, GPG_ERR_NO_SERVICE),
  E(SCARD_E_UNSUPPORTED_FEATURE, GPG_ERR_NOT_SUPPORTED),
  E(SCARD_E_NO_READERS_AVAILABLE, GPG_ERR_ENODEV),
  E(SCARD_E_COMM_DATA_LOST, GPG_ERR_EIO),
  E(SCARD_E_SERVER_TOO_BUSY, GPG_ERR_EAGAIN),
  E(SCARD_W_UNSUPPORTED_CARD, GPG_ERR_CARD),
  E(SCARD_W_UNRESPONSIVE_CARD, GPG_ERR_CARD),
  E(SCARD_W_UNPOWERED_CARD, GPG_ERR_CARD_RESET),
  E(SCARD_W_RESET_CARD, GPG_ERR_CARD_RESET),
  E(SCARD_W_REMOVED_CARD, GPG_ERR_CARD_REMOVED),
  E(SCARD_W_SECURITY_VIOLATION, GPG_ERR_EACCES),
};

#undef E

static const struct pcsc_err_entry *
pcsc_err_find(long sc)
{
  size_t i;

  for (i = 0; i < sizeof pcsc_err_table / sizeof pcsc_err_table[0]; i++)
    if (pcsc_err_table[i].sc == sc)
      return &pcsc_err_table[i];
  return NULL;
}

gpg_error_t
pcsc_error(long sc)
{
  const struct pcsc_err_entry *e = pcsc_err_find(sc);

  if (!e)
    return gpg_error(GPG_ERR_EIO);
  return e->code ? gpg_error(e->code) : 0;
}

const char *
pcsc_error_name(long sc)
{
  const struct pcsc_err_entry *e = pcsc_err_find(sc);

  return e ? e->name : "SCARD_?";
}

int
pcsc_error_is_service_gone(long sc)
{
  return sc == SCARD_E_NO_SERVICE || sc == SCARD_E_SERVICE_STOPPED
         || sc == SCARD_E_INVALID_HANDLE || sc == SCARD_P_SHUTDOWN
         || sc == SCARD_F_COMM_ERROR;
}
