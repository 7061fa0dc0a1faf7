/* ccid-usb.c - the libusb transport of one claimed CCID interface
 *
 * Synchronous bulk transfers from the command thread; libusb lets them
 * run while the monitor thread handles events (the transfer then waits
 * for the event handler to complete it).  A STALL is cleared and the
 * transfer retried once (CCID 1.1, 5.3 lets readers stall on errors);
 * a vanished device is remembered so that no call touches it again.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <string.h>
#include <time.h>

#include "ccid-usb.h"
#include "log.h"

/* Abort: how long the control request and the wait for the reader's
 * SlotStatus may take, and how many leftover replies are read past. */
#define ABORT_MS 1000u
#define ABORT_READS 4
#define ABORT_BUF 1024

uint64_t
ccid_usb_now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static gpg_error_t
usb_fail(struct ccid_usb *u, const char *what, int rc)
{
  if (rc == LIBUSB_ERROR_NO_DEVICE)
    {
      if (!u->gone)
        log_msg(LOG_INFO, LOG_CAT_USB, "the reader was unplugged (%s)", what);
      u->gone = 1;
    }
  else if (rc != LIBUSB_ERROR_TIMEOUT)
    log_msg(LOG_DEBUG, LOG_CAT_USB, "%s: %s", what, ccid_usb_error_name(rc));
  return ccid_usb_error(rc);
}

/* One bulk transfer; a STALL is cleared and the transfer tried once more. */
static int
bulk(struct ccid_usb *u, uint8_t ep, uint8_t *buf, size_t len, int *done,
     unsigned int timeout_ms)
{
  int rc, tries;

  *done = 0;
  if (u->gone)
    return LIBUSB_ERROR_NO_DEVICE;
  if (len > INT32_MAX)
    return LIBUSB_ERROR_INVALID_PARAM;
  for (tries = 0;; tries++)
    {
      rc = libusb_bulk_transfer(u->h, ep, buf, (int)len, done, timeout_ms);
      if (rc != LIBUSB_ERROR_PIPE || tries)
        return rc;
      log_msg(LOG_INFO, LOG_CAT_USB, "endpoint 0x%02x stalled; clearing and retrying",
              ep);
      rc = libusb_clear_halt(u->h, ep);
      if (rc)
        return rc;
    }
}

static gpg_error_t
usb_send(void *opaque, const uint8_t *msg, size_t len)
{
  struct ccid_usb *u = opaque;
  int done, rc;

  /* libusb's API takes a non-const buffer even for OUT transfers. */
  rc = bulk(u, u->ep.bulk_out, (uint8_t *)(uintptr_t)msg, len, &done, CCID_WRITE_MS);
  if (rc)
    return usb_fail(u, "bulk-out", rc);
  if ((size_t)done != len)
    {
      log_msg(LOG_ERROR, LOG_CAT_USB, "bulk-out sent %d of %zu bytes", done, len);
      return gpg_error(GPG_ERR_EIO);
    }
  return 0;
}

static gpg_error_t
usb_recv(void *opaque, uint8_t *buf, size_t size, size_t *len, unsigned int timeout_ms)
{
  struct ccid_usb *u = opaque;
  int done, rc;

  *len = 0;
  rc = bulk(u, u->ep.bulk_in, buf, size, &done, timeout_ms ? timeout_ms : 1);
  if (rc)
    return usb_fail(u, "bulk-in", rc);
  *len = (size_t)done;
  return 0;
}

/* CCID 1.1, 5.3.1: the ABORT class request, then PC_to_RDR_Abort with
 * the same bSlot and bSeq; the reader answers the latter with a
 * SlotStatus, and replies still queued before it are dropped. */
static void
usb_abort(void *opaque, uint8_t slot, uint8_t seq)
{
  struct ccid_usb *u = opaque;
  uint8_t buf[ABORT_BUF];
  size_t len = 0;
  int rc, done, i;

  if (u->gone)
    return;
  rc = libusb_control_transfer(u->h, CCID_REQTYPE_OUT, CCID_REQ_ABORT,
                               ccid_abort_request_value(slot, seq), u->ep.ifc, NULL, 0,
                               ABORT_MS);
  if (rc < 0)
    usb_fail(u, "ABORT request", rc);
  if (ccid_cmd_abort(slot, seq, buf, sizeof buf, &len) || u->gone)
    return;
  rc = bulk(u, u->ep.bulk_out, buf, len, &done, ABORT_MS);
  for (i = 0; !rc && i < ABORT_READS; i++)
    {
      rc = bulk(u, u->ep.bulk_in, buf, sizeof buf, &done, ABORT_MS);
      if (!rc && done >= CCID_HEADER_LEN && buf[0] == CCID_RDR_TO_PC_SLOT_STATUS
          && buf[6] == seq)
        break;
      if (rc == LIBUSB_ERROR_OVERFLOW)
        rc = 0; /* a long stale reply: keep draining */
    }
  if (rc == LIBUSB_ERROR_NO_DEVICE)
    usb_fail(u, "abort", rc);
}

static uint64_t
usb_now(void *opaque)
{
  (void)opaque;
  return ccid_usb_now_ms();
}

void
ccid_usb_io(struct ccid_usb *u, struct ccid_io *io)
{
  io->send = usb_send;
  io->recv = usb_recv;
  io->abort = usb_abort;
  io->now_ms = usb_now;
  io->opaque = u;
}

gpg_error_t
ccid_usb_open(libusb_device *dev, const struct ccid_usb_ep *ep, struct ccid_usb *u)
{
  int rc;

  memset(u, 0, sizeof *u);
  u->ep = *ep;
  rc = libusb_open(dev, &u->h);
  if (rc)
    {
      u->h = NULL;
      return ccid_usb_error(rc);
    }
  /* A kernel driver bound to the interface is left alone, as GnuPG does:
   * Linux has none for CCID, so one that is bound was put there on
   * purpose; the claim then fails with BUSY and the user is told. */
  rc = libusb_claim_interface(u->h, ep->ifc);
  if (rc)
    {
      ccid_usb_close(u);
      return ccid_usb_error(rc);
    }
  u->claimed = 1;
  return 0;
}

void
ccid_usb_close(struct ccid_usb *u)
{
  if (u->h && u->claimed && !u->gone)
    libusb_release_interface(u->h, u->ep.ifc);
  if (u->h)
    libusb_close(u->h);
  u->h = NULL;
  u->claimed = 0;
}
