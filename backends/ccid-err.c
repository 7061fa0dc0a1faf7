/* ccid-err.c - libusb error codes to gpg_error_t, in one table */
#include <stddef.h>

#include <libusb.h>

#include "ccid-int.h"

struct usb_err_entry
{
  int rc;
  gpg_err_code_t code;
};

/* A claim that fails with BUSY means another program (pcscd, another
 * GnuPG) holds the interface: GPG_ERR_EBUSY, never ENODEV, so the user is
 * told about the conflict and not about a missing reader.  A vanished
 * device is ENODEV here; connections turn it into GPG_ERR_CARD_REMOVED.
 * A STALL that survived the clear-and-retry, an overflow (the reader sent
 * more than its own dwMaxCCIDMessageLength) and garbage are I/O errors. */
static const struct usb_err_entry usb_err_table[] = {
  { LIBUSB_SUCCESS, GPG_ERR_NO_ERROR },
  { LIBUSB_ERROR_IO, GPG_ERR_EIO },
  { LIBUSB_ERROR_INVALID_PARAM, GPG_ERR_INV_ARG },
  { LIBUSB_ERROR_ACCESS, GPG_ERR_EACCES },
  { LIBUSB_ERROR_NO_DEVICE, GPG_ERR_ENODEV },
  { LIBUSB_ERROR_NOT_FOUND, GPG_ERR_ENODEV },
  { LIBUSB_ERROR_BUSY, GPG_ERR_EBUSY },
  { LIBUSB_ERROR_TIMEOUT, GPG_ERR_TIMEOUT },
  { LIBUSB_ERROR_OVERFLOW, GPG_ERR_EIO },
  { LIBUSB_ERROR_PIPE, GPG_ERR_EIO },
  { LIBUSB_ERROR_INTERRUPTED, GPG_ERR_EINTR },
  { LIBUSB_ERROR_NO_MEM, GPG_ERR_ENOMEM },
  { LIBUSB_ERROR_NOT_SUPPORTED, GPG_ERR_NOT_SUPPORTED },
  { LIBUSB_ERROR_OTHER, GPG_ERR_EIO },
};

gpg_error_t
ccid_usb_error(int rc)
{
  size_t i;

  for (i = 0; i < sizeof usb_err_table / sizeof usb_err_table[0]; i++)
    if (usb_err_table[i].rc == rc)
      return usb_err_table[i].code ? gpg_error(usb_err_table[i].code) : 0;
  return gpg_error(GPG_ERR_EIO);
}

const char *
ccid_usb_error_name(int rc)
{
  return libusb_error_name(rc);
}
