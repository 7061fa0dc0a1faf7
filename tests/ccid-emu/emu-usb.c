/* emu-usb.c - the reader on an emulated USB bus: usbfs ioctls, URBs, the node
 *
 * Every open() of the device node is one UMockdevIoctlClient; it gets a
 * struct emu_client attached as object data, whose destroy notify (run when
 * umockdev finalizes the client, i.e. the opener closed the node) releases
 * its claim and its URBs, like the kernel does on close.
 *
 * Busy-poll: libusb waits for POLLOUT on the usbfs node and then reaps with
 * REAPURBNDELAY.  A regular file is always writable, so libusb would spin
 * while any URB is pending.  The node is therefore a FIFO whose pipe buffer
 * this file keeps full while no URB is ready to reap, and drains while one
 * is: poll() then sleeps exactly when the kernel's would.
 */

#include "emu.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/usbdevice_fs.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define EP_BULK_OUT 0x02
#define EP_BULK_IN 0x81
#define EP_INTR 0x83
#define USB_SPEED_FULL 2

struct emu_client
{
  struct emu_reader *r;
  unsigned int generation;
  long pid;
  GQueue ready; /* struct emu_urb, completed, waiting to be reaped */
  /* A blocking REAPURB waiting for a URB. */
  UMockdevIoctlClient *waiting;
  UMockdevIoctlData *waiting_arg;
};

struct emu_urb
{
  struct emu_client *cl;
  UMockdevIoctlData *urb_data;
  UMockdevIoctlData *buf_data; /* NULL for an empty buffer */
  /* Our copy of the URB's fields (struct usbdevfs_urb ends in a flexible
   * array and cannot be a member). */
  struct
  {
    unsigned char type, endpoint;
    int status, buffer_length, actual_length;
  } u;
};

/* One ioctl being answered. */
struct ioc
{
  struct emu_reader *r;
  struct emu_client *cl;
  UMockdevIoctlClient *client;
  UMockdevIoctlData *data; /* the argument's memory, or NULL */
};

static void
fifo_fill(struct emu_reader *r)
{
  static const uint8_t junk[4096];

  if (r->fifo_fd < 0 || r->fifo_full)
    return;
  while (write(r->fifo_fd, junk, sizeof junk) > 0)
    ;
  r->fifo_full = 1;
}

static void
fifo_drain(struct emu_reader *r)
{
  uint8_t buf[4096];

  if (r->fifo_fd < 0 || !r->fifo_full)
    return;
  while (read(r->fifo_fd, buf, sizeof buf) > 0)
    ;
  r->fifo_full = 0;
}

/* Full exactly while no client has a URB to reap. */
static void
fifo_update(struct emu_reader *r)
{
  if (r->ready || !r->plugged)
    fifo_drain(r);
  else
    fifo_fill(r);
}

static void
urb_free(struct emu_urb *urb)
{
  if (urb->urb_data)
    g_object_unref(urb->urb_data);
  if (urb->buf_data)
    g_object_unref(urb->buf_data);
  g_free(urb);
}

/* Counts a transfer at its completion, as the host sees it. */
static void
count(struct emu_reader *r, const struct emu_urb *urb)
{
  if (urb->u.status == -ENOENT)
    return;
  if (urb->u.type == USBDEVFS_URB_TYPE_CONTROL)
    r->stats.control++;
  else if (urb->u.endpoint == EP_BULK_OUT)
    r->stats.bulk_out++;
  else if (urb->u.endpoint == EP_BULK_IN)
    r->stats.bulk_in++;
  else
    r->stats.intr++;
}

static void
hand_over(struct emu_client *cl, UMockdevIoctlClient *client, UMockdevIoctlData *arg,
          struct emu_urb *urb)
{
  umockdev_ioctl_data_set_ptr(arg, 0, urb->urb_data);
  umockdev_ioctl_client_complete(client, 0, 0);
  count(cl->r, urb);
  urb_free(urb);
}

/* Completes URB with STATUS and ACTUAL bytes: it becomes reapable. */
static void
urb_done(struct emu_urb *urb, int status, int actual)
{
  struct emu_client *cl = urb->cl;
  struct usbdevfs_urb *dst = (struct usbdevfs_urb *)(void *)urb->urb_data->data;

  urb->u.status = status;
  urb->u.actual_length = actual;
  dst->status = status;
  dst->actual_length = actual;
  if (cl->waiting)
    {
      UMockdevIoctlClient *client = cl->waiting;
      UMockdevIoctlData *arg = cl->waiting_arg;

      cl->waiting = NULL;
      cl->waiting_arg = NULL;
      hand_over(cl, client, arg, urb);
      g_object_unref(arg);
      g_object_unref(client);
      return;
    }
  g_queue_push_tail(&cl->ready, urb);
  cl->r->ready++;
}

/* Fills a bulk-IN or interrupt URB with MSG. */
static void
urb_fill(struct emu_urb *urb, const uint8_t *msg, size_t len)
{
  size_t room = (size_t)urb->u.buffer_length;
  int status = 0;

  if (len > room)
    {
      len = room; /* babble: the kernel reports an overflow */
      status = -EOVERFLOW;
    }
  if (len)
    memcpy(urb->buf_data->data, msg, len);
  urb_done(urb, status, (int)len);
}

void
emu_usb_kick(struct emu_reader *r)
{
  while (r->responses.length && r->pending_in.length)
    {
      GBytes *msg = g_queue_pop_head(&r->responses);
      struct emu_urb *urb = g_queue_pop_head(&r->pending_in);
      gsize len;
      const uint8_t *p = g_bytes_get_data(msg, &len);

      urb_fill(urb, p, len);
      g_bytes_unref(msg);
    }
  if (r->notify_pending && r->pending_intr.length)
    {
      uint8_t buf[2];
      size_t len = emu_ccid_notify(r, buf, sizeof buf);

      urb_fill(g_queue_pop_head(&r->pending_intr), buf, len);
    }
  fifo_update(r);
}

/* Removes the URBs of CL (all if CL is NULL) from Q, completing them with
 * STATUS or freeing them (STATUS 0). */
static void
flush_queue(GQueue *q, struct emu_client *cl, int status)
{
  GList *l = q->head, *next;

  for (; l; l = next)
    {
      struct emu_urb *urb = l->data;

      next = l->next;
      if (cl && urb->cl != cl)
        continue;
      g_queue_delete_link(q, l);
      if (status)
        urb_done(urb, status, 0);
      else
        urb_free(urb);
    }
}

/* The opener of CL closed the node. */
static void
client_gone(gpointer p)
{
  struct emu_client *cl = p;
  struct emu_reader *r = cl->r;
  struct emu_urb *urb;

  g_rec_mutex_lock(&r->emu->lock);
  if (r->claimer == cl)
    r->claimer = NULL;
  flush_queue(&r->pending_in, cl, 0);
  flush_queue(&r->pending_intr, cl, 0);
  while ((urb = g_queue_pop_head(&cl->ready)))
    {
      r->ready--;
      urb_free(urb);
    }
  r->clients = g_list_remove(r->clients, cl);
  fifo_update(r);
  g_rec_mutex_unlock(&r->emu->lock);
  g_free(cl);
}

/* The pid of the process behind CLIENT, from the credentials of its
 * socket.  umockdev 0.17 has no accessor; its private data starts with the
 * handler and the stream (umockdev-ioctl.vala), which is checked to be a
 * socket connection before it is used.  0 if unknown. */
static long
client_pid(UMockdevIoctlClient *client)
{
  gpointer *priv = (gpointer *)client->priv;
  GSocketConnection *conn;
  GCredentials *cred;
  long pid = 0;

  if (!priv || !G_IS_SOCKET_CONNECTION(priv[1]))
    return 0;
  conn = priv[1];
  cred = g_socket_get_credentials(g_socket_connection_get_socket(conn), NULL);
  if (cred)
    {
      pid = (long)g_credentials_get_unix_pid(cred, NULL);
      g_object_unref(cred);
    }
  return pid;
}

static struct emu_client *
client_get(struct emu_reader *r, UMockdevIoctlClient *client)
{
  struct emu_client *cl = g_object_get_data(G_OBJECT(client), "dualscd-emu-client");

  if (cl)
    return cl;
  cl = g_new0(struct emu_client, 1);
  cl->r = r;
  cl->generation = r->generation;
  cl->pid = client_pid(client);
  g_queue_init(&cl->ready);
  r->clients = g_list_prepend(r->clients, cl);
  g_object_set_data_full(G_OBJECT(client), "dualscd-emu-client", cl, client_gone);
  return cl;
}

static void
done(struct ioc *x, long res, int err)
{
  umockdev_ioctl_client_complete(x->client, res, err);
}

/* Reads the unsigned int argument. */
static int
arg_uint(struct ioc *x, unsigned int *v)
{
  if (!x->data || x->data->data_len < (int)sizeof *v)
    return -1;
  memcpy(v, x->data->data, sizeof *v);
  return 0;
}

static int
claim(struct ioc *x, unsigned int ifnum)
{
  struct emu_reader *r = x->r;

  if (ifnum != 0)
    return ENOENT;
  if (r->claimer == x->cl)
    return 0;
  if (r->faults.busy)
    {
      r->faults.busy--;
      return EBUSY;
    }
  if (r->claimer || r->kernel_driver)
    return EBUSY;
  r->claimer = x->cl;
  r->stats.claims++;
  return 0;
}

static void
io_claim(struct ioc *x)
{
  unsigned int ifnum;
  int err;

  if (arg_uint(x, &ifnum))
    {
      done(x, -1, EFAULT);
      return;
    }
  err = claim(x, ifnum);
  done(x, err ? -1 : 0, err);
}

static void
io_release(struct ioc *x)
{
  unsigned int ifnum;

  if (arg_uint(x, &ifnum) || ifnum != 0 || x->r->claimer != x->cl)
    {
      done(x, -1, EINVAL);
      return;
    }
  x->r->claimer = NULL;
  done(x, 0, 0);
}

/* Detaches the kernel driver: its sysfs link goes too. */
static void
unbind_driver(struct emu_reader *r)
{
  char *link = g_strconcat(r->emu->root, r->ifpath, "/driver", NULL);

  unlink(link);
  g_free(link);
  g_free(r->kernel_driver);
  r->kernel_driver = NULL;
}

static void
io_disconnect_claim(struct ioc *x)
{
  struct usbdevfs_disconnect_claim dc;
  int err;

  if (!x->data || x->data->data_len < (int)sizeof dc)
    {
      done(x, -1, EFAULT);
      return;
    }
  memcpy(&dc, x->data->data, sizeof dc);
  dc.driver[sizeof dc.driver - 1] = 0;
  if (x->r->kernel_driver)
    {
      int same = !strcmp(dc.driver, x->r->kernel_driver);

      if ((dc.flags & USBDEVFS_DISCONNECT_CLAIM_IF_DRIVER && !same)
          || (dc.flags & USBDEVFS_DISCONNECT_CLAIM_EXCEPT_DRIVER && same))
        {
          done(x, -1, EBUSY);
          return;
        }
      unbind_driver(x->r);
    }
  err = claim(x, dc.interface);
  done(x, err ? -1 : 0, err);
}

static void
io_getdriver(struct ioc *x)
{
  struct usbdevfs_getdriver gd;
  const char *name = x->r->claimer ? "usbfs" : x->r->kernel_driver;

  if (!x->data || x->data->data_len < (int)sizeof gd)
    {
      done(x, -1, EFAULT);
      return;
    }
  memcpy(&gd, x->data->data, sizeof gd);
  if (gd.interface != 0)
    {
      done(x, -1, EINVAL);
      return;
    }
  if (!name)
    {
      done(x, -1, ENODATA);
      return;
    }
  g_strlcpy(gd.driver, name, sizeof gd.driver);
  memcpy(x->data->data, &gd, sizeof gd);
  done(x, 0, 0);
}

/* USBDEVFS_IOCTL: libusb_detach_kernel_driver / attach. */
static void
io_ioctl(struct ioc *x)
{
  struct usbdevfs_ioctl io;

  if (!x->data || x->data->data_len < (int)sizeof io)
    {
      done(x, -1, EFAULT);
      return;
    }
  memcpy(&io, x->data->data, sizeof io);
  if (io.ioctl_code == (int)USBDEVFS_DISCONNECT)
    {
      if (!x->r->kernel_driver)
        {
          done(x, -1, ENODATA);
          return;
        }
      unbind_driver(x->r);
      done(x, 0, 0);
      return;
    }
  if (io.ioctl_code == (int)USBDEVFS_CONNECT)
    {
      done(x, 0, 0);
      return;
    }
  done(x, -1, ENOTTY);
}

static void
io_connectinfo(struct ioc *x)
{
  struct usbdevfs_connectinfo ci = { 0 };

  if (!x->data || x->data->data_len < (int)sizeof ci)
    {
      done(x, -1, EFAULT);
      return;
    }
  ci.devnum = x->r->devnum;
  memcpy(x->data->data, &ci, sizeof ci);
  done(x, 0, 0);
}

static void
io_capabilities(struct ioc *x)
{
  uint32_t caps = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM
                  | USBDEVFS_CAP_REAP_AFTER_DISCONNECT;

  if (!x->data || x->data->data_len < (int)sizeof caps)
    {
      done(x, -1, EFAULT);
      return;
    }
  memcpy(x->data->data, &caps, sizeof caps);
  done(x, 0, 0);
}

static void
io_clear_halt(struct ioc *x)
{
  unsigned int ep;

  if (arg_uint(x, &ep))
    {
      done(x, -1, EFAULT);
      return;
    }
  if (ep == EP_BULK_OUT)
    x->r->halted_out = 0;
  done(x, 0, 0);
}

static void
io_reset(struct ioc *x)
{
  emu_ccid_power_off_all(x->r);
  x->r->halted_out = 0;
  done(x, 0, 0);
}

static void
io_ok(struct ioc *x)
{
  done(x, 0, 0);
}

static void
io_speed(struct ioc *x)
{
  done(x, USB_SPEED_FULL, 0);
}

/* A control URB is answered at once. */
static void
submit_control(struct emu_urb *urb)
{
  uint8_t *buf = urb->buf_data ? urb->buf_data->data : NULL;
  size_t len = (size_t)urb->u.buffer_length;
  int n;

  if (!buf || len < 8)
    {
      urb_done(urb, -EINVAL, 0);
      return;
    }
  n = emu_desc_control(urb->cl->r, buf, buf + 8, len - 8);
  if (n < 0)
    urb_done(urb, -EPIPE, 0);
  else if (buf[0] & 0x80)
    urb_done(urb, 0, n);
  else
    urb_done(urb, 0, buf[6] | buf[7] << 8);
}

/* A bulk-OUT URB carries one CCID command; the reader takes it at once. */
static void
submit_bulk_out(struct emu_urb *urb)
{
  struct emu_reader *r = urb->cl->r;
  size_t len = (size_t)urb->u.buffer_length;

  if (r->faults.stall)
    {
      r->faults.stall--;
      r->halted_out = 1;
    }
  if (r->halted_out)
    {
      urb_done(urb, -EPIPE, 0);
      return;
    }
  if (r->faults.disconnect)
    {
      r->faults.disconnect--;
      g_queue_push_tail(&r->pending_in, urb); /* lost with the device */
      emu_usb_unplug(r);
      return;
    }
  if (urb->buf_data)
    emu_ccid_command(r, urb->buf_data->data, len);
  urb_done(urb, 0, (int)len);
}

/* Checks the URB's endpoint and type against the interface. */
static int
urb_valid(const struct emu_reader *r, const struct usbdevfs_urb *u)
{
  if (u->buffer_length < 0 || u->buffer_length > 1 << 20)
    return 0;
  if (u->type == USBDEVFS_URB_TYPE_CONTROL)
    return u->endpoint == 0 || u->endpoint == 0x80;
  if (u->type == USBDEVFS_URB_TYPE_BULK)
    return u->endpoint == EP_BULK_OUT || u->endpoint == EP_BULK_IN;
  if (u->type == USBDEVFS_URB_TYPE_INTERRUPT)
    return r->emu->opt.intr && u->endpoint == EP_INTR;
  return 0;
}

static void
queue_urb(struct emu_urb *urb)
{
  struct emu_reader *r = urb->cl->r;

  if (urb->u.type == USBDEVFS_URB_TYPE_CONTROL)
    submit_control(urb);
  else if (urb->u.endpoint == EP_BULK_OUT)
    submit_bulk_out(urb);
  else if (urb->u.endpoint == EP_BULK_IN)
    g_queue_push_tail(&r->pending_in, urb);
  else
    g_queue_push_tail(&r->pending_intr, urb);
}

static void
io_submit(struct ioc *x)
{
  struct usbdevfs_urb u;
  struct emu_urb *urb;
  int err;

  if (!x->data || x->data->data_len < (int)sizeof u)
    {
      done(x, -1, EFAULT);
      return;
    }
  memcpy(&u, x->data->data, sizeof u);
  urb = g_new0(struct emu_urb, 1);
  urb->cl = x->cl;
  urb->u.type = u.type;
  urb->u.endpoint = u.endpoint;
  urb->u.buffer_length = u.buffer_length;
  if (!urb_valid(x->r, &u))
    {
      g_free(urb);
      done(x, -1, EINVAL);
      return;
    }
  /* The kernel claims the interface implicitly for a non-control URB. */
  err = urb->u.type == USBDEVFS_URB_TYPE_CONTROL ? 0 : claim(x, 0);
  if (err)
    {
      g_free(urb);
      done(x, -1, err);
      return;
    }
  urb->urb_data = g_object_ref(x->data);
  if (urb->u.buffer_length > 0)
    urb->buf_data
        = umockdev_ioctl_data_resolve(x->data, offsetof(struct usbdevfs_urb, buffer),
                                      (gsize)urb->u.buffer_length, NULL);
  done(x, 0, 0);
  queue_urb(urb);
  emu_usb_kick(x->r);
}

static void
io_reap(struct ioc *x, int nonblocking)
{
  struct emu_urb *urb = g_queue_pop_head(&x->cl->ready);

  if (!x->data)
    {
      if (urb)
        g_queue_push_head(&x->cl->ready, urb);
      done(x, -1, EFAULT);
      return;
    }
  if (urb)
    {
      x->r->ready--;
      hand_over(x->cl, x->client, x->data, urb);
      fifo_update(x->r);
      return;
    }
  if (!x->r->plugged || x->cl->generation != x->r->generation)
    done(x, -1, ENODEV);
  else if (nonblocking || x->cl->waiting)
    done(x, -1, EAGAIN);
  else
    {
      x->cl->waiting = g_object_ref(x->client);
      x->cl->waiting_arg = g_object_ref(x->data);
    }
}

static void
io_reap_block(struct ioc *x)
{
  io_reap(x, 0);
}

static void
io_reap_ndelay(struct ioc *x)
{
  io_reap(x, 1);
}

/* The discarded URB is reaped with -ENOENT. */
static void
io_discard(struct ioc *x)
{
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(x->client);
  GQueue *queues[] = { &x->r->pending_in, &x->r->pending_intr };
  gulong addr = 0;
  size_t i;
  GList *l;

  if (arg && arg->data_len >= (int)sizeof addr)
    memcpy(&addr, arg->data, sizeof addr);
  for (i = 0; i < G_N_ELEMENTS(queues); i++)
    for (l = queues[i]->head; l; l = l->next)
      {
        struct emu_urb *urb = l->data;

        if (urb->cl == x->cl && urb->urb_data->client_addr == addr)
          {
            g_queue_delete_link(queues[i], l);
            done(x, 0, 0);
            urb_done(urb, -ENOENT, 0);
            fifo_update(x->r);
            return;
          }
      }
  done(x, -1, EINVAL);
}

struct ioc_entry
{
  unsigned long request;
  void (*fn)(struct ioc *);
  int while_gone; /* also after an unplug */
};

static const struct ioc_entry ioc_table[] = {
  { USBDEVFS_SUBMITURB, io_submit, 0 },
  { USBDEVFS_REAPURB, io_reap_block, 1 },
  { USBDEVFS_REAPURBNDELAY, io_reap_ndelay, 1 },
  { USBDEVFS_DISCARDURB, io_discard, 1 },
  { USBDEVFS_CLAIMINTERFACE, io_claim, 0 },
  { USBDEVFS_RELEASEINTERFACE, io_release, 0 },
  { USBDEVFS_DISCONNECT_CLAIM, io_disconnect_claim, 0 },
  { USBDEVFS_GETDRIVER, io_getdriver, 0 },
  { USBDEVFS_IOCTL, io_ioctl, 0 },
  { USBDEVFS_CONNECTINFO, io_connectinfo, 0 },
  { USBDEVFS_GET_CAPABILITIES, io_capabilities, 0 },
  { USBDEVFS_GET_SPEED, io_speed, 0 },
  { USBDEVFS_CLEAR_HALT, io_clear_halt, 0 },
  { USBDEVFS_RESET, io_reset, 0 },
  { USBDEVFS_RESETEP, io_ok, 0 },
  { USBDEVFS_SETINTERFACE, io_ok, 0 },
  { USBDEVFS_SETCONFIGURATION, io_ok, 0 },
  { USBDEVFS_DROP_PRIVILEGES, io_ok, 0 },
};

static gboolean
on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer opaque)
{
  struct emu_reader *r = opaque;
  unsigned long request = umockdev_ioctl_client_get_request(client);
  gsize size = (request >> _IOC_SIZESHIFT) & _IOC_SIZEMASK;
  struct ioc x = { r, NULL, client, NULL };
  const struct ioc_entry *e = NULL;
  size_t i;

  (void)handler;
  for (i = 0; i < G_N_ELEMENTS(ioc_table); i++)
    if (ioc_table[i].request == request)
      e = &ioc_table[i];
  g_rec_mutex_lock(&r->emu->lock);
  x.cl = client_get(r, client);
  if (size)
    x.data = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0, size,
                                         NULL);
  if (!e)
    done(&x, -1, ENOTTY);
  else if (!e->while_gone && (!r->plugged || x.cl->generation != r->generation))
    done(&x, -1, ENODEV);
  else
    e->fn(&x);
  if (x.data)
    g_object_unref(x.data);
  g_rec_mutex_unlock(&r->emu->lock);
  return TRUE;
}

/* The node /dev/bus/usb/BBB/DDD, created before the device's uevent so
 * that a client that reacts to it can open it. */
static gpg_error_t
make_fifo(struct emu_reader *r)
{
  char *dir;

  g_free(r->devnode);
  r->devnode = g_strdup_printf("/dev/bus/usb/%03u/%03u", r->busnum, r->devnum);

  g_free(r->fifo_path);
  r->fifo_path = g_strconcat(r->emu->root, r->devnode, NULL);
  dir = g_path_get_dirname(r->fifo_path);
  g_mkdir_with_parents(dir, 0755);
  g_free(dir);
  unlink(r->fifo_path);
  if (mkfifo(r->fifo_path, 0666))
    return gpg_error_from_syserror();
  r->fifo_fd = open(r->fifo_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (r->fifo_fd < 0)
    return gpg_error_from_syserror();
  /* One page is enough to keep poll() quiet, and cheap to refill. */
  (void)fcntl(r->fifo_fd, F_SETPIPE_SZ, 4096);
  r->fifo_full = 0;
  fifo_update(r);
  return 0;
}

gpg_error_t
emu_usb_add(struct emu_reader *r)
{
  GError *gerr = NULL;
  gpg_error_t err;

  r->fifo_fd = -1;
  r->plugged = 1;
  err = make_fifo(r);
  if (err)
    return err;
  if (emu_sysfs_add(r))
    return gpg_error(GPG_ERR_GENERAL);
  r->handler = umockdev_ioctl_base_new();
  g_signal_connect(r->handler, "handle-ioctl", G_CALLBACK(on_ioctl), r);
  if (!umockdev_testbed_attach_ioctl(r->emu->testbed, r->devnode, r->handler, &gerr))
    {
      g_printerr("dualscd-ccid-emu: attach_ioctl %s: %s\n", r->devnode, gerr->message);
      g_error_free(gerr);
      return gpg_error(GPG_ERR_GENERAL);
    }
  return 0;
}

void
emu_usb_unplug(struct emu_reader *r)
{
  GList *l;

  if (!r->plugged)
    return;
  r->plugged = 0;
  r->generation++;
  r->claimer = NULL;
  emu_ccid_power_off_all(r);
  g_queue_clear_full(&r->responses, (GDestroyNotify)g_bytes_unref);
  flush_queue(&r->pending_in, NULL, -ENODEV);
  flush_queue(&r->pending_intr, NULL, -ENODEV);
  /* A blocking reaper learns of the disconnect at once. */
  for (l = r->clients; l; l = l->next)
    {
      struct emu_client *cl = l->data;

      if (cl->waiting)
        {
          umockdev_ioctl_client_complete(cl->waiting, -1, ENODEV);
          g_object_unref(cl->waiting);
          g_object_unref(cl->waiting_arg);
          cl->waiting = NULL;
          cl->waiting_arg = NULL;
        }
    }
  emu_sysfs_remove(r);
  fifo_drain(r);
  close(r->fifo_fd); /* openers keep the old pipe, empty: they see POLLOUT */
  r->fifo_fd = -1;
}

gpg_error_t
emu_usb_replug(struct emu_reader *r)
{
  gpg_error_t err;
  unsigned int i;

  if (r->plugged)
    return 0;
  r->plugged = 1;
  r->halted_out = 0;
  for (i = 0; i < r->nslots; i++)
    r->slot[i].changed = r->slot[i].present;
  r->notify_pending = 1;
  err = make_fifo(r);
  if (err)
    return err;
  if (emu_sysfs_add(r)) /* the preloaded testbed sends the "add" uevents */
    return gpg_error(GPG_ERR_GENERAL);
  return 0;
}

void
emu_usb_holders(struct emu_reader *r, GString *buf)
{
  if (r->claimer)
    g_string_append_printf(buf, "%ld", r->claimer->pid);
}
