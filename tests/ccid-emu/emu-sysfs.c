/* emu-sysfs.c - the reader in the testbed's sysfs: device, interface, uevents
 *
 * What libusb, libudev and pcscd read: busnum, devnum, speed, the binary
 * descriptors, idVendor/idProduct/serial/product, the uevent properties
 * (DEVTYPE, DEVNAME, PRODUCT, INTERFACE) and, on the interface, its numbers
 * and a "driver" link when a kernel driver is bound.
 */

#include "emu.h"

#include <string.h>

static int
write_descriptors(struct emu_reader *r, const char *name, const uint8_t *desc, size_t len)
{
  char *dir = g_strdup_printf("%s/sys/devices/%s", r->emu->root, name);
  char *path = g_build_filename(dir, "descriptors", NULL);
  int rc = g_mkdir_with_parents(dir, 0755)
           || !g_file_set_contents(path, (const char *)desc, (gssize)len, NULL);

  g_free(path);
  g_free(dir);
  return rc ? -1 : 0;
}

/* sysfs of the device and its interface. */
static gpointer
add_devices(struct emu_reader *r)
{
  struct emu_options *o = &r->emu->opt;
  char busnum[8], devnum[8], dev[16], vid[8], pid[8], devname[40], product[32];
  char name[64], ifname[96], busstr[8], devstr[8];
  uint8_t desc[256];
  size_t desclen = emu_desc_build(r, desc, sizeof desc);
  const char *intr_eps = o->intr ? "03" : "02";
  /* Text attributes end in a newline, as in the real sysfs (lsusb and
   * libudev strip it). */
  char *serial = g_strconcat(r->serial, "\n", NULL);
  char *prod = g_strconcat(o->product, "\n", NULL);

  g_snprintf(busnum, sizeof busnum, "%u", r->busnum);
  g_snprintf(devnum, sizeof devnum, "%u", r->devnum);
  g_snprintf(busstr, sizeof busstr, "%03u", r->busnum);
  g_snprintf(devstr, sizeof devstr, "%03u", r->devnum);
  g_snprintf(dev, sizeof dev, "189:%u", (r->busnum - 1) * 128 + r->devnum - 1);
  g_snprintf(vid, sizeof vid, "%04x", o->vid);
  g_snprintf(pid, sizeof pid, "%04x", o->pid);
  g_snprintf(devname, sizeof devname, "/dev/bus/usb/%s/%s", busstr, devstr);
  g_snprintf(product, sizeof product, "%x/%x/100", o->vid, o->pid);
  g_snprintf(name, sizeof name, "pci0000:00/0000:00:14.0/usb%u/%u-%u", r->busnum,
             r->busnum, r->index);
  /* umockdev checks a parent path in the real /sys unless preloaded: give
   * the interface its full path as its name instead. */
  g_snprintf(ifname, sizeof ifname, "%s/%u-%u:1.0", name, r->busnum, r->index);
  /* The device's "add" uevent goes out inside add_device; libusb reads the
   * descriptors at once, so they must be there before (umockdev accepts an
   * existing directory without a uevent file). */
  if (write_descriptors(r, name, desc, desclen))
    {
      g_free(serial);
      g_free(prod);
      return NULL;
    }
  g_free(r->syspath);
  r->syspath = umockdev_testbed_add_device(
      r->emu->testbed, "usb", name, NULL, "busnum", busnum, "devnum", devnum, "speed",
      "12", "idVendor", vid, "idProduct", pid, "serial", serial, "product", prod,
      "manufacturer", "dualscd\n", "bConfigurationValue", "1", "bNumConfigurations", "1",
      "bNumInterfaces", " 1", "bDeviceClass", "00", "bMaxPacketSize0", "64", "version",
      " 2.00", "dev", dev, NULL, "DEVTYPE", "usb_device", "DEVNAME", devname, "PRODUCT",
      product, "TYPE", "0/0/0", "BUSNUM", busstr, "DEVNUM", devstr, "MAJOR", "189", NULL);
  g_free(serial);
  if (!r->syspath)
    {
      g_free(prod);
      return NULL;
    }
  g_free(r->ifpath);
  r->ifpath = umockdev_testbed_add_device(
      r->emu->testbed, "usb", ifname, NULL, "bInterfaceNumber", "00", "bAlternateSetting",
      " 0", "bInterfaceClass", "0b", "bInterfaceSubClass", "00", "bInterfaceProtocol",
      "00", "bNumEndpoints", intr_eps, "interface", prod, NULL, "DEVTYPE",
      "usb_interface", "INTERFACE", "11/0/0", "PRODUCT", product, "TYPE", "0/0/0", NULL);
  g_free(prod);
  return r->ifpath;
}

/* The bound kernel driver: a "driver" link to /sys/bus/usb/drivers/NAME. */
static void
add_driver_link(struct emu_reader *r)
{
  char *dir, *target;

  if (!r->kernel_driver)
    return;
  dir = g_strdup_printf("%s/sys/bus/usb/drivers/%s", r->emu->root, r->kernel_driver);
  g_mkdir_with_parents(dir, 0755);
  target = g_strdup_printf("../../../../../../bus/usb/drivers/%s", r->kernel_driver);
  umockdev_testbed_set_attribute_link(r->emu->testbed, r->ifpath, "driver", target);
  g_free(target);
  g_free(dir);
}

int
emu_sysfs_add(struct emu_reader *r)
{
  if (!add_devices(r))
    return -1;
  add_driver_link(r);
  return 0;
}

void
emu_sysfs_remove(struct emu_reader *r)
{
  /* umockdev 0.17 neither sends the remove uevents nor removes children:
   * the interface goes first, as the kernel does it. */
  umockdev_testbed_uevent(r->emu->testbed, r->ifpath, "remove");
  umockdev_testbed_uevent(r->emu->testbed, r->syspath, "remove");
  umockdev_testbed_remove_device(r->emu->testbed, r->ifpath);
  umockdev_testbed_remove_device(r->emu->testbed, r->syspath);
}
