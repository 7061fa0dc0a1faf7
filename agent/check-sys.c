/* check-sys.c - dualscd-check: pcscd, its readers and cards, and the card
 * daemons that run
 *
 * PC/SC is asked through libpcsclite directly, with SCardGetStatusChange at
 * timeout 0 for card presence and ATR: no card is connected, so the check
 * never resets a card or takes it from another program.
 */
#define _GNU_SOURCE /* struct ucred */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <winscard.h>

#include "atr.h"
#include "check-diag.h"
#include "hex.h"

#define DEFAULT_SOCKET "/run/pcscd/pcscd.comm"

/* Bound on the /proc entries looked at, as usb-owner does. */
#define MAX_PIDS USB_OWNER_MAX_PIDS

/* Room for SCardListReaders' multi-string. */
#define READERS_SIZE 4096

/* ------------------------------------------------------------------ */
/* Processes                                                            */

static pid_t
entry_pid(const char *name)
{
  char *end;
  long value;

  if (*name < '1' || *name > '9')
    return 0;
  value = strtol(name, &end, 10);
  return *end || value > INT_MAX ? 0 : (pid_t)value;
}

/* Reads /proc/PID/comm into OUT; -1 if the process is gone. */
static int
read_comm(pid_t pid, char *out, size_t size)
{
  char path[64];
  FILE *fp;

  snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
  fp = fopen(path, "r");
  if (!fp)
    return -1;
  if (!fgets(out, (int)size, fp))
    out[0] = 0;
  fclose(fp);
  out[strcspn(out, "\n")] = 0;
  return 0;
}

static int
is_ignored(const struct diag *d, pid_t pid)
{
  size_t i;

  for (i = 0; i < d->n_ignored; i++)
    if (d->ignored[i] == pid)
      return 1;
  return pid == getpid();
}

/* Keeps O if it is pcscd (any user) or a card daemon or gpg-agent of this
 * user (of anybody for root). */
static void
keep_daemon(struct diag *d, const struct usb_owner *o)
{
  if (o->kind == USB_OWNER_PCSCD && !d->pcsc.pid)
    {
      d->pcsc.pid = o->pid;
      d->pcsc.with_libccid = o->with_libccid;
      snprintf(d->pcsc.user, sizeof d->pcsc.user, "%s", o->user);
    }
  if (o->kind != USB_OWNER_PCSCD && getuid() && (!o->has_uid || o->uid != getuid()))
    return;
  if (d->n_daemons < DIAG_MAX_DAEMONS)
    d->daemons[d->n_daemons++] = *o;
}

gpg_error_t
diag_collect_daemons(struct diag *d)
{
  char comm[USB_OWNER_NAME_SIZE];
  struct usb_owner o;
  struct dirent *de;
  unsigned int count = 0;
  DIR *dir;
  pid_t pid;

  dir = opendir("/proc");
  if (!dir)
    return gpg_error_from_syserror();
  while ((de = readdir(dir)) && count < MAX_PIDS)
    {
      pid = entry_pid(de->d_name);
      if (!pid || is_ignored(d, pid))
        continue;
      count++;
      /* Only the few known names are probed further (maps, status). */
      if (read_comm(pid, comm, sizeof comm)
          || usb_owner_classify_comm(comm) == USB_OWNER_OTHER)
        continue;
      if (!usb_owner_probe_pid(NULL, pid, &o))
        keep_daemon(d, &o);
    }
  closedir(dir);
  return 0;
}

/* ------------------------------------------------------------------ */
/* PC/SC                                                                */

/* One line about an ATR: its protocols and main parameters, or why it is
 * malformed. */
static void
describe_atr(struct diag_pcsc_reader *r)
{
  struct atr_info info;
  struct atr_error aerr;
  char protos[64] = "", ifsc[32] = "";
  size_t i, pos = 0;

  if (atr_parse(r->atr, r->atr_len, &info, &aerr))
    {
      snprintf(r->atr_text, sizeof r->atr_text, "malformed ATR: %s", aerr.reason);
      return;
    }
  for (i = 0; i < info.n_protocols && pos < sizeof protos - 8; i++)
    pos += (size_t)snprintf(protos + pos, sizeof protos - pos, "%sT=%u", i ? ", " : "",
                            (unsigned int)info.protocols[i]);
  if (atr_offers(&info, 1))
    snprintf(ifsc, sizeof ifsc, ", IFSC %u", info.t1.ifsc);
  snprintf(r->atr_text, sizeof r->atr_text,
           "%s convention, %s, Fi %u Di %u%s, %zu historical bytes",
           info.convention == ATR_CONV_DIRECT ? "direct" : "inverse", protos, info.fi,
           info.di, ifsc, info.hist_len);
}

/* Can a client connect to the socket?  (pcscd's own clients would.)  Also
 * tells which process listens there (SO_PEERCRED), so that with several
 * pcscd running (private test worlds, containers) the one this user's
 * programs reach is named.  Returns 0 or -1. */
static int
socket_peer(const char *path, pid_t *peer)
{
  struct sockaddr_un sa;
  struct ucred cred;
  socklen_t len = sizeof cred;
  int fd, rc;

  *peer = 0;
  if (strlen(path) >= sizeof sa.sun_path)
    return -1;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  rc = connect(fd, (struct sockaddr *)&sa, sizeof sa) ? -1 : 0;
  if (!rc && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
    *peer = cred.pid;
  close(fd);
  return rc;
}

/* Names the pcscd behind the socket, if it is a pcscd. */
static void
set_peer(struct diag *d, pid_t peer)
{
  struct usb_owner o;

  if (peer <= 0 || usb_owner_probe_pid(NULL, peer, &o) || o.kind != USB_OWNER_PCSCD)
    return;
  d->pcsc.pid = o.pid;
  d->pcsc.with_libccid = o.with_libccid;
  snprintf(d->pcsc.user, sizeof d->pcsc.user, "%s", o.user);
}

/* Fills the readers of D from the multi-string NAMES of LEN bytes, whose
 * length and terminators were checked by the caller. */
static void
reader_states(struct diag *d, SCARDCONTEXT ctx, const char *names, size_t len)
{
  SCARD_READERSTATE states[DIAG_MAX_PCSC_READERS];
  struct diag_pcsc_reader *r;
  size_t pos, n = 0, i;

  memset(states, 0, sizeof states);
  for (pos = 0; pos < len && names[pos] && n < DIAG_MAX_PCSC_READERS;
       pos += strlen(names + pos) + 1)
    {
      snprintf(d->pcsc.readers[n].name, sizeof d->pcsc.readers[n].name, "%s",
               names + pos);
      states[n].szReader = d->pcsc.readers[n].name;
      states[n].dwCurrentState = SCARD_STATE_UNAWARE;
      n++;
    }
  d->pcsc.n_readers = n;
  if (!n || SCardGetStatusChange(ctx, 0, states, (DWORD)n) != SCARD_S_SUCCESS)
    return;
  for (i = 0; i < n; i++)
    {
      r = &d->pcsc.readers[i];
      r->card_present = !!(states[i].dwEventState & SCARD_STATE_PRESENT);
      if (!r->card_present || !states[i].cbAtr || states[i].cbAtr > sizeof r->atr)
        continue;
      r->atr_len = states[i].cbAtr;
      memcpy(r->atr, states[i].rgbAtr, r->atr_len);
      describe_atr(r);
    }
}

static void
list_readers(struct diag *d, SCARDCONTEXT ctx)
{
  char names[READERS_SIZE];
  DWORD len = sizeof names;
  LONG rv;

  rv = SCardListReaders(ctx, NULL, names, &len);
  if (rv == SCARD_E_NO_READERS_AVAILABLE)
    return;
  if (rv != SCARD_S_SUCCESS)
    {
      snprintf(d->pcsc.error, sizeof d->pcsc.error, "SCardListReaders: %s",
               pcsc_stringify_error(rv));
      return;
    }
  /* A multi-string ends in two NULs; anything else is not used. */
  if (len < 2 || len > sizeof names || names[len - 1] || names[len - 2])
    {
      snprintf(d->pcsc.error, sizeof d->pcsc.error, "malformed reader list");
      return;
    }
  reader_states(d, ctx, names, len);
}

gpg_error_t
diag_collect_pcsc(struct diag *d)
{
  const char *env = getenv("PCSCLITE_CSOCK_NAME");
  SCARDCONTEXT ctx;
  pid_t peer;
  LONG rv;

  snprintf(d->pcsc.socket, sizeof d->pcsc.socket, "%s",
           env && *env ? env : DEFAULT_SOCKET);
  d->pcsc.socket_exists = !access(d->pcsc.socket, F_OK);
  if (!d->pcsc.socket_exists || socket_peer(d->pcsc.socket, &peer))
    {
      snprintf(d->pcsc.error, sizeof d->pcsc.error, "%s %s", d->pcsc.socket,
               d->pcsc.socket_exists ? "refuses connections" : "does not exist");
      return 0;
    }
  rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
  if (rv != SCARD_S_SUCCESS)
    {
      snprintf(d->pcsc.error, sizeof d->pcsc.error, "SCardEstablishContext: %s",
               pcsc_stringify_error(rv));
      return 0;
    }
  d->pcsc.reachable = 1;
  set_peer(d, peer);
  list_readers(d, ctx);
  SCardReleaseContext(ctx);
  return 0;
}
