/* test-pcsc-err.c - the SCARD_* to gpg_error_t table */
#include <PCSC/winscard.h>

#include "check.h"
#include "pcsc-err.h"

static void
test_codes_callers_react_to(void)
{
  CHECK_INT(pcsc_error(SCARD_S_SUCCESS), 0);
  CHECK_ERR(pcsc_error(SCARD_W_RESET_CARD), GPG_ERR_CARD_RESET);
  CHECK_ERR(pcsc_error(SCARD_W_REMOVED_CARD), GPG_ERR_CARD_REMOVED);
  CHECK_ERR(pcsc_error(SCARD_E_NO_SMARTCARD), GPG_ERR_CARD_NOT_PRESENT);
  CHECK_ERR(pcsc_error(SCARD_E_SHARING_VIOLATION), GPG_ERR_EBUSY);
  CHECK_ERR(pcsc_error(SCARD_E_NO_SERVICE), GPG_ERR_NO_SERVICE);
  CHECK_ERR(pcsc_error(SCARD_E_SERVICE_STOPPED), GPG_ERR_NO_SERVICE);
  CHECK_ERR(pcsc_error(SCARD_E_UNKNOWN_READER), GPG_ERR_ENODEV);
  CHECK_ERR(pcsc_error(SCARD_E_CANCELLED), GPG_ERR_CANCELED);
  CHECK_ERR(pcsc_error(SCARD_E_INSUFFICIENT_BUFFER), GPG_ERR_BUFFER_TOO_SHORT);
  CHECK_ERR(pcsc_error(SCARD_E_TIMEOUT), GPG_ERR_TIMEOUT);
}

static void
test_errors_carry_scd_source(void)
{
  CHECK(gpg_err_source(pcsc_error(SCARD_W_RESET_CARD)) == GPG_ERR_SOURCE_SCD);
  CHECK(gpg_err_source(pcsc_error(0x12345678)) == GPG_ERR_SOURCE_SCD);
}

static void
test_unknown_code(void)
{
  CHECK_ERR(pcsc_error(0x12345678), GPG_ERR_EIO);
  CHECK_STR(pcsc_error_name(0x12345678), "SCARD_?");
}

static void
test_names(void)
{
  CHECK_STR(pcsc_error_name(SCARD_W_RESET_CARD), "SCARD_W_RESET_CARD");
  CHECK_STR(pcsc_error_name(SCARD_E_NO_SERVICE), "SCARD_E_NO_SERVICE");
  CHECK_STR(pcsc_error_name(SCARD_S_SUCCESS), "SCARD_S_SUCCESS");
  /* pcsc-lite gives SCARD_E_UNEXPECTED the same value. */
  CHECK_STR(pcsc_error_name(SCARD_E_UNEXPECTED), "SCARD_E_UNSUPPORTED_FEATURE");
}

static void
test_service_gone(void)
{
  CHECK(pcsc_error_is_service_gone(SCARD_E_NO_SERVICE));
  CHECK(pcsc_error_is_service_gone(SCARD_E_SERVICE_STOPPED));
  CHECK(pcsc_error_is_service_gone(SCARD_E_INVALID_HANDLE));
  CHECK(!pcsc_error_is_service_gone(SCARD_W_RESET_CARD));
  CHECK(!pcsc_error_is_service_gone(SCARD_S_SUCCESS));
}

int
main(void)
{
  RUN(test_codes_callers_react_to);
  RUN(test_errors_carry_scd_source);
  RUN(test_unknown_code);
  RUN(test_names);
  RUN(test_service_gone);
  return check_done();
}
