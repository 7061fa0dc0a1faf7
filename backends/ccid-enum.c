/* ccid-enum.c - finding CCID interfaces on the USB and naming their slots
 *
 * Accepted: interfaces of class 0x0B (subclass 0, protocol 0), and the two
 * pre-standard vendor-class (0xFF) readers GnuPG's driver accepts, the SCM
 * SPR 532 and the Cherry ST-2000, when their extra bytes carry a CCID
 * class descriptor.  The descriptor may also sit behind the last endpoint
 * (O2Micro OZ776, Reiner SCT), where GnuPG and libccid look too.
 */
#include <stdio.h>
#include <string.h>

#include "ccid-usb.h"
#include "log.h"

#define CLASS_CCID 0x0B
#define CLASS_VENDOR 0xFF

/* Vendor-class readers that speak CCID (GnuPG scd/ccid-driver.c). */
static const struct
{
  uint16_t vid, pid;
} vendor_class_readers[] = {
  { 0x04E6, 0xE003 }, /* SCM SPR 532 (and SPR 332), older firmware */
  { 0x046A, 0x003E }, /* Cherry SmartTerminal ST-2000 */
};

static int
accepted(const struct libusb_device_descriptor *dd,
         const struct libusb_interface_descriptor *id)
{
  size_t i;

  if (id->bInterfaceClass == CLASS_CCID)
    return id->bInterfaceSubClass == 0 && id->bInterfaceProtocol == 0;
  if (id->bInterfaceClass != CLASS_VENDOR)
    return 0;
  for (i = 0; i < sizeof vendor_class_readers / sizeof vendor_class_readers[0]; i++)
    if (dd->idVendor == vendor_class_readers[i].vid
        && dd->idProduct == vendor_class_readers[i].pid)
      return 1;
  return 0;
}

/* The class descriptor of ID, parsed into C->desc. */
static int
find_desc(const struct libusb_interface_descriptor *id, struct ccid_cand *c)
{
  const uint8_t *d = NULL;
  size_t dlen = 0;
  const struct libusb_endpoint_descriptor *last;
  gpg_error_t err = gpg_error(GPG_ERR_NOT_FOUND);

  if (id->extra && id->extra_length > 0)
    err = ccid_desc_find(id->extra, (size_t)id->extra_length, &d, &dlen);
  if (err && id->bNumEndpoints)
    {
      last = &id->endpoint[id->bNumEndpoints - 1];
      if (last->extra && last->extra_length > 0)
        err = ccid_desc_find(last->extra, (size_t)last->extra_length, &d, &dlen);
    }
  if (!err)
    err = ccid_desc_parse(d, dlen, &c->desc);
  if (err)
    log_msg(LOG_DEBUG, LOG_CAT_USB,
            "%04x:%04x interface %u: no usable CCID descriptor: %s", c->vid, c->pid,
            id->bInterfaceNumber, gpg_strerror(err));
  return !err;
}

static int
find_endpoints(const struct libusb_interface_descriptor *id, struct ccid_usb_ep *ep)
{
  uint8_t i, type, in;

  memset(ep, 0, sizeof *ep);
  ep->ifc = id->bInterfaceNumber;
  for (i = 0; i < id->bNumEndpoints; i++)
    {
      const struct libusb_endpoint_descriptor *e = &id->endpoint[i];

      type = e->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK;
      in = (e->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN;
      if (type == LIBUSB_TRANSFER_TYPE_BULK && in && !ep->bulk_in)
        ep->bulk_in = e->bEndpointAddress;
      else if (type == LIBUSB_TRANSFER_TYPE_BULK && !in && !ep->bulk_out)
        ep->bulk_out = e->bEndpointAddress;
      else if (type == LIBUSB_TRANSFER_TYPE_INTERRUPT && in && !ep->intr_in)
        {
          ep->intr_in = e->bEndpointAddress;
          ep->intr_size = e->wMaxPacketSize;
        }
    }
  return ep->bulk_in && ep->bulk_out;
}

/* GnuPG's escaping of the serial number in reader ids: ':' and '%' and
 * anything not printable become %XX, so the id stays one field. */
static void
escape_serial(const char *in, char *out, size_t size)
{
  size_t o = 0;
  const unsigned char *p;

  for (p = (const unsigned char *)in; *p && o + 4 <= size; p++)
    {
      if (*p <= ' ' || *p >= 0x7F || *p == ':' || *p == '%')
        o += (size_t)snprintf(out + o, size - o, "%%%02X", *p);
      else
        out[o++] = (char)*p;
    }
  out[o] = 0;
}

static void
read_strings(libusb_device *dev, const struct libusb_device_descriptor *dd,
             struct ccid_cand *c)
{
  libusb_device_handle *h;
  unsigned char buf[128];
  int rc;

  c->serial[0] = c->product[0] = 0;
  if (libusb_open(dev, &h))
    return;
  rc = dd->iSerialNumber
           ? libusb_get_string_descriptor_ascii(h, dd->iSerialNumber, buf, sizeof buf)
           : 0;
  if (rc > 0)
    snprintf(c->serial, sizeof c->serial, "%.*s", rc, (const char *)buf);
  rc = dd->iProduct ? libusb_get_string_descriptor_ascii(h, dd->iProduct, buf, sizeof buf)
                    : 0;
  if (rc > 0)
    snprintf(c->product, sizeof c->product, "%.*s", rc, (const char *)buf);
  libusb_close(h);
}

static void
name_base(struct ccid_cand *c)
{
  char esc[3 * sizeof c->serial + 1];

  escape_serial(c->serial, esc, sizeof esc);
  snprintf(c->base, sizeof c->base, "%04X:%04X:%s:%u", c->vid, c->pid, *esc ? esc : "X",
           c->ep.ifc);
}

/* Adds DEV's CCID interfaces to CANDS. */
static void
scan_device(libusb_device *dev, struct ccid_cand *cands, size_t max, size_t *n)
{
  struct libusb_device_descriptor dd;
  struct libusb_config_descriptor *cfg = NULL;
  uint8_t i;
  int strings = 0;

  if (libusb_get_device_descriptor(dev, &dd)
      || (libusb_get_active_config_descriptor(dev, &cfg)
          && libusb_get_config_descriptor(dev, 0, &cfg)))
    return;
  for (i = 0; i < cfg->bNumInterfaces && *n < max; i++)
    {
      const struct libusb_interface_descriptor *id;
      struct ccid_cand *c = &cands[*n];

      if (cfg->interface[i].num_altsetting < 1)
        continue;
      id = &cfg->interface[i].altsetting[0];
      memset(c, 0, sizeof *c);
      c->vid = dd.idVendor;
      c->pid = dd.idProduct;
      if (!accepted(&dd, id) || !find_desc(id, c) || !find_endpoints(id, &c->ep))
        continue;
      if (!strings)
        read_strings(dev, &dd, c);
      else
        {
          memcpy(c->serial, cands[*n - 1].serial, sizeof c->serial);
          memcpy(c->product, cands[*n - 1].product, sizeof c->product);
        }
      strings = 1;
      c->busnum = libusb_get_bus_number(dev);
      c->devnum = libusb_get_device_address(dev);
      c->dev = libusb_ref_device(dev);
      name_base(c);
      (*n)++;
    }
  libusb_free_config_descriptor(cfg);
}

gpg_error_t
ccid_enum(libusb_context *ctx, struct ccid_cand *cands, size_t max, size_t *n)
{
  libusb_device **list;
  ssize_t cnt, i;

  *n = 0;
  cnt = libusb_get_device_list(ctx, &list);
  if (cnt < 0)
    return ccid_usb_error((int)cnt);
  for (i = 0; i < cnt && *n < max; i++)
    scan_device(list[i], cands, max, n);
  libusb_free_device_list(list, 1);
  return 0;
}

void
ccid_enum_free(struct ccid_cand *cands, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (cands[i].dev)
      libusb_unref_device(cands[i].dev);
}

void
ccid_reader_name(const struct ccid_cand *c, unsigned int slot, char *buf, size_t size)
{
  if (slot)
    snprintf(buf, size, "%s:%u", c->base, slot);
  else
    snprintf(buf, size, "%s", c->base);
}

int
ccid_name_find(const struct ccid_cand *cands, size_t n, const char *name,
               unsigned int *slot)
{
  char buf[READER_NAME_MAX + 8];
  unsigned int s;
  size_t i;

  for (i = 0; i < n; i++)
    for (s = 0; s < cands[i].desc.nslots; s++)
      {
        ccid_reader_name(&cands[i], s, buf, sizeof buf);
        if (!strcmp(buf, name))
          {
            *slot = s;
            return (int)i;
          }
      }
  return -1;
}
