/* usb-owner.h - who holds a USB device: a kernel driver or which processes
 *
 * When claiming a USB interface fails with LIBUSB_ERROR_BUSY, somebody else
 * has it: a kernel driver bound to the interface (sysfs names it), or a
 * process that opened the device node through usbfs.  usb_owner_find looks
 * for both.  Processes are found by identity, not by name: every
 * /proc/PID/fd/N whose stat() gives the (st_dev, st_ino) of the device node
 * /dev/bus/usb/BBB/DDD is a holder.  A readlink would not do, because the
 * same node can be reached under several names (bind mounts, umockdev's
 * testbed, containers).
 *
 * No global state: the roots of /proc, /sys and /dev are parameters, so
 * tests run the real code on fake trees.  Processes that exit during the
 * scan are skipped; processes whose fd directory this user may not read are
 * counted, so that the caller can say "run as root to name it".  Every
 * loop and string is bounded.
 */
#ifndef DUALSCD_BACKENDS_USB_OWNER_H
#define DUALSCD_BACKENDS_USB_OWNER_H

#include <stddef.h>
#include <sys/types.h>

#include <gpg-error.h>

/* Room for strings of struct usb_owner, terminating NUL included. */
#define USB_OWNER_NAME_SIZE 64
#define USB_OWNER_CMDLINE_SIZE 256

/* Default bounds of a scan (struct usb_owner_query, 0 = these). */
#define USB_OWNER_MAX_PIDS 100000
#define USB_OWNER_MAX_FDS 16384

/* What a holder is, decided by table from its program name and the
 * libraries mapped into it. */
enum usb_owner_kind
{
  USB_OWNER_KERNEL,      /* a kernel driver bound to the interface */
  USB_OWNER_PCSCD,       /* pcsc-lite's daemon */
  USB_OWNER_SCDAEMON,    /* GnuPG's scdaemon (its internal CCID driver) */
  USB_OWNER_DUALSCD,     /* another dualscd */
  USB_OWNER_PKCS11_SCD,  /* gnupg-pkcs11-scd */
  USB_OWNER_GPG_AGENT,   /* gpg-agent */
  USB_OWNER_PCSC_CLIENT, /* some program linked with libpcsclite */
  USB_OWNER_OTHER,       /* any other process */
};

/* One holder. */
struct usb_owner
{
  enum usb_owner_kind kind;
  pid_t pid; /* 0 for a kernel driver */
  uid_t uid; /* valid if HAS_UID */
  int has_uid;
  char name[USB_OWNER_NAME_SIZE];       /* /proc/PID/comm, or the driver name */
  char module[USB_OWNER_NAME_SIZE];     /* kernel: the driver's module, or "" */
  char user[USB_OWNER_NAME_SIZE];       /* user name, or the uid in decimal */
  char cmdline[USB_OWNER_CMDLINE_SIZE]; /* NULs as spaces, cut with "..." */
  int with_libccid;                     /* libccid is mapped (pcscd's driver) */
  int with_pcsclite;                    /* libpcsclite is mapped */
};

/* What to look for and where. */
struct usb_owner_query
{
  const char *proc_root; /* NULL: "/proc" */
  const char *sys_root;  /* NULL: "/sys" */
  const char *dev_root;  /* NULL: "/dev" */
  unsigned int busnum;   /* the device: /dev/bus/usb/BUSNUM/DEVNUM */
  unsigned int devnum;
  int interface;        /* bInterfaceNumber for the driver check; -1: skip */
  const char *sysname;  /* "1-1.2" if known; NULL: found from busnum/devnum */
  pid_t self;           /* excluded; 0: getpid() */
  const pid_t *exclude; /* further pids not to report (an emulator) */
  size_t n_exclude;
  unsigned int max_pids; /* 0: USB_OWNER_MAX_PIDS */
  unsigned int max_fds;  /* per process; 0: USB_OWNER_MAX_FDS */
};

/* What a scan saw, for the caller's explanation. */
struct usb_owner_scan_stats
{
  unsigned int pids;      /* process directories looked at */
  unsigned int fds;       /* fd entries compared */
  unsigned int vanished;  /* processes that exited during the scan */
  unsigned int denied;    /* processes whose fds this user may not read */
  unsigned int truncated; /* processes or fds left out by the bounds */
  unsigned int found;     /* holders found, even beyond MAX */
};

/* Sets Q to look for BUSNUM/DEVNUM and interface INTERFACE on the real
 * system, excluding only the calling process. */
void usb_owner_query_init(struct usb_owner_query *q, unsigned int busnum,
                          unsigned int devnum, int interface);

/* Finds the holders of the device Q names: first a kernel driver bound to
 * Q->interface (not "usbfs", which stands for a user-space claim), then
 * every process with the device node open, in /proc order.  Stores at most
 * MAX of them in OWNERS and their number in *N; STATS (may be NULL) gets
 * what the scan saw.  Errors: GPG_ERR_ENOENT when the device node does
 * not exist, GPG_ERR_EACCES when /proc cannot be listed, other errno
 * values of opendir.  Finding nobody is not an error (*N = 0). */
gpg_error_t usb_owner_find(const struct usb_owner_query *q, struct usb_owner *owners,
                           size_t max, size_t *n, struct usb_owner_scan_stats *stats);

/* Fills O with what PROC_ROOT (NULL: "/proc") tells about process PID:
 * comm, cmdline, uid, user and kind.  Errors: GPG_ERR_ENOENT when the
 * process is gone. */
gpg_error_t usb_owner_probe_pid(const char *proc_root, pid_t pid, struct usb_owner *o);

/* Returns the kind a program name COMM (/proc/PID/comm) stands for:
 * USB_OWNER_PCSCD, _SCDAEMON, _DUALSCD, _PKCS11_SCD, _GPG_AGENT, or
 * USB_OWNER_OTHER for any other name. */
enum usb_owner_kind usb_owner_classify_comm(const char *comm);

/* Returns a fixed word for KIND: "kernel driver", "pcscd", "GnuPG's
 * scdaemon", "dualscd", "gnupg-pkcs11-scd", "gpg-agent", "PC/SC client" or
 * "program". */
const char *usb_owner_kind_name(enum usb_owner_kind kind);

/* Returns 1 for the kinds that drive card readers themselves (scdaemon,
 * dualscd, gnupg-pkcs11-scd), else 0. */
int usb_owner_is_card_daemon(enum usb_owner_kind kind);

/* Writes "VID:PID (PRODUCT)", or "VID:PID" when PRODUCT is NULL or empty,
 * into BUF of SIZE bytes (truncated, always terminated). */
void usb_owner_reader_label(char *buf, size_t size, unsigned int vid, unsigned int pid,
                            const char *product);

/* Writes one sentence without final period into BUF of SIZE bytes, e.g.
 * "reader 1050:0407 (YubiKey) is held by scdaemon pid 4711 (user alice)",
 * "... by pcscd pid 812 (user root, with libccid)", "... by the kernel
 * driver pn533", several holders joined by "and", or when N is 0 "... is
 * held by a process of another user; run dualscd-check as root to name it"
 * if STATS counted denied processes, else "... is not held by any
 * process".  LABEL is usb_owner_reader_label's output.  STATS may be
 * NULL. */
void usb_owner_describe(char *buf, size_t size, const char *label,
                        const struct usb_owner *owners, size_t n,
                        const struct usb_owner_scan_stats *stats);

/* The one call for a claim that failed with LIBUSB_ERROR_BUSY: runs
 * usb_owner_find for Q and writes usb_owner_describe's sentence for LABEL
 * into BUF of SIZE bytes (on a scan error: "reader LABEL is held by
 * another program (its holder could not be found: REASON)").  *R_FIRST,
 * if not NULL, gets the first holder (a kernel driver comes first), or is
 * zeroed (pid 0, kind USB_OWNER_OTHER) when none was found.  Returns the
 * number of holders found. */
size_t usb_owner_explain(const struct usb_owner_query *q, const char *label, char *buf,
                         size_t size, struct usb_owner *r_first);

#endif /* DUALSCD_BACKENDS_USB_OWNER_H */
