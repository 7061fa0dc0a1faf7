/* test-ccid-err.c - the CCID driver's libusb error table */
#include <libusb.h>

#include "ccid-int.h"
#include "ccid.h"
#include "check.h"

static void
t_claim_busy_is_ebusy(void)
{
  /* The conflict with pcscd must never read as "no such device". */
  CHECK_ERR(ccid_usb_error(LIBUSB_ERROR_BUSY), GPG_ERR_EBUSY);
}

static void
t_gone_is_enodev(void)
{
  CHECK_ERR(ccid_usb_error(LIBUSB_ERROR_NO_DEVICE), GPG_ERR_ENODEV);
}

static void
t_others(void)
{
  CHECK_INT(ccid_usb_error(LIBUSB_SUCCESS), 0);
  CHECK_ERR(ccid_usb_error(LIBUSB_ERROR_TIMEOUT), GPG_ERR_TIMEOUT);
  CHECK_ERR(ccid_usb_error(LIBUSB_ERROR_PIPE), GPG_ERR_EIO);
  CHECK_ERR(ccid_usb_error(LIBUSB_ERROR_OVERFLOW), GPG_ERR_EIO);
  CHECK_ERR(ccid_usb_error(LIBUSB_ERROR_ACCESS), GPG_ERR_EACCES);
  CHECK_ERR(ccid_usb_error(-1234), GPG_ERR_EIO);
  {
    gpg_error_t e = ccid_usb_error(LIBUSB_ERROR_BUSY);

    CHECK(gpg_err_source(e) == GPG_ERR_SOURCE_SCD);
  }
}

static void
t_no_usb_is_empty(void)
{
  struct reader_backend *be = NULL;
  struct reader_info infos[READER_MAX];
  size_t n = 99;

  /* No USB bus on this machine (outside the emulator): no readers, no error. */
  CHECK_OK(ccid_backend_new(&be));
  if (!be)
    return;
  CHECK_OK(be->ops->list(be, infos, READER_MAX, &n));
  CHECK_INT(n, 0);
  be->ops->release(be);
}

int
main(void)
{
  RUN(t_claim_busy_is_ebusy);
  RUN(t_gone_is_enodev);
  RUN(t_others);
  RUN(t_no_usb_is_empty);
  return check_done();
}
