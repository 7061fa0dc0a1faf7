/* check-diag.h - what the parts of "dualscd-check diagnose" share
 *
 * The diagnosis runs in three steps: collect (check-usb.c: USB CCID readers
 * and their holders; check-sys.c: pcscd, PC/SC readers, card daemons;
 * check-conf.c: scdaemon.conf and gpg-agent.conf), judge (check-find.c: one
 * finding per conflict, from a table of rules), and report (check-out.c:
 * text or JSON).  check-diag.c drives them and applies --fix.  Everything
 * lives in one struct diag with fixed-size arrays: the numbers are small
 * and bounded, and nothing collected needs freeing.
 */
#ifndef DUALSCD_AGENT_CHECK_DIAG_H
#define DUALSCD_AGENT_CHECK_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <gpg-error.h>

#include "usb-owner.h"

#define DIAG_MAX_READERS 16
#define DIAG_MAX_HOLDERS 8
#define DIAG_MAX_RULES 4
#define DIAG_MAX_PCSC_READERS 16
#define DIAG_MAX_DAEMONS 32
#define DIAG_MAX_FINDINGS 32
#define DIAG_MAX_IGNORED 8

#define DIAG_TEXT_SIZE 512
#define DIAG_PATH_SIZE 1024

/* One USB device with a CCID interface. */
struct diag_usb_reader
{
  unsigned int vid, pid;
  char product[128]; /* from sysfs; "" when the device does not say */
  char serial[128];
  unsigned int bus, dev;
  int interface;             /* bInterfaceNumber of the CCID interface */
  char sysname[32];          /* "1-1.2" */
  char label[160];           /* usb_owner_reader_label */
  char ccid[DIAG_TEXT_SIZE]; /* one-line summary of the class descriptor */
  char node[64];             /* /dev/bus/usb/BBB/DDD */
  int node_exists;
  int may_open;                               /* access(node, R_OK | W_OK) */
  char rules[DIAG_MAX_RULES][DIAG_PATH_SIZE]; /* "FILE:LINE" naming VID and PID */
  size_t n_rules;
  struct usb_owner holders[DIAG_MAX_HOLDERS];
  size_t n_holders;
  struct usb_owner_scan_stats stats;
  char holder_text[DIAG_TEXT_SIZE];
};

struct diag_pcsc_reader
{
  char name[256];
  int card_present;
  uint8_t atr[33];
  size_t atr_len;
  char atr_text[DIAG_TEXT_SIZE]; /* one line: protocols and parameters */
};

struct diag_pcsc
{
  pid_t pid;        /* pcscd's pid, 0 if none runs */
  char user[64];    /* its user */
  int with_libccid; /* libccid is loaded into it */
  char socket[DIAG_PATH_SIZE];
  int socket_exists;
  int reachable;   /* SCardEstablishContext worked */
  char error[160]; /* why not, in words */
  struct diag_pcsc_reader readers[DIAG_MAX_PCSC_READERS];
  size_t n_readers;
};

struct diag_config
{
  char homedir[DIAG_PATH_SIZE];
  char scdaemon_conf[DIAG_PATH_SIZE];
  int scdaemon_conf_exists;
  int disable_ccid;
  int pcsc_shared;
  char reader_port[256];
  int card_timeout;
  unsigned int bad_lines;
  char agent_conf[DIAG_PATH_SIZE];
  int agent_conf_exists;
  char scdaemon_program[DIAG_PATH_SIZE]; /* "" = GnuPG's own scdaemon */
};

enum diag_severity
{
  DIAG_ERROR,
  DIAG_WARNING,
};

struct diag_finding
{
  const char *id;
  enum diag_severity severity;
  int fixable; /* --fix can apply FIX (adds disable-ccid) */
  char message[2 * DIAG_TEXT_SIZE];
  char fix[2 * DIAG_TEXT_SIZE];
};

struct diag
{
  /* Input. */
  const char *homedir_arg; /* --homedir, or NULL */
  pid_t ignored[DIAG_MAX_IGNORED];
  size_t n_ignored;

  /* Collected. */
  int usb_available;
  char usb_error[160];
  struct diag_usb_reader readers[DIAG_MAX_READERS];
  size_t n_readers;
  struct diag_pcsc pcsc;
  struct usb_owner daemons[DIAG_MAX_DAEMONS];
  size_t n_daemons;
  struct diag_config config;

  /* Judged. */
  struct diag_finding findings[DIAG_MAX_FINDINGS];
  size_t n_findings;
  long elapsed_ms; /* how long collecting took */
};

/* check-usb.c: lists the USB CCID readers with libusb without opening
 * them, and finds their holders.  No USB bus is not an error
 * (D->usb_available 0, D->usb_error says why). */
gpg_error_t diag_collect_usb(struct diag *d);

/* check-sys.c: pcscd, its socket and readers; card daemons of this user
 * (of every user when run as root). */
gpg_error_t diag_collect_pcsc(struct diag *d);
gpg_error_t diag_collect_daemons(struct diag *d);

/* check-conf.c: reads scdaemon.conf and gpg-agent.conf of the home
 * directory (D->homedir_arg, else GNUPGHOME, else ~/.gnupg). */
gpg_error_t diag_collect_config(struct diag *d);

/* check-conf.c: appends "disable-ccid" to the scdaemon.conf of D, keeping
 * the file as it is and saving it first as FILE.bak-YYYYMMDDHHMMSS; does
 * nothing when the file already sets it (*R_CHANGED 0).  Then runs
 * "gpgconf --homedir DIR --kill scdaemon". */
gpg_error_t diag_fix_disable_ccid(const struct diag *d, int *r_changed, FILE *log);

/* check-find.c: fills D->findings from what was collected. */
void diag_judge(struct diag *d);

/* check-out.c: the report. */
void diag_print_text(const struct diag *d, FILE *fp);
void diag_print_json(const struct diag *d, FILE *fp);

/* check-out.c: the "Findings" section of the text report alone. */
void diag_print_findings(const struct diag *d, FILE *fp);

/* check-out.c: snprintf that accepts truncation (messages are bounded on
 * purpose; a cut path shows as such, ending in "..."). */
void diag_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* check-out.c: diag_fmt at the end of the text already in BUF. */
void diag_append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* check-out.c: writes S as a single-quoted shell word into BUF. */
void diag_shell_quote(char *buf, size_t size, const char *s);

#endif /* DUALSCD_AGENT_CHECK_DIAG_H */
