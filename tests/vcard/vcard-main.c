/* vcard-main.c - dualscd-vcard: serve the software OpenPGP card to pcscd via vpcd
 *
 * pcscd's vpcd driver listens on a TCP port; this program is the card side
 * of that connection.  Every message in both directions is a 2-byte
 * big-endian length followed by the payload.  A 1-byte payload from vpcd is
 * a control code (power off/on, reset, get ATR); anything longer is a
 * command APDU, answered with the response APDU.  When vpcd is not there
 * yet or goes away, the program reconnects with a bounded backoff: to pcscd
 * that looks like a card being inserted again.
 */
#define _GNU_SOURCE /* signalfd, TCP_QUICKACK, explicit_bzero */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vcard.h"

#define PROGRAM "dualscd-vcard"

/* Reconnect backoff: quick while pcscd is starting, bounded so that a card
 * comes back within 2 s of vpcd returning. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 2000
#define LATENCY_MAX_MS 60000

/* vpcd control codes (a 1-byte message from vpcd). */
enum vpcd_ctrl
{
  VPCD_CTRL_OFF = 0,
  VPCD_CTRL_ON = 1,
  VPCD_CTRL_RESET = 2,
  VPCD_CTRL_ATR = 4
};

struct config
{
  char *host;
  char *port;
  const char *state_path;
  const char *log_path;
  unsigned int version;
  int latency_ms;
  int print_atr;
  int no_private_dos;
};

/* Everything one run holds; one instance, torn down on one path. */
struct server
{
  struct config cfg;
  struct vcard *card;
  FILE *log;
  int sigfd; /* SIGTERM/SIGINT, so that a blocked wait is interrupted */
  int sock;
  int stop;
};

/* How an I/O step ended: done, peer gone (reconnect), or asked to stop. */
enum io_result
{
  IO_OK,
  IO_GONE,
  IO_STOP
};

static void die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die_usage(const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, PROGRAM ": ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (try --help)\n");
  exit(2);
}

static void
log_error(const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, PROGRAM ": ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void
usage(void)
{
  printf("Usage: " PROGRAM " --vpcd HOST:PORT --state FILE [options]\n"
         "Serve a software OpenPGP card to pcscd through the vpcd driver.\n\n"
         "  --vpcd HOST:PORT   where pcscd's vpcd driver listens\n"
         "  --state FILE       card state (created with factory defaults)\n"
         "  --version V        application version: 3.4 (default), 3.3, 2.1\n"
         "  --latency-ms N     sleep N ms before each response\n"
         "  --apdu-log FILE    append one line per APDU (PINs and keys redacted)\n"
         "  --no-private-dos   a card without the private use DOs 0101-0104\n"
         "  --print-atr        print the card's ATR in hex and exit (tests compare it\n"
         "                     with what PC/SC clients see)\n"
         "  --help             this text\n");
}

/* Application versions by name; a table so --help and parsing agree. */
static const struct
{
  const char *name;
  unsigned int version;
} version_table[] = {
  { "3.4", VCARD_VERSION_3_4 },
  { "3.3", VCARD_VERSION_3_3 },
  { "2.1", VCARD_VERSION_2_1 },
};

static unsigned int
parse_version(const char *s)
{
  size_t i;

  for (i = 0; i < sizeof version_table / sizeof version_table[0]; i++)
    if (!strcmp(s, version_table[i].name))
      return version_table[i].version;
  die_usage("unknown card version '%s'", s);
  return 0;
}

static int
parse_ms(const char *s)
{
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > LATENCY_MAX_MS)
    die_usage("--latency-ms wants 0..%d, not '%s'", LATENCY_MAX_MS, s);
  return (int)v;
}

/* HOST:PORT, HOST may be [v6-literal].  Splits at the last colon. */
static void
parse_endpoint(const char *s, struct config *cfg)
{
  const char *colon = strrchr(s, ':');
  size_t hlen;

  if (!colon || colon == s || !colon[1])
    die_usage("--vpcd wants HOST:PORT, not '%s'", s);
  hlen = (size_t)(colon - s);
  if (s[0] == '[' && hlen >= 2 && s[hlen - 1] == ']')
    cfg->host = strndup(s + 1, hlen - 2);
  else
    cfg->host = strndup(s, hlen);
  cfg->port = strdup(colon + 1);
  if (!cfg->host || !cfg->port)
    die_usage("out of memory");
}

static void
parse_args(int argc, char **argv, struct config *cfg)
{
  static const struct option opts[] = {
    { "vpcd", required_argument, NULL, 'v' },
    { "state", required_argument, NULL, 's' },
    { "version", required_argument, NULL, 'V' },
    { "latency-ms", required_argument, NULL, 'l' },
    { "apdu-log", required_argument, NULL, 'a' },
    { "print-atr", no_argument, NULL, 'p' },
    { "no-private-dos", no_argument, NULL, 'n' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
    {
      if (c == 'v')
        parse_endpoint(optarg, cfg);
      else if (c == 's')
        cfg->state_path = optarg;
      else if (c == 'V')
        cfg->version = parse_version(optarg);
      else if (c == 'l')
        cfg->latency_ms = parse_ms(optarg);
      else if (c == 'a')
        cfg->log_path = optarg;
      else if (c == 'p')
        cfg->print_atr = 1;
      else if (c == 'n')
        cfg->no_private_dos = 1;
      else if (c == 'h')
        {
          usage();
          exit(0);
        }
      else
        die_usage("bad option");
    }
  if (optind != argc)
    die_usage("unexpected argument '%s'", argv[optind]);
  if (!cfg->print_atr && (!cfg->host || !cfg->state_path))
    die_usage("--vpcd and --state are required");
}

/* SIGTERM/SIGINT arrive on a descriptor that every wait polls. */
static int
open_signalfd(void)
{
  sigset_t set;

  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (sigprocmask(SIG_BLOCK, &set, NULL))
    return -1;
  /* A peer that vanishes mid-send must be an error, not a kill. */
  signal(SIGPIPE, SIG_IGN);
  return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Waits up to TIMEOUT_MS (-1: forever) for FD to become readable (FD -1:
 * just sleep).  IO_STOP if a stop signal came first. */
static enum io_result
wait_readable(struct server *srv, int fd, int timeout_ms)
{
  struct pollfd pfd[2] = { { srv->sigfd, POLLIN, 0 }, { fd, POLLIN, 0 } };
  int n;

  for (;;)
    {
      n = poll(pfd, fd >= 0 ? 2 : 1, timeout_ms);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          log_error("poll: %s", strerror(errno));
          srv->stop = 1;
          return IO_STOP;
        }
      if (pfd[0].revents)
        {
          srv->stop = 1;
          return IO_STOP;
        }
      return IO_OK;
    }
}

static int
try_connect(const struct config *cfg)
{
  struct addrinfo hints = { 0 }, *res = NULL, *ai;
  int fd = -1, one = 1, rc, saved_errno;

  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo(cfg->host, cfg->port, &hints, &res);
  if (rc)
    {
      log_error("resolving %s:%s: %s", cfg->host, cfg->port, gai_strerror(rc));
      return -1;
    }
  for (ai = res; ai && fd < 0; ai = ai->ai_next)
    {
      fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen))
        {
          saved_errno = errno;
          close(fd);
          fd = -1;
          errno = saved_errno;
        }
    }
  freeaddrinfo(res);
  /* vpcd sends length and payload in two writes; answering at once and
   * acking at once keeps an APDU round trip well under a millisecond. */
  if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one))
    log_error("TCP_NODELAY: %s", strerror(errno));
  return fd;
}

/* Connects to vpcd, retrying with a doubling backoff until it answers or a
 * stop signal arrives. */
static enum io_result
connect_vpcd(struct server *srv)
{
  int delay = BACKOFF_FIRST_MS, reported = 0;

  for (;;)
    {
      srv->sock = try_connect(&srv->cfg);
      if (srv->sock >= 0)
        return IO_OK;
      if (!reported)
        log_error("vpcd at %s:%s not reachable (%s); retrying", srv->cfg.host,
                  srv->cfg.port, strerror(errno));
      reported = 1;
      if (wait_readable(srv, -1, delay) == IO_STOP)
        return IO_STOP;
      delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    }
}

/* Reads exactly LEN bytes. */
static enum io_result
recv_all(struct server *srv, uint8_t *buf, size_t len)
{
  size_t got = 0;
  ssize_t n;
  int one = 1;

  while (got < len)
    {
      if (wait_readable(srv, srv->sock, -1) == IO_STOP)
        return IO_STOP;
      /* Linux clears quick-ack mode by itself; re-arm it before each read so
       * vpcd's second write is never held by a delayed ACK. */
      setsockopt(srv->sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
      n = recv(srv->sock, buf + got, len - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n < 0)
            log_error("receiving from vpcd: %s", strerror(errno));
          return IO_GONE;
        }
      got += (size_t)n;
    }
  return IO_OK;
}

static enum io_result
send_frame(struct server *srv, const uint8_t *data, size_t len)
{
  uint8_t frame[2 + VCARD_MAX_APDU + 2];
  size_t off = 0, total = len + 2;
  ssize_t n;

  if (len > sizeof frame - 2)
    {
      log_error("response of %zu bytes does not fit a frame", len);
      return IO_GONE;
    }
  frame[0] = (uint8_t)(len >> 8);
  frame[1] = (uint8_t)len;
  memcpy(frame + 2, data, len);
  while (off < total)
    {
      n = send(srv->sock, frame + off, total - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          log_error("sending to vpcd: %s", strerror(errno));
          break;
        }
      off += (size_t)n;
    }
  explicit_bzero(frame, sizeof frame);
  return off == total ? IO_OK : IO_GONE;
}

/* --latency-ms: a slow reader or card, interruptible by a stop signal. */
static enum io_result
simulate_latency(struct server *srv)
{
  if (srv->cfg.latency_ms <= 0)
    return IO_OK;
  return wait_readable(srv, -1, srv->cfg.latency_ms);
}

static enum io_result
handle_control(struct server *srv, uint8_t code)
{
  uint8_t atr[33];
  size_t atrlen;

  if (code == VPCD_CTRL_ATR)
    {
      atrlen = vcard_atr(srv->card, atr, sizeof atr);
      if (!atrlen)
        {
          log_error("card has no ATR");
          return IO_GONE;
        }
      return send_frame(srv, atr, atrlen);
    }
  if (code == VPCD_CTRL_OFF || code == VPCD_CTRL_ON || code == VPCD_CTRL_RESET)
    vcard_reset(srv->card);
  else
    log_error("unknown vpcd control code %u ignored", code);
  return IO_OK;
}

/* Skips the payload of a frame too long for any APDU, so the stream stays
 * in step, and answers it like a card whose buffer is too small. */
static enum io_result
reject_oversized(struct server *srv, size_t len)
{
  static const uint8_t wrong_length[2] = { 0x67, 0x00 };
  uint8_t sink[512];
  size_t chunk;
  enum io_result r = IO_OK;

  log_error("APDU of %zu bytes exceeds %d; answered 6700", len, VCARD_MAX_APDU);
  while (len && r == IO_OK)
    {
      chunk = len < sizeof sink ? len : sizeof sink;
      r = recv_all(srv, sink, chunk);
      len -= chunk;
    }
  explicit_bzero(sink, sizeof sink);
  return r == IO_OK ? send_frame(srv, wrong_length, sizeof wrong_length) : r;
}

static enum io_result
handle_apdu(struct server *srv, const uint8_t *cmd, size_t len)
{
  uint8_t resp[VCARD_MAX_APDU + 2];
  size_t resplen = 0;
  gpg_error_t err;
  enum io_result r;

  err = vcard_apdu(srv->card, cmd, len, resp, sizeof resp, &resplen);
  if (err)
    log_error("card failed: %s", gpg_strerror(err));
  r = simulate_latency(srv);
  if (r == IO_OK)
    r = send_frame(srv, resp, resplen);
  explicit_bzero(resp, sizeof resp);
  return r;
}

/* One message from vpcd, answered. */
static enum io_result
serve_one(struct server *srv)
{
  uint8_t hdr[2], cmd[VCARD_MAX_APDU];
  size_t len;
  enum io_result r;

  r = recv_all(srv, hdr, sizeof hdr);
  if (r != IO_OK)
    return r;
  len = (size_t)hdr[0] << 8 | hdr[1];
  if (len == 0)
    {
      log_error("empty frame from vpcd ignored");
      return IO_OK;
    }
  if (len > sizeof cmd)
    return reject_oversized(srv, len);
  r = recv_all(srv, cmd, len);
  if (r == IO_OK)
    r = len == 1 ? handle_control(srv, cmd[0]) : handle_apdu(srv, cmd, len);
  explicit_bzero(cmd, len);
  return r;
}

static void
serve(struct server *srv)
{
  while (!srv->stop && connect_vpcd(srv) == IO_OK)
    {
      while (serve_one(srv) == IO_OK)
        ;
      close(srv->sock);
      srv->sock = -1;
      /* The reader lost its card: the next connection is a fresh power-up. */
      vcard_reset(srv->card);
    }
}

static void
print_atr(const struct vcard *card)
{
  uint8_t atr[33];
  size_t i, len = vcard_atr(card, atr, sizeof atr);

  for (i = 0; i < len; i++)
    printf("%02X", atr[i]);
  printf("\n");
}

static gpg_error_t
open_card(struct server *srv)
{
  struct vcard_options opt = { 0 };
  gpg_error_t err;

  opt.version = srv->cfg.version;
  opt.state_path = srv->cfg.state_path;
  opt.no_private_dos = srv->cfg.no_private_dos;
  err = vcard_new(&opt, &srv->card);
  if (err)
    {
      log_error("card state '%s': %s", srv->cfg.state_path, gpg_strerror(err));
      return err;
    }
  if (srv->cfg.log_path)
    {
      srv->log = fopen(srv->cfg.log_path, "ae");
      if (!srv->log)
        {
          err = gpg_error_from_syserror();
          log_error("APDU log '%s': %s", srv->cfg.log_path, gpg_strerror(err));
          return err;
        }
      vcard_set_log(srv->card, srv->log);
    }
  return 0;
}

int
main(int argc, char **argv)
{
  static const struct rlimit no_core = { 0, 0 };
  struct server srv = { .sigfd = -1, .sock = -1 };
  int status = 1;

  /* The process holds private keys and PINs: never dump them to disk. */
  if (setrlimit(RLIMIT_CORE, &no_core))
    log_error("disabling core dumps: %s", strerror(errno));
  parse_args(argc, argv, &srv.cfg);
  srv.sigfd = open_signalfd();
  if (srv.sigfd < 0)
    log_error("signalfd: %s", strerror(errno));
  else if (!open_card(&srv))
    {
      if (srv.cfg.print_atr)
        print_atr(srv.card);
      else
        serve(&srv);
      status = 0;
    }
  if (srv.sock >= 0)
    close(srv.sock);
  vcard_free(srv.card);
  if (srv.log)
    fclose(srv.log);
  if (srv.sigfd >= 0)
    close(srv.sigfd);
  free(srv.cfg.host);
  free(srv.cfg.port);
  return status;
}
