/* check-usb.c - dualscd-check: USB CCID readers, their holders, access and
 * udev rules
 *
 * libusb lists the devices and reads their descriptors from sysfs; nothing
 * is opened or claimed, so the check never disturbs a reader in use.
 * Product and serial come from sysfs for the same reason (the string
 * descriptors would need an open).
 */
#define _DEFAULT_SOURCE /* scandir, realpath */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libusb.h>

#include "ccid-desc.h"
#include "check-diag.h"

/* Rule files bigger than this are not udev rules we need to read. */
#define MAX_RULE_FILE (1024 * 1024)
#define MAX_RULE_FILES 1000

/* Where udev reads rules from, highest priority first. */
static const char *const rule_dirs[] = {
  "/etc/udev/rules.d",
  "/run/udev/rules.d",
  "/lib/udev/rules.d",
  "/usr/lib/udev/rules.d",
};

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

/* The CCID interface of CONFIG: class 0x0B, or a vendor class carrying a
 * CCID class descriptor (pre-standard readers).  Returns its
 * bInterfaceNumber and the descriptor summary, or -1. */
static int
ccid_interface(const struct libusb_config_descriptor *config, char *summary, size_t size)
{
  const struct libusb_interface_descriptor *alt;
  const uint8_t *raw;
  struct ccid_desc desc;
  size_t rawlen, outlen;
  uint8_t n;

  for (n = 0; n < config->bNumInterfaces; n++)
    {
      if (config->interface[n].num_altsetting < 1)
        continue;
      alt = &config->interface[n].altsetting[0];
      if (alt->bInterfaceClass != LIBUSB_CLASS_SMART_CARD
          && alt->bInterfaceClass != LIBUSB_CLASS_VENDOR_SPEC)
        continue;
      if (alt->extra_length < 0
          || ccid_desc_find(alt->extra, (size_t)alt->extra_length, &raw, &rawlen))
        {
          if (alt->bInterfaceClass != LIBUSB_CLASS_SMART_CARD)
            continue;
          diag_fmt(summary, size, "no CCID class descriptor");
          return alt->bInterfaceNumber;
        }
      if (ccid_desc_parse(raw, rawlen, &desc) && !desc.bDescriptorType)
        diag_fmt(summary, size, "malformed CCID class descriptor");
      else
        ccid_desc_summary(&desc, CCID_DESC_SUMMARY_ONELINE, summary, size, &outlen);
      return alt->bInterfaceNumber;
    }
  return -1;
}

/* Reads sysfs attribute NAME of the device into OUT ("" if absent). */
static void
sysfs_attr(const char *sysname, const char *name, char *out, size_t size)
{
  char path[DIAG_PATH_SIZE];
  FILE *fp;

  out[0] = 0;
  diag_fmt(path, sizeof path, "/sys/bus/usb/devices/%s/%s", sysname, name);
  fp = fopen(path, "r");
  if (!fp)
    return;
  if (!fgets(out, (int)size, fp))
    out[0] = 0;
  out[strcspn(out, "\r\n")] = 0;
  fclose(fp);
}

static void
make_sysname(libusb_device *dev, char *out, size_t size)
{
  uint8_t ports[8];
  int n, i, len;
  size_t pos;

  len = snprintf(out, size, "%u-", (unsigned int)libusb_get_bus_number(dev));
  pos = len > 0 ? (size_t)len : 0;
  n = libusb_get_port_numbers(dev, ports, (int)sizeof ports);
  for (i = 0; i < n && pos < size; i++)
    {
      len = snprintf(out + pos, size - pos, i ? ".%u" : "%u", (unsigned int)ports[i]);
      pos += len > 0 ? (size_t)len : 0;
    }
}

/* Does LINE (lower case) name VID and PID as idVendor / idProduct? */
static int
line_names(const char *line, const char *vid, const char *pid)
{
  const char *v = strstr(line, "idvendor"), *p = strstr(line, "idproduct");

  return v && p && strstr(v, vid) && strstr(p, pid);
}

/* Appends "PATH:LINE" of every line of PATH naming the reader. */
static void
grep_rule_file(struct diag_usb_reader *r, const char *path, const char *vid,
               const char *pid)
{
  char line[1024];
  unsigned int lineno = 0;
  struct stat st;
  FILE *fp;
  char *c;

  if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_RULE_FILE)
    return;
  fp = fopen(path, "r");
  if (!fp)
    return;
  while (r->n_rules < DIAG_MAX_RULES && fgets(line, sizeof line, fp))
    {
      lineno++;
      for (c = line; *c; c++)
        *c = (char)tolower((unsigned char)*c);
      if (line[strspn(line, " \t")] != '#' && line_names(line, vid, pid))
        diag_fmt(r->rules[r->n_rules++], sizeof r->rules[0], "%s:%u", path, lineno);
    }
  fclose(fp);
}

/* Has an earlier entry of rule_dirs the same real path as entry I (with a
 * merged /usr, /lib is /usr/lib)? */
static int
same_dir_seen(size_t i)
{
  char a[PATH_MAX], b[PATH_MAX];
  size_t k;

  if (!realpath(rule_dirs[i], a))
    return 1;
  for (k = 0; k < i; k++)
    if (realpath(rule_dirs[k], b) && !strcmp(a, b))
      return 1;
  return 0;
}

static void
find_rules(struct diag_usb_reader *r)
{
  char vid[8], pid[8], path[DIAG_PATH_SIZE];
  struct dirent **names;
  size_t i;
  int n, k;

  diag_fmt(vid, sizeof vid, "%04x", r->vid);
  diag_fmt(pid, sizeof pid, "%04x", r->pid);
  for (i = 0; i < DIM(rule_dirs); i++)
    {
      if (same_dir_seen(i))
        continue;
      n = scandir(rule_dirs[i], &names, NULL, alphasort);
      for (k = 0; k < n; k++)
        {
          if (k < MAX_RULE_FILES && strstr(names[k]->d_name, ".rules"))
            {
              diag_fmt(path, sizeof path, "%s/%s", rule_dirs[i], names[k]->d_name);
              grep_rule_file(r, path, vid, pid);
            }
          free(names[k]);
        }
      if (n >= 0)
        free(names);
    }
}

/* "nobody" explained for the check, where no claim failed: the scan
 * cannot see other users' processes, so it says so instead of guessing. */
static void
describe_holders(struct diag_usb_reader *r)
{
  if (r->n_holders || !r->stats.denied)
    usb_owner_describe(r->holder_text, sizeof r->holder_text, r->label, r->holders,
                       r->n_holders, &r->stats);
  else
    diag_fmt(r->holder_text, sizeof r->holder_text,
             "reader %s is not held by any process of this user; %u processes of "
             "other users could not be inspected (run dualscd-check as root to see "
             "them)",
             r->label, r->stats.denied);
}

static void
find_holders(struct diag *d, struct diag_usb_reader *r)
{
  struct usb_owner_query q;
  gpg_error_t err;

  usb_owner_query_init(&q, r->bus, r->dev, r->interface);
  q.sysname = r->sysname;
  q.exclude = d->ignored;
  q.n_exclude = d->n_ignored;
  err = usb_owner_find(&q, r->holders, DIAG_MAX_HOLDERS, &r->n_holders, &r->stats);
  if (err && gpg_err_code(err) != GPG_ERR_ENOENT)
    diag_fmt(r->holder_text, sizeof r->holder_text, "reader %s: holders unknown: %s",
             r->label, gpg_strerror(err));
  else
    describe_holders(r);
}

/* Fills R from DEV if DEV has a CCID interface; returns 1 then. */
static int
probe_device(struct diag *d, libusb_device *dev, struct diag_usb_reader *r)
{
  struct libusb_device_descriptor dd;
  struct libusb_config_descriptor *config;

  memset(r, 0, sizeof *r);
  if (libusb_get_device_descriptor(dev, &dd)
      || libusb_get_active_config_descriptor(dev, &config))
    return 0;
  r->interface = ccid_interface(config, r->ccid, sizeof r->ccid);
  libusb_free_config_descriptor(config);
  if (r->interface < 0)
    return 0;
  r->vid = dd.idVendor;
  r->pid = dd.idProduct;
  r->bus = libusb_get_bus_number(dev);
  r->dev = libusb_get_device_address(dev);
  make_sysname(dev, r->sysname, sizeof r->sysname);
  sysfs_attr(r->sysname, "product", r->product, sizeof r->product);
  sysfs_attr(r->sysname, "serial", r->serial, sizeof r->serial);
  usb_owner_reader_label(r->label, sizeof r->label, r->vid, r->pid, r->product);
  diag_fmt(r->node, sizeof r->node, "/dev/bus/usb/%03u/%03u", r->bus, r->dev);
  r->node_exists = !access(r->node, F_OK);
  r->may_open = r->node_exists && !access(r->node, R_OK | W_OK);
  find_rules(r);
  find_holders(d, r);
  return 1;
}

gpg_error_t
diag_collect_usb(struct diag *d)
{
  libusb_context *ctx = NULL;
  libusb_device **list = NULL;
  ssize_t n, i;
  int rc;

  rc = libusb_init(&ctx);
  if (rc)
    {
      diag_fmt(d->usb_error, sizeof d->usb_error, "libusb: %s", libusb_strerror(rc));
      return 0;
    }
  n = libusb_get_device_list(ctx, &list);
  if (n < 0)
    diag_fmt(d->usb_error, sizeof d->usb_error, "libusb: %s", libusb_strerror((int)n));
  else
    d->usb_available = 1;
  for (i = 0; i < n && d->n_readers < DIAG_MAX_READERS; i++)
    if (probe_device(d, list[i], &d->readers[d->n_readers]))
      d->n_readers++;
  if (n >= 0)
    libusb_free_device_list(list, 1);
  libusb_exit(ctx);
  return 0;
}
