/* fuzz-app.c - the OpenPGP application's handling of card answers
 *
 * Input: the card's answers, in order, each as a 2-byte big-endian length
 * and that many bytes (data and status word; a length running past the
 * end takes what is left).  Once the input runs out, every APDU gets 6F00.
 * The harness runs what a first `gpg --card-status` and the key commands
 * make the application do: app_open, app_learn, app_readkey of OPENPGP.1
 * to OPENPGP.3 and app_getattr KEY-ATTR, with an io that swallows status
 * lines and cancels PIN prompts.
 *
 * Invariants: nothing crashes, leaks or hangs (each call ends within a
 * bounded number of APDUs), a successful app_open yields a 32-digit serial
 * number, and a successful app_readkey yields a non-empty S-expression.
 */
#include <string.h>

#include <gcrypt.h>

#include "../../agent/app.h"
#include "fuzz.h"

#define MAX_APDUS 4096 /* far above what any path may send for one input */

struct feed
{
  const uint8_t *data;
  size_t left;
  unsigned int apdus;
};

static gpg_error_t
feed_transmit(void *opaque, const uint8_t *apdu, size_t apdulen, uint8_t *resp,
              size_t respsize, size_t *resplen)
{
  struct feed *f = opaque;
  size_t n;

  (void)apdu;
  FUZZ_ASSERT(apdulen >= 4 && respsize >= 65538);
  FUZZ_ASSERT(++f->apdus < MAX_APDUS);
  if (f->left < 2)
    {
      resp[0] = 0x6F;
      resp[1] = 0x00;
      *resplen = 2;
      return 0;
    }
  n = (size_t)f->data[0] << 8 | f->data[1];
  f->data += 2;
  f->left -= 2;
  if (n > f->left)
    n = f->left;
  memcpy(resp, f->data, n);
  f->data += n;
  f->left -= n;
  *resplen = n;
  return 0;
}

static gpg_error_t
no_status(void *opaque, const char *keyword, const char *args)
{
  (void)opaque;
  FUZZ_ASSERT(keyword && *keyword);
  (void)args;
  return 0;
}

static gpg_error_t
no_pin(void *opaque, const char *prompt, char *pin, size_t pinsize)
{
  (void)opaque;
  (void)prompt;
  if (pinsize)
    pin[0] = 0;
  return gpg_error(GPG_ERR_CANCELED);
}

static void
init_gcrypt(void)
{
  static int done;

  if (done)
    return;
  gcry_check_version(NULL);
  gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
  gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  done = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const keyids[] = { "OPENPGP.1", "OPENPGP.2", "OPENPGP.3" };
  struct feed f = { data, size, 0 };
  struct card_channel ch
      = { .transmit = feed_transmit, .opaque = &f, .reader_name = "fuzz" };
  struct app_io io = { .status = no_status, .getpin = no_pin };
  struct app *app = NULL;
  uint8_t *pk;
  size_t pklen, i;

  init_gcrypt();
  if (app_open(&ch, &app))
    return 0;
  FUZZ_ASSERT(strlen(app_serialno(app)) == 32);
  app_learn(app, &io, 0);
  for (i = 0; i < sizeof keyids / sizeof keyids[0]; i++)
    {
      pk = NULL;
      pklen = 0;
      if (!app_readkey(app, keyids[i], &pk, &pklen))
        FUZZ_ASSERT(pk && pklen > 0);
      free(pk);
    }
  app_getattr(app, &io, "KEY-ATTR");
  app_close(app);
  return 0;
}
