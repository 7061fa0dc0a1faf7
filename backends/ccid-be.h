/* ccid-be.h - the CCID driver's backend state, shared by ccid.c and ccid-mon.c
 *
 * be->lock guards the interface list and, in every interface, the fields
 * marked below, which the interrupt and hotplug callbacks write from
 * whichever thread handles libusb events; ifc->io serialises the bulk
 * pipe between the command thread and the monitor's poller.
 */
#ifndef DUALSCD_BACKENDS_CCID_BE_H
#define DUALSCD_BACKENDS_CCID_BE_H

#include <pthread.h>

#include "ccid-usb.h"
#include "ccid.h"

struct ccid_backend;

/* A claimed interface and its slots. */
struct ccid_iface
{
  struct ccid_iface *next;
  struct ccid_backend *be;
  struct ccid_cand cand; /* holds a reference to the device */
  struct ccid_usb usb;
  struct ccid_link link;
  pthread_mutex_t io;
  int nconn;
  struct ccid_slot slots[CCID_DESC_MAX_SLOTS];
  /* Guarded by be->lock. */
  unsigned int present[CCID_DESC_MAX_SLOTS];
  unsigned int gen[CCID_DESC_MAX_SLOTS]; /* bumped at every card change */
  unsigned int powered_gen[CCID_DESC_MAX_SLOTS];
  struct libusb_transfer *intr;
  uint8_t intr_buf[64];
  int intr_active; /* a transfer is submitted */
  int intr_done;   /* for libusb_handle_events_completed on close */
  int intr_errors;
  int intr_seen; /* a notification arrived since the claim */
  int opening;   /* reading the initial state: no news for the monitor */
  int closing;
  int gone;
};

struct ccid_backend
{
  struct reader_backend base;
  libusb_context *ctx;
  pthread_mutex_t lock;
  pthread_cond_t cond; /* cancel_wait without libusb */
  struct ccid_iface *ifaces;
  int changed; /* an event since wait_change last returned */
  int cancel;
  int hotplug;
  libusb_hotplug_callback_handle hp;
  uint32_t devsig; /* signature of the device list, without hotplug */
};

/* ccid-mon.c: presence and events. */

/* Starts IFC's interrupt transfer (if it has an interrupt endpoint). */
void ccid_mon_intr_start(struct ccid_iface *ifc);

/* Cancels it and waits until libusb has given it back. */
void ccid_mon_intr_stop(struct ccid_iface *ifc);

/* Marks IFC's device as gone (news for wait_change). */
void ccid_mon_mark_gone(struct ccid_iface *ifc);

/* Reads every slot's state by GetSlotStatus, ifc->io held; GPG_ERR_ENODEV
 * when the device is gone. */
gpg_error_t ccid_mon_poll_slots(struct ccid_iface *ifc);

/* A cheap signature of the bus, for noticing readers without hotplug. */
uint32_t ccid_mon_devices_signature(libusb_context *ctx);

/* reader.h's wait_change and cancel_wait. */
gpg_error_t ccid_mon_wait_change(struct reader_backend *rbe);
void ccid_mon_cancel_wait(struct reader_backend *rbe);

/* libusb's hotplug callback; USER is the backend. */
int LIBUSB_CALL ccid_mon_hotplug_cb(libusb_context *ctx, libusb_device *dev,
                                    libusb_hotplug_event event, void *user);

#endif /* DUALSCD_BACKENDS_CCID_BE_H */
