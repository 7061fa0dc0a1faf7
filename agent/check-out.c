/* check-out.c - dualscd-check: the diagnosis as text or as one JSON object
 *
 * The JSON members are documented in doc/dualscd-check.1 and checked
 * against tests/check/diagnose-schema.json by the tests.
 */
#define _DEFAULT_SOURCE /* strnlen */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check-diag.h"
#include "hex.h"

/* Stable machine names of the holder kinds, for JSON. */
static const struct
{
  enum usb_owner_kind kind;
  const char *id;
} kind_ids[] = {
  { USB_OWNER_KERNEL, "kernel" },
  { USB_OWNER_PCSCD, "pcscd" },
  { USB_OWNER_SCDAEMON, "scdaemon" },
  { USB_OWNER_DUALSCD, "dualscd" },
  { USB_OWNER_PKCS11_SCD, "gnupg-pkcs11-scd" },
  { USB_OWNER_GPG_AGENT, "gpg-agent" },
  { USB_OWNER_PCSC_CLIENT, "pcsc-client" },
  { USB_OWNER_OTHER, "other" },
};

static const char *const severity_names[] = { "error", "warning" };

static const char *
kind_id(enum usb_owner_kind kind)
{
  size_t i;

  for (i = 0; i < sizeof kind_ids / sizeof kind_ids[0]; i++)
    if (kind_ids[i].kind == kind)
      return kind_ids[i].id;
  return "other";
}

void
diag_fmt(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  int len;

  if (!size)
    return;
  va_start(ap, fmt);
  len = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  if (len >= 0 && (size_t)len >= size && size > 4)
    memcpy(buf + size - 4, "...", 4);
}

void
diag_append(char *buf, size_t size, const char *fmt, ...)
{
  size_t len = strnlen(buf, size);
  va_list ap;
  int n;

  if (len + 1 >= size)
    return;
  va_start(ap, fmt);
  n = vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n >= size - len && size > 4)
    memcpy(buf + size - 4, "...", 4);
}

void
diag_shell_quote(char *buf, size_t size, const char *s)
{
  size_t pos = 0;

  if (size < 3)
    {
      if (size)
        buf[0] = 0;
      return;
    }
  buf[pos++] = '\'';
  for (; *s && pos + 6 < size; s++)
    if (*s == '\'')
      {
        memcpy(buf + pos, "'\\''", 4);
        pos += 4;
      }
    else
      buf[pos++] = *s;
  buf[pos++] = '\'';
  buf[pos] = 0;
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */

static void
text_reader(const struct diag_usb_reader *r, FILE *fp)
{
  size_t i;

  fprintf(fp, "  %s", r->label);
  if (*r->serial)
    fprintf(fp, ", serial %s", r->serial);
  fprintf(fp, ", bus %03u device %03u (%s), interface %d\n", r->bus, r->dev, r->sysname,
          r->interface);
  fprintf(fp, "    CCID: %s\n", r->ccid);
  fprintf(fp, "    holder: %s\n", r->holder_text);
  fprintf(fp, "    device node %s: %s\n", r->node,
          !r->node_exists ? "missing"
          : r->may_open   ? "this user may open it"
                          : "this user may NOT open it");
  for (i = 0; i < r->n_rules; i++)
    fprintf(fp, "    udev rule: %s\n", r->rules[i]);
  if (!r->n_rules)
    fprintf(fp, "    udev rule: none names %04x:%04x\n", r->vid, r->pid);
}

static void
text_pcsc(const struct diag *d, FILE *fp)
{
  const struct diag_pcsc *p = &d->pcsc;
  char hex[2 * 33 + 1];
  size_t i;

  fprintf(fp, "\nPC/SC\n");
  if (p->pid)
    fprintf(fp, "  pcscd: running, pid %ld, user %s%s\n", (long)p->pid, p->user,
            p->with_libccid ? ", libccid loaded" : "");
  else
    fprintf(fp, "  pcscd: not running\n");
  fprintf(fp, "  socket %s: %s%s%s\n", p->socket,
          p->reachable ? "reachable" : "not reachable", *p->error ? ": " : "", p->error);
  for (i = 0; i < p->n_readers; i++)
    {
      fprintf(fp, "  reader \"%s\": %s\n", p->readers[i].name,
              p->readers[i].card_present ? "card present" : "no card");
      if (p->readers[i].atr_len)
        fprintf(fp, "    ATR %s: %s\n",
                hex_encode(p->readers[i].atr, p->readers[i].atr_len, hex),
                p->readers[i].atr_text);
    }
  if (p->reachable && !p->n_readers)
    fprintf(fp, "  no readers\n");
}

static void
text_config(const struct diag *d, FILE *fp)
{
  const struct diag_config *c = &d->config;

  fprintf(fp, "\nConfiguration\n  home directory: %s\n", c->homedir);
  fprintf(fp, "  %s%s\n", c->scdaemon_conf, c->scdaemon_conf_exists ? "" : " (missing)");
  fprintf(fp,
          "    disable-ccid: %s, pcsc-shared: %s, reader-port: %s, card-timeout: %d\n",
          c->disable_ccid ? "yes" : "no", c->pcsc_shared ? "yes" : "no",
          *c->reader_port ? c->reader_port : "(first reader)", c->card_timeout);
  fprintf(fp, "  %s%s\n    scdaemon-program: %s\n", c->agent_conf,
          c->agent_conf_exists ? "" : " (missing)",
          *c->scdaemon_program ? c->scdaemon_program : "(GnuPG's scdaemon)");
}

void
diag_print_findings(const struct diag *d, FILE *fp)
{
  size_t i;

  fprintf(fp, "\nFindings\n");
  for (i = 0; i < d->n_findings; i++)
    fprintf(fp, "  [%s] %s: %s\n    fix%s: %s\n", severity_names[d->findings[i].severity],
            d->findings[i].id, d->findings[i].message,
            d->findings[i].fixable ? " (dualscd-check --fix applies it)" : "",
            d->findings[i].fix);
  if (!d->n_findings)
    fprintf(fp, "  none: no conflict found\n");
}

void
diag_print_text(const struct diag *d, FILE *fp)
{
  size_t i;

  fprintf(fp, "USB CCID readers\n");
  if (!d->usb_available)
    fprintf(fp, "  USB not available (%s)\n", d->usb_error);
  else if (!d->n_readers)
    fprintf(fp, "  none\n");
  for (i = 0; i < d->n_readers; i++)
    text_reader(&d->readers[i], fp);
  text_pcsc(d, fp);
  fprintf(fp, "\nCard daemons\n");
  for (i = 0; i < d->n_daemons; i++)
    fprintf(fp, "  %s pid %ld (user %s): %s\n", d->daemons[i].name,
            (long)d->daemons[i].pid, d->daemons[i].user, d->daemons[i].cmdline);
  if (!d->n_daemons)
    fprintf(fp, "  none\n");
  text_config(d, fp);
  diag_print_findings(d, fp);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                 */

#define JSON_MAX_DEPTH 6

struct json
{
  FILE *fp;
  int depth;
  int count[JSON_MAX_DEPTH];
};

static void
json_string(FILE *fp, const char *s)
{
  const unsigned char *p;

  fputc('"', fp);
  for (p = (const unsigned char *)s; *p; p++)
    if (*p == '"' || *p == '\\')
      fprintf(fp, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(fp, "\\u%04x", (unsigned int)*p);
    else
      fputc(*p, fp);
  fputc('"', fp);
}

/* Starts a member KEY (NULL inside an array). */
static void
json_key(struct json *j, const char *key)
{
  if (j->count[j->depth]++)
    fputc(',', j->fp);
  fprintf(j->fp, "\n%*s", 2 * (j->depth + 1), "");
  if (key)
    {
      json_string(j->fp, key);
      fputs(": ", j->fp);
    }
}

static void
json_open(struct json *j, const char *key, char bracket)
{
  json_key(j, key);
  fputc(bracket, j->fp);
  /* The document nests four deep at most. */
  j->count[++j->depth] = 0;
}

static void
json_close(struct json *j, char bracket)
{
  int had = j->count[j->depth];

  j->depth--;
  if (had)
    fprintf(j->fp, "\n%*s", 2 * (j->depth + 1), "");
  fputc(bracket, j->fp);
}

static void
json_str(struct json *j, const char *key, const char *value)
{
  json_key(j, key);
  if (value)
    json_string(j->fp, value);
  else
    fputs("null", j->fp);
}

static void
json_int(struct json *j, const char *key, long value)
{
  json_key(j, key);
  fprintf(j->fp, "%ld", value);
}

static void
json_bool(struct json *j, const char *key, int value)
{
  json_key(j, key);
  fputs(value ? "true" : "false", j->fp);
}

static void
json_hex16(struct json *j, const char *key, unsigned int value)
{
  char buf[8];

  snprintf(buf, sizeof buf, "%04x", value & 0xffffu);
  json_str(j, key, buf);
}

static void
json_readers(struct json *j, const struct diag *d)
{
  const struct diag_usb_reader *r;
  size_t i, k;

  json_open(j, "readers", '[');
  for (i = 0; i < d->n_readers; i++)
    {
      r = &d->readers[i];
      json_open(j, NULL, '{');
      json_hex16(j, "vid", r->vid);
      json_hex16(j, "pid", r->pid);
      json_str(j, "product", r->product);
      json_str(j, "serial", r->serial);
      json_int(j, "bus", r->bus);
      json_int(j, "device", r->dev);
      json_str(j, "sysname", r->sysname);
      json_int(j, "interface", r->interface);
      json_str(j, "ccid", r->ccid);
      json_str(j, "node", r->node);
      json_bool(j, "node_exists", r->node_exists);
      json_bool(j, "may_open", r->may_open);
      json_open(j, "udev_rules", '[');
      for (k = 0; k < r->n_rules; k++)
        json_str(j, NULL, r->rules[k]);
      json_close(j, ']');
      json_str(j, "holder", r->holder_text);
      json_int(j, "unreadable_processes", r->stats.denied);
      json_close(j, '}');
    }
  json_close(j, ']');
}

static void
json_process(struct json *j, const struct usb_owner *o)
{
  json_str(j, "kind", kind_id(o->kind));
  json_int(j, "pid", o->pid);
  json_str(j, "program", o->name);
  json_str(j, "cmdline", o->cmdline);
  json_str(j, "user", o->has_uid ? o->user : NULL);
  json_int(j, "uid", o->has_uid ? (long)o->uid : -1);
  json_bool(j, "with_libccid", o->with_libccid);
}

static void
json_holders(struct json *j, const struct diag *d)
{
  const struct usb_owner *o;
  size_t i, k;

  json_open(j, "holders", '[');
  for (i = 0; i < d->n_readers; i++)
    for (k = 0; k < d->readers[i].n_holders; k++)
      {
        o = &d->readers[i].holders[k];
        json_open(j, NULL, '{');
        json_int(j, "reader", (long)i);
        if (o->kind == USB_OWNER_KERNEL)
          {
            json_str(j, "kind", "kernel");
            json_str(j, "driver", o->name);
            json_str(j, "module", *o->module ? o->module : NULL);
          }
        else
          json_process(j, o);
        json_close(j, '}');
      }
  json_close(j, ']');
}

static void
json_pcsc(struct json *j, const struct diag *d)
{
  const struct diag_pcsc *p = &d->pcsc;
  char hex[2 * 33 + 1];
  size_t i;

  json_open(j, "pcsc", '{');
  json_bool(j, "running", p->pid != 0);
  if (p->pid)
    json_int(j, "pid", p->pid);
  else
    json_str(j, "pid", NULL);
  json_bool(j, "with_libccid", p->with_libccid);
  json_str(j, "socket", p->socket);
  json_bool(j, "reachable", p->reachable);
  json_str(j, "error", *p->error ? p->error : NULL);
  json_open(j, "readers", '[');
  for (i = 0; i < p->n_readers; i++)
    {
      json_open(j, NULL, '{');
      json_str(j, "name", p->readers[i].name);
      json_bool(j, "card_present", p->readers[i].card_present);
      json_str(j, "atr",
               p->readers[i].atr_len
                   ? hex_encode(p->readers[i].atr, p->readers[i].atr_len, hex)
                   : NULL);
      json_str(j, "atr_info", p->readers[i].atr_len ? p->readers[i].atr_text : NULL);
      json_close(j, '}');
    }
  json_close(j, ']');
  json_close(j, '}');
}

static void
json_config(struct json *j, const struct diag *d)
{
  const struct diag_config *c = &d->config;

  json_open(j, "config", '{');
  json_str(j, "homedir", c->homedir);
  json_str(j, "scdaemon_conf", c->scdaemon_conf);
  json_bool(j, "scdaemon_conf_exists", c->scdaemon_conf_exists);
  json_bool(j, "disable_ccid", c->disable_ccid);
  json_bool(j, "pcsc_shared", c->pcsc_shared);
  json_str(j, "reader_port", *c->reader_port ? c->reader_port : NULL);
  json_int(j, "card_timeout", c->card_timeout);
  json_int(j, "bad_lines", c->bad_lines);
  json_str(j, "gpg_agent_conf", c->agent_conf);
  json_str(j, "scdaemon_program", *c->scdaemon_program ? c->scdaemon_program : NULL);
  json_close(j, '}');
}

static void
json_findings(struct json *j, const struct diag *d)
{
  size_t i;

  json_open(j, "findings", '[');
  for (i = 0; i < d->n_findings; i++)
    {
      json_open(j, NULL, '{');
      json_str(j, "id", d->findings[i].id);
      json_str(j, "severity", severity_names[d->findings[i].severity]);
      json_str(j, "message", d->findings[i].message);
      json_str(j, "fix", d->findings[i].fix);
      json_bool(j, "fixable", d->findings[i].fixable);
      json_close(j, '}');
    }
  json_close(j, ']');
}

void
diag_print_json(const struct diag *d, FILE *fp)
{
  struct json j;
  size_t i;

  memset(&j, 0, sizeof j);
  j.fp = fp;
  fputc('{', fp);
  json_int(&j, "version", 1);
  json_open(&j, "usb", '{');
  json_bool(&j, "available", d->usb_available);
  json_str(&j, "error", *d->usb_error ? d->usb_error : NULL);
  json_close(&j, '}');
  json_readers(&j, d);
  json_holders(&j, d);
  json_pcsc(&j, d);
  json_open(&j, "daemons", '[');
  for (i = 0; i < d->n_daemons; i++)
    {
      json_open(&j, NULL, '{');
      json_process(&j, &d->daemons[i]);
      json_close(&j, '}');
    }
  json_close(&j, ']');
  json_config(&j, d);
  json_findings(&j, d);
  json_int(&j, "elapsed_ms", d->elapsed_ms);
  fputs("\n}\n", fp);
}
