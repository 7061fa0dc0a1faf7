/* emu-control.c - the control socket's commands: card events, faults, statistics */

#include "emu.h"

#include <stdlib.h>
#include <string.h>

/* Parsed words of one command line. */
struct line
{
  char **argv;
  int argc;
  struct emu_reader *r; /* from argv[1] where the command takes a reader */
};

static int
parse_uint(const char *s, unsigned int max, unsigned int *v)
{
  char *end;
  unsigned long n;

  if (!s || !*s)
    return -1;
  n = strtoul(s, &end, 10);
  if (*end || n > max)
    return -1;
  *v = (unsigned int)n;
  return 0;
}

static void
cmd_card(struct emu *emu, struct line *l, GString *reply, int present)
{
  unsigned int slot;

  if (l->argc != 3 || parse_uint(l->argv[2], l->r->nslots - 1, &slot))
    {
      g_string_assign(reply, "err usage: insert|remove R S");
      return;
    }
  (void)emu;
  emu_ccid_set_present(l->r, slot, present);
  emu_usb_kick(l->r);
  g_string_assign(reply, "ok");
}

static void
cmd_insert(struct emu *emu, struct line *l, GString *reply)
{
  cmd_card(emu, l, reply, 1);
}

static void
cmd_remove(struct emu *emu, struct line *l, GString *reply)
{
  cmd_card(emu, l, reply, 0);
}

static void
cmd_unplug(struct emu *emu, struct line *l, GString *reply)
{
  (void)emu;
  emu_usb_unplug(l->r);
  g_string_assign(reply, "ok");
}

static void
cmd_replug(struct emu *emu, struct line *l, GString *reply)
{
  (void)emu;
  if (emu_usb_replug(l->r))
    g_string_assign(reply, "err replug failed");
  else
    {
      emu_usb_kick(l->r);
      g_string_assign(reply, "ok");
    }
}

/* Fault kinds and the counter each arms. */
static const struct
{
  const char *name;
  size_t offset;
} fault_kinds[] = {
  { "stall", offsetof(struct emu_faults, stall) },
  { "timeout", offsetof(struct emu_faults, timeout) },
  { "corrupt-t1", offsetof(struct emu_faults, corrupt_t1) },
  { "wtx", offsetof(struct emu_faults, wtx) },
  { "disconnect", offsetof(struct emu_faults, disconnect) },
  { "busy", offsetof(struct emu_faults, busy) },
  { "lie-length", offsetof(struct emu_faults, lie_length) },
  { "bad-seq", offsetof(struct emu_faults, bad_seq) },
  { "oversize", offsetof(struct emu_faults, oversize) },
};

static unsigned int *
fault_at(struct emu_faults *f, size_t i)
{
  return (unsigned int *)(void *)((char *)f + fault_kinds[i].offset);
}

static unsigned int *
fault_counter(struct emu_faults *f, const char *kind)
{
  size_t i;

  for (i = 0; i < G_N_ELEMENTS(fault_kinds); i++)
    if (!strcmp(fault_kinds[i].name, kind))
      return fault_at(f, i);
  return NULL;
}

/* faults R: the armed faults not yet consumed ("ok" alone if none). */
static void
cmd_faults(struct emu *emu, struct line *l, GString *reply)
{
  size_t i;

  (void)emu;
  g_string_assign(reply, "ok");
  for (i = 0; i < G_N_ELEMENTS(fault_kinds); i++)
    if (*fault_at(&l->r->faults, i))
      g_string_append_printf(reply, " %s=%u", fault_kinds[i].name,
                             *fault_at(&l->r->faults, i));
}

static void
cmd_fault(struct emu *emu, struct line *l, GString *reply)
{
  unsigned int *counter = l->argc >= 3 ? fault_counter(&l->r->faults, l->argv[2]) : NULL;
  unsigned int n = 1;

  (void)emu;
  if (!counter || l->argc > 4 || (l->argc == 4 && parse_uint(l->argv[3], 1000, &n)))
    {
      g_string_assign(reply, "err usage: fault R KIND [N]");
      return;
    }
  *counter = n;
  g_string_assign(reply, "ok");
}

static void
cmd_stats(struct emu *emu, struct line *l, GString *reply)
{
  struct emu_stats *s = &l->r->stats;

  (void)emu;
  g_string_printf(reply,
                  "ok bulk_out=%lu bulk_in=%lu intr=%lu control=%lu claims=%lu "
                  "set_params=%s",
                  s->bulk_out, s->bulk_in, s->intr, s->control, s->claims,
                  s->set_params->len ? s->set_params->str : "-");
}

static void
cmd_stats_reset(struct emu *emu, struct line *l, GString *reply)
{
  struct emu_stats *s = &l->r->stats;

  (void)emu;
  s->bulk_out = s->bulk_in = s->intr = s->control = s->claims = 0;
  g_string_truncate(s->set_params, 0);
  g_string_assign(reply, "ok");
}

static void
cmd_holders(struct emu *emu, struct line *l, GString *reply)
{
  (void)emu;
  g_string_assign(reply, "ok ");
  emu_usb_holders(l->r, reply);
  if (reply->str[reply->len - 1] == ' ')
    g_string_truncate(reply, reply->len - 1);
}

/* atr R S: the ATR of the card in the slot, in hex, as a host would read
 * it after power-on. */
static void
cmd_atr(struct emu *emu, struct line *l, GString *reply)
{
  uint8_t atr[33];
  unsigned int slot;
  size_t i, n;

  (void)emu;
  if (l->argc != 3 || parse_uint(l->argv[2], l->r->nslots - 1, &slot))
    {
      g_string_assign(reply, "err usage: atr R S");
      return;
    }
  n = vcard_atr(l->r->slot[slot].card, atr, sizeof atr);
  g_string_assign(reply, "ok ");
  for (i = 0; i < n; i++)
    g_string_append_printf(reply, "%02X", atr[i]);
}

/* pinpad-pin DIGITS [NEW]: what the pinpad types; pinpad-cancel: the next
 * Secure fails as if the user pressed cancel.  For every reader. */
static void
cmd_pinpad_pin(struct emu *emu, struct line *l, GString *reply)
{
  int i;

  if (l->argc < 2 || l->argc > 3 || strlen(l->argv[1]) >= sizeof emu->reader[0].pin
      || (l->argc == 3 && strlen(l->argv[2]) >= sizeof emu->reader[0].new_pin)
      || strspn(l->argv[1], "0123456789") != strlen(l->argv[1]))
    {
      g_string_assign(reply, "err usage: pinpad-pin DIGITS [NEWDIGITS]");
      return;
    }
  for (i = 0; i < emu->opt.nreaders; i++)
    {
      g_strlcpy(emu->reader[i].pin, l->argv[1], sizeof emu->reader[i].pin);
      g_strlcpy(emu->reader[i].new_pin, l->argv[l->argc - 1],
                sizeof emu->reader[i].new_pin);
    }
  g_string_assign(reply, "ok");
}

static void
cmd_pinpad_cancel(struct emu *emu, struct line *l, GString *reply)
{
  int i;

  (void)l;
  for (i = 0; i < emu->opt.nreaders; i++)
    emu->reader[i].pin_cancel = 1;
  g_string_assign(reply, "ok");
}

struct control_cmd
{
  const char *name;
  int takes_reader;
  void (*fn)(struct emu *, struct line *, GString *);
  const char *help;
};

static const struct control_cmd control_table[] = {
  { "insert", 1, cmd_insert, "insert R S: a card into slot S of reader R" },
  { "remove", 1, cmd_remove, "remove R S: the card out of slot S" },
  { "unplug", 1, cmd_unplug, "unplug R: the reader leaves the bus" },
  { "replug", 1, cmd_replug, "replug R: it comes back" },
  { "fault", 1, cmd_fault, "fault R KIND [N]: arm a fault N times" },
  { "faults", 1, cmd_faults, "faults R: armed faults not yet consumed" },
  { "stats", 1, cmd_stats, "stats R: transfer counts since stats-reset" },
  { "stats-reset", 1, cmd_stats_reset, "stats-reset R" },
  { "atr", 1, cmd_atr, "atr R S: the card's ATR in hex" },
  { "holders", 1, cmd_holders, "holders R: pids with the interface claimed" },
  { "pinpad-pin", 0, cmd_pinpad_pin, "pinpad-pin DIGITS [NEW]" },
  { "pinpad-cancel", 0, cmd_pinpad_cancel, "pinpad-cancel: next Secure cancelled" },
};

void
emu_control_line(struct emu *emu, const char *text, GString *reply)
{
  struct line l = { 0 };
  const struct control_cmd *c = NULL;
  unsigned int ri;
  size_t i;

  l.argv = g_strsplit_set(text, " \t\r", -1);
  for (i = 0; l.argv[i]; i++)
    if (*l.argv[i])
      l.argv[l.argc++] = l.argv[i];
    else
      g_free(l.argv[i]);
  l.argv[l.argc] = NULL;
  for (i = 0; l.argc && i < G_N_ELEMENTS(control_table); i++)
    if (!strcmp(control_table[i].name, l.argv[0]))
      c = &control_table[i];
  if (!c)
    g_string_assign(reply, "err unknown command");
  else if (c->takes_reader
           && (l.argc < 2 || parse_uint(l.argv[1], (unsigned int)emu->opt.nreaders, &ri)
               || ri == 0))
    g_string_printf(reply, "err usage: %s", c->help);
  else
    {
      if (c->takes_reader)
        l.r = &emu->reader[ri - 1];
      g_rec_mutex_lock(&emu->lock);
      c->fn(emu, &l, reply);
      g_rec_mutex_unlock(&emu->lock);
    }
  g_strfreev(l.argv);
}
