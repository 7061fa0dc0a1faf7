/* command.c - the Assuan commands: one table of name, handler and help
 *
 * Formats follow GnuPG 2.2.40's scd/command.c and the 2.4 additions
 * (../shared/docs/scdaemon-protocol.md).  Each handler parses its line,
 * brackets its card work with rmgr_begin / rmgr_end, and reports failures
 * with GnuPG's error code and a description of what went wrong.
 */
#define _GNU_SOURCE

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#include "command.h"

#include "cmd-parse.h"

#include "app.h"
#include "config.h"
#include "log.h"
#include "reader-mgr.h"
#include "reader.h"
#include "server.h"

#define MAXLEN_SETDATA 4096
#define MAXLEN_KEYDATA 4096
#define MAXLEN_CERTDATA 16384
#define MAXLEN_PIN 100
#define APDU_RESP_MAX 65538

/* A status line held back: its keyword and its arguments. */
struct held_line
{
  char *keyword;
  char *args;
};

struct session
{
  struct rmgr_session *rs;
  uint8_t *setdata;
  size_t setdatalen;
  pid_t peer_pid;
  int stopme;
  /* While a command's first attempt runs, its status lines are held back
   * (see with_app) until it succeeds or talks to the client otherwise. */
  int holding;
  int spoke; /* the attempt sent something that cannot be taken back */
  struct held_line *held;
  size_t nheld;
};

typedef gpg_error_t (*cmd_handler)(assuan_context_t ctx, char *line);

static const struct options *options;

void
command_set_options(const struct options *opt)
{
  options = opt;
}

static struct session *
session_of(assuan_context_t ctx)
{
  return assuan_get_pointer(ctx);
}

/* An error with a description the client sees in the ERR line. */
static gpg_error_t
fail(assuan_context_t ctx, gpg_err_code_t code, const char *text)
{
  return assuan_set_error(ctx, gpg_error(code), text);
}

/* An error from cmd-parse.c, its description in the ERR line. */
static gpg_error_t
parse_fail(assuan_context_t ctx, gpg_error_t err, const char *desc)
{
  return desc ? assuan_set_error(ctx, err, desc) : err;
}

/* cmdp_check_options for a handler: the first argument of LINE in *R_REST. */
static gpg_error_t
check_options(assuan_context_t ctx, char *line, const char *allowed, char **r_rest)
{
  const char *desc = NULL;
  size_t off = 0;
  gpg_error_t err = cmdp_check_options(line, allowed, &off, &desc);

  *r_rest = line + off;
  return parse_fail(ctx, err, desc);
}

static gpg_error_t
check_keyid(assuan_context_t ctx, const char *id)
{
  const char *desc = NULL;
  gpg_error_t err = cmdp_check_keyid(id, &desc);

  return parse_fail(ctx, err, desc);
}

static int
has_option(const char *line, const char *name)
{
  return cmdp_has_option(line, name);
}

/* ---- the app's view of the client ---- */

/* Forgets the held status lines (the attempt is retried). */
static void
drop_held(struct session *sess)
{
  size_t i;

  for (i = 0; i < sess->nheld; i++)
    {
      free(sess->held[i].keyword);
      free(sess->held[i].args);
    }
  free(sess->held);
  sess->held = NULL;
  sess->nheld = 0;
}

/* Sends the held status lines and stops holding: from now on the attempt
 * has spoken and will not be retried. */
static gpg_error_t
release_held(assuan_context_t ctx)
{
  struct session *sess = session_of(ctx);
  gpg_error_t err = 0;
  size_t i;

  if (!sess)
    return 0;
  for (i = 0; !err && i < sess->nheld; i++)
    err = assuan_write_status(ctx, sess->held[i].keyword, sess->held[i].args);
  drop_held(sess);
  sess->holding = 0;
  sess->spoke = 1;
  return err;
}

/* A status line, held back during a first attempt. */
static gpg_error_t
emit_status(assuan_context_t ctx, const char *keyword, const char *args)
{
  struct session *sess = session_of(ctx);
  struct held_line *more, hl;

  if (!args)
    args = "";
  if (!sess || !sess->holding)
    return assuan_write_status(ctx, keyword, args);
  more = realloc(sess->held, (sess->nheld + 1) * sizeof *more);
  if (!more)
    return gpg_error_from_syserror();
  sess->held = more;
  hl.keyword = strdup(keyword);
  hl.args = strdup(args);
  if (!hl.keyword || !hl.args)
    {
      free(hl.keyword);
      free(hl.args);
      return gpg_error_from_syserror();
    }
  sess->held[sess->nheld++] = hl;
  return 0;
}

/* Data lines follow the status lines held before them. */
static gpg_error_t
emit_data(assuan_context_t ctx, const void *buf, size_t len)
{
  gpg_error_t err = release_held(ctx);

  return err ? err : assuan_send_data(ctx, buf, len);
}

static gpg_error_t
io_status(void *opaque, const char *keyword, const char *args)
{
  return emit_status(opaque, keyword, args);
}

/* NEEDPIN: gpg-agent answers with the PIN padded by NULs to 90 bytes. */
static gpg_error_t
io_getpin(void *opaque, const char *prompt, char *pin, size_t pinsize)
{
  gpg_error_t err;
  unsigned char *value = NULL;
  size_t len = 0, pinlen;
  char *cmd;

  if (pinsize)
    pin[0] = 0;
  if (asprintf(&cmd, "NEEDPIN %s", prompt) < 0)
    return gpg_error_from_syserror();
  release_held(opaque);              /* the prompt comes after what came before it */
  assuan_begin_confidential(opaque); /* keeps the PIN out of Assuan's logs */
  err = assuan_inquire(opaque, cmd, &value, &len, MAXLEN_PIN);
  assuan_end_confidential(opaque);
  free(cmd);
  if (err)
    goto leave;
  if (!len || value[len - 1])
    {
      err = gpg_error(GPG_ERR_INV_RESPONSE);
      log_msg(LOG_ERROR, 0, "NEEDPIN answer is not NUL-terminated");
      goto leave;
    }
  pinlen = strlen((char *)value);
  if (pinlen >= pinsize)
    err = gpg_error(GPG_ERR_TOO_LARGE);
  else
    memcpy(pin, value, pinlen + 1);
leave:
  if (value)
    {
      explicit_bzero(value, len);
      assuan_free(opaque, value);
    }
  return err;
}

/* The pinpad prompt: an inquiry, not a status line, so that the agent has
 * shown it before the reader waits for the PIN (as GnuPG does). */
static gpg_error_t
io_pinpad_prompt(void *opaque, const char *prompt)
{
  unsigned char *value = NULL;
  size_t len = 0;
  gpg_error_t err;
  char *cmd;

  if (!prompt)
    err = assuan_inquire(opaque, "DISMISSPINPADPROMPT", &value, &len, MAXLEN_PIN);
  else if (asprintf(&cmd, "POPUPPINPADPROMPT %s", prompt) < 0)
    return gpg_error_from_syserror();
  else
    {
      release_held(opaque);
      err = assuan_inquire(opaque, cmd, &value, &len, MAXLEN_PIN);
      free(cmd);
    }
  if (value)
    assuan_free(opaque, value);
  return err;
}

static void
make_io(assuan_context_t ctx, struct app_io *io)
{
  io->status = io_status;
  io->getpin = io_getpin;
  io->pinpad_prompt = io_pinpad_prompt;
  io->opaque = ctx;
}

/* Runs the card part of a command: app open, then FN. */
/* What a handler hands its card part (with_app may run it twice).  The
 * strings are copies: a PIN inquiry reuses the Assuan line buffer behind
 * the handler's LINE. */
struct cmd_arg
{
  char id[48];        /* key id, certificate id, CHV number */
  unsigned int flags; /* CMD_F_* or PASSWD's CMDP_PASSWD_* */
  int algo;           /* PKSIGN --hash */
  char filter;        /* KEYINFO --list: usage letter, 0 for all */
  const char *text;   /* APDU's hex string (in the handler's line) */
};

#define CMD_F_FORCE 1u
#define CMD_F_INFO 2u
#define CMD_F_INFO_ONLY 4u
#define CMD_F_KEYPAIRINFO 8u
#define CMD_F_ATR 16u
#define CMD_F_MORE 32u
#define CMD_F_DATA 64u
#define CMD_F_SSH 128u

/* Option name to CMD_F_* flag: one table for every command (each command
 * checks first which of them it allows). */
static const struct
{
  const char *name;
  unsigned int flag;
} flag_table[] = {
  { "--force", CMD_F_FORCE },
  { "--info", CMD_F_INFO },
  { "--info-only", CMD_F_INFO_ONLY },
  { "--keypairinfo", CMD_F_KEYPAIRINFO },
  { "--atr", CMD_F_ATR },
  { "--more", CMD_F_MORE },
  { "--data", CMD_F_DATA },
  { "--format=ssh", CMD_F_SSH },
};

static unsigned int
option_flags(const char *line)
{
  unsigned int flags = 0;
  size_t i;

  for (i = 0; i < sizeof flag_table / sizeof *flag_table; i++)
    if (has_option(line, flag_table[i].name))
      flags |= flag_table[i].flag;
  return flags;
}

/* The key id at REST (checked) into ARG. */
static gpg_error_t
take_keyid(assuan_context_t ctx, const char *rest, struct cmd_arg *arg)
{
  gpg_error_t err = check_keyid(ctx, rest);

  if (!err)
    snprintf(arg->id, sizeof arg->id, "%.*s", (int)cmdp_word_len(rest), rest);
  return err;
}

/* Whether some command of this daemon opened the card's application.  A
 * KEYINFO --list before that answers with no key, as GnuPG 2.4 does: its
 * KEYINFO looks only at the cards already opened, and gpg-agent 2.4 sends
 * SERIALNO --all next when it needs them. */
static atomic_int card_opened;

/* Errors that mean "no card there" rather than "the card failed". */
static int
card_gone(gpg_error_t err)
{
  static const gpg_err_code_t codes[]
      = { GPG_ERR_ENODEV, GPG_ERR_CARD_NOT_PRESENT, GPG_ERR_CARD_REMOVED };
  size_t i;

  for (i = 0; err && i < sizeof codes / sizeof *codes; i++)
    if (gpg_err_code(err) == codes[i])
      return 1;
  return 0;
}

/* rmgr_begin for a command.  When the reader is held by another program,
 * the client learns who holds it: a READER_BUSY status line (for clients
 * that show status lines) and the same sentence as the ERR description. */
static gpg_error_t
begin_card(assuan_context_t ctx, unsigned int flags, const char *demand,
           struct app **r_app)
{
  struct session *sess = session_of(ctx);
  char why[1024];
  gpg_error_t err = rmgr_begin(sess->rs, flags, demand, r_app);

  if (!err && (flags & RMGR_NEED_APP))
    atomic_store(&card_opened, 1);
  if (gpg_err_code(err) != GPG_ERR_EBUSY)
    return err;
  rmgr_conflict(why, sizeof why);
  if (!*why)
    return err;
  assuan_write_status(ctx, "READER_BUSY", why);
  return assuan_set_error(ctx, err, why);
}

typedef gpg_error_t (*app_fn)(assuan_context_t ctx, struct app *app, void *arg);

static gpg_error_t
with_app(assuan_context_t ctx, app_fn fn, void *arg)
{
  struct session *sess = session_of(ctx);
  struct app *app;
  gpg_error_t err, rerr;

  err = begin_card(ctx, RMGR_NEED_APP, NULL, &app);
  if (err)
    return err;
  sess->holding = 1;
  sess->spoke = 0;
  err = fn(ctx, app, arg);
  if (err && app_state_lost(app) && !sess->spoke)
    {
      /* Another PC/SC program used the card since our last transaction
       * (see reader-mgr.c): start again from a fresh SELECT, once.  Nothing
       * reached the client yet (no PIN was asked for, no data sent), so
       * the retry is invisible except for a PIN prompt it may need. */
      log_msg(LOG_INFO, 0, "card state changed behind our back (%s); retrying once",
              gpg_strerror(err));
      drop_held(sess);
      sess->holding = 0;
      app_invalidate(app);
      err = fn(ctx, app, arg);
    }
  else if (err && app_state_lost(app))
    app_invalidate(app); /* at least the next command starts afresh */
  /* Lines before an error go out too, as GnuPG sends them. */
  rerr = release_held(ctx);
  if (!err)
    err = rerr;
  sess->holding = 0;
  rmgr_end(sess->rs, err);
  return err;
}

static gpg_error_t
deny_admin(assuan_context_t ctx)
{
  if (options && options->deny_admin)
    return fail(ctx, GPG_ERR_EACCES, "admin commands are disabled (deny-admin)");
  return 0;
}

/* ---- SERIALNO, LEARN ---- */

static gpg_error_t
cmd_serialno(assuan_context_t ctx, char *line)
{
  struct session *sess = session_of(ctx);
  char demand[80];
  const char *dem = cmdp_option_value(line, "--demand", demand, sizeof demand);
  struct app *app;
  char *rest;
  gpg_error_t err;

  err = check_options(ctx, line, "--demand --all", &rest);
  if (err)
    return err;
  if (dem && !*dem)
    return fail(ctx, GPG_ERR_ASS_PARAMETER, "missing value for option --demand");
  if (*rest && strcasecmp(rest, "openpgp") && strcasecmp(rest, "undefined"))
    return fail(ctx, GPG_ERR_NOT_SUPPORTED, "only the openpgp application exists");
  err = begin_card(ctx, RMGR_NEED_APP | RMGR_RESELECT, dem, &app);
  if (err)
    return err;
  err = emit_status(ctx, "SERIALNO", app_serialno(app));
  rmgr_end(sess->rs, err);
  return err;
}

static gpg_error_t emit_keypairinfo(assuan_context_t ctx, struct app *app, int slot);

static gpg_error_t
do_learn(assuan_context_t ctx, struct app *app, void *opaque)
{
  const struct cmd_arg *arg = opaque;
  struct app_io io;
  gpg_error_t err = 0;
  int slot;

  if (!(arg->flags & CMD_F_KEYPAIRINFO))
    {
      make_io(ctx, &io);
      return app_learn(app, &io, arg->flags & CMD_F_FORCE);
    }
  for (slot = 1; slot <= 3 && !err; slot++)
    {
      err = emit_keypairinfo(ctx, app, slot);
      if (gpg_err_code(err) == GPG_ERR_NO_SECKEY)
        err = 0; /* an empty slot has no line */
    }
  return err;
}

/* Without --force GnuPG inquires KNOWNCARDP first; gpg-agent always sends
 * --force, and the cache makes a full LEARN cheap, so we never ask. */
static gpg_error_t
cmd_learn(assuan_context_t ctx, char *line)
{
  char *rest;
  gpg_error_t err;

  err = check_options(ctx, line, "--force --keypairinfo --multi --reread --sendinfo",
                      &rest);
  struct cmd_arg arg = { .flags = option_flags(line) };

  if (err)
    return err;
  return with_app(ctx, do_learn, &arg);
}

/* ---- READCERT, READKEY, KEYINFO ---- */

static gpg_error_t
do_readcert(assuan_context_t ctx, struct app *app, void *id)
{
  uint8_t *cert = NULL;
  size_t len = 0;
  gpg_error_t err;

  err = app_readcert(app, id, &cert, &len);
  if (!err)
    err = emit_data(ctx, cert, len);
  free(cert);
  return err;
}

static gpg_error_t
cmd_readcert(assuan_context_t ctx, char *line)
{
  char *rest;
  gpg_error_t err = check_options(ctx, line, "", &rest);

  if (!err && !*rest)
    err = fail(ctx, GPG_ERR_ASS_PARAMETER, "certificate id missing");
  if (!err)
    err = with_app(ctx, do_readcert, rest);
  return err;
}

/* The slot behind a key id (1..3), after check_keyid. */
static int
keyid_slot(struct app *app, const char *id)
{
  char grip[41];
  int i;

  if (cmdp_keyid_openpgp_slot(id))
    return cmdp_keyid_openpgp_slot(id);
  for (i = 1; i <= 3; i++)
    if (!app_keygrip(app, i, grip) && !strncasecmp(grip, id, 40))
      return i;
  return 0;
}

static const char *const slot_usage[] = { "-", "sc", "e", "sa" };

static gpg_error_t
emit_keypairinfo(assuan_context_t ctx, struct app *app, int slot)
{
  char buf[APP_KEYPAIRINFO_MAX];
  gpg_error_t err = app_keypairinfo(app, slot, buf, sizeof buf);

  return err ? err : emit_status(ctx, "KEYPAIRINFO", buf);
}

static gpg_error_t
do_readkey(assuan_context_t ctx, struct app *app, void *opaque)
{
  const struct cmd_arg *arg = opaque;
  uint8_t *pk = NULL;
  size_t len = 0;
  gpg_error_t err = 0;

  if (arg->flags & (CMD_F_INFO | CMD_F_INFO_ONLY))
    err = emit_keypairinfo(ctx, app, keyid_slot(app, arg->id));
  if (!err && !(arg->flags & CMD_F_INFO_ONLY))
    err = app_readkey(app, arg->id, &pk, &len);
  if (!err && pk && (arg->flags & CMD_F_SSH))
    {
      char *text = NULL;

      err = app_ssh_pubkey(pk, len, &text);
      if (!err)
        err = emit_data(ctx, text, strlen(text));
      free(text);
    }
  else if (!err && pk)
    err = emit_data(ctx, pk, len);
  free(pk);
  return err;
}

static gpg_error_t
cmd_readkey(assuan_context_t ctx, char *line)
{
  struct cmd_arg arg = { .flags = option_flags(line) };
  char *rest;
  gpg_error_t err;

  err = check_options(ctx, line, "--advanced --info --info-only --format", &rest);
  if (!err)
    err = take_keyid(ctx, rest, &arg);
  if (err)
    return err;
  return with_app(ctx, do_readkey, &arg);
}

/* KEYINFO --list=sign|encr|auth names one slot each, as in GnuPG 2.4
 * (app-openpgp.c do_with_keygrip), not every key whose usage allows it. */
static int
keyinfo_filter_slot(char filter)
{
  return filter == 's' ? 1 : filter == 'e' ? 2 : filter == 'a' ? 3 : 0;
}

static gpg_error_t
do_keyinfo(assuan_context_t ctx, struct app *app, void *opaque)
{
  const struct cmd_arg *arg = opaque;
  char grip[41], buf[200];
  const char *rest = arg->id;
  gpg_error_t err = 0;
  int slot, found = 0;

  for (slot = 1; slot <= 3 && !err; slot++)
    {
      if (app_keygrip(app, slot, grip))
        continue;
      if (*rest && strncasecmp(rest, grip, 40))
        continue;
      if (arg->filter && keyinfo_filter_slot(arg->filter) != slot)
        continue;
      snprintf(buf, sizeof buf, "%s T %s OPENPGP.%d %s%s", grip, app_serialno(app), slot,
               slot_usage[slot], arg->flags & CMD_F_DATA ? "\n" : "");
      /* --data: the same text as data lines, one key per line. */
      err = arg->flags & CMD_F_DATA ? emit_data(ctx, buf, strlen(buf))
                                    : emit_status(ctx, "KEYINFO", buf);
      found = 1;
    }
  if (!err && *rest && !found)
    err = gpg_error(GPG_ERR_NOT_FOUND);
  return err;
}

static gpg_error_t
cmd_keyinfo(assuan_context_t ctx, char *line)
{
  struct cmd_arg arg
      = { .filter = cmdp_keyinfo_filter(line), .flags = option_flags(line) };
  char *rest;
  gpg_error_t err;

  err = check_options(ctx, line, "--list --data", &rest);
  if (!err && *rest)
    err = take_keyid(ctx, rest, &arg);
  if (err)
    return err;
  if (!*rest && !atomic_load(&card_opened))
    return 0;
  err = with_app(ctx, do_keyinfo, &arg);
  /* No card is an empty list too (GnuPG forgets a removed card). */
  if (!*rest && card_gone(err))
    err = 0;
  return err;
}

/* ---- SETDATA, PKSIGN, PKAUTH, PKDECRYPT ---- */

static gpg_error_t
cmd_setdata(assuan_context_t ctx, char *line)
{
  struct session *sess = session_of(ctx);
  int append = has_option(line, "--append");
  uint8_t *buf, *all;
  size_t len, keep;
  char *rest;
  gpg_error_t err;

  err = check_options(ctx, line, "--append", &rest);
  if (!err)
    {
      const char *desc = NULL;
      err = parse_fail(ctx, cmdp_hex_decode(rest, &buf, &len, &desc), desc);
    }
  if (err)
    return err;
  keep = append ? sess->setdatalen : 0;
  if (len > MAXLEN_SETDATA || keep + len > MAXLEN_SETDATA)
    {
      free(buf);
      return fail(ctx, GPG_ERR_TOO_LARGE, "SETDATA: more than 4096 bytes in total");
    }
  all = realloc(append ? sess->setdata : NULL, keep + len + 1);
  if (!all)
    {
      free(buf);
      return gpg_error_from_syserror();
    }
  if (!append)
    free(sess->setdata);
  memcpy(all + keep, buf, len);
  free(buf);
  sess->setdata = all;
  sess->setdatalen = keep + len;
  return 0;
}

static gpg_error_t
send_sig(assuan_context_t ctx, gpg_error_t err, uint8_t *sig, size_t len)
{
  if (!err)
    err = emit_data(ctx, sig, len);
  free(sig);
  return err;
}

static gpg_error_t
do_pksign(assuan_context_t ctx, struct app *app, void *opaque)
{
  const struct cmd_arg *arg = opaque;
  struct session *sess = session_of(ctx);
  struct app_io io;
  uint8_t *sig = NULL;
  size_t len = 0;
  gpg_error_t err;

  make_io(ctx, &io);
  err = app_sign(app, &io, arg->id, arg->algo, sess->setdata, sess->setdatalen, &sig,
                 &len);
  return send_sig(ctx, err, sig, len);
}

static gpg_error_t
cmd_pksign(assuan_context_t ctx, char *line)
{
  struct session *sess = session_of(ctx);
  struct cmd_arg arg = { .algo = 0 };
  const char *desc = NULL;
  char *rest;
  gpg_error_t err;

  err = check_options(ctx, line, "--hash", &rest);
  if (!err)
    err = parse_fail(ctx, cmdp_parse_hash(line, &arg.algo, &desc), desc);
  if (!err)
    err = take_keyid(ctx, rest, &arg);
  if (!err && !sess->setdatalen)
    err = fail(ctx, GPG_ERR_ASS_PARAMETER, "no data to sign (SETDATA first)");
  if (err)
    return err;
  return with_app(ctx, do_pksign, &arg);
}

static gpg_error_t
do_pkauth(assuan_context_t ctx, struct app *app, void *id)
{
  struct session *sess = session_of(ctx);
  struct app_io io;
  uint8_t *sig = NULL;
  size_t len = 0;
  gpg_error_t err;

  make_io(ctx, &io);
  err = app_auth(app, &io, id, sess->setdata, sess->setdatalen, &sig, &len);
  return send_sig(ctx, err, sig, len);
}

static gpg_error_t
do_pkdecrypt(assuan_context_t ctx, struct app *app, void *id)
{
  struct session *sess = session_of(ctx);
  struct app_io io;
  uint8_t *out = NULL;
  size_t len = 0;
  int padding = -1;
  char pad[16];
  gpg_error_t err;

  make_io(ctx, &io);
  err = app_decipher(app, &io, id, sess->setdata, sess->setdatalen, &out, &len, &padding);
  if (!err && padding != -1)
    {
      snprintf(pad, sizeof pad, "%d", padding);
      err = emit_status(ctx, "PADDING", pad);
    }
  if (!err)
    err = emit_data(ctx, out, len);
  if (out)
    {
      explicit_bzero(out, len);
      gcry_free(out);
    }
  return err;
}

/* PKAUTH and PKDECRYPT: "[--] id" with SETDATA done before. */
static gpg_error_t
key_command(assuan_context_t ctx, char *line, app_fn fn)
{
  struct session *sess = session_of(ctx);
  struct cmd_arg arg = { .flags = 0 };
  char *rest;
  gpg_error_t err;

  err = check_options(ctx, line, "", &rest);
  if (!err)
    err = take_keyid(ctx, rest, &arg);
  if (!err && !sess->setdatalen)
    err = fail(ctx, GPG_ERR_ASS_PARAMETER, "no data (SETDATA first)");
  if (err)
    return err;
  return with_app(ctx, fn, arg.id);
}

static gpg_error_t
cmd_pkauth(assuan_context_t ctx, char *line)
{
  return key_command(ctx, line, do_pkauth);
}

static gpg_error_t
cmd_pkdecrypt(assuan_context_t ctx, char *line)
{
  return key_command(ctx, line, do_pkdecrypt);
}

/* ---- GETATTR, SETATTR ---- */

static gpg_error_t
do_getattr(assuan_context_t ctx, struct app *app, void *name)
{
  struct app_io io;

  make_io(ctx, &io);
  return app_getattr(app, &io, name);
}

static gpg_error_t
cmd_getattr(assuan_context_t ctx, char *line)
{
  char name[64], *rest;
  gpg_error_t err = check_options(ctx, line, "", &rest);

  /* A 2.4 keygrip after the name is ignored: there is one app. */
  if (!err && cmdp_first_word(rest, name, sizeof name, NULL))
    err = fail(ctx, GPG_ERR_ASS_PARAMETER, "attribute name missing or too long");
  if (err)
    return err;
  return with_app(ctx, do_getattr, name);
}

/* SETATTR's name and unescaped value (unescaped once: a retry must not
 * unescape again). */
struct setattr_arg
{
  const char *name;
  const uint8_t *value;
  size_t valuelen;
};

static gpg_error_t
do_setattr(assuan_context_t ctx, struct app *app, void *opaque)
{
  const struct setattr_arg *sa = opaque;
  struct app_io io;

  make_io(ctx, &io);
  return app_setattr(app, &io, sa->name, sa->value, sa->valuelen);
}

static gpg_error_t
cmd_setattr(assuan_context_t ctx, char *line)
{
  struct setattr_arg sa;
  const char *desc = NULL;
  char *copy = NULL;
  gpg_error_t err = deny_admin(ctx);

  if (!err)
    err = parse_fail(
        ctx, cmdp_parse_setattr(line, &copy, &sa.name, &sa.value, &sa.valuelen, &desc),
        desc);
  if (!err)
    err = with_app(ctx, do_setattr, &sa);
  free(copy);
  return err;
}

/* ---- WRITECERT, WRITEKEY, GENKEY ---- */

static gpg_error_t
inquire_and_write(assuan_context_t ctx, struct app *app, const struct cmd_arg *arg,
                  int is_key)
{
  struct app_io io;
  unsigned char *data = NULL;
  size_t len = 0;
  gpg_error_t err;

  make_io(ctx, &io);
  assuan_begin_confidential(ctx);
  release_held(ctx);
  err = assuan_inquire(ctx, is_key ? "KEYDATA" : "CERTDATA", &data, &len,
                       is_key ? MAXLEN_KEYDATA : MAXLEN_CERTDATA);
  assuan_end_confidential(ctx);
  if (!err && is_key)
    err = app_writekey(app, &io, arg->id, arg->flags & CMD_F_FORCE, data, len);
  else if (!err)
    err = app_writecert(app, &io, arg->id, data, len);
  if (data)
    {
      explicit_bzero(data, len);
      assuan_free(ctx, data);
    }
  return err;
}

static gpg_error_t
do_writecert(assuan_context_t ctx, struct app *app, void *arg)
{
  return inquire_and_write(ctx, app, arg, 0);
}

static gpg_error_t
do_writekey(assuan_context_t ctx, struct app *app, void *arg)
{
  return inquire_and_write(ctx, app, arg, 1);
}

static gpg_error_t
write_command(assuan_context_t ctx, char *line, app_fn fn, const char *allowed)
{
  struct cmd_arg arg = { .flags = option_flags(line) & CMD_F_FORCE };
  char *rest;
  gpg_error_t err = deny_admin(ctx);

  if (!err)
    err = check_options(ctx, line, allowed, &rest);
  if (!err && !*rest)
    err = fail(ctx, GPG_ERR_ASS_PARAMETER, "key or certificate id missing");
  if (!err && cmdp_first_word(rest, arg.id, sizeof arg.id, NULL))
    err = fail(ctx, GPG_ERR_INV_ID, "id too long");
  if (err)
    return err;
  return with_app(ctx, fn, &arg);
}

static gpg_error_t
cmd_writecert(assuan_context_t ctx, char *line)
{
  return write_command(ctx, line, do_writecert, "");
}

static gpg_error_t
cmd_writekey(assuan_context_t ctx, char *line)
{
  return write_command(ctx, line, do_writekey, "--force");
}

static gpg_error_t
do_genkey(assuan_context_t ctx, struct app *app, void *opaque)
{
  const struct cmdp_genkey *gk = opaque;
  struct app_io io;

  make_io(ctx, &io);
  return app_genkey(app, &io, gk->keyref, *gk->algo ? gk->algo : NULL,
                    gk->force ? APP_GENKEY_FORCE : 0, gk->created);
}

static gpg_error_t
cmd_genkey(assuan_context_t ctx, char *line)
{
  struct cmdp_genkey gk;
  const char *desc = NULL;
  gpg_error_t err = deny_admin(ctx);

  memset(&gk, 0, sizeof gk);
  if (!err)
    err = parse_fail(ctx, cmdp_parse_genkey(line, &gk, &desc), desc);
  if (err)
    return err;
  if (!gk.created)
    gk.created = time(NULL);
  return with_app(ctx, do_genkey, &gk);
}

/* ---- RANDOM, PASSWD, CHECKPIN ---- */

static gpg_error_t
do_random(assuan_context_t ctx, struct app *app, void *arg)
{
  size_t n = *(const size_t *)arg, resplen = 0;
  uint8_t apdu[5] = { 0x00, 0x84, 0x00, 0x00, (uint8_t)n };
  uint8_t *resp = malloc(APDU_RESP_MAX);
  gpg_error_t err;

  (void)app;
  if (!resp)
    return gpg_error_from_syserror();
  err = rmgr_transmit(apdu, sizeof apdu, resp, APDU_RESP_MAX, &resplen);
  if (!err && (resplen != n + 2 || resp[n] != 0x90 || resp[n + 1]))
    err = gpg_error(GPG_ERR_CARD);
  if (!err)
    err = emit_data(ctx, resp, n);
  free(resp);
  return err;
}

static gpg_error_t
cmd_random(assuan_context_t ctx, char *line)
{
  unsigned long n = 0;
  size_t count;

  if (cmdp_parse_uint(line, 1, 255, &n, NULL))
    return fail(ctx, GPG_ERR_ASS_PARAMETER, "RANDOM wants a count from 1 to 255");
  count = n;
  return with_app(ctx, do_random, &count);
}

/* cmd-parse.c's PASSWD flags are app.h's, spelled without app.h. */
static const struct
{
  unsigned int parsed, app;
} passwd_flag_table[] = {
  { CMDP_PASSWD_RESET, APP_PASSWD_RESET },
  { CMDP_PASSWD_CLEAR, APP_PASSWD_CLEAR },
};

static gpg_error_t
do_passwd(assuan_context_t ctx, struct app *app, void *opaque)
{
  const struct cmdp_passwd *pw = opaque;
  struct app_io io;
  unsigned int flags = 0;
  size_t i;

  for (i = 0; i < sizeof passwd_flag_table / sizeof *passwd_flag_table; i++)
    if (pw->flags & passwd_flag_table[i].parsed)
      flags |= passwd_flag_table[i].app;
  make_io(ctx, &io);
  return app_change_pin(app, &io, pw->chvno, flags);
}

static gpg_error_t
cmd_passwd(assuan_context_t ctx, char *line)
{
  struct cmdp_passwd pw;
  const char *desc = NULL;
  gpg_error_t err = cmdp_parse_passwd(line, &pw, &desc);

  if (err)
    return parse_fail(ctx, err, desc);
  return with_app(ctx, do_passwd, &pw);
}

static gpg_error_t
do_checkpin(assuan_context_t ctx, struct app *app, void *idstr)
{
  struct app_io io;

  make_io(ctx, &io);
  return app_check_pin(app, &io, idstr);
}

static gpg_error_t
cmd_checkpin(assuan_context_t ctx, char *line)
{
  char idstr[80];

  /* A copy: the PIN inquiry reuses the Assuan line buffer behind LINE. */
  if (cmdp_first_word(line, idstr, sizeof idstr, NULL))
    return fail(ctx, GPG_ERR_ASS_PARAMETER, "CHECKPIN wants the serial number");
  return with_app(ctx, do_checkpin, idstr);
}

/* ---- LOCK, UNLOCK, RESTART, DISCONNECT, KILLSCD ---- */

static gpg_error_t
cmd_lock(assuan_context_t ctx, char *line)
{
  char *rest;
  gpg_error_t err = check_options(ctx, line, "--wait", &rest);

  if (!err)
    err = rmgr_lock(session_of(ctx)->rs, has_option(line, "--wait"));
  if (gpg_err_code(err) == GPG_ERR_LOCKED)
    err = fail(ctx, GPG_ERR_LOCKED, "another session holds the card LOCK");
  return err;
}

static gpg_error_t
cmd_unlock(assuan_context_t ctx, char *line)
{
  gpg_error_t err;

  (void)line;
  err = rmgr_unlock(session_of(ctx)->rs);
  if (err)
    err = fail(ctx, GPG_ERR_NOT_LOCKED, "this session holds no LOCK");
  return err;
}

static gpg_error_t
cmd_restart(assuan_context_t ctx, char *line)
{
  struct session *sess = session_of(ctx);

  (void)line;
  rmgr_restart(sess->rs, 0);
  free(sess->setdata);
  sess->setdata = NULL;
  sess->setdatalen = 0;
  return 0;
}

static gpg_error_t
cmd_disconnect(assuan_context_t ctx, char *line)
{
  (void)line;
  rmgr_disconnect(session_of(ctx)->rs);
  return 0;
}

static gpg_error_t
cmd_killscd(assuan_context_t ctx, char *line)
{
  (void)line;
  session_of(ctx)->stopme = 1;
  assuan_set_flag(ctx, ASSUAN_FORCE_CLOSE, 1);
  return assuan_set_okay_line(ctx, "closing connection");
}

/* RESET is libassuan's own command; this is its notification hook. */
static gpg_error_t
reset_notify(assuan_context_t ctx, char *line)
{
  rmgr_restart(session_of(ctx)->rs, line && strstr(line, "--keep-lock") != NULL);
  return 0;
}

/* ---- APDU ---- */

static gpg_error_t
send_apdu(assuan_context_t ctx, const uint8_t *apdu, size_t len, int more)
{
  uint8_t *resp = malloc(APDU_RESP_MAX), *all = malloc(APDU_RESP_MAX);
  uint8_t getresp[5] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
  size_t resplen = 0, total = 0;
  gpg_error_t err = resp && all ? 0 : gpg_error_from_syserror();

  while (!err)
    {
      err = rmgr_transmit(apdu, len, resp, APDU_RESP_MAX, &resplen);
      if (!err && (resplen < 2 || total + resplen > APDU_RESP_MAX))
        err = gpg_error(GPG_ERR_CARD);
      if (err)
        break;
      memcpy(all + total, resp, resplen - 2);
      total += resplen - 2;
      if (!more || resp[resplen - 2] != 0x61)
        break;
      getresp[0] = apdu[0];
      getresp[4] = resp[resplen - 1];
      apdu = getresp;
      len = sizeof getresp;
    }
  if (!err)
    {
      memcpy(all + total, resp + resplen - 2, 2);
      err = emit_data(ctx, all, total + 2);
    }
  free(resp);
  free(all);
  return err;
}

static gpg_error_t
do_apdu(assuan_context_t ctx, struct app *app, const struct cmd_arg *arg)
{
  uint8_t atr[33], *apdu = NULL;
  char hex[2 * 33 + 1];
  size_t atrlen = 0, i, len = 0;
  const char *rest = arg->text, *desc = NULL;
  gpg_error_t err = 0;

  (void)app;
  if (arg->flags & CMD_F_ATR)
    {
      rmgr_atr(atr, sizeof atr, &atrlen);
      for (i = 0; i < atrlen; i++)
        snprintf(hex + 2 * i, 3, "%02X", atr[i]);
      hex[2 * atrlen] = 0;
      err = emit_status(ctx, "CARD-ATR", hex);
    }
  if (!err && *rest)
    err = parse_fail(ctx, cmdp_hex_decode(rest, &apdu, &len, &desc), desc);
  if (!err && *rest && len < 4)
    err = fail(ctx, GPG_ERR_INV_DATA, "an APDU has at least 4 bytes");
  if (!err && *rest)
    {
      err = send_apdu(ctx, apdu, len, (arg->flags & CMD_F_MORE) != 0);
      rmgr_invalidate_app(); /* the client may have changed anything */
    }
  free(apdu);
  return err;
}

static gpg_error_t
cmd_apdu(assuan_context_t ctx, char *line)
{
  struct session *sess = session_of(ctx);
  struct cmd_arg arg = { .flags = option_flags(line) };
  struct app *app;
  char *rest;
  gpg_error_t err = check_options(ctx, line, "--atr --more --exlen --dump-atr", &rest);

  if (err)
    return err;
  arg.text = rest; /* no inquiry: LINE stays valid */
  err = begin_card(ctx, 0, NULL, &app);
  if (!err)
    {
      err = do_apdu(ctx, app, &arg);
      rmgr_end(sess->rs, err);
    }
  return err;
}

/* ---- SWITCHCARD, SWITCHAPP, DEVINFO ---- */

static char kw_serialno[] = "SERIALNO";
static char kw_device[] = "DEVICE";
static char kw_serialno_apps[] = "SERIALNO+apps";

static gpg_error_t
do_serial_status(assuan_context_t ctx, struct app *app, void *kw)
{
  char buf[120];

  if (!strcmp(kw, "DEVICE"))
    snprintf(buf, sizeof buf, "openpgp %s openpgp", app_serialno(app));
  else if (kw == kw_serialno_apps)
    {
      /* GnuPG 2.4's "serial number and the card's applications" line
       * (SWITCHAPP, GETINFO active_apps); ours is always one. */
      snprintf(buf, sizeof buf, "%s openpgp", app_serialno(app));
      kw = kw_serialno;
    }
  else
    snprintf(buf, sizeof buf, "%s", app_serialno(app));
  return emit_status(ctx, kw, buf);
}

static gpg_error_t
cmd_switchcard(assuan_context_t ctx, char *line)
{
  (void)line; /* one card at a time: the current one */
  return with_app(ctx, do_serial_status, kw_serialno);
}

/* GnuPG 2.4's application names (scd/app.c app_priority_list).  Asked
 * for one the card lacks, GnuPG stays on the current application and says
 * so in the status line; a name it does not know is NOT_FOUND. */
static int
known_app_name(const char *name)
{
  static const char *const names[]
      = { "openpgp", "piv", "nks", "p15", "geldkarte", "dinsig", "sc-hsm", "undefined" };
  size_t i;

  for (i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcasecmp(name, names[i]))
      return 1;
  return 0;
}

static gpg_error_t
cmd_switchapp(assuan_context_t ctx, char *line)
{
  char *name, app[16];
  gpg_error_t err = check_options(ctx, line, "", &name);

  if (err)
    return err;
  snprintf(app, sizeof app, "%.*s", (int)cmdp_word_len(name), name);
  if (*app && !known_app_name(app))
    return fail(ctx, GPG_ERR_NOT_FOUND, "no such application (dualscd has openpgp only)");
  return with_app(ctx, do_serial_status, kw_serialno_apps);
}

static gpg_error_t
cmd_devinfo(assuan_context_t ctx, char *line)
{
  if (strstr(line, "--watch"))
    return fail(ctx, GPG_ERR_NOT_SUPPORTED, "DEVINFO --watch is not supported");
  return with_app(ctx, do_serial_status, kw_device);
}

/* ---- GETINFO ---- */

static gpg_error_t
send_string(assuan_context_t ctx, const char *s)
{
  return emit_data(ctx, s, strlen(s));
}

/* gpg and gpg-agent compare "GETINFO version" with their own version
 * (g10/call-agent.c warn_version_mismatch: "server 'scdaemon' is older
 * than us") because they take it for GnuPG's scdaemon.  So it answers the
 * GnuPG protocol level dualscd implements: the 2.4 series (2.2.40's
 * commands plus the 2.4 additions), spelled above every 2.2 and 2.4
 * release so that none of them warns.  dualscd's own version is in
 * --version, the startup log line and GETINFO dualscd_version. */
#define GNUPG_PROTOCOL_VERSION "2.4.99"

static gpg_error_t
info_version(assuan_context_t ctx, char *arg)
{
  (void)arg;
  return send_string(ctx, GNUPG_PROTOCOL_VERSION);
}

static gpg_error_t
info_dualscd_version(assuan_context_t ctx, char *arg)
{
  (void)arg;
  return send_string(ctx, PACKAGE_VERSION);
}

static gpg_error_t
info_pid(assuan_context_t ctx, char *arg)
{
  char buf[32];

  (void)arg;
  snprintf(buf, sizeof buf, "%lu", (unsigned long)getpid());
  return send_string(ctx, buf);
}

static gpg_error_t
info_socket_name(assuan_context_t ctx, char *arg)
{
  (void)arg;
  if (!*server_socket_name())
    return fail(ctx, GPG_ERR_NO_DATA, "no socket in --server mode");
  return send_string(ctx, server_socket_name());
}

static gpg_error_t
info_connections(assuan_context_t ctx, char *arg)
{
  char buf[32];

  (void)arg;
  snprintf(buf, sizeof buf, "%u", server_connection_count());
  return send_string(ctx, buf);
}

static gpg_error_t
info_status(assuan_context_t ctx, char *arg)
{
  char c[2] = { (char)rmgr_status_char(session_of(ctx)->rs), 0 };

  (void)arg;
  return send_string(ctx, c);
}

static gpg_error_t
info_reader_list(assuan_context_t ctx, char *arg)
{
  char *buf = malloc(READER_MAX * READER_NAME_MAX + 1);
  gpg_error_t err;

  (void)arg;
  if (!buf)
    return gpg_error_from_syserror();
  err = rmgr_reader_list(buf, READER_MAX * READER_NAME_MAX + 1);
  if (!err)
    err = send_string(ctx, buf);
  free(buf);
  return err;
}

static gpg_error_t
info_deny_admin(assuan_context_t ctx, char *arg)
{
  (void)ctx;
  (void)arg;
  return options && options->deny_admin ? 0 : gpg_error(GPG_ERR_GENERAL);
}

static gpg_error_t
info_app_list(assuan_context_t ctx, char *arg)
{
  (void)arg;
  return send_string(ctx, "openpgp:OpenPGP card\n");
}

static gpg_error_t
info_card_list(assuan_context_t ctx, char *arg)
{
  gpg_error_t err = with_app(ctx, do_serial_status, kw_serialno);

  (void)arg;
  /* No card is an empty list, not an error. */
  return gpg_err_code(err) == GPG_ERR_ENODEV ? 0 : err;
}

/* GnuPG 2.4: "S SERIALNO <sn> <app>..." for the card already opened
 * (active_apps: the session's, all_active_apps: every card); nothing
 * before a command opened one. */
static gpg_error_t
info_active_apps(assuan_context_t ctx, char *arg)
{
  gpg_error_t err;

  (void)arg;
  if (!atomic_load(&card_opened))
    return 0;
  err = with_app(ctx, do_serial_status, kw_serialno_apps);
  return card_gone(err) ? 0 : err;
}

static gpg_error_t info_cmd_has_option(assuan_context_t ctx, char *arg);

static const struct
{
  const char *name;
  cmd_handler fn;
} info_table[] = {
  { "version", info_version },
  { "dualscd_version", info_dualscd_version },
  { "pid", info_pid },
  { "socket_name", info_socket_name },
  { "connections", info_connections },
  { "status", info_status },
  { "reader_list", info_reader_list },
  { "deny_admin", info_deny_admin },
  { "app_list", info_app_list },
  { "card_list", info_card_list },
  { "active_apps", info_active_apps },
  { "all_active_apps", info_active_apps },
  { "cmd_has_option", info_cmd_has_option },
};

static gpg_error_t
cmd_getinfo(assuan_context_t ctx, char *line)
{
  const char *name, *arg;
  size_t i, n;

  cmdp_split_getinfo(line, &name, &n, &arg);
  for (i = 0; i < sizeof info_table / sizeof *info_table; i++)
    if (strlen(info_table[i].name) == n && !strncmp(name, info_table[i].name, n))
      return info_table[i].fn(ctx, line + (arg - line));
  return fail(ctx, GPG_ERR_ASS_PARAMETER, "unknown GETINFO subcommand");
}

/* ---- the table ---- */

static const struct
{
  const char *name;
  cmd_handler handler;
  const char *options; /* for GETINFO cmd_has_option */
  const char *help;
} cmd_table[] = {
  { "SERIALNO", cmd_serialno, "--demand --all",
    "SERIALNO [--demand=<serialno>] [--all] [<apptype>]\n\n"
    "Select the card (the one with SERIALNO when --demand is given) and\n"
    "return its serial number as a status line.  Also clears the\n"
    "card-removed state." },
  { "LEARN", cmd_learn, "--force --keypairinfo --multi --reread",
    "LEARN [--force] [--keypairinfo] [--multi] [--reread]\n\n"
    "Return the card's information as status lines (READER, SERIALNO,\n"
    "APPTYPE, ..., KEYPAIRINFO)." },
  { "READCERT", cmd_readcert, "", "READCERT <certid>\n\nReturn the certificate." },
  { "READKEY", cmd_readkey, "--advanced --info --info-only --format",
    "READKEY [--advanced] [--info[-only]] [--format=advanced|ssh] [--] <keyid>\n\n"
    "Return the public key as a canonical S-expression." },
  { "KEYINFO", cmd_keyinfo, "--list --data",
    "KEYINFO [--list[=sign|encr|auth]] [--data] [<keygrip>]\n\n"
    "Status lines KEYINFO <grip> T <serialno> <keyref> <usage>." },
  { "SETDATA", cmd_setdata, "--append",
    "SETDATA [--append] <hexstring>\n\n"
    "The data for PKSIGN, PKAUTH or PKDECRYPT (4096 bytes at most)." },
  { "PKSIGN", cmd_pksign, "--hash",
    "PKSIGN [--hash=sha1|sha224|sha256|sha384|sha512|rmd160|md5|none] <keyid>\n\n"
    "Sign the SETDATA data; the signature comes as a D line." },
  { "PKAUTH", cmd_pkauth, "",
    "PKAUTH <keyid>\n\nAuthenticate: sign SETDATA with key 3." },
  { "PKDECRYPT", cmd_pkdecrypt, "",
    "PKDECRYPT <keyid>\n\nDecrypt SETDATA; S PADDING, then the plaintext." },
  { "GETATTR", cmd_getattr, "", "GETATTR <name> [<keygrip>]\n\nRead an attribute." },
  { "SETATTR", cmd_setattr, "",
    "SETATTR <name> <value>\n\nWrite an attribute; VALUE is percent-plus escaped." },
  { "WRITECERT", cmd_writecert, "",
    "WRITECERT <certid>\n\nStore the certificate asked for by INQUIRE CERTDATA." },
  { "WRITEKEY", cmd_writekey, "--force",
    "WRITEKEY [--force] <keyid>\n\nStore the private key asked for by INQUIRE KEYDATA." },
  { "GENKEY", cmd_genkey, "--force --timestamp --algo",
    "GENKEY [--force] [--timestamp=<iso|epoch>] [--algo=<algo>] <keyno>\n\n"
    "Generate a key on the card." },
  { "RANDOM", cmd_random, "", "RANDOM <n>\n\nReturn N random bytes from the card." },
  { "PASSWD", cmd_passwd, "--reset --clear --nullpin",
    "PASSWD [--reset] [--clear] <chvno>\n\nChange or unblock a PIN." },
  { "CHECKPIN", cmd_checkpin, "", "CHECKPIN <idstr>\n\nVerify a PIN now." },
  { "LOCK", cmd_lock, "--wait",
    "LOCK [--wait]\n\nGive this session exclusive use of the card." },
  { "UNLOCK", cmd_unlock, "", "UNLOCK\n\nRelease the LOCK." },
  { "GETINFO", cmd_getinfo, "",
    "GETINFO <what>\n\nversion, dualscd_version, pid, socket_name, connections, status,\n"
    "reader_list, deny_admin, app_list, card_list, active_apps, all_active_apps,\n"
    "cmd_has_option <cmd> <opt>.\n\n"
    "Deliberately, \"version\" is the GnuPG protocol level implemented\n"
    "(" GNUPG_PROTOCOL_VERSION ", the 2.4 series), not dualscd's own version,\n"
    "so gpg does not warn that its scdaemon is older than itself;\n"
    "\"dualscd_version\" is dualscd's version (" PACKAGE_VERSION ")." },
  { "RESTART", cmd_restart, "",
    "RESTART\n\nEnd the virtual session: release the card and the LOCK." },
  { "DISCONNECT", cmd_disconnect, "", "DISCONNECT\n\nDisconnect from the card." },
  { "APDU", cmd_apdu, "--atr --more --exlen --dump-atr",
    "APDU [--atr] [--more] [--exlen[=N]] [<hexstring>]\n\n"
    "Send a raw APDU; the response data and status word come as a D line." },
  { "KILLSCD", cmd_killscd, "", "KILLSCD\n\nStop the daemon when this session ends." },
  { "SWITCHCARD", cmd_switchcard, "", "SWITCHCARD [<serialno>]\n\nSelect a card." },
  { "SWITCHAPP", cmd_switchapp, "", "SWITCHAPP [<appname>]\n\nSelect an application." },
  { "DEVINFO", cmd_devinfo, "--watch", "DEVINFO\n\nS DEVICE <type> <serialno> <app>." },
};

static gpg_error_t
info_cmd_has_option(assuan_context_t ctx, char *arg)
{
  char cmd[32], opt[66];
  const char *desc = NULL;
  size_t i;
  gpg_error_t err
      = cmdp_cmd_has_option_args(arg, cmd, sizeof cmd, opt, sizeof opt, &desc);

  if (err)
    return parse_fail(ctx, err, desc);
  for (i = 0; i < sizeof cmd_table / sizeof *cmd_table; i++)
    if (!strcasecmp(cmd, cmd_table[i].name))
      return cmdp_list_has(cmd_table[i].options, opt, strlen(opt))
                 ? 0
                 : gpg_error(GPG_ERR_FALSE);
  return gpg_error(GPG_ERR_FALSE);
}

/* OPTION event-signal=N: a card event sends signal N to the agent. */
static gpg_error_t
option_handler(assuan_context_t ctx, const char *key, const char *value)
{
  struct session *sess = session_of(ctx);
  unsigned long signo;

  if (strcmp(key, "event-signal"))
    return 0; /* GnuPG ignores the options it does not know */
  if (cmdp_parse_uint(value, 0, 64, &signo, NULL))
    return fail(ctx, GPG_ERR_ASS_PARAMETER, "event-signal wants a signal number");
  rmgr_set_event_signal(sess->rs, sess->peer_pid, (int)signo);
  return 0;
}

gpg_error_t
command_session_start(assuan_context_t ctx, pid_t peer_pid)
{
  struct session *sess;
  gpg_error_t err = 0;
  size_t i;

  for (i = 0; !err && i < sizeof cmd_table / sizeof *cmd_table; i++)
    err = assuan_register_command(ctx, cmd_table[i].name, cmd_table[i].handler,
                                  cmd_table[i].help);
  if (!err)
    err = assuan_register_option_handler(ctx, option_handler);
  if (!err)
    err = assuan_register_reset_notify(ctx, reset_notify);
  if (!err)
    assuan_set_hello_line(
        ctx, "GNU Privacy Guard's Smartcard server ready (dualscd " PACKAGE_VERSION ")");
  if (err)
    return err;
  sess = calloc(1, sizeof *sess);
  if (sess)
    sess->rs = rmgr_session_new();
  if (!sess || !sess->rs)
    {
      free(sess);
      return gpg_error(GPG_ERR_ENOMEM);
    }
  sess->peer_pid = peer_pid;
  assuan_set_pointer(ctx, sess);
  return 0;
}

int
command_session_end(assuan_context_t ctx)
{
  struct session *sess = session_of(ctx);
  int stopme;

  if (!sess)
    return 0;
  stopme = sess->stopme;
  drop_held(sess);
  rmgr_session_free(sess->rs);
  free(sess->setdata);
  free(sess);
  assuan_set_pointer(ctx, NULL);
  return stopme;
}
