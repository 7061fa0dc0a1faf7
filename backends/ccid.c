/* ccid.c - the internal CCID driver: reader.h over libusb-1.0
 *
 * Claiming: an interface is claimed when the first connection to one of
 * its slots is made and released with the last one (GnuPG claims on open
 * and keeps the reader).  An unused reader is therefore free for pcscd;
 * list probes an unclaimed reader with a short claim to read its slots'
 * state and reports GPG_ERR_EBUSY when another program holds it.  Card
 * changes in readers nobody is connected to are not watched (that would
 * need the claim this driver leaves to others); list reports them when
 * asked.  Events and presence: ccid-mon.c.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ccid-be.h"
#include "usb-owner.h"
#include "log.h"

struct reader_conn
{
  struct ccid_iface *ifc;
  unsigned int slot;
  unsigned int gen; /* the slot's generation the connection knows */
  char name[READER_NAME_MAX];
};

/* Interfaces. */

static struct ccid_iface *
iface_find(struct ccid_backend *be, const struct ccid_cand *c)
{
  struct ccid_iface *ifc;

  for (ifc = be->ifaces; ifc; ifc = ifc->next)
    if (!ifc->gone && ifc->cand.busnum == c->busnum && ifc->cand.devnum == c->devnum
        && ifc->cand.ep.ifc == c->ep.ifc)
      return ifc;
  return NULL;
}

static void
iface_free(struct ccid_iface *ifc)
{
  if (!ifc)
    return;
  ccid_mon_intr_stop(ifc);
  ccid_usb_close(&ifc->usb);
  ccid_link_free(&ifc->link);
  ccid_enum_free(&ifc->cand, 1);
  pthread_mutex_destroy(&ifc->io);
  free(ifc);
}

/* Opens and claims C's interface (the link and slots set up, presence
 * read, and with WATCH the interrupt transfer started). */
static gpg_error_t
iface_open(struct ccid_backend *be, const struct ccid_cand *c, int watch,
           struct ccid_iface **r_ifc)
{
  struct ccid_iface *ifc;
  struct ccid_io io;
  gpg_error_t err;
  unsigned int s;

  *r_ifc = NULL;
  ifc = calloc(1, sizeof *ifc);
  if (!ifc)
    return gpg_error_from_syserror();
  ifc->be = be;
  ifc->cand = *c;
  libusb_ref_device(c->dev);
  pthread_mutex_init(&ifc->io, NULL);
  err = ccid_usb_open(c->dev, &c->ep, &ifc->usb);
  if (!err)
    {
      ccid_usb_io(&ifc->usb, &io);
      err = ccid_link_init(&ifc->link, &ifc->cand.desc, &io, ifc->cand.base);
    }
  for (s = 0; !err && s < c->desc.nslots; s++)
    {
      ifc->slots[s].link = &ifc->link;
      ifc->slots[s].slot = (uint8_t)s;
    }
  ifc->opening = 1;
  if (!err)
    err = ccid_mon_poll_slots(ifc);
  ifc->opening = 0;
  if (err)
    {
      iface_free(ifc);
      return err;
    }
  if (watch)
    ccid_mon_intr_start(ifc);
  *r_ifc = ifc;
  return 0;
}

/* Pids that hold device nodes without being holders in the user's sense:
 * DUALSCD_IGNORE_PIDS, a comma-separated list, lets a test harness whose
 * USB emulator keeps the node open (tests/ccid-emu) leave itself out. */
static size_t
ignored_pids(pid_t *pids, size_t max)
{
  const char *p = getenv("DUALSCD_IGNORE_PIDS");
  size_t n = 0;
  char *end;
  long v;

  while (p && *p && n < max)
    {
      v = strtol(p, &end, 10);
      if (end == p)
        break;
      if (v > 0 && v <= INT_MAX)
        pids[n++] = (pid_t)v;
      p = *end == ',' ? end + 1 : end;
    }
  return n;
}

/* Who holds a busy interface, as one sentence ("reader 1050:0407
 * (YubiKey) is held by pcscd pid 812 (user root, with libccid)"): a kernel
 * driver bound to it, else the processes that have its device node open
 * (backends/usb-owner.c).  The manager shows it to the user as it is. */
static void
busy_detail(const struct ccid_cand *c, char *detail, size_t size)
{
  struct usb_owner_query q;
  pid_t ignore[8];
  char label[192];

  usb_owner_query_init(&q, c->busnum, c->devnum, c->ep.ifc);
  q.n_exclude = ignored_pids(ignore, sizeof ignore / sizeof *ignore);
  q.exclude = ignore;
  usb_owner_reader_label(label, sizeof label, c->vid, c->pid, c->product);
  usb_owner_explain(&q, label, detail, size, NULL);
}

/* Listing. */

static void
info_base(struct reader_info *info, const struct ccid_cand *c, unsigned int slot)
{
  memset(info, 0, sizeof *info);
  ccid_reader_name(c, slot, info->name, sizeof info->name);
  info->usb.valid = 1;
  info->usb.vid = c->vid;
  info->usb.pid = c->pid;
  info->usb.busnum = c->busnum;
  info->usb.devnum = c->devnum;
  info->usb.interface = c->ep.ifc;
  info->usb.slot = (uint8_t)slot;
  snprintf(info->usb.serial, sizeof info->usb.serial, "%s", c->serial);
  snprintf(info->usb.product, sizeof info->usb.product, "%s", c->product);
}

/* Fills the infos of IFC's slots from what the driver knows. */
static void
info_from_iface(struct ccid_iface *ifc, struct reader_info *infos, size_t n)
{
  size_t s;

  pthread_mutex_lock(&ifc->be->lock);
  for (s = 0; s < n; s++)
    {
      const struct ccid_slot *sl = &ifc->slots[s];

      infos[s].card_present = (int)ifc->present[s];
      if (infos[s].card_present && sl->powered && ifc->powered_gen[s] == ifc->gen[s])
        {
          memcpy(infos[s].atr, sl->atr, sl->atrlen);
          infos[s].atrlen = sl->atrlen;
        }
    }
  pthread_mutex_unlock(&ifc->be->lock);
}

/* Probes an interface nobody here has claimed: a short claim to read its
 * slots, or the reason it cannot be used. */
static void
info_probe(struct ccid_backend *be, const struct ccid_cand *c, struct reader_info *infos,
           size_t n)
{
  struct ccid_iface *ifc;
  gpg_error_t err;
  size_t s;

  err = iface_open(be, c, 0, &ifc);
  if (!err)
    {
      info_from_iface(ifc, infos, n);
      iface_free(ifc);
      return;
    }
  for (s = 0; s < n; s++)
    {
      infos[s].state = err;
      if (gpg_err_code(err) == GPG_ERR_EBUSY)
        busy_detail(c, infos[s].detail, sizeof infos[s].detail);
      else
        snprintf(infos[s].detail, sizeof infos[s].detail, "%s", gpg_strerror(err));
    }
}

static gpg_error_t
ccid_list(struct reader_backend *rbe, struct reader_info *infos, size_t max, size_t *n)
{
  struct ccid_backend *be = (struct ccid_backend *)rbe;
  struct ccid_cand *cands;
  struct ccid_iface *ifc;
  size_t nc = 0, i, s, k;
  gpg_error_t err;

  *n = 0;
  if (!be->ctx)
    return 0;
  cands = calloc(READER_MAX, sizeof *cands);
  if (!cands)
    return gpg_error_from_syserror();
  err = ccid_enum(be->ctx, cands, READER_MAX, &nc);
  for (i = 0; !err && i < nc && *n < max; i++)
    {
      k = cands[i].desc.nslots;
      if (k > max - *n)
        k = max - *n;
      for (s = 0; s < k; s++)
        info_base(&infos[*n + s], &cands[i], (unsigned int)s);
      pthread_mutex_lock(&be->lock);
      ifc = iface_find(be, &cands[i]);
      pthread_mutex_unlock(&be->lock);
      if (ifc)
        info_from_iface(ifc, &infos[*n], k);
      else
        info_probe(be, &cands[i], &infos[*n], k);
      *n += k;
    }
  ccid_enum_free(cands, nc);
  free(cands);
  return err;
}

/* Connections. */

/* The interface for C, claimed now unless a connection holds it. */
static gpg_error_t
iface_get(struct ccid_backend *be, const struct ccid_cand *c, struct ccid_iface **r_ifc)
{
  gpg_error_t err;

  *r_ifc = iface_find(be, c);
  if (*r_ifc)
    return 0;
  err = iface_open(be, c, 1, r_ifc);
  if (gpg_err_code(err) == GPG_ERR_EBUSY)
    log_msg(LOG_INFO, LOG_CAT_USB,
            "reader '%s' is in use by another program (its interface is claimed); "
            "stop that program (e.g. pcscd) or use the PC/SC backend",
            c->base);
  else if (err)
    log_msg(LOG_INFO, LOG_CAT_USB, "opening reader '%s' failed: %s", c->base,
            gpg_strerror(err));
  if (err)
    return err;
  pthread_mutex_lock(&be->lock);
  (*r_ifc)->next = be->ifaces;
  be->ifaces = *r_ifc;
  pthread_mutex_unlock(&be->lock);
  return 0;
}

static void
iface_put(struct ccid_iface *ifc)
{
  struct ccid_backend *be = ifc->be;
  struct ccid_iface **pp;

  if (--ifc->nconn > 0)
    return;
  pthread_mutex_lock(&be->lock);
  for (pp = &be->ifaces; *pp; pp = &(*pp)->next)
    if (*pp == ifc)
      {
        *pp = ifc->next;
        break;
      }
  pthread_mutex_unlock(&be->lock);
  iface_free(ifc);
}

/* A slot operation's error, read with ifc->io still held: a vanished
 * device is ENODEV whatever the transfer reported. */
static gpg_error_t
io_error(struct ccid_iface *ifc, gpg_error_t err)
{
  return err && ifc->usb.gone ? gpg_error(GPG_ERR_ENODEV) : err;
}

/* Powers the slot on unless it is on with the current card.  Returns
 * whether it did in *FRESH. */
static gpg_error_t
slot_ensure_power(struct reader_conn *conn, int *fresh)
{
  struct ccid_iface *ifc = conn->ifc;
  struct ccid_slot *sl = &ifc->slots[conn->slot];
  unsigned int gen, present;
  gpg_error_t err;

  *fresh = 0;
  pthread_mutex_lock(&ifc->be->lock);
  gen = ifc->gen[conn->slot];
  present = ifc->present[conn->slot];
  if (sl->powered && ifc->powered_gen[conn->slot] == gen)
    present = 2;
  pthread_mutex_unlock(&ifc->be->lock);
  conn->gen = gen;
  if (present == 2)
    return 0;
  if (!present)
    return gpg_error(GPG_ERR_CARD_NOT_PRESENT);
  pthread_mutex_lock(&ifc->io);
  err = io_error(ifc, ccid_slot_power_on(sl));
  pthread_mutex_unlock(&ifc->io);
  if (err)
    return err;
  pthread_mutex_lock(&ifc->be->lock);
  ifc->powered_gen[conn->slot] = gen;
  pthread_mutex_unlock(&ifc->be->lock);
  *fresh = 1;
  return 0;
}

static void
ccid_disconnect(struct reader_conn *conn)
{
  if (!conn)
    return;
  if (conn->ifc)
    iface_put(conn->ifc);
  free(conn);
}

/* Finds NAME on the bus and claims its interface for CONN. */
static gpg_error_t
conn_attach(struct ccid_backend *be, const char *name, struct reader_conn *conn)
{
  struct ccid_cand *cands;
  size_t nc = 0;
  int i = -1;
  gpg_error_t err;

  cands = calloc(READER_MAX, sizeof *cands);
  if (!cands)
    return gpg_error_from_syserror();
  err = ccid_enum(be->ctx, cands, READER_MAX, &nc);
  if (!err)
    i = ccid_name_find(cands, nc, name, &conn->slot);
  if (!err && i < 0)
    err = gpg_error(GPG_ERR_ENODEV);
  if (!err)
    err = iface_get(be, &cands[i], &conn->ifc);
  if (!err)
    conn->ifc->nconn++;
  ccid_enum_free(cands, nc);
  free(cands);
  return err;
}

static gpg_error_t
ccid_connect(struct reader_backend *rbe, const char *name, enum reader_share share,
             struct reader_conn **r_conn, uint8_t *atr, size_t *atrlen)
{
  struct ccid_backend *be = (struct ccid_backend *)rbe;
  struct reader_conn *conn;
  struct ccid_slot *sl;
  gpg_error_t err;
  int fresh;

  (void)share; /* a claimed interface is exclusive anyway */
  *r_conn = NULL;
  *atrlen = 0;
  if (!be->ctx || !name || strlen(name) >= READER_NAME_MAX)
    return gpg_error(GPG_ERR_ENODEV);
  conn = calloc(1, sizeof *conn);
  if (!conn)
    return gpg_error_from_syserror();
  strcpy(conn->name, name);
  err = conn_attach(be, name, conn);
  if (!err)
    err = slot_ensure_power(conn, &fresh);
  if (err)
    {
      log_msg(LOG_DEBUG, LOG_CAT_USB, "connecting to '%s' failed: %s", name,
              gpg_strerror(err));
      ccid_disconnect(conn);
      return err;
    }
  sl = &conn->ifc->slots[conn->slot];
  memcpy(atr, sl->atr, sl->atrlen);
  *atrlen = sl->atrlen;
  log_msg(LOG_DEBUG, LOG_CAT_USB, "connected to '%s'", name);
  *r_conn = conn;
  return 0;
}

/* The reader.h meaning of a driver error on a connection. */
static gpg_error_t
conn_error(struct reader_conn *conn, gpg_error_t err)
{
  gpg_err_code_t code = gpg_err_code(err);

  if (code == GPG_ERR_ENODEV)
    {
      ccid_mon_mark_gone(conn->ifc);
      log_msg(LOG_INFO, LOG_CAT_USB, "reader '%s' is gone (unplugged)", conn->name);
      return gpg_error(GPG_ERR_CARD_REMOVED);
    }
  if (code == GPG_ERR_CARD_NOT_PRESENT)
    return gpg_error(GPG_ERR_CARD_REMOVED);
  return err;
}

/* IFC's liveness and event source, as the callbacks last left them. */
static void
iface_flags(struct ccid_iface *ifc, int *gone, int *intr)
{
  pthread_mutex_lock(&ifc->be->lock);
  *gone = ifc->gone;
  *intr = ifc->intr_active;
  pthread_mutex_unlock(&ifc->be->lock);
}

/* Presence without USB traffic where the interrupt endpoint reports it;
 * a reader without one is asked (GetSlotStatus) when POLL is set, i.e. at
 * begin, so that an exchange stays one bulk-out and one bulk-in. */
static gpg_error_t
conn_check(struct reader_conn *conn, int poll)
{
  struct timeval zero = { 0, 0 };
  struct ccid_iface *ifc = conn->ifc;
  gpg_error_t err = 0;
  int changed, present, gone, intr;

  /* Completes a notification that arrived while nobody handled events
   * (one poll(2), no USB traffic). */
  libusb_handle_events_timeout_completed(ifc->be->ctx, &zero, NULL);
  iface_flags(ifc, &gone, &intr);
  if (gone)
    return conn_error(conn, gpg_error(GPG_ERR_ENODEV));
  if (poll && !intr)
    {
      pthread_mutex_lock(&ifc->io);
      err = ccid_mon_poll_slots(ifc);
      pthread_mutex_unlock(&ifc->io);
      if (err)
        return conn_error(conn, err);
    }
  pthread_mutex_lock(&ifc->be->lock);
  present = (int)ifc->present[conn->slot];
  changed = ifc->gen[conn->slot] != conn->gen;
  pthread_mutex_unlock(&ifc->be->lock);
  if (!present)
    return gpg_error(GPG_ERR_CARD_REMOVED);
  return changed ? gpg_error(GPG_ERR_CARD_RESET) : 0;
}

static gpg_error_t
ccid_begin(struct reader_conn *conn)
{
  gpg_error_t err;
  int fresh;

  err = conn_check(conn, 1);
  if (gpg_err_code(err) != GPG_ERR_CARD_RESET)
    return err;
  log_msg(LOG_INFO, LOG_CAT_USB, "the card in '%s' was replaced or reset; powering it on",
          conn->name);
  err = slot_ensure_power(conn, &fresh);
  if (err)
    return conn_error(conn, err);
  return gpg_error(GPG_ERR_CARD_RESET);
}

static void
ccid_end(struct reader_conn *conn)
{
  (void)conn; /* nobody else can use a claimed interface */
}

static gpg_error_t
ccid_transmit(struct reader_conn *conn, const uint8_t *apdu, size_t apdulen,
              uint8_t *resp, size_t respsize, size_t *resplen)
{
  struct ccid_iface *ifc = conn->ifc;
  gpg_error_t err;

  *resplen = 0;
  if (!apdu || apdulen < 4 || !resp || respsize < 2)
    return gpg_error(GPG_ERR_INV_ARG);
  err = conn_check(conn, 0);
  if (err)
    return err;
  pthread_mutex_lock(&ifc->io);
  err = ccid_slot_transmit(&ifc->slots[conn->slot], apdu, apdulen, resp, respsize,
                           resplen);
  err = io_error(ifc, err);
  pthread_mutex_unlock(&ifc->io);
  return err ? conn_error(conn, err) : 0;
}

static unsigned int
ccid_pinpad_caps(struct reader_conn *conn)
{
  return conn ? ccid_slot_pinpad_caps(&conn->ifc->slots[conn->slot]) : 0;
}

static gpg_error_t
ccid_pinpad(struct reader_conn *conn, const struct reader_pinpad *pp, const uint8_t *apdu,
            size_t apdulen, uint8_t *resp, size_t respsize, size_t *resplen)
{
  struct ccid_iface *ifc = conn->ifc;
  gpg_error_t err;

  *resplen = 0;
  err = conn_check(conn, 0);
  if (err)
    return err;
  pthread_mutex_lock(&ifc->io);
  err = ccid_slot_pinpad(&ifc->slots[conn->slot], pp, apdu, apdulen, resp, respsize,
                         resplen);
  err = io_error(ifc, err);
  pthread_mutex_unlock(&ifc->io);
  return err ? conn_error(conn, err) : 0;
}

/* The backend. */

/* From the bus alone: no claim, no USB traffic beyond the strings. */
static gpg_error_t
ccid_locate(struct reader_backend *rbe, const char *name, struct reader_usb_id *id)
{
  struct ccid_backend *be = (struct ccid_backend *)rbe;
  struct reader_info info;
  struct ccid_cand *cands;
  size_t nc = 0;
  unsigned int slot = 0;
  int i = -1;
  gpg_error_t err;

  memset(id, 0, sizeof *id);
  if (!be->ctx)
    return gpg_error(GPG_ERR_ENODEV);
  cands = calloc(READER_MAX, sizeof *cands);
  if (!cands)
    return gpg_error_from_syserror();
  err = ccid_enum(be->ctx, cands, READER_MAX, &nc);
  if (!err)
    i = ccid_name_find(cands, nc, name, &slot);
  if (!err && i < 0)
    err = gpg_error(GPG_ERR_ENODEV);
  if (!err)
    {
      info_base(&info, &cands[i], slot);
      *id = info.usb;
    }
  ccid_enum_free(cands, nc);
  free(cands);
  return err;
}

static void
ccid_release(struct reader_backend *rbe)
{
  struct ccid_backend *be = (struct ccid_backend *)rbe;

  if (!be)
    return;
  while (be->ifaces)
    {
      struct ccid_iface *ifc = be->ifaces;

      be->ifaces = ifc->next;
      iface_free(ifc);
    }
  if (be->hotplug)
    libusb_hotplug_deregister_callback(be->ctx, be->hp);
  if (be->ctx)
    libusb_exit(be->ctx);
  pthread_cond_destroy(&be->cond);
  pthread_mutex_destroy(&be->lock);
  free(be);
}

/* A short-APDU reader carries neither extended APDUs nor responses longer
 * than 256 bytes: 5 + 256 command bytes, 256 + 2 response bytes. */
static size_t
ccid_max_apdu(struct reader_conn *conn)
{
  const struct ccid_desc *d = &conn->ifc->cand.desc;

  return ccid_effective_level(d) == CCID_LEVEL_SHORT_APDU ? 261 : 0;
}

static const struct reader_backend_ops ccid_ops = {
  .name = "ccid",
  .list = ccid_list,
  .connect = ccid_connect,
  .disconnect = ccid_disconnect,
  .begin = ccid_begin,
  .end = ccid_end,
  .transmit = ccid_transmit,
  .wait_change = ccid_mon_wait_change,
  .cancel_wait = ccid_mon_cancel_wait,
  .pinpad_caps = ccid_pinpad_caps,
  .pinpad = ccid_pinpad,
  .locate = ccid_locate,
  .max_apdu = ccid_max_apdu,
  .release = ccid_release,
};

gpg_error_t
ccid_backend_new(struct reader_backend **r_be)
{
  struct ccid_backend *be;
  int rc;

  *r_be = NULL;
  be = calloc(1, sizeof *be);
  if (!be)
    return gpg_error_from_syserror();
  be->base.ops = &ccid_ops;
  pthread_mutex_init(&be->lock, NULL);
  pthread_cond_init(&be->cond, NULL);
  rc = libusb_init(&be->ctx);
  if (rc)
    {
      /* No USB support here: an empty backend, as ccid.h promises. */
      log_msg(LOG_INFO, LOG_CAT_USB, "libusb unavailable (%s); no CCID readers",
              ccid_usb_error_name(rc));
      be->ctx = NULL;
    }
  if (be->ctx && libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG))
    be->hotplug = !libusb_hotplug_register_callback(
        be->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
        0, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
        ccid_mon_hotplug_cb, be, &be->hp);
  if (be->ctx && !be->hotplug)
    be->devsig = ccid_mon_devices_signature(be->ctx);
  if (be->ctx)
    log_msg(LOG_DEBUG, LOG_CAT_USB, "CCID driver ready; reader arrival %s",
            be->hotplug ? "by libusb hotplug events" : "by polling the device list");
  *r_be = &be->base;
  return 0;
}
