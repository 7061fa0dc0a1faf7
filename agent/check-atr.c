/* check-atr.c - "dualscd-check atr": explain an Answer To Reset
 *
 * The text output walks the ATR byte by byte, then lists the parameters it
 * sets, marking those left at their ISO 7816-3 default.  --json prints the
 * same as one JSON object.  A malformed ATR or bad hex is reported on stderr
 * only (stdout stays empty, with or without --json) and exits 1; a bad
 * command line exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "atr.h"
#include "hex.h"

#include "check.h"

#define CMD CHECK_PROGRAM " atr"

/* Input room: more than an ATR, so atr_parse can say what the excess is. */
#define MAX_INPUT (2 * ATR_MAX_LEN)

/* The nibbles of an interface byte: Y and T, or FI and DI. */
#define HI(v) ((unsigned int)(v) >> 4)
#define LO(v) ((unsigned int)(v)&0x0fu)

/* A line of byte explanation. */
#define LINE_SIZE 200

/* ------------------------------------------------------------------ */
/* A small JSON printer: objects one member a line, arrays inline.      */

/* The output nests two deep (the object, then an array or object). */
#define JSON_MAX_DEPTH 4

struct json
{
  FILE *fp;
  int depth;
  int count[JSON_MAX_DEPTH]; /* members printed at each depth */
  int inline_[JSON_MAX_DEPTH];
};

static void
json_string_body(FILE *fp, const char *s)
{
  static const char hexdigits[] = "0123456789abcdef";

  putc('"', fp);
  for (; *s; s++)
    {
      unsigned char c = (unsigned char)*s;

      if (c == '"' || c == '\\')
        fprintf(fp, "\\%c", c);
      else if (c == '\n')
        fputs("\\n", fp);
      else if (c == '\t')
        fputs("\\t", fp);
      else if (c < 0x20 || c == 0x7f)
        fprintf(fp, "\\u00%c%c", hexdigits[c >> 4], hexdigits[c & 15]);
      else
        putc(c, fp);
    }
  putc('"', fp);
}

/* Starts a member (KEY in an object, NULL in an array). */
static void
json_member(struct json *j, const char *key)
{
  int d = j->depth;

  if (j->count[d]++)
    putc(',', j->fp);
  if (j->inline_[d])
    {
      if (j->count[d] > 1)
        putc(' ', j->fp);
    }
  else
    fprintf(j->fp, "\n%*s", 2 * (d + 1), "");
  if (key)
    {
      json_string_body(j->fp, key);
      fputs(": ", j->fp);
    }
}

static void
json_open(struct json *j, const char *key, int is_array)
{
  if (j->depth >= 0)
    json_member(j, key);
  putc(is_array ? '[' : '{', j->fp);
  j->depth++;
  j->count[j->depth] = 0;
  j->inline_[j->depth] = is_array;
}

static void
json_close(struct json *j, int is_array)
{
  if (!is_array && j->count[j->depth])
    fprintf(j->fp, "\n%*s", 2 * j->depth, "");
  putc(is_array ? ']' : '}', j->fp);
  j->depth--;
}

static void
json_str(struct json *j, const char *key, const char *value)
{
  json_member(j, key);
  if (value)
    json_string_body(j->fp, value);
  else
    fputs("null", j->fp);
}

static void
json_uint(struct json *j, const char *key, unsigned int value)
{
  json_member(j, key);
  fprintf(j->fp, "%u", value);
}

/* A non-negative number, or null when VALID is 0. */
static void
json_uint_or_null(struct json *j, const char *key, int valid, unsigned int value)
{
  if (valid)
    json_uint(j, key, value);
  else
    json_str(j, key, NULL);
}

/* VALUE is 0 or 1; -1 prints null. */
static void
json_bool(struct json *j, const char *key, int value)
{
  json_member(j, key);
  fputs(value < 0 ? "null" : value ? "true" : "false", j->fp);
}

/* ------------------------------------------------------------------ */
/* Shared wording.                                                     */

static const char *const kind_names[] = { "TA", "TB", "TC", "TD" };

static const char *
ibyte_name(const struct atr_ibyte *b, char *buf, size_t size)
{
  snprintf(buf, size, "%s%u", kind_names[b->kind], b->index);
  return buf;
}

static const char *
dflt(const struct atr_info *info, unsigned int flag)
{
  return (info->set & flag) ? "" : " (default)";
}

/* "7.5" for 7500 kHz. */
static const char *
mhz(unsigned int khz, char *buf, size_t size)
{
  if (khz % 1000)
    snprintf(buf, size, "%u.%u", khz / 1000, khz % 1000 / 100);
  else
    snprintf(buf, size, "%u", khz / 1000);
  return buf;
}

/* "TA3, TB3, TD3" for the Y nibble Y announcing index I; "nothing". */
static void
list_announced(unsigned int y, unsigned int i, char *buf, size_t size)
{
  size_t used = 0;
  unsigned int k;

  snprintf(buf, size, "no further interface bytes");
  for (k = 0; k < 4; k++)
    if (y & (1u << k))
      {
        int n = snprintf(buf + used, size - used, "%s%s%u", used ? ", " : "",
                         kind_names[k], i);
        if (n < 0 || (size_t)n >= size - used)
          return;
        used += (size_t)n;
      }
}

/* " follows" or " follow" after the list for Y; "" when Y is 0. */
static const char *
follow_verb(unsigned int y)
{
  if (!y)
    return "";
  return (y & (y - 1)) ? " follow" : " follows";
}

static const char *
classes_phrase(unsigned int classes, char *buf, size_t size)
{
  static const char *const volts[3] = { "5 V", "3 V", "1.8 V" };
  const char *name = atr_classes_name(classes);
  const char *sep = "";
  size_t used;
  unsigned int k;

  if (!name)
    {
      snprintf(buf, size, "class indicator %02X (an RFU combination)", classes);
      return buf;
    }
  used = (size_t)snprintf(buf, size, "class%s %s (", classes & (classes - 1) ? "es" : "",
                          name);
  for (k = 0; k < 3 && used < size; k++)
    if (classes & (1u << k))
      {
        used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, volts[k]);
        sep = ", ";
      }
  if (used < size)
    snprintf(buf + used, size - used, ")");
  return buf;
}

/* ------------------------------------------------------------------ */
/* One explanation per interface byte meaning.                          */

typedef void (*describe_fn)(const struct atr_info *info, const struct atr_ibyte *b,
                            char *out, size_t size);

static void
describe_fi_di(const struct atr_info *info, const struct atr_ibyte *b, char *out,
               size_t size)
{
  char f[16];

  if (!info->fi && !info->di)
    snprintf(out, size, "Fi and f(max) RFU (%X), Di RFU (%X)", HI(b->value),
             LO(b->value));
  else if (!info->fi)
    snprintf(out, size, "Fi and f(max) RFU (%X), Di = %u", HI(b->value), info->di);
  else if (!info->di)
    snprintf(out, size, "Fi = %u, Di RFU (%X), f(max) = %s MHz", info->fi, LO(b->value),
             mhz(info->fmax_khz, f, sizeof f));
  else
    snprintf(out, size, "Fi = %u, Di = %u, f(max) = %s MHz (%.4g clock cycles per etu)",
             info->fi, info->di, mhz(info->fmax_khz, f, sizeof f),
             (double)info->fi / (double)info->di);
}

static void
describe_vpp(const struct atr_info *info, const struct atr_ibyte *b, char *out,
             size_t size)
{
  (void)info;
  snprintf(out, size,
           "programming voltage %s (deprecated since ISO 7816-3:2006; "
           "readers ignore it)",
           b->value ? "coded" : "not connected");
}

static void
describe_guard_time(const struct atr_info *info, const struct atr_ibyte *b, char *out,
                    size_t size)
{
  (void)info;
  if (b->value == 255)
    snprintf(out, size, "N = 255: minimum guard time (12 etu for T=0, 11 etu for T=1)");
  else if (!b->value)
    snprintf(out, size, "N = 0: no extra guard time");
  else
    snprintf(out, size, "N = %u: extra guard time of %u etu", b->value, b->value);
}

static void
describe_mode(const struct atr_info *info, const struct atr_ibyte *b, char *out,
              size_t size)
{
  snprintf(out, size, "specific mode, T=%u; the card %s change to negotiable mode; %s%s",
           info->specific_t, info->mode_fixed ? "cannot" : "can",
           info->implicit_params ? "implicit Fi and Di (not those of TA1)"
                                 : "Fi and Di from TA1",
           (b->value & 0x60) ? "; bits 7-6 RFU set" : "");
}

static void
describe_wi(const struct atr_info *info, const struct atr_ibyte *b, char *out,
            size_t size)
{
  (void)info;
  snprintf(out, size, "T=0: WI = %u%s", b->value,
           b->value ? " (work waiting time 960 x WI x Fi/f)" : " (RFU)");
}

static void
describe_structure(const struct atr_info *info, const struct atr_ibyte *b, char *out,
                   size_t size)
{
  char list[40], what[40];
  unsigned int t = LO(b->value);

  (void)info;
  list_announced(HI(b->value), b->index + 1, list, sizeof list);
  if (t == 15)
    snprintf(what, sizeof what, "T=15: global interface bytes follow");
  else
    snprintf(what, sizeof what, "protocol T=%u offered", t);
  snprintf(out, size, "Y(%u) = %X: %s%s; %s", b->index + 1, HI(b->value), list,
           follow_verb(HI(b->value)), what);
}

static void
describe_ifsc(const struct atr_info *info, const struct atr_ibyte *b, char *out,
              size_t size)
{
  (void)info;
  snprintf(out, size, "T=1: IFSC = %u bytes", b->value);
}

static void
describe_bwi_cwi(const struct atr_info *info, const struct atr_ibyte *b, char *out,
                 size_t size)
{
  (void)info;
  snprintf(out, size, "T=1: BWI = %u%s, CWI = %u", HI(b->value),
           HI(b->value) > 9 ? " (RFU)" : "", LO(b->value));
}

static void
describe_edc(const struct atr_info *info, const struct atr_ibyte *b, char *out,
             size_t size)
{
  (void)info;
  snprintf(out, size, "T=1: error detection code %s%s", (b->value & 1) ? "CRC" : "LRC",
           (b->value & 0xfe) ? " (bits 8-2 RFU set)" : "");
}

static void
describe_clock_class(const struct atr_info *info, const struct atr_ibyte *b, char *out,
                     size_t size)
{
  char classes[64];

  (void)b;
  snprintf(out, size, "T=15: clock stop %s; %s",
           atr_clock_stop_name(info->t15.clock_stop),
           classes_phrase(info->t15.classes, classes, sizeof classes));
}

static void
describe_spu(const struct atr_info *info, const struct atr_ibyte *b, char *out,
             size_t size)
{
  (void)info;
  if (b->value)
    snprintf(out, size, "T=15: contact C6 (SPU) used, coded %02X", b->value);
  else
    snprintf(out, size, "T=15: contact C6 (SPU) not used");
}

static void
describe_other(const struct atr_info *info, const struct atr_ibyte *b, char *out,
               size_t size)
{
  (void)info;
  snprintf(out, size, "for T=%d: not interpreted", b->t);
}

static const describe_fn describers[] = {
  [ATR_M_FI_DI] = describe_fi_di,
  [ATR_M_VPP] = describe_vpp,
  [ATR_M_GUARD_TIME] = describe_guard_time,
  [ATR_M_MODE] = describe_mode,
  [ATR_M_WI] = describe_wi,
  [ATR_M_STRUCTURE] = describe_structure,
  [ATR_M_IFSC] = describe_ifsc,
  [ATR_M_BWI_CWI] = describe_bwi_cwi,
  [ATR_M_EDC] = describe_edc,
  [ATR_M_CLOCK_CLASS] = describe_clock_class,
  [ATR_M_SPU] = describe_spu,
  [ATR_M_OTHER] = describe_other,
};

/* ------------------------------------------------------------------ */
/* Text output.                                                        */

static void
print_spaced_hex(const uint8_t *data, size_t len)
{
  size_t k;

  for (k = 0; k < len; k++)
    printf("%s%02X", k ? " " : "", data[k]);
}

static void
print_head(const struct atr_info *info)
{
  char list[40];

  printf("ATR: ");
  print_spaced_hex(info->bytes, info->len);
  printf(" (%zu bytes)\n\n", info->len);
  printf("TS  = %02X  %s convention\n", info->bytes[0],
         info->convention == ATR_CONV_DIRECT ? "direct" : "inverse");
  list_announced(HI(info->bytes[1]), 1, list, sizeof list);
  printf("T0  = %02X  Y(1) = %X: %s%s; K = %zu historical byte%s\n", info->bytes[1],
         HI(info->bytes[1]), list, follow_verb(HI(info->bytes[1])), info->hist_len,
         info->hist_len == 1 ? "" : "s");
}

/* The historical bytes in hex, then as ASCII with dots for the rest. */
static void
print_historical(const struct atr_info *info)
{
  const uint8_t *h = info->bytes + info->hist_offset;
  size_t k;

  if (!info->hist_len)
    {
      printf("Historical bytes: none\n");
      return;
    }
  printf("Historical bytes (%zu): ", info->hist_len);
  print_spaced_hex(h, info->hist_len);
  printf("  \"");
  for (k = 0; k < info->hist_len; k++)
    putchar(h[k] >= 0x20 && h[k] < 0x7f ? h[k] : '.');
  printf("\"\n");
}

static void
print_bytes(const struct atr_info *info)
{
  char name[8], line[LINE_SIZE];
  size_t k;

  print_head(info);
  for (k = 0; k < info->n_ibytes; k++)
    {
      const struct atr_ibyte *b = &info->ibytes[k];

      describers[b->meaning](info, b, line, sizeof line);
      printf("%-4s= %02X  %s\n", ibyte_name(b, name, sizeof name), b->value, line);
    }
  print_historical(info);
  if (info->has_tck)
    printf("TCK = %02X  (correct)\n", info->bytes[info->len - 1]);
  else
    printf("No TCK (only T=0 offered)\n");
}

static void
print_protocols(const struct atr_info *info)
{
  size_t k;

  printf("Protocols offered: ");
  for (k = 0; k < info->n_protocols; k++)
    printf("%sT=%u", k ? ", " : "", info->protocols[k]);
  printf("%s\n", atr_find(info, ATR_TD, 1) ? "" : " (implied: no TD1)");
}

static void
print_rates(const struct atr_info *info)
{
  char f[16];

  if (info->fi)
    printf("Fi = %u%s, f(max) = %s MHz%s, ", info->fi, dflt(info, ATR_SET_FI),
           mhz(info->fmax_khz, f, sizeof f), dflt(info, ATR_SET_FI));
  else
    printf("Fi and f(max) RFU, ");
  if (info->di)
    printf("Di = %u%s\n", info->di, dflt(info, ATR_SET_DI));
  else
    printf("Di RFU\n");
  printf("Extra guard time: N = %u%s\n", info->guard_time_n,
         dflt(info, ATR_SET_GUARD_TIME));
}

static void
print_mode(const struct atr_info *info)
{
  if (info->specific_mode)
    printf("Mode: specific, T=%u, %s, %s\n", info->specific_t,
           info->mode_fixed ? "cannot change" : "can change to negotiable",
           info->implicit_params ? "implicit Fi/Di" : "Fi/Di from TA1");
  else
    printf("Mode: negotiable%s\n", dflt(info, ATR_SET_MODE));
}

static void
print_t15(const struct atr_info *info)
{
  char classes[64];

  if (info->set & ATR_SET_CLOCK_STOP)
    printf("T=15: clock stop %s, %s\n", atr_clock_stop_name(info->t15.clock_stop),
           classes_phrase(info->t15.classes, classes, sizeof classes));
  else
    printf("T=15: clock stop and classes not indicated\n");
}

static void
print_text(const struct atr_info *info)
{
  print_bytes(info);
  printf("\n");
  print_protocols(info);
  print_rates(info);
  print_mode(info);
  printf("T=0: WI = %u%s\n", info->t0.wi, dflt(info, ATR_SET_WI));
  printf("T=1: IFSC = %u%s, BWI = %u%s, CWI = %u%s, EDC = %s%s\n", info->t1.ifsc,
         dflt(info, ATR_SET_IFSC), info->t1.bwi, dflt(info, ATR_SET_BWI), info->t1.cwi,
         dflt(info, ATR_SET_CWI), info->t1.edc == ATR_EDC_CRC ? "CRC" : "LRC",
         dflt(info, ATR_SET_EDC));
  print_t15(info);
}

/* ------------------------------------------------------------------ */
/* JSON output.                                                        */

/* Keys whose value the ATR may leave at its default. */
static const struct
{
  const char *key;
  unsigned int flag;
} default_keys[] = {
  { "fi", ATR_SET_FI },
  { "fmax_mhz", ATR_SET_FI },
  { "di", ATR_SET_DI },
  { "guard_time_n", ATR_SET_GUARD_TIME },
  { "specific_mode", ATR_SET_MODE },
  { "wi", ATR_SET_WI },
  { "ifsc", ATR_SET_IFSC },
  { "bwi", ATR_SET_BWI },
  { "cwi", ATR_SET_CWI },
  { "edc", ATR_SET_EDC },
};

static void
json_hex(struct json *j, const char *key, const uint8_t *data, size_t len)
{
  char hex[2 * ATR_MAX_LEN + 1];

  json_str(j, key, hex_encode(data, len, hex));
}

static void
json_structure(struct json *j, const struct atr_info *info)
{
  char name[8];
  size_t k;

  json_hex(j, "atr", info->bytes, info->len);
  json_uint(j, "length", (unsigned int)info->len);
  json_str(j, "convention", info->convention == ATR_CONV_DIRECT ? "direct" : "inverse");
  json_open(j, "protocols", 1);
  for (k = 0; k < info->n_protocols; k++)
    json_uint(j, NULL, info->protocols[k]);
  json_close(j, 1);
  json_bool(j, "t15_present", info->has_t15);
  json_open(j, "interface_bytes", 0);
  for (k = 0; k < info->n_ibytes; k++)
    json_hex(j, ibyte_name(&info->ibytes[k], name, sizeof name), &info->ibytes[k].value,
             1);
  json_close(j, 0);
  json_hex(j, "historical_bytes", info->bytes + info->hist_offset, info->hist_len);
  if (info->has_tck)
    json_hex(j, "tck", info->bytes + info->len - 1, 1);
  else
    json_str(j, "tck", NULL);
  json_bool(j, "tck_ok", info->has_tck ? 1 : -1);
}

static void
json_rates(struct json *j, const struct atr_info *info)
{
  char f[16];

  json_uint_or_null(j, "fi", info->fi != 0, info->fi);
  json_uint_or_null(j, "di", info->di != 0, info->di);
  json_member(j, "fmax_mhz");
  fputs(info->fmax_khz ? mhz(info->fmax_khz, f, sizeof f) : "null", j->fp);
  json_uint(j, "guard_time_n", info->guard_time_n);
  json_bool(j, "specific_mode", info->specific_mode);
  json_uint_or_null(j, "specific_protocol", info->specific_mode, info->specific_t);
  json_bool(j, "implicit_parameters", info->specific_mode ? info->implicit_params : -1);
  json_bool(j, "mode_changeable", info->specific_mode ? !info->mode_fixed : -1);
  json_uint(j, "wi", info->t0.wi);
  json_uint(j, "ifsc", info->t1.ifsc);
  json_uint(j, "bwi", info->t1.bwi);
  json_uint(j, "cwi", info->t1.cwi);
  json_str(j, "edc", info->t1.edc == ATR_EDC_CRC ? "CRC" : "LRC");
}

/* The class indicator of the first TA for T=15, or nulls without one. */
static void
json_classes(struct json *j, const struct atr_info *info)
{
  static const char *const letters[3] = { "A", "B", "C" };
  uint8_t indicator = (uint8_t)info->t15.classes;
  unsigned int k;

  if (!(info->set & ATR_SET_CLASSES))
    {
      json_str(j, "classes", NULL);
      json_bool(j, "classes_rfu", -1);
      json_str(j, "class_indicator", NULL);
      return;
    }
  json_open(j, "classes", 1);
  for (k = 0; k < 3; k++)
    if (indicator & (1u << k))
      json_str(j, NULL, letters[k]);
  json_close(j, 1);
  json_bool(j, "classes_rfu", atr_classes_name(indicator) == NULL);
  json_hex(j, "class_indicator", &indicator, 1);
}

static void
json_t15(struct json *j, const struct atr_info *info)
{
  json_str(j, "clock_stop",
           (info->set & ATR_SET_CLOCK_STOP) ? atr_clock_stop_name(info->t15.clock_stop)
                                            : NULL);
  json_classes(j, info);
  if (info->set & ATR_SET_SPU)
    json_hex(j, "spu", &info->t15.spu, 1);
  else
    json_str(j, "spu", NULL);
}

static void
print_json(const struct atr_info *info)
{
  struct json j = { stdout, -1, { 0 }, { 0 } };
  size_t k;

  json_open(&j, NULL, 0);
  json_structure(&j, info);
  json_rates(&j, info);
  json_t15(&j, info);
  json_open(&j, "defaults", 1);
  for (k = 0; k < sizeof default_keys / sizeof default_keys[0]; k++)
    if (!(info->set & default_keys[k].flag))
      json_str(&j, NULL, default_keys[k].key);
  json_close(&j, 1);
  json_close(&j, 0);
  putchar('\n');
}

/* ------------------------------------------------------------------ */
/* Command line.                                                       */

static void
usage(FILE *fp)
{
  fprintf(fp,
          "Usage: %s [--json] HEX...\n"
          "Explain the Answer To Reset given as hex digits, with or without\n"
          "blanks or colons between bytes, possibly over several arguments.\n\n"
          "  --json       print one JSON object instead of text\n"
          "  -h, --help   print this help\n\n"
          "Exit status: 0 valid ATR, 1 malformed ATR or bad hex, 2 usage error.\n",
          CMD);
}

/* Decodes ARGV[FIRST..ARGC) into BUF; prints what is wrong on failure. */
static int
decode_args(int argc, char **argv, int first, uint8_t *buf, size_t *len)
{
  size_t got, pos;
  gpg_error_t err;
  int a;

  *len = 0;
  for (a = first; a < argc; a++)
    {
      err = hex_decode(argv[a], 1, buf + *len, MAX_INPUT - *len, &got, &pos);
      if (gpg_err_code(err) == GPG_ERR_BUFFER_TOO_SHORT)
        {
          fprintf(stderr, "%s: more than %d bytes of hex; an ATR has at most %d\n", CMD,
                  MAX_INPUT, ATR_MAX_LEN);
          return -1;
        }
      if (err)
        {
          unsigned int c = (unsigned char)argv[a][pos];

          fprintf(stderr, "%s: bad hex in argument %d \"%s\": ", CMD, a - first + 1,
                  argv[a]);
          if (!c)
            fprintf(stderr, "odd number of hex digits\n");
          else if (c < 0x20 || c >= 0x7f)
            fprintf(stderr, "character %zu (byte %02X) is not a hex digit\n", pos + 1, c);
          else
            fprintf(stderr, "character %zu ('%c') is not a hex digit\n", pos + 1,
                    (char)c);
          return -1;
        }
      *len += got;
    }
  return 0;
}

/* Parses the options; returns the index of the first HEX argument, or -1
 * after printing a usage error, or 0 when --help was served. */
static int
parse_options(int argc, char **argv, int *json)
{
  int a;

  *json = 0;
  for (a = 1; a < argc && argv[a][0] == '-' && argv[a][1]; a++)
    {
      if (!strcmp(argv[a], "--"))
        return a + 1;
      if (!strcmp(argv[a], "--json"))
        *json = 1;
      else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h"))
        {
          usage(stdout);
          return 0;
        }
      else
        {
          fprintf(stderr, "%s: unknown option \"%s\"\n", CMD, argv[a]);
          usage(stderr);
          return -1;
        }
    }
  return a;
}

int
check_atr_main(int argc, char **argv)
{
  uint8_t buf[MAX_INPUT];
  struct atr_info info;
  struct atr_error e;
  size_t len;
  int first, json;

  first = parse_options(argc, argv, &json);
  if (first <= 0)
    return first ? CHECK_EXIT_USAGE : CHECK_EXIT_OK;
  if (first >= argc)
    {
      fprintf(stderr, "%s: no ATR given\n", CMD);
      usage(stderr);
      return CHECK_EXIT_USAGE;
    }
  if (decode_args(argc, argv, first, buf, &len))
    return CHECK_EXIT_FAIL;
  if (atr_parse(buf, len, &info, &e))
    {
      fprintf(stderr, "%s: malformed ATR at offset %zu (TS is offset 0): %s\n", CMD,
              e.offset, e.reason);
      return CHECK_EXIT_FAIL;
    }
  if (json)
    print_json(&info);
  else
    print_text(&info);
  return fflush(stdout) ? CHECK_EXIT_FAIL : CHECK_EXIT_OK;
}
