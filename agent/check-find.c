/* check-find.c - dualscd-check: from what was collected to findings
 *
 * One table row per kind of conflict: an id (stable, for scripts and the
 * man page), a severity, whether --fix can apply its fix, and a function
 * that looks at one reader (or at the whole picture) and, when the
 * conflict is there, writes the message and a fix the user can paste.
 */
#include <stdio.h>
#include <string.h>

#include "check-diag.h"

#define DISABLE_CCID_FIX "echo disable-ccid >> %s && gpgconf --kill scdaemon"

/* A rule looks at reader R (NULL for the global rules) and fills F. */
typedef int (*rule_fn)(const struct diag *d, const struct diag_usb_reader *r,
                       struct diag_finding *f);

static void
disable_ccid_fix(const struct diag *d, struct diag_finding *f)
{
  char quoted[DIAG_PATH_SIZE + 16];

  diag_shell_quote(quoted, sizeof quoted, d->config.scdaemon_conf);
  diag_fmt(f->fix, sizeof f->fix, DISABLE_CCID_FIX, quoted);
}

static const struct usb_owner *
holder_of_kind(const struct diag_usb_reader *r, int (*match)(enum usb_owner_kind))
{
  size_t i;

  for (i = 0; i < r->n_holders; i++)
    if (match(r->holders[i].kind))
      return &r->holders[i];
  return NULL;
}

static int
is_pcscd(enum usb_owner_kind kind)
{
  return kind == USB_OWNER_PCSCD;
}

static int
is_kernel(enum usb_owner_kind kind)
{
  return kind == USB_OWNER_KERNEL;
}

/* pcscd holds the reader, but the card daemon is set up to use its own
 * CCID driver: GnuPG's scdaemon then fails with "No such device". */
static int
pcscd_holds(const struct diag *d, const struct diag_usb_reader *r, struct diag_finding *f)
{
  const struct usb_owner *o = holder_of_kind(r, is_pcscd);
  int dualscd = strstr(d->config.scdaemon_program, "dualscd") != NULL;

  if (!o || d->config.disable_ccid)
    return 0;
  /* dualscd falls back to pcscd's reader by itself: a warning only. */
  if (dualscd)
    f->severity = DIAG_WARNING;
  diag_fmt(f->message, sizeof f->message,
           "pcscd (pid %ld) holds reader %s, but %s does not set disable-ccid: the "
           "card daemon tries its own CCID driver first and cannot claim the reader "
           "%s",
           (long)o->pid, r->label, d->config.scdaemon_conf,
           dualscd ? "(dualscd then falls back to PC/SC and logs this conflict)"
                   : "(GnuPG's scdaemon then reports \"No such device\")");
  disable_ccid_fix(d, f);
  return 1;
}

/* A card daemon holds the reader with its own CCID driver while pcscd
 * runs: pcscd logs LIBUSB_ERROR_BUSY and PC/SC programs lose the card.
 * Only dualscd honours card-timeout (GnuPG's scdaemon ignores it). */
static int
daemon_holds(const struct diag *d, const struct diag_usb_reader *r,
             struct diag_finding *f)
{
  const struct usb_owner *o = holder_of_kind(r, usb_owner_is_card_daemon);

  if (!o || !d->pcsc.pid)
    return 0;
  diag_fmt(
      f->message, sizeof f->message,
      "%s (pid %ld, user %s) holds reader %s with its own CCID driver, so pcscd "
      "(pid %ld) cannot claim it (\"Can't claim interface: LIBUSB_ERROR_BUSY\") and "
      "PC/SC programs do not see the card; let pcscd drive the reader "
      "(disable-ccid, the fix below)%s%s%s",
      usb_owner_kind_name(o->kind), (long)o->pid, o->user, r->label, (long)d->pcsc.pid,
      o->kind == USB_OWNER_DUALSCD ? ", or add \"card-timeout 5\" to " : "",
      o->kind == USB_OWNER_DUALSCD ? d->config.scdaemon_conf : "",
      o->kind == USB_OWNER_DUALSCD ? " so that dualscd lets go of it when idle" : "");
  disable_ccid_fix(d, f);
  return 1;
}

static int
kernel_holds(const struct diag *d, const struct diag_usb_reader *r,
             struct diag_finding *f)
{
  const struct usb_owner *o = holder_of_kind(r, is_kernel);
  const char *mod;

  (void)d;
  if (!o)
    return 0;
  mod = *o->module ? o->module : o->name;
  diag_fmt(f->message, sizeof f->message,
           "the kernel driver %s is bound to reader %s, so neither pcscd nor a card "
           "daemon can use it; unload the module (and blacklist it to keep it "
           "unloaded; this is a system change, review it first)",
           o->name, r->label);
  diag_fmt(f->fix, sizeof f->fix,
           "sudo modprobe -r %s && echo 'blacklist %s' | sudo tee "
           "/etc/modprobe.d/blacklist-%s.conf",
           mod, mod, mod);
  return 1;
}

/* The user cannot open the node: only matters when the card daemon is to
 * drive the reader itself. */
static int
no_permission(const struct diag *d, const struct diag_usb_reader *r,
              struct diag_finding *f)
{
  if (!r->node_exists || r->may_open || d->config.disable_ccid)
    return 0;
  diag_fmt(f->message, sizeof f->message,
           "this user may not open %s (reader %s), so the card daemon's CCID driver "
           "cannot use it%s; a udev rule can give the logged-in user access",
           r->node, r->label,
           r->n_rules ? "" : " and no udev rule names its vendor and product");
  diag_fmt(f->fix, sizeof f->fix,
           "echo 'SUBSYSTEM==\"usb\", ATTR{idVendor}==\"%04x\", "
           "ATTR{idProduct}==\"%04x\", TAG+=\"uaccess\"' | sudo tee "
           "/etc/udev/rules.d/70-dualscd-%04x-%04x.rules && sudo udevadm control "
           "--reload && sudo udevadm trigger",
           r->vid, r->pid, r->vid, r->pid);
  return 1;
}

static int
several_holders(const struct diag *d, const struct diag_usb_reader *r,
                struct diag_finding *f)
{
  size_t i, n = 0;
  const char *sep = "";

  (void)d;
  for (i = 0; i < r->n_holders; i++)
    n += r->holders[i].kind != USB_OWNER_KERNEL;
  if (n < 2)
    return 0;
  diag_fmt(f->message, sizeof f->message, "%zu programs have reader %s open at once: ", n,
           r->label);
  for (i = 0; i < r->n_holders; i++)
    if (r->holders[i].kind != USB_OWNER_KERNEL)
      {
        diag_append(f->message, sizeof f->message, "%s%s pid %ld", sep,
                    r->holders[i].name, (long)r->holders[i].pid);
        sep = ", ";
      }
  diag_append(f->message, sizeof f->message, "; only one can claim it, the others fail");
  diag_fmt(f->fix, sizeof f->fix, "gpgconf --kill scdaemon");
  return 1;
}

/* disable-ccid leaves PC/SC as the only way, and PC/SC is not there. */
static int
pcscd_missing(const struct diag *d, const struct diag_usb_reader *r,
              struct diag_finding *f)
{
  (void)r;
  if (!d->config.disable_ccid || d->pcsc.reachable)
    return 0;
  diag_fmt(f->message, sizeof f->message,
           "%s sets disable-ccid, so the card daemon uses only PC/SC, but pcscd is "
           "%s (%s)",
           d->config.scdaemon_conf, d->pcsc.pid ? "not reachable" : "not running",
           d->pcsc.error);
  diag_fmt(f->fix, sizeof f->fix, "sudo systemctl start pcscd.socket");
  return 1;
}

static const struct
{
  const char *id;
  enum diag_severity severity;
  int per_reader;
  int fixable;
  rule_fn fn;
} rules[] = {
  { "pcscd-holds-reader", DIAG_ERROR, 1, 1, pcscd_holds },
  { "card-daemon-holds-reader", DIAG_ERROR, 1, 1, daemon_holds },
  { "kernel-driver", DIAG_ERROR, 1, 0, kernel_holds },
  { "no-permission", DIAG_ERROR, 1, 0, no_permission },
  { "several-holders", DIAG_WARNING, 1, 0, several_holders },
  { "pcscd-not-running", DIAG_ERROR, 0, 0, pcscd_missing },
};

#define N_RULES (sizeof rules / sizeof rules[0])

static void
apply(struct diag *d, size_t k, const struct diag_usb_reader *r)
{
  struct diag_finding *f;

  if (d->n_findings >= DIAG_MAX_FINDINGS)
    return;
  f = &d->findings[d->n_findings];
  memset(f, 0, sizeof *f);
  f->severity = rules[k].severity; /* a rule may lower it */
  if (!rules[k].fn(d, r, f))
    return;
  f->id = rules[k].id;
  f->fixable = rules[k].fixable;
  d->n_findings++;
}

void
diag_judge(struct diag *d)
{
  size_t k, i;

  d->n_findings = 0;
  for (k = 0; k < N_RULES; k++)
    if (!rules[k].per_reader)
      apply(d, k, NULL);
    else
      for (i = 0; i < d->n_readers; i++)
        apply(d, k, &d->readers[i]);
}
