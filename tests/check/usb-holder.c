/* usb-holder.c - a plain libusb program that claims a reader and keeps it
 *
 * Usage: usb-holder VID:PID [INTERFACE]
 *
 * The "another libusb program holds the reader" of the conflict tests:
 * opens the first device with VID:PID, claims INTERFACE (default 0),
 * prints "HOLDING" and blocks reading stdin until EOF or a signal.  Prints
 * "FAILED <libusb error name>" and exits 1 when it cannot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libusb.h>

static int
parse(int argc, char **argv, unsigned int *vid, unsigned int *pid, int *intf)
{
  char *end;

  if (argc < 2 || argc > 3 || sscanf(argv[1], "%x:%x", vid, pid) != 2)
    return -1;
  *intf = 0;
  if (argc == 3)
    {
      long value = strtol(argv[2], &end, 10);

      if (*end || value < 0 || value > 255)
        return -1;
      *intf = (int)value;
    }
  return 0;
}

int
main(int argc, char **argv)
{
  libusb_device_handle *h = NULL;
  unsigned int vid, pid;
  char buf[64];
  int intf, rc;

  if (parse(argc, argv, &vid, &pid, &intf))
    {
      fprintf(stderr, "usage: usb-holder VID:PID [INTERFACE]\n");
      return 2;
    }
  rc = libusb_init(NULL);
  if (!rc)
    {
      h = libusb_open_device_with_vid_pid(NULL, (uint16_t)vid, (uint16_t)pid);
      rc = h ? libusb_claim_interface(h, intf) : LIBUSB_ERROR_NO_DEVICE;
    }
  printf(rc ? "FAILED %s\n" : "HOLDING\n", libusb_error_name(rc));
  fflush(stdout);
  while (!rc && read(0, buf, sizeof buf) > 0)
    ;
  if (h)
    libusb_close(h);
  libusb_exit(NULL);
  return rc ? 1 : 0;
}
