/* ccid-mon.c - the CCID driver's events: card presence, interrupts, hotplug, wait_change
 *
 * A claimed interface with an interrupt endpoint keeps one interrupt
 * transfer pending; NotifySlotChange bumps the slot's card generation,
 * which begin compares with the connection's (no USB traffic when nothing
 * changed).  Interfaces without one are polled with GetSlotStatus every
 * POLL_MS while connected.  Readers arriving and leaving come from
 * libusb's hotplug callbacks, or, where libusb has none, from comparing
 * the device list every POLL_MS (sysfs only, no USB traffic).
 *
 * wait_change runs libusb's event loop in the monitor thread, with a
 * timeout of an hour when only events can wake it; cancel_wait breaks it
 * with libusb_interrupt_event_handler.  The command thread's synchronous
 * transfers complete through the same loop (libusb's documented model).
 */
#include <stdio.h>
#include <string.h>

#include "ccid-be.h"
#include "log.h"

#define POLL_MS 500
#define IDLE_S 3600 /* the event loop's timeout when only events can wake it */
#define INTR_ERRORS_MAX 3

/* Presence. */

/* Records slot SLOT's presence; a change bumps its generation.  Called
 * with be->lock held. */
static void
presence_set(struct ccid_iface *ifc, unsigned int slot, unsigned int present, int changed)
{
  if (present != ifc->present[slot] || changed)
    {
      ifc->gen[slot]++;
      if (!ifc->opening)
        ifc->be->changed = 1;
      log_msg(LOG_DEBUG, LOG_CAT_USB, "'%s' slot %u: card %s", ifc->cand.base, slot,
              present ? "inserted" : "removed");
    }
  ifc->present[slot] = present;
}

static void
intr_parse(struct ccid_iface *ifc, const uint8_t *buf, size_t len)
{
  struct ccid_intr in;
  size_t used, pos = 0;
  unsigned int s;

  while (pos < len
         && !ccid_intr_decode(buf + pos, len - pos, ifc->cand.desc.nslots, &in, &used))
    {
      pos += used;
      if (in.type == CCID_RDR_TO_PC_HARDWARE_ERROR)
        {
          log_msg(LOG_ERROR, LOG_CAT_USB, "'%s' slot %u: hardware error 0x%02x",
                  ifc->cand.base, in.slot, in.hw_error);
          presence_set(ifc, in.slot, ifc->present[in.slot], 1);
          continue;
        }
      /* Readers report every present card as "changed" in the first
       * notification after a claim; the state was just read anyway. */
      for (s = 0; s < in.nslots; s++)
        presence_set(ifc, s, (unsigned int)ccid_intr_slot_present(&in, s),
                     ifc->intr_seen && ccid_intr_slot_changed(&in, s));
      ifc->intr_seen = 1;
    }
}

static void LIBUSB_CALL
intr_cb(struct libusb_transfer *t)
{
  struct ccid_iface *ifc = t->user_data;
  struct ccid_backend *be = ifc->be;
  int resubmit = 0;

  pthread_mutex_lock(&be->lock);
  if (t->status == LIBUSB_TRANSFER_COMPLETED)
    {
      ifc->intr_errors = 0;
      intr_parse(ifc, t->buffer, (size_t)t->actual_length);
    }
  else if (t->status == LIBUSB_TRANSFER_NO_DEVICE)
    {
      ifc->gone = 1;
      be->changed = 1;
    }
  else if (t->status != LIBUSB_TRANSFER_CANCELLED)
    ifc->intr_errors++;
  if (!ifc->closing && !ifc->gone && ifc->intr_errors < INTR_ERRORS_MAX)
    resubmit = !libusb_submit_transfer(t);
  if (!resubmit)
    {
      ifc->intr_active = 0;
      ifc->intr_done = 1;
    }
  pthread_mutex_unlock(&be->lock);
  if (be->changed)
    libusb_interrupt_event_handler(be->ctx);
}

void
ccid_mon_intr_start(struct ccid_iface *ifc)
{
  size_t size = ifc->cand.ep.intr_size;

  if (!ifc->cand.ep.intr_in)
    return;
  if (!size || size > sizeof ifc->intr_buf)
    size = sizeof ifc->intr_buf;
  ifc->intr = libusb_alloc_transfer(0);
  if (!ifc->intr)
    return;
  libusb_fill_interrupt_transfer(ifc->intr, ifc->usb.h, ifc->cand.ep.intr_in,
                                 ifc->intr_buf, (int)size, intr_cb, ifc, 0);
  /* Locked: the first completion may run in the monitor thread before
   * the flag would be set here. */
  pthread_mutex_lock(&ifc->be->lock);
  ifc->intr_done = 0;
  ifc->intr_active = !libusb_submit_transfer(ifc->intr);
  pthread_mutex_unlock(&ifc->be->lock);
}

/* Cancels the interrupt transfer and waits until libusb has given it
 * back (in whichever thread handles events). */
void
ccid_mon_intr_stop(struct ccid_iface *ifc)
{
  struct ccid_backend *be = ifc->be;
  int active;

  pthread_mutex_lock(&be->lock);
  ifc->closing = 1;
  active = ifc->intr_active;
  if (active)
    libusb_cancel_transfer(ifc->intr);
  pthread_mutex_unlock(&be->lock);
  while (active)
    {
      libusb_handle_events_completed(be->ctx, &ifc->intr_done);
      pthread_mutex_lock(&be->lock);
      active = ifc->intr_active;
      pthread_mutex_unlock(&be->lock);
    }
  if (ifc->intr)
    libusb_free_transfer(ifc->intr);
  ifc->intr = NULL;
}

void
ccid_mon_mark_gone(struct ccid_iface *ifc)
{
  pthread_mutex_lock(&ifc->be->lock);
  ifc->gone = 1;
  ifc->be->changed = 1;
  pthread_mutex_unlock(&ifc->be->lock);
}

/* Reads every slot's state by GetSlotStatus (with ifc->io held). */
gpg_error_t
ccid_mon_poll_slots(struct ccid_iface *ifc)
{
  enum ccid_icc_status icc;
  gpg_error_t err = 0;
  unsigned int s;

  for (s = 0; s < ifc->cand.desc.nslots && !err; s++)
    {
      err = ccid_slot_status(&ifc->slots[s], &icc);
      if (!err)
        {
          pthread_mutex_lock(&ifc->be->lock);
          presence_set(ifc, s, icc != CCID_ICC_ABSENT, 0);
          pthread_mutex_unlock(&ifc->be->lock);
        }
    }
  if (gpg_err_code(err) == GPG_ERR_ENODEV || ifc->usb.gone)
    {
      ccid_mon_mark_gone(ifc);
      err = gpg_error(GPG_ERR_ENODEV);
    }
  return err;
}

/* Monitoring. */

/* A cheap signature of the bus: bus and address of every device. */
uint32_t
ccid_mon_devices_signature(libusb_context *ctx)
{
  libusb_device **list;
  uint32_t sig = 2166136261u;
  ssize_t cnt, i;

  cnt = libusb_get_device_list(ctx, &list);
  if (cnt < 0)
    return 0;
  for (i = 0; i < cnt; i++)
    sig = (sig
           ^ (uint32_t)(libusb_get_bus_number(list[i]) << 8
                        | libusb_get_device_address(list[i])))
          * 16777619u;
  libusb_free_device_list(list, 1);
  return sig ^ (uint32_t)cnt;
}

/* One round of polling: connected interfaces without an interrupt
 * endpoint, and the device list where libusb has no hotplug.  An
 * interface busy with a command is skipped: it is being used anyway. */
static void
poll_round(struct ccid_backend *be)
{
  struct ccid_iface *ifc;
  uint32_t sig;

  pthread_mutex_lock(&be->lock);
  for (ifc = be->ifaces; ifc; ifc = ifc->next)
    {
      if (ifc->intr_active || ifc->gone || pthread_mutex_trylock(&ifc->io))
        continue;
      pthread_mutex_unlock(&be->lock);
      ccid_mon_poll_slots(ifc);
      pthread_mutex_unlock(&ifc->io);
      pthread_mutex_lock(&be->lock);
    }
  pthread_mutex_unlock(&be->lock);
  if (be->hotplug)
    return;
  sig = ccid_mon_devices_signature(be->ctx);
  pthread_mutex_lock(&be->lock);
  if (sig != be->devsig)
    be->changed = 1;
  be->devsig = sig;
  pthread_mutex_unlock(&be->lock);
}

/* Is there something only polling finds?  (be->lock held) */
static int
need_poll(struct ccid_backend *be)
{
  struct ccid_iface *ifc;

  if (!be->hotplug)
    return 1;
  for (ifc = be->ifaces; ifc; ifc = ifc->next)
    if (!ifc->intr_active && !ifc->gone)
      return 1;
  return 0;
}

gpg_error_t
ccid_mon_wait_change(struct reader_backend *rbe)
{
  struct ccid_backend *be = (struct ccid_backend *)rbe;
  struct timeval tv;
  gpg_error_t err = 0;
  int poll;

  for (;;)
    {
      pthread_mutex_lock(&be->lock);
      if (be->cancel)
        err = gpg_error(GPG_ERR_CANCELED);
      if (be->cancel || be->changed)
        {
          be->cancel = be->changed = 0;
          pthread_mutex_unlock(&be->lock);
          return err;
        }
      if (!be->ctx)
        {
          pthread_cond_wait(&be->cond, &be->lock);
          pthread_mutex_unlock(&be->lock);
          continue;
        }
      poll = need_poll(be);
      pthread_mutex_unlock(&be->lock);
      tv.tv_sec = poll ? 0 : IDLE_S;
      tv.tv_usec = poll ? POLL_MS * 1000 : 0;
      libusb_handle_events_timeout_completed(be->ctx, &tv, NULL);
      if (poll)
        poll_round(be);
    }
}

void
ccid_mon_cancel_wait(struct reader_backend *rbe)
{
  struct ccid_backend *be = (struct ccid_backend *)rbe;

  pthread_mutex_lock(&be->lock);
  be->cancel = 1;
  pthread_cond_broadcast(&be->cond);
  pthread_mutex_unlock(&be->lock);
  if (be->ctx)
    libusb_interrupt_event_handler(be->ctx);
}

int LIBUSB_CALL
ccid_mon_hotplug_cb(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event,
                    void *user)
{
  struct ccid_backend *be = user;
  struct ccid_iface *ifc;

  (void)ctx;
  pthread_mutex_lock(&be->lock);
  be->changed = 1;
  if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT)
    for (ifc = be->ifaces; ifc; ifc = ifc->next)
      if (ifc->cand.dev == dev)
        ifc->gone = 1;
  pthread_mutex_unlock(&be->lock);
  return 0;
}
