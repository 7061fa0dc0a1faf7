/* ccid-usb.h - the libusb transport of one claimed CCID interface */
#ifndef DUALSCD_BACKENDS_CCID_USB_H
#define DUALSCD_BACKENDS_CCID_USB_H

#include <libusb.h>

#include "ccid-int.h"
#include "reader.h"

/* Where a CCID interface's endpoints are. */
struct ccid_usb_ep
{
  uint8_t ifc; /* bInterfaceNumber */
  uint8_t bulk_out, bulk_in;
  uint8_t intr_in; /* 0: the reader has no interrupt endpoint */
  uint16_t intr_size;
};

struct ccid_usb
{
  libusb_device_handle *h;
  struct ccid_usb_ep ep;
  int claimed;
  int gone; /* the device vanished: every call fails at once */
};

/* Opens DEV and claims the interface.  GPG_ERR_EBUSY when another program
 * holds it, GPG_ERR_ENODEV when the device is gone. */
gpg_error_t ccid_usb_open(libusb_device *dev, const struct ccid_usb_ep *ep,
                          struct ccid_usb *u);

/* Releases the interface and closes the device (U may be half open). */
void ccid_usb_close(struct ccid_usb *u);

/* Fills IO with U's transport functions. */
void ccid_usb_io(struct ccid_usb *u, struct ccid_io *io);

/* A monotonic clock in milliseconds. */
uint64_t ccid_usb_now_ms(void);

/* One CCID interface found on the bus (ccid-enum.c). */
struct ccid_cand
{
  libusb_device *dev; /* referenced while the candidate list lives */
  uint16_t vid, pid;
  uint8_t busnum, devnum;
  struct ccid_usb_ep ep;
  struct ccid_desc desc;
  char serial[64]; /* iSerialNumber, "" when none or unreadable */
  char product[128];
  char base[READER_NAME_MAX]; /* "VVVV:PPPP:SERIAL:I" */
};

/* Lists the CCID interfaces of CTX into CANDS (room for MAX); *N gets the
 * count.  Free with ccid_enum_free. */
gpg_error_t ccid_enum(libusb_context *ctx, struct ccid_cand *cands, size_t max,
                      size_t *n);
void ccid_enum_free(struct ccid_cand *cands, size_t n);

/* Writes the reader name of SLOT of C into BUF. */
void ccid_reader_name(const struct ccid_cand *c, unsigned int slot, char *buf,
                      size_t size);

/* Parses NAME into the candidate index and slot among CANDS; -1 if none. */
int ccid_name_find(const struct ccid_cand *cands, size_t n, const char *name,
                   unsigned int *slot);

#endif /* DUALSCD_BACKENDS_CCID_USB_H */
