/* test-emu-libusb.c - a plain libusb-1.0 program against dualscd-ccid-emu
 *
 * Run by run-emu.sh under the umockdev preload: test-emu-libusb MODE, with
 * MODE apdu, ext or tpdu as the emulator was started.  Enumerates, parses
 * the CCID class descriptor, claims, powers the card on, selects the
 * OpenPGP application, counts the transfers through the control socket,
 * checks that a second claimer is refused, that an idle reader with a
 * pending interrupt URB costs no CPU, and that each fault happens.
 */

#include <errno.h>
#include <libusb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ccid-desc.h"
#include "ccid-msg.h"
#include "check.h"
#include "t1.h"

#define EP_OUT 0x02
#define EP_IN 0x81
#define EP_INTR 0x83
#define TIMEOUT_MS 3000

static const uint8_t select_openpgp[]
    = { 0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01, 0x00 };

static libusb_context *ctx;
static libusb_device_handle *dev;
static struct ccid_desc desc;
static const char *mode = "apdu";
static uint8_t seq;

/* Sends LINE to the emulator's control socket; the reply goes to REPLY. */
static int
control(const char *line, char *reply, size_t size)
{
  struct sockaddr_un sa = { 0 };
  const char *path = getenv("DUALSCD_EMU_CONTROL");
  size_t n = 0;
  ssize_t got;
  int fd;

  reply[0] = 0;
  if (!path || strlen(path) >= sizeof sa.sun_path)
    return -1;
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, path);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)
      || write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0)
    {
      if (fd >= 0)
        close(fd);
      return -1;
    }
  while (n + 1 < size && (got = read(fd, reply + n, size - n - 1)) > 0)
    {
      n += (size_t)got;
      reply[n] = 0;
      if (memchr(reply, '\n', n))
        break;
    }
  close(fd);
  reply[strcspn(reply, "\n")] = 0;
  return strncmp(reply, "ok", 2) ? -1 : 0;
}

static int
ctl(const char *line)
{
  char reply[256];

  if (control(line, reply, sizeof reply))
    {
      printf("# control '%s': %s\n", line, reply);
      return -1;
    }
  return 0;
}

/* A counter from "stats 1". */
static long
stat_value(const char *name)
{
  char reply[512], key[64];
  const char *p;

  if (control("stats 1", reply, sizeof reply))
    return -1;
  snprintf(key, sizeof key, " %s=", name);
  p = strstr(reply, key);
  return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int
bulk_out(const uint8_t *msg, size_t len)
{
  int done = 0;
  int rc = libusb_bulk_transfer(dev, EP_OUT, (uint8_t *)(uintptr_t)msg, (int)len, &done,
                                TIMEOUT_MS);

  return rc ? rc : (done == (int)len ? 0 : -100);
}

/* Reads one bulk-IN message; returns its length or a libusb error. */
static int
bulk_in(uint8_t *buf, size_t size, unsigned int timeout)
{
  int done = 0;
  int rc = libusb_bulk_transfer(dev, EP_IN, buf, (int)size, &done, timeout);

  return rc ? rc : done;
}

/* Sends a command and decodes the reply into REP (BUF holds it). */
static int
exchange(const uint8_t *msg, size_t len, uint8_t *buf, size_t size,
         struct ccid_reply *rep)
{
  int n = bulk_out(msg, len);

  if (n)
    return n;
  n = bulk_in(buf, size, TIMEOUT_MS);
  if (n < 0)
    return n;
  return ccid_reply_decode(buf, (size_t)n, 65536, rep) ? -200 : 0;
}

static int
xfr(const uint8_t *data, size_t len, uint16_t level, uint8_t *buf, size_t size,
    struct ccid_reply *rep)
{
  uint8_t msg[512];
  size_t mlen;

  if (ccid_cmd_xfr_block(0, seq++, 0, level, data, len, msg, sizeof msg, &mlen))
    return -300;
  return exchange(msg, mlen, buf, size, rep);
}

static void
test_enumerate(void)
{
  libusb_device **list = NULL;
  struct libusb_config_descriptor *cfg = NULL;
  const uint8_t *cd = NULL;
  size_t cdlen = 0;
  ssize_t n = libusb_get_device_list(ctx, &list);

  CHECK(n >= 1);
  dev = libusb_open_device_with_vid_pid(ctx, 0x1050, 0x0407);
  CHECK(dev != NULL);
  if (!dev)
    return;
  CHECK(libusb_get_active_config_descriptor(libusb_get_device(dev), &cfg) == 0);
  if (cfg)
    {
      const struct libusb_interface_descriptor *ifd = &cfg->interface[0].altsetting[0];

      CHECK(ifd->bInterfaceClass == 0x0B);
      CHECK(ccid_desc_find(ifd->extra, (size_t)ifd->extra_length, &cd, &cdlen) == 0);
      if (cd)
        CHECK(ccid_desc_parse(cd, cdlen, &desc) == 0);
      CHECK(desc.dwMaxCCIDMessageLength == 271);
      libusb_free_config_descriptor(cfg);
    }
  libusb_free_device_list(list, 1);
}

static void
test_claim(void)
{
  char reply[64], want[64];

  CHECK(libusb_kernel_driver_active(dev, 0) == 0);
  CHECK(libusb_claim_interface(dev, 0) == 0);
  CHECK(control("holders 1", reply, sizeof reply) == 0);
  snprintf(want, sizeof want, "ok %ld", (long)getpid());
  CHECK(!strcmp(reply, want));
}

static void
test_power_on(void)
{
  uint8_t msg[16], buf[512];
  size_t len;
  struct ccid_reply rep;

  CHECK(ccid_cmd_icc_power_on(0, seq++, CCID_POWER_AUTO, msg, sizeof msg, &len) == 0);
  CHECK(exchange(msg, len, buf, sizeof buf, &rep) == 0);
  CHECK(rep.type == CCID_RDR_TO_PC_DATA_BLOCK && rep.cmd_status == CCID_CMD_OK);
  CHECK(rep.datalen > 2 && rep.data[0] == 0x3B);
}

/* T=1 for the TPDU reader: SetParameters, S(IFS), then I-blocks. */
static int
t1_select(uint8_t *resp, size_t *resplen)
{
  static unsigned int ns;
  uint8_t blk[T1_MAX_BLOCK], buf[512];
  struct t1_block b = { 0 }, in;
  struct ccid_reply rep;
  size_t len;
  int rc;

  b.type = T1_BLOCK_I;
  b.seq = ns;
  b.inf = select_openpgp;
  b.inflen = sizeof select_openpgp;
  if (t1_block_encode(&b, T1_EDC_LRC, blk, sizeof blk, &len))
    return -1;
  rc = xfr(blk, len, 0, buf, sizeof buf, &rep);
  if (rc || t1_block_parse(rep.data, rep.datalen, T1_EDC_LRC, 254, &in)
      || in.type != T1_BLOCK_I)
    return -1;
  ns ^= 1;
  memcpy(resp, in.inf, in.inflen);
  *resplen = in.inflen;
  return 0;
}

static void
test_tpdu_setup(void)
{
  static const struct ccid_params p
      = { .protocol = CCID_PROTOCOL_T1, .t1 = { 0x18, 0x10, 0xFF, 0x75, 0, 0xFE, 0 } };
  uint8_t msg[32], buf[512], blk[8];
  struct t1_block b = { 0 }, in;
  struct ccid_reply rep;
  uint8_t ifsd = 254;
  size_t len;

  CHECK(ccid_cmd_set_parameters(0, seq++, &p, msg, sizeof msg, &len) == 0);
  CHECK(exchange(msg, len, buf, sizeof buf, &rep) == 0);
  CHECK(rep.type == CCID_RDR_TO_PC_PARAMETERS && rep.has_params);
  CHECK(stat_value("claims") >= 0);
  b.type = T1_BLOCK_S;
  b.stype = T1_S_IFS;
  b.inf = &ifsd;
  b.inflen = 1;
  CHECK(t1_block_encode(&b, T1_EDC_LRC, blk, sizeof blk, &len) == 0);
  CHECK(xfr(blk, len, 0, buf, sizeof buf, &rep) == 0);
  CHECK(t1_block_parse(rep.data, rep.datalen, T1_EDC_LRC, 254, &in) == 0);
  CHECK(in.type == T1_BLOCK_S && in.stype == T1_S_IFS && in.response);
}

/* SELECT costs exactly one bulk-OUT and one bulk-IN transfer. */
static void
test_select(void)
{
  uint8_t buf[512], resp[300];
  struct ccid_reply rep;
  size_t rlen = 0;

  CHECK(ctl("stats-reset 1") == 0);
  if (!strcmp(mode, "tpdu"))
    CHECK(t1_select(resp, &rlen) == 0);
  else
    {
      CHECK(xfr(select_openpgp, sizeof select_openpgp, 0, buf, sizeof buf, &rep) == 0);
      CHECK(rep.datalen <= sizeof resp);
      rlen = rep.datalen;
      memcpy(resp, rep.data, rlen);
    }
  CHECK(rlen >= 2 && resp[rlen - 2] == 0x90 && resp[rlen - 1] == 0x00);
  CHECK_INT(stat_value("bulk_out"), 1);
  CHECK_INT(stat_value("bulk_in"), 1);
}

/* Sends an extended APDU in parts of at most max_data_len bytes
 * (wLevelParameter 1, 3..., 2) and collects the response parts (asking
 * with wLevelParameter 0x10 while bChainParameter says more follows). */
static int
xfr_chained(const uint8_t *apdu, size_t len, uint8_t *resp, size_t respsize,
            size_t *resplen, unsigned int *parts)
{
  size_t chunk = desc.max_data_len, off = 0, n;
  uint8_t buf[512];
  struct ccid_reply rep;
  uint16_t level;

  *resplen = 0;
  *parts = 0;
  do
    {
      n = len - off > chunk ? chunk : len - off;
      if (off == 0)
        level = n == len ? CCID_CHAIN_BEGIN_END : CCID_CHAIN_BEGIN_MORE;
      else
        level = off + n == len ? CCID_CHAIN_CONTINUE_END : CCID_CHAIN_CONTINUE_MORE;
      if (xfr(apdu + off, n, level, buf, sizeof buf, &rep))
        return -1;
      (*parts)++;
      off += n;
      if (off < len && rep.specific != CCID_CHAIN_EMPTY_MORE)
        return -2;
    }
  while (off < len);
  for (;;)
    {
      if (*resplen + rep.datalen > respsize)
        return -3;
      memcpy(resp + *resplen, rep.data, rep.datalen);
      *resplen += rep.datalen;
      if (rep.specific != CCID_CHAIN_BEGIN_MORE
          && rep.specific != CCID_CHAIN_CONTINUE_MORE)
        return 0;
      if (xfr(NULL, 0, CCID_CHAIN_EMPTY_MORE, buf, sizeof buf, &rep))
        return -4;
      (*parts)++;
    }
}

/* Extended APDU level: a 2 KB certificate goes in with PUT DATA and comes
 * back with GET DATA, both needing wLevelParameter chaining. */
static void
test_ext_chaining(void)
{
  static const uint8_t verify_pw3[]
      = { 0x00, 0x20, 0x00, 0x83, 0x08, '1', '2', '3', '4', '5', '6', '7', '8' };
  static const uint8_t get_cert[] = { 0x00, 0xCA, 0x7F, 0x21, 0x00, 0x00, 0x00 };
  static uint8_t apdu[7 + 2048], resp[4096];
  unsigned int parts = 0;
  size_t rlen = 0, i;

  CHECK(xfr_chained(verify_pw3, sizeof verify_pw3, resp, sizeof resp, &rlen, &parts)
        == 0);
  CHECK(rlen == 2 && resp[0] == 0x90);
  memcpy(apdu, (const uint8_t[]){ 0x00, 0xDA, 0x7F, 0x21, 0x00, 0x08, 0x00 }, 7);
  for (i = 0; i < 2048; i++)
    apdu[7 + i] = (uint8_t)i;
  CHECK(xfr_chained(apdu, sizeof apdu, resp, sizeof resp, &rlen, &parts) == 0);
  CHECK(rlen == 2 && resp[0] == 0x90);
  CHECK_INT(parts, (sizeof apdu + 260) / 261);
  CHECK(xfr_chained(get_cert, sizeof get_cert, resp, sizeof resp, &rlen, &parts) == 0);
  CHECK_INT(rlen, 2050);
  CHECK(rlen == 2050 && resp[2048] == 0x90 && !memcmp(resp, apdu + 7, 2048));
  CHECK_INT(parts, 1 + (2050 - 1) / 261);
}

static void
test_second_claimer(void)
{
  libusb_device_handle *other = NULL;

  CHECK(libusb_open(libusb_get_device(dev), &other) == 0);
  if (other)
    {
      CHECK_INT(libusb_claim_interface(other, 0), LIBUSB_ERROR_BUSY);
      libusb_close(other);
    }
}

/* utime + stime of PID in clock ticks. */
static long
cpu_ticks(long pid)
{
  char path[64], line[1024], *p;
  unsigned long ut = 0, st = 0;
  FILE *fp;

  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  fp = fopen(path, "r");
  if (!fp)
    return -1;
  if (!fgets(line, sizeof line, fp))
    line[0] = 0;
  fclose(fp);
  p = strrchr(line, ')');
  if (!p
      || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st)
             != 2)
    return -1;
  return (long)(ut + st);
}

static void LIBUSB_CALL
intr_cb(struct libusb_transfer *t)
{
  *(int *)t->user_data = 1;
}

/* With an interrupt URB pending, three idle seconds cost neither process
 * CPU time (a busy-polling pair would burn ~300 ticks). */
static void
test_idle(void)
{
  uint8_t buf[8];
  struct libusb_transfer *t = libusb_alloc_transfer(0);
  const char *emu_pid_s = getenv("DUALSCD_EMU_PID");
  long emu_pid = emu_pid_s ? atol(emu_pid_s) : 0, e0, s0, e1, s1;
  struct timeval tv = { 0, 100000 };
  struct timespec start, now;
  int completed = 0;

  /* Consume the NotifySlotChange pending since power-up. */
  libusb_fill_interrupt_transfer(t, dev, EP_INTR, buf, sizeof buf, intr_cb, &completed,
                                 0);
  CHECK(libusb_submit_transfer(t) == 0);
  while (!completed)
    libusb_handle_events_timeout_completed(ctx, &tv, &completed);
  completed = 0;
  CHECK(libusb_submit_transfer(t) == 0);
  e0 = cpu_ticks(emu_pid);
  s0 = cpu_ticks(getpid());
  clock_gettime(CLOCK_MONOTONIC, &start);
  do
    {
      struct timeval wait = { 0, 500000 };
      libusb_handle_events_timeout_completed(ctx, &wait, &completed);
      clock_gettime(CLOCK_MONOTONIC, &now);
    }
  while (now.tv_sec - start.tv_sec < 3);
  e1 = cpu_ticks(emu_pid);
  s1 = cpu_ticks(getpid());
  printf("# idle 3 s: emulator %ld ticks, client %ld ticks\n", e1 - e0, s1 - s0);
  CHECK(e0 >= 0 && e1 - e0 <= 5);
  CHECK(s0 >= 0 && s1 - s0 <= 5);
  CHECK(!completed);
  /* A card removal completes it with NotifySlotChange: slot 0 absent,
   * changed. */
  CHECK(ctl("remove 1 0") == 0);
  while (!completed)
    libusb_handle_events_timeout_completed(ctx, &tv, &completed);
  CHECK(t->status == LIBUSB_TRANSFER_COMPLETED && t->actual_length == 2);
  CHECK(buf[0] == 0x50 && (buf[1] & 3) == 2); /* slot 0 absent, changed */
  CHECK(ctl("insert 1 0") == 0);
  completed = 0;
  CHECK(libusb_submit_transfer(t) == 0);
  while (!completed)
    libusb_handle_events_timeout_completed(ctx, &tv, &completed);
  CHECK(buf[0] == 0x50 && (buf[1] & 3) == 3);
  libusb_free_transfer(t);
  test_power_on();
}

/* Round-trip time of GetSlotStatus, for the report. */
static void
test_latency(void)
{
  uint8_t msg[16], buf[64];
  struct ccid_reply rep;
  struct timespec a, b;
  size_t len;
  int i, ok = 1;

  clock_gettime(CLOCK_MONOTONIC, &a);
  for (i = 0; i < 200; i++)
    {
      ccid_cmd_get_slot_status(0, seq++, msg, sizeof msg, &len);
      ok &= exchange(msg, len, buf, sizeof buf, &rep) == 0;
    }
  clock_gettime(CLOCK_MONOTONIC, &b);
  CHECK(ok);
  printf("# GetSlotStatus round trip: %.3f ms\n",
         ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6)
             / 200.0);
}

static void
slot_status(uint8_t *buf, size_t size, int *n)
{
  uint8_t msg[16];
  size_t len;

  ccid_cmd_get_slot_status(0, seq++, msg, sizeof msg, &len);
  *n = bulk_out(msg, len);
  if (!*n)
    *n = bulk_in(buf, size, 1000);
}

static void
test_fault_stall(void)
{
  uint8_t buf[64];
  int n;

  CHECK(ctl("fault 1 stall") == 0);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, LIBUSB_ERROR_PIPE);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, LIBUSB_ERROR_PIPE); /* halted until CLEAR_HALT */
  CHECK(libusb_clear_halt(dev, EP_OUT) == 0);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, 10);
}

static void
test_fault_timeout(void)
{
  uint8_t buf[64];
  int n;

  CHECK(ctl("fault 1 timeout") == 0);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, LIBUSB_ERROR_TIMEOUT);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, 10);
}

static void
test_fault_bad_seq(void)
{
  uint8_t buf[64];
  int n;

  CHECK(ctl("fault 1 bad-seq") == 0);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, 10);
  CHECK_INT(buf[6], (uint8_t)(seq));
}

static void
test_fault_lie_length(void)
{
  uint8_t buf[64];
  struct ccid_reply rep;
  int n;

  CHECK(ctl("fault 1 lie-length") == 0);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, 10);
  CHECK_INT(buf[1], 16);
  CHECK(ccid_reply_decode(buf, (size_t)n, 261, &rep) != 0);
}

static void
test_fault_oversize(void)
{
  uint8_t buf[1024];
  int n;

  CHECK(ctl("fault 1 oversize") == 0);
  slot_status(buf, sizeof buf, &n);
  CHECK(n > 271);
}

static void
test_fault_wtx(void)
{
  uint8_t buf[512];
  struct ccid_reply rep;
  int n;

  if (!strcmp(mode, "tpdu"))
    return; /* S(WTX) is exercised by GnuPG's driver in the tpdu run */
  CHECK(ctl("fault 1 wtx 2") == 0);
  CHECK(xfr(select_openpgp, sizeof select_openpgp, 0, buf, sizeof buf, &rep) == 0);
  CHECK_INT(rep.cmd_status, CCID_CMD_TIME_EXTENSION);
  n = bulk_in(buf, sizeof buf, TIMEOUT_MS);
  CHECK(n == 10 && (buf[7] >> 6) == CCID_CMD_TIME_EXTENSION);
  n = bulk_in(buf, sizeof buf, TIMEOUT_MS);
  CHECK(n >= 12 && buf[n - 2] == 0x90);
}

static void
test_fault_corrupt_t1(void)
{
  uint8_t resp[300];
  size_t rlen;

  if (strcmp(mode, "tpdu"))
    return;
  CHECK(ctl("fault 1 corrupt-t1") == 0);
  CHECK(t1_select(resp, &rlen) != 0); /* the block fails its LRC */
}

static void
test_fault_busy(void)
{
  CHECK(libusb_release_interface(dev, 0) == 0);
  CHECK(ctl("fault 1 busy") == 0);
  CHECK_INT(libusb_claim_interface(dev, 0), LIBUSB_ERROR_BUSY);
  CHECK(libusb_claim_interface(dev, 0) == 0);
}

static void
test_fault_disconnect(void)
{
  uint8_t buf[64];
  int n, i;

  CHECK(ctl("fault 1 disconnect") == 0);
  slot_status(buf, sizeof buf, &n);
  CHECK_INT(n, LIBUSB_ERROR_NO_DEVICE);
  libusb_close(dev);
  dev = NULL;
  CHECK(ctl("replug 1") == 0);
  /* libusb learns of the new device from its udev monitor thread. */
  for (i = 0; i < 50 && !dev; i++)
    {
      struct timespec pause = { 0, 50000000 };

      dev = libusb_open_device_with_vid_pid(ctx, 0x1050, 0x0407);
      if (!dev)
        nanosleep(&pause, NULL);
    }
  CHECK(dev != NULL);
  if (!dev)
    return;
  CHECK(libusb_claim_interface(dev, 0) == 0);
  test_power_on();
}

/* PC_to_RDR_Secure: verify PW1 with the PIN the "pinpad" types. */
static int
secure_verify(struct ccid_reply *rep, uint8_t *buf, size_t size)
{
  static const uint8_t tmpl[] = { 0x00, 0x20, 0x00, 0x81 };
  struct ccid_pin_verify pv = { 0 };
  uint8_t data[64], msg[128];
  size_t dlen, mlen;

  pv.format_string = 0x82; /* bytes, position 0, left justified, ASCII */
  pv.max_digits = 32;
  pv.min_digits = 6;
  pv.entry_validation = CCID_PIN_VALID_KEY;
  pv.number_message = 1;
  pv.lang_id = 0x0409;
  if (ccid_pin_verify_encode(&pv, tmpl, sizeof tmpl, data, sizeof data, &dlen)
      || ccid_cmd_secure(0, seq++, 0, 0, data, dlen, msg, sizeof msg, &mlen))
    return -1;
  return exchange(msg, mlen, buf, size, rep);
}

static void
test_pinpad(void)
{
  uint8_t buf[512];
  struct ccid_reply rep;

  CHECK(desc.bPINSupport == 3);
  CHECK(secure_verify(&rep, buf, sizeof buf) == 0);
  CHECK(rep.datalen == 2 && rep.data[0] == 0x90 && rep.data[1] == 0x00);
  CHECK(ctl("pinpad-pin 000000") == 0);
  CHECK(secure_verify(&rep, buf, sizeof buf) == 0);
  /* A wrong PIN: 6982, as OpenPGP cards answer it. */
  CHECK(rep.datalen == 2 && rep.data[0] == 0x69 && rep.data[1] == 0x82);
  CHECK(ctl("pinpad-cancel") == 0);
  CHECK(secure_verify(&rep, buf, sizeof buf) == 0);
  CHECK(rep.cmd_status == CCID_CMD_FAILED && rep.error == 0xEF);
  CHECK(ctl("pinpad-pin 123456") == 0);
  CHECK(secure_verify(&rep, buf, sizeof buf) == 0);
  CHECK(rep.datalen == 2 && rep.data[0] == 0x90);
}

/* The second slot: its own card, its own bits in NotifySlotChange. */
static void
test_second_slot(void)
{
  uint8_t msg[16], buf[512];
  struct ccid_reply rep;
  size_t len;
  int n;

  CHECK(desc.nslots == 2);
  CHECK(ccid_cmd_icc_power_on(1, seq++, CCID_POWER_AUTO, msg, sizeof msg, &len) == 0);
  CHECK(exchange(msg, len, buf, sizeof buf, &rep) == 0);
  CHECK(rep.slot == 1 && rep.datalen > 2 && rep.data[0] == 0x3B);
  /* The notification pending since power-up comes first. */
  n = 0;
  CHECK(libusb_interrupt_transfer(dev, EP_INTR, buf, 8, &n, TIMEOUT_MS) == 0);
  CHECK(n == 2 && buf[0] == 0x50 && buf[1] == 0x0F);
  CHECK(ctl("remove 1 1") == 0);
  CHECK(libusb_interrupt_transfer(dev, EP_INTR, buf, 8, &n, TIMEOUT_MS) == 0);
  CHECK(n == 2 && buf[0] == 0x50 && buf[1] == 0x09); /* slot 0 present, 1 changed */
  CHECK(ctl("insert 1 1") == 0);
}

/* --kernel-driver: the interface is bound until the host detaches it. */
static void
test_kernel_driver(void)
{
  CHECK_INT(libusb_kernel_driver_active(dev, 0), 1);
  CHECK_INT(libusb_claim_interface(dev, 0), LIBUSB_ERROR_BUSY);
  CHECK_INT(libusb_detach_kernel_driver(dev, 0), 0);
  CHECK_INT(libusb_kernel_driver_active(dev, 0), 0);
  CHECK_INT(libusb_claim_interface(dev, 0), 0);
}

int
main(int argc, char **argv)
{
  if (argc > 1)
    mode = argv[1];
  if (libusb_init(&ctx))
    {
      printf("1..1\nnot ok 1 - libusb_init\n");
      return 1;
    }
  RUN(test_enumerate);
  if (!dev)
    return check_done();
  if (argc > 2 && !strcmp(argv[2], "kdriver"))
    {
      RUN(test_kernel_driver);
      RUN(test_power_on);
      RUN(test_select);
      libusb_close(dev);
      libusb_exit(ctx);
      return check_done();
    }
  RUN(test_claim);
  RUN(test_power_on);
  if (!strcmp(mode, "tpdu"))
    RUN(test_tpdu_setup);
  RUN(test_select);
  if (argc > 2 && !strcmp(argv[2], "pinpad"))
    {
      RUN(test_pinpad);
      RUN(test_second_slot);
    }
  if (!strcmp(mode, "ext"))
    RUN(test_ext_chaining);
  RUN(test_second_claimer);
  RUN(test_idle);
  RUN(test_latency);
  RUN(test_fault_stall);
  RUN(test_fault_timeout);
  RUN(test_fault_bad_seq);
  RUN(test_fault_lie_length);
  RUN(test_fault_oversize);
  RUN(test_fault_wtx);
  RUN(test_fault_corrupt_t1);
  RUN(test_fault_busy);
  RUN(test_fault_disconnect);
  if (dev)
    libusb_close(dev);
  libusb_exit(ctx);
  return check_done();
}
