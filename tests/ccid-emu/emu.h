/* emu.h - the emulated USB CCID reader: shared types
 *
 * dualscd-ccid-emu serves one or more CCID readers through a umockdev
 * testbed.  umockdev calls the ioctl handler (emu-usb.c) from a worker
 * thread with its own main context; the control socket (emu-control.c) runs
 * in the main thread.  One recursive lock (struct emu.lock) guards every
 * field below.
 */
#ifndef DUALSCD_CCID_EMU_H
#define DUALSCD_CCID_EMU_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>
#include <umockdev.h>

#include "ccid-msg.h"
#include "t1.h"
#include "vcard.h"

#define EMU_MAX_READERS 4
#define EMU_MAX_SLOTS 2
/* Largest command and response the slot logic handles: an extended APDU
 * with 65536 bytes would not fit the card anyway (VCARD_MAX_APDU). */
#define EMU_MAX_APDU (VCARD_MAX_APDU + 16)

enum emu_mode
{
  EMU_MODE_APDU = 0, /* short APDU level */
  EMU_MODE_EXT,      /* extended APDU level, wLevelParameter chaining */
  EMU_MODE_TPDU      /* TPDU level, T=1 blocks */
};

/* Options that every reader gets. */
struct emu_options
{
  enum emu_mode mode;
  int intr;   /* with an interrupt IN endpoint */
  int pinpad; /* bPINSupport 0x03, PC_to_RDR_Secure answered */
  int nslots; /* 1 or 2 */
  int nreaders;
  uint16_t vid, pid;
  const char *serial; /* NULL: S1, S2, ... */
  const char *product;
  const char *card_state;
  unsigned int card_version;
  const char *apdu_log;
  int no_card;
  const char *kernel_driver;
};

/* Faults armed by the control socket; each count is consumed by the event
 * it names. */
struct emu_faults
{
  unsigned int stall, timeout, corrupt_t1, wtx, disconnect, busy;
  unsigned int lie_length, bad_seq, oversize;
};

struct emu_stats
{
  unsigned long bulk_out, bulk_in, intr, control, claims;
  GString *set_params; /* hex of each SetParameters, comma separated */
};

/* The card side of T=1 for one slot (emu-t1.c). */
struct emu_t1
{
  unsigned int card_ns; /* N(S) of the card's next I-block */
  unsigned int host_ns; /* N(S) expected in the host's next I-block */
  unsigned int ifsd;    /* the host's IFSD */
  unsigned int last_ns; /* N(S) of the card's last I-block */
  uint8_t last[260];    /* the card's last block, for retransmission */
  size_t lastlen;
  uint8_t cmd[EMU_MAX_APDU];
  size_t cmdlen;
  uint8_t resp[EMU_MAX_APDU];
  size_t resplen, respoff; /* the response chain being sent */
  int wtx_left;            /* S(WTX) requests still to send before the answer */
};

struct emu_slot
{
  struct vcard *card;
  int present;
  int powered;
  int changed; /* for the next NotifySlotChange */
  struct ccid_params params;
  /* Extended APDU level: the command being received, the response being
   * sent in parts. */
  uint8_t cmd[EMU_MAX_APDU];
  size_t cmdlen;
  uint8_t resp[EMU_MAX_APDU];
  size_t resplen, respoff;
  struct emu_t1 t1;
};

struct emu_client;

struct emu_reader
{
  struct emu *emu;
  unsigned int index; /* 1-based */
  char *syspath;      /* /sys/devices/.../1-N */
  char *ifpath;       /* its interface, 1-N:1.0 */
  char *devnode;      /* /dev/bus/usb/001/DDD */
  char *fifo_path;    /* the node inside the testbed */
  int fifo_fd;        /* kept full while no URB is ready: see emu-usb.c */
  int fifo_full;
  unsigned int busnum, devnum;
  char *serial;
  int plugged;
  unsigned int generation; /* bumped by unplug: older clients see ENODEV */
  char *kernel_driver;     /* bound driver, NULL if none */
  UMockdevIoctlBase *handler;
  unsigned int nslots;
  struct emu_slot slot[EMU_MAX_SLOTS];
  GQueue responses;  /* GBytes: bulk-IN messages waiting for a URB */
  GQueue pending_in; /* struct emu_urb waiting on the bulk-IN endpoint */
  GQueue pending_intr;
  int notify_pending;
  int halted_out;
  GList *clients;
  struct emu_client *claimer;
  unsigned int ready; /* URBs ready to reap, over all clients */
  struct emu_faults faults;
  struct emu_stats stats;
  /* PIN the pinpad "types"; a second one for the new PIN of a modify. */
  char pin[33], new_pin[33];
  int pin_cancel;
};

struct emu
{
  GRecMutex lock;
  struct emu_options opt;
  UMockdevTestbed *testbed;
  char *root;
  struct emu_reader reader[EMU_MAX_READERS];
  FILE *apdu_log;
};

/* emu-desc.c */

/* Writes the device descriptor and the configuration descriptor (with the
 * CCID class descriptor) for R into OUT; returns their length. */
size_t emu_desc_build(const struct emu_reader *r, uint8_t *out, size_t outsize);

/* Answers a control transfer: SETUP is the 8-byte setup packet, DATA the
 * data stage (room for DATALEN bytes).  Returns the number of bytes of an
 * IN data stage (or 0), or -1 to stall. */
int emu_desc_control(struct emu_reader *r, const uint8_t *setup, uint8_t *data,
                     size_t datalen);

/* Slot error codes (bError) the emulator reports, CCID 1.1 table 6.2-2. */
#define ERR_CMD_NOT_SUPPORTED 0x00
#define ERR_BAD_LENGTH 0x01 /* offset of dwLength */
#define ERR_BAD_SLOT 0x05   /* offset of bSlot */
#define ERR_BAD_PROTOCOL 0x07
#define ERR_PIN_CANCELLED 0xEF
#define ERR_XFR_OVERRUN 0xFC
#define ERR_ICC_MUTE 0xFE

/* Largest abData the reader sends or takes: dwMaxCCIDMessageLength - 10. */
#define EMU_MAX_DATA 261

/* One bulk-OUT command being answered. */
struct emu_cmd
{
  struct emu_reader *r;
  struct emu_slot *slot; /* NULL for a bad bSlot */
  uint8_t type, bslot, seq;
  const uint8_t *hdr; /* the 10-byte header */
  const uint8_t *data;
  size_t datalen;
};

/* emu-ccid.c */

/* Queues a successful reply of TYPE to C with bChainParameter /
 * bClockStatus / bProtocolNum SPECIFIC and LEN bytes of DATA. */
void emu_reply_ok(struct emu_cmd *c, uint8_t type, uint8_t specific, const uint8_t *data,
                  size_t len);

/* Queues the failed reply to C with bError ERROR. */
void emu_reply_fail(struct emu_cmd *c, uint8_t error);

/* Queues the time extensions armed by "fault wtx N". */
void emu_send_wtx(struct emu_cmd *c);

/* Runs the command APDU (LEN bytes) on SLOT's card; the response goes to
 * SLOT->resp / resplen. */
void emu_run_apdu(struct emu_slot *slot, const uint8_t *apdu, size_t len);

/* emu-pinpad.c: PC_to_RDR_Secure, PIN verify and modify. */
void emu_pinpad_secure(struct emu_cmd *c);

/* Prepares the slots of R (cards, parameters). */
gpg_error_t emu_ccid_init(struct emu_reader *r, int first_reader);

/* Frees the cards of R. */
void emu_ccid_free(struct emu_reader *r);

/* Processes one bulk-OUT message; the replies go to R->responses. */
void emu_ccid_command(struct emu_reader *r, const uint8_t *msg, size_t len);

/* Puts a card in or takes it out; queues a NotifySlotChange. */
void emu_ccid_set_present(struct emu_reader *r, unsigned int slot, int present);

/* Builds the NotifySlotChange message into OUT (2 bytes) and clears the
 * changed bits. */
size_t emu_ccid_notify(struct emu_reader *r, uint8_t *out, size_t outsize);

/* Powers every slot off (USB reset, unplug). */
void emu_ccid_power_off_all(struct emu_reader *r);

/* emu-t1.c */

/* Resets the card-side T=1 state after an ATR. */
void emu_t1_reset(struct emu_t1 *t1);

/* Processes one block from the host and writes the card's reply block into
 * OUT (*OUTLEN).  FAULTS may ask for S(WTX) or a damaged epilogue. */
void emu_t1_block(struct emu_slot *slot, struct emu_faults *faults, const uint8_t *blk,
                  size_t len, uint8_t *out, size_t outsize, size_t *outlen);

/* emu-sysfs.c */

/* Adds R's device and interface to the testbed's sysfs (with their "add"
 * uevents).  Returns 0 or -1. */
int emu_sysfs_add(struct emu_reader *r);

/* Sends the "remove" uevents and removes R's sysfs. */
void emu_sysfs_remove(struct emu_reader *r);

/* emu-usb.c */

/* Adds reader R to the testbed (sysfs, node, ioctl handler). */
gpg_error_t emu_usb_add(struct emu_reader *r);

/* Takes R off the bus: pending URBs fail with ENODEV. */
void emu_usb_unplug(struct emu_reader *r);

/* Puts R back on the bus as a new device. */
gpg_error_t emu_usb_replug(struct emu_reader *r);

/* Delivers queued bulk-IN replies and notifications to waiting URBs. */
void emu_usb_kick(struct emu_reader *r);

/* Writes the pids of the processes that have R's interface claimed, space
 * separated, into BUF. */
void emu_usb_holders(struct emu_reader *r, GString *buf);

/* emu-control.c */

/* Executes one control command line; the reply (without newline) goes to
 * REPLY. */
void emu_control_line(struct emu *emu, const char *line, GString *reply);

#endif /* DUALSCD_CCID_EMU_H */
